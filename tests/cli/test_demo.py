"""`judgecal demo`: PARIKSHA when it is reachable, else the synthetic set with a notice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd


def run_demo(*args: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "JUDGECAL_PARIKSHA"}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "judgecal", "demo", *args], cwd=cwd, env=full_env,
        capture_output=True, text=True, timeout=600,
    )


def test_offline_without_data_falls_back_to_synthetic_with_notice(tmp_path):
    work = tmp_path / "work"  # no ../shared or ./data/pariksha beside it
    work.mkdir()
    cache = tmp_path / "empty-cache"
    cache.mkdir()
    proc = run_demo("--offline", "--out", "out", cwd=work, env={"JUDGECAL_CACHE": str(cache)})
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    out = proc.stdout
    assert "NOTICE: the PARIKSHA data set could not be reached" in out
    assert "--offline" in out and "SYNTHETIC" in out
    assert "synthetic" in out.split("NOTICE")[1]
    ratings = pd.read_parquet(work / "out" / "ratings.parquet")
    assert set(ratings["rater_kind"]) == {"human", "judge"}
    assert ratings["language"].nunique() >= 5
    assert list(cache.iterdir()) == []  # offline: nothing downloaded into the cache
    # the pairwise step falls back to synthetic battles too: a section of the report, and the leaderboards
    assert "== pairwise: synthetic battles" in out
    boards = pd.read_csv(work / "out" / "leaderboards.csv")
    assert set(boards["source"]) == {"human", "judge", "calibrated", "anchored"}
    assert (boards["ci_low"] <= boards["strength"]).all() and (boards["strength"] <= boards["ci_high"]).all()
    html = (work / "out" / "report.html").read_text(encoding="utf-8")
    section = html.split("<h2>Pairwise battles</h2>")[1].split("<h2>Timings</h2>")[0]
    assert section.count("<svg") == boards["language"].nunique()  # one leaderboard figure per language
    assert not (work / "out" / "battles.html").exists()  # no separate battles report any more


def test_demo_on_pariksha_finds_and_repairs_the_mix_up(pariksha_path, tmp_path):
    cache = tmp_path / "empty-cache"
    cache.mkdir()
    proc = run_demo("--data", str(pariksha_path), "--out", str(tmp_path / "out"), "--offline",
                    cwd=tmp_path, env={"JUDGECAL_CACHE": str(cache)})
    assert proc.returncode == 0, proc.stderr
    assert "NOTICE" not in proc.stdout
    assert "PARIKSHA" in proc.stdout and "LANGUAGE MIX-UP" in proc.stdout
    ratings = pd.read_parquet(tmp_path / "out" / "ratings.parquet")
    human = ratings[ratings["rater_kind"] == "human"].groupby("language").size()
    assert human["gu"] == 1311 and human["pa"] == 1797  # the repaired table is what gets written
    # hallucination (0/1) is judged by the Brier score, named in the selection and in its table rows
    assert "h: auto:" in proc.stdout and "held-out Brier score" in proc.stdout
    h_rows = [line.split() for line in proc.stdout.splitlines() if line.split()[2:4] == ["h", "isotonic"]
              or line.split()[2:4] == ["h", "ordinal"]]
    assert len(h_rows) == 10 and all(" ".join(r[7:9]) == "Brier score" for r in h_rows)
    # the pairwise step runs on PARIKSHA's pairwise release: all ten languages, self-preference for the GPT judge
    assert "== pairwise: PARIKSHA pairwise" in proc.stdout
    import json

    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))["pairwise"]
    summary = pd.DataFrame(report["tables"]["summary"])
    assert len(summary) == 10 and summary["self_preference"].notna().all()
    assert (summary["log_loss_cal"] < summary["log_loss_fixed"]).all()
    boards = pd.read_csv(tmp_path / "out" / "leaderboards.csv")
    assert boards["language"].nunique() == 10
    from judgecal.pairwise.calibration import PairwiseCalibrator

    assert PairwiseCalibrator.load(tmp_path / "out" / "battle_calibrator.json").n_pairs_ == 21690


def test_demo_found_through_environment(pariksha_path, tmp_path):
    cache = tmp_path / "empty-cache"
    cache.mkdir()
    proc = run_demo("--offline", "--out", "out", cwd=tmp_path,
                    env={"JUDGECAL_CACHE": str(cache), "JUDGECAL_PARIKSHA": str(pariksha_path)})
    assert proc.returncode == 0, proc.stderr
    assert "NOTICE" not in proc.stdout and "PARIKSHA" in proc.stdout


def test_demo_with_a_wrong_data_folder_is_a_clear_error(tmp_path):
    proc = run_demo("--data", str(tmp_path), "--offline", cwd=tmp_path, env={"JUDGECAL_CACHE": str(tmp_path)})
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "not a PARIKSHA release folder" in proc.stderr


def test_demo_out_naming_a_file_is_a_clear_error(tmp_path):
    # It was a FileExistsError traceback from mkdir.
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    proc = run_demo("--offline", "--out", "notes.txt", cwd=tmp_path, env={"JUDGECAL_CACHE": str(tmp_path)})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--out notes.txt: is a file" in proc.stderr
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"

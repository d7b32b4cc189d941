"""`judgecal validate` as a user runs it: a subprocess, its output and exit code."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from judgecal.cli import main

REPO = Path(__file__).resolve().parents[2]


def judgecal_command() -> list[str]:
    """The installed console script (as a user runs it), else ``python -m judgecal``."""
    script = Path(sys.executable).with_name("judgecal")
    return [str(script)] if script.exists() else [sys.executable, "-m", "judgecal"]


def run_cli(*args: str, cwd: Path = REPO, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [*judgecal_command(), *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
    )


GOOD = (
    "item_id,language,metric,rater,rater_kind,score,response\n"
    "a,hindi,la,w1,human,2,यह उत्तर पूरी तरह से सही है\n"
    "a,hindi,la,gpt,judge,2,यह उत्तर पूरी तरह से सही है\n"
    "b,pa,h,w1,human,True,ਇਹ ਜਵਾਬ ਪੂਰੀ ਤਰ੍ਹਾਂ ਸਹੀ ਹੈ\n"
)
BAD = (
    "item_id,language,metric,rater,rater_kind,score\n"
    "a,xx,la,w1,human,2\n"
    "b,hi,la,w1,robot,5\n"
    "c,hi,la,w1,human,1\n"
)


def test_validate_pariksha_prints_the_mix_up_and_exits_0(pariksha_path):
    rel = os.path.relpath(pariksha_path, REPO)
    assert rel == os.path.join("..", "shared", "data", "pariksha") or os.environ.get("JUDGECAL_PARIKSHA")
    proc = run_cli("validate", rel)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "27495 ratings rows" in out and "10 languages" in out
    assert "LANGUAGE MIX-UP: rows labelled gu (Gujarati) have texts in Gurmukhi, the script of pa, in 1797 of" in out
    assert "rows labelled pa have texts in Gujarati in 1311 of" in out
    assert "The labels gu and pa look swapped." in out
    # per-language rows: e.g. the hi line of the summary table
    hi_line = next(line for line in out.splitlines() if line.strip().startswith("hi ") and "Deva" in line)
    assert "4596" in hi_line and "3396" in hi_line and "1200" in hi_line
    assert "Traceback" not in proc.stderr


def test_validate_pariksha_repair_and_strict(pariksha_path, tmp_path):
    out_json = tmp_path / "report.json"
    proc = run_cli("validate", str(pariksha_path), "--repair", "--json", str(out_json))
    assert proc.returncode == 0, proc.stderr
    assert "MIX-UP" not in proc.stdout
    report = json.loads(out_json.read_text(encoding="utf-8"))
    summary = {row["language"]: row for row in report["summary"]}
    assert summary["gu"]["human_rows"] == 1311 and summary["pa"]["human_rows"] == 1797
    assert not any("MIX-UP" in f for f in report["findings"])
    # --strict: any script mismatch (PARIKSHA has English texts in places) exits 1
    strict = run_cli("validate", str(pariksha_path), "--strict")
    assert strict.returncode == 1 and "MIX-UP" in strict.stdout


def test_bad_file_exit_1_message_without_traceback(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    proc = run_cli("validate", str(path), cwd=tmp_path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    err = proc.stderr
    assert err.startswith("judgecal validate: error: 3 problem(s) in")
    assert f"{path}, row 2, column 'language': not a BCP-47 tag or a known language name (value: 'xx')" in err
    assert f"{path}, row 3, column 'rater_kind': must be 'human' or 'judge' (value: 'robot')" in err
    assert f"{path}, row 3, column 'score': not on the la scale ('0', '1', '2') (value: '5')" in err


def test_drop_bad_rows_reports_what_was_left_out(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    out_json = tmp_path / "r.json"
    proc = run_cli("validate", str(path), "--drop-bad-rows", "--json", str(out_json), cwd=tmp_path)
    assert proc.returncode == 1  # rows were dropped: not a clean file
    assert "1 ratings rows" in proc.stdout
    assert "2 row(s) could not be used and were left out:" in proc.stdout
    assert "row 3, column 'score'" in proc.stdout
    report = json.loads(out_json.read_text(encoding="utf-8"))
    assert sorted(d["row"] for d in report["dropped"]) == [2, 3]
    assert len(report["problems"]) == 3


def test_all_rows_dropped_says_why(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD.replace("c,hi,la,w1,human,1\n", ""), encoding="utf-8")
    proc = run_cli("validate", str(path), "--drop-bad-rows", cwd=tmp_path)
    assert proc.returncode == 1
    assert "no usable rows (2 read, all dropped)" in proc.stdout
    assert "must be 'human' or 'judge'" in proc.stdout


def test_good_file_in_process(tmp_path, capsys):
    path = tmp_path / "good.csv"
    path.write_text(GOOD, encoding="utf-8")
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "3 ratings rows, 2 items, 2 languages, metrics h, la" in out
    assert "Findings:\n  - none" in out


def test_json_report_into_a_folder_not_made_yet(tmp_path, capsys):
    # Like every other output option, --json makes its folder (it was a FileNotFoundError traceback).
    path = tmp_path / "good.csv"
    path.write_text(GOOD, encoding="utf-8")
    out = tmp_path / "reports" / "2024" / "validate.json"
    assert main(["validate", str(path), "--json", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["problems"] == []


@pytest.mark.parametrize("command", [["validate"], ["calibrate", "--out", "cal.json"], ["report", "--out", "r.html"]])
def test_repair_on_a_file_is_refused_not_ignored(tmp_path, capsys, command):
    # --repair only knows a release folder's layout; on a file it did nothing, silently.
    path = tmp_path / "good.csv"
    path.write_text(GOOD, encoding="utf-8")
    args = [command[0], str(path), *[str(tmp_path / a) if "." in a else a for a in command[1:]], "--repair"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--repair works on a PARIKSHA release folder" in err and "good.csv is a file" in err
    assert not any(p.suffix in (".json", ".html") for p in tmp_path.iterdir())


def test_mapping_flags_and_metric_file(tmp_path, capsys):
    path = tmp_path / "wide.tsv"
    path.write_text(
        "pid\tmodel\tworker\tlang\tling\tfluency\n"
        "p1\tm1\tw1\tta\t2\t5\n"
        "p1\tm2\tw1\tta\t1\t3\n",
        encoding="utf-8",
    )
    metrics = tmp_path / "metrics.toml"
    metrics.write_text('[[metrics]]\nid = "fluency"\nlevels = [1, 2, 3, 4, 5]\n', encoding="utf-8")
    args = ["validate", str(path), "--map", "item_id=pid+model", "--map", "rater=worker", "--map", "language=lang",
            "--set", "rater_kind=human", "--wide", "la=ling", "--wide", "fluency=fluency", "--metrics", str(metrics)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "4 ratings rows, 2 items, 1 languages, metrics fluency, la" in out
    # the same through a mapping file
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        '[columns]\nitem_id = ["pid", "model"]\nrater = "worker"\nlanguage = "lang"\n'
        '[constants]\nrater_kind = "human"\n[wide]\nla = "ling"\nfluency = "fluency"\n',
        encoding="utf-8",
    )
    assert main(["validate", str(path), "--mapping", str(mapping), "--metrics", str(metrics)]) == 0
    assert "4 ratings rows" in capsys.readouterr().out
    # without the metric declaration: exit 1, the problem says how to declare it
    assert main(["validate", str(path), "--mapping", str(mapping)]) == 1
    assert "declare others in a metrics file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["validate", "nope.csv"], 1, "file does not exist"),
        (["validate", "x.xlsx"], 2, "cannot tell the format"),
        (["validate", "good.csv", "--map", "x"], 2, "--map expects NAME=VALUE"),
        (["validate", "good.csv", "--mapping", "none.toml"], 2, "mapping file none.toml does not exist"),
        (["validate", "good.csv", "--encoding", "nope"], 2, "unknown text encoding"),
    ],
)
def test_user_errors_in_process(tmp_path, monkeypatch, capsys, args, code, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good.csv").write_text(GOOD, encoding="utf-8")
    (tmp_path / "x.xlsx").write_bytes(b"")
    assert main(args) == code
    err = capsys.readouterr().err
    assert err.startswith("judgecal validate: error:") and message in err


def test_folder_that_is_not_a_release(tmp_path):
    proc = run_cli("validate", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "folder" in proc.stderr


def test_console_script_is_installed():
    assert shutil.which("judgecal") or Path(sys.executable).with_name("judgecal").exists()


def test_drop_bad_rows_drops_ragged_lines_and_lists_them(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text(BAD.replace("b,hi,la,w1,robot,5\n", "b,hi,la,w1,human,1,extra\n"), encoding="utf-8")
    refused = run_cli("validate", str(path), cwd=tmp_path)
    assert refused.returncode == 1 and "row 3: has 7 fields, the header has 6" in refused.stderr
    out_json = tmp_path / "r.json"
    proc = run_cli("validate", str(path), "--drop-bad-rows", "--json", str(out_json), cwd=tmp_path)
    assert proc.returncode == 1
    assert "1 ratings rows" in proc.stdout
    assert "2 row(s) could not be used and were left out:" in proc.stdout
    assert "row 3: has 7 fields, the header has 6" in proc.stdout
    report = json.loads(out_json.read_text(encoding="utf-8"))
    assert sorted(d["row"] for d in report["dropped"]) == [2, 3]

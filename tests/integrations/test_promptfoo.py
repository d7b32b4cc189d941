"""judgecal's promptfoo assertion run by the real promptfoo CLI, offline.

promptfoo's ``echo`` provider plays the judge: the prompt is the judge's
answer ("... SCORE: n" with PARIKSHA's judge score), so the output promptfoo
grades is that answer. The assertion's calibrated scores must equal
``judgecal apply`` on the same rows. promptfoo runs inside a network namespace
of its own (``unshare --net``) where one is available, so nothing it does can
leave the machine.

promptfoo is installed once into .ci-cache/promptfoo (gitignored; .ci/run does
it in its own step) or taken from JUDGECAL_PROMPTFOO_DIR.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from judgecal.cli import main as judgecal_main
from judgecal.errors import ConfigError

from .conftest import JUDGE

REPO = Path(__file__).resolve().parents[2]
PROMPTFOO_VERSION = "0.120.8"  # the last promptfoo that runs on Node 20 (later ones need Node >= 22.22)
THRESHOLD = 1.5


def _promptfoo_bin() -> Path:
    """The promptfoo CLI, installed into the cache folder when missing."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node/npm are not installed: the promptfoo integration test needs Node >= 20")
    folder = Path(os.environ.get("JUDGECAL_PROMPTFOO_DIR", REPO / ".ci-cache" / "promptfoo"))
    binary = folder / "node_modules" / ".bin" / "promptfoo"
    manifest = folder / "node_modules" / "promptfoo" / "package.json"
    if not binary.exists() or json.loads(manifest.read_text())["version"] != PROMPTFOO_VERSION:
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "package.json").exists():
            (folder / "package.json").write_text('{"private": true}\n')
        # Without optional and peer dependencies (provider SDKs, databases): 323 MB instead of 1.3 GB.
        done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--omit=optional",
                               "--omit=peer", f"promptfoo@{PROMPTFOO_VERSION}"], cwd=folder, capture_output=True, text=True,
                              timeout=1500)
        assert done.returncode == 0, f"npm install promptfoo failed:\n{done.stderr[-3000:]}"
    return binary


def _run_promptfoo(binary: Path, config: dict, work: Path) -> dict:
    (work / "judgecal_assert.py").write_text("from judgecal.integrations.promptfoo import get_assert  # noqa: F401\n")
    # JSON is YAML: promptfoo reads this as its config file.
    (work / "promptfooconfig.yaml").write_text(json.dumps(config, ensure_ascii=False, indent=1))
    env = {**os.environ, "PROMPTFOO_DISABLE_TELEMETRY": "1", "PROMPTFOO_DISABLE_UPDATE": "1",
           "PROMPTFOO_DISABLE_SHARING": "1", "PROMPTFOO_CONFIG_DIR": str(work / ".promptfoo"),
           "PROMPTFOO_PYTHON": sys.executable, "PROMPTFOO_CACHE_ENABLED": "false", "NO_COLOR": "1"}
    cmd = [str(binary), "eval", "-c", "promptfooconfig.yaml", "-o", "results.json", "--no-cache", "--no-table",
           "--no-progress-bar", "-j", "2"]
    if _has_netns():
        cmd = ["unshare", "--net", *cmd]
    done = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert (work / "results.json").exists(), f"promptfoo wrote no results (exit {done.returncode}):\n" \
                                             f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return json.loads((work / "results.json").read_text())


def _has_netns() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "--net", "true"], capture_output=True).returncode == 0


def _assertion(calibrator, prompt_hash, **extra) -> dict:
    return {"type": "python", "value": "file://judgecal_assert.py",
            "config": {"calibrator": str(calibrator), "metric": "la", "threshold": THRESHOLD, "judge_model": JUDGE,
                       "prompt_hash": prompt_hash, "text_var": "question", **extra}}


def _test(row, calibrator, prompt_hash, *, answer=None, language=None, **extra) -> dict:
    return {"description": row.item_id,
            "vars": {"item_id": row.item_id, "language": language or row.language, "question": row.prompt,
                     "response": row.response,
                     "judge_answer": answer or f"The answer reads naturally.\nSCORE: {int(row.score)}"},
            "assert": [_assertion(calibrator, prompt_hash, **extra)]}


@pytest.fixture(scope="module")
def promptfoo_run(judged_items, calibrator_path, prompt_hash, tmp_path_factory):
    binary = _promptfoo_bin()
    work = tmp_path_factory.mktemp("promptfoo")
    good = judged_items.groupby("language").head(2)
    hindi, tamil = judged_items[judged_items["language"] == "hi"].iloc[0], judged_items[
        judged_items["language"] == "ta"].iloc[0]
    bad = [
        # A Hindi item labelled Tamil: the script check on its question refuses it.
        {**_test(hindi, calibrator_path, prompt_hash, language="ta"), "description": "bad:script"},
        # A judge answer without a score: no score is made up.
        {**_test(tamil, calibrator_path, prompt_hash, answer="I cannot rate this."), "description": "bad:noscore"},
        # Scores from another judge than the calibrator's.
        {**_test(tamil, calibrator_path, prompt_hash, judge_model="openai/gpt-4o"), "description": "bad:judge"},
        # Another judge prompt.
        {**_test(tamil, calibrator_path, "0123456789abcdef"), "description": "bad:prompt"},
    ]
    config = {"description": "judgecal calibrated judge", "prompts": ["{{judge_answer}}"], "providers": ["echo"],
              "tests": [_test(r, calibrator_path, prompt_hash) for r in good.itertuples()] + bad}
    results = _run_promptfoo(binary, config, work)
    by_test = {r["testCase"]["description"]: r for r in results["results"]["results"]}
    return good, by_test, work


def test_promptfoo_scores_equal_judgecal_apply(promptfoo_run, calibrator_path, prompt_hash):
    good, by_test, work = promptfoo_run
    judged = good.assign(metric="la", rater=JUDGE, rater_kind="judge", judge_prompt_hash=prompt_hash)[
        ["item_id", "language", "metric", "rater", "rater_kind", "score", "judge_prompt_hash"]]
    judged.to_csv(work / "judged.csv", index=False)
    assert judgecal_main(["apply", str(calibrator_path), str(work / "judged.csv"),
                          "--out", str(work / "calibrated.parquet")]) == 0
    applied = pd.read_parquet(work / "calibrated.parquet").set_index("item_id")
    assert len(applied) == 6
    for item_id, row in applied.iterrows():
        grading = by_test[item_id]["gradingResult"]
        [component] = grading["componentResults"]
        assert component["score"] == row["score_calibrated"]  # exactly judgecal apply's number
        assert component["namedScores"]["judge_raw"] == row["score"]
        assert component["pass"] is bool(row["score_calibrated"] >= THRESHOLD)
        assert by_test[item_id]["success"] is bool(row["score_calibrated"] >= THRESHOLD)
        assert f"calibrated {row['score_calibrated']:.4f}" in component["reason"]
        assert row["calibration_group"] in component["reason"]
    # Calibration changed the verdicts of some tests: the raw judge says 2 (pass) where the calibrated score fails.
    raw_pass = applied["score"] >= THRESHOLD
    cal_pass = applied["score_calibrated"] >= THRESHOLD
    assert (raw_pass != cal_pass).any()


@pytest.mark.parametrize("case, message", [
    ("bad:script", "the prompt is written in Devanagari"),
    ("bad:noscore", "holds 0 matches of the score pattern"),
    ("bad:judge", "the score comes from judge 'openai/gpt-4o' but the calibrator was fitted for judge "
                  "'pariksha-gpt-judge'"),
    ("bad:prompt", "judge prompt 0123456789abcdef"),
])
def test_promptfoo_bad_input_fails_the_test_with_the_reason(promptfoo_run, case, message):
    _, by_test, _ = promptfoo_run
    result = by_test[case]
    assert result["success"] is False
    assert message in result["gradingResult"]["reason"]


def test_promptfoo_version_is_read_from_the_running_wrapper_and_checked(tmp_path, monkeypatch):
    from judgecal.integrations import promptfoo

    real = REPO / ".ci-cache" / "promptfoo" / "node_modules" / "promptfoo" / "dist" / "src" / "python" / "wrapper.py"
    if real.exists():
        assert promptfoo.promptfoo_version(str(real)) == PROMPTFOO_VERSION
    old = tmp_path / "node_modules" / "promptfoo"
    (old / "dist" / "src" / "python").mkdir(parents=True)
    (old / "dist" / "src" / "python" / "wrapper.py").write_text("")
    (old / "package.json").write_text('{"name": "promptfoo", "version": "0.50.0"}')
    monkeypatch.setattr(sys, "argv", [str(old / "dist" / "src" / "python" / "wrapper.py")])
    assert promptfoo.promptfoo_version() == "0.50.0"
    with pytest.raises(ConfigError, match=r"promptfoo 0.50.0 is not supported .* npm install promptfoo@0.120.8"):
        promptfoo.get_assert("SCORE: 2", {"vars": {}, "config": {}})
    monkeypatch.setattr(sys, "argv", ["elsewhere.py"])
    with pytest.raises(ConfigError, match="without a context holding 'vars'"):
        promptfoo.get_assert("SCORE: 2", {"prompt": "x"})
    with pytest.raises(ConfigError, match="needs config.threshold"):
        promptfoo.get_assert("SCORE: 2", {"vars": {}, "config": {"calibrator": "c.json", "metric": "la"}})

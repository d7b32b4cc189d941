"""judgecal's inspect_ai scorer in a real offline inspect eval on PARIKSHA items.

The judge is inspect's own offline model (``mockllm/model``) answering the
grading prompt of ``model_graded_qa`` with the score PARIKSHA's GPT judge gave
the response in the prompt; the eval's "system" replays PARIKSHA's responses.
Calibrated numbers from (a) the scorer wrapping model_graded_qa in the eval,
(b) ``inspect score`` re-scoring the stored log through the entry point, and
(c) ``judgecal import-inspect`` + ``judgecal apply`` must be equal.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("inspect_ai", reason="inspect-ai is not installed: pip install 'judgecal[inspect]'")

from judgecal.cli import main as judgecal_main  # noqa: E402
from judgecal.errors import CalibratorMismatchError, ConfigError, InputError, MissingDependencyError  # noqa: E402

from .conftest import JUDGE  # noqa: E402


def _task(example, items, calibrator=None, **kwargs):
    return example.build_task(items, str(calibrator) if calibrator else None, **kwargs)


def _run(task, log_dir: Path):
    from inspect_ai import eval as inspect_eval

    [log] = inspect_eval(task, model="mockllm/model", log_dir=str(log_dir), display="none",
                         log_format="eval", max_tasks=1)
    return log


@pytest.fixture(scope="module")
def evaluated(example, judged_items, calibrator_path, prompt_hash, tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("inspect-logs")
    log = _run(_task(example, judged_items, calibrator_path, prompt_hash=prompt_hash), log_dir)
    assert log.status == "success", log.error
    return log


def _scores(log, name: str) -> pd.Series:
    return pd.Series({s.id: s.scores[name].value for s in log.samples})


@pytest.fixture(scope="module")
def applied(evaluated, calibrator_path, prompt_hash, tmp_path_factory):
    """judgecal import-inspect + judgecal apply on the eval's log."""
    out = tmp_path_factory.mktemp("applied")
    judged, calibrated = out / "judged.parquet", out / "calibrated.parquet"
    assert judgecal_main(["import-inspect", evaluated.location, "--metric", "la", "--score", "model_graded_qa",
                          "--judge", JUDGE, "--prompt-hash", prompt_hash, "--out", str(judged)]) == 0
    assert judgecal_main(["apply", str(calibrator_path), str(judged), "--out", str(calibrated)]) == 0
    return pd.read_parquet(calibrated).set_index("item_id")


def test_eval_scorer_equals_judgecal_apply(evaluated, applied, judged_items, calibrator_path):
    raw = _scores(evaluated, "model_graded_qa").astype(float)
    cal = _scores(evaluated, "calibrated")
    expected = judged_items.set_index("item_id")["score"]
    # The mock judge answered with PARIKSHA's scores, and the wrapper kept them as raw.
    assert (raw == expected.loc[raw.index]).all()
    meta = pd.Series({s.id: s.scores["calibrated"].metadata["raw_score"] for s in evaluated.samples})
    assert (meta == raw).all()
    assert (applied.loc[cal.index, "score"] == raw).all()
    # Calibrated values are exactly judgecal apply's, and calibration moved them.
    assert (cal == applied.loc[cal.index, "score_calibrated"]).all()
    assert (cal != raw).any()
    # The prediction set is the conservative one, judgecal apply --no-randomize's.
    sets = pd.Series({s.id: s.scores["calibrated"].metadata["score_set"] for s in evaluated.samples})
    from judgecal.calibration import load_calibrator

    plain = load_calibrator(calibrator_path).apply(applied.reset_index()[["item_id", "language", "script", "metric",
                                                                            "rater", "rater_kind", "score"]],
                                                   randomize=False).set_index("item_id")
    assert (sets == plain.loc[sets.index, "score_set"].astype(str)).all()
    groups = pd.Series({s.id: s.scores["calibrated"].metadata["group"] for s in evaluated.samples})
    assert (groups == applied.loc[cal.index, "calibration_group"].astype(str)).all()
    assert set(groups.str.split("|").str[1]) == {"hi", "ta", "bn"}


def test_metric_is_calibrated_mean_with_ppi_interval(evaluated, applied, judged_items):
    from judgecal.analysis.estimates import ppi_mean

    metrics = {m.name: m.value for s in evaluated.results.scores if s.name == "calibrated"
               for m in s.metrics.values()}
    items = judged_items.set_index("item_id")
    f = applied.loc[items.index, "score_calibrated"].to_numpy()
    lab = items["human_mean"].notna().to_numpy()
    assert metrics["calibrated_mean"] == pytest.approx(f.mean(), abs=1e-12)
    assert metrics["raw_mean"] == pytest.approx(items["score"].mean(), abs=1e-12)
    est = ppi_mean(items["human_mean"].to_numpy()[lab], f[lab], f[~lab], confidence=0.9)
    assert metrics["ppi_mean"] == pytest.approx(est["estimate"], abs=1e-12)
    assert metrics["ppi_low"] == pytest.approx(est["ci_low"], abs=1e-12)
    assert metrics["ppi_high"] == pytest.approx(est["ci_high"], abs=1e-12)
    assert metrics["ppi_low"] < metrics["ppi_mean"] < metrics["ppi_high"]
    assert metrics["n_labelled"] == lab.sum()


def test_inspect_score_cli_rescores_stored_log_through_entry_point(evaluated, applied, calibrator_path,
                                                                   prompt_hash, tmp_path):
    out = tmp_path / "rescored.eval"
    inspect_cli = Path(sys.executable).with_name("inspect")
    cmd = [str(inspect_cli), "score", evaluated.location, "--scorer", "judgecal/calibrated",
           "-S", f"calibrator={calibrator_path}", "-S", "metric=la", "-S", "score_name=model_graded_qa",
           "-S", f"judge_model={JUDGE}", "-S", f"prompt_hash={prompt_hash}",
           "--action", "append", "--output-file", str(out), "--display", "none"]
    # Run from another folder: the checkout's own judgecal.egg-info must not matter.
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "INSPECT_LOG_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-3000:]
    from inspect_ai.log import read_eval_log

    log = read_eval_log(str(out))
    new = [k for k in log.samples[0].scores if k not in ("model_graded_qa", "calibrated")]
    assert len(new) == 1, log.samples[0].scores.keys()
    rescored = _scores(log, new[0])
    assert (rescored == applied.loc[rescored.index, "score_calibrated"]).all()
    assert (rescored == _scores(evaluated, "calibrated").loc[rescored.index]).all()


# ----------------------------------------------------------------------------- bad input
def test_other_judge_or_prompt_fails_the_eval_with_a_clear_error(example, judged_items, calibrator_path, prompt_hash,
                                                                 tmp_path):
    few = judged_items.groupby("language").head(1)
    log = _run(_task(example, few, calibrator_path, judge_model="openai/gpt-4o", prompt_hash=prompt_hash), tmp_path)
    assert log.status == "error"
    assert "fitted for judge 'pariksha-gpt-judge'" in log.error.message
    assert "openai/gpt-4o" in log.error.message
    log = _run(_task(example, few, calibrator_path, prompt_hash="0123456789abcdef"), tmp_path)
    assert log.status == "error"
    assert "judge prompt 0123456789abcdef" in log.error.message and prompt_hash in log.error.message
    log = _run(_task(example, few, calibrator_path, judge_model=None), tmp_path)
    assert log.status == "error" and "which judge produced this score is not known" in log.error.message


def test_sample_without_language_fails_eval_and_import(example, judged_items, calibrator_path, prompt_hash, tmp_path,
                                                       capsys):
    few = judged_items.groupby("language").head(1)
    log = _run(_task(example, few, calibrator_path, prompt_hash=prompt_hash, language=False), tmp_path)
    assert log.status == "error" and "the sample has no language" in log.error.message
    plain = _run(_task(example, few, language=False), tmp_path / "plain")
    assert plain.status == "success"
    rc = judgecal_main(["import-inspect", plain.location, "--metric", "la", "--judge", JUDGE,
                        "--out", str(tmp_path / "x.csv")])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.count("no language in the sample metadata") == len(few)
    assert f"sample {few['item_id'].iloc[0]!r}" in err and "metadata.language" in err
    assert not (tmp_path / "x.csv").exists()


def test_mislabelled_sample_fails_eval_and_import(example, judged_items, calibrator_path, prompt_hash, tmp_path,
                                                 capsys):
    # A Hindi item labelled Tamil (as PARIKSHA's swapped files label Gujarati as Punjabi).
    few = judged_items.groupby("language").head(1).copy()
    few.loc[few["language"] == "hi", "language"] = "ta"
    log = _run(_task(example, few, calibrator_path, prompt_hash=prompt_hash), tmp_path)
    assert log.status == "error"
    assert "the prompt is written in Devanagari" in log.error.message
    assert "the language 'ta' is written in Tamil" in log.error.message
    plain = _run(_task(example, few), tmp_path / "plain")
    rc = judgecal_main(["import-inspect", plain.location, "--metric", "la", "--judge", JUDGE,
                        "--out", str(tmp_path / "x.csv")])
    err = capsys.readouterr().err
    assert rc == 1 and err.count("the prompt is written in Devanagari") == 1
    assert not (tmp_path / "x.csv").exists()


def test_import_reads_a_score_from_metadata_and_refuses_other_files(evaluated, tmp_path, capsys):
    out = tmp_path / "raw.csv"
    assert judgecal_main(["import-inspect", evaluated.location, "--metric", "la", "--score", "calibrated",
                          "--value-key", "raw_score", "--judge", JUDGE, "--out", str(out)]) == 0
    rows = pd.read_csv(out).set_index("item_id")["score"]
    assert (rows == _scores(evaluated, "model_graded_qa").astype(float).loc[rows.index]).all()
    (tmp_path / "not.eval").write_text("hello")
    rc = judgecal_main(["import-inspect", str(tmp_path / "not.eval"), "--metric", "la", "--judge", JUDGE,
                        "--out", str(tmp_path / "y.csv")])
    assert rc == 1 and "not a readable inspect log" in capsys.readouterr().err


def test_import_needs_the_judge_and_the_score(evaluated, tmp_path, capsys):
    rc = judgecal_main(["import-inspect", evaluated.location, "--metric", "la", "--score", "model_graded_qa",
                        "--out", str(tmp_path / "x.csv")])
    assert rc == 2 and "name the judge with --judge" in capsys.readouterr().err
    rc = judgecal_main(["import-inspect", evaluated.location, "--metric", "la", "--judge", JUDGE,
                        "--out", str(tmp_path / "x.csv")])
    assert rc == 2 and "say which one is the judge's with --score" in capsys.readouterr().err


def test_text_in_another_script_than_the_language(calibrator_path, judged_items):
    from judgecal.integrations._common import calibrate_score, load_calibrator_cached

    cal = load_calibrator_cached(calibrator_path)
    hindi = judged_items[judged_items["language"] == "hi"].iloc[0]
    with pytest.raises(InputError, match=r"written in Devanagari .* but the language 'ta' is written in Tamil"):
        calibrate_score(cal, 2, metric="la", language="ta", text=hindi["response"], judge_model=JUDGE,
                        where="sample 7")
    with pytest.raises(InputError, match="differs from the script subtag"):
        calibrate_score(cal, 2, metric="la", language="sr-Latn", script="Cyrl", judge_model=JUDGE)
    with pytest.raises(InputError, match="not a number"):
        calibrate_score(cal, "C", metric="la", language="hi", judge_model=JUDGE)
    with pytest.raises(InputError, match="True/False"):
        calibrate_score(cal, True, metric="la", language="hi", judge_model=JUDGE)
    with pytest.raises(CalibratorMismatchError, match="not in this calibrator"):
        calibrate_score(cal, 2, metric="fluency", language="hi", judge_model=JUDGE)
    with pytest.raises(InputError, match="sample 9"):
        calibrate_score(cal, 7, metric="la", language="hi", judge_model=JUDGE, where="sample 9")
    # "hindi" and a provider-prefixed judge id are the same as "hi" and the bare id.
    a = calibrate_score(cal, 1, metric="la", language="hindi", judge_model="openai/" + JUDGE)
    b = calibrate_score(cal, 1, metric="la", language="hi", judge_model=JUDGE)
    assert a == b and a.group == "la|hi|Deva"


def test_unsupported_inspect_version_is_refused(monkeypatch):
    import importlib

    import inspect_ai

    import judgecal.integrations.inspect_ai as integration

    monkeypatch.setattr(inspect_ai, "__version__", "0.2.9")
    with pytest.raises(ConfigError, match=r"inspect-ai 0.2.9 is not supported .* >= 0.3.245, < 0.4"):
        importlib.reload(integration)
    monkeypatch.setattr(inspect_ai, "__version__", "0.4.0")
    with pytest.raises(ConfigError, match="pip install 'judgecal\\[inspect\\]'"):
        importlib.reload(integration)
    monkeypatch.setitem(sys.modules, "inspect_ai", None)  # not installed
    with pytest.raises(MissingDependencyError, match=r"pip install 'judgecal\[inspect\]'"):
        importlib.reload(integration)
    monkeypatch.undo()
    importlib.reload(integration)

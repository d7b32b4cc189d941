"""Calibrator files: round trip in a fresh process, refusal of damaged/edited/future files."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

import judgecal
from judgecal.calibration.persist import FORMAT_VERSION, load_calibrator
from judgecal.errors import CalibratorFileError, CalibratorMismatchError

FRESH = """
import sys, pandas as pd, judgecal
cal = judgecal.load_calibrator(sys.argv[1])
df = pd.read_csv(sys.argv[2], dtype={"item_id": str, "prompt_id": str})
out = cal.apply(df)
out.to_csv(sys.argv[3], index=False, float_format="%.17g")
"""


def test_round_trip_in_a_fresh_process(ratings, fitted, saved, tmp_path):
    judged = ratings[ratings["rater_kind"] == "judge"]
    src = tmp_path / "judged.csv"
    judged.to_csv(src, index=False)
    dst = tmp_path / "out.csv"
    subprocess.run([sys.executable, "-c", FRESH, str(saved), str(src), str(dst)], check=True)
    fresh = pd.read_csv(dst)
    here = fitted.apply(pd.read_csv(src, dtype={"item_id": str, "prompt_id": str}))
    assert np.array_equal(fresh["score_calibrated"].to_numpy(), here["score_calibrated"].to_numpy())
    assert fresh["score_set"].astype(str).tolist() == here["score_set"].astype(str).tolist()
    assert fresh["calibration_group"].tolist() == here["calibration_group"].astype(str).tolist()


def test_loaded_calibrator_matches_and_describes_itself(fitted, saved, ratings):
    cal = judgecal.load_calibrator(saved)
    j = ratings[ratings["rater_kind"] == "judge"]
    pd.testing.assert_frame_equal(cal.apply(j), fitted.apply(j))
    body = json.loads(saved.read_text())
    assert body["format_version"] == FORMAT_VERSION and body["judgecal_version"] == judgecal.__version__
    assert body["judge"]["model"] == "test-judge"
    assert body["training"]["sha256"] == fitted.training_["sha256"] and len(body["training"]["sha256"]) == 64
    assert {g["key"] for g in body["groups"]} >= {"la|hi|Deva", "la|*|Deva", "la|*|*"}
    assert {m: s["scale"]["levels"] for m, s in body["metrics"].items()} == {"la": [0, 1, 2], "tq": [0, 1, 2], "h": [0, 1]}
    assert all(row["n_items"] > 0 for row in body["cv_quality"])
    assert "pickle" not in saved.read_text()


def _rewrite(path, tmp_path, change):
    body = json.loads(path.read_text())
    change(body)
    out = tmp_path / "edited.json"
    out.write_text(json.dumps(body))
    return out


def test_tampered_file_is_refused(saved, tmp_path):
    def nudge(body):
        node = body["nodes"]["tq|hi|Deva"]["model"]
        node["values" if "values" in node else "thresholds"][0] += 0.1

    with pytest.raises(CalibratorFileError, match="edited or damaged"):
        load_calibrator(_rewrite(saved, tmp_path, nudge))
    truncated = tmp_path / "truncated.json"
    truncated.write_text(saved.read_text()[:500])
    with pytest.raises(CalibratorFileError, match="not valid JSON"):
        load_calibrator(truncated)
    with pytest.raises(CalibratorFileError, match="does not exist"):
        load_calibrator(tmp_path / "nope.json")
    with pytest.raises(CalibratorFileError, match="not a judgecal calibrator"):
        load_calibrator(_rewrite(saved, tmp_path, lambda b: b.update(format="something-else")))


def test_future_version_is_refused_even_with_a_valid_checksum(saved, tmp_path):
    from judgecal.calibration.persist import _digest

    def future(body):
        body["format_version"] = FORMAT_VERSION + 1
        body["sha256"] = _digest({k: v for k, v in body.items() if k != "sha256"})

    with pytest.raises(CalibratorFileError, match="reads versions up to"):
        load_calibrator(_rewrite(saved, tmp_path, future))
    with pytest.raises(CalibratorFileError, match="unknown calibrator format version"):
        load_calibrator(_rewrite(saved, tmp_path, lambda b: b.update(format_version="1")))


def test_judge_and_prompt_expectations(saved):
    with pytest.raises(CalibratorMismatchError, match="not 'gpt-4o'"):
        load_calibrator(saved, expect_judge="gpt-4o")
    assert load_calibrator(saved, expect_judge="gpt-4o", allow_mismatch=True).judge_ == "test-judge"
    assert load_calibrator(saved, expect_judge="test-judge").judge_ == "test-judge"


def test_prompt_hash_mismatch_at_apply(ratings, tmp_path):
    from judgecal.calibration import GroupedCalibrator

    df = ratings.copy()
    df.loc[df["rater_kind"] == "judge", "judge_prompt_hash"] = "abc123"
    cal = GroupedCalibrator(method="isotonic").fit(df)
    path = cal.save(tmp_path / "c.json")
    loaded = load_calibrator(path)
    assert set(loaded.judge_prompt_hash_.values()) == {"abc123"}
    judged = df[df["rater_kind"] == "judge"].assign(judge_prompt_hash="fff999")
    with pytest.raises(CalibratorMismatchError, match="judge prompt abc123"):
        loaded.apply(judged)
    assert loaded.apply(judged, allow_mismatch=True)["score_calibrated"].notna().all()


def test_one_prompt_hash_per_metric(ratings, tmp_path):
    """judgecal score renders one rubric per metric: each metric has its own hash."""
    from judgecal.calibration import GroupedCalibrator
    from judgecal.errors import InputError

    df = ratings.copy()
    is_judge = df["rater_kind"] == "judge"
    df.loc[is_judge, "judge_prompt_hash"] = "h-" + df.loc[is_judge, "metric"].astype(str)
    loaded = load_calibrator(GroupedCalibrator(method="isotonic").fit(df).save(tmp_path / "c.json"))
    metrics = sorted(df.loc[is_judge, "metric"].unique())
    assert loaded.judge_prompt_hash_ == {m: f"h-{m}" for m in metrics}
    judged = df[is_judge]
    assert loaded.apply(judged)["score_calibrated"].notna().all()
    # the right hashes on the wrong metrics are refused
    swapped = judged.assign(judge_prompt_hash="h-" + judged["metric"].map(dict(zip(metrics, metrics[::-1], strict=True))))
    with pytest.raises(CalibratorMismatchError, match="on metric"):
        loaded.apply(swapped)
    # two prompts within one metric cannot be calibrated together
    mixed = df.copy()
    first = mixed.index[is_judge & (mixed["metric"] == metrics[0])][0]
    mixed.loc[first, "judge_prompt_hash"] = "other"
    with pytest.raises(InputError, match="one judge prompt per metric"):
        GroupedCalibrator(method="isotonic").fit(mixed)


def test_works_inside_an_sklearn_pipeline(saved, ratings):
    judged = ratings[ratings["rater_kind"] == "judge"]
    pipe = Pipeline([("calibrate", load_calibrator(saved))])
    out = pipe.transform(judged)
    assert "score_calibrated" in out.columns and out["score_calibrated"].notna().all()
    assert np.array_equal(pipe.predict(judged), out["score_calibrated"].to_numpy())
    # fit on a ratings table inside a pipeline, like any estimator
    from judgecal.calibration import GroupedCalibrator

    fitted = Pipeline([("calibrate", GroupedCalibrator(method="isotonic"))]).fit(ratings)
    assert fitted.predict(judged).shape == (len(judged),)

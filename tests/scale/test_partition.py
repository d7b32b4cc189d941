"""The per-partition function (Dask / Ray Data / Spark) against calibrator.apply on
the whole table: same rows, same columns, whatever the split."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest

from judgecal.calibration import GroupedCalibrator
from judgecal.calibration.persist import save_calibrator
from judgecal.datasets import make_judge_ratings
from judgecal.errors import CalibratorFileError, CalibratorMismatchError, InputError
from judgecal.scale.partition import PartitionCalibrator, calibrator_json, output_columns

from .compare import assert_same_rows


@pytest.fixture(scope="module")
def ratings() -> pd.DataFrame:
    return make_judge_ratings(n_items=160, random_state=3)


@pytest.fixture(scope="module")
def ordinal_cal(ratings):
    # Ordinal for every metric, reading the other metrics' judge scores: the hardest case.
    return GroupedCalibrator(method="ordinal", features=("score", "other_metrics"), n_splits=3).fit(ratings)


def test_split_by_metric_equals_whole_table(ratings, ordinal_cal):
    fn = PartitionCalibrator(ordinal_cal)
    assert fn.whole_items  # other_metrics features read the item's other rows
    want = ordinal_cal.apply(ratings)
    # Partitions of single metrics: apply alone would drop prob_ columns of
    # metrics a partition lacks (h has levels 0,1; la/tq 0,1,2).
    assert "prob_2" not in ordinal_cal.apply(ratings[ratings["metric"] == "h"]).columns
    # ... but each item's rows must stay together for other_metrics: split by item.
    items = pd.unique(ratings["item_id"])
    parts = [ratings[ratings["item_id"].isin(chunk)] for chunk in np.array_split(items, 7)]
    got = pd.concat([fn(p) for p in parts]).loc[want.index]
    assert_same_rows(got, want)
    assert output_columns(ordinal_cal) == [c for c in want.columns if c not in ratings.columns]


def test_isotonic_any_split_and_missing_prob_columns(ratings):
    cal = GroupedCalibrator(method="auto", n_splits=3).fit(ratings)
    fn = PartitionCalibrator(cal)
    assert not fn.whole_items
    want = cal.apply(ratings)
    shuffled = ratings.sample(frac=1.0, random_state=0)
    parts = [shuffled.iloc[i:i + 97] for i in range(0, len(shuffled), 97)]
    parts += [shuffled.iloc[:0]]  # an empty partition is legal
    got = pd.concat([fn(p) for p in parts]).loc[want.index]
    assert_same_rows(got, want)
    # Every partition, whatever its metrics, has the same columns.
    by_metric = [fn(g) for _, g in ratings.groupby("metric")]
    assert len({tuple(f.columns) for f in by_metric}) == 1


def test_recalibrating_replaces_old_columns(ratings, ordinal_cal):
    fn = PartitionCalibrator(ordinal_cal)
    once = fn(ratings)
    once["prob_2"] = 99.0  # stale values must not survive
    twice = fn(once[once["metric"] == "h"])
    assert list(twice.columns) == list(once.columns)
    assert twice["prob_2"].isna().all()  # h has no level 2


def test_pickle_carries_only_json(ratings, ordinal_cal, tmp_path):
    fn = PartitionCalibrator(ordinal_cal, randomize=False)
    state = fn.__getstate__()
    assert set(state) == {"calibrator_json", "allow_mismatch", "randomize"}
    assert json.loads(state["calibrator_json"])["format"] == "judgecal-calibrator"
    again = pickle.loads(pickle.dumps(fn))
    sample = ratings.head(300)
    assert_same_rows(again(sample), ordinal_cal.apply(sample, randomize=False))
    # From a file path, from its dict and from its text: the same calibrator.
    path = save_calibrator(ordinal_cal, tmp_path / "cal.json")
    for source in (path, str(path), json.loads(path.read_text()), path.read_text()):
        assert_same_rows(PartitionCalibrator(source)(sample), fn.calibrator.apply(sample))


def test_meta_has_output_columns(ratings, ordinal_cal):
    fn = PartitionCalibrator(ordinal_cal)
    meta = fn.meta(ratings)
    assert len(meta) == 0
    assert list(meta.columns) == list(ratings.columns) + output_columns(ordinal_cal)
    assert meta["score_calibrated"].dtype == float and meta["calibration_group"].dtype == object


def test_bad_calibrators_and_tables(ratings, ordinal_cal, tmp_path):
    with pytest.raises(CalibratorFileError, match="does not exist"):
        PartitionCalibrator(tmp_path / "missing.json")
    body = json.loads(calibrator_json(ordinal_cal))
    body["judge"]["model"] = "someone-else"  # edited: checksum no longer matches
    with pytest.raises(CalibratorFileError, match="edited or damaged"):
        PartitionCalibrator(body)
    with pytest.raises(CalibratorFileError, match="not valid JSON"):
        PartitionCalibrator("{not json")
    with pytest.raises(CalibratorFileError, match="expected a fitted calibrator"):
        PartitionCalibrator(42)
    fn = PartitionCalibrator(ordinal_cal)
    with pytest.raises(InputError, match="score"):
        fn(ratings.drop(columns=["score"]))
    other = ratings.copy()
    other.loc[other["rater_kind"] == "judge", "rater"] = "another-judge"
    with pytest.raises(CalibratorMismatchError):
        fn(other)
    assert PartitionCalibrator(ordinal_cal, allow_mismatch=True)(other)["score_calibrated"].notna().any()


def test_spark_missing_gives_install_hint(ratings, ordinal_cal, monkeypatch):
    import sys

    from judgecal.errors import MissingDependencyError
    from judgecal.scale.spark import apply_calibrator_spark

    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark -> ImportError
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(MissingDependencyError, match=r"judgecal\[spark\]"):
        apply_calibrator_spark(object(), ordinal_cal)


def test_check_partitioned_reports_agreement(ratings, ordinal_cal):
    from judgecal.scale.partition import check_partitioned

    out = check_partitioned(ordinal_cal, ratings, n_partitions=5)
    assert out["rows"] == len(ratings) and out["partitions"] == 5
    assert out["columns_equal"] and out["text_equal"]
    assert out["max_abs_diff"] < 1e-9

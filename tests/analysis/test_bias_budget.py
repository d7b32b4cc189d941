"""Bias, level distributions, before/after calibration, and the annotation planner."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _synth_ratings import synthetic_ratings

from judgecal.analysis import (
    before_after,
    bias_table,
    labels_needed,
    learning_curves,
    level_distribution,
    next_batch,
    out_of_fold_table,
    stage_pivot,
)
from judgecal.analysis.budget import calibration_error, labels_for_width
from judgecal.errors import ConfigError


def test_bias_known_shift_and_subsets():
    df = synthetic_ratings(150, languages=("hi",), seed=1)
    human_mean = df[df["rater_kind"] == "human"].groupby("item_id")["score"].mean()
    judge = df["rater_kind"] == "judge"
    df.loc[judge, "score"] = np.minimum(df.loc[judge, "item_id"].map(human_mean).round(), 2)
    expected = (df[judge].set_index("item_id")["score"] - human_mean).mean()
    t = bias_table(df, n_resamples=300).set_index("subset")
    assert t.loc["all", "estimate"] == pytest.approx(expected)
    assert t.loc["all", "ci_low"] <= expected <= t.loc["all", "ci_high"]
    assert t.loc["humans agree", "n"] + t.loc["humans disagree", "n"] == t.loc["all", "n"]
    # Where all humans agree the rounded mean is their level: no bias there at all.
    assert t.loc["humans agree", "estimate"] == pytest.approx(0.0)


def test_level_distribution_counts():
    df = synthetic_ratings(50, languages=("ta",), seed=2)
    lv = level_distribution(df)
    for _source, g in lv.groupby("source"):
        assert g["share"].sum() == pytest.approx(1.0)
    humans = df[df["rater_kind"] == "human"]["score"].value_counts()
    got = lv[lv["source"] == "human"].set_index("level")["count"]
    assert all(got.get(level, 0) == humans.get(level, 0) for level in (0.0, 1.0, 2.0))


def test_before_after_with_given_calibrated_column():
    df = synthetic_ratings(200, languages=("hi",), judge_shift=0.8, seed=3)
    cal = df.copy()
    j = cal["rater_kind"] == "judge"
    raw_bias = bias_table(df, n_resamples=50)["estimate"].iloc[0]
    cal.loc[j, "score_calibrated"] = cal.loc[j, "score"] - raw_bias
    both = before_after(bias_table, df, cal, n_resamples=50)
    wide = stage_pivot(both[both["subset"] == "all"], ["language", "metric"])
    assert wide["raw"].iloc[0] > 0.3 and wide["calibrated"].iloc[0] == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ConfigError):
        before_after(bias_table, df, df, calibrated_column="nope")


def test_out_of_fold_calibration_removes_inflation(synthetic):
    cal = out_of_fold_table(synthetic)
    assert cal["score_calibrated"].notna().sum() == (synthetic["rater_kind"] == "judge").sum()
    b = before_after(bias_table, synthetic, cal, n_resamples=100)
    b = b[(b["subset"] == "all") & (b["metric"] == "tq")]
    raw = b[b["stage"] == "raw"]["estimate"].abs()
    after = b[b["stage"] == "calibrated"]["estimate"].abs()
    assert (after.to_numpy() < raw.to_numpy()).all()


def test_labels_for_width_hand_computed():
    # s2 = 1, t = 2, width 0.2: 1/n = 0.05^2 + 1/100 -> n = 80.
    assert labels_for_width(1.0, np.array([100]), 0.2, 2.0)[0] == 80
    assert labels_for_width(1.0, np.array([10]), 0.01, 2.0)[0] == 10  # capped at the population
    assert labels_for_width(0.0, np.array([10]), 0.2, 2.0)[0] == 2


def test_calibration_error_hand_computed():
    # Judge level 0: calibrated 0.5 vs humans 0.0 and 1.0 (gap 0); level 1: 1.0 vs 2.0 (gap 1).
    err = calibration_error(np.array([0.5, 0.5, 1.0]), np.array([0.0, 1.0, 2.0]), np.array([0, 0, 1]))
    assert err == pytest.approx(1 / 3)


def test_planner_with_partly_labelled_data():
    full = synthetic_ratings(300, languages=("hi",), systems=("a", "b", "c"), judge_shift=0.3, noise=0.4, seed=4)
    rng = np.random.default_rng(0)
    kept = set(rng.choice(full["item_id"].unique(), 150, replace=False))
    df = full[(full["rater_kind"] == "judge") | full["item_id"].isin(kept)]
    need = labels_needed(df, target_width=0.3).iloc[0]
    assert need["labels_now"] == 150 and need["more_ppi"] <= need["more_human"]
    lc = learning_curves(df, sizes=(20, 60, 120), n_repeats=5)
    assert lc["width_ppi"].is_monotonic_decreasing and lc["calibration_shift"].iloc[0] > lc["calibration_shift"].iloc[-1]
    batch = next_batch(df, 30)
    assert len(batch) == 30 and not batch["item_id"].isin(kept).any()
    assert batch["system"].nunique() == 3 and batch["judge_score"].nunique() >= 2
    with pytest.raises(ConfigError, match="positive"):
        labels_needed(df, target_width=0)
    with pytest.raises(ConfigError, match="no unlabelled"):
        next_batch(full, 10)


def test_next_batch_prefers_uncertain_items():
    df = synthetic_ratings(40, languages=("hi",), systems=("a",), seed=5)
    judge = df["rater_kind"] == "judge"
    unlabelled = df[judge].copy()
    unlabelled["item_id"] = unlabelled["item_id"] + "-new"
    unlabelled["score"] = 1.0
    unlabelled["score_probs"] = '{"0": 0.05, "1": 0.9, "2": 0.05}'
    unlabelled.iloc[:3, unlabelled.columns.get_loc("score_probs")] = '{"0": 0.3, "1": 0.4, "2": 0.3}'
    batch = next_batch(pd.concat([df, unlabelled], ignore_index=True), 3)
    assert set(batch["item_id"]) == set(unlabelled["item_id"].iloc[:3])


def test_learning_curve_isotonic_matches_the_calibration_module():
    from judgecal.analysis.budget import _isotonic_map
    from judgecal.calibration import IsotonicCalibrator

    rng = np.random.default_rng(9)
    f = rng.integers(0, 3, 200).astype(float) + rng.integers(0, 2, 200) * 0.5
    y = np.clip(f / 1.5 + rng.normal(0, 0.5, 200), 0, 2)
    grid = np.linspace(-0.5, 3.5, 41)
    ours = _isotonic_map(f, y, 0.0, 2.0)(grid)
    theirs = IsotonicCalibrator(y_min=0.0, y_max=2.0).fit(f, y).predict(grid)
    assert np.allclose(ours, theirs)


def test_reliability_table_points():
    from judgecal.analysis.calibrated import reliability_table

    df = synthetic_ratings(200, languages=("hi",), judge_shift=0.8, seed=11)
    j = df["rater_kind"] == "judge"
    df.loc[j, "score_calibrated"] = df.loc[j, "score"] - 0.5
    rel = reliability_table(df)
    raw = rel[rel["stage"] == "raw"]
    assert list(raw["bin_label"]) == ["0", "1", "2"] and raw["n"].sum() == 200
    human_mean = df[~j].groupby("item_id")["score"].mean()
    judge_two = df[j & (df["score"] == 2)]["item_id"]
    assert raw[raw["bin_label"] == "2"]["observed"].iloc[0] == pytest.approx(human_mean[judge_two].mean())
    cal = rel[rel["stage"] == "calibrated"]
    assert list(cal["predicted"]) == [-0.5, 0.5, 1.5]
    with pytest.raises(ConfigError, match="calibrate"):
        reliability_table(df.drop(columns="score_calibrated"))

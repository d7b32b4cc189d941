"""Conformal sets, folds and cross-validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from judgecal.calibration import cross_validate, out_of_fold_predictions
from judgecal.calibration._fit.conformal import prediction_sets, tie_breaks
from judgecal.calibration._fit.folds import assign_folds
from judgecal.calibration._fit.hierarchy import _tilt_iteratively, tilt
from judgecal.errors import ConfigError


def test_smoothed_sets_reach_nominal_coverage_with_heavy_ties():
    rng = np.random.default_rng(0)
    values = np.array([0.1, 0.4, 0.6, 1.4])
    p = [0.4, 0.3, 0.2, 0.1]
    cal = np.sort(rng.choice(values, 5000, p=p))  # large, so one calibration draw is representative
    test = rng.choice(values, 20000, p=p)
    covered = prediction_sets(test[:, None], cal, rng.random(20000), 0.1)[:, 0]
    assert abs(covered.mean() - 0.9) < 0.015
    conservative = prediction_sets(test[:, None], cal, np.ones(20000), 0.1)[:, 0]
    assert conservative.mean() >= 0.9  # without the draw: at least nominal, here well above
    assert conservative.mean() > covered.mean()


def test_tie_breaks_are_uniform_and_fixed_per_item_and_metric():
    ids = pd.Series([f"item{i}" for i in range(20000)])
    codes = np.zeros(20000, dtype=int)
    u = tie_breaks(ids, codes, ["la"])
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    assert np.array_equal(u[:10], tie_breaks(ids[:10], codes[:10], ["la"]))  # independent of the rest
    other = tie_breaks(ids, codes, ["tq"])
    assert abs(np.corrcoef(u, other)[0, 1]) < 0.03


def test_tilt_moves_the_mean_and_keeps_a_distribution():
    levels = np.array([0.0, 1.0, 2.0])
    P = np.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
    target = np.array([1.1, 0.3, 1.9])
    Q = tilt(P, levels, target)
    assert np.allclose(Q.sum(1), 1) and np.allclose(Q @ levels, target, atol=1e-9)
    assert np.allclose(tilt(P, levels, P @ levels), P)


def test_two_level_tilt_in_closed_form_equals_the_iteration():
    rng = np.random.default_rng(5)
    levels = np.array([0.0, 1.0])
    p1 = rng.uniform(0, 1, 500)
    P = np.column_stack([1 - p1, p1])
    P[:3] = [[1.0, 0.0], [0.0, 1.0], [1e-9, 1 - 1e-9]]  # no mass on a level, nearly none
    target = rng.uniform(-0.2, 1.2, 500)  # some outside the scale: clipped inside it
    target[3] = P[3] @ levels  # already there
    Q = tilt(P, levels, target)
    np.testing.assert_allclose(Q, _tilt_iteratively(P, levels, target), atol=1e-10)
    np.testing.assert_array_equal(Q[:2], P[:2])  # tilting cannot move mass onto an empty level
    np.testing.assert_allclose(Q[3], P[3], atol=1e-12)
    assert np.allclose(Q.sum(1), 1) and (Q >= 0).all()


def test_tilt_of_many_levels_is_exponential_and_hits_the_mean():
    rng = np.random.default_rng(11)
    levels = np.array([0.0, 1.0, 2.0, 3.0])
    P = rng.dirichlet(np.ones(4), 400)
    P[0] = [0.5, 0.5, 0.0, 0.0]  # no mass above 1: cannot move past it
    target = rng.uniform(0.2, 2.8, 400)
    target[1] = P[1] @ levels  # already there: unchanged
    Q = tilt(P, levels, target)
    assert np.allclose(Q.sum(1), 1) and (Q >= 0).all()
    np.testing.assert_allclose(Q[1:] @ levels, target[1:], atol=1e-9)
    np.testing.assert_allclose(Q[1], P[1], atol=1e-12)
    assert Q[0, 2:].sum() == 0 and Q[0] @ levels <= 1
    # An exponential tilt: log(Q / P) is linear in the level, row by row.
    r = np.log(Q[1:] / P[1:])
    slope = (r[:, -1] - r[:, 0]) / (levels[-1] - levels[0])
    np.testing.assert_allclose(r - r[:, :1], slope[:, None] * (levels - levels[0]), atol=1e-8)


def test_folds_keep_groups_together_and_spread_languages():
    groups = np.repeat(np.arange(40), 3)
    lang = np.where(groups < 20, "hi", "ta")
    fold = assign_folds(groups, 5, 0, strata=lang)
    assert pd.Series(fold).groupby(groups).nunique().max() == 1
    per_lang = pd.crosstab(lang, fold)
    assert (per_lang.to_numpy() == 12).all()  # 4 prompts x 3 items per language and fold
    with pytest.raises(ConfigError, match="distinct group"):
        assign_folds(np.arange(3), 5)


def test_out_of_fold_predictions_never_see_their_prompt(ratings):
    oof = out_of_fold_predictions(ratings, method="isotonic", n_splits=5)
    judge = ratings[ratings["rater_kind"] == "judge"]
    assert len(oof) == len(judge) and oof["score_calibrated"].notna().all()
    assert oof.groupby("prompt_id")["fold"].nunique().max() == 1
    # The held-out prediction differs from a refit on everything (it did not see the row).
    from judgecal.calibration import GroupedCalibrator

    full = GroupedCalibrator(method="isotonic").fit(ratings).apply(judge)
    assert not np.allclose(oof["score_calibrated"].to_numpy(), full.loc[oof.index, "score_calibrated"].to_numpy())


def test_cross_validate_compares_variants_on_the_same_folds(ratings):
    res = cross_validate(ratings, variants=["raw", "isotonic_per_language", "isotonic_pooled", "isotonic", "ordinal"])
    t = res.table
    assert set(t["variant"]) == {"raw", "isotonic_per_language", "isotonic_pooled", "isotonic", "ordinal"}
    for variant in ("isotonic_per_language", "isotonic", "ordinal", "isotonic_pooled"):
        folds = res.predictions[res.predictions["variant"] == variant].groupby("prompt_id")["fold"].first()
        ref = res.predictions[res.predictions["variant"] == "isotonic"].groupby("prompt_id")["fold"].first()
        assert folds.equals(ref)
    m = res.by_metric.set_index(["variant", "metric"])
    assert m.loc[("raw", "tq"), "bias"] > 0.3 and abs(m.loc[("isotonic", "tq"), "bias"]) < 0.05
    assert m.loc[("isotonic", "tq"), "mae"] < m.loc[("raw", "tq"), "mae"]
    # Pooling everything ignores the per-language inflation built into the data.
    assert m.loc[("isotonic_pooled", "tq"), "mae"] > m.loc[("isotonic", "tq"), "mae"]
    ordinal = t[t["variant"] == "ordinal"]
    assert ordinal["ece"].notna().all() and ordinal["log_loss"].notna().all()
    assert ordinal["coverage"].between(0.8, 1.0).all()
    with pytest.raises(ConfigError, match="unknown variant"):
        cross_validate(ratings, variants=["nonsense"])

"""PPI++ and system estimates against hand-computed examples; rankings; the hide-labels check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _synth_ratings import synthetic_ratings

from judgecal.analysis import (
    ppi_mean,
    ppi_simulation,
    rank_systems,
    simulation_summary,
    stratified_estimates,
    system_estimates,
)
from judgecal.analysis.simulate import allocate, sample_labels
from judgecal.errors import ConfigError, InputError


def test_ppi_mean_hand_computed():
    # lambda = 1 (plain PPI): rectifier mean(y - f) = 2/3, judge mean on the pool = 2,
    # se^2 = var(y - f)/3 + var(f_pool)/4 = (1/3)/3 + (2/3)/4.
    res = ppi_mean([1, 2, 3], [1, 1, 2], [1, 2, 3, 2], lam=1.0, confidence=0.9)
    assert res["estimate"] == pytest.approx(2 + 2 / 3)
    assert res["se"] == pytest.approx(np.sqrt(1 / 9 + 1 / 6))
    assert res["ci_high"] - res["estimate"] == pytest.approx(1.6448536 * res["se"], rel=1e-6)
    human = ppi_mean([1, 2, 3], [1, 1, 2], [1, 2, 3, 2], lam=0.0)
    assert human["estimate"] == pytest.approx(2.0) and human["se"] == pytest.approx(np.sqrt(1 / 3))


def test_ppi_mean_tuned_lambda_formula_and_errors():
    rng = np.random.default_rng(0)
    f = rng.normal(size=50)
    y = 2 * f + rng.normal(size=50)
    fu = rng.normal(size=500)
    res = ppi_mean(y, f, fu)
    expected = np.cov(y, f)[0, 1] / ((1 + 50 / 500) * np.var(np.r_[f, fu], ddof=1))
    assert res["lam"] == pytest.approx(expected)
    with pytest.raises(ConfigError):
        ppi_mean([1.0], [1.0], [1.0, 2.0])
    with pytest.raises(ConfigError):
        ppi_mean([1.0, 2.0], [1.0], [1.0, 2.0])


def test_stratified_hand_computed():
    # Stratum 0: f = 0,1,2,1 with labels y = 0,2 on the first two items;
    # stratum 1: f = 2,2,1 with labels y = 1,2 on the first two.
    f = np.array([0, 1, 2, 1, 2, 2, 1], dtype=float)
    y = np.array([0, 2, np.nan, np.nan, 1, 2, np.nan])
    strata = np.array([0, 0, 0, 0, 1, 1, 1])
    lab = ~np.isnan(y)
    res = stratified_estimates(y, f, strata, lab, confidence=0.9, prior_df=None)
    # Within-stratum slope: sum dy*df / sum df^2 = 1 / 0.5 = 2.
    assert res["lam"] == pytest.approx(2.0)
    # theta_0 = 2 * mean(f_0) + mean(y - 2f) = 2 * 1 + 0; theta_1 = 2 * 5/3 - 2.5.
    assert res["ppi"] == pytest.approx([2.0, 2 * 5 / 3 - 2.5])
    # Residuals 0,0 | -3,-2: pooled variance 0.5 on 4 - 2 - 1 = 1 degree of freedom.
    assert res["df_ppi"] == 1 and res["s2_resid"] == pytest.approx(0.5)
    assert res["ppi_se"] == pytest.approx([np.sqrt((1 / 2 - 1 / 4) * 0.5), np.sqrt((1 / 2 - 1 / 3) * 0.5)])
    assert res["human"] == pytest.approx([1.0, 1.5])
    assert res["s2_human"] == pytest.approx(2.5 / 2)
    # Moderated with prior_df = 2: stratum 0 has residual sum of squares 0 on 1 df,
    # stratum 1 has 0.5 on 1 df: (0 + 2 * 0.5) / 3 and (0.5 + 2 * 0.5) / 3, on min(1 + 2, 1) df.
    mod = stratified_estimates(y, f, strata, lab, confidence=0.9, prior_df=2.0)
    assert mod["ppi"] == pytest.approx(res["ppi"])
    assert mod["ppi_se"] == pytest.approx([np.sqrt(0.25 * 1 / 3), np.sqrt((1 / 6) * 0.5)])
    assert mod["t_ppi"] == pytest.approx([6.313752, 6.313752], rel=1e-6)
    with pytest.raises(ConfigError):
        stratified_estimates(y, f, strata, lab, prior_df=0)


def test_fully_labelled_is_exact_and_missing_values_raise():
    y = np.array([0.0, 1, 2, 1])
    res = stratified_estimates(y, y + 0.3, np.zeros(4, dtype=int), np.ones(4, dtype=bool))
    assert res["ppi"][0] == pytest.approx(1.0) and res["ppi_se"][0] == 0
    with pytest.raises(InputError):
        stratified_estimates(y, np.array([0, np.nan, 1, 1]), np.zeros(4, dtype=int), np.ones(4, dtype=bool))
    with pytest.raises(InputError):
        stratified_estimates(np.array([0, np.nan, 1, 1]), y, np.zeros(4, dtype=int), np.ones(4, dtype=bool))


def _hide_labels(df: pd.DataFrame, keep: float, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    items = df["item_id"].unique()
    kept = set(rng.choice(items, int(keep * len(items)), replace=False))
    return df[(df["rater_kind"] == "judge") | df["item_id"].isin(kept)]


def test_system_estimates_with_an_informative_judge():
    df = _hide_labels(synthetic_ratings(400, languages=("hi",), systems=("a", "b", "c"), judge_shift=0.4, noise=0.4), 0.3)
    est = system_estimates(df)
    assert set(est["estimator"]) == {"ppi", "human", "judge"}
    ppi, human = est[est["estimator"] == "ppi"], est[est["estimator"] == "human"]
    assert (ppi["N"] > ppi["n"]).all()
    assert ppi["ess_gain"].iloc[0] > 1.2
    width = lambda t: (t["ci_high"] - t["ci_low"]).mean()  # noqa: E731
    assert width(ppi) < width(human)
    with pytest.raises(ConfigError, match="system"):
        system_estimates(df.drop(columns="system"))


def test_rankings_polarity_and_ties():
    frame = pd.DataFrame({"language": "hi", "metric": "h", "judge": "j", "system": ["a", "b", "c", "d"],
                          "estimator": "ppi", "estimate": [0.1, 0.5, 0.5, 0.9], "se": [0.0, 0.0, 0.0, 0.0],
                          "higher_is_better": False})
    r = rank_systems(frame).set_index("system")
    assert r.loc["a", "rank"] == 1 and r.loc["d", "rank"] == 4  # fewer hallucinations rank first
    assert r.loc["b", "rank"] == r.loc["c", "rank"] == 2
    assert (r.loc["b", "rank_low"], r.loc["b", "rank_high"]) == (2, 3)
    assert r.loc["a", "p_best"] == 1.0
    with pytest.raises(ConfigError):
        rank_systems(frame, estimator="oracle")


def test_allocation_and_sampling():
    rng = np.random.default_rng(1)
    sizes = np.array([10, 3, 7])
    per = allocate(12, sizes, rng)
    assert per.sum() == 12 and (per <= sizes).all()
    assert (allocate(100, sizes, rng) == sizes).all()
    strata = np.repeat(np.arange(3), sizes)
    mask = sample_labels(strata, per, rng)
    assert np.array_equal(np.bincount(strata[mask], minlength=3), per)


def test_simulation_flags_exhaustive_cells():
    df = synthetic_ratings(60, languages=("hi",), systems=("a", "b", "c"), seed=2)
    sim = ppi_simulation(df, n_labels=(20, 100), n_repeats=20)
    assert list(sim["n_used"]) == [20, 60]
    summary = simulation_summary(sim)
    assert summary.loc[summary["n"] == 100, "exhaustive"].iloc[0] == "hi/tq"
    assert summary.loc[summary["n"] == 100, "cells"].iloc[0] == 0


def test_pariksha_ppi_check(pariksha_repaired):
    """Hide PARIKSHA's human labels except n per language: 90 % intervals should cover
    the full-data human mean about 90 % of the time and be narrower than human-only."""
    sim = ppi_simulation(pariksha_repaired, n_labels=(50, 100), n_repeats=60, random_state=1)
    summary = simulation_summary(sim)
    assert summary["coverage_ppi"].between(0.86, 0.94).all(), summary
    assert (summary["width_ratio"] < 1.0).all()


def test_stratum_without_labels_has_no_finite_standard_error_and_no_warning():
    import warnings

    f = np.array([0, 1, 2, 1, 2, 2, 1], dtype=float)
    y = np.array([0, 2, 4, np.nan, np.nan, np.nan, np.nan])  # y = 2 f exactly: residual variance 0
    strata = np.array([0, 0, 0, 0, 1, 1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = stratified_estimates(y, f, strata, ~np.isnan(y), confidence=0.9, prior_df=None)
    assert res["n"].tolist() == [3, 0]
    assert res["ppi_se"][0] == 0 and np.isfinite(res["human_se"][0])
    # nothing labelled in stratum 1: no finite standard error (inf x 0 variance gives NaN)
    assert np.isnan(res["ppi_se"][1]) and not np.isfinite(res["human_se"][1])

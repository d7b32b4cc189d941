"""Kendall tau between leaderboards with a paired prompt bootstrap: the vectorised tau-b, the shared
prompt universe that pairs two sources' resamples, and the interval in language_leaderboards."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from judgecal.data.battle_verdicts import battle_arrays
from judgecal.datasets import make_battles
from judgecal.errors import InputError
from judgecal.pairwise.leaderboard import DavidsonBT, kendall_tau_rows
from judgecal.pairwise.standings import language_leaderboards
from tests.pairwise._battle_sim import davidson_probs, draw_outcomes, random_battles


def test_tau_rows_equal_scipy_tau_b_with_ties_and_constant_rows():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(40, 7))
    b = a + rng.normal(size=(40, 7))
    a[5, 1] = a[5, 4]  # a tie in one leaderboard
    b[:, 2] = b[:, 3]  # a tie in every row of the other
    b[9] = 0.0  # a constant row: tau-b undefined
    got = kendall_tau_rows(a, b)
    want = np.array([stats.kendalltau(x, y).statistic for x, y in zip(a, b, strict=True)])
    assert np.isnan(got[9]) and np.isnan(want[9])
    np.testing.assert_allclose(np.delete(got, 9), np.delete(want, 9), atol=1e-12)
    with pytest.raises(Exception, match="same shape"):
        kendall_tau_rows(a, b[:, :6])


def _prompt_battles(seed: int, n_prompts: int = 30, per: int = 20, m: int = 5):
    rng = np.random.default_rng(seed)
    i, j = random_battles(rng, m, n_prompts * per)
    prompt = np.repeat(np.arange(n_prompts), per)
    y = draw_outcomes(rng, davidson_probs(np.linspace(-0.6, 0.6, m), 0.4, i, j))
    return i, j, y, prompt


def test_universe_in_the_clusters_own_order_changes_nothing():
    i, j, y, prompt = _prompt_battles(1)
    model = DavidsonBT().fit(i, j, y)
    plain = model.bootstrap(prompt, n_resamples=50, random_state=3)
    own_order = pd.unique(prompt)  # the order the clusters are met in, as without a universe
    np.testing.assert_array_equal(model.bootstrap(prompt, n_resamples=50, random_state=3, universe=own_order), plain)


def test_a_shared_universe_pairs_two_fits_on_the_same_prompts():
    i, j, y, prompt = _prompt_battles(2)
    universe = np.arange(40)  # ten prompts of the universe have no battles at all
    a = DavidsonBT().fit(i, j, y).bootstrap(prompt, n_resamples=60, random_state=5, universe=universe)
    # The same battles listed in another order and fitted again: every resample must draw the same
    # prompts, so the strengths agree resample by resample (tau 1), not just in distribution.
    order = np.random.default_rng(0).permutation(len(i))
    b = DavidsonBT().fit(i[order], j[order], y[order]).bootstrap(prompt[order], n_resamples=60, random_state=5,
                                                                 universe=universe)
    np.testing.assert_allclose(a, b, atol=1e-6)
    unpaired = DavidsonBT().fit(i[order], j[order], y[order]).bootstrap(prompt[order], n_resamples=60,
                                                                        random_state=6, universe=universe)
    assert np.nanmin(kendall_tau_rows(a, b)) == 1.0
    assert np.nanmin(kendall_tau_rows(a, unpaired)) < 1.0  # the check above could fail


def test_bad_universe_is_refused():
    i, j, y, prompt = _prompt_battles(3)
    model = DavidsonBT().fit(i, j, y)
    with pytest.raises(InputError, match="outside the cluster universe"):
        model.bootstrap(prompt, n_resamples=5, universe=np.arange(10))
    with pytest.raises(InputError, match="repeats a label"):
        model.bootstrap(prompt, n_resamples=5, universe=np.concatenate([np.arange(30), [0]]))
    with pytest.raises(InputError, match="needs cluster labels"):
        model.bootstrap(None, n_resamples=5, universe=np.arange(30))


def test_language_leaderboards_tau_interval_is_the_paired_bootstrap():
    battles = make_battles(1000, languages=("hi", "ta"), n_systems=6, random_state=8)
    _, taus = language_leaderboards(battles, ("human", "judge", "anchored"), n_resamples=200, alpha=0.1,
                                    confidence=0.8, random_state=11)
    hi = battles[battles["language"] == "hi"]
    universe = np.arange(hi["prompt_id"].nunique())
    draws = {}
    for source in ("human", "judge"):
        arr = battle_arrays(hi, source)
        model = DavidsonBT(alpha=0.1).fit(arr.i, arr.j, arr.outcome, weights=arr.weight, n_systems=len(arr.systems))
        draws[source] = model.bootstrap(arr.cluster, n_resamples=200, random_state=11, universe=universe)
    per_resample = [stats.kendalltau(a, b).statistic for a, b in zip(draws["human"], draws["judge"], strict=True)]
    low, high = np.quantile(per_resample, [0.1, 0.9])
    row = taus[(taus["language"] == "hi") & (taus["source_a"] == "human") & (taus["source_b"] == "judge")].iloc[0]
    assert row["ci_low"] == pytest.approx(low) and row["ci_high"] == pytest.approx(high)
    assert row["ci_low"] < row["ci_high"]
    # The anchored (PPI++) leaderboard has no bootstrap: no interval rather than a made-up one.
    anchored = taus[(taus["source_b"] == "anchored") | (taus["source_a"] == "anchored")]
    assert len(anchored) == 4 and anchored[["ci_low", "ci_high"]].isna().all(axis=None)

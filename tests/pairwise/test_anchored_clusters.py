"""Human-anchored (PPI++) strengths clustered by prompt: the singleton limit, coverage when
battles of a prompt are correlated, bad cluster labels, and the product's anchored leaderboards."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from judgecal.data.battle_verdicts import battle_arrays
from judgecal.datasets import make_battles
from judgecal.errors import InputError
from judgecal.pairwise import _bt, _ppi
from judgecal.pairwise.leaderboard import DavidsonBT, HumanAnchoredBT, centred_inverse
from judgecal.pairwise.standings import anchored_inputs, language_leaderboards
from tests.pairwise._battle_sim import (
    judged_world,
    prompt_averaged_strengths,
    random_battles,
)

THETA = np.array([-0.9, -0.4, 0.0, 0.5, 0.8])
NU = 0.6


def world(seed: int, *, n_prompts: int = 80, per_prompt: int = 30, prompt_sd: float = 1.0,
          n_labelled: int = 800, agreement: float = 0.6):
    """Natives follow Davidson(THETA + the prompt's shift, NU); each prompt shifts each system's
    strength by N(0, prompt_sd^2), so its battles are correlated. The judge repeats the native
    outcome with probability ``agreement``, else answers from its own distorted model of the same
    prompt. Labelled battles are drawn at random, so prompts mix labelled and unlabelled ones."""
    rng = np.random.default_rng(seed)
    n = n_prompts * per_prompt
    i, j = random_battles(rng, len(THETA), n)
    prompt = np.repeat(np.arange(n_prompts), per_prompt)
    shift = rng.normal(0.0, prompt_sd, size=(n_prompts, len(THETA)))[prompt]
    judge, human = judged_world(rng, THETA, NU, i, j, agreement=agreement, n_labelled=n_labelled, shift=shift)
    return i, j, judge, human, prompt


def test_one_battle_per_cluster_is_the_independent_covariance():
    i, j, judge, human, _ = world(0, n_prompts=40, per_prompt=50, n_labelled=300)
    singletons = np.arange(len(i))
    # lambda 0 (human-only spread): exactly the unclustered covariance; the same when every battle is labelled.
    plain = HumanAnchoredBT(lam=0.0).fit(i, j, judge, human)
    single = HumanAnchoredBT(lam=0.0).fit(i, j, judge, human, clusters=singletons)
    np.testing.assert_allclose(single.cov_, plain.cov_, rtol=1e-10, atol=1e-14)
    lab = ~np.isnan(human).any(axis=1)
    every = HumanAnchoredBT().fit(i[lab], j[lab], judge[lab], human[lab], n_systems=5)
    every_single = HumanAnchoredBT().fit(i[lab], j[lab], judge[lab], human[lab], n_systems=5,
                                         clusters=[f"p{k}" for k in range(lab.sum())])
    np.testing.assert_allclose(every_single.cov_, every.cov_, rtol=1e-10, atol=1e-14)
    # Any lambda: the independent formula term by term, with the judge's spread in the unlabelled
    # term taken over the unlabelled battles (the unclustered fit pools it over all battles).
    lam = 0.4
    model = HumanAnchoredBT(lam=lam).fit(i, j, judge, human, clusters=singletons)
    assert model.strengths_ == pytest.approx(HumanAnchoredBT(lam=lam).fit(i, j, judge, human).strengths_, abs=1e-12)
    params = np.append(model.strengths_, np.log(model.nu_))
    cells, inverse, _ = _bt.make_cells(i, j, 5)
    a_pinv = centred_inverse(_ppi.information(cells, inverse, params), 5)
    f, y = np.eye(3)[judge], human
    gy = _ppi.scores(i[lab], j[lab], y[lab], params, 5)
    gf_l = _ppi.scores(i[lab], j[lab], f[lab], params, 5)
    gf_u = _ppi.scores(i[~lab], j[~lab], f[~lab], params, 5)
    v_y, c_yf, v_f_l, v_f_u = _ppi.variances(gy, gf_l, gf_u)
    n, big_n = int(lab.sum()), int((~lab).sum())
    expected = _ppi.covariance(a_pinv, v_y, c_yf, v_f_l, v_f_u, lam, n, big_n)
    np.testing.assert_allclose(model.cov_, expected, rtol=1e-9, atol=1e-14)
    # ... and the tuned lambda minimises that same trace.
    tuned = HumanAnchoredBT().fit(i, j, judge, human, clusters=singletons)
    params = np.append(tuned.strengths_, np.log(tuned.nu_))
    a_pinv = centred_inverse(_ppi.information(cells, inverse, params), 5)
    gy = _ppi.scores(i[lab], j[lab], y[lab], params, 5)
    gf_l = _ppi.scores(i[lab], j[lab], f[lab], params, 5)
    gf_u = _ppi.scores(i[~lab], j[~lab], f[~lab], params, 5)
    v_y, c_yf, v_f_l, v_f_u = _ppi.variances(gy, gf_l, gf_u)

    def trace(lam: float) -> float:
        return np.trace(_ppi.covariance(a_pinv, v_y, c_yf, v_f_l, v_f_u, lam, n, big_n)[:5, :5])

    assert 0.0 < tuned.lam_ < 1.0
    assert trace(tuned.lam_) <= min(trace(tuned.lam_ - 1e-3), trace(tuned.lam_ + 1e-3))


def test_clustered_intervals_cover_when_prompts_correlate_battles():
    # Seeded Monte-Carlo: 300 worlds x 5 systems, 80 prompts of 30 battles, 800 labelled. The target is
    # what the fit converges to over the population of prompts. Independent-battle intervals are too
    # narrow (about 0.78 of nominal 0.90 here); clustered ones must land in 0.86-0.94.
    truth = prompt_averaged_strengths(THETA, NU, 1.0)
    hits = {"clustered": [], "independent": []}
    widths = {"clustered": [], "independent": []}
    for seed in range(300):
        i, j, judge, human, prompt = world(2000 + seed)
        for name, clusters in (("clustered", prompt), ("independent", None)):
            low, high = HumanAnchoredBT().fit(i, j, judge, human, clusters=clusters).intervals(0.9)
            hits[name].append((low <= truth) & (truth <= high))
            widths[name].append(high - low)
    assert 0.86 <= np.mean(hits["clustered"]) <= 0.94
    assert np.mean(hits["independent"]) < 0.82
    assert np.mean(widths["clustered"]) > 1.2 * np.mean(widths["independent"])


def test_bad_clusters_are_named():
    i, j, judge, human, prompt = world(3, n_prompts=10, per_prompt=20, n_labelled=60)
    with pytest.raises(InputError, match=r"clusters must hold one label per battle: 200 battles, got shape \(199,\)"):
        HumanAnchoredBT().fit(i, j, judge, human, clusters=prompt[:-1])
    labels = prompt.astype(float)
    labels[[4, 17]] = np.nan
    with pytest.raises(InputError, match=r"2 battle\(s\) without a cluster label") as err:
        HumanAnchoredBT().fit(i, j, judge, human, clusters=labels)
    assert [p.row for p in err.value.problems] == [4, 17]
    assert all(p.column == "clusters" for p in err.value.problems)
    named = prompt.astype(object)
    named[9] = None
    with pytest.raises(InputError, match="row 9"):
        HumanAnchoredBT().fit(i, j, judge, human, clusters=named)
    with pytest.raises(InputError, match="labelled battles from at least 2 clusters"):
        HumanAnchoredBT().fit(i, j, judge, human, clusters=np.zeros(len(i)))


def test_make_battles_prompt_effect_correlates_a_prompts_pairs():
    plain = make_battles(3000, languages=("hi",), n_systems=4, prompts_per_language=30, random_state=5)
    pd.testing.assert_frame_equal(
        make_battles(3000, languages=("hi",), n_systems=4, prompts_per_language=30, random_state=5,
                     prompt_effect=0.0), plain)
    shifted = make_battles(3000, languages=("hi",), n_systems=4, prompts_per_language=30, random_state=5,
                           prompt_effect=1.0)
    same = ["pair_id", "prompt_id", "system_1", "system_2", "rater", "shown"]
    pd.testing.assert_frame_equal(shifted[same], plain[same])  # the same design, other verdicts
    spread = {}
    for name, table in (("plain", plain), ("shifted", shifted)):
        arr = battle_arrays(table, "human")
        model = DavidsonBT().fit(arr.i, arr.j, arr.outcome, n_systems=len(arr.systems))
        by_prompt = model.bootstrap(arr.cluster, n_resamples=300, random_state=1).std(axis=0)
        by_battle = model.bootstrap(None, n_resamples=300, random_state=1).std(axis=0)
        spread[name] = by_prompt / by_battle
    # Pairs of a prompt share its effect: resampling prompts sees far more spread than resampling votes.
    assert (spread["shifted"] > 1.5).all()
    assert (spread["plain"] < 1.4).all()  # without it, only the votes of one pair are alike
    with pytest.raises(ValueError, match="prompt_effect"):
        make_battles(100, prompt_effect=-1.0)


def test_anchored_leaderboard_is_clustered_by_prompt():
    battles = make_battles(3000, languages=("hi",), n_systems=5, prompts_per_language=40, prompt_effect=1.0,
                           random_state=7)
    rng = np.random.default_rng(7)
    keep = set(rng.choice(battles["pair_id"].unique(), 500, replace=False))  # natives voted on 500 pairs
    battles = battles[(battles["rater_kind"] != "human") | battles["pair_id"].isin(keep)]
    boards, _ = language_leaderboards(battles, ("anchored",))
    assert boards["interval"].str.startswith("t (PPI++ clustered by prompt, lambda").all()
    arr = anchored_inputs(battles)
    assert int((~np.isnan(arr.human).any(axis=1)).sum()) == 500
    model = HumanAnchoredBT().fit(arr.i, arr.j, arr.judge, arr.human, clusters=arr.prompt, n_systems=5)
    low, high = model.intervals(0.9)
    board = boards.set_index("system").loc[arr.systems]
    np.testing.assert_allclose(board["ci_low"], low, rtol=1e-12)
    np.testing.assert_allclose(board["ci_high"], high, rtol=1e-12)
    independent = HumanAnchoredBT().fit(arr.i, arr.j, arr.judge, arr.human, n_systems=5)
    assert (model.se_ > 1.1 * independent.se_).all()
    # One prompt for every pair: no spread across prompts to measure; battles are then taken as
    # independent, and the interval says so.
    one = battles.assign(prompt_id="hi-p0")
    boards, _ = language_leaderboards(one, ("anchored",))
    assert boards["interval"].str.startswith("normal (PPI++, battles taken as independent").all()


def test_clustered_intervals_use_t_on_prompts_minus_one():
    battles = make_battles(1200, languages=("hi",), n_systems=5, prompts_per_language=12, prompt_effect=0.5,
                           random_state=2)
    arr = anchored_inputs(battles)
    clustered = HumanAnchoredBT().fit(arr.i, arr.j, arr.judge, arr.human, clusters=arr.prompt, n_systems=5)
    assert clustered.n_clusters_ == 12 and clustered.df_ == 11
    low, high = clustered.intervals(0.9)
    np.testing.assert_allclose((high - low) / 2, stats.t.ppf(0.95, 11) * clustered.se_, rtol=1e-12)
    plain = HumanAnchoredBT().fit(arr.i, arr.j, arr.judge, arr.human, n_systems=5)
    assert plain.df_ is None
    low, high = plain.intervals(0.9)
    np.testing.assert_allclose((high - low) / 2, stats.norm.ppf(0.95) * plain.se_, rtol=1e-12)
    # With 12 prompts t is 8 % wider than normal: the shown leaderboard carries it.
    board = language_leaderboards(battles, ("anchored",))[0].set_index("system").loc[arr.systems]
    np.testing.assert_allclose(board["ci_high"] - board["ci_low"], 2 * stats.t.ppf(0.95, 11) * clustered.se_,
                               rtol=1e-12)

"""Human-anchored (PPI++) Davidson strengths: limiting cases, coverage, effective sample size, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from judgecal.errors import ConfigError, InputError
from judgecal.pairwise.leaderboard import DavidsonBT, HumanAnchoredBT
from tests.pairwise._battle_sim import judged_world, random_battles

THETA = np.array([-0.9, -0.4, 0.0, 0.5, 0.8])


def world(seed: int, *, n: int = 4000, n_labelled: int = 300, agreement: float = 0.6):
    """Natives follow Davidson(THETA, 0.6); the judge repeats the native outcome with
    probability ``agreement`` and otherwise answers from its own, distorted model
    (stretched strengths, a system it overrates, few ties)."""
    rng = np.random.default_rng(seed)
    m = len(THETA)
    i, j = random_battles(rng, m, n)
    judge, human = judged_world(rng, THETA, 0.6, i, j, agreement=agreement, n_labelled=n_labelled)
    return i, j, judge, human, m


def test_lambda_zero_is_the_human_only_fit():
    i, j, judge, human, m = world(0)
    lab = ~np.isnan(human).any(axis=1)
    anchored = HumanAnchoredBT(lam=0.0).fit(i, j, judge, human)
    human_only = DavidsonBT().fit(i[lab], j[lab], human[lab], n_systems=m)
    assert anchored.strengths_ == pytest.approx(human_only.strengths_, abs=1e-7)
    assert anchored.nu_ == pytest.approx(human_only.nu_, rel=1e-6)
    assert anchored.ess_gain_ == pytest.approx(1.0)


def test_lambda_one_with_a_perfect_judge_is_the_judge_fit_on_unlabelled_battles():
    i, j, judge, human, m = world(1)
    lab = ~np.isnan(human).any(axis=1)
    human[lab] = np.eye(3)[judge[lab]]  # natives said exactly what the judge said
    anchored = HumanAnchoredBT(lam=1.0).fit(i, j, judge, human)
    judge_only = DavidsonBT().fit(i[~lab], j[~lab], judge[~lab], n_systems=m)
    assert anchored.strengths_ == pytest.approx(judge_only.strengths_, abs=1e-7)


def test_intervals_cover_true_strengths_and_beat_human_only():
    # Seeded Monte-Carlo: 120 worlds x 5 systems; target 87-93 % for 90 % intervals.
    hits, gains, biased = [], [], []
    for seed in range(120):
        i, j, judge, human, m = world(1000 + seed)
        model = HumanAnchoredBT().fit(i, j, judge, human)
        low, high = model.intervals(0.9)
        hits.append((low <= THETA - THETA.mean()) & (THETA - THETA.mean() <= high))
        gains.append(model.ess_gain_)
        assert 0.0 <= model.lam_ <= 1.0
        raw = DavidsonBT().fit(i, j, judge)
        biased.append(raw.strengths_[1] - (THETA[1] - THETA.mean()))
    assert 0.87 <= np.mean(hits) <= 0.93
    # The judge alone is biased for system 1; anchoring removes it while using the judge.
    assert np.mean(biased) > 0.1
    assert np.median(gains) > 1.3


def test_a_useless_judge_gets_little_weight():
    rng = np.random.default_rng(5)
    i, j, _, human, m = world(5)
    noise = rng.integers(0, 3, size=len(i))  # verdicts unrelated to anything
    model = HumanAnchoredBT().fit(i, j, noise, human)
    assert model.lam_ < 0.2
    assert model.ess_gain_ == pytest.approx(1.0, abs=0.1)


def test_bad_input():
    i, j, judge, human, m = world(2, n=200, n_labelled=20)
    with pytest.raises(InputError, match="at least 2 labelled battles"):
        HumanAnchoredBT().fit(i, j, judge, np.full((len(i), 3), np.nan))
    broken = human.copy()
    row = int(np.flatnonzero(~np.isnan(human).any(axis=1))[0])
    broken[row, 1] = np.nan
    with pytest.raises(InputError, match=f"row {row}.*missing probabilities"):
        HumanAnchoredBT().fit(i, j, judge, broken)
    with pytest.raises(InputError, match="unknown judge code"):
        HumanAnchoredBT().fit(i, j, np.where(np.arange(len(i)) == 3, 5, judge), human)
    with pytest.raises(ConfigError, match="lam"):
        HumanAnchoredBT(lam=1.5).fit(i, j, judge, human)

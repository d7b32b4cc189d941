"""Davidson Bradley-Terry: worked examples, a direct scipy maximisation, bad input, bootstrap coverage."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from judgecal.errors import CalibratorError, InputError
from judgecal.pairwise.leaderboard import (
    DavidsonBT,
    kendall_tau,
    leaderboard_table,
    length_covariate,
    rank_ranges,
)
from tests.pairwise._battle_sim import davidson_probs, draw_outcomes, random_battles


def direct_nll(params, i, j, y, m, x=None, ties=True):
    """Minus log-likelihood written from the textbook form pi_i / (pi_i + pi_j + nu sqrt(pi_i pi_j))."""
    theta = np.concatenate([[0.0], params[: m - 1]])
    nu = np.exp(params[m - 1]) if ties else 0.0
    log_pi_i, log_pi_j = theta[i], theta[j]
    if x is not None:
        log_pi_i = log_pi_i + params[-1] * x
    pi_i, pi_j = np.exp(log_pi_i), np.exp(log_pi_j)
    den = pi_i + pi_j + nu * np.sqrt(pi_i * pi_j)
    p = np.column_stack([pi_i / den, nu * np.sqrt(pi_i * pi_j) / den, pi_j / den])
    if not ties:  # plain Bradley-Terry: a tie is half a win each way
        p = np.column_stack([pi_i / (pi_i + pi_j), np.sqrt(pi_i * pi_j / (pi_i + pi_j) ** 2), pi_j / (pi_i + pi_j)])
        y = np.column_stack([y[:, 0] + y[:, 1] / 2, np.zeros(len(y)), y[:, 2] + y[:, 1] / 2])
    return -(y * np.log(p)).sum()


def direct_fit(i, j, y, m, x=None, ties=True):
    k = m - 1 + int(ties) + int(x is not None)
    res = optimize.minimize(direct_nll, np.zeros(k), args=(i, j, y, m, x, ties), method="BFGS",
                            options={"gtol": 1e-9, "maxiter": 5000})
    theta = np.concatenate([[0.0], res.x[: m - 1]])
    return theta - theta.mean(), (np.exp(res.x[m - 1]) if ties else 0.0), res.x[-1]


def test_two_systems_by_hand():
    # 6 wins, 2 ties, 2 losses: the model is saturated, so P = (0.6, 0.2, 0.2) exactly:
    # pi_0 / pi_1 = 6 / 2 and nu = P(tie) / sqrt(P(win) P(loss)) = 2 / sqrt(12).
    i, j = np.zeros(10, int), np.ones(10, int)
    outcome = np.array([0] * 6 + [1] * 2 + [2] * 2)
    model = DavidsonBT().fit(i, j, outcome)
    assert model.strengths_ == pytest.approx([np.log(3) / 2, -np.log(3) / 2], abs=1e-9)
    assert model.nu_ == pytest.approx(2 / np.sqrt(12), rel=1e-9)
    assert model.predict_proba([0], [1])[0] == pytest.approx([0.6, 0.2, 0.2], abs=1e-9)
    # Swapping which side a battle is written from changes nothing.
    swapped = DavidsonBT().fit(j, i, 2 - outcome)
    assert swapped.strengths_ == pytest.approx(model.strengths_, abs=1e-9)


@pytest.mark.parametrize("covariate", [False, True])
@pytest.mark.parametrize("ties", [True, False])
def test_equals_direct_scipy_maximisation(covariate, ties):
    rng = np.random.default_rng(3)
    m, n = 5, 600
    i, j = random_battles(rng, m, n)
    theta = np.linspace(-0.8, 0.8, m)
    x = rng.normal(size=n) if covariate else None
    outcome = draw_outcomes(rng, davidson_probs(theta, 0.5, i, j, x=x, beta=0.4))
    y = np.eye(3)[outcome]
    model = DavidsonBT(ties=ties).fit(i, j, outcome, length_diff=x, n_systems=m)
    theta_ref, nu_ref, beta_ref = direct_fit(i, j, y, m, x, ties)
    assert model.strengths_ == pytest.approx(theta_ref, abs=1e-5)
    assert model.nu_ == pytest.approx(nu_ref, abs=1e-5)
    if covariate:
        assert model.length_coef_ == pytest.approx(beta_ref, abs=1e-5)


def test_probability_rows_equal_weighted_codes():
    rng = np.random.default_rng(4)
    m, n = 4, 300
    i, j = random_battles(rng, m, n)
    probs = rng.dirichlet([2, 1, 2], size=n)
    soft = DavidsonBT().fit(i, j, probs)
    expanded = DavidsonBT().fit(np.repeat(i, 3), np.repeat(j, 3), np.tile([0, 1, 2], n), weights=probs.ravel())
    assert soft.strengths_ == pytest.approx(expanded.strengths_, abs=1e-8)
    assert soft.nu_ == pytest.approx(expanded.nu_, abs=1e-8)
    # Integer weights are frequency weights: same as repeating the battles.
    w = rng.integers(1, 4, size=n)
    weighted = DavidsonBT().fit(i, j, probs, weights=w)
    repeated = DavidsonBT().fit(np.repeat(i, w), np.repeat(j, w), np.repeat(probs, w, axis=0))
    assert weighted.strengths_ == pytest.approx(repeated.strengths_, abs=1e-8)
    assert weighted.se_ == pytest.approx(repeated.se_, rel=1e-6)


def test_standard_errors_match_the_spread_of_refits():
    # Model-based SE from the observed information vs the spread over independent samples.
    m, n = 5, 2000
    theta = np.linspace(-1, 1, m)
    fits, ses = [], []
    for seed in range(60):
        rng = np.random.default_rng(100 + seed)
        i, j = random_battles(rng, m, n)
        model = DavidsonBT().fit(i, j, draw_outcomes(rng, davidson_probs(theta, 0.7, i, j)))
        fits.append(model.strengths_)
        ses.append(model.se_)
    assert np.std(fits, axis=0, ddof=1) == pytest.approx(np.mean(ses, axis=0), rel=0.25)


def test_bootstrap_intervals_cover_true_strengths():
    # Seeded Monte-Carlo: 90 % percentile intervals over 60 data sets x 5 systems.
    m, n = 5, 1500
    theta = np.linspace(-1, 1, m)
    theta -= theta.mean()
    hits = []
    for seed in range(60):
        rng = np.random.default_rng(seed)
        i, j = random_battles(rng, m, n)
        model = DavidsonBT().fit(i, j, draw_outcomes(rng, davidson_probs(theta, 0.5, i, j)))
        samples = model.bootstrap(n_resamples=300, random_state=seed)
        low, high = np.quantile(samples, [0.05, 0.95], axis=0)
        hits.append((low <= theta) & (theta <= high))
    assert 0.85 <= np.mean(hits) <= 0.95


def test_clustered_bootstrap_widens_for_correlated_prompts():
    # Battles of one prompt share a prompt-specific shift of the strengths: the prompt
    # bootstrap must see more spread than the battle bootstrap.
    rng = np.random.default_rng(7)
    m, n_prompts, per = 4, 40, 50
    theta = np.linspace(-0.5, 0.5, m)
    i, j = random_battles(rng, m, n_prompts * per)
    prompt = np.repeat(np.arange(n_prompts), per)
    shift = rng.normal(0, 0.8, size=(n_prompts, m))[prompt]
    probs = davidson_probs(theta, 0.4, i, j, shift=shift)
    model = DavidsonBT().fit(i, j, draw_outcomes(rng, probs))
    by_prompt = model.bootstrap(prompt, n_resamples=400, random_state=1).std(axis=0)
    by_battle = model.bootstrap(None, n_resamples=400, random_state=1).std(axis=0)
    assert (by_prompt > 1.3 * by_battle).all()
    # One cluster per battle is the battle bootstrap (same distribution, different draws).
    per_battle = model.bootstrap(np.arange(len(i)), n_resamples=400, random_state=2).std(axis=0)
    assert per_battle == pytest.approx(by_battle, rel=0.2)


def test_unbounded_strengths_are_refused_and_alpha_fixes_them():
    i = np.array([0, 0, 1, 1, 2, 2])
    j = np.array([1, 2, 2, 0, 0, 1])
    outcome = np.array([0, 0, 0, 2, 2, 1])  # system 0 never loses or ties
    with pytest.raises(InputError, match="alpha > 0"):
        DavidsonBT().fit(i, j, outcome)
    model = DavidsonBT(alpha=0.5).fit(i, j, outcome)
    assert np.isfinite(model.strengths_).all() and model.strengths_.argmax() == 0
    with pytest.raises(InputError, match="never met"):
        DavidsonBT().fit([0, 1, 2, 3], [1, 0, 3, 2], [0, 2, 0, 2])


def test_bad_battles_list_every_problem():
    with pytest.raises(InputError) as err:
        DavidsonBT().fit([0, 1, 2, 2], [1, 1, 0, 3], [0, 7, 1, 2], n_systems=3)
    text = str(err.value)
    assert "plays itself" in text and "row 1" in text
    assert "outside 0..2" in text and "row 3" in text
    with pytest.raises(InputError) as err:
        DavidsonBT().fit([0, 1, 0], [1, 0, 1], [0, 7, 3])
    assert "unknown outcome code" in str(err.value) and "row 1" in str(err.value) and "row 2" in str(err.value)
    with pytest.raises(InputError, match="do not sum to 1"):
        DavidsonBT().fit([0, 1], [1, 0], [[0.5, 0.5, 0.5], [1, 0, 0]])
    with pytest.raises(InputError, match="weight"):
        DavidsonBT().fit([0, 1], [1, 0], [0, 2], weights=[1, -1])
    with pytest.raises(InputError, match="every battle is a tie"):
        DavidsonBT().fit([0, 1], [1, 0], [1, 1])
    with pytest.raises(CalibratorError, match="not fitted"):
        DavidsonBT().predict_proba([0], [1])
    with pytest.raises(InputError, match=">= 0"):
        length_covariate([10, -1], [5, 5])
    assert length_covariate([0, 9], [0, 0]) == pytest.approx([0.0, np.log(10)])


def test_length_control_recovers_the_length_effect():
    rng = np.random.default_rng(11)
    m, n = 4, 8000
    i, j = random_battles(rng, m, n)
    theta = np.array([0.3, 0.1, -0.1, -0.3])
    lengths = rng.integers(50, 800, size=(n, 2))
    # System 3 writes twice as long: without control it climbs; with control it is put back.
    lengths[j == 3, 1] *= 2
    lengths[i == 3, 0] *= 2
    x = length_covariate(lengths[:, 0], lengths[:, 1])
    outcome = draw_outcomes(rng, davidson_probs(theta, 0.5, i, j, x=x, beta=0.8))
    plain = DavidsonBT().fit(i, j, outcome)
    controlled = DavidsonBT().fit(i, j, outcome, length_diff=x)
    assert controlled.length_coef_ == pytest.approx(0.8, abs=0.1)
    assert abs(controlled.strengths_[3] - (-0.3)) < 0.1 < abs(plain.strengths_[3] - (-0.3))


def test_rank_ranges_table_and_tau():
    samples = np.array([[3.0, 2.0, 1.0], [3.0, 1.0, 2.0], [3.0, 2.0, 1.0], [3.0, 1.0, 2.0]])
    best, worst = rank_ranges(samples, confidence=0.9)
    assert best.tolist() == [1, 2, 2] and worst.tolist() == [1, 3, 3]
    table = leaderboard_table(np.array([0.1, 0.5, -0.6]), names=["a", "b", "c"], se=np.array([0.1, 0.1, 0.1]))
    assert table["system"].tolist() == ["b", "a", "c"]
    assert table["rank_best"].tolist() == [1, 2, 3] and table["rank_worst"].tolist() == [1, 2, 3]
    wide = leaderboard_table(np.array([0.1, 0.2, -0.6]), se=np.array([0.2, 0.2, 0.01]))
    assert wide["rank_best"].tolist() == [1, 1, 3] and wide["rank_worst"].tolist() == [2, 2, 3]
    assert kendall_tau([1, 2, 3], [1, 2, 3]) == pytest.approx(1.0)
    assert kendall_tau([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    # tau-b with a tie in one ranking: 2 concordant, 0 discordant, 1 tied pair -> 2 / sqrt(3 * 2).
    assert kendall_tau([1, 2, 3], [1, 2, 2]) == pytest.approx(2 / np.sqrt(6))
    assert kendall_tau([1, np.nan, 3], [1, 5, 3]) == pytest.approx(1.0)

"""The tests behind drift checks: worked examples with known p-values, and seeded
Monte-Carlo checks of their size and power."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from judgecal.calibration._fit.drift_stats import (
    benjamini_hochberg,
    g_test_counts,
    holm,
    sign_test,
    total_variation,
)


def test_g_test_worked_example():
    # Table [[10, 20, 30], [30, 20, 10]]: every expected count is 20, so
    # G = 2 * 2 * (10 ln(1/2) + 20 ln 1 + 30 ln(3/2)) and, with 2 degrees of
    # freedom, the chi-square tail is exp(-G / 2).
    g, p, method = g_test_counts([10, 20, 30], [30, 20, 10])
    expected_g = 4 * (10 * math.log(0.5) + 30 * math.log(1.5))
    assert method == "chi-square"
    assert g == pytest.approx(expected_g, rel=1e-12)
    assert g == pytest.approx(20.9299, abs=1e-4)
    # Williams' correction: q = 1 + (120 (1/60 + 1/60) - 1)(120 (3/40) - 1) / (6 * 120 * 2) = 1 + 3 * 8 / 1440.
    q = 1 + 24 / 1440
    assert p == pytest.approx(math.exp(-expected_g / q / 2), rel=1e-9)
    # Without the correction it is scipy's log-likelihood-ratio contingency test.
    ref = stats.chi2_contingency([[10, 20, 30], [30, 20, 10]], lambda_="log-likelihood", correction=False)
    assert ref.pvalue == pytest.approx(math.exp(-expected_g / 2), rel=1e-9) and ref.pvalue < p


def test_g_test_identical_distributions_give_p_one():
    g, p, _ = g_test_counts([20, 40, 60], [10, 20, 30])
    assert g == pytest.approx(0.0, abs=1e-12) and p == pytest.approx(1.0)


def test_g_test_levels_unused_by_both_samples_do_not_count_as_freedom():
    # The empty middle level is dropped: 1 degree of freedom, as for [[10, 30], [30, 10]].
    _, p3, _ = g_test_counts([10, 0, 30], [30, 0, 10])
    _, p2, _ = g_test_counts([10, 30], [30, 10])
    assert p3 == pytest.approx(p2)


def test_g_test_degenerate_inputs_are_not_tests():
    assert g_test_counts([0, 0, 0], [1, 2, 3]) == (0.0, 1.0, "degenerate")
    assert g_test_counts([0, 0, 5], [0, 0, 9]) == (0.0, 1.0, "degenerate")


def _exact_conditional_p(ref, new):
    """Exact permutation p-value: sum of hypergeometric probabilities of every table with the
    same margins whose G is at least the observed one."""
    ref, new = np.asarray(ref), np.asarray(new)
    cols = ref + new
    n_ref = int(ref.sum())
    from judgecal.calibration._fit.drift_stats import _g_statistic

    g_obs = _g_statistic(np.vstack([ref, new]))
    dist = stats.multivariate_hypergeom(m=cols, n=n_ref)
    total = 0.0
    for a in range(cols[0] + 1):
        for b in range(cols[1] + 1):
            c = n_ref - a - b
            if 0 <= c <= cols[2]:
                x = np.array([a, b, c])
                if _g_statistic(np.vstack([x, cols - x])) >= g_obs - 1e-9:
                    total += dist.pmf(x)
    return total


def test_permutation_p_value_matches_the_exact_one_for_small_counts():
    ref, new = [1, 0, 6], [0, 4, 2]
    g, p, method = g_test_counts(ref, new, random_state=3, n_permutations=20000)
    exact = _exact_conditional_p(ref, new)
    assert method == "permutation"
    se = math.sqrt(exact * (1 - exact) / 20000)
    assert abs(p - exact) < 4 * se + 1e-4, (p, exact)
    assert 0.001 < exact < 0.2  # a case where the approximation matters


def test_permutation_is_seeded():
    assert g_test_counts([1, 2, 3], [3, 1, 0], random_state=7) == g_test_counts([1, 2, 3], [3, 1, 0], random_state=7)


def test_sign_test_worked_example():
    # 9 up, 1 down, 2 unchanged: two-sided p = 2 * P(X >= 9 | n=10, 1/2) = 2 * 11 / 1024.
    up, down, p = sign_test([1, 1, 1, 2, 1, 1, 1, 1, 1, -1, 0, 0])
    assert (up, down) == (9, 1)
    assert p == pytest.approx(22 / 1024)
    assert sign_test([0, 0, 0]) == (0, 0, 1.0)


def test_holm_and_bh_worked_examples():
    p = np.array([0.01, 0.04, 0.03, np.nan])
    np.testing.assert_allclose(holm(p)[:3], [0.03, 0.06, 0.06])
    np.testing.assert_allclose(benjamini_hochberg(p)[:3], [0.03, 0.04, 0.04])
    assert np.isnan(holm(p)[3]) and np.isnan(benjamini_hochberg(p)[3])
    assert holm(np.array([0.9, 0.8])).max() <= 1.0


def test_total_variation():
    assert total_variation([1, 1, 2], [1, 1, 2]) == 0.0
    assert total_variation([10, 0], [0, 3]) == 1.0
    assert math.isnan(total_variation([0, 0], [1, 2]))


def test_g_test_size_and_power_monte_carlo():
    """300 seeded draws: rejection rate at 0.05 near 5 % under the null, high under a +0.3 shift."""
    rng = np.random.default_rng(11)
    p0 = np.array([0.2, 0.2, 0.6])
    p1 = np.array([0.08, 0.12, 0.8])  # mean 1.4 -> 1.72
    null = [g_test_counts(rng.multinomial(200, p0), rng.multinomial(150, p0))[1] for _ in range(300)]
    alt = [g_test_counts(rng.multinomial(200, p0), rng.multinomial(150, p1))[1] for _ in range(300)]
    size = np.mean(np.array(null) <= 0.05)
    power = np.mean(np.array(alt) <= 0.05)
    assert 0.01 <= size <= 0.09, size
    assert power >= 0.9, power


def test_holm_controls_the_family_wise_error_over_thirty_null_tests():
    # 400 families of 30 null tests: the rate of any flag is 5 % +- 1.1 % (one standard error).
    rng = np.random.default_rng(5)
    p0 = np.array([0.3, 0.7])
    any_flag = []
    for _ in range(400):
        ps = np.array([g_test_counts(rng.multinomial(100, p0), rng.multinomial(100, p0))[1] for _ in range(30)])
        any_flag.append((holm(ps) <= 0.05).any())
    assert np.mean(any_flag) <= 0.085


def test_sign_test_size_and_power_monte_carlo():
    rng = np.random.default_rng(2)
    null = [sign_test(rng.choice([-1, 0, 0, 0, 1], size=40))[2] for _ in range(400)]
    alt = [sign_test(rng.choice([-1, 0, 1, 1, 1], size=40))[2] for _ in range(400)]
    assert np.mean(np.array(null) <= 0.05) <= 0.06
    assert np.mean(np.array(alt) <= 0.05) >= 0.7  # 60 % up, 20 % down on 40 anchors: about 0.8

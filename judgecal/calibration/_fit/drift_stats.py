"""The tests behind judge-drift checks: small vectorised functions on level counts.

* :func:`g_test_counts` — is a new sample's level distribution the same as the
  reference one? A two-sample G-test (likelihood-ratio test of homogeneity on the
  2 x K table of level counts, chi-square reference with K' - 1 degrees of freedom,
  K' = levels seen in either sample) with Williams' correction (G divided by
  q = 1 + (N sum 1/rows - 1)(N sum 1/cols - 1) / (6 N (K' - 1)); without it the
  chi-square tail is too light at the small Holm thresholds). When some expected cell count is below 5 the
  chi-square approximation is poor, so the p-value comes from a seeded Monte-Carlo
  permutation test instead (the same statistic on tables drawn with both margins
  fixed: multivariate hypergeometric draws), with the (b + 1) / (B + 1) estimate.
* :func:`sign_test` — did the judge change its score on identical items? The exact
  two-sided sign test on the paired differences (ties dropped), which needs no
  assumption about the spacing of the levels.
* :func:`holm` and :func:`benjamini_hochberg` — multiplicity control across the
  (language, metric) tests of one check. Drift uses Holm (family-wise error), so a
  flag on any language is an error of the whole check at most ``alpha`` of the time.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

MIN_EXPECTED = 5.0  # below this expected count the chi-square reference is not trusted
N_PERMUTATIONS = 2000


def _g_statistic(table: np.ndarray) -> np.ndarray:
    """G = 2 sum O log(O / E) of 2 x K tables, shape (..., 2, K) -> (...)."""
    table = np.asarray(table, dtype=float)
    rows = table.sum(axis=-1, keepdims=True)
    cols = table.sum(axis=-2, keepdims=True)
    total = rows.sum(axis=-2, keepdims=True)
    expected = rows * cols / np.where(total > 0, total, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(table > 0, table * np.log(table / expected), 0.0)
    return 2.0 * terms.sum(axis=(-2, -1))


def g_test_counts(reference: np.ndarray, new: np.ndarray, *, random_state: int = 0,
                  n_permutations: int = N_PERMUTATIONS) -> tuple[float, float, str]:
    """Two-sample G-test of homogeneity of level counts.

    reference, new : level counts, shape (K,), on the same levels.
    Returns (G statistic (uncorrected), p-value, method) where method is 'chi-square' or
    'permutation' (some expected count below 5). Either sample empty, or a
    single level seen in both: (0.0, 1.0, 'degenerate') — nothing to test.
    """
    table = np.vstack([np.asarray(reference, float), np.asarray(new, float)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0, "degenerate"
    g = float(_g_statistic(table))
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    n, k = table.sum(), table.shape[1]
    expected = np.outer(rows, cols) / n
    if expected.min() >= MIN_EXPECTED:
        q = 1.0 + (n * np.sum(1.0 / rows) - 1.0) * (n * np.sum(1.0 / cols) - 1.0) / (6.0 * n * (k - 1))
        return g, float(stats.chi2.sf(g / q, k - 1)), "chi-square"
    rng = np.random.default_rng(random_state)
    # Permutation: the reference row of a random table with both margins fixed is a
    # multivariate hypergeometric draw of rows[0] items from the pooled counts.
    ref_draws = rng.multivariate_hypergeometric(cols.astype(np.int64), int(rows[0]), size=n_permutations)
    draws = np.stack([ref_draws, cols[None, :] - ref_draws], axis=1)
    g_null = _g_statistic(draws)
    exceed = int(np.sum(g_null >= g - 1e-9))
    return g, (exceed + 1) / (n_permutations + 1), "permutation"


def sign_test(differences: np.ndarray) -> tuple[int, int, float]:
    """Exact two-sided sign test of paired differences, shape (n,).

    Returns (number up, number down, p-value); zero differences are dropped
    (p = 1 when every difference is zero).
    """
    d = np.asarray(differences, dtype=float)
    up, down = int(np.sum(d > 0)), int(np.sum(d < 0))
    if up + down == 0:
        return 0, 0, 1.0
    return up, down, float(stats.binomtest(up, up + down, 0.5).pvalue)


def _sorted_tested(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(p-values as floats (m,), positions of the tested ones (not NaN) in increasing p order)."""
    p = np.asarray(p, dtype=float)
    ok = np.flatnonzero(~np.isnan(p))
    return p, ok[np.argsort(p[ok], kind="stable")]


def holm(pvalues: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values, shape (m,) -> (m,); NaN (not tested) stays NaN."""
    p, order = _sorted_tested(pvalues)
    out = np.full(p.shape, np.nan)
    m = len(order)
    if m:
        out[order] = np.minimum(np.maximum.accumulate((m - np.arange(m)) * p[order]), 1.0)
    return out


def benjamini_hochberg(pvalues: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (false discovery rate), shape (m,) -> (m,); NaN stays NaN."""
    p, order = _sorted_tested(pvalues)
    out = np.full(p.shape, np.nan)
    m = len(order)
    if m:
        scaled = p[order] * m / np.arange(1, m + 1)
        out[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return out


ADJUST = {"holm": holm, "bh": benjamini_hochberg}


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """Total variation distance between two level distributions given as counts, shape (K,)."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    if p.sum() == 0 or q.sum() == 0:
        return float("nan")
    return float(0.5 * np.abs(p / p.sum() - q / q.sum()).sum())

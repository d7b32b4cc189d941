"""Agreement statistics as functions of item weights, vectorised over resamples.

Every ``*_w`` function takes per-pattern data (``K`` distinct item patterns,
see :mod:`judgecal.analysis.resample`) and a weight matrix ``W`` of shape
``(B, K)`` (how many times each pattern occurs in each of ``B`` samples) and
returns shape ``(B,)``. With ``W = counts[None, :]`` they give the statistic
of the observed data, identical to the usual formulas on the expanded data
(tests check each against scipy, scikit-learn or the ``krippendorff`` package).

Undefined values (no variance, no pairable unit) are NaN, never 0.
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-12


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    ok = np.abs(den) > _EPS
    np.divide(num, den, out=out, where=ok)
    return out


# --- Krippendorff's alpha -------------------------------------------------------

def unit_coincidences(value_counts: np.ndarray) -> np.ndarray:
    """Each unit's contribution to the coincidence matrix.

    value_counts : shape (K, V), raters giving each level to each unit.
    Returns shape (K, V * V): ``(n_c n_k - [c == k] n_c) / (m - 1)``, zero for
    units with fewer than two ratings (they cannot be paired).
    """
    vc = np.asarray(value_counts, dtype=float)
    k, v = vc.shape
    m = vc.sum(axis=1)
    outer = vc[:, :, None] * vc[:, None, :] - vc[:, :, None] * np.eye(v)[None]
    scale = _safe_div(np.ones_like(m), np.maximum(m, 2) - 1)
    return (outer * scale[:, None, None]).reshape(k, v * v)


def alpha_w(
    coincidences: np.ndarray,
    weights: np.ndarray,
    values: np.ndarray,
    level: str = "ordinal",
) -> np.ndarray:
    """Krippendorff's alpha for each row of ``weights``.

    coincidences : shape (K, V*V), from :func:`unit_coincidences`
    weights : shape (B, K)
    values : shape (V,), the level values in increasing order
    level : ``nominal``, ``ordinal``, ``interval`` or ``ratio``; distances as in
        Krippendorff (2011) and the ``krippendorff`` package (the ordinal
        distance uses the resample's own marginal frequencies).
    """
    values = np.asarray(values, dtype=float)
    v = len(values)
    o = (np.asarray(weights, dtype=float) @ coincidences).reshape(-1, v, v)
    n_v = o.sum(axis=1)  # (B, V)
    n = n_v.sum(axis=1)  # (B,)
    e = (n_v[:, :, None] * n_v[:, None, :] - n_v[:, :, None] * np.eye(v)[None]) / np.maximum(n - 1, _EPS)[:, None, None]
    d = _distances(values, level, n_v)
    return 1.0 - _safe_div((o * d).sum(axis=(1, 2)), (e * d).sum(axis=(1, 2)))


def _distances(values: np.ndarray, level: str, n_v: np.ndarray) -> np.ndarray:
    """Squared distances between levels; shape (V, V) or (B, V, V) for ordinal."""
    a, b = values[:, None], values[None, :]
    if level == "nominal":
        return (a != b).astype(float)[None]
    if level == "interval":
        return ((a - b) ** 2)[None]
    if level == "ratio":
        total = a + b
        ratio = np.divide(a - b, total, out=np.zeros(total.shape), where=total != 0)
        return (ratio**2)[None]
    if level == "ordinal":
        v = len(values)
        cum = np.concatenate([np.zeros((n_v.shape[0], 1)), np.cumsum(n_v, axis=1)], axis=1)
        i = np.arange(v)
        lo, hi = np.minimum(i[:, None], i[None, :]), np.maximum(i[:, None], i[None, :])
        between = cum[:, hi + 1] - cum[:, lo]  # sum of n_g for g in [lo, hi]
        half = (n_v[:, :, None] + n_v[:, None, :]) / 2.0
        return (between - half) ** 2
    raise ValueError(f"unknown level of measurement {level!r}")


# --- judge vs reference on a categorical scale ------------------------------------

def confusion_w(x_idx: np.ndarray, y_idx: np.ndarray, weights: np.ndarray, n_levels: int) -> np.ndarray:
    """Weighted confusion matrices, shape (B, V, V); rows = x level, columns = y level.

    x_idx, y_idx : shape (K,), level indices 0..V-1 of each pattern.
    """
    cell = np.asarray(x_idx, dtype=np.int64) * n_levels + np.asarray(y_idx, dtype=np.int64)
    onehot = np.zeros((len(cell), n_levels * n_levels))
    onehot[np.arange(len(cell)), cell] = 1.0
    return (np.asarray(weights, dtype=float) @ onehot).reshape(-1, n_levels, n_levels)


def cohen_kappa_w(confusion: np.ndarray, weighting: str | None = "quadratic") -> np.ndarray:
    """Cohen's kappa from confusion matrices (B, V, V); ``weighting`` None, linear or quadratic."""
    c = np.asarray(confusion, dtype=float)
    v = c.shape[-1]
    i = np.arange(v)
    if weighting is None:
        dis = (i[:, None] != i[None, :]).astype(float)
    elif weighting == "linear":
        dis = np.abs(i[:, None] - i[None, :]).astype(float)
    elif weighting == "quadratic":
        dis = ((i[:, None] - i[None, :]) ** 2).astype(float)
    else:
        raise ValueError(f"weighting must be None, 'linear' or 'quadratic', not {weighting!r}")
    total = c.sum(axis=(1, 2))
    expected = c.sum(axis=2)[:, :, None] * c.sum(axis=1)[:, None, :] / np.maximum(total, _EPS)[:, None, None]
    return 1.0 - _safe_div((c * dis).sum(axis=(1, 2)), (expected * dis).sum(axis=(1, 2)))


def percent_agreement_w(confusion: np.ndarray) -> np.ndarray:
    """Share of items where both give the same level, shape (B,)."""
    c = np.asarray(confusion, dtype=float)
    return _safe_div(np.trace(c, axis1=1, axis2=2), c.sum(axis=(1, 2)))


def weighted_f1_w(confusion: np.ndarray) -> np.ndarray:
    """Support-weighted F1 with rows = reference (truth), columns = prediction.

    Classes with no predictions or no support count F1 = 0, as scikit-learn's
    ``f1_score(average='weighted', zero_division=0)``.
    """
    c = np.asarray(confusion, dtype=float)
    tp = np.diagonal(c, axis1=1, axis2=2)
    support = c.sum(axis=2)
    predicted = c.sum(axis=1)
    denom = support + predicted
    f1 = np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1.0), 0.0)
    return _safe_div((f1 * support).sum(axis=1), support.sum(axis=1))


# --- rank correlations and means -----------------------------------------------------

def _weighted_midranks(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Average ranks (1-based, ties averaged) of each pattern's x value per resample, (B, K)."""
    uniq, inv = np.unique(np.asarray(x, dtype=float), return_inverse=True)
    onehot = np.zeros((len(x), len(uniq)))
    onehot[np.arange(len(x)), inv] = 1.0
    per_value = weights @ onehot  # (B, U): items holding each value
    below = np.cumsum(per_value, axis=1) - per_value
    mid = below + (per_value + 1.0) / 2.0
    return mid[:, inv]


def _weighted_corr(a: np.ndarray, b: np.ndarray, weights: np.ndarray) -> np.ndarray:
    w = weights
    n = w.sum(axis=1, keepdims=True)
    ma = (w * a).sum(axis=1, keepdims=True) / n
    mb = (w * b).sum(axis=1, keepdims=True) / n
    cov = (w * (a - ma) * (b - mb)).sum(axis=1)
    va = (w * (a - ma) ** 2).sum(axis=1)
    vb = (w * (b - mb) ** 2).sum(axis=1)
    return _safe_div(cov, np.sqrt(va * vb))


def spearman_w(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Spearman's rho (Pearson on average ranks) per resample, shape (B,)."""
    w = np.asarray(weights, dtype=float)
    return _weighted_corr(_weighted_midranks(x, w), _weighted_midranks(y, w), w)


def pearson_w(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Pearson's r per resample, shape (B,); x, y : shape (K,), weights : shape (B, K)."""
    w = np.asarray(weights, dtype=float)
    return _weighted_corr(np.asarray(x, float)[None], np.asarray(y, float)[None], w)


# Above this many patterns the (K, K) sign matrices are built in column blocks.
_KENDALL_BLOCK = 2048


def kendall_tau_b_w(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Kendall's tau-b per resample, shape (B,).

    With weights ``w`` over patterns: ``sum_ij w_i w_j sx_ij sy_ij`` over
    ``sqrt(sum w_i w_j |sx_ij| * sum w_i w_j |sy_ij|)``, where ``sx_ij`` is the
    sign of ``x_i - x_j``. Cost is O(B K^2); patterns (not items) keep K small
    for scored scales.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.asarray(weights, dtype=float)
    k = len(x)
    num = np.zeros(w.shape[0])
    tx = np.zeros(w.shape[0])
    ty = np.zeros(w.shape[0])
    for start in range(0, k, _KENDALL_BLOCK):
        sl = slice(start, min(k, start + _KENDALL_BLOCK))
        sx = np.sign(x[:, None] - x[None, sl])
        sy = np.sign(y[:, None] - y[None, sl])
        wb = w[:, sl]
        num += ((w @ (sx * sy)) * wb).sum(axis=1)
        tx += ((w @ np.abs(sx)) * wb).sum(axis=1)
        ty += ((w @ np.abs(sy)) * wb).sum(axis=1)
    return _safe_div(num, np.sqrt(tx * ty))


def mean_w(d: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean of per-pattern values ``d`` (K,), shape (B,)."""
    w = np.asarray(weights, dtype=float)
    return _safe_div(w @ np.asarray(d, dtype=float), w.sum(axis=1))

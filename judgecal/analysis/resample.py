"""Vectorised cluster bootstrap over items.

Resampling ``N`` items with replacement only changes how many times each item
is counted. Items that carry identical data (the same value counts, the same
judge-human pair) are interchangeable, so we first collapse items into their
``K`` distinct *patterns* with counts ``c``; a bootstrap resample is then one
draw of ``Multinomial(N, c / N)`` over the patterns. That is exactly the
item bootstrap, and it turns every statistic into a function of a weight
matrix ``W`` of shape ``(B, K)``: ``B`` resamples computed at once with matrix
products instead of ``B`` Python-level loops.

Statistics in :mod:`judgecal.analysis.stats` take such a ``W``; the point
estimate is the same function evaluated at ``W = c[None, :]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from judgecal.errors import ConfigError

# Memory bound for one block of weights (B_block * K float64 values, ~64 MB).
_MAX_BLOCK_ELEMENTS = 8_000_000


@dataclass(frozen=True)
class Patterns:
    """Distinct per-item rows and how many items carry each.

    ``rows`` has shape (K, D); ``counts`` shape (K,); ``inverse`` shape (N,)
    maps each item to its pattern.
    """

    rows: np.ndarray
    counts: np.ndarray
    inverse: np.ndarray

    @property
    def n_items(self) -> int:
        """Number of items the patterns stand for (the sum of ``counts``)."""
        return int(self.counts.sum())


def compress(rows: np.ndarray) -> Patterns:
    """Collapse per-item rows (shape (N, D), numeric) into distinct patterns.

    NaN values are kept as their own value (two NaNs compare equal here).
    """
    rows = np.asarray(rows, dtype=float)
    if rows.ndim == 1:
        rows = rows[:, None]
    if rows.shape[0] == 0:
        return Patterns(rows=rows, counts=np.zeros(0, dtype=np.int64), inverse=np.zeros(0, dtype=np.int64))
    # np.unique treats NaNs as distinct unless equal_nan; map NaN to a sentinel.
    sentinel = np.float64(-1.2345e300)
    keyed = np.where(np.isnan(rows), sentinel, rows)
    uniq, inverse, counts = np.unique(keyed, axis=0, return_inverse=True, return_counts=True)
    uniq = np.where(uniq == sentinel, np.nan, uniq)
    return Patterns(rows=uniq, counts=counts.astype(np.int64), inverse=inverse.reshape(-1))


def bootstrap_distribution(
    statistic: Callable[[np.ndarray], np.ndarray],
    counts: np.ndarray,
    *,
    n_resamples: int = 1000,
    random_state: int | np.random.Generator | None = 0,
) -> np.ndarray:
    """Values of ``statistic`` over item-bootstrap resamples, shape (n_resamples,).

    ``statistic`` maps a weight matrix of shape (b, K) to values of shape (b,).
    ``counts`` (shape (K,)) are the pattern counts of the observed sample.
    """
    return bootstrap_many({"s": statistic}, counts, n_resamples=n_resamples, random_state=random_state)["s"]


def bootstrap_many(
    statistics: Mapping[str, Callable[[np.ndarray], np.ndarray]],
    counts: np.ndarray,
    *,
    n_resamples: int = 1000,
    random_state: int | np.random.Generator | None = 0,
) -> dict[str, np.ndarray]:
    """Several statistics on the same item-bootstrap resamples; each value shape (n_resamples,).

    Resamples are drawn in blocks so the (block, K) weight matrix stays small.
    """
    if n_resamples < 1:
        raise ConfigError(f"n_resamples must be at least 1, got {n_resamples}")
    counts = np.asarray(counts, dtype=np.int64)
    n = int(counts.sum())
    k = len(counts)
    rng = np.random.default_rng(random_state)
    out = {name: np.full(n_resamples, np.nan) for name in statistics}
    if n == 0:
        return out
    p = counts / n
    block = max(1, min(n_resamples, _MAX_BLOCK_ELEMENTS // max(k, 1)))
    for start in range(0, n_resamples, block):
        b = min(block, n_resamples - start)
        w = rng.multinomial(n, p, size=b).astype(float)
        for name, statistic in statistics.items():
            out[name][start : start + b] = statistic(w)
    return out


def point_estimate(statistic: Callable[[np.ndarray], np.ndarray], counts: np.ndarray) -> float:
    """``statistic`` evaluated on the observed sample (weights = counts)."""
    return float(statistic(np.asarray(counts, dtype=float)[None, :])[0])


def percentile_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile interval of bootstrap values (NaN resamples ignored)."""
    check_confidence(confidence)
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    # Too many undefined resamples: the interval would describe a biased subset.
    if len(finite) < max(10, 0.5 * len(values)):
        return (np.nan, np.nan)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(finite, [tail, 1.0 - tail])
    return float(low), float(high)


def check_confidence(confidence: float) -> None:
    """ConfigError unless ``confidence`` is strictly between 0 and 1."""
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence}")


def bootstrap_ci(
    statistic: Callable[[np.ndarray], np.ndarray],
    counts: np.ndarray,
    *,
    confidence: float = 0.95,
    n_resamples: int = 1000,
    random_state: int | np.random.Generator | None = 0,
) -> tuple[float, float, float]:
    """(estimate, ci_low, ci_high) by the percentile cluster bootstrap over items."""
    est = point_estimate(statistic, counts)
    dist = bootstrap_distribution(statistic, counts, n_resamples=n_resamples, random_state=random_state)
    low, high = percentile_interval(dist, confidence)
    return est, low, high

"""Split-conformal prediction sets of human levels.

Nonconformity of level y for a row: ``1 - p(y)`` for probabilistic (ordinal)
calibrators, ``|y - calibrated score|`` for isotonic ones. The calibration scores
come from out-of-fold predictions. Judge scores are discrete, so many scores
tie; ties are broken with the smoothed (randomised) conformal p-value, whose
uniform draw is a hash of the row's item id and metric: sets are reproducible
and coverage is close to the nominal level instead of jumping past it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DECIMALS = 9  # scores are rounded so ties survive float noise and JSON round trips


def candidate_scores(levels: np.ndarray, expected: np.ndarray, proba: np.ndarray | None) -> np.ndarray:
    """Nonconformity each level would have, shape (n, K)."""
    if proba is not None:
        s = 1.0 - proba
    else:
        s = np.abs(levels[None, :] - expected[:, None])
    return np.round(s, DECIMALS)


def observed_scores(levels: np.ndarray, y_level: np.ndarray, expected: np.ndarray,
                    proba: np.ndarray | None) -> np.ndarray:
    """Nonconformity of the observed level y_level (n,), shape (n,)."""
    cand = candidate_scores(levels, expected, proba)
    return cand[np.arange(len(y_level)), np.searchsorted(levels, y_level)]


def tie_breaks(item_id: pd.Series, metric: pd.Series) -> np.ndarray:
    """Uniform(0, 1) numbers, shape (n,), fixed by each row's item id and metric."""
    key = item_id.astype(str).to_numpy(dtype=object) + "\x1f" + metric.astype(str).to_numpy(dtype=object)
    h = pd.util.hash_pandas_object(pd.Series(key), index=False).to_numpy()
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def prediction_sets(cand: np.ndarray, cal_sorted: np.ndarray, u: np.ndarray, alpha: float) -> np.ndarray:
    """Which levels are in each row's set, bool (n, K).

    cand : (n, K) candidate nonconformity; cal_sorted : (m,) sorted calibration
    scores of the rows' conformal group; u : (n,) tie-break draws (1.0 gives the
    conservative, non-randomised set).
    """
    m = len(cal_sorted)
    right = np.searchsorted(cal_sorted, cand, side="right")
    left = np.searchsorted(cal_sorted, cand, side="left")
    p_value = ((m - right) + u[:, None] * (right - left + 1)) / (m + 1)
    return p_value > alpha


def format_sets(mask: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Text of each set ("1,2"), its lowest and highest level (NaN if empty); each (n,)."""
    names = np.array([f"{lv:g}" for lv in levels], dtype=object)
    # Few distinct sets exist (at most 2^K): format each pattern once.
    codes = mask.astype(np.int64) @ (1 << np.arange(mask.shape[1]))
    uniq, inv = np.unique(codes, return_inverse=True)
    text = np.empty(len(uniq), dtype=object)
    low = np.full(len(uniq), np.nan)
    high = np.full(len(uniq), np.nan)
    for j, c in enumerate(uniq):
        bits = [(c >> b) & 1 for b in range(mask.shape[1])]
        chosen = [i for i, b in enumerate(bits) if b]
        text[j] = ",".join(names[chosen])
        if chosen:
            low[j], high[j] = levels[chosen[0]], levels[chosen[-1]]
    return text[inv], low[inv], high[inv]

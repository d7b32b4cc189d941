"""Split-conformal prediction sets of human levels.

Nonconformity of level y for a row: ``1 - p(y)`` for probabilistic (ordinal)
calibrators, ``|y - calibrated score|`` for isotonic ones. The calibration scores
come from out-of-fold predictions. Judge scores are discrete, so many scores
tie; ties are broken with the smoothed (randomised) conformal p-value, whose
uniform draw is a hash of the row's item id and metric: sets are reproducible
and coverage is close to the nominal level instead of jumping past it.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from judgecal.calibration._fit.metric_data import MetricData
from judgecal.calibration._fit.state import node_key

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


def tie_breaks(item_id: pd.Series, metric_code: np.ndarray, metric_names: list[str]) -> np.ndarray:
    """Uniform(0, 1) numbers, shape (n,), fixed by each row's item id and metric.

    metric_code (n,) indexes ``metric_names``; a stable hash of the metric's
    name is mixed into the item id's hash, so the metrics of one item get
    independent draws and a row's draw does not depend on the rest of the table.
    """
    salts = np.array([int(hashlib.sha256(m.encode()).hexdigest()[:15], 16) for m in metric_names], dtype=np.uint64)
    h = pd.util.hash_pandas_object(item_id.astype(str), index=False).to_numpy().astype(np.uint64)
    with np.errstate(over="ignore"):
        h = h ^ salts[np.asarray(metric_code)] * np.uint64(0x9E3779B97F4A7C15)
        h = (h ^ (h >> np.uint64(31))) * np.uint64(0xBF58476D1CE4E5B9)
        h = h ^ (h >> np.uint64(29))
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def count_scores(cal_sorted: np.ndarray, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How many calibration scores lie above, and tie with, each candidate: two arrays shaped like cand."""
    right = np.searchsorted(cal_sorted, cand, side="right")
    return len(cal_sorted) - right, right - np.searchsorted(cal_sorted, cand, side="left")


def sets_from_counts(greater: np.ndarray, equal: np.ndarray, n_cal: int, u: np.ndarray, alpha: float) -> np.ndarray:
    """Level membership, bool (n, K), from the smoothed p-value
    (greater + u * (equal + 1)) / (n_cal + 1) > alpha, with u (n,) the tie-break draws."""
    return (greater + u[:, None] * (equal + 1)) / (n_cal + 1) > alpha


def prediction_sets(cand: np.ndarray, cal_sorted: np.ndarray, u: np.ndarray, alpha: float) -> np.ndarray:
    """Which levels are in each row's set, bool (n, K).

    cand : (n, K) candidate nonconformity; cal_sorted : (m,) sorted calibration
    scores of the rows' conformal group; u : (n,) tie-break draws (1.0 gives the
    conservative, non-randomised set).
    """
    greater, equal = count_scores(cal_sorted, cand)
    return sets_from_counts(greater, equal, len(cal_sorted), u, alpha)


def conformal_scores(metric: str, md: MetricData, obs: np.ndarray, fold: np.ndarray, n_splits: int,
                     min_size: int) -> dict:
    """Held-out nonconformity scores per conformal group and fold (cross-conformal).

    A test row is later scored by each fold's models and compared with the
    items that fold held out, so its scores tie exactly with theirs where they
    should and the smoothed p-value gives close to nominal coverage.

    obs : (n,) held-out nonconformity score of each of the metric's items; fold : (n,)
    the fold that held it out. Returns node key -> {"n", "folds": [{"values", "counts"}]}
    for the metric, each script and each language (scripts and languages only with
    at least ``min_size`` held-out items).
    """
    m, F = int(min_size), n_splits
    out: dict = {}
    # Distinct scores once, then the counts of every (group, fold, score) at once.
    values, vcode = np.unique(np.round(obs, DECIMALS), return_inverse=True)
    nv = len(values)
    levels = (("metric", np.zeros(len(obs), dtype=np.int64), [(None, None)]),
              ("script", md.script, [(None, s) for s in md.script_keys]), ("language", md.lang, md.lang_keys))
    for level, codes, names in levels:
        key, n_keys = (codes * F + fold) * nv + vcode.reshape(-1), len(names) * F * nv
        if n_keys <= 4 * len(key) + 1024:  # few possible triples: count them all, no sort
            counts = np.bincount(key, minlength=n_keys)
            keys = np.flatnonzero(counts)
            counts = counts[keys]
        else:
            keys, counts = np.unique(key, return_counts=True)
        group_fold, value = np.divmod(keys, nv)
        bounds = np.searchsorted(group_fold, np.arange(len(names) * F + 1))
        for g, (lang, script) in enumerate(names):
            cuts = bounds[g * F:(g + 1) * F + 1]  # group g's entries, fold by fold
            n_g = int(counts[cuts[0]:cuts[-1]].sum())
            if n_g == 0 or n_g < m and level != "metric":
                continue
            per_fold = [{"values": values[value[lo:hi]].tolist(), "counts": counts[lo:hi].tolist()}
                        for lo, hi in zip(cuts[:-1], cuts[1:], strict=True)]
            out[node_key(metric, lang, script)] = {"n": n_g, "folds": per_fold}
    return out

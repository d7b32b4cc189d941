"""Checking the battle arrays the leaderboard functions take.

Every check collects all offending rows before raising one InputError, so a
caller sees every problem at once (rows are 0-based positions in the arrays).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from judgecal.errors import InputError, Problem

OUTCOME_CODES = {0: "first system better", 1: "tie", 2: "second system better"}


def _rows(mask: np.ndarray, message: str, column: str, values: np.ndarray) -> list[Problem]:
    return [Problem(message, row=int(r), column=column, value=values[r].tolist()) for r in np.flatnonzero(mask)]


def as_outcome_probs(outcome, n: int, *, name: str = "outcome", allow_missing: bool = False) -> np.ndarray:
    """Outcomes as probability rows (n, 3): [P(i better), P(tie), P(j better)].

    ``outcome`` is either integer codes (n,) in {0: i better, 1: tie, 2: j better}
    or rows (n, 3) of non-negative numbers summing to 1 (expected votes, vote
    shares, calibrated probabilities). With ``allow_missing`` a row of NaN (or a
    NaN code) stays NaN (an unlabelled battle).
    """
    arr = np.asarray(outcome, dtype=float)
    problems: list[Problem] = []
    if arr.ndim == 1:
        if len(arr) != n:
            raise InputError(f"{name} has {len(arr)} values but there are {n} battles")
        missing = np.isnan(arr)
        bad = ~missing & ~np.isin(arr, [0.0, 1.0, 2.0])
        if not allow_missing:
            bad |= missing
        problems += _rows(bad, f"unknown {name} code (expected 0 = i better, 1 = tie, 2 = j better)", name, arr)
        if problems:
            raise InputError(problems, summary=f"{len(problems)} bad {name} value(s)")
        out = np.full((n, 3), np.nan)
        ok = ~missing
        out[ok] = np.eye(3)[arr[ok].astype(int)]
        return out
    if arr.ndim != 2 or arr.shape != (n, 3):
        raise InputError(f"{name} must have shape ({n},) codes or ({n}, 3) probabilities, got {arr.shape}")
    missing = np.isnan(arr).all(axis=1)
    partial = np.isnan(arr).any(axis=1) & ~missing
    if not allow_missing:
        partial |= missing
    problems += _rows(partial, "missing probabilities", name, arr)
    full = ~np.isnan(arr).any(axis=1)
    problems += _rows(full & (arr < 0).any(axis=1), "negative probability", name, arr)
    problems += _rows(full & (np.abs(arr.sum(axis=1) - 1.0) > 1e-6), "probabilities do not sum to 1", name, arr)
    if problems:
        raise InputError(problems, summary=f"{len(problems)} bad {name} row(s)")
    return arr


def check_battles(i, j, *, n_systems: int | None = None, weights=None, covariate=None,
                  covariate_name: str = "length_diff"):
    """Validated (i, j, weights, covariate, n_systems); i, j int (n,), weights float (n,)."""
    i_arr, j_arr = np.asarray(i), np.asarray(j)
    if i_arr.ndim != 1 or j_arr.shape != i_arr.shape:
        raise InputError(f"i and j must be 1-d arrays of the same length, got shapes {i_arr.shape} and {j_arr.shape}")
    n = len(i_arr)
    if n == 0:
        raise InputError("no battles given")
    problems: list[Problem] = []
    for name, arr in (("i", i_arr), ("j", j_arr)):
        if not np.issubdtype(arr.dtype, np.integer):
            as_float = np.asarray(arr, dtype=float)
            bad = ~np.isfinite(as_float) | (as_float != np.round(as_float))
            problems += _rows(bad, "system index is not an integer", name, as_float)
    if problems:
        raise InputError(problems, summary=f"{len(problems)} bad system index value(s)")
    i_arr, j_arr = i_arr.astype(np.int64), j_arr.astype(np.int64)
    top = int(max(i_arr.max(), j_arr.max())) + 1
    m = top if n_systems is None else int(n_systems)
    for name, arr in (("i", i_arr), ("j", j_arr)):
        problems += _rows((arr < 0) | (arr >= m), f"system index outside 0..{m - 1}", name, arr)
    problems += _rows(i_arr == j_arr, "a system plays itself", "j", j_arr)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (n,):
        raise InputError(f"weights must have shape ({n},), got {w.shape}")
    problems += _rows(~np.isfinite(w) | (w < 0), "weight is not a finite non-negative number", "weights", w)
    x = None
    if covariate is not None:
        x = np.asarray(covariate, dtype=float)
        if x.shape != (n,):
            raise InputError(f"{covariate_name} must have shape ({n},), got {x.shape}")
        problems += _rows(~np.isfinite(x), "covariate is not a finite number", covariate_name, x)
    if problems:
        raise InputError(problems, summary=f"{len(problems)} problem(s) in the battles")
    if m < 2:
        raise InputError(f"a leaderboard needs at least 2 systems, got {m}")
    return i_arr, j_arr, w, x, m


def cluster_codes(clusters, n: int) -> tuple[np.ndarray, int]:
    """Codes (n,) in 0..K-1 and K for cluster labels (prompt ids) of n battles; every battle needs a label."""
    arr = np.asarray(clusters)
    if arr.ndim != 1 or len(arr) != n:
        raise InputError(f"clusters must hold one label per battle: {n} battles, got shape {arr.shape}")
    codes, labels = pd.factorize(arr)  # hashing: O(n), no sort; NaN and None get -1
    missing = np.flatnonzero(codes < 0)
    if len(missing):
        raise InputError([Problem("missing cluster label", row=int(r), column="clusters") for r in missing],
                         summary=f"{len(missing)} battle(s) without a cluster label")
    return codes.astype(np.int64), len(labels)

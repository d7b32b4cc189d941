"""Per-group calibrators in a language -> script -> metric hierarchy, with shrinkage.

For one metric, every group (language+script, script, the whole metric) with
enough items gets its own calibrator (a *node*). A row is then served by

    w_L * f_language + (1 - w_L) * (w_S * f_script + (1 - w_S) * f_metric)

with w = n / (n + k): n the group's training items, k a pseudo-count chosen by
cross-validation (``choose_shrinkage``). k = 0 trusts every group alone, k = inf
ignores it in favour of its parent. Combining expected scores and combining level
probabilities use the same weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from judgecal.calibration.isotonic import fit_isotonic_table
from judgecal.calibration.ordinal import fit_proportional_odds, ordinal_proba
from judgecal.data.metrics import MetricScale

K_GRID = np.array([0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, np.inf])
METHODS = ("isotonic", "ordinal")


@dataclass
class MetricData:
    """One metric's training examples as arrays.

    x_iso : (n,) the isotonic feature; X : (n, p) the ordinal design matrix
    y : (n,) consensus target; target_dist : (n, K) share of target mass per level
    lang : (n,) code into ``lang_keys`` ((language, script) pairs); script : (n,) code into ``script_keys``
    r_item, r_level, r_weight : (m,) per-rater rows (item position, level, weight)
    fit_rows : 'per_rater' or 'consensus': which rows the ordinal model fits
    """

    scale: MetricScale
    x_iso: np.ndarray
    X: np.ndarray
    y: np.ndarray
    target_dist: np.ndarray
    lang: np.ndarray
    script: np.ndarray
    lang_keys: list
    script_keys: list
    r_item: np.ndarray
    r_level: np.ndarray
    r_weight: np.ndarray
    iso_rows: str
    ord_rows: str


def fit_node(md: MetricData, rows: np.ndarray, method: str, *, alpha: float, prior_weight: float) -> dict:
    """Fit one node's calibrator on item positions ``rows``; returns its JSON-able state."""
    scale = md.scale
    if method == "isotonic":
        if md.iso_rows == "per_rater":
            sel = np.isin(md.r_item, rows)
            x, y, w = md.x_iso[md.r_item[sel]], md.r_level[sel], md.r_weight[sel]
        else:
            x, y, w = md.x_iso[rows], md.y[rows], np.ones(len(rows))
        knots, values = fit_isotonic_table(x, y, w, y_min=scale.min, y_max=scale.max)
        return {"kind": "isotonic", "knots": knots.tolist(), "values": values.tolist()}
    if md.ord_rows == "per_rater":
        sel = np.isin(md.r_item, rows)
        X, y, w = md.X[md.r_item[sel]], md.r_level[sel], md.r_weight[sel]
    else:
        X, y, w = md.X[rows], md.target_dist[rows].argmax(axis=1).astype(float), np.ones(len(rows))
        y = np.asarray(scale.levels)[y.astype(int)]
    # Same fit as OrdinalCalibrator(levels=scale.levels).fit, minus its per-call input checks.
    coef, thresholds, _ = fit_proportional_odds(X, np.searchsorted(np.asarray(scale.levels), y), w,
                                                len(scale.levels), alpha=alpha, prior_weight=prior_weight)
    return {"kind": "ordinal", "coef": coef.tolist(), "thresholds": thresholds.tolist()}


def node_predict(state: dict, x_iso: np.ndarray, X: np.ndarray | None, levels: np.ndarray):
    """(expected (r,), proba (r, K) or None) of one node for r rows."""
    if state["kind"] == "isotonic":
        return np.interp(x_iso, state["knots"], state["values"]), None
    proba = ordinal_proba(X @ np.asarray(state["coef"]), np.asarray(state["thresholds"]))
    return proba @ levels, proba


def fit_all_nodes(md: MetricData, train: np.ndarray, method: str, *, min_group_size: int,
                  alpha: float, prior_weight: float) -> dict:
    """Nodes fitted on the rows where ``train`` (bool, (n,)) is True.

    Returns {"language": {code: (state, n)}, "script": {...}, "metric": {0: (state, n)}}.
    Groups with fewer than ``min_group_size`` items get no node.
    """
    out: dict = {"language": {}, "script": {}, "metric": {}}
    idx = np.flatnonzero(train)
    if len(idx) == 0:
        return out
    out["metric"][0] = (fit_node(md, idx, method, alpha=alpha, prior_weight=prior_weight), len(idx))
    for level, codes in (("script", md.script), ("language", md.lang)):
        order = idx[np.argsort(codes[idx], kind="stable")]
        bounds = np.flatnonzero(np.diff(codes[order])) + 1
        for part in np.split(order, bounds):
            if len(part) >= min_group_size:
                code = int(codes[part[0]])
                out[level][code] = (fit_node(md, part, method, alpha=alpha, prior_weight=prior_weight), len(part))
    return out


@dataclass
class Components:
    """Each hierarchy level's own prediction for some rows, and its training size (0 = no node)."""

    E: np.ndarray  # (r, 3) expected score from language, script, metric node
    P: np.ndarray | None  # (r, 3, K) level probabilities (ordinal only)
    n: np.ndarray  # (r, 3) training items of each node


def components(md: MetricData, nodes: dict, rows: np.ndarray, method: str) -> Components:
    """Predictions of the language, script and metric node for item positions ``rows``."""
    levels = np.asarray(md.scale.levels)
    r, K = len(rows), len(levels)
    E = np.zeros((r, 3))
    P = np.zeros((r, 3, K)) if method == "ordinal" else None
    n = np.zeros((r, 3))
    for j, (level, codes) in enumerate((("language", md.lang), ("script", md.script), ("metric", None))):
        sub_codes = np.zeros(r, dtype=np.int64) if codes is None else codes[rows]
        for code, (state, size) in nodes[level].items():
            hit = np.flatnonzero(sub_codes == code)
            if not len(hit):
                continue
            pos = rows[hit]
            e, p = node_predict(state, md.x_iso[pos], md.X[pos] if md.X is not None else None, levels)
            E[hit, j] = e
            if P is not None:
                P[hit, j] = p
            n[hit, j] = size
    return Components(E, P, n)


def level_weights(n: np.ndarray, k_script: float, k_language: float) -> np.ndarray:
    """Effective weight of the language, script and metric node, shape (r, 3), from sizes n (r, 3)."""
    w_l = _shrink(n[:, 0], k_language)
    w_s = _shrink(n[:, 1], k_script)
    return np.stack([w_l, (1 - w_l) * w_s, (1 - w_l) * (1 - w_s)], axis=1)


def _shrink(n: np.ndarray, k: float) -> np.ndarray:
    if np.isinf(k):
        return np.zeros_like(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(n > 0, n / (n + k), 0.0)
    return w


def choose_shrinkage(comp: Components, y: np.ndarray, pooling: str) -> tuple[float, float, np.ndarray]:
    """Pseudo-counts (k_script, k_language) minimising squared error of the
    combined out-of-fold expected score against y (r,), and the error grid.

    ``pooling``: 'partial' searches K_GRID; 'none' fixes k = 0 (each group alone,
    parents only where a group has no node); 'complete' fixes k = inf (metric level only).
    """
    if pooling == "none":
        return 0.0, 0.0, np.zeros((1, 1))
    if pooling == "complete":
        return float("inf"), float("inf"), np.zeros((1, 1))
    grid = np.empty((len(K_GRID), len(K_GRID)))
    for a, ks in enumerate(K_GRID):
        for b, kl in enumerate(K_GRID):
            pred = (level_weights(comp.n, ks, kl) * comp.E).sum(axis=1)
            grid[a, b] = np.mean((pred - y) ** 2)
    # Ties go to the most pooling (largest k): the simpler model.
    best = np.flatnonzero(grid.ravel() <= grid.min() + 1e-12)[-1]
    a, b = np.unravel_index(best, grid.shape)
    return float(K_GRID[a]), float(K_GRID[b]), grid


def combine(comp: Components, k_script: float, k_language: float):
    """Combined expected score (r,), probabilities (r, K) or None, and weights (r, 3)."""
    W = level_weights(comp.n, k_script, k_language)
    E = (W * comp.E).sum(axis=1)
    P = None if comp.P is None else np.einsum("rj,rjk->rk", W, comp.P)
    return E, P, W


def codes_for(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list, list]:
    """Factorise (language, script) and script of a frame: codes (n,), (n,) and their keys."""
    pairs = pd.MultiIndex.from_frame(frame[["language", "script"]].astype(str))
    lang, lang_keys = pd.factorize(pairs, sort=True)
    script, script_keys = pd.factorize(frame["script"].astype(str), sort=True)
    return lang.astype(np.int64), script.astype(np.int64), list(lang_keys), list(script_keys)

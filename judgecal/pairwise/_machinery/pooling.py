"""Partial pooling of ordinal verdict models: language -> script -> all languages.

Every node (all languages, each script, each language) is fitted on its
votes: the project's :class:`~judgecal.calibration.OrdinalCalibrator`
(``model="ordinal"``), or the verdict x vote table (``model="table"``: vote
counts per judge verdict plus ``TABLE_PRIOR`` per cell). A pair
of language ``l`` in script ``s`` is served

    P = w_l * P_l + (1 - w_l) * (w_s * P_s + (1 - w_s) * P_all),
    w_l = n_l / (n_l + k_language),  w_s = n_s / (n_s + k_script)

with n the node's pairs. The pseudo-counts are chosen on a grid by
cross-validation grouped by prompt, minimising the held-out log-loss of the
native votes: the quantity a verdict calibrator is judged by (the tie share
matters, and an expected-level error barely sees it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from judgecal.calibration import OrdinalCalibrator
from judgecal.calibration.ordinal import ordinal_proba

K_GRID = np.array([0.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, np.inf])
ALL = "*"
MODELS = ("ordinal", "table")  # and "auto": the one with the lower held-out log-loss
TABLE_PRIOR = 0.5


def assign_folds(groups: pd.Series, strata: pd.Series, n_splits: int, random_state: int) -> np.ndarray:
    """Fold (n,) per row: rows of one group together, each stratum's groups
    spread evenly over the folds in a seeded random order."""
    codes, _ = pd.factorize(groups.astype(str))
    first = pd.Series(strata.to_numpy()).groupby(codes).first()
    rng = np.random.default_rng(random_state)
    fold_of = np.empty(len(first), dtype=np.int64)
    for _, members in first.groupby(first.to_numpy()):
        order = rng.permutation(members.index.to_numpy())
        fold_of[order] = (np.arange(len(order)) + rng.integers(n_splits)) % n_splits
    return fold_of[codes]


def _nodes_of(lang: np.ndarray, script: np.ndarray) -> list[tuple[str, str]]:
    keys = [(ALL, ALL)] + [(ALL, s) for s in sorted(set(script))] + sorted(set(zip(lang, script, strict=True)))
    return list(dict.fromkeys(keys))


def fit_nodes(X: np.ndarray, lang: np.ndarray, script: np.ndarray, vote_pair: np.ndarray, vote_y: np.ndarray,
              train: np.ndarray, *, alpha: float, prior_weight: float, min_group_size: int,
              model: str = "ordinal", verdict: np.ndarray | None = None) -> dict:
    """Fit every node on the training pairs. X (p, f) pair features; lang/script
    (p,); vote_pair (v,) index of each vote's pair; vote_y (v,) its outcome
    0/1/2; train (p,) bool, the pairs to fit on; verdict (p,) the judge's
    combined outcome (for ``model="table"``).
    Returns {(language, script): {"n": pairs, "coef": [...], "thresholds": [...]}}
    or, for tables, {"n": pairs, "counts": 3 x 3 votes per verdict}."""
    nodes = {}
    for lg, sc in _nodes_of(lang[train], script[train]):
        in_pair = train & (True if sc == ALL else (script == sc) if lg == ALL else (lang == lg) & (script == sc))
        n = int(in_pair.sum())
        sel = in_pair[vote_pair]
        if n < min_group_size or not sel.any():
            continue
        if model == "table":
            counts = np.zeros((3, 3))
            np.add.at(counts, (verdict[vote_pair[sel]], vote_y[sel]), 1.0)
            nodes[(lg, sc)] = {"n": n, "counts": counts.tolist()}
            continue
        fitted = OrdinalCalibrator(levels=(0, 1, 2), alpha=alpha, prior_weight=prior_weight)
        fitted.fit(X[vote_pair[sel]], vote_y[sel])
        nodes[(lg, sc)] = {"n": n, "coef": fitted.coef_.tolist(), "thresholds": fitted.thresholds_.tolist()}
    return nodes


def node_proba(node: dict, X: np.ndarray, verdict: np.ndarray) -> np.ndarray:
    """The node's level probabilities for pairs with features X (p, f) and
    judge verdicts (p,), shape (p, 3)."""
    if "counts" in node:
        counts = np.asarray(node["counts"], float) + TABLE_PRIOR
        return (counts / counts.sum(axis=1, keepdims=True))[verdict]
    return ordinal_proba(X @ np.asarray(node["coef"], float), np.asarray(node["thresholds"], float))


def components(nodes: dict, X: np.ndarray, verdict: np.ndarray, lang: np.ndarray, script: np.ndarray):
    """Per pair: the language, script and all-languages node probabilities
    (each (p, 3); NaN where the node is missing) and the nodes' sizes (p,)."""
    p = len(lang)
    P = {lvl: np.full((p, 3), np.nan) for lvl in ("language", "script", "all")}
    n = {lvl: np.zeros(p) for lvl in ("language", "script")}
    P["all"][:] = node_proba(nodes[(ALL, ALL)], X, verdict)
    for (lg, sc), node in nodes.items():
        if sc == ALL:
            continue
        rows = (script == sc) if lg == ALL else (lang == lg) & (script == sc)
        if not rows.any():
            continue
        level = "script" if lg == ALL else "language"
        P[level][rows] = node_proba(node, X[rows], verdict[rows])
        n[level][rows] = node["n"]
    return P, n


def mix(P: dict, n: dict, k_script: float, k_language: float) -> np.ndarray:
    """Served probabilities (p, 3) for one pair of pseudo-counts."""
    def weight(size, k):
        return np.where(size > 0, size / (size + k), 0.0) if np.isfinite(k) else np.zeros_like(size)

    w_s, w_l = weight(n["script"], k_script)[:, None], weight(n["language"], k_language)[:, None]
    parent = w_s * np.nan_to_num(P["script"]) + (1 - w_s) * P["all"]
    return w_l * np.nan_to_num(P["language"]) + (1 - w_l) * parent


def held_out_loss(fold_components: list, vote_pair: np.ndarray, vote_y: np.ndarray,
                  k_script: float, k_language: float) -> float:
    """Summed held-out log-loss of the votes for one pair of pseudo-counts.
    fold_components: per fold (test pair rows, P, n) from :func:`components`."""
    total = 0.0
    for rows, P, n in fold_components:
        pos = np.full(max(int(vote_pair.max(initial=-1)), int(rows.max(initial=-1))) + 1, -1)
        pos[rows] = np.arange(len(rows))
        sel = pos[vote_pair] >= 0
        served = mix(P, n, k_script, k_language)
        total -= np.log(np.clip(served[pos[vote_pair[sel]], vote_y[sel]], 1e-12, 1)).sum()
    return float(total)


def choose_pseudo_counts(fold_components: list, vote_pair: np.ndarray, vote_y: np.ndarray,
                         pooling: str) -> tuple[float, float, float]:
    """(k_script, k_language) and their summed held-out vote log-loss: the grid's
    best for 'partial'; k = 0 for 'none'; k = inf for 'complete'."""
    if pooling in ("none", "complete"):
        k = 0.0 if pooling == "none" else float("inf")
        return k, k, held_out_loss(fold_components, vote_pair, vote_y, k, k)
    loss = np.array([[held_out_loss(fold_components, vote_pair, vote_y, ks, kl) for kl in K_GRID] for ks in K_GRID])
    a, b = np.unravel_index(np.argmin(loss), loss.shape)
    return float(K_GRID[a]), float(K_GRID[b]), float(loss[a, b])

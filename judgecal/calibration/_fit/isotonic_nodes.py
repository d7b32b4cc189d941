"""All isotonic nodes of one metric, for every fold at once, from sums per distinct judge value.

An isotonic node needs only, for each distinct value of the judge feature, the
total weight and the weighted target of its training rows. One ``np.bincount``
per fold and hierarchy level gives those sums for every node of that level;
pool-adjacent-violators then runs on each node's small table (three entries for
a judge scoring 0-2), and only where its means do not already rise, instead of
on its rows; a node's predictions are read
from its table by the rows' (group, value) codes instead of one ``np.interp``
over the rows of every node.

The sums run over the rows in the same order as ``hierarchy.fit_node`` adds
them (ascending item, or the order of the human ratings), so the fitted knots and
values, and hence everything computed from them, are the same numbers as fitting
each node on its own rows: ``tests/calibration/test_isotonic_nodes.py`` checks this.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from judgecal.calibration._fit.hierarchy import Components
from judgecal.calibration._fit.isotonic_fit import isotonic_from_sums
from judgecal.calibration._fit.metric_data import MetricData


@dataclass
class LevelTable:
    """One hierarchy level's nodes in every slot (slot f < F: fold f held out; slot F: all items).

    codes : (n,) group of each item; pair : (n,) each item's (group, distinct value) code
    bounds : (G + 1,) pairs of group g are ``pair`` codes bounds[g]:bounds[g+1]
    pair_x : (P,) the distinct feature value of each pair; pair_group : (P,) its group
    pred : (S, P) prediction of the group's node at each pair (0 where the group has no node)
    size : (S, G) training items of each group's node (0: no node)
    """

    codes: np.ndarray
    pair: np.ndarray
    bounds: np.ndarray
    pair_x: np.ndarray
    pair_group: np.ndarray
    pred: np.ndarray
    size: np.ndarray


@dataclass
class NodeTables:
    """Isotonic nodes of one metric: per level tables and, per slot, the nodes in the
    form ``hierarchy.fit_all_nodes`` returns ({level: {code: (state, n_items)}})."""

    levels: dict[str, LevelTable]
    nodes: list[dict]

    def components(self, slot: int, rows: np.ndarray) -> Components:
        """Each level's prediction (r, 3) and node size (r, 3) for item positions ``rows`` (r,)."""
        E = np.empty((len(rows), 3))
        n = np.empty((len(rows), 3))
        for j, level in enumerate(("language", "script", "metric")):
            t = self.levels[level]
            E[:, j] = t.pred[slot, t.pair[rows]]
            n[:, j] = t.size[slot, t.codes[rows]]
        return Components(E, None, n)


def applies(md: MetricData) -> bool:
    """Whether the table fit can serve this metric (a finite isotonic feature)."""
    return len(md.x_iso) > 0 and bool(np.isfinite(md.x_iso).all())


def fit_isotonic_nodes(md: MetricData, fold: np.ndarray, n_splits: int, min_group_size: int) -> NodeTables:
    """Isotonic nodes of every slot: fitted without fold f (slot f) and on all items (slot n_splits).

    fold : (n,) fold of each item. A language or script group gets a node in a
    slot when it has at least ``min_group_size`` training items there; the metric
    node exists whenever the slot has any training item (as in ``fit_all_nodes``).
    """
    n = len(md.y)
    xs, xc = np.unique(md.x_iso, return_inverse=True)
    if md.iso_rows == "per_rater":  # one row per human rating, each item's ratings weighing 1 in total
        row_item, w, wy = md.r_item, md.r_weight, md.r_weight * md.r_level
    else:
        row_item, w, wy = np.arange(n), np.ones(n), md.y
    groups = {"language": (md.lang, len(md.lang_keys)), "script": (md.script, len(md.script_keys)),
              "metric": (np.zeros(n, dtype=np.int64), 1)}
    levels = {name: _level_table(codes, n_groups, xs, xc, n_splits + 1) for name, (codes, n_groups) in groups.items()}
    # Training items per group and slot: all items less the held-out fold (integers, exact).
    per_fold = {name: np.bincount(t.codes * n_splits + fold, minlength=(len(t.bounds) - 1) * n_splits)
                .reshape(-1, n_splits) for name, t in levels.items()}
    nodes = []
    for slot in range(n_splits + 1):
        train = fold != slot if slot < n_splits else np.ones(n, bool)
        sel = train[row_item]
        s_item, s_w, s_wy = row_item[sel], w[sel], wy[sel]
        slot_nodes: dict = {"language": {}, "script": {}, "metric": {}}
        for name in ("metric", "script", "language"):  # the insertion order of fit_all_nodes
            t = levels[name]
            size = per_fold[name].sum(axis=1) - (per_fold[name][:, slot] if slot < n_splits else 0)
            p = t.pair[s_item]
            wsum = np.bincount(p, weights=s_w, minlength=len(t.pair_x))
            ysum = np.bincount(p, weights=s_wy, minlength=len(t.pair_x))
            need = 1 if name == "metric" else max(int(min_group_size), 1)
            slot_nodes[name] = _fit_level(t, slot, np.where(size >= need, size, 0), wsum, ysum,
                                          md.scale.min, md.scale.max)
        nodes.append(slot_nodes)
    return NodeTables(levels, nodes)


def _fit_level(t: LevelTable, slot: int, size: np.ndarray, wsum: np.ndarray, ysum: np.ndarray,
               y_min: float, y_max: float) -> dict:
    """One level's nodes in one slot, {group: (state, n_items)}; fills t.pred[slot] and t.size[slot].

    size : (G,) training items of each group (0: no node); wsum, ysum : (P,)
    training weight and weighted target at each (group, value) pair.
    """
    seen = wsum > 0
    mean = np.divide(ysum, wsum, out=np.zeros_like(ysum), where=seen)
    # A group needs its own PAVA and interpolation when one of its values is not
    # among the slot's training rows, or its means are not strictly increasing.
    # Otherwise (nearly always, for a judge scoring on a few levels) PAVA returns
    # the means unchanged and the node predicts them at its values: done for all
    # such groups at once.
    hard = np.bincount(t.pair_group[~seen], minlength=len(size)) > 0
    at = np.flatnonzero(seen)
    same_group = t.pair_group[at][1:] == t.pair_group[at][:-1]
    hard[t.pair_group[at][1:][same_group & (mean[at][1:] <= mean[at][:-1])]] = True
    values = np.clip(mean, y_min, y_max)
    t.pred[slot] = np.where(size[t.pair_group] > 0, values, 0.0)
    t.size[slot] = size
    x_list, v_list = t.pair_x.tolist(), values.tolist()
    out = {}
    for g in np.flatnonzero(size):
        lo, hi = int(t.bounds[g]), int(t.bounds[g + 1])
        if hard[g]:
            keep = seen[lo:hi]
            knots = t.pair_x[lo:hi][keep]
            fitted = isotonic_from_sums(wsum[lo:hi][keep], ysum[lo:hi][keep], y_min=y_min, y_max=y_max)
            t.pred[slot, lo:hi] = np.interp(t.pair_x[lo:hi], knots, fitted)
            state = {"kind": "isotonic", "knots": knots.tolist(), "values": fitted.tolist()}
        else:
            state = {"kind": "isotonic", "knots": x_list[lo:hi], "values": v_list[lo:hi]}
        out[int(g)] = (state, int(size[g]))
    return out


def _level_table(codes: np.ndarray, n_groups: int, xs: np.ndarray, xc: np.ndarray, n_slots: int) -> LevelTable:
    """Empty table over the (group, value) pairs that occur among the items, sorted by group then value.

    codes : (n,) group of each item; xs : (nx,) distinct values; xc : (n,) each item's code into xs.
    """
    nx = len(xs)
    key = codes.astype(np.int64) * nx + xc
    if n_groups * nx <= 4 * len(key) + 1024:  # few possible pairs: mark the ones used instead of sorting
        used = np.bincount(key, minlength=n_groups * nx) > 0
        keys, pair = np.flatnonzero(used), (np.cumsum(used) - 1)[key]
    else:
        keys, pair = np.unique(key, return_inverse=True)
    group = keys // nx
    return LevelTable(codes=codes, pair=pair.reshape(-1), bounds=np.searchsorted(group, np.arange(n_groups + 1)),
                      pair_x=xs[keys % nx], pair_group=group, pred=np.zeros((n_slots, len(keys))),
                      size=np.zeros((n_slots, n_groups), dtype=np.int64))

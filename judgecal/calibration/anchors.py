"""Anchor items: a small, stratified set of human-labelled items per language to re-score
whenever the judge or its prompt changes.

On the same items only the judge can change, so the old and new judge scores of the
anchors tell a judge change from a change in the systems being judged
(:func:`judgecal.calibration.drift.check_drift`, ``judgecal drift --anchors``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from judgecal.data.metrics import DEFAULT_REGISTRY
from judgecal.errors import InputError, Problem

__all__ = ["select_anchors"]


def _allocate(sizes: np.ndarray, n: int) -> np.ndarray:
    """Proportional allocation of n draws over strata of the given sizes (S,), largest remainder,
    every non-empty stratum getting at least one draw while n allows."""
    sizes = np.asarray(sizes, dtype=np.int64)
    n = int(min(n, sizes.sum()))
    take = np.zeros(len(sizes), dtype=np.int64)
    nonempty = np.flatnonzero(sizes > 0)
    if n >= len(nonempty):  # rare levels are what drift shows first: keep each one represented
        take[nonempty] = 1
    rest = n - take.sum()
    room = sizes - take
    if rest > 0 and room.sum() > 0:
        quota = rest * room / room.sum()
        base = np.minimum(np.floor(quota).astype(np.int64), room)
        take += base
        left = rest - base.sum()
        order = np.argsort(-(quota - np.floor(quota)), kind="stable")
        for s in order:
            if left == 0:
                break
            if take[s] < sizes[s]:
                take[s] += 1
                left -= 1
    return take


def select_anchors(ratings: pd.DataFrame, per_language: int, *, metric: str | None = None,
                   random_state: int = 0, metrics=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pick ``per_language`` anchor items per language, stratified and seeded.

    Strata are (the judge's level, the human consensus level) on ``metric``
    (default: the first metric, by name, with both judge and human scores), so the
    anchors cover the judge's levels in the proportions it uses them and each
    stratum that exists is represented when ``per_language`` allows.

    Parameters
    ----------
    ratings : ratings table with human and judge rows (item_id, language, metric, rater_kind, score).
    per_language : anchor items per language (all of a language's items when it has fewer).
    metric : the metric whose levels stratify; the anchors keep every metric's rows.
    random_state : seed of the draw within strata.

    Returns
    -------
    (anchors, summary) : every row (human and judge, every metric) of the chosen items,
        with an ``anchor_stratum`` column ("judge 2 / human 1"); and one row per
        (language, stratum): items available and chosen.
    """
    if per_language < 1:
        raise InputError(Problem(f"--per-language must be at least 1, got {per_language}"), summary="bad option")
    need = [c for c in ("item_id", "language", "metric", "rater_kind", "score") if c not in ratings.columns]
    if need:
        raise InputError([Problem(f"the ratings have no {c!r} column", column=c) for c in need],
                         summary="missing column(s)")
    kind = ratings["rater_kind"].astype(str)
    m_col = ratings["metric"].astype(str)
    both = sorted(set(m_col[kind == "judge"]) & set(m_col[kind == "human"]))
    if not both:
        raise InputError(Problem("no metric has both judge and human scores: anchors need human-labelled, "
                                 "judged items"), summary="nothing to choose from")
    metric = metric or both[0]
    if metric not in both:
        raise InputError(Problem(f"metric {metric!r} has no items with both judge and human scores "
                                 f"(those with both: {', '.join(both)})", column="metric", value=metric),
                         summary="bad option")
    registry = metrics or DEFAULT_REGISTRY
    levels = np.asarray(registry.get(metric).levels)
    on = ratings[m_col == metric]
    judge = on[kind[on.index] == "judge"].groupby("item_id", observed=True).agg(
        language=("language", "first"), judge=("score", "first"))
    human = on[kind[on.index] == "human"].groupby("item_id", observed=True)["score"].mean()
    items = judge.join(human.rename("human"), how="inner")
    nearest = np.abs(items["human"].to_numpy(float)[:, None] - levels[None, :]).argmin(axis=1)
    items["stratum"] = [f"judge {j:g} / human {h:g}" for j, h in zip(items["judge"], levels[nearest], strict=True)]
    rng = np.random.default_rng(random_state)
    chosen, summary = [], []
    for lang, g in items.groupby(items["language"].astype(str), sort=True):
        strata = g.groupby("stratum").groups
        names = sorted(strata)
        take = _allocate(np.array([len(strata[s]) for s in names]), per_language)
        for s, k in zip(names, take, strict=True):
            ids = np.array(sorted(map(str, strata[s])))
            pick = ids[rng.permutation(len(ids))[:k]] if k else ids[:0]
            chosen.extend((i, s) for i in pick)
            summary.append({"language": lang, "stratum": s, "available": len(ids), "chosen": int(k)})
    stratum_of = dict(chosen)
    out = ratings[ratings["item_id"].astype(str).isin(stratum_of)].copy()
    out["anchor_stratum"] = out["item_id"].astype(str).map(stratum_of)
    return out.reset_index(drop=True), pd.DataFrame(summary)

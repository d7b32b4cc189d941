"""How far the judge's scores sit from the native speakers', and where.

* :func:`bias_table`: mean signed difference judge - humans' mean per item,
  with a cluster-bootstrap interval, for all items and split by whether the
  humans agreed among themselves;
* :func:`level_distribution`: how often judge and humans give each level
  (the "judge gives the top grade" pattern).

Group by ``("script", "metric")`` for bias by script. For a calibrated judge
pass the calibrated column as ``judge_column`` (see
:mod:`judgecal.analysis.calibrated` for before/after tables).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from judgecal.analysis import stats as st
from judgecal.analysis.items import check_grouping, item_table, judges_in, level_counts, scales_for
from judgecal.analysis.resample import (
    bootstrap_many,
    check_confidence,
    compress,
    percentile_interval,
)
from judgecal.data.metrics import DEFAULT_REGISTRY, MetricRegistry

SUBSETS = ("all", "humans agree", "humans disagree")


def _keys(ratings: pd.DataFrame, by: Sequence[str]) -> list[str]:
    keys = check_grouping(ratings, by)
    return keys if "metric" in keys else [*keys, "metric"]


def _iter_groups(ratings, by, judge, judge_column, registry):
    keys = _keys(ratings, by)
    group_keys = [k for k in keys if k != "metric"]
    for metric, scale in scales_for(ratings, registry).items():
        for judge_id in judges_in(ratings, judge, metric=metric):
            items = item_table(ratings, scale, judge=judge_id, judge_column=judge_column)
            grouped = items.groupby(group_keys, dropna=False, sort=True) if group_keys else [((), items)]
            for values, frame in grouped:
                values = values if isinstance(values, tuple) else (values,)
                yield dict(zip(group_keys, values, strict=True)) | {"metric": metric}, judge_id, scale, frame


def bias_table(
    ratings: pd.DataFrame,
    *,
    by: Sequence[str] = ("language", "script", "metric"),
    judge: str | None = None,
    judge_column: str = "score",
    confidence: float = 0.95,
    n_resamples: int = 1000,
    random_state: int = 0,
    registry: MetricRegistry = DEFAULT_REGISTRY,
) -> pd.DataFrame:
    """Mean signed difference (judge - humans' mean) per group, with bootstrap intervals.

    Positive means the judge scores higher than the native speakers on the
    metric's own scale (for ``h``, 1 = hallucination present, positive means
    the judge flags more hallucinations). Items need a judge score and at
    least one human rating; ``humans agree`` / ``humans disagree`` need two or
    more humans.

    Returns
    -------
    Tidy DataFrame: the ``by`` columns, ``judge``, ``subset`` (all, humans
    agree, humans disagree), ``estimate``, ``ci_low``, ``ci_high``, ``n``
    (items), ``judge_mean``, ``human_mean``.
    """
    check_confidence(confidence)
    rows: list[dict] = []
    keys = _keys(ratings, by)
    for seed, (base, judge_id, _scale, frame) in enumerate(
        _iter_groups(ratings, by, judge, judge_column, registry)
    ):
        usable = frame["judge_score"].notna() & (frame["n_humans"] > 0)
        f = frame.loc[usable]
        masks = {
            "all": np.ones(len(f), dtype=bool),
            "humans agree": f["humans_agree"].to_numpy(),
            "humans disagree": ((f["n_humans"] >= 2) & ~f["humans_agree"]).to_numpy(),
        }
        rng = np.random.default_rng((random_state, seed))
        for subset, mask in masks.items():
            j = f["judge_score"].to_numpy(float)[mask]
            h = f["human_mean"].to_numpy(float)[mask]
            pat = compress(j - h)
            d = pat.rows[:, 0]
            n = int(mask.sum())
            if n >= 2:
                est = float(np.mean(j - h))
                dist = bootstrap_many({"d": lambda w, d=d: st.mean_w(d, w)}, pat.counts,
                                      n_resamples=n_resamples, random_state=rng)["d"]
                low, high = percentile_interval(dist, confidence)
            else:
                est, low, high = (float(np.mean(j - h)) if n else np.nan), np.nan, np.nan
            rows.append(base | {
                "judge": judge_id, "subset": subset, "estimate": est, "ci_low": low, "ci_high": high, "n": n,
                "judge_mean": float(j.mean()) if n else np.nan, "human_mean": float(h.mean()) if n else np.nan,
            })
    return pd.DataFrame(rows, columns=[*keys, "judge", "subset", "estimate", "ci_low", "ci_high", "n",
                                       "judge_mean", "human_mean"])


def level_distribution(
    ratings: pd.DataFrame,
    *,
    by: Sequence[str] = ("language", "script", "metric"),
    judge: str | None = None,
    judge_column: str = "score",
    registry: MetricRegistry = DEFAULT_REGISTRY,
) -> pd.DataFrame:
    """Share of each level given by the humans (all their ratings) and by the judge.

    Judge scores between levels (expected scores, calibrated values) count at
    their nearest level. Only items scored by the judge and rated by at least
    one human are counted, so both sides describe the same items.

    Returns
    -------
    Tidy DataFrame: the ``by`` columns, ``judge``, ``source`` (human or judge),
    ``level``, ``label``, ``share``, ``count``, ``n`` (ratings of that source).
    """
    rows: list[dict] = []
    keys = _keys(ratings, by)
    for base, judge_id, scale, frame in _iter_groups(ratings, by, judge, judge_column, registry):
        usable = frame["judge_score"].notna() & (frame["n_humans"] > 0)
        f = frame.loc[usable]
        v = len(scale.levels)
        human = level_counts(f, v).sum(axis=0)
        judge_counts = np.array([(f["judge_level"] == lv).sum() for lv in scale.levels], dtype=float)
        for source, counts in (("human", human), ("judge", judge_counts)):
            total = counts.sum()
            for lv, c in zip(scale.levels, counts, strict=True):
                rows.append(base | {
                    "judge": judge_id, "source": source, "level": lv, "label": scale.label(lv),
                    "share": c / total if total else np.nan, "count": int(c), "n": int(total),
                })
    return pd.DataFrame(rows, columns=[*keys, "judge", "source", "level", "label", "share", "count", "n"])

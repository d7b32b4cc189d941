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

    Parameters
    ----------
    ratings : DataFrame
        Ratings table with human and judge rows.
    by : sequence of str
        Grouping columns; ``metric`` is always added.
    judge : str, optional
        Analyse this judge only (default: every judge in the table, one block each).
    judge_column : str
        Judge score column (``score`` raw; a calibrated column for "after").
    confidence : float
    n_resamples : int
        Bootstrap resamples over items.
    random_state : int
    registry : MetricRegistry
        Metric scales (built-ins by default).

    Returns
    -------
    DataFrame
        Tidy: the ``by`` columns, ``judge``, ``subset`` (all, humans agree, humans
        disagree), ``estimate``, ``ci_low``, ``ci_high``, ``n`` (items),
        ``judge_mean``, ``human_mean``.

    Examples
    --------
    >>> from judgecal.datasets.synthetic import make_judge_ratings
    >>> ratings = make_judge_ratings(n_items=200, languages=("hi", "ta"), metrics=("tq",))
    >>> bias = bias_table(ratings, n_resamples=200)
    >>> bias.query("subset == 'all'")[["language", "judge_mean", "human_mean", "estimate", "ci_low", "ci_high"]].round(2)
      language  judge_mean  human_mean  estimate  ci_low  ci_high
    0       hi        1.22        1.01      0.21    0.11     0.31
    3       ta        1.57        1.08      0.49    0.42     0.60
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

    Parameters
    ----------
    ratings : DataFrame
    by : sequence of str
        Grouping columns; ``metric`` is always added.
    judge : str, optional
        Analyse this judge only (default: every judge in the table, one block each).
    judge_column : str
        Judge score column (``score`` raw; a calibrated column for "after").
    registry : MetricRegistry
        Metric scales (built-ins by default).

    Returns
    -------
    DataFrame
        Tidy: the ``by`` columns, ``judge``, ``source`` (human or judge),
        ``level``, ``label``, ``share``, ``count``, ``n`` (ratings of that source).

    Examples
    --------
    >>> from judgecal.datasets.synthetic import make_judge_ratings
    >>> ratings = make_judge_ratings(n_items=200, languages=("hi", "ta"), metrics=("tq",))
    >>> shares = level_distribution(ratings)
    >>> shares.query("language == 'ta'")[["source", "level", "share"]].round(2)
       source  level  share
    6   human    0.0   0.26
    7   human    1.0   0.40
    8   human    2.0   0.34
    9   judge    0.0   0.07
    10  judge    1.0   0.29
    11  judge    2.0   0.64
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

"""Per-item views of a ratings table: what every analysis starts from.

:func:`item_table` turns the long ratings table (one row per item, metric,
rater) into one row per (item, metric, judge): the humans' level counts, their
mean and consensus level, and the judge's score and nearest level. Analyses
then work on arrays, never on Python loops over rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import pandas as pd

from judgecal.data.consensus import majority_level, nearest_level
from judgecal.data.metrics import DEFAULT_REGISTRY, MetricRegistry, MetricScale
from judgecal.errors import ConfigError, InputError, Problem

GROUP_COLUMNS = ("language", "script", "metric", "task")
CARRY = ("language", "script", "task", "system", "prompt_id")


def judges_in(ratings: pd.DataFrame, judge: str | None = None, *, metric: str | None = None) -> list[str]:
    """The judge rater ids to analyse (of ``metric``, if given): ``[judge]`` if given (checked), else all."""
    return _pick_judge(_shared(("judges", id(ratings), metric), ratings, lambda: _judge_ids(ratings, metric)), judge)


def _judge_ids(ratings: pd.DataFrame, metric: str | None) -> list[str]:
    mask = ratings["rater_kind"] == "judge"
    if metric is not None:
        mask &= ratings["metric"] == metric
    return sorted(ratings.loc[mask, "rater"].astype(str).unique())


def _pick_judge(found: list[str], judge: str | None) -> list[str]:
    if judge is None:
        return list(found)
    if judge not in found:
        raise ConfigError(f"judge {judge!r} is not in the ratings; judges found: {', '.join(found) or 'none'}")
    return [judge]


def check_grouping(ratings: pd.DataFrame, by: Sequence[str]) -> list[str]:
    """The grouping columns as a list; ConfigError naming those that are not columns of ``ratings``."""
    by = list(by)
    missing = [c for c in by if c not in ratings.columns]
    if missing:
        raise ConfigError(f"cannot group by {missing}: not columns of the ratings table")
    return by


# What the active :func:`shared_item_tables` block has built: item tables keyed by (id of the
# ratings table, metric, levels, judge, judge column), a table's metrics and judges; each value
# keeps its ratings table alive so that the id cannot be reused by another object in the block.
_SHARED: ContextVar[dict | None] = ContextVar("judgecal_shared_item_tables", default=None)


@contextmanager
def shared_item_tables() -> Iterator[None]:
    """Build each item table once inside the block, however many analyses ask for it.

    A report runs about thirty analyses, each of which used to regroup the whole
    ratings table; inside this block :func:`item_table` keeps what it built per
    (ratings table, metric, judge, judge column) and hands out copies, and the
    metrics and judges of a table (:func:`scales_for`, :func:`judges_in`) are found once. The tables
    given to analyses must not be modified inside the block (build_report does not);
    nested blocks share the outer block's tables.
    """
    if _SHARED.get() is not None:
        yield
        return
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def _shared(key: tuple, table: pd.DataFrame, build):
    """``build()``, or what it gave for ``key`` earlier in the active :func:`shared_item_tables` block."""
    shared = _SHARED.get()
    if shared is None:
        return build()
    if key not in shared:
        shared[key] = (table, build())  # the table is held so that its id stays its own
    return shared[key][1]


def item_table(
    ratings: pd.DataFrame,
    scale: MetricScale,
    *,
    judge: str | None = None,
    judge_column: str = "score",
) -> pd.DataFrame:
    """One row per item of one metric.

    Parameters
    ----------
    ratings : DataFrame
        Ratings table (rows of other metrics are ignored).
    scale : MetricScale
        The metric's declared scale.
    judge : str, optional
        Judge rater id; None when the table holds at most one judge.
    judge_column : str
        Column holding the judge's score (``score``, or e.g. ``score_calibrated``
        for calibrated values).

    Returns
    -------
    DataFrame
        Indexed 0..N-1 with ``item_id``, the carried columns present (language,
        script, task, system, prompt_id), ``n_humans``, ``h0..h{V-1}`` (how many
        humans gave each level), ``human_mean``, ``human_level`` (consensus level:
        the most frequent, ties to the lower level, as
        :func:`judgecal.data.consensus.majority_level`), ``humans_agree`` (all
        humans gave one level), ``judge_score`` (NaN when the judge did not score
        the item) and ``judge_level`` (nearest level to the judge score).

    Examples
    --------
    >>> from judgecal.data.metrics import DEFAULT_REGISTRY
    >>> from judgecal.datasets.synthetic import make_judge_ratings
    >>> ratings = make_judge_ratings(n_items=200, languages=("hi", "ta"), metrics=("tq",))
    >>> items = item_table(ratings, DEFAULT_REGISTRY.get("tq"))
    >>> items.loc[:1, ["item_id", "n_humans", "h0", "h1", "h2", "human_level", "judge_score"]]
                item_id  n_humans   h0   h1   h2  human_level  judge_score
    0  hi-p000/system-0         3  0.0  1.0  2.0          2.0          2.0
    1  ta-p000/system-0         3  1.0  2.0  0.0          1.0          2.0
    """
    key = ("items", id(ratings), scale.id, tuple(scale.levels), judge, judge_column)
    table = _shared(key, ratings, lambda: _build_item_table(ratings, scale, judge, judge_column))
    return table.copy() if _SHARED.get() is not None else table  # callers may add columns to what they get


def _build_item_table(ratings: pd.DataFrame, scale: MetricScale, judge: str | None, judge_column: str) -> pd.DataFrame:
    # Only the columns used here: copying long text columns (responses) would cost more than the analysis.
    wanted = ["item_id", "metric", "rater", "rater_kind", "score", judge_column, *CARRY]
    wanted = list(dict.fromkeys(c for c in wanted if c in ratings.columns))
    df = ratings.loc[ratings["metric"] == scale.id, wanted]
    levels = np.asarray(scale.levels, dtype=float)
    v = len(levels)
    humans = df[df["rater_kind"] == "human"]
    h_idx = nearest_level(humans["score"].to_numpy(float), levels)
    off = np.abs(humans["score"].to_numpy(float) - levels[np.maximum(h_idx, 0)]) > 1e-9
    if off.any():
        bad = humans.loc[off]
        raise InputError(
            [Problem(f"human score is not a level of metric {scale.id!r} {scale.levels}", column="score",
                     value=s) for s in bad["score"].head(20)],
            summary=f"{int(off.sum())} human score(s) off the {scale.id} scale",
        )
    item_codes, item_ids = pd.factorize(pd.concat([humans["item_id"], df.loc[df["rater_kind"] == "judge", "item_id"]]))
    n_items = len(item_ids)
    h_codes = item_codes[: len(humans)]
    counts = np.zeros((n_items, v))
    np.add.at(counts, (h_codes, h_idx), 1.0)
    n_h = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        h_mean = (counts @ levels) / n_h
    out = pd.DataFrame({"item_id": np.asarray(item_ids, dtype=object)})
    meta_cols = [c for c in CARRY if c in df.columns]
    if meta_cols:
        meta = df.drop_duplicates("item_id").set_index("item_id")[meta_cols]
        gaps = meta.isna().any(axis=1)
        if gaps.any():
            # Human rows may lack what judge rows carry: fill from any row of the item.
            rows = df[df["item_id"].isin(meta.index[gaps])]
            meta.loc[gaps] = rows.groupby("item_id", sort=False)[meta_cols].first().reindex(meta.index[gaps])
        out = out.join(meta, on="item_id")
    out["n_humans"] = n_h.astype(int)
    for j in range(v):
        out[f"h{j}"] = counts[:, j]
    out["human_mean"] = h_mean
    out["human_level"] = majority_level(counts, levels)
    out["humans_agree"] = (counts.max(axis=1) == n_h) & (n_h >= 2)

    judge_ids = _pick_judge(_judge_ids(df, None), judge)  # df is a temporary: not shared
    j_score = np.full(n_items, np.nan)
    if judge_ids:
        if len(judge_ids) > 1:
            raise ConfigError(
                f"metric {scale.id!r} has several judges ({', '.join(judge_ids)}); choose one with judge=... (--judge on the command line)"
            )
        if judge_column not in df.columns:
            raise ConfigError(f"judge score column {judge_column!r} is not in the ratings table")
        jr = df[(df["rater_kind"] == "judge") & (df["rater"].astype(str) == judge_ids[0])]
        codes = pd.Index(item_ids).get_indexer(jr["item_id"])
        j_score[codes] = jr[judge_column].to_numpy(float)
    out["judge_score"] = j_score
    j_idx = nearest_level(j_score, levels)
    out["judge_level"] = np.where(j_idx >= 0, levels[np.maximum(j_idx, 0)], np.nan)
    out["metric"] = scale.id
    return out


def level_counts(frame: pd.DataFrame, n_levels: int) -> np.ndarray:
    """The ``h0..h{V-1}`` columns of an item table as an array, shape (N, V)."""
    return frame[[f"h{j}" for j in range(n_levels)]].to_numpy(float)


def scales_for(ratings: pd.DataFrame, registry: MetricRegistry = DEFAULT_REGISTRY) -> dict[str, MetricScale]:
    """The declared scale of every metric in the table."""
    metrics = _shared(("metrics", id(ratings)), ratings, lambda: sorted(ratings["metric"].astype(str).unique()))
    return {m: registry.get(m) for m in metrics}

"""Per-item consensus of human ratings: mean, median, or majority with explicit ties.

The one definition of the majority rule (:func:`majority_level`) and of the
nearest level of a scale (:func:`nearest_level`): the analyses and the
calibrators' targets use these, so "the humans' consensus level" means the same
thing everywhere.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from judgecal.errors import ConfigError

TIE_RULES = ("lower", "higher", "mean", "nan")


def nearest_level(values: np.ndarray, levels) -> np.ndarray:
    """Index of the level nearest each value, shape (n,); -1 for NaN.

    Parameters
    ----------
    values : float array, shape (n,)
    levels : array, shape (V,), increasing

    Returns
    -------
    int array, shape (n,)
        A value exactly halfway between two levels goes to the lower one.

    Examples
    --------
    >>> nearest_level(np.array([0.2, 0.5, 1.7, np.nan]), [0, 1, 2])
    array([ 0,  0,  2, -1])
    """
    values = np.asarray(values, dtype=float)
    lv = np.asarray(levels, dtype=float)
    idx = np.abs(values[:, None] - lv[None, :]).argmin(axis=1)
    return np.where(np.isnan(values), -1, idx)


def majority_level(counts: np.ndarray, levels, ties: str = "lower") -> np.ndarray:
    """The most frequent level of each row, shape (N,); NaN for a row without ratings.

    Parameters
    ----------
    counts : array, shape (N, V)
        How many raters gave each level.
    levels : array, shape (V,), increasing
    ties : {"lower", "higher", "mean", "nan"}
        What a row whose most frequent levels are tied gets: the ``lower``
        (default) or ``higher`` of them, their ``mean``, or ``nan`` (no consensus).

    Returns
    -------
    float array, shape (N,)

    Examples
    --------
    >>> counts = np.array([[2, 1, 0], [0, 1, 1], [0, 0, 0]])
    >>> majority_level(counts, [0, 1, 2])
    array([ 0.,  1., nan])
    >>> majority_level(counts, [0, 1, 2], ties="higher")
    array([ 0.,  2., nan])
    """
    if ties not in TIE_RULES:
        raise ConfigError(f"ties must be one of {TIE_RULES}, not {ties!r}")
    counts = np.asarray(counts, dtype=float)
    lv = np.asarray(levels, dtype=float)
    if counts.shape[1] == 0:
        return np.full(len(counts), np.nan)
    top = counts.max(axis=1)
    is_mode = (counts == top[:, None]) & (top[:, None] > 0)
    n_modes = is_mode.sum(axis=1)
    lower = lv[is_mode.argmax(axis=1)]
    if ties == "lower":
        value = lower
    elif ties == "higher":
        value = lv[len(lv) - 1 - is_mode[:, ::-1].argmax(axis=1)]
    elif ties == "mean":
        value = (is_mode @ lv) / np.maximum(n_modes, 1)
    else:
        value = np.where(n_modes == 1, lower, np.nan)
    return np.where(top > 0, value, np.nan)


def consensus(
    ratings: pd.DataFrame,
    method: str = "mean",
    *,
    ties: str = "lower",
    rater_kind: str | None = "human",
    by: tuple[str, ...] = ("item_id", "metric"),
) -> pd.DataFrame:
    """One consensus score per item and metric.

    Parameters
    ----------
    ratings : ratings table
    method : ``"mean"``, ``"median"`` or ``"majority"`` (most frequent level)
    ties : for ``majority`` when several levels are equally frequent: take the
        ``lower`` or ``higher`` level, their ``mean``, or ``nan`` (no consensus)
    rater_kind : which raters to use (default ``human``; None for all)

    Returns
    -------
    DataFrame with ``by`` columns, ``language``, ``script`` (and ``task``,
    ``system``, ``prompt_id`` when present), ``consensus``, ``n_raters``,
    ``agreement`` (share of raters who gave the modal level) and ``tied``
    (majority only: whether a tie rule decided).
    """
    if method not in ("mean", "median", "majority"):
        raise ConfigError(f"consensus method must be mean, median or majority, not {method!r}")
    if ties not in TIE_RULES:
        raise ConfigError(f"ties must be one of {TIE_RULES}, not {ties!r}")
    df = ratings if rater_kind is None else ratings[ratings["rater_kind"] == rater_kind]
    # dropna=False below: an item whose grouping column is missing (a blank task)
    # is still an item, not something to leave out unnoticed.
    keys = list(by)
    carry = [c for c in ("language", "script", "task", "system", "prompt_id") if c in df.columns and c not in keys]
    if df.empty:
        return pd.DataFrame(columns=[*keys, *carry, "consensus", "n_raters", "agreement", "tied"])

    counts = df.groupby([*keys, "score"], sort=True, observed=True, dropna=False).size().rename("k").reset_index()
    by_item = counts.groupby(keys, observed=True, dropna=False, sort=True)
    n = by_item["k"].transform("sum")
    top = by_item["k"].transform("max")
    summary = pd.DataFrame(
        {
            "n_raters": counts.assign(n=n).groupby(keys, observed=True, dropna=False)["n"].first(),
            "agreement": (top / n).groupby([counts[k] for k in keys], observed=True, dropna=False).first(),
            "n_modes": (counts["k"] == top).groupby([counts[k] for k in keys], observed=True, dropna=False).sum(),
        }
    )
    if method == "mean":
        summary["consensus"] = df.groupby(keys, observed=True, dropna=False)["score"].mean()
    elif method == "median":
        summary["consensus"] = df.groupby(keys, observed=True, dropna=False)["score"].median()
    else:
        # Items x levels seen: the rows follow the groups' sorted order, as the summary's do.
        levels, level_code = np.unique(counts["score"].to_numpy(float), return_inverse=True)
        item_code = by_item.ngroup().to_numpy()
        table = np.zeros((len(summary), len(levels)))
        np.add.at(table, (item_code, level_code), counts["k"].to_numpy(float))
        summary["consensus"] = majority_level(table, levels, ties)
    summary["tied"] = (summary["n_modes"] > 1) if method == "majority" else False
    summary = summary.drop(columns="n_modes").reset_index()
    if carry:
        meta = df.groupby(keys, observed=True, dropna=False)[carry].first().reset_index()
        summary = summary.merge(meta, on=keys, how="left")
    return summary[[*keys, *carry, "consensus", "n_raters", "agreement", "tied"]]

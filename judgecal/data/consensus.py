"""Per-item consensus of human ratings: mean, median, or majority with explicit ties."""

from __future__ import annotations

import numpy as np
import pandas as pd

from judgecal.errors import ConfigError

TIE_RULES = ("lower", "higher", "mean", "nan")


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
    n = counts.groupby(keys, observed=True, dropna=False)["k"].transform("sum")
    top = counts.groupby(keys, observed=True, dropna=False)["k"].transform("max")
    counts["is_mode"] = counts["k"] == top
    grouped = counts[counts["is_mode"]].groupby(keys, observed=True, dropna=False)["score"]
    summary = pd.DataFrame(
        {
            "n_raters": counts.assign(n=n).groupby(keys, observed=True, dropna=False)["n"].first(),
            "agreement": (top / n).groupby([counts[k] for k in keys], observed=True, dropna=False).first(),
            "n_modes": grouped.size(),
        }
    )
    if method == "mean":
        summary["consensus"] = df.groupby(keys, observed=True, dropna=False)["score"].mean()
    elif method == "median":
        summary["consensus"] = df.groupby(keys, observed=True, dropna=False)["score"].median()
    else:
        pick = {"lower": grouped.min(), "higher": grouped.max(), "mean": grouped.mean()}
        value = pick.get(ties, grouped.min())
        if ties == "nan":
            value = value.where(summary["n_modes"] == 1, np.nan)
        summary["consensus"] = value
    summary["tied"] = (summary["n_modes"] > 1) if method == "majority" else False
    summary = summary.drop(columns="n_modes").reset_index()
    if carry:
        meta = df.groupby(keys, observed=True, dropna=False)[carry].first().reset_index()
        summary = summary.merge(meta, on=keys, how="left")
    return summary[[*keys, *carry, "consensus", "n_raters", "agreement", "tied"]]

"""The dashboard's filters as plain data: which values exist, and applying a choice.

A filter is a set of allowed values per column; an empty set means "all". The
judge filter keeps every human row and only the chosen judges' rows, so a
judge can be compared with the same native speakers whichever judge is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# filter name -> (ratings column, label shown in the sidebar)
FILTERS: dict[str, tuple[str, str]] = {
    "language": ("language", "Language"),
    "script": ("script", "Script"),
    "metric": ("metric", "Metric"),
    "task": ("task", "Task"),
    "judge": ("rater", "Judge"),
    "system": ("system", "System"),
}


@dataclass(frozen=True)
class Filters:
    """Chosen values per filter name (see :data:`FILTERS`); an empty tuple means all values."""

    chosen: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self):
        unknown = sorted(set(self.chosen) - set(FILTERS))
        if unknown:
            raise ValueError(f"unknown filter(s) {unknown}; known: {sorted(FILTERS)}")

    def values(self, name: str) -> tuple[str, ...]:
        return tuple(self.chosen.get(name, ()))

    @property
    def active(self) -> dict[str, tuple[str, ...]]:
        return {k: tuple(v) for k, v in self.chosen.items() if v}

    def key(self) -> tuple:
        """Hashable, order-independent identity (for caches)."""
        return tuple(sorted((k, tuple(sorted(map(str, v)))) for k, v in self.active.items()))

    def describe(self) -> str:
        if not self.active:
            return "all ratings"
        return "; ".join(f"{FILTERS[k][1].lower()} {', '.join(map(str, v))}" for k, v in self.active.items())


def filter_options(ratings: pd.DataFrame) -> dict[str, list[str]]:
    """Values each filter can take in ``ratings``; filters whose column is absent are left out.

    Returns filter name -> sorted distinct values (as strings; missing values are not offered).
    """
    out: dict[str, list[str]] = {}
    for name, (column, _) in FILTERS.items():
        if column not in ratings.columns:
            continue
        if name == "judge":
            col = ratings.loc[ratings["rater_kind"] == "judge", column]
        else:
            col = ratings[column]
        values = pd.unique(col.dropna().astype(str))
        if len(values):
            out[name] = sorted(values)
    return out


def filter_mask(ratings: pd.DataFrame, filters: Filters) -> np.ndarray:
    """Boolean mask of shape (n_rows,) selecting the rows the filters allow."""
    mask = np.ones(len(ratings), dtype=bool)
    for name, values in filters.active.items():
        column = FILTERS[name][0]
        if column not in ratings.columns:
            continue  # e.g. a choice kept from another file; nothing to filter on
        hit = ratings[column].astype(str).isin(values).to_numpy()
        if name == "judge":
            hit = hit | (ratings["rater_kind"] != "judge").to_numpy()
        mask = mask & hit
    return mask


def apply_filters(ratings: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """The rows of ``ratings`` the filters allow (the full frame when no filter is set)."""
    if not filters.active:
        return ratings
    return ratings[filter_mask(ratings, filters)]


def keep_known(filters: Filters, options: dict[str, list[str]]) -> tuple[Filters, dict[str, list[str]]]:
    """Drop chosen values the current data does not have (e.g. after loading another file).

    Returns the cleaned filters and, per filter, the values that were dropped.
    """
    kept: dict[str, tuple[str, ...]] = {}
    dropped: dict[str, list[str]] = {}
    for name, values in filters.chosen.items():
        allowed = set(options.get(name, ()))
        good = tuple(v for v in values if v in allowed)
        bad = [v for v in values if v not in allowed]
        if good:
            kept[name] = good
        if bad:
            dropped[name] = bad
    return Filters(kept), dropped

"""Cross-validation folds that keep groups (items, or all items of a prompt) together."""

from __future__ import annotations

import numpy as np
import pandas as pd

from judgecal.errors import ConfigError


def assign_folds(
    groups: np.ndarray | pd.Series,
    n_splits: int,
    random_state: int | None = 0,
    *,
    strata: np.ndarray | pd.Series | None = None,
) -> np.ndarray:
    """Fold number (0..n_splits-1) of every row, shape (n,).

    All rows sharing a ``groups`` value land in the same fold. With ``strata``
    (e.g. the language, shape (n,)), groups are dealt out round-robin within
    each stratum so every language is spread evenly over the folds.
    """
    if n_splits < 2:
        raise ConfigError(f"n_splits must be at least 2, got {n_splits}")
    codes, uniques = _factorize(groups, sort=False)
    if len(uniques) < n_splits:
        raise ConfigError(
            f"only {len(uniques)} distinct group(s) to split into {n_splits} folds; lower n_splits"
        )
    rng = np.random.default_rng(random_state)
    shuffle = rng.permutation(len(uniques))
    if strata is None:
        stratum = np.zeros(len(uniques), dtype=np.int64)
    else:
        s_codes = _factorize(strata, sort=True)[0]
        # A group's stratum is that of its first row.
        first = np.full(len(uniques), -1, dtype=np.int64)
        order = np.arange(len(codes))[::-1]
        first[codes[order]] = s_codes[order]
        stratum = first
    order = np.lexsort((shuffle, stratum))
    group_fold = np.empty(len(uniques), dtype=np.int64)
    # Round-robin within each stratum, starting each stratum where the last ended
    # so small strata do not all pile into fold 0.
    group_fold[order] = np.arange(len(uniques)) % n_splits
    return group_fold[codes]


def _factorize(values, *, sort: bool) -> tuple[np.ndarray, np.ndarray]:
    """Codes (n,) and uniques of values: in order of first appearance, or of sorted value.

    A categorical column without missing values is factorised through its
    integer codes (much cheaper than hashing its strings again) when that gives
    the same codes: always in order of appearance, and for ``sort`` only when the
    categories are sorted.
    """
    if (isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype) and not values.isna().any()
            and (not sort or values.cat.categories.is_monotonic_increasing)):
        return pd.factorize(values.cat.codes.to_numpy(), sort=sort)
    return pd.factorize(pd.Series(np.asarray(values, dtype=object)), sort=sort)

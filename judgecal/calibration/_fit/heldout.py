"""Held-out rows, compressed, for scoring every shrinkage setting by absolute error.

The squared error of a shrinkage setting follows from per-fold moment sums (see
``hierarchy.fold_sums``); the absolute error does not, so it is summed over the
held-out rows themselves. Rows with the same (fold, language, node predictions,
target) count once with a weight: with an isotonic calibrator on a judge's few
score levels, a metric's held-out items collapse to a few thousand rows whatever
the size of the table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from judgecal.calibration._fit.rowcodes import unique_rows

CHUNK = 4096  # rows scored at once: (settings, CHUNK) floats in memory


@dataclass
class HeldOutRows:
    """fold, lang : (m,) codes; v : (m, 5) = (f_L, f_S, f_M, y, 1); count : (m,) items per row."""

    fold: np.ndarray
    lang: np.ndarray
    v: np.ndarray
    count: np.ndarray


def held_out_rows(folds: list[np.ndarray], langs: list[np.ndarray], vs: list[np.ndarray]) -> HeldOutRows:
    """Stack the folds' held-out rows (lang (r_f,), v (r_f, 5) per fold) and merge identical rows."""
    fold = np.concatenate([np.full(len(lang), f, dtype=np.int64) for f, lang in zip(folds, langs, strict=True)])
    lang = np.concatenate(langs).astype(np.int64)
    v = np.concatenate(vs)
    key = np.column_stack([fold, lang, v[:, :4]])
    uniq, inverse = unique_rows(key)  # as np.unique(key, axis=0), without its slow row sort
    count = np.bincount(inverse.ravel(), minlength=len(uniq)).astype(float)
    rows_v = np.column_stack([uniq[:, 2:6], np.ones(len(uniq))])
    return HeldOutRows(uniq[:, 0].astype(np.int64), uniq[:, 1].astype(np.int64), rows_v, count)


def summed_absolute_error(u: np.ndarray, rows: HeldOutRows) -> np.ndarray:
    """Sum over held-out items of |prediction - y| for every setting.

    u : (..., F, n_lang, 5) coefficients with prediction - y = u . v for a row of
    that fold and language. Returns shape u.shape[:-3].
    """
    lead = u.shape[:-3]
    flat = u.reshape(-1, *u.shape[-3:])  # (settings, F, n_lang, 5)
    total = np.zeros(flat.shape[0])
    order = np.lexsort((rows.lang, rows.fold))
    f_sorted, l_sorted = rows.fold[order], rows.lang[order]
    cuts = np.flatnonzero((np.diff(f_sorted) != 0) | (np.diff(l_sorted) != 0)) + 1
    for part in np.split(order, cuts) if len(order) else []:
        coef = flat[:, rows.fold[part[0]], rows.lang[part[0]], :]  # (settings, 5)
        for start in range(0, len(part), CHUNK):
            sel = part[start:start + CHUNK]
            total += np.abs(coef @ rows.v[sel].T) @ rows.count[sel]
    return total.reshape(lead)

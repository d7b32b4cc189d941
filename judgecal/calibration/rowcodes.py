"""Distinct rows of a numeric table, fast.

``np.unique(table, axis=0)`` views each row as one structured value and sorts
those, which is slow (about 0.4 s for 83k rows of 6 floats). Coding each
column on its own (a 1-D sort) and combining the codes into one integer per
row gives the same rows, in the same (lexicographic) order, with the same
inverse, in a small fraction of the time.
"""

from __future__ import annotations

import numpy as np

_MAX_CODE = 2**40  # combined codes are compacted before they could overflow int64


def unique_rows(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows (k, c) of table (n, c), sorted lexicographically, and the
    inverse (n,) with table == rows[inverse]; as ``np.unique(table, axis=0,
    return_inverse=True)`` for tables without NaN."""
    n, c = table.shape
    if n == 0:
        return table.copy(), np.zeros(0, dtype=np.int64)
    codes = np.zeros(n, dtype=np.int64)
    space = 1
    for j in range(c):
        values, inverse = np.unique(table[:, j], return_inverse=True)
        if space * len(values) >= _MAX_CODE:  # renumber the rows seen so far 0..k-1, order kept
            _, codes = np.unique(codes, return_inverse=True)
            codes = codes.reshape(-1).astype(np.int64)
            space = int(codes.max()) + 1
        codes = codes * len(values) + inverse.reshape(-1)
        space *= len(values)
    distinct, inverse = np.unique(codes, return_inverse=True)
    inverse = inverse.reshape(-1)
    first = np.empty(len(distinct), dtype=np.int64)
    first[inverse[::-1]] = np.arange(n - 1, -1, -1)  # first row of each distinct code
    return table[first], inverse

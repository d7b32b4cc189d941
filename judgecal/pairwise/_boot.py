"""Cluster bootstrap of per-cell battle counts, as sparse matrix products.

Resampling clusters (prompts) with replacement only changes how many times
each cluster is counted. So each cluster's contribution to the cell counts is
precomputed once, as a row of a sparse (K, C * 3) matrix; a resample is a
vector of cluster multiplicities ``Multinomial(K, 1/K)`` and its cell counts
are that vector times the matrix. Without clusters every battle is its own
cluster; identical battles (same cell, outcome and weight) are collapsed
first, and the multinomial over the distinct rows, weighted by how many
battles share each, is exactly the battle bootstrap.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy import sparse


def cluster_matrix(inverse: np.ndarray, y: np.ndarray, n_cells: int, clusters: np.ndarray | None):
    """(matrix (K, C*3) sparse, multiplicity (K,)) for the resampling units.

    inverse: battle -> cell (n,); y: oriented weighted outcome rows (n, 3);
    clusters: cluster label per battle (n,) or None (each battle its own unit).
    """
    n = len(inverse)
    if clusters is None:
        keyed = np.column_stack([inverse.astype(float), y])
        uniq, codes, mult = np.unique(keyed, axis=0, return_inverse=True, return_counts=True)
        unit, k = codes.reshape(-1), len(uniq)
    else:
        _, unit = np.unique(np.asarray(clusters), return_inverse=True)
        unit = unit.reshape(-1)
        k = int(unit.max()) + 1
        mult = np.ones(k, dtype=np.int64)
    rows = np.repeat(unit, 3)
    cols = (inverse[:, None] * 3 + np.arange(3)[None, :]).reshape(-1)
    vals = y.reshape(-1)
    mat = sparse.csr_matrix((vals, (rows, cols)), shape=(k, n_cells * 3))
    if clusters is None:
        # Each distinct row was summed `mult` times; keep one copy, multiplicities carry the rest.
        mat = sparse.diags(1.0 / mult) @ mat
    return mat.tocsr(), mult.astype(np.int64)


def resampled_counts(
    mat: sparse.csr_matrix, mult: np.ndarray, n_resamples: int, rng: np.random.Generator, block: int = 128
) -> Iterator[np.ndarray]:
    """Blocks of resampled cell counts, each shape (b, C, 3)."""
    total = int(mult.sum())
    p = mult / total
    mat_t = mat.T.tocsr()
    for start in range(0, n_resamples, block):
        b = min(block, n_resamples - start)
        draws = rng.multinomial(total, p, size=b).astype(float)
        yield np.asarray((mat_t @ draws.T).T).reshape(b, -1, 3)

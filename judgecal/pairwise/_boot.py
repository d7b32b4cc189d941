"""Cluster bootstrap of per-cell battle counts, as sparse matrix products.

Resampling clusters (prompts) with replacement only changes how many times
each cluster is counted. So each cluster's contribution to the cell counts is
precomputed once, as a row of a sparse (K, C * 3) matrix; a resample is a
vector of cluster multiplicities ``Multinomial(K, 1/K)`` and its cell counts
are that vector times the matrix. Without clusters every battle is its own
cluster; identical battles (same cell, outcome and weight) are collapsed
first, and the multinomial over the distinct rows, weighted by how many
battles share each, is exactly the battle bootstrap.

Paired resamples: with ``universe`` (every cluster label of a language), the
units are the universe's clusters in its order, so two fits (say the natives'
votes and the judge's verdicts on the same prompts) given the same universe
and seed draw the same prompts in every resample. Statistics comparing them
(Kendall tau between two leaderboards) then get a paired bootstrap.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from scipy import sparse

from judgecal.errors import InputError, Problem
from judgecal.pairwise._inputs import cluster_codes


def cluster_matrix(inverse: np.ndarray, y: np.ndarray, n_cells: int, clusters: np.ndarray | None,
                   universe: np.ndarray | None = None):
    """(matrix (K, C*3) sparse, multiplicity (K,)) for the resampling units.

    inverse: battle -> cell (n,); y: oriented weighted outcome rows (n, 3);
    clusters: cluster label per battle (n,) or None (each battle its own unit);
    universe: (K,) distinct cluster labels that fix the units and their order
    (a cluster of the universe without battles is an empty row).
    """
    if universe is not None:
        if clusters is None:
            raise InputError("a cluster universe needs cluster labels for the battles")
        universe = pd.Index(universe)
        if not universe.is_unique:
            raise InputError("the cluster universe repeats a label")
        unit = universe.get_indexer(np.asarray(clusters))
        k = len(universe)
        if (unit < 0).any():
            outside = np.flatnonzero(unit < 0)
            raise InputError([Problem("cluster label not in the universe", row=int(r), column="clusters")
                              for r in outside], summary=f"{len(outside)} battle(s) outside the cluster universe")
        mult = np.ones(k, dtype=np.int64)
    elif clusters is None:
        keyed = pd.DataFrame({"cell": inverse, "w": y[:, 0], "t": y[:, 1], "l": y[:, 2]})
        unit = keyed.groupby(["cell", "w", "t", "l"], sort=False).ngroup().to_numpy()  # hashing, no sort
        mult = np.bincount(unit)
        k = len(mult)
    else:
        unit, k = cluster_codes(clusters, len(inverse))
        mult = np.ones(k, dtype=np.int64)
    rows = np.repeat(unit, 3)
    cols = (inverse[:, None] * 3 + np.arange(3)[None, :]).reshape(-1)
    vals = y.reshape(-1)
    nonzero = vals != 0  # one-hot outcomes: two thirds of the entries are zero
    mat = sparse.csr_matrix((vals[nonzero], (rows[nonzero], cols[nonzero])), shape=(k, n_cells * 3))
    if clusters is None and universe is None:
        # Each distinct row was summed `mult` times; keep one copy, multiplicities carry the rest.
        mat = sparse.diags(1.0 / mult) @ mat
    return mat.tocsr(), mult.astype(np.int64)


def resampled_counts(
    mat: sparse.csr_matrix, mult: np.ndarray, n_resamples: int, rng: np.random.Generator, block: int = 128
) -> Iterator[np.ndarray]:
    """Blocks of resampled cell counts, each shape (b, C, 3)."""
    total = int(mult.sum())
    k = len(mult)
    uniform = bool((mult == 1).all())
    p = mult / total
    # float32 halves the memory traffic of the product; counts stay exact below 2^24 per cell.
    mat_t = mat.T.tocsr().astype(np.float32)
    for start in range(0, n_resamples, block):
        b = min(block, n_resamples - start)
        if uniform:  # K draws among K equally likely units: a bincount is cheaper than a multinomial
            picks = rng.integers(k, size=(b, k)) + (np.arange(b) * k)[:, None]
            draws = np.bincount(picks.ravel(), minlength=b * k).reshape(b, k).astype(np.float32)
        else:
            draws = rng.multinomial(total, p, size=b).astype(np.float32)
        yield np.asarray(mat_t @ draws.T, dtype=np.float64).T.reshape(b, -1, 3)

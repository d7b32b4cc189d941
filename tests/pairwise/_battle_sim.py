"""A small seeded battle generator for the leaderboard tests (Davidson model, known strengths)."""

from __future__ import annotations

import numpy as np


def random_battles(rng: np.random.Generator, m: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n battles between uniformly drawn distinct systems of m; each (n,)."""
    i = rng.integers(m, size=n)
    j = (i + rng.integers(1, m, size=n)) % m
    return i, j


def davidson_probs(theta, nu, i, j, *, x=None, beta=0.0, shift=None) -> np.ndarray:
    """P(i better), P(tie), P(j better), shape (n, 3); ``shift`` (n, m) per-battle strength offsets."""
    theta = np.asarray(theta, dtype=float)
    d = theta[i] - theta[j]
    if shift is not None:
        rows = np.arange(len(i))
        d = d + shift[rows, i] - shift[rows, j]
    if x is not None:
        d = d + beta * x
    z = np.exp(d / 2) + np.exp(-d / 2) + nu
    return np.column_stack([np.exp(d / 2) / z, np.full_like(d, nu) / z, np.exp(-d / 2) / z])


def draw_outcomes(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One outcome code per row of probs (n, 3)."""
    return (rng.random(len(probs))[:, None] > probs.cumsum(axis=1)).sum(axis=1).clip(0, 2)

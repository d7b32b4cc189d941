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


def prompt_averaged_strengths(theta, nu, prompt_sd: float) -> np.ndarray:
    """Centred strengths a Davidson fit converges to when every prompt shifts each system's strength by
    N(0, prompt_sd^2) and battles draw their ordered pair uniformly (``random_battles``): the fit on the
    outcome probabilities averaged over prompts (Gauss-Hermite), every ordered pair weighted alike."""
    from judgecal.pairwise.leaderboard import DavidsonBT

    theta = np.asarray(theta, dtype=float)
    m = len(theta)
    a, b = np.array([(x, y) for x in range(m) for y in range(m) if x != y]).T
    nodes, weights = np.polynomial.hermite_e.hermegauss(41)
    probs = np.zeros((len(a), 3))
    for z, w in zip(nodes, weights / weights.sum(), strict=True):
        shift = np.zeros((len(a), m))
        shift[np.arange(len(a)), a] = np.sqrt(2.0) * prompt_sd * z  # u_a - u_b ~ N(0, 2 sd^2)
        probs += w * davidson_probs(theta, nu, a, b, shift=shift)
    return DavidsonBT().fit(a, b, probs, n_systems=m).strengths_


def judged_world(rng: np.random.Generator, theta, nu: float, i, j, *, agreement: float, n_labelled: int,
                 shift=None) -> tuple[np.ndarray, np.ndarray]:
    """(judge codes (n,), human (n, 3) one-hot on ``n_labelled`` random battles, NaN rows elsewhere).

    Natives follow Davidson(theta [+ shift], nu). The judge repeats the native outcome with
    probability ``agreement`` and otherwise answers from its own distorted model (stretched
    strengths, a system it overrates, few ties; the prompt's shift stretched alike)."""
    n = len(i)
    native = draw_outcomes(rng, davidson_probs(theta, nu, i, j, shift=shift))
    judge_theta = 1.4 * np.asarray(theta) + np.array([0.0, 0.6, 0.0, 0.0, 0.0])
    own = draw_outcomes(rng, davidson_probs(judge_theta, 0.1, i, j, shift=None if shift is None else 1.4 * shift))
    judge = np.where(rng.random(n) < agreement, native, own)
    human = np.full((n, 3), np.nan)
    lab = rng.choice(n, n_labelled, replace=False)
    human[lab] = np.eye(3)[native[lab]]
    return judge, human

"""Prediction-powered Davidson strengths (PPI++, Angelopoulos, Duchi and Zrnic 2023).

Setting: ``n`` labelled battles carry a native-speaker outcome ``Y`` (vote
shares, (3,)) and the judge's prediction ``f`` of it (a verdict one-hot, or
calibrated probabilities); ``N`` more battles carry only ``f``. With
``l(theta; y)`` the Davidson log-likelihood of one battle (linear in ``y``),
the estimator maximises

    lam * mean_{unlabelled} l(theta; f)  +  mean_{labelled} [ l(theta; Y) - lam * l(theta; f) ]

The second term is the *rectifier*: on the labelled battles it adds what the
natives said and takes away what the judge predicted, so the judge's bias
cancels in expectation for every ``lam``; ``lam = 0`` is the human-only fit,
``lam = 1`` plain PPI. Because ``l`` is linear in the outcome, the objective is
one Davidson likelihood with signed per-cell weights; the weight per cell,
``lam * N_cell / N + (1 - lam) * n_cell / n``, stays >= 0 for lam in [0, 1],
so the problem stays concave.

Covariance (centred strengths, log nu): ``H^+ [lam^2 (n/N) V_f + V_r] H^+ / n``
with ``H`` the mean per-battle information (it depends on the pairs only, not
the outcomes, so all battles estimate it), ``V_f`` the covariance of the
per-battle score ``grad l(theta; f)`` over all battles and ``V_r`` that of
``grad l(theta; Y) - lam grad l(theta; f)`` over the labelled ones. ``lam`` is
tuned to minimise the trace of the strengths' block (PPI++), clipped to [0, 1].
Battles are treated as independent draws (no clustering by prompt).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from judgecal.pairwise import _bt


def scores(i: np.ndarray, j: np.ndarray, y: np.ndarray, params: np.ndarray, m: int) -> sparse.csr_matrix:
    """Per-battle gradients of l(theta; y) in (theta (m), phi), sparse (n, m + 1)."""
    battles = _bt.Cells(a=i, b=j, x=None, n_systems=m)  # one "cell" per battle
    _, derivs = _bt.evaluate(battles, y[None], params[None], 0.0)
    g_d, g_phi = derivs[0][0], derivs[1][0]
    n = len(i)
    rows = np.repeat(np.arange(n), 3)
    cols = np.column_stack([i, j, np.full(n, m)]).reshape(-1)
    vals = np.column_stack([g_d, -g_d, g_phi]).reshape(-1)
    return sparse.csr_matrix((vals, (rows, cols)), shape=(n, m + 1))


def cross_cov(u: sparse.csr_matrix, v: sparse.csr_matrix) -> np.ndarray:
    """Sample covariance between the rows of u and v (both (n, k)), shape (k, k)."""
    n = u.shape[0]
    mu, mv = np.asarray(u.mean(axis=0)).ravel(), np.asarray(v.mean(axis=0)).ravel()
    return (np.asarray((u.T @ v).todense()) - n * np.outer(mu, mv)) / max(n - 1, 1)


def objective_counts(cells, inv_l, inv_u, y_l, f_l, f_u, lam: float) -> np.ndarray:
    """Signed per-cell outcome weights (C, 3) of the PPI objective; inputs oriented to the cells."""
    n_cells = len(cells.a)
    n, big_n = len(inv_l), len(inv_u)
    human = _bt.cell_counts(inv_l, y_l, n_cells) / n
    judge_l = _bt.cell_counts(inv_l, f_l, n_cells) / n
    judge_u = _bt.cell_counts(inv_u, f_u, n_cells) / max(big_n, 1)
    return lam * judge_u + human - lam * judge_l


def information(cells, inv_all, params: np.ndarray) -> np.ndarray:
    """Mean per-battle information (k, k) over all battles (outcome-free), k = m + 1."""
    n_cells = len(cells.a)
    mass = np.bincount(inv_all, minlength=n_cells) / len(inv_all)
    counts = np.column_stack([mass, np.zeros(n_cells), np.zeros(n_cells)])  # any split of the mass works
    _, hess = _bt.grad_hess(cells, counts[None], params[None], 0.0, True)
    return -hess[0]


def variances(gy: sparse.csr_matrix, gf_l: sparse.csr_matrix, gf_all: sparse.csr_matrix):
    """Pieces for lam tuning and covariance: (V_y, C_yf, V_f_labelled, V_f_all)."""
    return cross_cov(gy, gy), cross_cov(gy, gf_l), cross_cov(gf_l, gf_l), cross_cov(gf_all, gf_all)


def tuned_lambda(a_pinv: np.ndarray, c_yf: np.ndarray, v_f: np.ndarray, n: int, big_n: int, m: int) -> float:
    """PPI++ lam minimising the trace of the strengths' covariance, clipped to [0, 1]."""
    blk = slice(0, m)
    num = np.trace((a_pinv @ (c_yf + c_yf.T) @ a_pinv)[blk, blk])
    den = 2.0 * (1.0 + n / big_n) * np.trace((a_pinv @ v_f @ a_pinv)[blk, blk])
    return float(np.clip(num / den, 0.0, 1.0)) if den > 0 else 0.0


def covariance(a_pinv, v_y, c_yf, v_f_l, v_f_all, lam: float, n: int, big_n: int) -> np.ndarray:
    """Covariance of the PPI estimate (k, k): A [lam^2 (n/N) V_f + V_r] A / n."""
    v_r = v_y - lam * (c_yf + c_yf.T) + lam**2 * v_f_l
    return a_pinv @ (lam**2 * (n / big_n) * v_f_all + v_r) @ a_pinv / n

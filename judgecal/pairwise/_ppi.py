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
That covariance treats battles as independent draws.

Clustered by prompt (``clusters``). Battles of one prompt share whatever the
prompt does to the systems, so they are correlated; prompts are taken as the
independent draws instead. To first order ``theta_hat - theta = H^+ G`` with
``G`` the objective's gradient at the truth,

    G = (lam / N) sum_{unlabelled} g_f  +  (1 / n) sum_{labelled} (g_y - lam g_f),

a sum over battles, so also a sum over clusters ``G = sum_c z_c``, where ``z_c``
adds up the cluster's battles with the weight each has in ``G``: ``lam / N`` on
a judge score of an unlabelled battle, ``1 / n`` on a rectifier of a labelled
one. A cluster may hold both kinds, so ``z_c`` has both parts and
``Var z_c`` has a labelled x unlabelled cross term that independent battles
never have. Independent clusters give ``Var G = sum_c Var z_c``, estimated by
``sum_c z~_c z~_c'`` (the cluster-robust sandwich) with each battle's row
centred at its own group's mean (labelled g_y, labelled g_f, unlabelled g_f:
the judge's scores need not average 0 at the native strengths) and each group's
part scaled by ``sqrt(K_g / (K_g - 1))``, ``K_g`` the clusters holding battles of
that group (one degree of freedom spent on the group's mean). ``z~_c`` is
linear in lam, ``p_c + lam q_c``, with

    p_c = s_l / n * sum_{labelled in c} (g_y - mean g_y)
    q_c = s_u / N * sum_{unlabelled in c} (g_f - mean_u g_f) - s_l / n * sum_{labelled in c} (g_f - mean_l g_f)

(``s_g`` the scale above), so ``Var G = S0 + lam S1 + lam^2 S2`` with
``S0 = sum p p'``, ``S1 = sum (p q' + q p')``, ``S2 = sum q q'``; the covariance
is ``H^+ Var G H^+`` and the trace-minimising lam is ``-tr S1 / (2 tr S2)`` on the
strengths' block of ``H^+ . H^+``. Check: with one battle per cluster,
``S0 = V_y / n``, ``S1 = -(C_yf + C_yf') / n`` and ``S2 = V_f,l / n + V_f,u / N``,
the independent formula term by term, except that there ``V_f`` of the unlabelled
term is pooled over all battles (the judge's scores have one distribution in
both groups when battles are independent; cluster sums over the unlabelled
battles of a prompt do not share a distribution with sums over all of them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from judgecal.errors import InputError
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


@dataclass(frozen=True)
class Independent:
    """Spread of the PPI gradient for independent battles (the pieces of :func:`variances`)."""

    v_y: np.ndarray
    c_yf: np.ndarray
    v_f_l: np.ndarray
    v_f_all: np.ndarray
    n: int
    big_n: int

    def lam(self, a_pinv: np.ndarray, m: int) -> float:
        return tuned_lambda(a_pinv, self.c_yf, self.v_f_all, self.n, self.big_n, m)

    def cov(self, a_pinv: np.ndarray, lam: float) -> np.ndarray:
        return covariance(a_pinv, self.v_y, self.c_yf, self.v_f_l, self.v_f_all, lam, self.n, max(self.big_n, 1))


@dataclass(frozen=True)
class Clustered:
    """Cluster-robust spread of the PPI gradient, ``Var G = s0 + lam s1 + lam^2 s2`` (module docstring)."""

    s0: np.ndarray
    s1: np.ndarray
    s2: np.ndarray
    n_clusters: int

    def lam(self, a_pinv: np.ndarray, m: int) -> float:
        blk = slice(0, m)
        num = -np.trace((a_pinv @ self.s1 @ a_pinv)[blk, blk])
        den = 2.0 * np.trace((a_pinv @ self.s2 @ a_pinv)[blk, blk])
        return float(np.clip(num / den, 0.0, 1.0)) if den > 0 else 0.0

    def cov(self, a_pinv: np.ndarray, lam: float) -> np.ndarray:
        return a_pinv @ (self.s0 + lam * self.s1 + lam**2 * self.s2) @ a_pinv


def clustered(gy: sparse.csr_matrix, gf_l: sparse.csr_matrix, gf_u: sparse.csr_matrix,
              codes_l: np.ndarray, codes_u: np.ndarray, n_clusters: int) -> Clustered:
    """Cluster-robust pieces from per-battle scores: g_y and g_f of the labelled battles (n, k), g_f of the
    unlabelled ones (N, k), and each battle's cluster code in 0..n_clusters-1."""
    n, big_n, k = gy.shape[0], gf_u.shape[0], gy.shape[1]
    k_l, k_u = len(np.unique(codes_l)), len(np.unique(codes_u))
    if k_l < 2:
        raise InputError(f"clustered intervals need labelled battles from at least 2 clusters (prompts); "
                         f"all {n} labelled battles share one")
    if big_n and k_u < 2:
        raise InputError(f"clustered intervals need unlabelled battles from at least 2 clusters (prompts); "
                         f"all {big_n} unlabelled battles share one")
    s_l = np.sqrt(k_l / (k_l - 1)) / n
    s_u = np.sqrt(k_u / (k_u - 1)) / big_n if big_n else 0.0
    # Per-battle rows [p-part | q-part] (k + k columns), before centring.
    lab = sparse.hstack([gy, -gf_l]).tocsr() * s_l
    unl = sparse.hstack([sparse.csr_matrix((big_n, k)), gf_u]).tocsr() * s_u
    means = np.vstack([np.asarray(lab.mean(axis=0)).ravel(),
                       np.asarray(unl.mean(axis=0)).ravel() if big_n else np.zeros(2 * k)])  # (2, 2k)
    codes = np.concatenate([codes_l, codes_u])
    members = sparse.csr_matrix((np.ones(n + big_n), (codes, np.arange(n + big_n))), shape=(n_clusters, n + big_n))
    sums = (members @ sparse.vstack([lab, unl]).tocsr()).tocsr()  # (K, 2k) cluster sums
    counts = np.column_stack([np.bincount(codes_l, minlength=n_clusters),
                              np.bincount(codes_u, minlength=n_clusters)]).astype(float)  # (K, 2)
    # sum_c (x_c - counts_c means)(x_c - counts_c means)', expanded so the (K, 2k) centred sums stay implicit.
    shift = np.asarray(sums.T @ counts) @ means  # (2k, 2k)
    gram = np.asarray((sums.T @ sums).todense()) - shift - shift.T + means.T @ (counts.T @ counts) @ means
    return Clustered(s0=gram[:k, :k], s1=gram[:k, k:] + gram[k:, :k], s2=gram[k:, k:], n_clusters=n_clusters)

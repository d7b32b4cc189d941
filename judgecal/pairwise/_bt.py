"""Davidson's Bradley-Terry model with ties, fitted by batched Newton steps.

The model (Davidson, 1970). System ``s`` has log-strength ``theta_s``; ties
have the parameter ``nu = exp(phi) >= 0``. In a battle of ``a`` against ``b``
with ``d = theta_a - theta_b (+ beta * x``, an optional battle covariate such
as a length difference):

    P(a better) = e^{d/2} / Z,   P(tie) = nu / Z,   P(b better) = e^{-d/2} / Z,
    Z = e^{d/2} + e^{-d/2} + nu = 2 cosh(d/2) + nu.

(Multiply numerator and denominator by ``sqrt(pi_a pi_b)`` to get the usual
form ``pi_a / (pi_a + pi_b + nu sqrt(pi_a pi_b))``.) Two equal systems tie with
probability ``nu / (2 + nu)``. Every outcome's log-probability is linear in
``(theta, phi, beta)`` minus one log-sum-exp, so the log-likelihood is concave
and Newton's method with step halving finds the maximum.

Sufficient statistics. The log-likelihood of all battles of one *cell* (one
pair of systems with one covariate value) needs only three numbers, the
summed outcome weights ``W`` (a better), ``T`` (tie), ``L`` (b better):

    l = (W - L) d / 2 + T phi - (W + T + L) log Z.

So a million battles among 100 systems reduce to at most 4,950 cells, and a
bootstrap resample is only a new ``(W, T, L)`` per cell. This module fits
``R`` count vectors over the same cells at once (arrays with a leading
resample axis), which is what makes 1,000 resamples cheap.

Identifiability: strengths are kept centred (mean log-strength 0). The Hessian
in ``theta`` is a weighted graph Laplacian, singular along the all-ones
vector; Newton steps solve with ``c 1 1^T`` added, which leaves the gradient
(orthogonal to ones) unchanged and keeps every step centred.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

# Resamples solved together; bounds the (block, k, k) Hessian array.
_BLOCK = 128


@dataclass(frozen=True)
class Cells:
    """Distinct (a, b, x) battle cells, a < b. Shapes (C,); ``x`` None without covariate."""

    a: np.ndarray
    b: np.ndarray
    x: np.ndarray | None
    n_systems: int

    @property
    def n_params(self) -> int:
        return self.n_systems + 1 + (self.x is not None)

    def pairs(self) -> tuple[np.ndarray, np.ndarray, sparse.csr_matrix | None]:
        """Distinct pairs (pa, pb) and a sparse (C, P) cell -> pair sum matrix (None if cells are pairs)."""
        if self.x is None:
            return self.a, self.b, None
        key = self.a * self.n_systems + self.b
        uniq, inv = np.unique(key, return_inverse=True)
        agg = sparse.csr_matrix((np.ones(len(key)), (np.arange(len(key)), inv)), shape=(len(key), len(uniq)))
        return uniq // self.n_systems, uniq % self.n_systems, agg


def make_cells(
    i: np.ndarray, j: np.ndarray, n_systems: int, x: np.ndarray | None = None
) -> tuple[Cells, np.ndarray, np.ndarray]:
    """Cells of battles (i, j, x) and each battle's cell and orientation.

    Returns (cells, inverse (n,), flipped (n,) bool): battle k falls in cell
    ``inverse[k]``; ``flipped[k]`` says its ``i`` is the cell's ``b`` (so its
    outcome columns and covariate must be reversed).
    """
    flipped = i > j
    a = np.where(flipped, j, i)
    b = np.where(flipped, i, j)
    keys = [a, b] if x is None else [a, b, np.where(flipped, -x, x)]
    stacked = np.column_stack(keys).astype(float)
    uniq, inverse = np.unique(stacked, axis=0, return_inverse=True)
    cx = None if x is None else uniq[:, 2]
    cells = Cells(a=uniq[:, 0].astype(np.int64), b=uniq[:, 1].astype(np.int64), x=cx, n_systems=n_systems)
    return cells, inverse.reshape(-1), flipped


def oriented(y: np.ndarray, flipped: np.ndarray) -> np.ndarray:
    """Outcome rows (n, 3) reversed where the battle is flipped (a better <-> b better)."""
    return np.where(flipped[:, None], y[:, ::-1], y)


def cell_counts(inverse: np.ndarray, y: np.ndarray, n_cells: int) -> np.ndarray:
    """Summed outcome weights per cell, shape (n_cells, 3), from oriented weighted rows y (n, 3)."""
    return np.column_stack([np.bincount(inverse, weights=y[:, k], minlength=n_cells) for k in range(3)])


def _terms(d: np.ndarray, nu: np.ndarray):
    """Stable pieces of Z = 2cosh(d/2) + nu, elementwise; nu broadcast to d.

    Returns (log Z, sinh(d/2)/Z, cosh(d/2)/Z, nu/Z).
    """
    e = np.exp(-0.5 * np.abs(d))
    q = 1.0 + e * e + nu * e
    log_z = 0.5 * np.abs(d) + np.log(q)
    s = np.sign(d) * (1.0 - e * e) / (2.0 * q)
    c = (1.0 + e * e) / (2.0 * q)
    t = nu * e / q
    return log_z, s, c, t


def linear_predictor(cells: Cells, params: np.ndarray) -> np.ndarray:
    """d for every cell, shape (R, C), from params (R, k)."""
    m = cells.n_systems
    d = params[:, cells.a] - params[:, cells.b]
    if cells.x is not None:
        d = d + params[:, m + 1 : m + 2] * cells.x[None, :]
    return d


def loglik(cells: Cells, counts: np.ndarray, params: np.ndarray, alpha: float) -> np.ndarray:
    """Penalised log-likelihood per resample, shape (R,). counts (R, C, 3), params (R, k)."""
    m = cells.n_systems
    d = linear_predictor(cells, params)
    phi = params[:, m : m + 1]
    log_z, _, _, _ = _terms(d, np.exp(phi))
    w, t, l_ = counts[..., 0], counts[..., 1], counts[..., 2]
    tot = w + t + l_
    with np.errstate(invalid="ignore"):  # phi = -inf (no ties fitted) times zero tie weight
        tie_term = np.where(t != 0, t * phi, 0.0)
    ll = ((w - l_) * 0.5 * d + tie_term - tot * log_z).sum(axis=1)
    return ll - 0.5 * alpha * (params[:, :m] ** 2).sum(axis=1)


def cell_derivatives(cells: Cells, counts: np.ndarray, params: np.ndarray):
    """Per-cell first and second derivatives in (d, phi); each shape (R, C).

    Returns g_d, g_phi, h_dd, h_dphi, h_phiphi (the h are <= 0 / concave parts).
    The h depend on the total weight per cell only, not on the outcomes.
    """
    m = cells.n_systems
    d = linear_predictor(cells, params)
    nu = np.exp(params[:, m : m + 1])
    _, s, c, t = _terms(d, nu)
    w, tie, l_ = counts[..., 0], counts[..., 1], counts[..., 2]
    tot = w + tie + l_
    g_d = 0.5 * (w - l_) - tot * s
    g_phi = tie - tot * t
    h_dd = -tot * (0.5 * c - s * s)
    h_dphi = tot * s * t
    h_pp = -tot * t * (2.0 * c)
    return g_d, g_phi, h_dd, h_dphi, h_pp


def incidence(cells: Cells) -> sparse.csr_matrix:
    """Sparse (C, m) matrix with +1 at a and -1 at b: maps d-derivatives to theta."""
    c = len(cells.a)
    rows = np.concatenate([np.arange(c), np.arange(c)])
    cols = np.concatenate([cells.a, cells.b])
    vals = np.concatenate([np.ones(c), -np.ones(c)])
    return sparse.csr_matrix((vals, (rows, cols)), shape=(c, cells.n_systems))


def grad_hess(cells: Cells, counts: np.ndarray, params: np.ndarray, alpha: float, fit_ties: bool,
              inc: sparse.csr_matrix | None = None):
    """Gradient (R, k) and Hessian (R, k, k) of the penalised log-likelihood."""
    m, k = cells.n_systems, cells.n_params
    r = params.shape[0]
    inc = incidence(cells) if inc is None else inc
    g_d, g_phi, h_dd, h_dphi, h_pp = cell_derivatives(cells, counts, params)
    grad = np.zeros((r, k))
    grad[:, :m] = (inc.T @ g_d.T).T - alpha * params[:, :m]
    hess = np.zeros((r, k, k))
    # Laplacian block: off-diagonals -h summed per unordered pair, diagonal = -row sums.
    pa, pb, to_pair = cells.pairs()
    hess[:, pa, pb] = -(to_pair.T @ h_dd.T).T if to_pair is not None else -h_dd
    hess[:, pb, pa] = hess[:, pa, pb]
    diag = -hess[:, :m, :m].sum(axis=2)
    idx = np.arange(m)
    hess[:, idx, idx] = diag - alpha
    if fit_ties:
        grad[:, m] = g_phi.sum(axis=1)
        hess[:, :m, m] = (inc.T @ h_dphi.T).T
        hess[:, m, :m] = hess[:, :m, m]
        hess[:, m, m] = h_pp.sum(axis=1)
    else:
        hess[:, m, m] = -1.0  # phi fixed: a unit curvature keeps the system solvable, gradient 0
    if cells.x is not None:
        x = cells.x[None, :]
        grad[:, m + 1] = (g_d * x).sum(axis=1)
        hess[:, :m, m + 1] = (inc.T @ (h_dd * x).T).T
        hess[:, m + 1, :m] = hess[:, :m, m + 1]
        hess[:, m + 1, m + 1] = (h_dd * x * x).sum(axis=1)
        if fit_ties:
            hess[:, m, m + 1] = hess[:, m + 1, m] = (h_dphi * x).sum(axis=1)
    return grad, hess


def centred_solve(hess: np.ndarray, grad: np.ndarray, m: int) -> np.ndarray:
    """Newton step ``-H^{-1} g`` with strengths kept centred; hess (R, k, k), grad (R, k)."""
    neg = -hess
    scale = np.maximum(np.abs(np.diagonal(neg, axis1=1, axis2=2)[:, :m]).mean(axis=1), 1e-12) / m
    neg[:, :m, :m] += scale[:, None, None]
    return np.linalg.solve(neg, grad[..., None])[..., 0]


def newton(
    cells: Cells,
    counts: np.ndarray,
    *,
    alpha: float = 0.0,
    fit_ties: bool = True,
    init: np.ndarray | None = None,
    tol: float = 1e-9,
    max_iter: int = 100,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Maximise the Davidson log-likelihood for each of R count vectors.

    counts: (R, C, 3). init: (R, k) or (k,) starting parameters [theta (m), phi, (beta)].
    Returns (params (R, k), converged (R,) bool, iterations used).
    ``fit_ties=False`` keeps phi at its starting value (use -inf-like phi for no ties).
    """
    r = counts.shape[0]
    k, m = cells.n_params, cells.n_systems
    params = np.zeros((r, k)) if init is None else np.broadcast_to(init, (r, k)).astype(float).copy()
    inc = incidence(cells)
    converged = np.zeros(r, dtype=bool)
    it = 0
    for it in range(1, max_iter + 1):
        live = np.flatnonzero(~converged)
        if len(live) == 0:
            it -= 1
            break
        for start in range(0, len(live), _BLOCK):
            rows = live[start : start + _BLOCK]
            p, cnt = params[rows], counts[rows]
            grad, hess = grad_hess(cells, cnt, p, alpha, fit_ties, inc)
            step = centred_solve(hess, grad, m)
            if not fit_ties:
                step[:, m] = 0.0
            old = loglik(cells, cnt, p, alpha)
            size = np.ones(len(rows))
            for _ in range(40):  # step halving where the objective did not increase
                new = loglik(cells, cnt, p + size[:, None] * step, alpha)
                bad = ~(new >= old - 1e-12 * np.abs(old)) & (size > 1e-10)
                if not bad.any():
                    break
                size[bad] *= 0.5
            params[rows] = p + size[:, None] * step
            decrement = np.einsum("rk,rk->r", grad, step)  # Newton decrement, >= 0
            converged[rows] = decrement < tol * np.maximum(1.0, counts[rows].sum(axis=(1, 2)))
    return params, converged, it

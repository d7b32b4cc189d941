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
from threadpoolctl import threadpool_limits

# Resamples solved together: small enough that the (block, C) work arrays stay in cache.
_BLOCK = 16
# Lowest log nu: P(tie) of equal systems >= 5e-9. Only reached when the tie weight is <= 0.
PHI_FLOOR = float(np.log(1e-8))


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
    if x is None:
        key = a * n_systems + b
        if n_systems * n_systems <= 4 * len(key) + 1_000_000:  # bounded keys: O(n) instead of a sort
            present = np.bincount(key, minlength=n_systems * n_systems) > 0
            uniq = np.flatnonzero(present)
            lookup = np.cumsum(present) - 1
            inverse = lookup[key]
        else:
            uniq, inverse = np.unique(key, return_inverse=True)
        cells = Cells(a=uniq // n_systems, b=uniq % n_systems, x=None, n_systems=n_systems)
    else:
        stacked = np.column_stack([a, b, np.where(flipped, -x, x)]).astype(float)
        uniq, inverse = np.unique(stacked, axis=0, return_inverse=True)
        cells = Cells(a=uniq[:, 0].astype(np.int64), b=uniq[:, 1].astype(np.int64), x=uniq[:, 2],
                      n_systems=n_systems)
    return cells, inverse.reshape(-1), flipped


def oriented(y: np.ndarray, flipped: np.ndarray) -> np.ndarray:
    """Outcome rows (n, 3) reversed where the battle is flipped (a better <-> b better)."""
    return np.where(flipped[:, None], y[:, ::-1], y)


def cell_counts(inverse: np.ndarray, y: np.ndarray, n_cells: int) -> np.ndarray:
    """Summed outcome weights per cell, shape (n_cells, 3), from oriented weighted rows y (n, 3)."""
    return np.column_stack([np.bincount(inverse, weights=y[:, k], minlength=n_cells) for k in range(3)])


def evaluate(cells: Cells, counts: np.ndarray, params: np.ndarray, alpha: float, derivatives: bool = True):
    """Penalised log-likelihood (R,) and, if asked, per-cell derivatives in (d, phi), each (R, C).

    counts (R, C, 3), params (R, k). Returns (loglik, derivs) with derivs None or
    (g_d, g_phi, h_dd, h_dphi, h_phiphi); the h are the concave (<= 0) second
    derivatives and depend on the total weight per cell only, not on the outcomes.
    Written with e = exp(-|d|/2), so Z = (1 + e^2 + nu e) / e never overflows.
    """
    m = cells.n_systems
    d = linear_predictor(cells, params)
    phi = params[:, m : m + 1]
    nu = np.exp(phi)
    abs_half = 0.5 * np.abs(d)
    e = np.exp(-abs_half)
    e2 = e * e
    inv_q = 1.0 / (1.0 + e2 + nu * e)
    w, tie, lose = counts[..., 0], counts[..., 1], counts[..., 2]
    tot = w + tie + lose
    # Without a tie parameter (phi = -inf) a tie counts half a win each way; with Z = 2 cosh(d/2)
    # that is exactly the remaining terms, so the tie term drops out.
    tie_term = tie * np.where(np.isfinite(phi), phi, 0.0)
    ll = ((w - lose) * 0.5 * d + tie_term - tot * (abs_half - np.log(inv_q))).sum(axis=1)
    ll -= 0.5 * alpha * (params[:, :m] ** 2).sum(axis=1)
    if not derivatives:
        return ll, None
    s = np.copysign(0.5 * (1.0 - e2) * inv_q, d)  # sinh(d/2) / Z
    c = 0.5 * (1.0 + e2) * inv_q  # cosh(d/2) / Z
    t = nu * e * inv_q  # nu / Z
    tot_t = tot * t
    return ll, (0.5 * (w - lose) - tot * s, tie - tot_t, -tot * (0.5 * c - s * s), tot_t * s, -2.0 * tot_t * c)


def linear_predictor(cells: Cells, params: np.ndarray) -> np.ndarray:
    """d for every cell, shape (R, C), from params (R, k)."""
    m = cells.n_systems
    d = params[:, cells.a] - params[:, cells.b]
    if cells.x is not None:
        d = d + params[:, m + 1 : m + 2] * cells.x[None, :]
    return d


def loglik(cells: Cells, counts: np.ndarray, params: np.ndarray, alpha: float) -> np.ndarray:
    """Penalised log-likelihood per resample, shape (R,). counts (R, C, 3), params (R, k)."""
    return evaluate(cells, counts, params, alpha, derivatives=False)[0]


def incidence(cells: Cells) -> sparse.csr_matrix:
    """Sparse (C, m) matrix with +1 at a and -1 at b: maps d-derivatives to theta."""
    c = len(cells.a)
    rows = np.concatenate([np.arange(c), np.arange(c)])
    cols = np.concatenate([cells.a, cells.b])
    vals = np.concatenate([np.ones(c), -np.ones(c)])
    return sparse.csr_matrix((vals, (rows, cols)), shape=(c, cells.n_systems))


def grad_hess(cells: Cells, counts: np.ndarray, params: np.ndarray, alpha: float, fit_ties: bool,
              inc: sparse.csr_matrix | None = None, derivs=None):
    """Gradient (R, k) and Hessian (R, k, k) of the penalised log-likelihood (derivs from :func:`evaluate`)."""
    m, k = cells.n_systems, cells.n_params
    r = params.shape[0]
    inc = incidence(cells) if inc is None else inc
    if derivs is None:
        derivs = evaluate(cells, counts, params, alpha)[1]
    g_d, g_phi, h_dd, h_dphi, h_pp = derivs
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
    # A whisper of damping keeps the solve defined when a direction has no curvature left
    # (a strength or nu running off); such fits then fail to converge and are reported.
    k = neg.shape[1]
    neg[:, np.arange(k), np.arange(k)] += 1e-12 * (1.0 + scale[:, None] * m)
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
    # Many small (k, k) solves: BLAS threads only add contention (10x slower on a busy 2-core machine).
    # Trial points far out overflow exp(); the line search rejects their non-finite objective.
    with threadpool_limits(limits=1, user_api="blas"), np.errstate(over="ignore", invalid="ignore"):
        return _newton(cells, counts, alpha, fit_ties, init, tol, max_iter)


def _newton(cells, counts, alpha, fit_ties, init, tol, max_iter):
    r = counts.shape[0]
    k, m = cells.n_params, cells.n_systems
    params = np.zeros((r, k)) if init is None else np.broadcast_to(init, (r, k)).astype(float).copy()
    inc = incidence(cells)
    converged = np.zeros(r, dtype=bool)
    used = 0
    for start in range(0, r, _BLOCK):
        rows = np.arange(start, min(start + _BLOCK, r))
        p, cnt = params[rows], counts[rows]
        limit = tol * np.maximum(1.0, cnt.sum(axis=(1, 2)))
        ll, derivs = evaluate(cells, cnt, p, alpha)
        live = np.ones(len(rows), dtype=bool)
        failed = np.zeros(len(rows), dtype=bool)
        for it in range(1, max_iter + 1):
            used = max(used, it)
            grad, hess = grad_hess(cells, cnt, p, alpha, fit_ties, inc, derivs)
            if fit_ties:
                # nu held at its floor where the objective still pulls it down (signed PPI weights
                # can make the total tie weight <= 0: the maximum is then on the boundary).
                held = (p[:, m] <= PHI_FLOOR + 1e-9) & (grad[:, m] < 0)
                if held.any():
                    grad[held, m] = 0.0
                    hess[held, m, :] = hess[held, :, m] = 0.0
                    hess[held, m, m] = -1.0
            step = centred_solve(hess, grad, m)
            if not fit_ties:
                step[:, m] = 0.0
            decrement = np.einsum("rk,rk->r", grad, step)  # Newton decrement, >= 0
            trial = p + step
            if fit_ties:
                trial[:, m] = np.maximum(trial[:, m], PHI_FLOOR)
            new_ll, new_derivs = evaluate(cells, cnt, trial, alpha)
            size = np.ones(len(rows))
            for _ in range(40):  # step halving where the objective did not increase
                bad = ~(new_ll >= ll - 1e-12 * np.abs(ll)) & (size > 1e-10)
                if not bad.any():
                    break
                size[bad] *= 0.5
                trial[bad] = p[bad] + size[bad, None] * step[bad]
                if fit_ties:
                    trial[bad, m] = np.maximum(trial[bad, m], PHI_FLOOR)
                part_ll, part = evaluate(cells, cnt[bad], trial[bad], alpha)
                new_ll[bad] = part_ll
                for full, sub in zip(new_derivs, part, strict=True):
                    full[bad] = sub
            # A row whose step could not improve a finite objective stays where it was and fails.
            stuck = ~(np.isfinite(new_ll) & (new_ll >= ll - 1e-12 * np.abs(ll))) | ~np.isfinite(decrement)
            trial[stuck], new_ll[stuck] = p[stuck], ll[stuck]
            for full, old in zip(new_derivs, derivs, strict=True):
                full[stuck] = old[stuck]
            failed |= stuck & ~(decrement < limit)
            p, ll, derivs = trial, new_ll, new_derivs
            live = ~failed & ~(decrement < limit)
            if not live.any():
                break
        params[rows] = p
        converged[rows] = ~live & ~failed
    return params, converged, used

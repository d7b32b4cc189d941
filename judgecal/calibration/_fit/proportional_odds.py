"""Proportional-odds (cumulative logit) fitting, without input checks.

The numerical core behind ``judgecal.calibration.ordinal.OrdinalCalibrator`` and the
batched ordinal nodes of the grouped calibrator: both import it from here, so the
machinery never reaches back up into the public estimator module.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from judgecal.calibration._fit.rowcodes import unique_rows


def fit_proportional_odds(
    X: np.ndarray, yi: np.ndarray, w: np.ndarray, K: int, *,
    alpha: float = 1e-3, prior_weight: float = 1.0, max_iter: int = 100,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Fit the cumulative-logit model without input checks.

    X : (n, p) features; yi : (n,) level index 0..K-1; w : (n,) weights.
    Returns coef (p,), thresholds (K-1,) on the original feature scale, iterations.
    """
    total = w.sum()
    if total <= 0:
        raise ValueError("sample weights sum to zero")
    mean = (w @ X) / total
    sd = np.sqrt((w @ (X - mean) ** 2) / total)
    sd[sd < 1e-12] = 1.0
    Z = (X - mean) / sd  # standardised, so the penalty and the solver see comparable columns
    if prior_weight > 0:  # pseudo-observations: one per level at the mean (Z = 0)
        Z = np.vstack([Z, np.zeros((K, Z.shape[1]))])
        yi = np.concatenate([yi, np.arange(K)])
        w = np.concatenate([w, np.full(K, prior_weight / K)])
    Z, yi, w = _compress(Z, yi, w)
    w = w / w.sum()
    counts = np.bincount(yi, weights=w, minlength=K)
    cum = np.clip(np.cumsum(counts)[:-1], 1e-6, 1 - 1e-6)
    theta0 = np.log(cum / (1 - cum))
    gaps = np.log(np.maximum(np.diff(theta0), 1e-3))
    p = Z.shape[1]
    start = np.concatenate([np.zeros(p), theta0[:1], gaps])
    params, n_iter = _newton(lambda v: _objective(v, Z, yi, w, K, alpha), start, max_iter)
    beta_z, theta_z = _unpack(params, p, K)
    coef = beta_z / sd  # back to the original scale: x @ coef - thr == z @ beta_z - theta_z
    return coef, theta_z + mean @ coef, n_iter


def _compress(Z, yi, w):
    """Merge rows with identical features and level (judge scores are discrete)."""
    if len(yi) < 64:
        return Z, yi, w
    keys = np.column_stack([Z, yi])
    uniq, inv = unique_rows(keys)  # as np.unique(keys, axis=0), a fraction of its time
    if len(uniq) > 0.5 * len(yi):
        return Z, yi, w
    return uniq[:, :-1], uniq[:, -1].astype(np.int64), np.bincount(inv, weights=w, minlength=len(uniq))


def _newton(fun, x, max_iter: int, tol: float = 1e-9):
    """Damped Newton with a finite-difference Hessian of the analytic gradient.

    The problem has a handful of parameters, so each step costs a few gradient
    calls and convergence takes a few steps (much cheaper here than L-BFGS).
    """
    f, g = fun(x)
    done = 0
    for done in range(1, max_iter + 1):  # noqa: B007 (the count is returned)
        d = len(x)
        eps = 1e-6
        H = np.empty((d, d))
        for i in range(d):
            e = np.zeros(d)
            e[i] = eps
            H[:, i] = (fun(x + e)[1] - g) / eps
        H = 0.5 * (H + H.T)
        ridge = 1e-10
        while True:
            try:
                L = np.linalg.cholesky(H + ridge * np.eye(d))
                break
            except np.linalg.LinAlgError:
                ridge = max(ridge * 10, 1e-8)
        step = -np.linalg.solve(L.T, np.linalg.solve(L, g))
        t = 1.0
        while True:
            f_new, g_new = fun(x + t * step)
            if f_new <= f + 1e-4 * t * (g @ step) or t < 1e-8:
                break
            t *= 0.5
        x, f_old, f, g = x + t * step, f, f_new, g_new
        if np.max(np.abs(g)) < tol or abs(f_old - f) < 1e-14:
            break
    return x, done


def ordinal_proba(eta: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Level probabilities, shape (n, K), from linear predictor eta shape (n,)
    and thresholds shape (K-1,)."""
    cdf = expit(thresholds[None, :] - eta[:, None])
    n = len(eta)
    cdf = np.hstack([np.zeros((n, 1)), cdf, np.ones((n, 1))])
    return np.clip(np.diff(cdf, axis=1), 0.0, 1.0)


def _unpack(params: np.ndarray, p: int, K: int) -> tuple[np.ndarray, np.ndarray]:
    beta = params[:p]
    # First threshold free, the rest as positive (exp) increments: order is built in.
    theta = params[p] + np.concatenate([[0.0], np.cumsum(np.exp(params[p + 1 :]))])
    return beta, theta[: K - 1]


def _objective(params, Z, yi, w, K, alpha):
    """Weighted mean negative log-likelihood plus L2 on beta, and its gradient."""
    p = Z.shape[1]
    beta, theta = _unpack(params, p, K)
    eta = Z @ beta
    ext = np.concatenate([[-np.inf], theta, [np.inf]])
    u = ext[yi + 1] - eta  # upper cut of each row's level
    lo = ext[yi] - eta
    Fu, Fl = expit(u), expit(lo)
    prob = np.maximum(Fu - Fl, 1e-12)
    fu = np.where(np.isfinite(u), Fu * (1 - Fu), 0.0)
    fl = np.where(np.isfinite(lo), Fl * (1 - Fl), 0.0)
    loss = -(w @ np.log(prob)) + 0.5 * alpha * beta @ beta

    # d(-log prob)/d(eta) and /d(theta_k) per row.
    g_eta = w * (fu - fl) / prob
    g_beta = Z.T @ g_eta + alpha * beta
    # Summed per cut with bincount (same order of additions as np.add.at, far less overhead).
    up = yi < K - 1  # rows whose upper cut is theta[yi]
    g_theta = -np.bincount(yi[up], weights=(w * fu / prob)[up], minlength=K - 1)[: K - 1]
    dn = yi > 0  # rows whose lower cut is theta[yi - 1]
    g_theta = g_theta + np.bincount(yi[dn] - 1, weights=(w * fl / prob)[dn], minlength=K - 1)[: K - 1]
    # theta_k = a + sum_{m<=k} exp(d_m): chain rule back to (a, d).
    g_a = g_theta.sum()
    inc = np.exp(params[p + 1 :])
    g_d = inc * np.cumsum(g_theta[::-1])[::-1][1:] if K > 2 else np.zeros(0)
    return loss, np.concatenate([g_beta, [g_a], g_d])

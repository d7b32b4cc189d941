"""Many proportional-odds fits at once: every ordinal node of one fold and hierarchy.

``ordinal.fit_proportional_odds`` fits one node with a small Newton solve whose
every step is a dozen numpy calls on a handful of merged rows, so a fit of a
thousand nodes spends nearly all its time in per-call overhead. Here the nodes
of one ``hierarchy.fit_all_nodes`` call are fitted together:

* a training row belongs to up to three nodes (metric, script, language); its
  weight is added to a (node, distinct feature row, level) table with one
  ``np.bincount``, which merges identical rows as ``fit_proportional_odds``
  does, without a sort per node;
* each node is standardised and given its prior pseudo-rows as there, and all
  nodes run one damped Newton iteration loop together: sums per node with
  ``np.bincount`` over the flat table, one batched linear solve, a backtracking
  line search and a convergence test per node (converged nodes drop out).

The model, penalty, parametrisation (first threshold free, then exp increments),
starting point, Armijo rule and stopping tests are those of
``fit_proportional_odds``; the Hessian is analytic here instead of finite
differences of the gradient, so the fitted numbers agree up to the solver
tolerance (``tests/calibration/test_ordinal_nodes.py`` checks them against the
per-node fits), not bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from judgecal.calibration._fit.metric_data import MetricData
from judgecal.calibration._fit.rowcodes import unique_rows


@dataclass
class _Rows:
    """Merged training rows of a set of nodes (each row: one node, one feature vector, one level).

    seg : (R,) node of each row; z : (R, p) standardised features; w : (R,) weight
    (summing to 1 per node); up, lo : (R,) the row's upper and lower threshold
    index (K - 1: none, the level is the top or the bottom one).
    """

    seg: np.ndarray
    z: np.ndarray
    w: np.ndarray
    up: np.ndarray
    lo: np.ndarray
    n_nodes: int

    def subset(self, keep: np.ndarray) -> _Rows:
        """The rows of nodes where ``keep`` (n_nodes,) is True, nodes renumbered 0..k-1."""
        new_id = np.cumsum(keep) - 1
        sel = keep[self.seg]
        return _Rows(new_id[self.seg[sel]], self.z[sel], self.w[sel], self.up[sel], self.lo[sel], int(keep.sum()))


def fit_ordinal_nodes(
    X: np.ndarray, item: np.ndarray, yi: np.ndarray, w: np.ndarray, member: np.ndarray, n_nodes: int, K: int, *,
    alpha: float = 1e-3, prior_weight: float = 1.0, max_iter: int = 100,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit one proportional-odds model per node, as ``fit_proportional_odds`` on each node's rows.

    X : (m, p) finite features of every item; item : (n,) item of each training row;
    yi : (n,) level index 0..K-1; w : (n,) weights; member : (n, L) the node
    (0..n_nodes-1) each row belongs to at each of L hierarchy levels, -1 for none.
    Every node must have rows with positive total weight.
    Returns coef (n_nodes, p), thresholds (n_nodes, K-1) on the original feature
    scale, and the Newton iterations (n_nodes,).
    """
    distinct, xcode = unique_rows(X)
    n_x = len(distinct)
    # One (node, distinct row, level) cell per merged row: the bincount merges
    # identical rows of a node, as _compress does for a single fit.
    has = member >= 0
    node = member[has]
    row = np.nonzero(has)[0]
    key = (node * n_x + xcode[item[row]]) * K + yi[row]
    if n_nodes * n_x * K <= 4 * len(key) + 4096:  # few possible cells: count them all, no sort
        wsum = np.bincount(key, weights=w[row], minlength=n_nodes * n_x * K)
        cells = np.flatnonzero(np.bincount(key, minlength=n_nodes * n_x * K))
        wsum = wsum[cells]
    else:
        cells, inv = np.unique(key, return_inverse=True)
        wsum = np.bincount(inv.reshape(-1), weights=w[row], minlength=len(cells))
    seg, rest = np.divmod(cells, n_x * K)
    xc, lev = np.divmod(rest, K)
    total = np.bincount(seg, weights=wsum, minlength=n_nodes)
    if np.any(total <= 0):
        raise ValueError("sample weights sum to zero")
    x = distinct[xc]
    mean = _node_sums(seg, wsum[:, None] * x, n_nodes) / total[:, None]
    sd = np.sqrt(_node_sums(seg, wsum[:, None] * (x - mean[seg]) ** 2, n_nodes) / total[:, None])
    sd[sd < 1e-12] = 1.0
    z = (x - mean[seg]) / sd[seg]  # standardised per node, as in fit_proportional_odds
    if prior_weight > 0:  # K pseudo-rows per node at its mean (z = 0), one per level
        seg = np.concatenate([seg, np.repeat(np.arange(n_nodes), K)])
        z = np.vstack([z, np.zeros((n_nodes * K, z.shape[1]))])
        lev = np.concatenate([lev, np.tile(np.arange(K), n_nodes)])
        wsum = np.concatenate([wsum, np.full(n_nodes * K, prior_weight / K)])
    wn = wsum / np.bincount(seg, weights=wsum, minlength=n_nodes)[seg]
    rows = _Rows(seg, z, wn, np.where(lev < K - 1, lev, K - 1), np.where(lev > 0, lev - 1, K - 1), n_nodes)
    counts = np.bincount(seg * K + lev, weights=wn, minlength=n_nodes * K).reshape(n_nodes, K)
    cum = np.clip(np.cumsum(counts, axis=1)[:, :-1], 1e-6, 1 - 1e-6)
    theta0 = np.log(cum / (1 - cum))
    gaps = np.log(np.maximum(np.diff(theta0, axis=1), 1e-3))
    p = X.shape[1]
    start = np.hstack([np.zeros((n_nodes, p)), theta0[:, :1], gaps])
    params, n_iter = _batched_newton(rows, start, p, K, alpha, max_iter)
    beta, theta = params[:, :p], _thresholds(params, p)
    coef = beta / sd
    return coef, theta + np.sum(mean * coef, axis=1, keepdims=True), n_iter


def _node_sums(seg: np.ndarray, values: np.ndarray, n_nodes: int) -> np.ndarray:
    """Column sums (n_nodes, c) of values (R, c) per node seg (R,)."""
    return np.column_stack([np.bincount(seg, weights=values[:, j], minlength=n_nodes)
                            for j in range(values.shape[1])]) if values.shape[1] else np.zeros((n_nodes, 0))


def _thresholds(params: np.ndarray, p: int) -> np.ndarray:
    """Thresholds (N, K-1) from parameters (N, p + K - 1): first free, then exp increments."""
    a = params[:, p:p + 1]
    return np.hstack([a, a + np.cumsum(np.exp(params[:, p + 1:]), axis=1)])


def _evaluate(rows: _Rows, params: np.ndarray, p: int, K: int, alpha: float, derivatives: bool):
    """Objective (N,) of each node and, with ``derivatives``, gradient (N, D) and
    Hessian (N, D, D) in the (beta, first threshold, log increments) parameters, D = p + K - 1.

    The objective is the weighted mean negative log-likelihood plus alpha/2 |beta|^2,
    as ``ordinal._objective``.
    """
    N, seg = rows.n_nodes, rows.seg
    beta, theta = params[:, :p], _thresholds(params, p)
    cuts = np.hstack([theta, np.zeros((N, 1))])  # column K - 1: placeholder for "no cut"
    eta = np.einsum("rp,rp->r", rows.z, beta[seg])
    has_up, has_lo = rows.up < K - 1, rows.lo < K - 1
    Fu = np.where(has_up, expit(cuts[seg, rows.up] - eta), 1.0)
    Fl = np.where(has_lo, expit(cuts[seg, rows.lo] - eta), 0.0)
    prob = np.maximum(Fu - Fl, 1e-12)
    loss = -np.bincount(seg, weights=rows.w * np.log(prob), minlength=N) + 0.5 * alpha * np.sum(beta**2, axis=1)
    if not derivatives:
        return loss
    fu, fl = Fu * (1 - Fu), Fl * (1 - Fl)  # densities; 0 where the cut is infinite
    # Derivatives of -log(F(u) - F(l)) in the upper and lower cut arguments u, l.
    gu, gl = -fu / prob, fl / prob
    huu = -fu * (1 - 2 * Fu) / prob + gu**2
    hll = fl * (1 - 2 * Fl) / prob + gl**2
    hul = gu * gl
    w = rows.w
    # u = theta[up] - eta and l = theta[lo] - eta, eta = z @ beta.
    cell_up, cell_lo = seg * K + rows.up, seg * K + rows.lo

    def per_cut(cells, values):  # (N, K-1) sums per node and threshold
        return np.bincount(cells, weights=values, minlength=N * K).reshape(N, K)[:, :K - 1]

    D = p + K - 1
    g = np.empty((N, D))
    H = np.zeros((N, D, D))
    g_eta, h_eta = -(gu + gl) * w, (huu + 2 * hul + hll) * w
    h_up_eta, h_lo_eta = -(huu + hul) * w, -(hul + hll) * w
    for j in range(p):
        zj = rows.z[:, j]
        g[:, j] = np.bincount(seg, weights=g_eta * zj, minlength=N) + alpha * beta[:, j]
        for k in range(j, p):
            H[:, j, k] = H[:, k, j] = np.bincount(seg, weights=h_eta * zj * rows.z[:, k], minlength=N)
        H[:, j, j] += alpha
        cross = per_cut(cell_up, h_up_eta * zj) + per_cut(cell_lo, h_lo_eta * zj)
        H[:, j, p:] = cross
        H[:, p:, j] = cross
    g_theta = per_cut(cell_up, gu * w) + per_cut(cell_lo, gl * w)
    diag = per_cut(cell_up, huu * w) + per_cut(cell_lo, hll * w)
    idx = np.arange(K - 1)
    H[:, p + idx, p + idx] = diag
    if K > 2:  # a row's two cuts are neighbours (lo = up - 1): the only off-diagonal threshold terms
        off = per_cut(cell_lo, hul * w)[:, :K - 2]
        H[:, p + idx[:-1], p + idx[1:]] = off
        H[:, p + idx[1:], p + idx[:-1]] = off
    # Chain rule from (beta, theta) to (beta, a, d): theta_k = a + sum_{1<=m<=k} exp(d_m).
    J = np.zeros((N, K - 1, K - 1))
    J[:, :, 0] = 1.0
    inc = np.exp(params[:, p + 1:])  # (N, K-2)
    for m in range(1, K - 1):
        J[:, m:, m] = inc[:, m - 1:m]
    g[:, p:] = np.einsum("nkj,nk->nj", J, g_theta)
    H[:, :p, p:] = np.einsum("nik,nkj->nij", H[:, :p, p:], J)
    H[:, p:, :p] = np.swapaxes(H[:, :p, p:], 1, 2)
    H[:, p:, p:] = np.einsum("nki,nkl,nlj->nij", J, H[:, p:, p:], J)
    if K > 2:  # second derivative of theta in d_m: exp(d_m) on every theta_k, k >= m
        tail = np.cumsum(g_theta[:, ::-1], axis=1)[:, ::-1][:, 1:]
        H[:, p + 1 + idx[:-1], p + 1 + idx[:-1]] += inc * tail
    return loss, g, H


def _solve(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Newton steps (N, D) = -(H + ridge I)^-1 g, the ridge raised per node until H + ridge I
    is positive definite (as in ``ordinal._newton``: 1e-10, then 1e-8, 1e-7, ...)."""
    D = H.shape[1]
    eye = np.eye(D)
    ridge = np.full(len(H), 1e-10)
    try:
        np.linalg.cholesky(H + ridge[:, None, None] * eye)
    except np.linalg.LinAlgError:  # some node is not convex here: find its ridge from the eigenvalues
        low = np.linalg.eigvalsh(H)[:, 0]
        while True:
            bad = low + ridge <= 0
            if not bad.any():
                break
            ridge[bad] = np.maximum(ridge[bad] * 10, 1e-8)
    return -np.linalg.solve(H + ridge[:, None, None] * eye, g[:, :, None])[:, :, 0]


def _batched_newton(rows: _Rows, x: np.ndarray, p: int, K: int, alpha: float, max_iter: int,
                    tol: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """Damped Newton on every node at once from x (N, D); returns the solutions (N, D)
    and the iterations (N,). A node stops when its largest gradient entry is below
    ``tol`` or its objective moved less than 1e-14."""
    x = x.copy()
    n_iter = np.zeros(len(x), dtype=np.int64)
    active = np.arange(len(x))
    sub = rows
    f, g, H = _evaluate(sub, x, p, K, alpha, True)
    for _ in range(max_iter):
        if len(active) == 0:
            break
        xa = x[active]
        step = _solve(H, g)
        slope = np.einsum("nd,nd->n", g, step)
        t = np.ones(len(active))
        searching = np.ones(len(active), bool)
        while searching.any():  # backtracking per node, only the nodes still searching evaluated
            part = sub.subset(searching) if not searching.all() else sub
            trial = _evaluate(part, xa[searching] + t[searching, None] * step[searching], p, K, alpha, False)
            ok = (trial <= f[searching] + 1e-4 * t[searching] * slope[searching]) | (t[searching] < 1e-8)
            idx = np.flatnonzero(searching)
            searching[idx[ok]] = False
            t[idx[~ok]] *= 0.5
        xa = xa + t[:, None] * step
        x[active] = xa
        n_iter[active] += 1
        f_new, g, H = _evaluate(sub, xa, p, K, alpha, True)
        done = (np.max(np.abs(g), axis=1) < tol) | (np.abs(f - f_new) < 1e-14)
        f = f_new
        if done.any():
            keep = ~done
            active, sub = active[keep], sub.subset(keep)
            f, g, H = f[keep], g[keep], H[keep]
    return x, n_iter


def fit_node_groups(md: MetricData, idx: np.ndarray, *, min_group_size: int, alpha: float,
                    prior_weight: float) -> dict:
    """``hierarchy.fit_all_nodes`` for ordinal nodes, every node of the call in one batched
    fit; the same groups, sizes and (up to the solver tolerance) states as
    ``fit_node`` on each group's items ``idx`` (m,)."""
    levels = np.asarray(md.scale.levels)
    train = np.zeros(len(md.y), bool)
    train[idx] = True
    if md.ord_rows == "per_rater":
        sel = train[md.r_item]
        item, yi, w = md.r_item[sel], np.searchsorted(levels, md.r_level[sel]), md.r_weight[sel]
    else:
        item, yi, w = idx, md.target_dist[idx].argmax(axis=1), np.ones(len(idx))
    # Nodes in fit_all_nodes' order: the metric, then scripts, then languages by code.
    member = np.zeros((len(item), 3), dtype=np.int64)
    groups: list[tuple[str, int, int]] = [("metric", 0, len(idx))]
    for j, (level, codes) in enumerate((("script", md.script), ("language", md.lang)), start=1):
        size = np.bincount(codes[idx], minlength=int(codes.max()) + 1)
        kept = np.flatnonzero(size >= min_group_size)
        node_of = np.full(len(size), -1, dtype=np.int64)
        node_of[kept] = np.arange(len(groups), len(groups) + len(kept))
        member[:, j] = node_of[codes[item]]
        groups += [(level, int(c), int(size[c])) for c in kept]
    coef, thresholds, _ = fit_ordinal_nodes(md.X, item, yi, w, member, len(groups), len(levels),
                                            alpha=alpha, prior_weight=prior_weight)
    out: dict = {"language": {}, "script": {}, "metric": {}}
    for (level, code, n), c, t in zip(groups, coef.tolist(), thresholds.tolist(), strict=True):
        out[level][code] = ({"kind": "ordinal", "coef": c, "thresholds": t}, n)
    return out


def node_components(md: MetricData, nodes: dict, rows: np.ndarray, levels: np.ndarray,
                    E: np.ndarray, P: np.ndarray | None, n: np.ndarray) -> None:
    """Fill E (r, 3), P (r, 3, K) or None and n (r, 3) for ordinal nodes without a
    loop over nodes: each row gathers its node's parameters by its group code, or,
    when the rows hold few distinct feature vectors (judge levels), its node's
    prediction at its vector from a (node, distinct vector) table."""
    X = md.X[rows]
    distinct, xcode = unique_rows(X)
    few = len(distinct) * 8 <= len(rows)
    for j, (level, codes) in enumerate((("language", md.lang), ("script", md.script), ("metric", None))):
        table = nodes[level]
        if not table:
            continue
        n_codes = max(table) + 1
        coef = np.zeros((n_codes, X.shape[1]))
        thresholds = np.zeros((n_codes, len(levels) - 1))
        size = np.zeros(n_codes)
        for code, (state, m) in table.items():
            coef[code], thresholds[code], size[code] = state["coef"], state["thresholds"], m
        sub = np.zeros(len(rows), dtype=np.int64) if codes is None else codes[rows]
        hit = np.flatnonzero(sub < n_codes)
        hit = hit[size[sub[hit]] > 0]
        c = sub[hit]
        if few:
            proba_at = level_proba(coef @ distinct.T, thresholds[:, None, :])  # (nodes, distinct, K)
            E[hit, j] = (proba_at @ levels)[c, xcode[hit]]
            if P is not None:
                P[hit, j] = proba_at[c, xcode[hit]]
        else:
            proba = level_proba(np.einsum("rp,rp->r", X[hit], coef[c]), thresholds[c])
            E[hit, j] = proba @ levels
            if P is not None:
                P[hit, j] = proba
        n[hit, j] = size[c]


def level_proba(eta: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Level probabilities (..., K) from linear predictors eta (...) and thresholds
    (..., K-1) that broadcast against eta[..., None]; as ``ordinal_proba``."""
    cdf = expit(thresholds - eta[..., None])
    edge = np.ones(cdf.shape[:-1] + (1,))
    return np.clip(np.diff(np.concatenate([0 * edge, cdf, edge], axis=-1), axis=-1), 0.0, 1.0)

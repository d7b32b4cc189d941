"""Per-group calibrators in a language -> script -> metric hierarchy, with shrinkage.

For one metric, every group (language+script, script, the whole metric) with at
least ``min_group_size`` items gets its own calibrator f (a *node*). A row of
language L (script S) is served by

    pred_S = w_S f_S + (1 - w_S) (f_M + d_S)
    pred   = w_L f_L + (1 - w_L) (pred_S + d_L)

with weights w = n / (n + k) (n the group's training items) and offsets
d = (sum of the parent's residuals over the group's items) / (n + k_d). The
offset carries a group's own level (a judge that inflates Odia more than the
other Odia-script languages) even when its curve is mostly borrowed, so
borrowing shape does not bring back bias. The pseudo-counts k_script,
k_language and k_offset are chosen by cross-validation (``choose_shrinkage``):
k = 0 trusts a group alone, k = inf ignores it. For ordinal calibrators the
same weights mix level probabilities, and an offset moves a distribution's mean
by exponential tilting (the closest distribution, in KL, with the new mean).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from judgecal.calibration._fit.heldout import HeldOutRows, held_out_rows, summed_absolute_error
from judgecal.calibration._fit.isotonic_fit import fit_isotonic_table
from judgecal.calibration._fit.metric_data import MetricData
from judgecal.calibration._fit.ordinal_nodes import fit_node_groups, node_components
from judgecal.calibration._fit.proportional_odds import fit_proportional_odds, ordinal_proba
from judgecal.errors import InputError, Problem

K_GRID = np.array([0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, np.inf])
KD_GRID = np.array([0, 2, 5, 10, 20, 50, 100, 200, np.inf])
METHODS = ("isotonic", "ordinal")


def fit_node(md: MetricData, rows: np.ndarray, method: str, *, alpha: float, prior_weight: float) -> dict:
    """Fit one node's calibrator on item positions ``rows``; returns its JSON-able state."""
    scale = md.scale
    if method == "isotonic":
        if md.iso_rows == "per_rater":
            sel = np.isin(md.r_item, rows)
            x, y, w = md.x_iso[md.r_item[sel]], md.r_level[sel], md.r_weight[sel]
        else:
            x, y, w = md.x_iso[rows], md.y[rows], np.ones(len(rows))
        knots, values = fit_isotonic_table(x, y, w, y_min=scale.min, y_max=scale.max)
        return {"kind": "isotonic", "knots": knots.tolist(), "values": values.tolist()}
    if md.ord_rows == "per_rater":
        sel = np.isin(md.r_item, rows)
        X, y, w = md.X[md.r_item[sel]], md.r_level[sel], md.r_weight[sel]
    else:
        X, y, w = md.X[rows], md.target_dist[rows].argmax(axis=1).astype(float), np.ones(len(rows))
        y = np.asarray(scale.levels)[y.astype(int)]
    # Same fit as OrdinalCalibrator(levels=scale.levels).fit, minus its per-call input checks.
    coef, thresholds, _ = fit_proportional_odds(X, np.searchsorted(np.asarray(scale.levels), y), w,
                                                len(scale.levels), alpha=alpha, prior_weight=prior_weight)
    return {"kind": "ordinal", "coef": coef.tolist(), "thresholds": thresholds.tolist()}


def node_predict(state: dict, x_iso: np.ndarray, X: np.ndarray | None, levels: np.ndarray):
    """(expected (r,), proba (r, K) or None) of one node for r rows."""
    if state["kind"] == "isotonic":
        return np.interp(x_iso, state["knots"], state["values"]), None
    proba = ordinal_proba(X @ np.asarray(state["coef"]), np.asarray(state["thresholds"]))
    return proba @ levels, proba


def fit_all_nodes(md: MetricData, train: np.ndarray, method: str, *, min_group_size: int,
                  alpha: float, prior_weight: float, batched: bool = True) -> dict:
    """Nodes fitted on the rows where ``train`` (bool, (n,)) is True.

    Returns {"language": {code: (state, n)}, "script": {...}, "metric": {0: (state, n)}}.
    Groups with fewer than ``min_group_size`` items get no node. Ordinal nodes
    are fitted all at once (``ordinal_nodes``) unless ``batched`` is False or the
    features are not finite; then, and for isotonic nodes, one node at a time.
    """
    out: dict = {"language": {}, "script": {}, "metric": {}}
    idx = np.flatnonzero(train)
    if len(idx) == 0:
        return out
    if method == "ordinal" and batched and bool(np.isfinite(md.X).all()):
        return fit_node_groups(md, idx, min_group_size=min_group_size, alpha=alpha, prior_weight=prior_weight)
    out["metric"][0] = (fit_node(md, idx, method, alpha=alpha, prior_weight=prior_weight), len(idx))
    for level, codes in (("script", md.script), ("language", md.lang)):
        order = idx[np.argsort(codes[idx], kind="stable")]
        bounds = np.flatnonzero(np.diff(codes[order])) + 1
        for part in np.split(order, bounds):
            if len(part) >= min_group_size:
                code = int(codes[part[0]])
                out[level][code] = (fit_node(md, part, method, alpha=alpha, prior_weight=prior_weight), len(part))
    return out


@dataclass
class Components:
    """Each hierarchy level's own prediction for some rows, and its training size (0 = no node)."""

    E: np.ndarray  # (r, 3) expected score from language, script, metric node
    P: np.ndarray | None  # (r, 3, K) level probabilities (ordinal only)
    n: np.ndarray  # (r, 3) training items of each node


def components(md: MetricData, nodes: dict, rows: np.ndarray, method: str) -> Components:
    """Predictions of the language, script and metric node for item positions ``rows``."""
    levels = np.asarray(md.scale.levels)
    r, K = len(rows), len(levels)
    E = np.zeros((r, 3))
    P = np.zeros((r, 3, K)) if method == "ordinal" else None
    n = np.zeros((r, 3))
    kinds = {state["kind"] for table in nodes.values() for state, _ in table.values()}
    if kinds == {"ordinal"}:
        node_components(md, nodes, rows, levels, E, P, n)
        return Components(E, P, n)
    for j, (level, codes) in enumerate((("language", md.lang), ("script", md.script), ("metric", None))):
        sub_codes = np.zeros(r, dtype=np.int64) if codes is None else codes[rows]
        # Group the rows by code once (a sort) instead of one comparison per node.
        order = np.argsort(sub_codes, kind="stable")
        cuts = np.flatnonzero(np.diff(sub_codes[order])) + 1
        for hit in np.split(order, cuts) if r else []:
            node = nodes[level].get(int(sub_codes[hit[0]]))
            if node is None:
                continue
            state, size = node
            pos = rows[hit]
            e, p = node_predict(state, md.x_iso[pos], md.X[pos] if md.X is not None else None, levels)
            E[hit, j] = e
            if P is not None:
                P[hit, j] = p
            n[hit, j] = size
    return Components(E, P, n)


@dataclass
class FoldSums:
    """Sufficient statistics of a set of folds for choosing the pseudo-counts.

    Arrays are (F, n_lang) or (F, n_script). Train sums use in-sample node
    predictions on the fold's training items; ``moments`` (F, n_lang, 5, 5) are
    sums of v v^T over the fold's held-out items with v = (f_L, f_S, f_M, y, 1),
    and ``held_out`` the same items' v rows (merged where identical).
    """

    cnt_l: np.ndarray
    sy_l: np.ndarray
    sfs_l: np.ndarray
    sfm_l: np.ndarray
    cnt_s: np.ndarray
    sy_s: np.ndarray
    sfm_s: np.ndarray
    lang_script: np.ndarray  # (n_lang,) script code of each language code
    min_size: int
    moments: np.ndarray | None = None
    held_out: HeldOutRows | None = None


def fold_sums(md: MetricData, train_sets: list[np.ndarray], train_comps: list[Components],
              min_size: int, test_sets=None, test_comps=None) -> FoldSums:
    """Group sums per fold from training rows (and held-out moments when given)."""
    nl, ns = len(md.lang_keys), len(md.script_keys)
    F = len(train_sets)
    out = {k: np.zeros((F, nl)) for k in ("cnt_l", "sy_l", "sfs_l", "sfm_l")}
    out.update({k: np.zeros((F, ns)) for k in ("cnt_s", "sy_s", "sfm_s")})
    for f, (rows, c) in enumerate(zip(train_sets, train_comps, strict=True)):
        lang, script, y = md.lang[rows], md.script[rows], md.y[rows]
        out["cnt_l"][f] = np.bincount(lang, minlength=nl)
        out["sy_l"][f] = np.bincount(lang, y, minlength=nl)
        out["sfs_l"][f] = np.bincount(lang, c.E[:, 1], minlength=nl)
        out["sfm_l"][f] = np.bincount(lang, c.E[:, 2], minlength=nl)
        out["cnt_s"][f] = np.bincount(script, minlength=ns)
        out["sy_s"][f] = np.bincount(script, y, minlength=ns)
        out["sfm_s"][f] = np.bincount(script, c.E[:, 2], minlength=ns)
    lang_script = np.zeros(nl, dtype=np.int64)
    lang_script[md.lang] = md.script
    moments = held_out = None
    if test_sets is not None:
        moments = np.zeros((F, nl, 5, 5))
        langs, vs = [], []
        for f, (rows, c) in enumerate(zip(test_sets, test_comps, strict=True)):
            v = np.column_stack([c.E, md.y[rows], np.ones(len(rows))])
            lang = md.lang[rows]
            langs.append(lang)
            vs.append(v)
            # One bincount per entry of the symmetric 5 x 5 (np.add.at of (r, 5, 5) blocks is ~10x slower).
            for a in range(5):
                for b in range(a, 5):
                    moments[f, :, a, b] = moments[f, :, b, a] = np.bincount(lang, v[:, a] * v[:, b], minlength=nl)
        held_out = held_out_rows(list(range(F)), langs, vs)
    return FoldSums(**out, lang_script=lang_script, min_size=min_size, moments=moments, held_out=held_out)


def _ratio(num, den, k):
    """num / (den + k), 0 where k is infinite; k may be an array that broadcasts."""
    k = np.asarray(k, dtype=float)
    finite = np.isfinite(k)
    kk = np.where(finite, k, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den + kk > 0, num / (den + kk), 0.0)
    return np.where(finite, r, 0.0)


def weights_offsets(s: FoldSums, k_script: float, k_language: float, k_offset: float):
    """Per fold and group: w_L, d_L (F, n_lang) and w_S, d_S (F, n_script)."""
    has_s = s.cnt_s >= s.min_size
    w_s = np.where(has_s, _ratio(s.cnt_s, s.cnt_s, k_script), 0.0)
    d_s = np.where(has_s, _ratio(s.sy_s - s.sfm_s, s.cnt_s, k_offset), 0.0)
    ws_l, ds_l = w_s[..., s.lang_script], d_s[..., s.lang_script]
    resid_l = s.sy_l - ws_l * s.sfs_l - (1 - ws_l) * (s.sfm_l + s.cnt_l * ds_l)
    has_l = s.cnt_l >= s.min_size
    w_l = np.where(has_l, _ratio(s.cnt_l, s.cnt_l, k_language), 0.0)
    d_l = np.where(has_l, _ratio(resid_l, s.cnt_l, k_offset), 0.0)
    return w_l, d_l, w_s, d_s


def _coefficients(s: FoldSums, k_script, k_language, k_offset) -> np.ndarray:
    """u (F, n_lang, 5) with prediction - y = u . (f_L, f_S, f_M, y, 1)."""
    w_l, d_l, w_s, d_s = weights_offsets(s, k_script, k_language, k_offset)
    ws, ds = w_s[..., s.lang_script], d_s[..., s.lang_script]
    shape = np.broadcast_shapes(w_l.shape, d_l.shape, ws.shape, ds.shape)
    w_l, d_l, ws, ds = (np.broadcast_to(a, shape) for a in (w_l, d_l, ws, ds))
    return np.stack([w_l, (1 - w_l) * ws, (1 - w_l) * (1 - ws), -np.ones(shape),
                     (1 - w_l) * ((1 - ws) * ds + d_l)], axis=-1)


def choose_shrinkage(s: FoldSums, pooling: str, bias_penalty: float = 10.0,
                     loss: str = "absolute") -> tuple[float, float, float]:
    """Pseudo-counts (k_script, k_language, k_offset) minimising the held-out error

        sum of absolute (or squared) errors + bias_penalty * sum over languages of n_g * bias_g^2

    (bias_g: the language's mean held-out error). Absolute error is the default
    because calibrators are judged by MAE: chosen by squared error, the pseudo-
    counts pooled a 0/1 metric's extreme languages (Telugu's rare hallucinations)
    toward the others, which squared error barely notices and MAE does. The error
    alone lets a language keep a systematic offset of a few hundredths when
    removing it costs variance; the second term weighs each language's
    calibration-in-the-large, the very defect (per-language inflation)
    calibration is there to remove.

    ``pooling``: 'partial' searches the grids; 'none' trusts every group with
    a node alone (k = 0); 'complete' uses the metric level only (k = inf).
    Ties go to the most pooling (the simpler model).
    """
    if pooling == "none":
        return 0.0, 0.0, float("inf")
    if pooling == "complete":
        return float("inf"), float("inf"), float("inf")
    # Every combination at once: the grids become leading axes (S, L, D) of the group arrays.
    ks = K_GRID[:, None, None, None, None]
    kl = K_GRID[None, :, None, None, None]
    kd = KD_GRID[None, None, :, None, None]
    u = _coefficients(s, ks, kl, kd)
    if loss == "absolute":
        crit = summed_absolute_error(u, s.held_out)
    elif loss == "squared":
        crit = np.einsum("abcfgi,fgij,abcfgj->abc", u, s.moments, u, optimize=True)
    else:
        raise ValueError(f"loss must be 'absolute' or 'squared', not {loss!r}")
    if bias_penalty > 0:
        resid = np.einsum("abcfgi,fgi->abcg", u, s.moments[..., 4])  # summed error per language
        n = s.moments[..., 4, 4].sum(axis=0)
        crit = crit + bias_penalty * np.where(n > 0, resid**2 / np.maximum(n, 1), 0.0).sum(axis=-1)
    if not np.isfinite(crit).all():  # only reachable when unchecked input (check_input=False) holds NaN/inf
        raise InputError(Problem("held-out errors are not finite: NaN or infinite judge scores or human "
                                 "ratings reached the fit; fit with check_input=True to see which rows"),
                         summary="cannot choose the shrinkage")
    # Ties (within float noise) go first to the script setting that serves a language
    # without a node of its own best (the criterion at k_language = inf): when every
    # language is trusted alone (k_language = 0) the script pseudo-count has no effect
    # on the criterion, yet it decides what new languages get. Then to the largest
    # pseudo-counts: the most pooling.
    near = crit <= crit.min() + 1e-9 * max(1.0, abs(crit.min()))
    idx = np.argwhere(near)
    unseen = crit[idx[:, 0], -1, idx[:, 2]]
    unseen_best = unseen <= unseen.min() + 1e-9 * max(1.0, abs(unseen.min()))
    idx = idx[unseen_best]
    a, b, c = (int(v) for v in idx[np.lexsort((idx[:, 2], idx[:, 1], idx[:, 0]))[-1]])
    return float(K_GRID[a]), float(K_GRID[b]), float(KD_GRID[c])


def combine(comp: Components, levels: np.ndarray, w_l, d_l, w_s, d_s):
    """Served expected score (r,) and probabilities (r, K) or None from node
    components and per-row weights/offsets (each (r,))."""
    lo, hi = levels[0], levels[-1]
    e_s = np.clip(w_s * comp.E[:, 1] + (1 - w_s) * (comp.E[:, 2] + d_s), lo, hi)
    E = np.clip(w_l * comp.E[:, 0] + (1 - w_l) * (e_s + d_l), lo, hi)
    if comp.P is None:
        return E, None
    p_m = tilt(comp.P[:, 2], levels, comp.E[:, 2] + d_s)
    p_s = w_s[:, None] * comp.P[:, 1] + (1 - w_s[:, None]) * p_m
    p_s = tilt(p_s, levels, e_s + d_l)
    P = w_l[:, None] * comp.P[:, 0] + (1 - w_l[:, None]) * p_s
    return P @ levels, P


def tilt(P: np.ndarray, levels: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Exponentially tilt each row of P (r, K) so its mean over ``levels`` is
    ``target`` (r,), clipped inside the scale. Rows already there are unchanged."""
    if len(levels) == 2:
        # Two levels: only one distribution has a given mean, so the tilt has a
        # closed form (the iteration below reaches it to 1e-12, in ~10x the time).
        # A level with no mass cannot get any by tilting: such rows stay as they are.
        Q = np.clip(P, 0.0, None)
        p1 = (np.clip(target, levels[0] + 1e-6, levels[1] - 1e-6) - levels[0]) / (levels[1] - levels[0])
        out = np.column_stack([1.0 - p1, p1])
        stuck = (Q <= 0).any(axis=1)
        out[stuck] = Q[stuck] / Q[stuck].sum(axis=1, keepdims=True)
        return out
    return _tilt_iteratively(P, levels, target)


def _tilt_iteratively(P: np.ndarray, levels: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``tilt`` for any number of levels: Newton steps on the tilt, safeguarded by bisection."""
    v = (levels - levels.mean()) / (levels[-1] - levels[0])
    goal = (np.clip(target, levels[0] + 1e-6, levels[-1] - 1e-6) - levels.mean()) / (levels[-1] - levels[0])
    with np.errstate(divide="ignore"):
        logp = np.log(np.clip(P, 0.0, None))
    t = np.zeros(len(P))
    lo, hi = np.full(len(P), -200.0), np.full(len(P), 200.0)
    active = np.arange(len(P))  # rows still away from their goal: only they are iterated
    for _ in range(60):
        z = logp[active] + t[active, None] * v[None, :]
        z -= z.max(axis=1, keepdims=True)
        w = np.exp(z)
        w /= w.sum(axis=1, keepdims=True)
        m = w @ v
        gap = m - goal[active]
        moving = ~(np.abs(gap) < 1e-12)
        active, w, m, gap = active[moving], w[moving], m[moving], gap[moving]
        if len(active) == 0:
            break
        t_a = t[active]
        hi[active] = hi_a = np.where(gap > 0, t_a, hi[active])
        lo[active] = lo_a = np.where(gap < 0, t_a, lo[active])
        var = w @ v**2 - m**2
        step = t_a - gap / np.maximum(var, 1e-300)
        t[active] = np.where((step > lo_a) & (step < hi_a) & (var > 1e-12), step, 0.5 * (lo_a + hi_a))
    z = logp + t[:, None] * v[None, :]
    z -= z.max(axis=1, keepdims=True)
    w = np.exp(z)
    return w / w.sum(axis=1, keepdims=True)

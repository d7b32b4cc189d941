"""Leaderboards from pairwise battles: Bradley-Terry with ties (Davidson).

Everything here works on arrays, independent of the battles table:

- ``i``, ``j`` (n,) integer system indices (0..m-1) of the two systems of each battle;
- ``outcome``: codes (n,) with 0 = ``i`` better, 1 = tie, 2 = ``j`` better, or
  probability rows (n, 3) in that order (expected native votes, vote shares of
  several raters, a calibrated judge's probabilities);
- ``weights`` (n,) non-negative frequency weights;
- ``clusters`` (n,) labels (prompt ids) for the clustered bootstrap.

Model (see :mod:`judgecal.pairwise._bt` for the derivation): Davidson's
extension of Bradley-Terry. With ``pi_s = exp(theta_s)``,

    P(i better) = pi_i / (pi_i + pi_j + nu sqrt(pi_i pi_j))
    P(tie)      = nu sqrt(pi_i pi_j) / (pi_i + pi_j + nu sqrt(pi_i pi_j))

so two equally strong systems tie with probability ``nu / (2 + nu)``. We use
Davidson rather than Rao-Kupper because its tie probability is largest for
equal systems and falls smoothly with the strength gap, its log-likelihood is
concave (a multinomial logit), and ``nu = 0`` is exactly Bradley-Terry.
Strengths are log-strengths centred to mean 0 (only differences are
identified). Optional length control adds ``beta * x`` to ``theta_i -
theta_j`` for a per-battle covariate ``x``; we suggest
:func:`length_covariate`, the difference of log(1 + length), so ``beta`` is the
log-odds bonus per e-fold longer response, and strengths are then compared at
equal length.

Maximum likelihood needs every split of the systems into two groups to have a
win or tie across in both directions; otherwise a strength runs off to
infinity. :class:`DavidsonBT` says so and asks for ``alpha > 0``, a ridge
penalty ``alpha/2 * sum(theta^2)`` (a Gaussian prior on the centred strengths).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps
from scipy.sparse import csgraph, csr_matrix

from judgecal.analysis.resample import check_confidence
from judgecal.errors import CalibratorError, ConfigError, InputError
from judgecal.pairwise import _boot, _bt, _ppi
from judgecal.pairwise._inputs import as_outcome_probs, check_battles, cluster_codes


class DavidsonBT:
    """Bradley-Terry with ties (Davidson), fitted by Newton on per-pair sufficient statistics.

    Parameters: ``alpha`` ridge penalty on the centred log-strengths (0 = plain
    maximum likelihood); ``ties`` True fits ``nu``, False fits plain
    Bradley-Terry (ties then count half a win each way; data without a single
    tie also give ``nu_ = 0``, the maximum-likelihood value); ``tol``,
    ``max_iter`` for Newton.

    Learned: ``strengths_`` (m,) centred log-strengths; ``nu_``; ``length_coef_``
    (None without a covariate); ``cov_`` model-based covariance of
    (strengths, log nu[, length_coef]) from the observed information, valid for
    independent battles with integer frequency weights; ``se_`` (m,);
    ``loglik_``; ``n_iter_``; ``n_systems_``.
    """

    def __init__(self, *, alpha: float = 0.0, ties: bool = True, tol: float = 1e-10, max_iter: int = 100):
        self.alpha = alpha
        self.ties = ties
        self.tol = tol
        self.max_iter = max_iter

    def _prepare(self, i, j, outcome, weights, length_diff, n_systems):
        if self.alpha < 0:
            raise ConfigError(f"alpha must be >= 0, got {self.alpha}")
        i, j, w, x, m = check_battles(i, j, n_systems=n_systems, weights=weights, covariate=length_diff)
        y = as_outcome_probs(outcome, len(i))
        cells, inverse, flipped = _bt.make_cells(i, j, m, x)
        yw = _bt.oriented(y, flipped) * w[:, None]
        counts = _bt.cell_counts(inverse, yw, len(cells.a))
        return cells, inverse, yw, counts

    def fit(self, i, j, outcome, *, weights=None, length_diff=None, n_systems: int | None = None) -> DavidsonBT:
        """Fit on battles; see the module docstring for the array conventions."""
        cells, inverse, yw, counts = self._prepare(i, j, outcome, weights, length_diff, n_systems)
        self._fit_counts(cells, counts)
        self._cells, self._inverse, self._yw = cells, inverse, yw
        return self

    def _fit_counts(self, cells: _bt.Cells, counts: np.ndarray) -> None:
        m = cells.n_systems
        total_ties, total = counts[:, 1].sum(), counts.sum()
        fit_ties = bool(self.ties) and total_ties > 0
        if self.ties and total_ties >= total:
            raise InputError("every battle is a tie: strengths cannot be told apart")
        if self.alpha == 0:
            _check_connected(cells, counts)
        init = np.zeros(cells.n_params)
        init[m] = np.log(max(total_ties, 1e-12) / total) if fit_ties else -np.inf
        params, converged, n_iter = _bt.newton(cells, counts[None], alpha=self.alpha, fit_ties=fit_ties,
                                               init=init, tol=self.tol, max_iter=self.max_iter)
        if not converged[0]:
            raise InputError(f"the Bradley-Terry fit did not converge in {self.max_iter} Newton steps; "
                             "the strengths may be unbounded: pass alpha > 0")
        p = params[0]
        self.fit_ties_ = fit_ties
        self.params_ = p
        self.strengths_ = p[:m] - p[:m].mean()
        self.nu_ = float(np.exp(p[m])) if fit_ties else 0.0
        self.length_coef_ = float(p[m + 1]) if cells.x is not None else None
        self.loglik_ = float(_bt.loglik(cells, counts[None], params, self.alpha)[0])
        self.n_iter_ = n_iter
        self.n_systems_ = m
        _, hess = _bt.grad_hess(cells, counts[None], params, self.alpha, fit_ties)
        self.cov_ = centred_inverse(-hess[0], m, keep=_kept(cells, fit_ties))
        self.se_ = np.sqrt(np.clip(np.diag(self.cov_)[:m], 0, None))

    def predict_proba(self, i, j, length_diff=None) -> np.ndarray:
        """P(i better), P(tie), P(j better) for each battle, shape (n, 3)."""
        _check_fitted(self)
        i, j, _, x, _ = check_battles(i, j, n_systems=self.n_systems_, covariate=length_diff)
        d = self.strengths_[i] - self.strengths_[j]
        if self.length_coef_ is not None:
            if x is None:
                raise ConfigError("this model was fitted with length control: pass length_diff")
            d = d + self.length_coef_ * x
        z = np.exp(d / 2) + np.exp(-d / 2) + self.nu_
        return np.column_stack([np.exp(d / 2) / z, np.full_like(d, self.nu_) / z, np.exp(-d / 2) / z])

    def bootstrap(self, clusters=None, *, n_resamples: int = 1000, random_state=0, universe=None) -> np.ndarray:
        """Strengths refitted on cluster-bootstrap resamples of the fitted battles, shape (R, m).

        ``clusters`` (n,) labels (prompt ids) resample whole prompts; None resamples
        battles. ``universe`` (K,) distinct labels, a superset of ``clusters``:
        prompts are drawn from it in its order, so fits sharing the universe and
        ``random_state`` get the same prompts in every resample (paired). Resamples whose fit does not converge (a strength running off
        when alpha = 0) raise an error rather than being dropped.
        """
        _check_fitted(self)
        if n_resamples < 1:
            raise ConfigError(f"n_resamples must be at least 1, got {n_resamples}")
        if clusters is not None and len(clusters) != len(self._inverse):
            raise InputError(f"clusters has {len(clusters)} values but the model was fitted on "
                             f"{len(self._inverse)} battles")
        cells, m = self._cells, self.n_systems_
        mat, mult = _boot.cluster_matrix(self._inverse, self._yw, len(cells.a), clusters, universe)
        rng = np.random.default_rng(random_state)
        out = np.empty((n_resamples, m))
        # Refits stop once the last Newton step taken gained < 0.01 in log-likelihood: the
        # remaining gap is then of order 1e-6 or less (quadratic convergence), far below resampling noise.
        tol = max(self.tol, 1e-2 / max(float(self._yw.sum()), 1.0))
        start = 0
        for counts in _boot.resampled_counts(mat, mult, n_resamples, rng):
            params, converged, _ = _bt.newton(cells, counts, alpha=self.alpha, fit_ties=self.fit_ties_,
                                              init=self.params_, tol=tol, max_iter=self.max_iter)
            if not converged.all():
                raise InputError(f"{int((~converged).sum())} bootstrap resample(s) have no finite strengths "
                                 "(a system won or lost all its battles in the resample): pass alpha > 0")
            out[start : start + len(counts)] = params[:, :m] - params[:, :m].mean(axis=1, keepdims=True)
            start += len(counts)
        return out


class HumanAnchoredBT:
    """Davidson strengths anchored on natives: PPI++ over a few human-labelled battles and many judged ones.

    ``fit(i, j, judge, human)``: ``judge`` (n,) codes or (n, 3) probabilities for
    every battle (the judge's prediction of the native outcome: a raw verdict,
    or a calibrated distribution); ``human`` (n, 3) native vote shares for the
    labelled battles and rows of NaN for the others (or codes with NaN).
    ``clusters`` (n,) labels (prompt ids) make the covariance cluster-robust:
    battles of one prompt are correlated, prompts are the independent draws.
    The estimator and its covariance are documented in
    :mod:`judgecal.pairwise._ppi`. ``lam`` None tunes the power-tuning
    parameter (PPI++); 0 gives the human-only fit, 1 plain PPI. ``alpha`` is a
    ridge penalty as in :class:`DavidsonBT`, on the scale of the labelled battles
    (the objective is multiplied by their number); the covariance ignores it.

    Learned: ``strengths_`` (m,), ``nu_``, ``cov_`` (m+1, m+1) over (strengths,
    log nu), ``se_``, ``lam_``, ``n_labelled_``, ``n_unlabelled_``, ``n_clusters_``
    and ``df_`` (clusters - 1, the t intervals' degrees of freedom; both None
    without clusters, intervals then normal),
    ``ess_gain_`` (variance of the human-only fit over this one, trace of the
    strengths' block, at the same strengths) and ``effective_n_`` (labelled
    battles times that gain: how many human battles alone would match it).
    """

    def __init__(self, *, lam: float | None = None, alpha: float = 0.0, tol: float = 1e-10, max_iter: int = 100):
        self.lam = lam
        self.alpha = alpha
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, i, j, judge, human, *, clusters=None, n_systems: int | None = None) -> HumanAnchoredBT:
        """Fit; ``clusters`` (n,) labels (prompt ids) make the covariance cluster-robust (None: independent battles)."""
        i, j, _, _, m = check_battles(i, j, n_systems=n_systems)
        f = as_outcome_probs(judge, len(i), name="judge")
        y = as_outcome_probs(human, len(i), name="human", allow_missing=True)
        codes = None if clusters is None else cluster_codes(clusters, len(i))
        lab = ~np.isnan(y).any(axis=1)
        n, big_n = int(lab.sum()), int((~lab).sum())
        if n < 2:
            raise InputError(f"human-anchored strengths need at least 2 labelled battles (got {n})")
        if self.alpha < 0:
            raise ConfigError(f"alpha must be >= 0, got {self.alpha}")
        if self.lam is not None and not 0.0 <= self.lam <= 1.0:
            raise ConfigError(f"lam must be between 0 and 1, got {self.lam}")
        cells, inverse, flipped = _bt.make_cells(i, j, m)
        fo, yo = _bt.oriented(f, flipped), _bt.oriented(np.where(lab[:, None], y, 0.0), flipped)
        inv_l, inv_u = inverse[lab], inverse[~lab]

        def solve(lam: float, init: np.ndarray) -> np.ndarray:
            counts = _ppi.objective_counts(cells, inv_l, inv_u, yo[lab], fo[lab], fo[~lab], lam)
            params, ok, _ = _bt.newton(cells, counts[None] * n, alpha=self.alpha, init=init, tol=self.tol,
                                       max_iter=self.max_iter)
            if not ok[0]:
                raise InputError("the human-anchored fit did not converge: some strengths are not "
                                 "identified by the battles (a system never won, never lost or never met "
                                 "the others): pass alpha > 0")
            return params[0]

        init = np.zeros(m + 1)
        init[m] = np.log(max(np.nanmean(y[lab][:, 1]), 1e-3))
        # Every battle labelled: the judge adds nothing the natives did not say; the fit is human-only.
        fixed = 0.0 if big_n == 0 else self.lam
        params = solve(1.0 if fixed is None else fixed, init)
        a_pinv, spread = self._parts(cells, inverse, i, j, lab, f, y, params, m, codes)
        lam = spread.lam(a_pinv, m) if fixed is None else fixed
        if fixed is None:
            params = solve(lam, params)
            a_pinv, spread = self._parts(cells, inverse, i, j, lab, f, y, params, m, codes)
        self.cov_ = spread.cov(a_pinv, lam)
        human_only = spread.cov(a_pinv, 0.0)
        self.strengths_ = params[:m] - params[:m].mean()
        self.nu_ = float(np.exp(params[m]))
        self.se_ = np.sqrt(np.clip(np.diag(self.cov_)[:m], 0, None))
        self.lam_, self.n_labelled_, self.n_unlabelled_, self.n_systems_ = float(lam), n, big_n, m
        self.n_clusters_ = None if codes is None else codes[1]
        # With K prompts the cluster-robust variance has about K - 1 degrees of freedom; a t
        # quantile keeps 90 % intervals at 89-90 % with PARIKSHA's 20 prompts (normal: 87-88 %).
        self.df_ = None if codes is None else float(max(codes[1] - 1, 1))
        self.ess_gain_ = float(np.trace(human_only[:m, :m]) / np.trace(self.cov_[:m, :m]))
        self.effective_n_ = n * self.ess_gain_
        return self

    @staticmethod
    def _parts(cells, inverse, i, j, lab, f, y, params, m, codes):
        """(H^+, spread of the PPI gradient) at params; see :mod:`judgecal.pairwise._ppi`."""
        a_pinv = centred_inverse(_ppi.information(cells, inverse, params), m)
        gy = _ppi.scores(i[lab], j[lab], y[lab], params, m)
        gf_all = _ppi.scores(i, j, f, params, m)
        if codes is None:
            gf_l = _ppi.scores(i[lab], j[lab], f[lab], params, m)
            return a_pinv, _ppi.Independent(*_ppi.variances(gy, gf_l, gf_all), int(lab.sum()), int((~lab).sum()))
        return a_pinv, _ppi.clustered(gy, gf_all[lab], gf_all[~lab], codes[0][lab], codes[0][~lab], codes[1])

    def intervals(self, confidence: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Intervals (low, high) for the centred strengths, each (m,): normal, or t with ``df_``
        degrees of freedom (clusters - 1) when fitted with clusters."""
        _check_fitted(self)
        check_confidence(confidence)
        z = critical_value(confidence, self.df_)
        return self.strengths_ - z * self.se_, self.strengths_ + z * self.se_


def _kept(cells: _bt.Cells, fit_ties: bool) -> np.ndarray:
    keep = np.ones(cells.n_params, dtype=bool)
    keep[cells.n_systems] = fit_ties
    return keep


def centred_inverse(info: np.ndarray, m: int, keep: np.ndarray | None = None) -> np.ndarray:
    """Pseudo-inverse of an information matrix whose strength block is singular along ones.

    ``info`` (k, k) = minus the Hessian; returns the covariance (k, k) of the
    centred strengths and the other parameters (rows not in ``keep`` are 0).
    """
    k = info.shape[0]
    keep = np.ones(k, dtype=bool) if keep is None else keep
    sub = info[np.ix_(keep, keep)]
    v = np.zeros(int(keep.sum()))
    v[:m] = 1.0 / np.sqrt(m)
    inv = np.linalg.inv(sub + np.outer(v, v)) - np.outer(v, v)
    out = np.zeros((k, k))
    out[np.ix_(keep, keep)] = inv
    return out


def _check_fitted(model) -> None:
    if not hasattr(model, "strengths_"):
        raise CalibratorError(f"this {type(model).__name__} is not fitted yet: call fit first")


def _check_connected(cells: _bt.Cells, counts: np.ndarray) -> None:
    """Raise unless every group of systems beats or ties some outsider and vice versa (MLE exists)."""
    m = cells.n_systems
    ahead = counts[:, 0] + counts[:, 1] > 0  # a beat or tied b: an edge a -> b
    behind = counts[:, 2] + counts[:, 1] > 0
    rows = np.concatenate([cells.a[ahead], cells.b[behind]])
    cols = np.concatenate([cells.b[ahead], cells.a[behind]])
    graph = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(m, m))
    n_comp, labels = csgraph.connected_components(graph, directed=True, connection="strong")
    if n_comp > 1:
        groups = [np.flatnonzero(labels == c).tolist() for c in range(n_comp)]
        raise InputError(
            f"the strengths have no finite maximum-likelihood values: the systems split into {n_comp} groups "
            f"{groups} where one group never lost (or never won) against another, or never met; "
            "pass alpha > 0 (a ridge prior) or add battles")


def length_covariate(len_i, len_j) -> np.ndarray:
    """log(1 + len_i) - log(1 + len_j) per battle, shape (n,), for length control; lengths >= 0.

    The 1 keeps an empty response (length 0) usable. Measure lengths in
    grapheme clusters for scripts where characters mislead.
    """
    a, b = np.asarray(len_i, dtype=float), np.asarray(len_j, dtype=float)
    bad = ~(np.isfinite(a) & np.isfinite(b) & (a >= 0) & (b >= 0))
    if bad.any():
        raise InputError(f"response lengths must be numbers >= 0; {int(bad.sum())} battle(s) are not, "
                         f"first at row {int(np.flatnonzero(bad)[0])}")
    return np.log1p(a) - np.log1p(b)


def rank_ranges(samples: np.ndarray, confidence: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """Best and worst plausible rank (1 = strongest) per system from bootstrap strengths (R, m)."""
    check_confidence(confidence)
    ranks = (-samples).argsort(axis=1).argsort(axis=1) + 1
    tail = (1 - confidence) / 2
    best = np.floor(np.quantile(ranks, tail, axis=0)).astype(int)
    worst = np.ceil(np.quantile(ranks, 1 - tail, axis=0)).astype(int)
    return best, worst


def kendall_tau(a, b) -> float:
    """Kendall's tau-b between two strength vectors (m,), ties handled; NaN entries ignored."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ConfigError(f"leaderboards have different sizes: {a.shape} and {b.shape}")
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 2:
        return float("nan")
    return float(sps.kendalltau(a[ok], b[ok]).statistic)


def critical_value(confidence: float, df: float | None = None) -> float:
    """Two-sided quantile for ``confidence``: normal, or Student t with ``df`` degrees of freedom."""
    upper = 0.5 + confidence / 2
    return float(sps.norm.ppf(upper) if df is None else sps.t.ppf(upper, df))


def kendall_tau_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Kendall's tau-b between matching rows of a and b, both (R, m), shape (R,).

    Vectorised over rows (bootstrap resamples of two leaderboards): for every
    pair of systems the signs of the two strength differences; tau-b is the sum
    of their products over the square root of the counts of untied pairs.
    A row that is constant in a or b gives NaN, as tau-b is undefined there.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 2:
        raise ConfigError(f"need two (R, m) arrays of the same shape, got {a.shape} and {b.shape}")
    p, q = np.triu_indices(a.shape[1], k=1)
    sa, sb = np.sign(a[:, p] - a[:, q]), np.sign(b[:, p] - b[:, q])
    den = np.sqrt((sa != 0).sum(axis=1) * (sb != 0).sum(axis=1), dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (sa * sb).sum(axis=1) / den, np.nan)


def leaderboard_table(
    strengths: np.ndarray,
    *,
    names=None,
    samples: np.ndarray | None = None,
    se: np.ndarray | None = None,
    confidence: float = 0.9,
    df: float | None = None,
) -> pd.DataFrame:
    """One row per system, strongest first: strength, interval, rank and rank range.

    Intervals are bootstrap percentiles when ``samples`` (R, m) are given, else
    normal intervals from ``se`` (m,), or t with ``df`` degrees of freedom. Rank ranges come from the bootstrap, or
    without one from interval overlap (best = 1 + systems whose interval lies
    wholly above; worst = systems whose interval is not wholly below).
    """
    check_confidence(confidence)
    s = np.asarray(strengths, dtype=float)
    m = len(s)
    names = [str(k) for k in range(m)] if names is None else [str(n) for n in names]
    tail = (1 - confidence) / 2
    if samples is not None:
        low, high = np.quantile(samples, [tail, 1 - tail], axis=0)
        best, worst = rank_ranges(samples, confidence)
    elif se is not None:
        z = critical_value(confidence, df)
        low, high = s - z * np.asarray(se), s + z * np.asarray(se)
        best = 1 + (low[None, :] > high[:, None]).sum(axis=1)
        worst = (high[None, :] >= low[:, None]).sum(axis=1)
    else:
        low = high = np.full(m, np.nan)
        best = worst = np.full(m, -1)
    rank = (-s).argsort().argsort() + 1
    table = pd.DataFrame({"system": names, "strength": s, "ci_low": low, "ci_high": high, "rank": rank,
                          "rank_best": best, "rank_worst": worst})
    return table.sort_values("rank", kind="stable").reset_index(drop=True)

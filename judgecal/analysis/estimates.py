"""System-level estimates: each evaluated system's mean native-speaker score.

A few items carry human labels ``Y``; every item carries a judge score ``f``.
Prediction-powered inference (PPI++) combines them: the judge's mean over all
items, corrected by the average residual ``Y - lambda * f`` on the labelled
items, with ``lambda`` tuned to minimise the variance (``lambda = 0`` is the
human-only estimate, ``lambda = 1`` plain PPI).

:func:`ppi_mean` is PPI++ for one mean with a separate unlabelled pool
(Angelopoulos, Duchi and Zrnic, 2023): variance ``Var(Y - lambda f) / n +
lambda^2 Var(f) / N``.

:func:`system_estimates` treats the items the judge scored as the population
whose mean human score is wanted (the usual evaluation setting: the judge
scored every item of every system). Within a (language, metric) group, each
system is a stratum; the labelled items of a system are assumed a random
sample of its items. Then PPI++ is the survey difference estimator

    theta_s = lambda * mean_{items of s}(f) + mean_{labelled of s}(Y - lambda f)

with variance ``(1/n_s - 1/N_s) S_r^2`` (finite-population correction: once
every item is labelled the estimate is exact). ``lambda`` is pooled over the
systems of the group, because a system often has only a handful of labels;
each system's residual variance is its own, moderated toward the pooled one
(see :func:`stratified_estimates`), with Student's t intervals. The same
formulas with ``lambda = 0`` give the human-only estimate, so the two are
directly comparable.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from judgecal.analysis.items import check_grouping, item_table, judges_in, scales_for
from judgecal.analysis.resample import check_confidence
from judgecal.data.metrics import DEFAULT_REGISTRY, MetricRegistry
from judgecal.errors import ConfigError, InputError

ESTIMATORS = ("ppi", "human", "judge")


def ppi_mean(
    y_labelled: np.ndarray,
    f_labelled: np.ndarray,
    f_unlabelled: np.ndarray,
    *,
    confidence: float = 0.9,
    lam: float | None = None,
) -> dict[str, float]:
    """PPI++ estimate of E[Y] from labelled pairs (Y, f) and an unlabelled pool of f.

    Parameters
    ----------
    y_labelled, f_labelled : float array, shape (n,)
        Human and judge scores of the labelled items.
    f_unlabelled : float array, shape (N,)
        Judge scores of the unlabelled items.
    confidence : float
    lam : float, optional
        None tunes lambda = Cov(Y, f) / ((1 + n/N) Var(f)).

    Returns
    -------
    dict
        ``estimate``, ``se``, ``ci_low``, ``ci_high`` (normal), ``lam``, ``n``, ``N``.

    Examples
    --------
    >>> out = ppi_mean(np.array([1.0, 2, 0, 1]), np.array([1.0, 2, 1, 1]), np.array([2.0, 1, 1, 0, 2, 2]))
    >>> round(out["estimate"], 3), round(out["lam"], 3), out["n"], out["N"]
    (1.037, 0.439, 4, 6)
    """
    check_confidence(confidence)
    y = np.asarray(y_labelled, dtype=float)
    f = np.asarray(f_labelled, dtype=float)
    fu = np.asarray(f_unlabelled, dtype=float)
    n, big_n = len(y), len(fu)
    if len(f) != n:
        raise ConfigError(f"y_labelled has {n} values but f_labelled has {len(f)}")
    if n < 2 or big_n < 2:
        raise ConfigError(f"PPI needs at least 2 labelled and 2 unlabelled items (got {n} and {big_n})")
    if lam is None:
        var_pool = np.var(np.concatenate([f, fu]), ddof=1)
        cov = np.cov(y, f, ddof=1)[0, 1]
        # PPI++ tuning; Var(f) from all judge scores (labelled and not) is the stabler estimate.
        lam = float(cov / ((1 + n / big_n) * var_pool)) if var_pool > 0 else 0.0
    rect = y - lam * f
    est = lam * fu.mean() + rect.mean()
    se = float(np.sqrt(np.var(rect, ddof=1) / n + lam**2 * np.var(fu, ddof=1) / big_n))
    z = sps.norm.ppf(0.5 + confidence / 2)
    return {"estimate": float(est), "se": se, "ci_low": float(est - z * se), "ci_high": float(est + z * se),
            "lam": float(lam), "n": n, "N": big_n}


DEFAULT_PRIOR_DF = 8.0


def t_interval(values: np.ndarray, confidence: float = 0.9) -> tuple[float, float, float, float]:
    """(mean, ci_low, ci_high, se) of values (n,) by Student's t; NaN interval when n < 2."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n == 0:
        return (np.nan, np.nan, np.nan, np.nan)
    mean = float(x.mean())
    if n < 2:
        return (mean, np.nan, np.nan, np.nan)
    se = float(x.std(ddof=1) / np.sqrt(n))
    half = _t_quantile(0.5 + confidence / 2, float(n - 1)) * se
    return (mean, mean - half, mean + half, se)


def stratified_estimates(
    y: np.ndarray,
    f: np.ndarray,
    strata: np.ndarray,
    labelled: np.ndarray,
    *,
    confidence: float = 0.9,
    lam: float | None = None,
    prior_df: float | None = DEFAULT_PRIOR_DF,
) -> dict[str, np.ndarray | float]:
    """PPI++ and human-only estimates of each stratum's mean Y over its items.

    Parameters
    ----------
    y : float array, shape (N,)
        Human score (ignored where not labelled).
    f : float array, shape (N,)
        Judge score, known for every item.
    strata : int array, shape (N,)
        Stratum codes 0..S-1 (systems).
    labelled : bool array, shape (N,)
    confidence : float
    lam : float, optional
        None tunes lambda from the labelled items, shared by all strata.
    prior_df : float or None
        How strongly each stratum's variance is pulled toward the pooled one (a
        moderated variance, as in empirical-Bayes t tests):
        ``(df_s s2_s + prior_df s2_pooled) / (df_s + prior_df)`` with
        ``df_s + prior_df`` degrees of freedom (at most the pooled ones). Systems
        differ in spread (a weak system's scores vary far more than a strong
        one's), so one pooled variance under-covers the noisy systems; a stratum's
        own variance from two or three labels is too noisy to use alone. None uses
        the pooled variance for every stratum.

    Returns
    -------
    dict
        Arrays of shape (S,): ``ppi``, ``ppi_se``, ``human``, ``human_se``,
        ``t_ppi``, ``t_human`` (interval multipliers), ``judge`` (judge mean),
        ``n``, ``N``; scalars ``lam``, ``df_ppi``, ``df_human`` (pooled degrees of
        freedom), ``s2_resid``, ``s2_human`` (pooled variances), ``t_ppi_pooled``,
        ``t_human_pooled``.

    Examples
    --------
    >>> out = stratified_estimates(np.array([1.0, 2, 0, 1, 2, 1]), np.array([1.0, 2, 1, 1, 2, 2]),
    ...                            np.array([0, 0, 0, 1, 1, 1]), np.array([True, True, False, True, True, False]))
    >>> out["human"], out["n"], out["N"]
    (array([1.5, 1.5]), array([2., 2.]), array([3., 3.]))
    """
    check_confidence(confidence)
    if prior_df is not None and prior_df <= 0:
        raise ConfigError(f"prior_df must be positive or None, got {prior_df}")
    y = np.asarray(y, dtype=float)
    f = np.asarray(f, dtype=float)
    strata = np.asarray(strata, dtype=np.int64)
    lab = np.asarray(labelled, dtype=bool)
    if np.isnan(f).any():
        raise InputError("judge scores are missing for some items of the population")
    if np.isnan(y[lab]).any():
        raise InputError("labelled items need a human score")
    s = int(strata.max()) + 1 if len(strata) else 0
    big_n = np.bincount(strata, minlength=s).astype(float)
    n = np.bincount(strata[lab], minlength=s).astype(float)
    ys, fs, ss = y[lab], f[lab], strata[lab]
    with np.errstate(invalid="ignore", divide="ignore"):
        y_bar = np.bincount(ss, weights=ys, minlength=s) / n
        f_bar_lab = np.bincount(ss, weights=fs, minlength=s) / n
        f_bar_all = np.bincount(strata, weights=f, minlength=s) / big_n
    dy, df_ = ys - y_bar[ss], fs - f_bar_lab[ss]
    sff, syf = float((df_**2).sum()), float((dy * df_).sum())
    if lam is None:
        # Within-stratum regression slope minimises the pooled residual variance.
        lam = syf / sff if sff > 0 else 0.0
    groups_with_labels = int((n > 0).sum())
    r = ys - lam * fs
    with np.errstate(invalid="ignore", divide="ignore"):
        r_bar = np.bincount(ss, weights=r, minlength=s) / n
    dr = r - r_bar[ss]
    df_human = len(ys) - groups_with_labels
    df_ppi = df_human - 1
    s2_human = float((dy**2).sum() / df_human) if df_human > 0 else np.nan
    s2_resid = float((dr**2).sum() / df_ppi) if df_ppi > 0 else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        fpc = np.clip(1.0 / n - 1.0 / big_n, 0.0, None)
    tail = 0.5 + confidence / 2
    t_ppi_pooled = _t_quantile(tail, float(df_ppi)) if df_ppi > 0 else np.nan
    t_human_pooled = _t_quantile(tail, float(df_human)) if df_human > 0 else np.nan
    var_h, t_h = _moderated(np.bincount(ss, weights=dy**2, minlength=s), n, s2_human, df_human, prior_df, tail)
    var_r, t_r = _moderated(np.bincount(ss, weights=dr**2, minlength=s), n, s2_resid, df_ppi, prior_df, tail)
    # A stratum without labels (or without a variance) has no standard error: NaN, not a warning.
    with np.errstate(invalid="ignore"):
        ppi_se, human_se = np.sqrt(fpc * var_r), np.sqrt(fpc * var_h)
    return {
        "ppi": lam * f_bar_all + r_bar,
        "ppi_se": ppi_se,
        "t_ppi": t_r,
        "human": y_bar,
        "human_se": human_se,
        "t_human": t_h,
        "judge": f_bar_all,
        "n": n,
        "N": big_n,
        "lam": float(lam),
        "df_ppi": df_ppi,
        "df_human": df_human,
        "s2_resid": s2_resid,
        "s2_human": s2_human,
        "t_ppi_pooled": t_ppi_pooled,
        "t_human_pooled": t_human_pooled,
    }


@functools.lru_cache(maxsize=4096)
def _t_quantile(tail: float, df: float) -> float:
    return float(sps.t.ppf(tail, df))


def t_quantiles(tail: float, df: np.ndarray) -> np.ndarray:
    """Student-t quantiles for an array of degrees of freedom, shape of ``df``.

    scipy's ppf costs milliseconds per call and the simulations call it
    thousands of times with a handful of distinct df values: cache them.
    """
    df = np.asarray(df, dtype=float)
    uniq, inv = np.unique(df, return_inverse=True)
    values = np.array([_t_quantile(tail, float(d)) if d > 0 else np.nan for d in uniq])
    return values[inv].reshape(df.shape)


def _moderated(sum_sq: np.ndarray, n: np.ndarray, s2_pooled: float, df_pooled: int, prior_df: float | None,
               tail: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-stratum variance and t multiplier, shapes (S,), pulled toward the pooled variance."""
    if prior_df is None or not np.isfinite(s2_pooled) or df_pooled <= 0:
        t = _t_quantile(tail, float(df_pooled)) if df_pooled > 0 else np.nan
        return np.full(len(n), s2_pooled), np.full(len(n), t)
    df_s = np.maximum(n - 1, 0)
    var = (sum_sq + prior_df * s2_pooled) / (df_s + prior_df)
    df = np.minimum(df_s + prior_df, df_pooled)
    return var, t_quantiles(tail, df)


def system_estimates(
    ratings: pd.DataFrame,
    *,
    by: Sequence[str] = ("language", "metric"),
    judge: str | None = None,
    judge_column: str = "score",
    confidence: float = 0.9,
    prior_df: float | None = DEFAULT_PRIOR_DF,
    registry: MetricRegistry = DEFAULT_REGISTRY,
) -> pd.DataFrame:
    """Each system's mean human score per group: PPI++, human-only and raw judge.

    The population of a system is the items the judge scored; labelled items
    are those with at least one human rating (their human score is the raters'
    mean). Systems without any labelled item get no PPI or human estimate (NaN).

    Parameters
    ----------
    ratings : DataFrame
        Ratings table with a ``system`` column, judge rows for every item and
        human rows for the labelled ones.
    by : sequence of str
        Grouping columns.
    judge : str, optional
    judge_column : str
    confidence : float
    prior_df : float or None
        How strongly each system's variance is pulled toward the language's pooled
        one (see :func:`stratified_estimates`); None uses the pooled variance.
    registry : MetricRegistry

    Returns
    -------
    DataFrame
        Tidy: the ``by`` columns, ``judge``, ``system``, ``estimator`` (ppi, human,
        judge), ``estimate``, ``ci_low``, ``ci_high``, ``se``, ``n`` (labelled
        items), ``N`` (items), ``lam``, ``ess_gain`` (how many times more labels the
        human-only estimate would need for the PPI interval width:
        ``S_human^2 / S_resid^2``). The judge row's interval covers item sampling
        only, not the judge's bias.

    Examples
    --------
    >>> from judgecal.datasets.synthetic import make_judge_ratings
    >>> ratings = make_judge_ratings(n_items=200, languages=("hi", "ta"), metrics=("tq",))
    >>> odd = ratings["prompt_id"].str[-1].isin(list("13579"))          # hide the humans of these
    >>> partly = ratings[~(odd & (ratings["rater_kind"] == "human"))]
    >>> estimates = system_estimates(partly)
    >>> one = estimates.query("language == 'hi' and system == 'system-0'")
    >>> one[["estimator", "estimate", "ci_low", "ci_high", "n", "N"]].round(2)
      estimator  estimate  ci_low  ci_high   n   N
    0       ppi      0.97    0.85     1.10  13  25
    1     human      1.00    0.77     1.23  13  25
    2     judge      1.04    0.77     1.31  13  25
    """
    check_confidence(confidence)
    if "system" not in ratings.columns:
        raise ConfigError("system-level estimates need a 'system' column (the evaluated model of each item)")
    keys = check_grouping(ratings, by)
    keys = keys if "metric" in keys else [*keys, "metric"]
    group_keys = [k for k in keys if k != "metric"]
    rows: list[dict] = []
    for metric, scale in scales_for(ratings, registry).items():
        for judge_id in judges_in(ratings, judge, metric=metric):
            items = item_table(ratings, scale, judge=judge_id, judge_column=judge_column)
            items = items[items["judge_score"].notna() & items["system"].notna()]
            grouped = items.groupby(group_keys, dropna=False, sort=True) if group_keys else [((), items)]
            for values, frame in grouped:
                values = values if isinstance(values, tuple) else (values,)
                base = dict(zip(group_keys, values, strict=True)) | {"metric": metric, "judge": judge_id}
                codes, systems = pd.factorize(frame["system"], sort=True)
                labelled = frame["n_humans"].to_numpy() > 0
                res = stratified_estimates(frame["human_mean"].to_numpy(float), frame["judge_score"].to_numpy(float),
                                           codes, labelled, confidence=confidence, prior_df=prior_df)
                gain = res["s2_human"] / res["s2_resid"] if res["s2_resid"] and res["s2_resid"] > 0 else np.nan
                f_all = frame["judge_score"].to_numpy(float)
                for k, system in enumerate(systems):
                    j_mean, j_low, j_high, j_se = t_interval(f_all[codes == k], confidence)
                    for name, est, low, high, se in (
                        ("ppi", res["ppi"][k], *_around(res["ppi"][k], res["t_ppi"][k], res["ppi_se"][k])),
                        ("human", res["human"][k], *_around(res["human"][k], res["t_human"][k], res["human_se"][k])),
                        ("judge", j_mean, j_low, j_high, j_se),
                    ):
                        rows.append(base | {
                            "system": system, "estimator": name, "estimate": float(est),
                            "ci_low": float(low), "ci_high": float(high), "se": float(se),
                            "n": int(res["n"][k]), "N": int(res["N"][k]),
                            "lam": res["lam"] if name == "ppi" else np.nan,
                            "ess_gain": gain if name == "ppi" else np.nan,
                            "higher_is_better": scale.higher_is_better,
                        })
    return pd.DataFrame(rows, columns=[*keys, "judge", "system", "estimator", "estimate", "ci_low", "ci_high", "se",
                                       "n", "N", "lam", "ess_gain", "higher_is_better"])


def _around(est: float, t: float, se: float) -> tuple[float, float, float]:
    return (est - t * se, est + t * se, se)


def rank_systems(
    estimates: pd.DataFrame,
    *,
    estimator: str = "ppi",
    confidence: float = 0.9,
    n_draws: int = 4000,
    random_state: int = 0,
) -> pd.DataFrame:
    """Rankings with uncertainty from :func:`system_estimates` output.

    Draws each system's mean from a normal with its estimate and standard error
    (independently), ranks every draw (1 = best, respecting the metric's
    polarity), and reports the central ``confidence`` range of each system's rank
    and the share of draws in which it ranks first. Tied systems share ranks
    (``rank`` counts the systems strictly better) and split ``p_best``.

    Parameters
    ----------
    estimates : DataFrame
        Output of :func:`system_estimates`.
    estimator : {"ppi", "human", "judge"}
    confidence : float
    n_draws : int
    random_state : int

    Returns
    -------
    DataFrame
        The group columns with ``system``, ``estimate``, ``rank``, ``rank_low``,
        ``rank_high``, ``p_best``.

    Examples
    --------
    >>> from judgecal.datasets.synthetic import make_judge_ratings
    >>> ratings = make_judge_ratings(n_items=200, languages=("hi", "ta"), metrics=("tq",))
    >>> odd = ratings["prompt_id"].str[-1].isin(list("13579"))          # hide the humans of these
    >>> partly = ratings[~(odd & (ratings["rater_kind"] == "human"))]
    >>> estimates = system_estimates(partly)
    >>> ranks = rank_systems(estimates).query("language == 'hi'")
    >>> ranks[["system", "rank", "rank_low", "rank_high", "p_best"]].round(2)
         system  rank  rank_low  rank_high  p_best
    0  system-3     1         1          1    0.99
    1  system-2     2         2          4    0.01
    2  system-0     3         2          4    0.00
    3  system-1     4         2          4    0.00
    """
    if estimator not in ESTIMATORS:
        raise ConfigError(f"estimator must be one of {ESTIMATORS}, not {estimator!r}")
    check_confidence(confidence)
    est = estimates[(estimates["estimator"] == estimator) & estimates["estimate"].notna()]
    group_cols = [c for c in est.columns if c in ("language", "script", "task", "metric", "judge")]
    rng = np.random.default_rng(random_state)
    out = []
    for _, g in est.groupby(group_cols, dropna=False, sort=True):
        sign = 1.0 if bool(g["higher_is_better"].iloc[0]) else -1.0
        mu = sign * g["estimate"].to_numpy(float)
        se = np.nan_to_num(g["se"].to_numpy(float), nan=0.0)
        draws = mu[None, :] + se[None, :] * rng.standard_normal((n_draws, len(g)))
        # Ties (equal estimates with zero standard error) share ranks: the best rank a
        # system can claim counts only systems strictly better, the worst counts ties too.
        better = (draws[:, None, :] > draws[:, :, None]).sum(axis=2)
        not_worse = (draws[:, None, :] >= draws[:, :, None]).sum(axis=2)
        tail = (1 - confidence) / 2
        frame = g[group_cols + ["system", "estimate"]].copy()
        frame["rank"] = 1 + (mu[None, :] > mu[:, None]).sum(axis=1)
        frame["rank_low"] = np.quantile(better + 1, tail, axis=0, method="lower").astype(int)
        frame["rank_high"] = np.quantile(not_worse, 1 - tail, axis=0, method="higher").astype(int)
        top = draws == draws.max(axis=1, keepdims=True)
        frame["p_best"] = (top / top.sum(axis=1, keepdims=True)).mean(axis=0)
        out.append(frame.sort_values("rank"))
    cols = [*group_cols, "system", "estimate", "rank", "rank_low", "rank_high", "p_best"]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=cols)

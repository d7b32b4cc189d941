"""Agreement between judge and native speakers, and among native speakers.

Three comparisons per group (language, script, metric, and task if asked):

* ``human-human``: Krippendorff's alpha among the human raters, the ceiling a
  judge can hardly beat;
* ``judge+humans``: alpha with the judge counted as one more rater;
* ``judge-consensus``: the judge against the humans' consensus: alpha,
  Cohen's kappa (quadratic weights for ordinal scales, unweighted for nominal),
  Spearman and Kendall (judge score vs the humans' mean), percentage agreement
  and support-weighted F1 (judge level vs consensus level), as reported in
  multilingual judge studies.

Point estimates of alpha come from the ``krippendorff`` package; intervals
from a cluster bootstrap over items (see :mod:`judgecal.analysis.resample`),
all statistics sharing the same resamples.
"""

from __future__ import annotations

from collections.abc import Sequence

import krippendorff
import numpy as np
import pandas as pd

from judgecal.analysis import stats as st
from judgecal.analysis.items import check_grouping, item_table, judges_in, level_counts, scales_for
from judgecal.analysis.resample import (
    bootstrap_many,
    check_confidence,
    compress,
    percentile_interval,
)
from judgecal.data.metrics import DEFAULT_REGISTRY, MetricRegistry, MetricScale

STATISTICS = ("alpha", "kappa", "spearman", "kendall", "percent_agreement", "weighted_f1")
RESULT_COLUMNS = ("judge", "comparison", "statistic", "estimate", "ci_low", "ci_high", "n", "human_levels", "judge_levels")


def agreement_table(
    ratings: pd.DataFrame,
    *,
    by: Sequence[str] = ("language", "script", "metric"),
    judge: str | None = None,
    judge_column: str = "score",
    confidence: float = 0.95,
    n_resamples: int = 1000,
    random_state: int = 0,
    registry: MetricRegistry = DEFAULT_REGISTRY,
) -> pd.DataFrame:
    """Agreement statistics with bootstrap intervals, one row per group, comparison and statistic.

    Comparisons: ``human-human`` (Krippendorff's alpha among humans, the ceiling),
    ``judge+humans`` (alpha with the judge as one more rater) and ``judge-consensus``
    (alpha, kappa, Spearman, Kendall, percentage agreement, weighted F1 of the judge
    against the humans' consensus).

    Parameters
    ----------
    ratings : DataFrame
        Ratings table with human rows and (optionally) judge rows.
    by : sequence of str
        Grouping columns; ``metric`` is always added.
    judge : str, optional
        Analyse this judge only (default: every judge in the table, one block each).
    judge_column : str
        Judge score column (``score`` raw; a calibrated column for "after").
    confidence : float
        Interval level, e.g. 0.95.
    n_resamples : int
        Bootstrap resamples over items.
    random_state : int
    registry : MetricRegistry
        Metric scales (built-ins by default).

    Returns
    -------
    DataFrame
        Tidy: the ``by`` columns, ``judge`` (empty for human-human),
        ``comparison``, ``statistic``, ``estimate``, ``ci_low``, ``ci_high``, ``n``
        (items used), ``human_levels`` and ``judge_levels`` (share of each level:
        kappa is hard to read without them when one level dominates).

    Examples
    --------
    >>> from judgecal.datasets.synthetic import make_judge_ratings
    >>> ratings = make_judge_ratings(n_items=200, languages=("hi", "ta"), metrics=("tq",))
    >>> table = agreement_table(ratings, n_resamples=200)
    >>> table.query("statistic == 'alpha'")[["language", "comparison", "estimate", "n"]].round(2)
       language       comparison  estimate    n
    0        hi      human-human      0.73  100
    1        hi     judge+humans      0.71  100
    2        hi  judge-consensus      0.73  100
    8        ta      human-human      0.66  100
    9        ta     judge+humans      0.57  100
    10       ta  judge-consensus      0.48  100
    """
    check_confidence(confidence)
    keys = _keys(ratings, by)
    rows: list[dict] = []
    seed = 0
    for metric, scale in scales_for(ratings, registry).items():
        judge_ids = judges_in(ratings, judge, metric=metric) or [None]
        for j_pos, judge_id in enumerate(judge_ids):
            items = item_table(ratings, scale, judge=judge_id, judge_column=judge_column)
            group_keys = [k for k in keys if k != "metric"]
            grouped = items.groupby(group_keys, dropna=False, sort=True) if group_keys else [((), items)]
            for values, frame in grouped:
                values = values if isinstance(values, tuple) else (values,)
                base = dict(zip(group_keys, values, strict=True)) | {"metric": metric}
                seed += 1
                for row in _group_agreement(frame, scale, judge_id, confidence, n_resamples, (random_state, seed)):
                    if judge_id is not None and j_pos > 0 and row["comparison"] == "human-human":
                        continue  # the human ceiling does not depend on the judge: report it once
                    rows.append(base | row)
    columns = [*keys, *RESULT_COLUMNS]
    return pd.DataFrame(rows, columns=columns)


def _keys(ratings: pd.DataFrame, by: Sequence[str]) -> list[str]:
    keys = check_grouping(ratings, by)
    return keys if "metric" in keys else [*keys, "metric"]


def _levels_text(shares: np.ndarray, levels: Sequence[float]) -> str:
    if not np.isfinite(shares).all():
        return ""
    return " ".join(f"{lv:g}:{100 * s:.0f}%" for lv, s in zip(levels, shares, strict=True))


def _group_agreement(
    frame: pd.DataFrame,
    scale: MetricScale,
    judge_id: str | None,
    confidence: float,
    n_resamples: int,
    seed: tuple[int, int],
) -> list[dict]:
    levels = np.asarray(scale.levels, dtype=float)
    v = len(levels)
    counts = level_counts(frame, v)
    j_idx = np.searchsorted(levels, frame["judge_level"].to_numpy(float))
    h_idx = np.searchsorted(levels, frame["human_level"].to_numpy(float))
    has_judge = frame["judge_score"].notna().to_numpy() & (frame["n_humans"].to_numpy() > 0)
    j_idx = np.where(has_judge, j_idx, -1)
    h_idx = np.where(frame["n_humans"].to_numpy() > 0, h_idx, -1)
    data = np.column_stack([counts, j_idx, h_idx, frame["human_mean"].to_numpy(float), frame["judge_score"].to_numpy(float)])
    pat = compress(data)
    pc = pat.rows[:, :v]
    pj = pat.rows[:, v].astype(int)
    ph = pat.rows[:, v + 1].astype(int)
    pmean = pat.rows[:, v + 2]
    pscore = pat.rows[:, v + 3]
    pair = pj >= 0
    humans2 = pc.sum(axis=1) >= 2

    judge_onehot = np.zeros_like(pc)
    judge_onehot[np.flatnonzero(pair), pj[pair]] = 1.0
    both = np.zeros_like(pc)
    both[np.flatnonzero(pair), pj[pair]] += 1.0
    both[np.flatnonzero(pair), ph[pair]] += 1.0
    coinc_h = st.unit_coincidences(pc)
    coinc_jh = st.unit_coincidences(pc + judge_onehot)
    coinc_jc = st.unit_coincidences(both)
    level = scale.measurement
    weighting = None if level == "nominal" or scale.is_binary else "quadratic"

    def conf(w: np.ndarray) -> np.ndarray:
        return st.confusion_w(ph[pair], pj[pair], w[:, pair], v)

    stats: dict[tuple[str, str], tuple] = {
        ("human-human", "alpha"): (lambda w: st.alpha_w(coinc_h, w, levels, level), humans2),
    }
    if judge_id is not None:
        stats |= {
            ("judge+humans", "alpha"): (lambda w: st.alpha_w(coinc_jh, w, levels, level), pair),
            ("judge-consensus", "alpha"): (lambda w: st.alpha_w(coinc_jc, w, levels, level), pair),
            ("judge-consensus", "kappa"): (lambda w: st.cohen_kappa_w(conf(w), weighting), pair),
            ("judge-consensus", "spearman"): (lambda w: st.spearman_w(pscore[pair], pmean[pair], w[:, pair]), pair),
            ("judge-consensus", "kendall"): (lambda w: st.kendall_tau_b_w(pscore[pair], pmean[pair], w[:, pair]), pair),
            ("judge-consensus", "percent_agreement"): (lambda w: st.percent_agreement_w(conf(w)), pair),
            ("judge-consensus", "weighted_f1"): (lambda w: st.weighted_f1_w(conf(w)), pair),
        }
    observed = pat.counts.astype(float)[None, :]
    dists = bootstrap_many(
        {k: fn for k, (fn, _) in stats.items()}, pat.counts, n_resamples=n_resamples, random_state=np.random.default_rng(seed)
    )
    h_share = counts.sum(axis=0) / max(counts.sum(), 1)
    j_share = np.bincount(pj[pair], weights=pat.counts[pair], minlength=v) / max(pat.counts[pair].sum(), 1)
    rows = []
    for (comparison, name), (fn, mask) in stats.items():
        n = int(pat.counts[mask].sum())
        est = float(fn(observed)[0]) if n >= 2 else np.nan
        if name == "alpha" and n >= 2:
            est = _package_alpha(comparison, pc, judge_onehot, both, pat.counts, levels, level, est)
        low, high = percentile_interval(dists[(comparison, name)], confidence) if n >= 2 else (np.nan, np.nan)
        rows.append(
            {
                "judge": judge_id if comparison != "human-human" else "",
                "comparison": comparison,
                "statistic": name,
                "estimate": est,
                "ci_low": low,
                "ci_high": high,
                "n": n,
                "human_levels": _levels_text(h_share, scale.levels),
                "judge_levels": _levels_text(j_share, scale.levels) if judge_id is not None else "",
            }
        )
    return rows


def _package_alpha(comparison, pc, judge_onehot, both, counts, levels, level, fallback) -> float:
    """Alpha of the observed data from the ``krippendorff`` package (expanded to items)."""
    table = {"human-human": pc, "judge+humans": pc + judge_onehot, "judge-consensus": both}[comparison]
    value_counts = np.repeat(table, counts, axis=0)
    if (value_counts.sum(axis=1) >= 2).sum() == 0:
        return np.nan
    observed_levels = (value_counts.sum(axis=0) > 0).sum()
    if observed_levels < 2:
        return np.nan  # every rating is the same level: alpha is undefined (0/0)
    try:
        return float(krippendorff.alpha(value_counts=value_counts, value_domain=levels, level_of_measurement=level))
    except (ValueError, ZeroDivisionError):
        return fallback


def krippendorff_alpha(
    reliability_data: np.ndarray, *, levels: Sequence[float], level_of_measurement: str = "ordinal"
) -> float:
    """Krippendorff's alpha of a (raters, units) matrix with NaN for missing ratings.

    A thin, checked wrapper of ``krippendorff.alpha`` with the value domain fixed
    to the metric's declared levels (so a level nobody used still counts).

    Parameters
    ----------
    reliability_data : float array, shape (raters, units)
        NaN where a rater did not rate a unit.
    levels : sequence of float
        The metric's levels.
    level_of_measurement : {"nominal", "ordinal", "interval", "ratio"}

    Returns
    -------
    float

    Examples
    --------
    >>> data = np.array([[0, 1, 2, 2], [0, 1, 2, 1]], dtype=float)
    >>> round(krippendorff_alpha(data, levels=[0, 1, 2]), 2)
    0.79
    """
    return float(
        krippendorff.alpha(
            reliability_data=np.asarray(reliability_data, dtype=float),
            value_domain=np.asarray(levels, dtype=float),
            level_of_measurement=level_of_measurement,
        )
    )

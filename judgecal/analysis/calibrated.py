"""Before and after calibration, side by side.

"After" must not flatter the calibrator: every judge score is calibrated by a
calibrator fitted without that item (and without the other items of its
prompt), i.e. out of fold, through
:func:`judgecal.calibration.out_of_fold_predictions`. A table whose judge rows
already carry calibrated values (``score_calibrated``) can be passed directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from judgecal.analysis.resample import check_confidence
from judgecal.data.metrics import DEFAULT_REGISTRY, MetricRegistry
from judgecal.errors import ConfigError

CALIBRATED_COLUMN = "score_calibrated"
STAGES = ("raw", "calibrated")


def out_of_fold_table(
    ratings: pd.DataFrame,
    *,
    method: str = "auto",
    groups: str | None = None,
    n_splits: int = 5,
    random_state: int = 0,
    judge: str | None = None,
    registry: MetricRegistry | None = None,
    check_input: bool = True,
) -> pd.DataFrame:
    """The ratings table with out-of-fold calibrated judge scores in ``score_calibrated``.

    Each judge row is calibrated by a calibrator fitted without its fold, so
    "after calibration" tables are honest. Human rows are kept as they are
    (``score_calibrated`` NaN); judge rows are replaced by the calibration
    module's out-of-fold rows.

    Parameters
    ----------
    ratings : DataFrame
        Human and judge rows.
    method : str
        Calibrator family (see :class:`judgecal.calibration.GroupedCalibrator`).
    groups : str, optional
        Column folds are grouped by (default: ``prompt_id`` when present, else ``item_id``).
    n_splits : int
    random_state : int
    judge : str, optional
    registry : MetricRegistry, optional
        Declares metrics beyond the built-in ones.
    check_input : bool
        False when the table was checked and normalised already (judgecal's
        readers do it): skipping the second check saves a fifth of the time.

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> from judgecal.datasets.synthetic import make_judge_ratings
    >>> ratings = make_judge_ratings(n_items=200, languages=("hi", "ta"), metrics=("tq",))
    >>> calibrated = out_of_fold_table(ratings)
    >>> judged = calibrated.query("rater_kind == 'judge'")
    >>> judged[["score", "score_calibrated"]].head(3).round(2)
         score  score_calibrated
    600    2.0              1.67
    601    2.0              1.47
    602    0.0              0.20
    """
    from judgecal.calibration import out_of_fold_predictions

    params = {"judge": judge} if judge is not None else {}
    if registry is not None:
        params["metrics"] = registry
    judged = out_of_fold_predictions(ratings, method=method, groups=groups, n_splits=n_splits,
                                     random_state=random_state, check_input=check_input, **params)
    if CALIBRATED_COLUMN not in judged.columns:
        raise ConfigError(f"out_of_fold_predictions returned no {CALIBRATED_COLUMN!r} column")
    humans = ratings[ratings["rater_kind"] == "human"]
    return pd.concat([humans, judged[judged["rater_kind"] == "judge"]], ignore_index=True)


def before_after(
    table_fn: Callable[..., pd.DataFrame],
    ratings: pd.DataFrame,
    calibrated: pd.DataFrame | None,
    *,
    calibrated_column: str = CALIBRATED_COLUMN,
    **kwargs,
) -> pd.DataFrame:
    """Run an analysis on raw and calibrated judge scores and stack the results.

    Parameters
    ----------
    table_fn : callable
        ``agreement_table``, ``bias_table`` or ``level_distribution``.
    ratings : DataFrame
    calibrated : DataFrame or None
        A ratings table whose judge rows hold calibrated values in
        ``calibrated_column`` (e.g. from :func:`out_of_fold_table`); None gives the
        raw stage only.
    calibrated_column : str
    **kwargs
        Passed to ``table_fn``.

    Returns
    -------
    DataFrame
        ``table_fn``'s table for each stage, with a ``stage`` column (``raw``,
        ``calibrated``).

    Examples
    --------
    >>> from judgecal.datasets.synthetic import make_judge_ratings
    >>> ratings = make_judge_ratings(n_items=200, languages=("hi", "ta"), metrics=("tq",))
    >>> calibrated = out_of_fold_table(ratings)
    >>> from judgecal.analysis import bias_table
    >>> both = before_after(bias_table, ratings, calibrated, n_resamples=200)
    >>> wide = stage_pivot(both.query("subset == 'all'"), ["language"])
    >>> wide["raw"].round(2).tolist(), bool((wide["calibrated"].abs() < 0.01).all())
    ([0.21, 0.49], True)
    """
    raw = table_fn(ratings, judge_column="score", **kwargs)
    raw.insert(0, "stage", "raw")
    if calibrated is None:
        return raw
    if calibrated_column not in calibrated.columns:
        raise ConfigError(f"the calibrated table has no {calibrated_column!r} column")
    after = table_fn(calibrated, judge_column=calibrated_column, **kwargs)
    after.insert(0, "stage", "calibrated")
    return pd.concat([raw, after], ignore_index=True)


def stage_pivot(frame: pd.DataFrame, keys: Sequence[str], value: str = "estimate") -> pd.DataFrame:
    """Raw and calibrated values of a before/after table as two columns, one row per key.

    Parameters
    ----------
    frame : DataFrame
        Output of :func:`before_after`.
    keys : sequence of str
        Columns identifying a row.
    value : str
        Column to spread over the stages.

    Returns
    -------
    DataFrame
        ``keys`` plus one column per stage.
    """
    wide = frame.pivot_table(index=list(keys), columns="stage", values=value, aggfunc="first")
    return wide.reindex(columns=[s for s in STAGES if s in wide.columns]).reset_index()


def reliability_table(
    calibrated: pd.DataFrame,
    *,
    by: Sequence[str] = ("language", "metric"),
    calibrated_column: str = CALIBRATED_COLUMN,
    n_bins: int = 5,
    confidence: float = 0.95,
    judge: str | None = None,
    registry: MetricRegistry = DEFAULT_REGISTRY,
) -> pd.DataFrame:
    """Points of a reliability diagram: mean human score per bin of judge scores, raw and calibrated.

    Raw scores are binned by their distinct values when there are at most
    ``n_bins`` of them (judge levels), else by quantiles; calibrated scores the
    same way. Each point has the bin's mean judge score (``predicted``), the
    humans' mean on those items (``observed``) with a t interval over items,
    and ``n``. A calibrated judge's points sit on the diagonal.

    Returns a tidy DataFrame: the ``by`` columns, ``judge``, ``stage`` (raw,
    calibrated), ``bin``, ``predicted``, ``observed``, ``ci_low``, ``ci_high``, ``n``.
    """
    from judgecal.analysis.estimates import t_interval
    from judgecal.analysis.items import check_grouping, item_table, judges_in, scales_for

    check_confidence(confidence)
    if calibrated_column not in calibrated.columns:
        raise ConfigError(f"the table has no {calibrated_column!r} column: calibrate it first (out_of_fold_table)")
    keys = check_grouping(calibrated, by)
    keys = keys if "metric" in keys else [*keys, "metric"]
    group_keys = [k for k in keys if k != "metric"]
    rows = []
    for metric, scale in scales_for(calibrated, registry).items():
        for judge_id in judges_in(calibrated, judge, metric=metric):
            raw = item_table(calibrated, scale, judge=judge_id, judge_column="score")
            cal = item_table(calibrated, scale, judge=judge_id, judge_column=calibrated_column)
            raw["cal_score"] = cal.set_index("item_id")["judge_score"].reindex(raw["item_id"]).to_numpy()
            raw = raw[raw["judge_score"].notna() & (raw["n_humans"] > 0)]
            grouped = raw.groupby(group_keys, dropna=False, sort=True) if group_keys else [((), raw)]
            for values, frame in grouped:
                values = values if isinstance(values, tuple) else (values,)
                base = dict(zip(group_keys, values, strict=True)) | {"metric": metric, "judge": judge_id}
                for stage, column in (("raw", "judge_score"), ("calibrated", "cal_score")):
                    x = frame[column].to_numpy(float)
                    y = frame["human_mean"].to_numpy(float)
                    ok = np.isfinite(x)
                    for b, (label, mask) in enumerate(_bins(x[ok], n_bins)):
                        xb, yb = x[ok][mask], y[ok][mask]
                        mean, low, high, _se = t_interval(yb, confidence)
                        rows.append(base | {"stage": stage, "bin": b, "bin_label": label, "predicted": float(xb.mean()),
                                            "observed": mean, "ci_low": low, "ci_high": high, "n": len(yb)})
    return pd.DataFrame(rows, columns=[*keys, "judge", "stage", "bin", "bin_label", "predicted", "observed",
                                       "ci_low", "ci_high", "n"])


def _bins(x: np.ndarray, n_bins: int) -> list[tuple[str, np.ndarray]]:
    """(label, mask) per bin: distinct values when few, else quantile bins (empty bins dropped)."""
    uniq = np.unique(x)
    if len(uniq) <= n_bins:
        return [(f"{u + 0.0:g}", x == u) for u in uniq]  # + 0.0 turns -0 into 0
    edges = np.unique(np.quantile(x, np.linspace(0, 1, n_bins + 1)))
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    return [(f"{edges[i]:.2f}-{edges[i + 1]:.2f}", idx == i) for i in range(len(edges) - 1) if (idx == i).any()]

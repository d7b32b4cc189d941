"""Cross-validation of calibrators on a ratings table, all variants on the same folds.

Folds keep groups together (by default every item of a prompt), so no prompt is
seen in training and evaluation at once. In every fold each variant is fitted on
the other folds (with its own inner cross-validation for shrinkage, method
choice and conformal scores) and applied to the held-out judge rows: the numbers
are honest held-out numbers, not refits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from judgecal.calibration._fit.evaluation import metric_loss, one_hot, row_quality, summarize
from judgecal.calibration._fit.examples import build_examples, pick_judge
from judgecal.calibration._fit.folds import assign_folds
from judgecal.calibration.grouped import GroupedCalibrator
from judgecal.data.metrics import DEFAULT_REGISTRY
from judgecal.data.schema import normalize_ratings
from judgecal.errors import ConfigError

# name -> GroupedCalibrator parameters ("raw" is the judge's own score).
VARIANTS: dict[str, dict | None] = {
    "raw": None,
    "isotonic_per_language": {"method": "isotonic", "pooling": "none"},
    "isotonic_pooled": {"method": "isotonic", "pooling": "complete"},
    "isotonic": {"method": "isotonic", "pooling": "partial"},
    "ordinal_per_language": {"method": "ordinal", "pooling": "none"},
    "ordinal": {"method": "ordinal", "pooling": "partial"},
    "auto": {"method": "auto", "pooling": "partial"},
}


@dataclass
class CVResult:
    """table: one row per (variant, language, script, metric) with n_items, loss (the
    name of the loss the metric is judged by: mae, brier for two-level metrics,
    log_loss for other nominal ones), bias, mae and where they apply brier,
    log_loss, ece, coverage, set_size.
    predictions: one row per (variant, held-out judge row) with the calibrated output.
    """

    table: pd.DataFrame
    predictions: pd.DataFrame
    by_metric: pd.DataFrame


def outer_folds(ratings: pd.DataFrame, groups: str, n_splits: int, random_state) -> np.ndarray:
    """Fold of every row of ``ratings`` (shape (n,)), grouped by ``groups``, spread per language."""
    if groups not in ratings.columns:
        raise ConfigError(f"cannot group folds by {groups!r}: no such column")
    if ratings[groups].isna().any():
        raise ConfigError(f"{int(ratings[groups].isna().sum())} row(s) have no {groups}; folds are grouped by it")
    return assign_folds(ratings[groups], n_splits, random_state, strata=ratings["language"])


def out_of_fold_predictions(
    ratings: pd.DataFrame,
    *,
    method: str = "auto",
    groups: str | None = None,
    n_splits: int = 5,
    random_state: int | None = 0,
    check_input: bool = True,
    **params,
) -> pd.DataFrame:
    """Out-of-fold calibrated scores for the judge rows of a ratings table.

    Every judge row is calibrated by a GroupedCalibrator fitted on the other
    folds only (folds grouped by ``groups``: prompt_id when present, else item_id).

    Returns the judge rows (all columns kept) plus ``fold``, ``score_calibrated``,
    ``calibration_level``, ``calibration_group``, ``calibration_weight``,
    ``score_set``, ``score_set_low``, ``score_set_high`` and, for ordinal
    metrics, ``prob_<level>``. ``params`` go to GroupedCalibrator (pooling,
    features, target, judge, coverage, ...).

    Parameters
    ----------
    ratings : DataFrame
        Ratings table with human and judge rows.
    method : {'auto', 'isotonic', 'ordinal'}, default 'auto'
    groups : str, optional
        Column keeping items together across folds (default prompt_id, else item_id).
    n_splits : int, default 5
    random_state : int or None, default 0
    check_input : bool, default True
        Normalise and check the table first (False: it was checked already).

    Returns
    -------
    DataFrame
        The judge rows with their out-of-fold calibrated columns.

    Examples
    --------
    >>> from judgecal.calibration import out_of_fold_predictions
    >>> from judgecal.datasets import make_judge_ratings
    >>> ratings = make_judge_ratings(300, languages=("hi", "ta"), metrics=("la",), random_state=0)
    >>> oof = out_of_fold_predictions(ratings, method="isotonic")
    >>> bool(len(oof) == (ratings["rater_kind"] == "judge").sum()), sorted(oof["fold"].unique().tolist())
    (True, [0, 1, 2, 3, 4])
    """
    ratings = _prepared(ratings, params.get("metrics"), check_input)
    groups = groups or ("prompt_id" if "prompt_id" in ratings.columns else "item_id")
    fold = outer_folds(ratings, groups, n_splits, random_state)
    judge, _ = pick_judge(ratings, params.pop("judge", None))
    is_judge = ((ratings["rater_kind"] == "judge") & (ratings["rater"] == judge)).to_numpy()
    fit_table = ratings[fit_columns(ratings.columns, params.get("features", ("score",)))]
    parts = []
    for f in range(n_splits):
        train = fit_table[fold != f]
        test = ratings[(fold == f) & is_judge]
        if test.empty:
            continue
        cal = GroupedCalibrator(method=method, groups=groups, n_splits=n_splits, random_state=random_state,
                                judge=judge, **params).fit(train, check_input=False)
        parts.append(cal.apply(test, check_drift=False).assign(fold=f))  # a held-out fold, not a new judge
    return pd.concat(parts).sort_index()


def cross_validate(
    ratings: pd.DataFrame,
    *,
    variants: list[str] | dict[str, dict | None] | None = None,
    groups: str | None = None,
    n_splits: int = 5,
    random_state: int | None = 0,
    check_input: bool = True,
    **params,
) -> CVResult:
    """Compare calibrators on the same grouped folds.

    variants : names from VARIANTS, or {name: GroupedCalibrator params or None for raw}.
    Quality is measured against the held-out items' human consensus (mean,
    majority for nominal metrics); log-loss and ECE against the raters' levels
    (or the majority level for nominal metrics); coverage against the consensus level.

    Parameters
    ----------
    ratings : DataFrame
        Ratings table with human and judge rows.
    variants : list of str or dict, optional
        Names from ``VARIANTS`` or {name: GroupedCalibrator params, None for the raw judge};
        default every variant but 'auto' and 'ordinal_per_language'.
    groups, n_splits, random_state, check_input : as :func:`out_of_fold_predictions`.

    Returns
    -------
    CVResult
        ``table`` (quality per variant, language, script and metric) and ``predictions``.

    Examples
    --------
    >>> from judgecal.calibration import cross_validate
    >>> from judgecal.datasets import make_judge_ratings
    >>> ratings = make_judge_ratings(300, languages=("hi", "ta"), metrics=("la",), random_state=0)
    >>> cv = cross_validate(ratings, variants=["raw", "isotonic"])
    >>> sorted(cv.table["variant"].unique())
    ['isotonic', 'raw']
    >>> mae = cv.table.groupby("variant")["mae"].mean()
    >>> bool(mae["isotonic"] < mae["raw"])
    True
    """
    registry = params.get("metrics") or DEFAULT_REGISTRY
    ratings = _prepared(ratings, params.get("metrics"), check_input)
    if variants is None:
        variants = {k: v for k, v in VARIANTS.items() if k not in ("auto", "ordinal_per_language")}
    elif not isinstance(variants, dict):
        unknown = [v for v in variants if v not in VARIANTS]
        if unknown:
            raise ConfigError(f"unknown variant(s) {unknown}; known: {list(VARIANTS)}")
        variants = {v: VARIANTS[v] for v in variants}
    groups = groups or ("prompt_id" if "prompt_id" in ratings.columns else "item_id")
    ex = build_examples(ratings, judge=params.get("judge"), groups=groups, metrics=registry)
    truth = _truth(ex, registry, params.get("target", "consensus"))
    preds = []
    for name, conf in variants.items():
        if conf is None:
            judge, rows = pick_judge(ratings, params.get("judge"))
            raw = rows.assign(score_calibrated=rows["score"].astype(float), fold=-1)
            preds.append(raw.assign(variant=name))
            continue
        kw = {**params, **conf}
        oof = out_of_fold_predictions(ratings, groups=groups, n_splits=n_splits, random_state=random_state,
                                      check_input=False, **kw)
        preds.append(oof.assign(variant=name))
    pred = pd.concat(preds, ignore_index=True)
    merged = pred.merge(truth, on=["item_id", "metric"], how="inner", suffixes=("", "_t"))
    table = _score(merged, registry)
    by_metric = _score(merged, registry, by=["variant", "metric"])
    return CVResult(table=table, predictions=merged, by_metric=by_metric)


# Free text no calibrator reads. Copying it into every fold's training table took more
# time than the fits on 1M ratings (cProfile of bench/report_1m.py: pyarrow string takes).
TEXT_NOT_FITTED = ("prompt", "reference", "justification", "reasoning")


def fit_columns(columns, features) -> list[str]:
    """The columns of a ratings table a GroupedCalibrator's fit reads (every column but
    free text; the response only for the 'length' feature): fitting on them gives the
    same calibrator as fitting on the whole table."""
    dropped = set(TEXT_NOT_FITTED) | (set() if "length" in features else {"response"})
    return [c for c in columns if c not in dropped]


def _prepared(ratings, metrics, check_input):
    if not check_input:
        return ratings
    return normalize_ratings(ratings, metrics=metrics or DEFAULT_REGISTRY).table


def _truth(ex, registry, target: str) -> pd.DataFrame:
    """Per (item, metric): y, y_level and the target share per level (t0, t1, ...)."""
    items = ex.items
    kmax = max(len(registry.get(m).levels) for m in pd.unique(items["metric"]))
    dist = np.zeros((len(items), kmax))
    level_idx = np.zeros(len(ex.rater_item), dtype=np.int64)
    metric = items["metric"].to_numpy()
    for m in pd.unique(metric):
        scale = registry.get(m)
        levels = np.asarray(scale.levels)
        sel = metric[ex.rater_item] == m
        level_idx[sel] = np.searchsorted(levels, ex.rater_level[sel])
        if scale.measurement == "nominal" and target == "consensus":
            rows = np.flatnonzero(metric == m)
            dist[rows, np.searchsorted(levels, items["y_level"].to_numpy()[rows])] = 1.0
            continue
        np.add.at(dist, (ex.rater_item[sel], level_idx[sel]), ex.rater_weight[sel])
    out = items[["item_id", "metric", "y", "y_level", "n_raters"]].astype({"item_id": str, "metric": str})
    for j in range(kmax):
        out[f"t{j}"] = dist[:, j]
    return out


def _score(merged: pd.DataFrame, registry, by=None) -> pd.DataFrame:
    by = by or ["variant", "language", "script", "metric"]
    frames = []
    for (_variant, m), g in merged.groupby(["variant", "metric"], sort=False):
        levels = np.asarray(registry.get(m).levels)
        K = len(levels)
        prob_cols = [f"prob_{lv:g}" for lv in levels]
        has_p = all(c in g.columns for c in prob_cols) and g[prob_cols].notna().all(axis=None)
        proba = g[prob_cols].to_numpy(float) if has_p else None
        dist = g[[f"t{j}" for j in range(K)]].to_numpy(float)
        if proba is None and metric_loss(levels, registry.get(m).measurement) == "log_loss":
            proba = one_hot(g["score_calibrated"].to_numpy(float), levels)  # the raw judge's distribution
        q = pd.DataFrame(row_quality(g["y"].to_numpy(float), g["score_calibrated"].to_numpy(float), proba, dist,
                                     levels), index=g.index)
        if "score_set" in g.columns and g["score_set"].notna().all():
            sets = g["score_set"].astype(str).str.split(",")
            lv = g["y_level"].map(lambda v: f"{v:g}")
            q["covered"] = [a in s for a, s in zip(lv, sets, strict=True)]
            q["set_size"] = sets.map(len).to_numpy()
        frames.append(pd.concat([g[["variant", "language", "script", "metric"]], q], axis=1))
    table = summarize(pd.concat(frames), by)
    scales = {m: registry.get(m) for m in table["metric"].unique()}
    loss = table["metric"].map({m: metric_loss(sc.levels, sc.measurement) for m, sc in scales.items()})
    table.insert(table.columns.get_loc("n_items") + 1, "loss", loss)
    return table

"""The dashboard's numbers: thin calls into judgecal's analysis and calibration functions.

The app computes no statistics. Every figure a page shows comes from one of
the functions below, each a direct call of a judgecal function named in its
docstring. A function the installed judgecal does not provide raises
:class:`NotAvailable`, which the page shows as "not available: <what>".

Every function takes the (filtered) ratings table first and returns a
DataFrame (or a dict of them), so results can be cached by the app.
"""

from __future__ import annotations

import importlib

import pandas as pd

from judgecal.errors import JudgecalError


class NotAvailable(JudgecalError):
    """This judgecal build has no function for what the page wants to show."""

    def __init__(self, what: str, where: str):
        self.what = what
        self.where = where
        super().__init__(f"not available: {what} ({where} is not in this judgecal build)")


def require(module: str, name: str, what: str):
    """``module.name`` or :class:`NotAvailable` naming ``what`` the page wanted."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            raise NotAvailable(what, f"{module}.{name}") from exc
        raise
    fn = getattr(mod, name, None)
    if fn is None:
        raise NotAvailable(what, f"{module}.{name}")
    return fn


def has_judge(ratings: pd.DataFrame) -> bool:
    return bool((ratings["rater_kind"] == "judge").any())


def has_humans(ratings: pd.DataFrame) -> bool:
    return bool((ratings["rater_kind"] == "human").any())


# --- agreement and bias (judgecal.analysis) -------------------------------------

def agreement(ratings: pd.DataFrame, *, by=("language", "script", "metric"), confidence: float = 0.95,
              n_resamples: int = 1000, judge_column: str = "score") -> pd.DataFrame:
    """:func:`judgecal.analysis.agreement.agreement_table` (tidy; one row per group, comparison, statistic)."""
    fn = require("judgecal.analysis.agreement", "agreement_table", "agreement statistics")
    return fn(ratings, by=tuple(by), confidence=confidence, n_resamples=n_resamples, judge_column=judge_column)


def bias(ratings: pd.DataFrame, *, by=("language", "script", "metric"), confidence: float = 0.95,
         n_resamples: int = 1000, judge_column: str = "score") -> pd.DataFrame:
    """:func:`judgecal.analysis.bias.bias_table` (judge - humans' mean, with CIs, per subset)."""
    fn = require("judgecal.analysis.bias", "bias_table", "judge bias")
    return fn(ratings, by=tuple(by), confidence=confidence, n_resamples=n_resamples, judge_column=judge_column)


def level_distribution(ratings: pd.DataFrame, *, by=("language", "script", "metric"),
                       judge_column: str = "score") -> pd.DataFrame:
    """:func:`judgecal.analysis.bias.level_distribution` (share of each level, judge vs humans)."""
    fn = require("judgecal.analysis.bias", "level_distribution", "level distributions")
    return fn(ratings, by=tuple(by), judge_column=judge_column)


# --- system estimates (judgecal.analysis.estimates) ------------------------------

def system_estimates(ratings: pd.DataFrame, *, by=("language", "metric"), confidence: float = 0.9) -> pd.DataFrame:
    """:func:`judgecal.analysis.estimates.system_estimates` (PPI++, human-only and raw judge per system)."""
    fn = require("judgecal.analysis.estimates", "system_estimates", "system estimates (PPI++)")
    return fn(ratings, by=tuple(by), confidence=confidence)


def system_rankings(estimates: pd.DataFrame, *, estimator: str = "ppi", confidence: float = 0.9) -> pd.DataFrame:
    """:func:`judgecal.analysis.estimates.rank_systems` on :func:`system_estimates` output."""
    fn = require("judgecal.analysis.estimates", "rank_systems", "system rankings")
    return fn(estimates, estimator=estimator, confidence=confidence)


# --- the loaded data (judgecal.data.validate) -------------------------------------

def validation(ratings: pd.DataFrame) -> dict[str, object]:
    """:func:`judgecal.data.validate.validate_ratings`: per-language summary, script mismatches, findings."""
    from judgecal.data.validate import validate_ratings

    report = validate_ratings(ratings)
    return {"summary": report.summary, "script_mismatches": report.script_mismatches,
            "findings": list(report.findings)}


# --- calibration (judgecal.calibration, judgecal.analysis.calibrated) -----------------

def out_of_fold(ratings: pd.DataFrame, *, method: str = "auto", n_splits: int = 5) -> pd.DataFrame:
    """:func:`judgecal.analysis.calibrated.out_of_fold_table`: judge scores calibrated out of fold."""
    fn = require("judgecal.analysis.calibrated", "out_of_fold_table", "out-of-fold calibrated scores")
    return fn(ratings, method=method, n_splits=n_splits)


def before_after(ratings: pd.DataFrame, *, calibrated: pd.DataFrame, table: str, **kwargs) -> pd.DataFrame:
    """:func:`judgecal.analysis.calibrated.before_after` of ``table`` (agreement, bias or levels)."""
    fn = require("judgecal.analysis.calibrated", "before_after", "before/after calibration tables")
    table_fn = {"agreement": agreement_fn, "bias": bias_fn, "levels": levels_fn}[table]()
    return fn(table_fn, ratings, calibrated, **kwargs)


def agreement_fn():
    return require("judgecal.analysis.agreement", "agreement_table", "agreement statistics")


def bias_fn():
    return require("judgecal.analysis.bias", "bias_table", "judge bias")


def levels_fn():
    return require("judgecal.analysis.bias", "level_distribution", "level distributions")


def reliability(calibrated: pd.DataFrame, *, by=("language", "metric"), confidence: float = 0.95) -> pd.DataFrame:
    """:func:`judgecal.analysis.calibrated.reliability_table`: mean human score per bin of
    raw and calibrated judge scores (the points of a reliability diagram)."""
    fn = require("judgecal.analysis.calibrated", "reliability_table", "reliability diagrams")
    return fn(calibrated, by=tuple(by), confidence=confidence)


def fitted_curves(grid: pd.DataFrame, *, calibrator) -> pd.DataFrame:
    """The calibrator's output on a grid of judge scores per group: ``calibrator.apply(grid)``.

    ``grid`` holds judge rows (item_id, language, script, metric, rater,
    rater_kind, score); the result adds score_calibrated and the back-off level
    (``calibration_level``: language, script or metric) serving each group.
    """
    return calibrator.apply(grid, randomize=False)


def learning_curves(ratings: pd.DataFrame, *, confidence: float = 0.9) -> pd.DataFrame:
    """:func:`judgecal.analysis.budget.learning_curves`: calibration error and interval width vs labels."""
    fn = require("judgecal.analysis.budget", "learning_curves", "learning curves")
    return fn(ratings, confidence=confidence)


# --- annotation planning (judgecal.analysis.budget) --------------------------------

def labels_needed(ratings: pd.DataFrame, *, target_width: float = 0.2, confidence: float = 0.9) -> pd.DataFrame:
    """:func:`judgecal.analysis.budget.labels_needed`: labels per language for a target interval width."""
    fn = require("judgecal.analysis.budget", "labels_needed", "the annotation budget planner")
    return fn(ratings, target_width=target_width, confidence=confidence)


def next_batch(ratings: pd.DataFrame, *, size: int = 100, metric: str | None = None) -> pd.DataFrame:
    """:func:`judgecal.analysis.budget.next_batch`: the next items to send to native speakers."""
    fn = require("judgecal.analysis.budget", "next_batch", "choosing the next annotation batch")
    return fn(ratings, size, metric=metric)


def batch_export(batch: pd.DataFrame, ratings: pd.DataFrame, *, blind: bool = True) -> bytes:
    """:func:`judgecal.analysis.budget.export_batch`: the batch as an annotation-kit sheet
    (CSV bytes), or with ``blind`` a ZIP of the sheet and its key.

    ``ratings`` must hold the texts (prompt, response). Blinded sheets carry
    random opaque item ids; ``judgecal.analysis.annotation_kit.read_annotation_sheet``
    maps them back through the key.
    """
    fn = require("judgecal.analysis.budget", "export_batch", "exporting a batch with the annotation kit")
    return fn(batch, ratings, blind=blind)


# --- disagreements (judgecal.analysis.items) ---------------------------------------

def disagreements(ratings: pd.DataFrame, *, metric: str, judge: str | None = None) -> pd.DataFrame:
    """Items of ``metric`` with the judge's score and the humans' ratings, largest disagreement first.

    The per-item numbers are :func:`judgecal.analysis.items.item_table`'s
    (judge_score, human_mean, human_level, humans_agree, h0..hK); ``gap`` is
    judge_score - human_mean of the same row, used to order the items.
    """
    fn = require("judgecal.analysis.items", "item_table", "per-item judge and human scores")
    scales = require("judgecal.analysis.items", "scales_for", "metric scales")(ratings)
    if metric not in scales:
        raise NotAvailable(f"metric {metric!r} in this selection", "the filtered ratings")
    items = fn(ratings, scales[metric], judge=judge)
    items = items[items["judge_score"].notna() & (items["n_humans"] > 0)].copy()
    items["gap"] = items["judge_score"] - items["human_mean"]
    order = items["gap"].abs().sort_values(ascending=False, kind="stable").index
    return items.loc[order].reset_index(drop=True)


def metric_levels(metric: str) -> tuple[float, ...]:
    """The declared levels of ``metric`` (judgecal's metric registry)."""
    from judgecal.data.metrics import DEFAULT_REGISTRY

    return tuple(DEFAULT_REGISTRY.get(metric).levels)

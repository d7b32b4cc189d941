"""The dashboard's numbers: thin calls into judgecal's analysis and calibration functions.

The app computes no statistics. Every figure a page shows comes from one of
the functions below, each a direct call of the judgecal function named in its
docstring. Pages hand these functions themselves to
:func:`judgecal.dashboard.session.compute`, which caches their results.

Every function takes the (filtered) ratings table first and returns a
DataFrame (or a dict of them), so results can be cached by the app.
"""

from __future__ import annotations

import warnings

import pandas as pd

from judgecal.analysis.agreement import agreement_table
from judgecal.analysis.bias import bias_table
from judgecal.analysis.bias import level_distribution as level_distribution_table
from judgecal.analysis.budget import export_batch
from judgecal.analysis.budget import labels_needed as labels_needed_table
from judgecal.analysis.budget import learning_curves as learning_curves_table
from judgecal.analysis.budget import next_batch as next_batch_table
from judgecal.analysis.calibrated import before_after, out_of_fold_table, reliability_table
from judgecal.analysis.estimates import rank_systems
from judgecal.analysis.estimates import system_estimates as system_estimates_table
from judgecal.analysis.items import item_table, scales_for
from judgecal.calibration.drift import JudgeDriftWarning
from judgecal.data.metrics import DEFAULT_REGISTRY
from judgecal.data.validate import validate_ratings
from judgecal.errors import JudgecalError


class NotAvailable(JudgecalError):
    """What the page wants to show does not exist for this selection (e.g. a metric it lacks)."""

    def __init__(self, what: str, where: str):
        self.what = what
        self.where = where
        super().__init__(f"not available: {what} ({where})")


def has_judge(ratings: pd.DataFrame) -> bool:
    return bool((ratings["rater_kind"] == "judge").any())


def has_humans(ratings: pd.DataFrame) -> bool:
    return bool((ratings["rater_kind"] == "human").any())


# --- agreement and bias (judgecal.analysis) -------------------------------------

def agreement(ratings: pd.DataFrame, *, by=("language", "script", "metric"), confidence: float = 0.95,
              n_resamples: int = 1000, judge_column: str = "score") -> pd.DataFrame:
    """:func:`judgecal.analysis.agreement.agreement_table` (tidy; one row per group, comparison, statistic)."""
    return agreement_table(ratings, by=tuple(by), confidence=confidence, n_resamples=n_resamples,
                           judge_column=judge_column)


def bias(ratings: pd.DataFrame, *, by=("language", "script", "metric"), confidence: float = 0.95,
         n_resamples: int = 1000, judge_column: str = "score") -> pd.DataFrame:
    """:func:`judgecal.analysis.bias.bias_table` (judge - humans' mean, with CIs, per subset)."""
    return bias_table(ratings, by=tuple(by), confidence=confidence, n_resamples=n_resamples, judge_column=judge_column)


def level_distribution(ratings: pd.DataFrame, *, by=("language", "script", "metric"),
                       judge_column: str = "score") -> pd.DataFrame:
    """:func:`judgecal.analysis.bias.level_distribution` (share of each level, judge vs humans)."""
    return level_distribution_table(ratings, by=tuple(by), judge_column=judge_column)


# --- system estimates (judgecal.analysis.estimates) ------------------------------

def system_estimates(ratings: pd.DataFrame, *, by=("language", "metric"), confidence: float = 0.9) -> pd.DataFrame:
    """:func:`judgecal.analysis.estimates.system_estimates` (PPI++, human-only and raw judge per system)."""
    return system_estimates_table(ratings, by=tuple(by), confidence=confidence)


def system_rankings(estimates: pd.DataFrame, *, estimator: str = "ppi", confidence: float = 0.9) -> pd.DataFrame:
    """:func:`judgecal.analysis.estimates.rank_systems` on :func:`system_estimates` output."""
    return rank_systems(estimates, estimator=estimator, confidence=confidence)


# --- the loaded data (judgecal.data.validate) -------------------------------------

def validation(ratings: pd.DataFrame) -> dict[str, object]:
    """:func:`judgecal.data.validate.validate_ratings`: per-language summary, script mismatches, findings."""
    report = validate_ratings(ratings)
    return {"summary": report.summary, "script_mismatches": report.script_mismatches,
            "findings": list(report.findings)}


# --- calibration (judgecal.calibration, judgecal.analysis.calibrated) -----------------

def out_of_fold(ratings: pd.DataFrame, *, method: str = "auto", n_splits: int = 5) -> pd.DataFrame:
    """:func:`judgecal.analysis.calibrated.out_of_fold_table`: judge scores calibrated out of fold."""
    return out_of_fold_table(ratings, method=method, n_splits=n_splits)


def bias_before_after(ratings: pd.DataFrame, *, calibrated: pd.DataFrame, **kwargs) -> pd.DataFrame:
    """:func:`judgecal.analysis.calibrated.before_after` of the bias table (raw and calibrated stages)."""
    return before_after(bias_table, ratings, calibrated, **kwargs)


def agreement_before_after(ratings: pd.DataFrame, *, calibrated: pd.DataFrame, **kwargs) -> pd.DataFrame:
    """:func:`judgecal.analysis.calibrated.before_after` of the agreement table (raw and calibrated stages)."""
    return before_after(agreement_table, ratings, calibrated, **kwargs)


def reliability(calibrated: pd.DataFrame, *, by=("language", "metric"), confidence: float = 0.95) -> pd.DataFrame:
    """:func:`judgecal.analysis.calibrated.reliability_table`: mean human score per bin of
    raw and calibrated judge scores (the points of a reliability diagram)."""
    return reliability_table(calibrated, by=tuple(by), confidence=confidence)


def fitted_curves(grid: pd.DataFrame, *, calibrator) -> pd.DataFrame:
    """The calibrator's output on a grid of judge scores per group: ``calibrator.apply(grid)``.

    ``grid`` holds judge rows (item_id, language, script, metric, rater,
    rater_kind, score); the result adds score_calibrated and the back-off level
    (``calibration_level``: language, script or metric) serving each group.
    """
    # The grid holds every level of every group, not judge scores: no drift to warn about.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JudgeDriftWarning)
        return calibrator.apply(grid, randomize=False)


def learning_curves(ratings: pd.DataFrame, *, confidence: float = 0.9) -> pd.DataFrame:
    """:func:`judgecal.analysis.budget.learning_curves`: calibration error and interval width vs labels."""
    return learning_curves_table(ratings, confidence=confidence)


# --- annotation planning (judgecal.analysis.budget) --------------------------------

def labels_needed(ratings: pd.DataFrame, *, target_width: float = 0.2, confidence: float = 0.9) -> pd.DataFrame:
    """:func:`judgecal.analysis.budget.labels_needed`: labels per language for a target interval width."""
    return labels_needed_table(ratings, target_width=target_width, confidence=confidence)


def next_batch(ratings: pd.DataFrame, *, size: int = 100, metric: str | None = None) -> pd.DataFrame:
    """:func:`judgecal.analysis.budget.next_batch`: the next items to send to native speakers."""
    return next_batch_table(ratings, size, metric=metric)


def batch_export(batch: pd.DataFrame, ratings: pd.DataFrame, *, blind: bool = True) -> bytes:
    """:func:`judgecal.analysis.budget.export_batch`: the batch as an annotation-kit sheet
    (CSV bytes), or with ``blind`` a ZIP of the sheet and its key.

    ``ratings`` must hold the texts (prompt, response). Blinded sheets carry
    random opaque item ids; ``judgecal.analysis.annotation_kit.read_annotation_sheet``
    maps them back through the key.
    """
    return export_batch(batch, ratings, blind=blind)


# --- disagreements (judgecal.analysis.items) ---------------------------------------

def disagreements(ratings: pd.DataFrame, *, metric: str, judge: str | None = None) -> pd.DataFrame:
    """Items of ``metric`` with the judge's score and the humans' ratings, largest disagreement first.

    The per-item numbers are :func:`judgecal.analysis.items.item_table`'s
    (judge_score, human_mean, human_level, humans_agree, h0..hK); ``gap`` is
    judge_score - human_mean of the same row, used to order the items.
    """
    scales = scales_for(ratings)
    if metric not in scales:
        raise NotAvailable(f"metric {metric!r} in this selection", "the filtered ratings")
    items = item_table(ratings, scales[metric], judge=judge)
    items = items[items["judge_score"].notna() & (items["n_humans"] > 0)].copy()
    items["gap"] = items["judge_score"] - items["human_mean"]
    order = items["gap"].abs().sort_values(ascending=False, kind="stable").index
    return items.loc[order].reset_index(drop=True)


def metric_levels(metric: str) -> tuple[float, ...]:
    """The declared levels of ``metric`` (judgecal's metric registry)."""
    return tuple(DEFAULT_REGISTRY.get(metric).levels)

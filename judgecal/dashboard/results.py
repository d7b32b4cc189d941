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

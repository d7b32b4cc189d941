"""The Battles page's numbers and tables: thin calls into judgecal's pairwise report.

Every figure comes from :func:`judgecal.pairwise.overview.build_battles_report`
(the same numbers as ``judgecal report-battles``); the functions below only read
the sources with page-fit errors and reshape the report's tables for display.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from judgecal.dashboard.sources import SourceError
from judgecal.errors import JudgecalError
from judgecal.pairwise.overview import SOURCE_NAMES, BattlesReport, build_battles_report

# Columns of the per-language table, in order, with the names shown on the page.
SUMMARY_COLUMNS = {
    "language": "language", "script": "script", "pairs": "pairs",
    "agree_3way": "agreement 3-way, raw", "agree_3way_cal": "agreement 3-way, calibrated",
    "agree_decisive": "agreement decisive, raw", "agree_decisive_cal": "agreement decisive, calibrated",
    "tie_native": "ties, natives", "tie_judge": "ties, raw judge", "tie_cal": "ties, calibrated",
    "first_native": "first preferred, natives", "first_judge": "first preferred, raw judge",
    "first_cal": "first preferred, calibrated",
    "family_pairs": "pairs with one own-family system", "self_preference": "self-preference, raw",
    "self_preference_cal": "self-preference, calibrated",
    "log_loss_fixed": "log-loss 80/10/10", "log_loss_table": "log-loss verdict x vote table",
    "log_loss_cal": "log-loss calibrated",
    "tau_judge": "tau natives vs raw judge", "tau_calibrated": "tau natives vs calibrated",
    "tau_anchored": "tau natives vs anchored",
}
# One colour per leaderboard, in the order natives, raw judge, calibrated judge, anchored: the first four of
# the report's palette (judgecal.report.svg.PALETTE; the dashboard does not import the report layer).
LEADERBOARD_COLORS = ["#1f6fb4", "#e07b00", "#2a9d4b", "#c23b3b"]


def read_battles_source(path: str | os.PathLike) -> pd.DataFrame:
    """A battles file (docs/pairwise.md) or a PARIKSHA folder's pairwise release, checked."""
    p = Path(path).expanduser()
    try:
        if p.is_dir():
            from judgecal.datasets import load_pariksha_battles

            return load_pariksha_battles(p)
        if not p.exists():
            raise SourceError(f"{p}: no such file or folder")
        from judgecal.pairwise.io import read_battles

        return read_battles(p)
    except SourceError:
        raise
    except (JudgecalError, OSError) as exc:
        raise SourceError(f"{p.name}: {exc}") from exc


def read_battle_calibrator(path: str | os.PathLike):
    """A pairwise calibrator file (JSON from PairwiseCalibrator.save)."""
    from judgecal.pairwise.calibration import PairwiseCalibrator

    p = Path(path).expanduser()
    try:
        return PairwiseCalibrator.load(p)
    except (JudgecalError, OSError) as exc:
        raise SourceError(f"{p.name}: {exc}") from exc


def judge_family_guess(battles: pd.DataFrame) -> str:
    """A default for the judge's family: ``gpt`` when the judge's id says GPT (PARIKSHA), else empty."""
    judges = battles.loc[battles["rater_kind"] == "judge", "rater"].astype(str).unique()
    return "gpt" if any(re.search("gpt", j, re.IGNORECASE) for j in judges) else ""


def battles_report(battles: pd.DataFrame, *, calibrator=None, judge_family: str | None = None,
                   confidence: float = 0.9, n_resamples: int = 200, alpha: float = 1.0) -> BattlesReport:
    """build_battles_report with every leaderboard source; an empty family means no self-preference."""
    return build_battles_report(battles, calibrator=calibrator, judge_family=judge_family or None,
                                confidence=confidence, n_resamples=n_resamples, alpha=alpha)


def summary_table(report: BattlesReport) -> pd.DataFrame:
    """The report's per-language summary with the page's column names (numbers unchanged)."""
    s = report.summary
    cols = [c for c in SUMMARY_COLUMNS if c in s.columns and (c in ("language", "script") or s[c].notna().any())]
    return s[cols].rename(columns=SUMMARY_COLUMNS)


def leaderboard_points(report: BattlesReport, language: str) -> pd.DataFrame:
    """One row per (system, source) of ``language``: strength and interval, for the chart;
    ``order`` ranks systems by the natives' strength."""
    b = report.leaderboards
    part = b[b["language"] == language]
    if part.empty:
        return part.assign(leaderboard=pd.Series(dtype=object), order=pd.Series(dtype=int))
    anchor = "human" if (part["source"] == "human").any() else part["source"].iloc[0]
    order = part[part["source"] == anchor].sort_values("strength", ascending=False)["system"].tolist()
    rank = {s: k for k, s in enumerate(order)}
    return part.assign(leaderboard=part["source"].map(lambda s: SOURCE_NAMES.get(s, s)),
                       order=part["system"].map(rank))[
        ["system", "leaderboard", "strength", "ci_low", "ci_high", "rank", "rank_best", "rank_worst", "battles",
         "order"]]


def leaderboards_side_by_side(report: BattlesReport, language: str) -> pd.DataFrame:
    """One row per system of ``language``, ordered by the natives' strength: each source's
    strength, interval and rank range in its own columns."""
    pts = leaderboard_points(report, language)
    out = None
    for source in dict.fromkeys(pts["leaderboard"]):
        g = pts[pts["leaderboard"] == source].set_index("system")
        part = pd.DataFrame({f"{source}: strength": g["strength"], f"{source}: low": g["ci_low"],
                             f"{source}: high": g["ci_high"],
                             f"{source}: ranks": g["rank_best"].astype(str) + "-" + g["rank_worst"].astype(str)})
        out = part if out is None else out.join(part, how="outer")
    if out is None:
        return pd.DataFrame()
    order = pts.drop_duplicates("system").set_index("system")["order"]
    return out.loc[order.sort_values().index].reset_index()


def taus_table(report: BattlesReport, language: str) -> pd.DataFrame:
    """Kendall tau between every two leaderboards of ``language``, with its paired-bootstrap interval."""
    t = report.taus
    if t.empty:
        return t
    t = t[t["language"] == language]
    return t.assign(source_a=t["source_a"].map(SOURCE_NAMES), source_b=t["source_b"].map(SOURCE_NAMES))[
        ["source_a", "source_b", "systems", "kendall_tau", "ci_low", "ci_high"]]

"""The numbers of a pairwise report, computed once as tidy tables (for ``judgecal report-battles``,
the Battles page of the dashboard and the demo).

:func:`build_battles_report` takes a normalised battles table (docs/pairwise.md)
and returns a :class:`BattlesReport`: per language, how the judge's verdicts
agree with the natives' majority, tie rates, position bias and self-preference,
before calibration (the raw combined verdict) and after (calibrated
probabilities of a native's vote), and the leaderboards from native votes, raw
verdicts, calibrated probabilities and PPI++ anchored on natives, with Kendall
tau between them. :mod:`judgecal.report.render_battles` formats it.

"After" numbers come from held-out calibrated probabilities (nested CV grouped
by prompt, :func:`~judgecal.pairwise.calibration.cross_validated_pairs`) unless
a fitted calibrator is given, in which case it is applied to every pair (in
sample if it was fitted on these battles; the report says so).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from judgecal._version import __version__
from judgecal.data.battle_verdicts import human_majority, human_votes, pick_judge_rows
from judgecal.errors import ConfigError
from judgecal.pairwise.bias import bias_table, family_outcomes
from judgecal.pairwise.calibration import PROB_COLUMNS, PairwiseCalibrator, cross_validated_pairs
from judgecal.pairwise.quality import agreement_table, calibration_table, vote_probabilities
from judgecal.pairwise.standings import language_leaderboards

SOURCES = ("human", "judge", "calibrated", "anchored")
SOURCE_NAMES = {"human": "native votes", "judge": "raw judge", "calibrated": "calibrated judge",
                "anchored": "human-anchored (PPI++)"}


@dataclass
class BattlesReport:
    """All numbers of the pairwise section. Every table has one row per language (and script)
    unless said otherwise."""

    meta: dict
    summary: pd.DataFrame  # the per-language table a reader wants first, before and after calibration
    agreement: pd.DataFrame  # quality.agreement_table (raw verdicts)
    calibrated: pd.DataFrame  # the same quantities from calibrated probabilities
    calibration: pd.DataFrame  # quality.calibration_table: log-loss of a native vote, tie rate, ECE
    bias: pd.DataFrame  # bias.bias_table (raw verdicts)
    leaderboards: pd.DataFrame  # one row per (language, source, system)
    taus: pd.DataFrame  # one row per (language, source_a, source_b)
    timings: dict = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        names = ("summary", "agreement", "calibrated", "calibration", "bias", "leaderboards", "taus")
        return {n: getattr(self, n) for n in names}


def calibrated_quantities(battles: pd.DataFrame, probs: pd.DataFrame, judge_family: str | None = None) -> pd.DataFrame:
    """Per (language, script): the agreement and bias figures of the calibrated judge.

    ``probs``: judged pairs with PROB_COLUMNS (calibrated P(native says system_1 /
    tie / system_2 better)). agree_3way_cal / agree_decisive_cal: the most
    probable outcome against the natives' majority (as agreement_table does for
    the raw verdict); tie_cal: mean P(tie), the predicted native tie rate;
    first_cal: mean P(system_1 better), the predicted share of votes for the
    response natives saw first; family_win_cal: on pairs with exactly one system
    of the judge's family, the expected share of decisive votes for it
    (sum P(family) / sum P(decisive)); self_preference_cal: that minus the
    natives' share (bias_table's family_win_native).
    """
    majority = human_majority(human_votes(battles))
    p = probs[list(PROB_COLUMNS)].to_numpy(dtype=float)
    frame = probs[["pair_id", "language", "script"]].assign(
        predicted=p.argmax(axis=1), majority=probs["pair_id"].map(majority).to_numpy(),
        p1=p[:, 0], pt=p[:, 1], p2=p[:, 2])
    fam = family_outcomes(battles, judge_family)
    rows = []
    for (lang, script), g in frame.groupby(["language", "script"], sort=True):
        has = g["majority"].notna()
        decisive = has & (g["majority"] != 1) & (g["predicted"] != 1)
        row = {"language": lang, "script": script, "pairs": len(g),
               "agree_3way_cal": _mean(g.loc[has, "predicted"] == g.loc[has, "majority"]),
               "agree_decisive_cal": _mean(g.loc[decisive, "predicted"] == g.loc[decisive, "majority"]),
               "tie_cal": float(g["pt"].mean()), "first_cal": float(g["p1"].mean())}
        if fam is not None:
            on = g[g["pair_id"].isin(fam.index)]
            target = fam.loc[on["pair_id"]].to_numpy()
            win = np.where(target == 0, on["p1"], on["p2"]).sum()
            decisive_mass = (on["p1"] + on["p2"]).sum()
            row["family_pairs"] = len(on)
            row["family_win_cal"] = float(win / decisive_mass) if decisive_mass > 0 else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def _mean(mask) -> float:
    mask = np.asarray(mask, dtype=float)
    return float(mask.mean()) if len(mask) else float("nan")


def build_battles_report(
    battles: pd.DataFrame,
    *,
    calibrator: PairwiseCalibrator | str | None = None,
    judge: str | None = None,
    judge_family: str | None = None,
    sources: tuple[str, ...] = SOURCES,
    n_resamples: int = 1000,
    confidence: float = 0.9,
    alpha: float = 1.0,
    n_splits: int = 5,
    random_state: int = 0,
    notes: list[str] | None = None,
    title: str = "judgecal pairwise report",
) -> BattlesReport:
    """Run every pairwise analysis for a report.

    Parameters
    ----------
    battles : normalised battles table with native votes and one judge's verdicts
    calibrator : a fitted PairwiseCalibrator (object or file) to apply; None
        (default) uses held-out probabilities from nested CV grouped by prompt
    judge : the judge's rater id when the table holds several
    judge_family : regular expression for systems of the judge's own family
        (``"gpt"`` for PARIKSHA's GPT judge); None leaves self-preference out
    sources : leaderboards to fit (human, judge, calibrated, anchored); only
        pairs naming both systems count for leaderboards
    n_resamples, confidence : bootstrap (clustered by prompt) and interval level
    alpha : ridge penalty on log-strengths (PARIKSHA has systems that never lose
        to some group in a language's judge verdicts: plain ML has no finite answer)
    """
    notes = list(notes or [])
    timings: dict[str, float] = {}

    def timed(name, fn, *args, **kwargs):
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        timings[name] = round(time.perf_counter() - start, 3)
        return out

    unknown = sorted(set(sources) - set(SOURCES))
    if unknown:
        raise ConfigError(f"unknown leaderboard source(s) {unknown}; choose from {', '.join(SOURCES)}")
    judge, _ = pick_judge_rows(battles, judge)
    if calibrator is not None:
        cal = calibrator if isinstance(calibrator, PairwiseCalibrator) else PairwiseCalibrator.load(
            calibrator, expect_judge=judge)
        probs = timed("calibration", cal.apply, battles)
        # Folds by prompt only for the verdict x vote reference table beside it.
        probs = probs.assign(fold=pd.factorize(probs["prompt_id"])[0] % n_splits)
        notes.append("Calibrated values come from the given pairwise calibrator applied to every pair: they are "
                     "out of sample only if it was fitted on other battles.")
    else:
        probs = timed("calibration", cross_validated_pairs, battles, n_splits=n_splits, random_state=random_state,
                      judge=judge)
        notes.append(f"Calibrated values are held out ({n_splits} folds grouped by prompt, nested CV): no pair's "
                     "calibrated probabilities were fitted on its own native votes.")
    agreement = timed("agreement", agreement_table, battles, judge)
    bias = timed("bias", bias_table, battles, judge=judge, judge_family=judge_family)
    after = timed("calibrated", calibrated_quantities, battles, probs, judge_family)
    votes = vote_probabilities(probs, battles)
    calib = timed("calibration_table", calibration_table, votes)
    has_systems = {"system_1", "system_2"} <= set(battles.columns) and (
        battles["system_1"].notna() & battles["system_2"].notna()).any()
    if has_systems and sources:
        boards, taus = timed("leaderboards", language_leaderboards, battles, tuple(sources), judge=judge,
                             calibrated=probs, n_resamples=n_resamples, confidence=confidence, alpha=alpha,
                             random_state=random_state)
    else:
        boards, taus = pd.DataFrame(), pd.DataFrame()
        notes.append("No leaderboards: no battle names both of its systems.")
    summary = summarise(agreement, bias, after, calib, taus)
    pair_info = battles.drop_duplicates("pair_id")
    with_systems = int((pair_info["system_1"].notna() & pair_info["system_2"].notna()).sum()) if has_systems else 0
    meta = {
        "title": title,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "judgecal_version": __version__,
        "judge": judge,
        "judge_family": judge_family,
        "n_rows": int(len(battles)),
        "n_pairs": int(battles["pair_id"].nunique()),
        "n_pairs_with_systems": with_systems,
        "n_native_votes": int((battles["rater_kind"] == "human").sum()),
        "n_judge_verdicts": int((battles["rater_kind"] == "judge").sum()),
        "languages": sorted(battles["language"].astype(str).unique()),
        "sources": list(sources) if has_systems else [],
        "confidence": confidence,
        "n_resamples": n_resamples,
        "alpha": alpha,
        "calibration": "given calibrator" if calibrator is not None else f"nested CV, {n_splits} folds by prompt",
        "notes": notes,
    }
    return BattlesReport(meta=meta, summary=summary, agreement=agreement, calibrated=after, calibration=calib,
                         bias=bias, leaderboards=boards, taus=taus, timings=timings)


def summarise(agreement: pd.DataFrame, bias: pd.DataFrame, after: pd.DataFrame, calib: pd.DataFrame,
              taus: pd.DataFrame) -> pd.DataFrame:
    """One row per (language, script): agreement with and without ties, tie rates,
    first-position preference, self-preference raw and calibrated, log-loss of a
    native vote (fixed 80/10/10 reading, verdict x vote table, calibrated), and
    Kendall tau of each judge leaderboard to the natives' (``tau_<source>``)
    with its paired-bootstrap interval (``tau_<source>_low``, ``_high``)."""
    keys = ["language", "script"]
    out = agreement[[*keys, "pairs", "pairs_with_majority", "agree_3way", "agree_decisive", "tie_native",
                     "tie_judge", "first_native", "first_judge"]]
    out = out.merge(after[[*keys, "agree_3way_cal", "agree_decisive_cal", "tie_cal", "first_cal",
                           *[c for c in ("family_win_cal",) if c in after.columns]]], on=keys, how="left")
    extra = [c for c in ("flip_rate", "family_pairs", "family_win_native", "family_win_judge", "self_preference")
             if c in bias.columns]
    out = out.merge(bias[[*keys, *extra]], on=keys, how="left")
    if "family_win_cal" in out.columns and "family_win_native" in out.columns:
        out["self_preference_cal"] = out["family_win_cal"] - out["family_win_native"]
    out = out.merge(calib[[*keys, "log_loss_fixed", "log_loss_table", "log_loss_cal", "ece_first_cal"]],
                    on=keys, how="left")
    if len(taus):
        to_human = taus[taus["source_a"] == "human"].set_index(["language", "source_b"])
        for column, suffix in (("kendall_tau", ""), ("ci_low", "_low"), ("ci_high", "_high")):
            if column in to_human.columns:
                wide = to_human[column].unstack("source_b")
                wide.columns = [f"tau_{c}{suffix}" for c in wide.columns]
                out = out.merge(wide.reset_index(), on="language", how="left")
    return out.sort_values(keys).reset_index(drop=True)

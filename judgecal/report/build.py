"""Compute everything a report shows, once, as tidy tables.

:func:`build_report` runs the analyses of :mod:`judgecal.analysis` on a
ratings table (raw judge scores, and out-of-fold calibrated ones) and returns
a :class:`Report`; :mod:`judgecal.report.render` only formats it
(HTML, Markdown, JSON).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from judgecal import analysis as an
from judgecal._version import __version__
from judgecal.data.metrics import DEFAULT_REGISTRY, MetricRegistry, MetricScale
from judgecal.errors import ConfigError

if TYPE_CHECKING:
    from judgecal.pairwise.overview import BattlesReport


@dataclass
class Report:
    """All numbers of one report. Every table is tidy (one row per group and quantity)."""

    meta: dict
    headline: pd.DataFrame
    agreement: pd.DataFrame
    bias: pd.DataFrame
    bias_by_script: pd.DataFrame
    levels: pd.DataFrame
    systems: pd.DataFrame
    rankings: pd.DataFrame
    learning: pd.DataFrame
    needed: pd.DataFrame
    simulation: pd.DataFrame | None = None
    simulation_summary: pd.DataFrame | None = None
    agreement_by_task: pd.DataFrame | None = None
    # Judge drift (when new judged rows are given): per (metric, language) and the verdict per language.
    drift: pd.DataFrame | None = None
    drift_verdict: pd.DataFrame | None = None
    timings: dict = field(default_factory=dict)
    # The declared scale of each metric shown (built-in or from a metrics file), for level names.
    scales: dict[str, MetricScale] = field(default_factory=dict)
    # The pairwise section (judgecal.pairwise.overview.build_battles_report), when battles were given.
    pairwise: BattlesReport | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        names = ("headline", "agreement", "bias", "bias_by_script", "levels", "systems", "rankings", "learning",
                 "needed", "simulation", "simulation_summary", "agreement_by_task", "drift", "drift_verdict")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


def _calibrated_table(ratings, calibration, calibrator, random_state, judge, notes, registry,
                      check_input=True):
    """The ratings with calibrated judge scores, or None; describes what was done in ``notes``."""
    if calibration not in (None, "none", False) or calibrator is not None:
        notes.append("Calibration targets the expected human score, so it mainly removes bias; categorical "
                     "agreement after calibration uses the level nearest the calibrated score, which pulls "
                     "toward middle levels and can lower kappa or alpha.")
    if calibrator is not None:
        from judgecal.calibration import load_calibrator

        cal = load_calibrator(calibrator) if isinstance(calibrator, str | Path) else calibrator
        is_judge = ratings["rater_kind"] == "judge"
        if judge is not None:  # only the analysed judge's rows: the calibrator refuses other judges'
            is_judge &= ratings["rater"] == judge
        judged = cal.apply(ratings[is_judge])
        notes.append("Calibrated values come from the given calibrator applied to these ratings: they are "
                     "out of sample only if it was fitted on other labels.")
        return pd.concat([ratings[ratings["rater_kind"] == "human"], judged], ignore_index=True)
    if calibration in (None, "none", False):
        notes.append("No calibration requested: raw judge scores only.")
        return None
    if calibration == "oof":
        table = an.out_of_fold_table(ratings, random_state=random_state, judge=judge, registry=registry,
                                     check_input=check_input)
        notes.append("Calibrated values are out of fold (5 folds grouped by prompt): no item's calibrated score "
                     "was fitted on its own human labels.")
        return table
    raise ConfigError(f"calibration must be 'oof', 'none' or a calibrator, not {calibration!r}")


def _drift(calibrator, judged, anchors, random_state):
    """check_drift of new judged rows against the calibrator: (table, verdict, what to say first)."""
    if calibrator is None:
        raise ConfigError("a drift section needs the calibrator the new judged rows are checked against "
                          "(--calibrator)")
    from judgecal.calibration import load_calibrator
    from judgecal.calibration.drift import check_drift

    cal = load_calibrator(calibrator) if isinstance(calibrator, str | Path) else calibrator
    rep = check_drift(cal, judged, anchors=anchors, random_state=random_state)
    meta = {"fingerprint_notes": rep.fingerprint_notes, "notes": rep.notes, "alpha": rep.alpha,
            "correction": rep.correction, "anchors": rep.anchors is not None, "new_judge": rep.new["model"],
            "flagged_languages": rep.flagged_languages}
    return rep.table(), rep.verdict, meta


@an.shared_item_tables()  # the ~30 analyses below share one item table per metric and stage
def build_report(
    ratings: pd.DataFrame,
    *,
    calibration: str | None = "oof",
    calibrator=None,
    judge: str | None = None,
    confidence: float = 0.95,
    estimate_confidence: float = 0.9,
    n_resamples: int = 1000,
    by_task: bool = False,
    simulate_ppi: bool = False,
    simulation_repeats: int = 200,
    target_width: float = 0.3,
    learning_repeats: int = 10,
    random_state: int = 0,
    notes: list[str] | None = None,
    title: str = "judgecal report",
    registry: MetricRegistry = DEFAULT_REGISTRY,
    check_input: bool = True,
    drift_judged: pd.DataFrame | None = None,
    drift_anchors: pd.DataFrame | None = None,
    pairwise: BattlesReport | None = None,
) -> Report:
    """Run every analysis for a report.

    Parameters
    ----------
    ratings : ratings table with human and judge rows
    calibration : ``"oof"`` (out-of-fold calibrated values, default) or ``"none"``
    calibrator : a fitted calibrator (object or file) to apply instead of out-of-fold fits
    judge : analyse this judge only (default: every judge; estimates and the
        planner need exactly one)
    confidence : level of agreement and bias intervals
    estimate_confidence : level of system estimates and the PPI simulation
    n_resamples : bootstrap resamples over items
    by_task : also break agreement down by task
    simulate_ppi : run the hide-the-labels PPI++ coverage check (n = 50, 100, 200 per language)
    target_width : interval width the annotation planner aims for
    notes : sentences about the data shown at the top (e.g. how it was loaded)
    check_input : check and normalise the table again before out-of-fold calibration;
        False when it comes from judgecal's readers (``load_ratings``, ``load_pariksha``),
        which did so already (the same numbers, in less time)
    drift_judged : new judged rows to check for judge drift against ``calibrator`` (a section of the report)
    drift_anchors : the anchor items' rows scored by the old judge (see ``judgecal anchors``)
    pairwise : a pairwise report of battles (:func:`judgecal.pairwise.overview.build_battles_report`)
        to show as the report's "Pairwise battles" section (a ``pairwise`` key in the JSON)
    """
    timings: dict[str, float] = {}
    notes = list(notes or [])

    def timed(name, fn, *args, **kwargs):
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        timings[name] = round(time.perf_counter() - start, 3)
        return out

    common = {"n_resamples": n_resamples, "random_state": random_state, "confidence": confidence, "registry": registry,
              "judge": judge}
    calibrated = timed("calibration", _calibrated_table, ratings, calibration, calibrator, random_state, judge, notes,
                       registry, check_input)
    agreement = timed("agreement", an.before_after, an.agreement_table, ratings, calibrated, **common)
    bias = timed("bias", an.before_after, an.bias_table, ratings, calibrated, **common)
    bias_script = timed("bias_by_script", an.before_after, an.bias_table, ratings, calibrated,
                        by=("script", "metric"), **common)
    levels = timed("levels", an.before_after, an.level_distribution, ratings, calibrated, registry=registry,
                   judge=judge)
    by_task_table = None
    if by_task and "task" in ratings.columns:
        by_task_table = timed("agreement_by_task", an.before_after, an.agreement_table, ratings, calibrated,
                              by=("language", "script", "task", "metric"), **common)
    has_system = "system" in ratings.columns and ratings["system"].notna().any()
    systems = timed("systems", an.system_estimates, ratings, confidence=estimate_confidence, judge=judge,
                    registry=registry) if has_system else pd.DataFrame()
    rankings = timed("rankings", an.rank_systems, systems, confidence=estimate_confidence,
                     random_state=random_state) if len(systems) else pd.DataFrame()
    learning = timed("learning_curves", an.learning_curves, ratings, n_repeats=learning_repeats, judge=judge,
                     confidence=estimate_confidence, random_state=random_state, registry=registry)
    needed = timed("labels_needed", an.labels_needed, ratings, target_width=target_width, judge=judge,
                   confidence=estimate_confidence, registry=registry)
    sim = sim_summary = None
    if simulate_ppi and has_system:
        sim = timed("ppi_simulation", an.ppi_simulation, ratings, n_repeats=simulation_repeats, judge=judge,
                    confidence=estimate_confidence, random_state=random_state, registry=registry)
        sim_summary = an.simulation_summary(sim)

    drift_table = drift_verdict = None
    drift_meta = None
    if drift_judged is not None:
        drift_table, drift_verdict, drift_meta = timed("drift", _drift, calibrator, drift_judged, drift_anchors,
                                                       random_state)

    judges = sorted(ratings.loc[ratings["rater_kind"] == "judge", "rater"].astype(str).unique())
    meta = {
        "title": title,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "judgecal_version": __version__,
        "n_ratings": int(len(ratings)),
        "n_items": int(ratings["item_id"].nunique()),
        "n_human_ratings": int((ratings["rater_kind"] == "human").sum()),
        "n_judge_ratings": int((ratings["rater_kind"] == "judge").sum()),
        "languages": sorted(ratings["language"].astype(str).unique()),
        "scripts": sorted(ratings["script"].astype(str).unique()),
        "metrics": sorted(ratings["metric"].astype(str).unique()),
        "judges": judges,
        "confidence": confidence,
        "estimate_confidence": estimate_confidence,
        "n_resamples": n_resamples,
        "target_width": target_width,
        "calibrated": calibrated is not None,
        "notes": notes,
        "drift": drift_meta,
    }
    return Report(meta=meta, headline=headline(agreement, bias, levels), agreement=agreement, bias=bias,
                  bias_by_script=bias_script, levels=levels, systems=systems, rankings=rankings, learning=learning,
                  needed=needed, simulation=sim, simulation_summary=sim_summary, agreement_by_task=by_task_table,
                  drift=drift_table, drift_verdict=drift_verdict, timings=timings,
                  scales={metric: registry.get(metric) for metric in meta["metrics"]}, pairwise=pairwise)


def headline(agreement: pd.DataFrame, bias: pd.DataFrame, levels: pd.DataFrame) -> pd.DataFrame:
    """One row per (language, script, metric[, judge]): the numbers a reader wants first.

    Human-human alpha (the ceiling), judge-with-humans alpha raw and calibrated,
    mean bias raw and calibrated with intervals, and the share of the top level
    given by humans and by the raw judge.
    """
    keys = ["language", "script", "metric"]
    out = None

    def pick(frame, mask, prefix, cols=("estimate", "ci_low", "ci_high")):
        sub = frame[mask][[*keys, *cols]].rename(columns={c: f"{prefix}{'' if c == 'estimate' else '_' + c}" for c in cols})
        return sub.drop_duplicates(keys)

    a, b = agreement, bias
    parts = [pick(a, (a["comparison"] == "human-human") & (a["statistic"] == "alpha") & (a["stage"] == "raw"),
                  "alpha_human_human")]
    for stage in ("raw", "calibrated"):
        if (a["stage"] == stage).any():
            parts.append(pick(a, (a["comparison"] == "judge+humans") & (a["statistic"] == "alpha") & (a["stage"] == stage),
                              f"alpha_judge_{stage}"))
            parts.append(pick(b, (b["subset"] == "all") & (b["stage"] == stage), f"bias_{stage}"))
    for part in parts:
        out = part if out is None else out.merge(part, on=keys, how="outer")
    lv = levels[levels["stage"] == "raw"]
    if len(lv):
        top = lv.groupby(["metric"])["level"].transform("max")
        tops = lv[lv["level"] == top].pivot_table(index=keys, columns="source", values="share", aggfunc="first")
        tops = tops.rename(columns={"human": "top_level_share_human", "judge": "top_level_share_judge"}).reset_index()
        out = out.merge(tops, on=keys, how="left") if out is not None else tops
    return out.sort_values(keys).reset_index(drop=True) if out is not None else pd.DataFrame(columns=keys)


def ppi_summary(systems: pd.DataFrame) -> pd.DataFrame:
    """Per language and metric: lambda, effective sample size gain, labelled and total items."""
    ppi = systems[systems["estimator"] == "ppi"]
    if ppi.empty:
        return pd.DataFrame(columns=["language", "metric", "systems", "labelled", "items", "lam", "ess_gain"])
    keys = [c for c in ("language", "script", "metric", "judge") if c in ppi.columns]
    return (ppi.groupby(keys, sort=True)
            .agg(systems=("system", "nunique"), labelled=("n", "sum"), items=("N", "sum"),
                 lam=("lam", "first"), ess_gain=("ess_gain", "first"))
            .reset_index())

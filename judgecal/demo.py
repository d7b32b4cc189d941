"""The whole path on a ready data set: find data -> validate -> calibrate -> report.

The data is PARIKSHA when it can be found (``--data``, $JUDGECAL_PARIKSHA, the
download cache, a folder beside the checkout) or downloaded; otherwise the
synthetic set, with a clear notice. Recorded judge scores are used, so nothing
calls a paid API and the demo runs offline.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from judgecal.calibration import GroupedCalibrator, load_calibrator
from judgecal.calibration.drift import JudgeDriftWarning
from judgecal.data.io import write_ratings
from judgecal.data.render import table_text
from judgecal.data.validate import validate_ratings
from judgecal.datasets import fetch_pariksha, find_pariksha, load_pariksha, make_judge_ratings
from judgecal.errors import ConfigError, DatasetError
from judgecal.report import make_report

if TYPE_CHECKING:
    from judgecal.pairwise.overview import BattlesReport


@dataclass
class DemoData:
    ratings: pd.DataFrame
    name: str  # "PARIKSHA" or "synthetic"
    where: str
    notice: str = ""


def find_demo_data(data: str | None = None, *, download: bool = True, say=print) -> DemoData:
    """PARIKSHA from ``data``/env/cache/beside the checkout, else a download, else synthetic."""
    if data is not None:
        folder = find_pariksha(data)
        if folder is None:
            raise DatasetError(f"--data {data}: not a PARIKSHA release folder (expected karya_eval/, gpt_eval/, outputs/)")
        return DemoData(load_pariksha(folder), "PARIKSHA", str(folder))
    folder = find_pariksha()
    if folder is not None:
        return DemoData(load_pariksha(folder), "PARIKSHA", str(folder))
    if download:
        say("PARIKSHA not found locally; downloading it (pinned commit, checksummed)...")
        try:
            folder = fetch_pariksha(timeout=20)
            return DemoData(load_pariksha(folder), "PARIKSHA", str(folder))
        except DatasetError as exc:
            reason = f"download failed: {exc}"
    else:
        reason = "downloads were turned off (--offline)"
    notice = (
        "NOTICE: the PARIKSHA data set could not be reached "
        f"({reason}). Running on the SYNTHETIC data set instead: its numbers show how "
        "judgecal works, not how any real judge behaves. Pass --data PATH or set "
        "JUDGECAL_PARIKSHA to use PARIKSHA."
    )
    return DemoData(make_judge_ratings(random_state=0), "synthetic", "judgecal.datasets.make_judge_ratings", notice)


def demo_calibration(ratings: pd.DataFrame, out: str | Path, *, method: str = "auto", say=print) -> dict:
    """Fit a GroupedCalibrator on ``ratings``, save it, reload it and calibrate the judge rows.

    Writes ``calibrator.json`` and ``calibrated.parquet`` into ``out`` and says
    the method chosen per metric, the held-out quality per language (raw vs
    calibrated) and which group level served the rows. Returns their paths.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    say(f"== calibrate: one calibrator per language/script/metric (method={method!r}, 5 folds by prompt)")
    cal = GroupedCalibrator(method=method).fit(ratings, check_input=False)
    for metric, info in cal.metric_info_.items():
        say(f"  {metric}: {info['selection']}")
    say("held-out quality (raw judge vs calibrated): bias, and the loss each metric is judged by "
        "(MAE; the Brier score for two-level metrics, whose calibrated value is a probability)")
    say(table_text(cal.quality_table()))
    path = cal.save(out / "calibrator.json")
    loaded = load_calibrator(path)  # what a pipeline would do
    judged = ratings[ratings["rater_kind"] == "judge"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", JudgeDriftWarning)
        calibrated = loaded.apply(judged)
    if caught:
        # Said, not hidden; on PARIKSHA the judge rows without human ratings are mostly
        # other (weaker) systems' outputs, so their score mix differs from the fitting data.
        say(f"apply warned {len(caught)} time(s): judge scores outside what the calibrator saw "
            "(judgecal drift tells a changed judge from changed systems):")
        for w in caught:
            say(f"  {w.message}")
    served = calibrated.groupby(["metric", "calibration_level"], observed=True).size().rename("rows").reset_index()
    say("served by: " + ", ".join(f"{r.metric}/{r.calibration_level}: {r.rows}" for r in served.itertuples()))
    written = {"calibrator": path, "calibrated": write_ratings(calibrated, out / "calibrated.parquet")}
    say(f"wrote {written['calibrator']} and {written['calibrated']}")
    return written


def run_demo(data: str | None = None, *, out: str | Path = "judgecal-demo", download: bool = True, say=print) -> dict:
    """Run the demo; returns the paths of what it wrote."""
    out = Path(out)
    if out.exists() and not out.is_dir():  # mkdir would raise FileExistsError: a traceback
        raise ConfigError(f"--out {out}: is a file; the demo writes several files into a folder, "
                          "give a folder (new or existing)")
    out.mkdir(parents=True, exist_ok=True)
    demo = find_demo_data(data, download=download, say=say)
    if demo.notice:
        say("\n" + demo.notice + "\n")
    say(f"== 1. validate: {demo.name} ({demo.where})")
    ratings = demo.ratings
    report = validate_ratings(ratings)
    say(table_text(report.summary[["language", "script", "rows", "items", "human_rows", "judge_rows", "human_raters", "raters_per_item_mean", "raters_per_item"]]))
    for finding in report.findings:
        say(f"  - {finding}")
    written = {"ratings": write_ratings(ratings, out / "ratings.parquet")}
    if demo.name == "PARIKSHA" and any("MIX-UP" in f for f in report.findings):
        say("  -> reloading with repair=True (rows reassigned to the language their prompt ids belong to)")
        ratings = load_pariksha(demo.where, repair=True)
        written["ratings"] = write_ratings(ratings, out / "ratings.parquet")
    say(f"wrote {written['ratings']}")

    say("")
    written.update(demo_calibration(ratings, out, say=say))
    say("")
    battle_paths, pairwise = demo_battles(demo.where if demo.name == "PARIKSHA" else None, out, say=say)
    written.update(battle_paths)

    say("\n== report: agreement, bias, system estimates and the annotation planner "
        "(calibrated values out of fold, 5 folds by prompt), and the pairwise battles")
    notes = [demo.notice] if demo.notice else []
    report_paths = make_report(ratings, out / "report.html", leaderboards_csv=out / "leaderboards.csv",
                               calibration="oof", notes=notes, title=f"judgecal demo: {demo.name}", pairwise=pairwise)
    written.update({f"report_{k}": v for k, v in report_paths.items() if k != "leaderboards"})
    written["leaderboards"] = report_paths.get("leaderboards")
    for kind, path in report_paths.items():
        say(f"wrote {kind}: {path}")
    say(f"\nOpen {report_paths['html']} in a browser (its Pairwise battles section has the leaderboards), or "
        f"explore interactively with:\n"
        f"  judgecal dashboard {written['ratings']} --calibrator {written['calibrator']} "
        f"--battles {written['battles']} --battle-calibrator {written['battle_calibrator']}")
    return written


def find_demo_battles(folder: str | Path | None, say=print) -> tuple[pd.DataFrame, str, str | None]:
    """(battles, name, judge family): PARIKSHA's pairwise release when ``folder`` has it, else make_battles."""
    from judgecal.datasets import load_pariksha_battles, make_battles
    from judgecal.datasets.pariksha import LANGUAGES
    from judgecal.datasets.pariksha_battles import pariksha_battle_files

    if folder is not None:
        missing = [f for lang in LANGUAGES for f in pariksha_battle_files(Path(folder), lang) if not f.exists()]
        if not missing:
            return load_pariksha_battles(folder), "PARIKSHA pairwise", "gpt"
        say(f"NOTICE: PARIKSHA's pairwise release is not complete at {folder} ({len(missing)} file(s) missing, "
            f"e.g. {missing[0]}); the pairwise step runs on SYNTHETIC battles instead.")
    return make_battles(random_state=0), "synthetic battles", None


def demo_battles(folder: str | Path | None, out: str | Path, *, n_resamples: int = 200,
                 say=print) -> tuple[dict, BattlesReport]:
    """The pairwise step: validate the battles, fit a pairwise calibrator, save and reload it, and
    build the pairwise report (before/after calibration, leaderboards side by side) that the main
    report shows as its Pairwise battles section.

    The 'after' numbers apply the calibrator fitted on the same battles (in sample, said in the
    report) to keep the demo short; ``judgecal report --battles`` (or ``report-battles``) without a
    calibrator gives held-out numbers by nested CV. Writes battles.parquet and
    battle_calibrator.json into ``out``; returns their paths and the pairwise report.
    """
    from judgecal.pairwise.calibration import PairwiseCalibrator
    from judgecal.pairwise.describe import describe_battles
    from judgecal.pairwise.io import write_battles
    from judgecal.pairwise.overview import build_battles_report
    from judgecal.report.render_battles import summary_rows

    out = Path(out)
    battles, name, family = find_demo_battles(folder, say=say)
    say(f"== pairwise: {name}: validate, calibrate verdicts, leaderboards per language")
    described = describe_battles(battles)
    say(table_text(described[[c for c in ("language", "script", "pairs", "pairs_with_systems", "native_votes",
                                           "judge_verdicts") if c in described.columns]]))
    written = {"battles": write_battles(battles, out / "battles.parquet")}
    cal = PairwiseCalibrator().fit(battles)
    written["battle_calibrator"] = cal.save(out / "battle_calibrator.json")
    loaded = PairwiseCalibrator.load(written["battle_calibrator"])
    say(f"pairwise calibrator: node model {loaded.model_}, inner-CV log-loss per vote "
        + ", ".join(f"{k} {v:.3f}" for k, v in loaded.cv_log_loss_.items()))
    report = build_battles_report(battles, calibrator=loaded, judge_family=family, n_resamples=n_resamples,
                                  title=f"judgecal demo: {name}")
    header, rows = summary_rows(report.summary)
    say(table_text(pd.DataFrame(rows, columns=header)))
    say(f"wrote {written['battles']} and {written['battle_calibrator']}")
    return written, report

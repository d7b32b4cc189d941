"""The whole path on a ready data set: find data -> validate -> calibrate -> report.

The data is PARIKSHA when it can be found (``--data``, $JUDGECAL_PARIKSHA, the
download cache, a folder beside the checkout) or downloaded; otherwise the
synthetic set, with a clear notice. Recorded judge scores are used, so nothing
calls a paid API and the demo runs offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from judgecal.calibration import GroupedCalibrator, load_calibrator
from judgecal.data.io import write_ratings
from judgecal.data.render import table_text
from judgecal.data.validate import validate_ratings
from judgecal.datasets import fetch_pariksha, find_pariksha, load_pariksha, make_judge_ratings
from judgecal.errors import ConfigError, DatasetError
from judgecal.report import make_report


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
    calibrated = loaded.apply(judged)
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

    say("\n== report: agreement, bias, system estimates and the annotation planner "
        "(calibrated values out of fold, 5 folds by prompt)")
    notes = [demo.notice] if demo.notice else []
    report_paths = make_report(ratings, out / "report.html", calibration="oof", notes=notes,
                               title=f"judgecal demo: {demo.name}")
    written.update({f"report_{k}": v for k, v in report_paths.items()})
    for kind, path in report_paths.items():
        say(f"wrote {kind}: {path}")
    say(f"\nOpen {report_paths['html']} in a browser, or explore interactively with:\n"
        f"  judgecal dashboard {written['ratings']} --calibrator {written['calibrator']}")
    return written

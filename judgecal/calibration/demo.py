"""The calibration step of ``judgecal demo``: fit, save, reload, apply, show."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def demo_calibration(ratings: pd.DataFrame, out: str | Path, *, method: str = "auto", say=print) -> dict:
    """Fit a GroupedCalibrator on ``ratings``, save it, reload it and calibrate the judge rows.

    Writes ``calibrator.json`` and ``calibrated.parquet`` into ``out`` and says
    the method chosen per metric, the held-out quality per language (raw vs
    calibrated) and which group level served the rows. Returns their paths.
    """
    from judgecal.calibration import GroupedCalibrator, load_calibrator
    from judgecal.data.io import write_ratings
    from judgecal.data.render import table_text

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    say(f"== calibrate: one calibrator per language/script/metric (method={method!r}, 5 folds by prompt)")
    cal = GroupedCalibrator(method=method).fit(ratings, check_input=False)
    for metric, info in cal.metric_info_.items():
        say(f"  {metric}: {info['selection']}")
    q = cal.cv_quality_[["language", "script", "metric", "method", "n_items", "raw_bias", "bias", "raw_mae", "mae"]]
    say(table_text(q))
    path = cal.save(out / "calibrator.json")
    loaded = load_calibrator(path)  # what a pipeline would do
    judged = ratings[ratings["rater_kind"] == "judge"]
    calibrated = loaded.apply(judged)
    served = calibrated.groupby(["metric", "calibration_level"], observed=True).size().rename("rows").reset_index()
    say("served by: " + ", ".join(f"{r.metric}/{r.calibration_level}: {r.rows}" for r in served.itertuples()))
    written = {"calibrator": path, "calibrated": write_ratings(calibrated, out / "calibrated.parquet")}
    say(f"wrote {written['calibrator']} and {written['calibrated']}")
    return written

"""Judge drift for the dashboard's Drift page: the tables the page shows, computed by
:func:`judgecal.calibration.drift.check_drift` (the page holds layout only)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from judgecal.calibration.drift import check_drift
from judgecal.dashboard.results import NotAvailable

# Session keys of the page's uploads: (file name, bytes).
JUDGED_KEY = "judgecal_drift_judged"
ANCHORS_KEY = "judgecal_drift_anchors"


def drift_tables(judged: pd.DataFrame, *, calibrator, anchors: pd.DataFrame | None = None,
                 alpha: float = 0.05, correction: str = "holm") -> dict:
    """Everything the page shows for new judged rows checked against ``calibrator``.

    Returns {"fingerprint": [sentences], "notes": [sentences], "verdict", "distribution",
    "anchors" (or None), "shares"}: ``shares`` is long, one row per (metric, language,
    level, sample) with the share of scores at that level, for the charts.
    Raises NotAvailable when the calibrator records no distribution and no anchors are given.
    """
    if calibrator is None:
        raise NotAvailable("judge drift", "a calibrator (start the dashboard with --calibrator or upload one)")
    if calibrator.state_.judge_profile is None and anchors is None:
        raise NotAvailable("judge drift", "a calibrator written by this judgecal (the loaded one records no judge "
                                          "score distribution: refit it), or anchor rows")
    report = check_drift(calibrator, judged, anchors=anchors, alpha=alpha, correction=correction)
    return {"fingerprint": report.fingerprint_notes, "notes": report.notes, "verdict": report.verdict,
            "distribution": report.distribution, "anchors": report.anchors,
            "shares": level_shares(calibrator.state_.judge_profile, judged)}


def level_shares(profile: dict | None, judged: pd.DataFrame) -> pd.DataFrame:
    """Share of each level per (metric, language): the calibrator's fitting data and the new rows."""
    cols = ["metric", "language", "level", "sample", "share"]
    if profile is None:
        return pd.DataFrame(columns=cols)
    rows = []
    if "rater_kind" in judged.columns:
        judged = judged[(judged["rater_kind"] == "judge").to_numpy()]
    new = judged.groupby([judged["metric"].astype(str), judged["language"].astype(str), "score"],
                         observed=True).size()
    for entry in profile["levels"].values():
        counts = np.asarray(entry["counts"], float)
        m, lang = entry["metric"], entry["language"]
        fresh = np.array([new.get((m, lang, lv), 0) for lv in entry["levels"]], float)
        for sample, c in (("calibrator's fitting data", counts), ("new judged rows", fresh)):
            if c.sum() == 0:
                continue
            rows += [{"metric": m, "language": lang, "level": f"{lv:g}", "sample": sample, "share": v / c.sum()}
                     for lv, v in zip(entry["levels"], c, strict=True)]
    return pd.DataFrame(rows, columns=cols)

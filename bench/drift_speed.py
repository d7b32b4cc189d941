"""Speed of `check_drift` on 1M judged rows (and of `apply`'s drift warnings).

A calibrator is fitted on PARIKSHA; 1M judge rows are drawn from its recorded
(metric, language) distributions (ids and languages as categoricals, as the loaders
give them). Prints seconds for check_drift without and with 30 000 anchor pairs,
and for drift_warnings (what apply adds). Usage: python bench/drift_speed.py [--rows N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from judgecal.calibration import GroupedCalibrator, check_drift
from judgecal.calibration.drift import drift_warnings
from judgecal.datasets import load_pariksha


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    cal = GroupedCalibrator(method="isotonic").fit(load_pariksha(repair=True))
    profile = cal.state_.judge_profile["levels"]
    metrics = sorted({v["metric"] for v in profile.values()})
    languages = sorted({v["language"] for v in profile.values()})
    rng = np.random.default_rng(0)
    n_items = args.rows // len(metrics)
    item_lang = rng.integers(len(languages), size=n_items)
    lang = np.repeat(item_lang, len(metrics))  # every item scored on every metric
    met = np.tile(np.arange(len(metrics)), n_items)
    score = np.empty(len(lang))
    for li, lg in enumerate(languages):
        for mi, m in enumerate(metrics):
            grp = profile[f"{m}|{lg}"]
            rows = np.flatnonzero((lang == li) & (met == mi))
            p = np.asarray(grp["counts"], float) + 1.0
            score[rows] = rng.choice(grp["levels"], size=len(rows), p=p / p.sum())
    judged = pd.DataFrame({
        "item_id": pd.Categorical.from_codes(np.repeat(np.arange(n_items), len(metrics)),
                                             [f"item{i}" for i in range(n_items)]),
        "language": pd.Categorical.from_codes(lang, languages),
        "metric": pd.Categorical.from_codes(met, metrics),
        "rater": "pariksha-gpt-judge", "rater_kind": "judge", "score": score})
    anchors = judged.sample(30_000, random_state=0)
    for label, kw in (("check_drift", {}), ("check_drift + 30k anchor pairs", {"anchors": anchors})):
        t = time.perf_counter()
        report = check_drift(cal, judged, **kw)
        print(f"{label}: {len(judged):,} rows, {time.perf_counter() - t:.2f} s "
              f"({len(report.distribution)} (metric, language) tests)")
    t = time.perf_counter()
    drift_warnings(cal.state_, judged)
    print(f"drift_warnings (apply's check): {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()

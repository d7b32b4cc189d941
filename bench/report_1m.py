"""The full report on about 1M ratings (synthetic: 10 languages, 3 metrics, 3 humans + 1 judge).

Prints the time of each step of ``build_report`` (out-of-fold calibration,
agreement and bias before/after with 1,000 bootstrap resamples, level
distributions, PPI++ system estimates and rankings, learning curves, labels
needed) and of writing the HTML, JSON and Markdown files, plus their sizes.

Usage::

    python bench/report_1m.py [--items 83360] [--resamples 1000] [--out /tmp/judgecal-bench]

The generated ratings are kept in ``--out`` as Parquet so a rerun times the report only.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from judgecal.datasets import make_judge_ratings
from judgecal.report import build_report, write_report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=83_360, help="items (x 12 rows each); a multiple of 40")
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--out", default="/tmp/judgecal-bench")
    ap.add_argument("--no-calibration", action="store_true", help="raw judge only (skip out-of-fold calibration)")
    args = ap.parse_args()
    cache = Path(args.out) / f"ratings_{args.items}.parquet"
    t0 = time.perf_counter()
    if cache.exists():
        ratings = pd.read_parquet(cache)
    else:
        ratings = make_judge_ratings(n_items=args.items, n_systems=4, random_state=0)
        cache.parent.mkdir(parents=True, exist_ok=True)
        ratings.to_parquet(cache, index=False)
    t_make = time.perf_counter() - t0
    print(f"{len(ratings):,} ratings on {ratings['item_id'].nunique():,} items (made or read in {t_make:.1f} s)")
    t0, c0 = time.perf_counter(), time.process_time()
    report = build_report(ratings, n_resamples=args.resamples, learning_repeats=10,
                          calibration="none" if args.no_calibration else "oof")
    t_build, c_build = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    paths = write_report(report, Path(args.out) / "report.html")
    t_write = time.perf_counter() - t0
    for step, seconds in report.timings.items():
        print(f"  {step:<20} {seconds:8.2f} s")
    print(f"build_report total     {t_build:8.2f} s wall, {c_build:.2f} s CPU of this process")
    print(f"write html/json/md     {t_write:8.2f} s  ({', '.join(f'{k} {p.stat().st_size / 1e3:.0f} kB' for k, p in paths.items())})")


if __name__ == "__main__":
    main()

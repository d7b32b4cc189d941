"""The full report on about 1M ratings (synthetic: 10 languages, 3 metrics, 3 humans + 1 judge).

Prints the time of each step of ``build_report`` (out-of-fold calibration,
agreement and bias before/after with 1,000 bootstrap resamples, level
distributions, PPI++ system estimates and rankings, learning curves, labels
needed) and of writing the HTML, JSON and Markdown files, plus their sizes.

Usage::

    python bench/report_1m.py [--items 83360] [--resamples 1000] [--out /tmp/judgecal-bench]
                              [--check-input] [--profile 30]

The generated ratings are kept in ``--out`` as Parquet so a rerun times the report only.
They are read back as ``judgecal report`` reads a file (``read_ratings``: checked and
normalised, timed apart), and ``build_report`` gets ``check_input=False`` as the
command passes it; ``--check-input`` checks them a second time, as before.
``--profile N`` runs ``build_report`` under cProfile (CPU-time clock: the machine is
shared, so wall-clock profiles mostly measure waiting) and prints the top N by
cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from pathlib import Path

from judgecal.data.io import read_ratings
from judgecal.datasets import make_judge_ratings
from judgecal.report import build_report, write_report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=83_360, help="items (x 12 rows each); a multiple of 40")
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--out", default="/tmp/judgecal-bench")
    ap.add_argument("--no-calibration", action="store_true", help="raw judge only (skip out-of-fold calibration)")
    ap.add_argument("--check-input", action="store_true", help="check the table again in build_report (as before)")
    ap.add_argument("--profile", type=int, default=0, help="print the top N functions of a cProfile (CPU time)")
    args = ap.parse_args()
    cache = Path(args.out) / f"ratings_{args.items}.parquet"
    t0 = time.perf_counter()
    if not cache.exists():
        ratings = make_judge_ratings(n_items=args.items, n_systems=4, random_state=0)
        cache.parent.mkdir(parents=True, exist_ok=True)
        ratings.to_parquet(cache, index=False)
    t_make = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    ratings = read_ratings(cache)
    t_read, c_read = time.perf_counter() - t0, time.process_time() - c0
    print(f"{len(ratings):,} ratings on {ratings['item_id'].nunique():,} items (made in {t_make:.1f} s; "
          f"read and checked as judgecal report does in {t_read:.1f} s wall, {c_read:.1f} s CPU)")
    profile = cProfile.Profile(time.process_time) if args.profile else None
    t0, c0 = time.perf_counter(), time.process_time()
    if profile:
        profile.enable()
    report = build_report(ratings, n_resamples=args.resamples, learning_repeats=10,
                          calibration="none" if args.no_calibration else "oof", check_input=args.check_input)
    if profile:
        profile.disable()
    t_build, c_build = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    paths = write_report(report, Path(args.out) / "report.html")
    t_write = time.perf_counter() - t0
    for step, seconds in report.timings.items():
        print(f"  {step:<20} {seconds:8.2f} s")
    print(f"build_report total     {t_build:8.2f} s wall, {c_build:.2f} s CPU of this process")
    print(f"write html/json/md     {t_write:8.2f} s  ({', '.join(f'{k} {p.stat().st_size / 1e3:.0f} kB' for k, p in paths.items())})")
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)


if __name__ == "__main__":
    main()

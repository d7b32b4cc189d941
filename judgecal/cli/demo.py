"""judgecal demo: the whole path on a ready data set, offline."""

from __future__ import annotations

import argparse

HELP = "run the whole path (validate -> calibrate -> report, pointwise and pairwise) on PARIKSHA, or the synthetic set"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", help="PARIKSHA release folder (default: $JUDGECAL_PARIKSHA, the cache, or a download)")
    parser.add_argument("--out", default="judgecal-demo", help="folder for what the demo writes (default ./judgecal-demo)")
    parser.add_argument("--offline", action="store_true", help="never try to download; fall back to the synthetic set")


def run(args: argparse.Namespace) -> int:
    from judgecal.demo import run_demo

    run_demo(args.data, out=args.out, download=not args.offline)
    return 0

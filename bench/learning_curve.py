"""Learning curve on PARIKSHA: how many labelled items does a language need?

Pooled (partial pooling toward the script and metric) against per-language
calibrators, for each language and labelled budget; the method is
:func:`judgecal.calibration.learning_curve.learning_curve`. Results in bench/README.md.

Usage: python bench/learning_curve.py [--sizes 25,50,100,200] [--languages hi,ta] [--out curve.csv]
       python bench/learning_curve.py --ratings ratings.parquet     # any ratings table
"""

from __future__ import annotations

import argparse
import sys
import time

from judgecal.calibration.learning_curve import SIZES, learning_curve, summarize_curve
from judgecal.data.io import read_ratings
from judgecal.datasets import load_pariksha


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pariksha", metavar="DIR", help="PARIKSHA release folder (default: found automatically)")
    parser.add_argument("--ratings", metavar="FILE", help="use this ratings file instead of PARIKSHA")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="labelled items per language")
    parser.add_argument("--languages", help="comma-separated languages (default: all)")
    parser.add_argument("--method", default="isotonic", choices=["isotonic", "ordinal"])
    parser.add_argument("--repeats", type=int, default=3, help="draws of the labelled items per fold (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", metavar="CSV", help="write every (language, metric, n, fold, draw, variant) row")
    args = parser.parse_args(argv)
    if args.ratings:
        ratings = read_ratings(args.ratings)
        source = args.ratings
    else:
        ratings = load_pariksha(args.pariksha, repair=True)
        source = "PARIKSHA (load_pariksha(repair=True))"
    sizes = tuple(int(s) for s in args.sizes.split(","))
    langs = args.languages.split(",") if args.languages else None
    start = time.perf_counter()
    curve = learning_curve(ratings, sizes=sizes, languages=langs, method=args.method, random_state=args.seed,
                           repeats=args.repeats,
                           progress=lambda msg: print(f"  {msg}", file=sys.stderr, flush=True))
    if args.out:
        curve.to_csv(args.out, index=False)
    summary = summarize_curve(curve)
    print(f"Learning curve on {source}, {args.method} calibrators, folds grouped by prompt, "
          f"{time.perf_counter() - start:.0f} s")
    print("Error against the held-out human consensus (MAE and mean squared error), mean over languages;")
    print("pooled_wins_* = languages where pooled <= per-language")
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

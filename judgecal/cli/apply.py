"""judgecal apply calibrator.json JUDGED --out calibrated.parquet: calibrate judge scores."""

from __future__ import annotations

import argparse

from judgecal.cli._common import add_input_options, load_from_args

HELP = "apply a saved calibrator to judge scores: adds calibrated score, prediction set and serving group"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("calibrator", help="calibrator file written by judgecal calibrate")
    parser.add_argument("judged", help="ratings file with the judge's rows (csv, tsv, jsonl, json, parquet)")
    parser.add_argument("--out", required=True, metavar="FILE", help="output file; format from the extension")
    parser.add_argument("--allow-mismatch", action="store_true",
                        help="apply even when the scores come from another judge or judge prompt")
    parser.add_argument("--no-randomize", action="store_true",
                        help="conservative prediction sets (no tie-breaking draw; sets can be larger)")
    add_input_options(parser)


def run(args: argparse.Namespace) -> int:
    import sys
    import warnings

    from judgecal.calibration import load_calibrator
    from judgecal.calibration.drift import JudgeDriftWarning
    from judgecal.data.io import write_ratings
    from judgecal.data.render import table_text
    from judgecal.sanitize import terminal_text

    cal = load_calibrator(args.calibrator)
    table = load_from_args(args, args.judged).table
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", JudgeDriftWarning)
        out = cal.apply(table, allow_mismatch=args.allow_mismatch, randomize=not args.no_randomize)
    for w in caught:  # never silently: scores outside what the calibrator saw are said on stderr
        print(f"judgecal apply: warning: {terminal_text(str(w.message))}", file=sys.stderr)
    write_ratings(out, args.out)
    done = out[out["calibration_level"].notna()]
    print(f"calibrated {len(done)} judge row(s) of {len(out)} with {args.calibrator} "
          f"(judge {cal.judge_!r}); {len(out) - len(done)} non-judge row(s) passed through unchanged")
    if len(done):
        served = done.groupby(["metric", "language", "script", "calibration_level"]).agg(
            rows=("score", "size"), raw_mean=("score", "mean"), calibrated_mean=("score_calibrated", "mean"),
        ).reset_index()
        print("\nServed by (language = its own group, script/metric = backed off):")
        print(table_text(served))
    print(f"\nwrote {args.out}")
    return 0

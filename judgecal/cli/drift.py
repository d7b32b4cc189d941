"""judgecal drift CALIBRATOR NEW_JUDGED [--anchors OLD_ANCHORS]: has the judge drifted from
what the calibrator was fitted on?"""

from __future__ import annotations

import argparse

from judgecal.cli._common import add_input_options, load_from_args

HELP = ("check new judge scores against a calibrator's fitting data: judge fingerprint, per-language "
        "distribution shift (G-test, Holm), paired change on re-scored anchor items")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("calibrator", help="calibrator file written by judgecal calibrate")
    parser.add_argument("judged", help="new judged rows (csv, tsv, jsonl, json, parquet)")
    parser.add_argument("--anchors", metavar="FILE",
                        help="anchor rows scored by the old judge (judgecal anchors output); their items must "
                             "be among the new judged rows, re-scored by the new judge")
    parser.add_argument("--judge", help="the judge (rater id) to check when the judged file holds several")
    parser.add_argument("--alpha", type=float, default=0.05, help="error rate of the flags (default 0.05)")
    parser.add_argument("--correction", choices=["holm", "bh"], default="holm",
                        help="multiplicity control across (metric, language): holm = family-wise error "
                             "(default), bh = false discovery rate")
    parser.add_argument("--seed", type=int, default=0, help="seed of the permutation tests for small counts")
    parser.add_argument("--out", metavar="FILE", help="also write the per-(metric, language) table (CSV)")
    parser.add_argument("--fail-on-drift", action="store_true",
                        help="exit with status 3 when anything is flagged (1 and 2 are input and usage errors)")
    add_input_options(parser)


def run(args: argparse.Namespace) -> int:
    from judgecal.calibration import load_calibrator
    from judgecal.calibration.drift import check_drift, report_text

    cal = load_calibrator(args.calibrator)
    judged = load_from_args(args, args.judged).table
    anchors = load_from_args(args, args.anchors).table if args.anchors else None
    report = check_drift(cal, judged, anchors=anchors, judge=args.judge, alpha=args.alpha,
                         correction=args.correction, random_state=args.seed)
    print(report_text(report))
    if args.out:
        from judgecal.data.io import write_ratings

        write_ratings(report.table(), args.out)
        print(f"\nwrote {args.out}")
    return 3 if args.fail_on_drift and report.flagged_languages else 0

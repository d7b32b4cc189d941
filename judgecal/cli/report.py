"""judgecal report RATINGS --out report.html [--battles BATTLES]: the full analysis as HTML, JSON and
Markdown, with a pairwise section when battles are given."""

from __future__ import annotations

import argparse

from judgecal.cli._analysis_args import add_common, fraction, load, positive_int
from judgecal.cli._battles_args import BATTLES_HELP, add_battle_options
from judgecal.cli._common import add_input_options

HELP = ("write a self-contained HTML report (plus JSON and Markdown summaries): agreement, bias, estimates, "
        "budget, and with --battles the pairwise battles")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common(parser)
    parser.add_argument("--out", default="report.html", help="HTML file to write (default report.html)")
    parser.add_argument("--json", metavar="FILE", help="JSON summary (default: beside --out, .json)")
    parser.add_argument("--markdown", metavar="FILE", help="Markdown summary (default: beside --out, .md)")
    cal = parser.add_mutually_exclusive_group()
    cal.add_argument("--calibrator", metavar="FILE",
                     help="apply this fitted calibrator for the 'after' numbers (default: out-of-fold refits)")
    cal.add_argument("--no-calibration", action="store_true", help="raw judge scores only")
    parser.add_argument("--confidence", type=fraction, default=0.95, help="agreement and bias intervals (default 0.95)")
    parser.add_argument("--estimate-confidence", type=fraction, default=0.9,
                        help="system estimates and PPI check (default 0.9)")
    parser.add_argument("--resamples", type=positive_int, default=1000, help="bootstrap resamples (default 1000)")
    parser.add_argument("--by-task", action="store_true", help="add agreement per task")
    parser.add_argument("--simulate-ppi", action="store_true",
                        help="add the PPI++ check by hiding labels (n = 50, 100, 200 per language)")
    parser.add_argument("--simulation-repeats", type=positive_int, default=200, help="repetitions of the check (default 200)")
    parser.add_argument("--target-width", type=float, default=0.3, help="interval width the annotation plan aims for")
    parser.add_argument("--title", default="judgecal report", help="report title")
    parser.add_argument("--drift", metavar="NEW_JUDGED",
                        help="add a judge drift section: these new judged rows checked against --calibrator")
    parser.add_argument("--drift-anchors", metavar="FILE",
                        help="with --drift: anchor rows scored by the old judge (judgecal anchors output)")
    pairwise = parser.add_argument_group(
        "pairwise battles", "add a Pairwise battles section (what `judgecal report-battles` shows); "
        "its leaderboards use --resamples, --seed and --estimate-confidence")
    pairwise.add_argument("--battles", metavar="PATH", help=BATTLES_HELP)
    add_battle_options(pairwise, prefix="battle-")
    add_input_options(parser)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from judgecal.cli._battles_args import (
        build_from_args,
        given_battle_options,
        print_summary,
        read_battles_from_args,
    )
    from judgecal.data.render import table_text
    from judgecal.errors import ConfigError
    from judgecal.report import build_report, write_report
    from judgecal.report.render import headline_rows

    if (args.drift or args.drift_anchors) and not args.calibrator:
        raise ConfigError("--drift checks new judged rows against a calibrator: give --calibrator too")
    if args.drift_anchors and not args.drift:
        raise ConfigError("--drift-anchors needs --drift NEW_JUDGED (the re-scored anchors are among them)")
    given = given_battle_options(args, prefix="battle-")
    if given and not args.battles:
        raise ConfigError(f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} for the pairwise section, "
                          "which needs the battles: give --battles PATH too")
    ratings, registry = load(args)
    pairwise = None
    if args.battles:  # read and computed before the ratings report: a bad battles file stops here
        battles = read_battles_from_args(args, args.battles, prefix="battle-")
        pairwise = build_from_args(args, battles, confidence=args.estimate_confidence,
                                   title=f"{args.title}: pairwise battles")
    from judgecal.cli._common import load_from_args

    drift_judged = load_from_args(args, args.drift).table if args.drift else None
    drift_anchors = load_from_args(args, args.drift_anchors).table if args.drift_anchors else None
    notes = []
    if Path(args.ratings).is_dir():
        notes.append(f"Loaded from the PARIKSHA release at {args.ratings}"
                     + (" with repair (rows whose prompt ids belong to another language reassigned)." if args.repair
                        else " without repair."))
    report = build_report(
        ratings,
        calibration="none" if args.no_calibration else "oof",
        calibrator=args.calibrator,
        judge=args.judge,
        confidence=args.confidence,
        estimate_confidence=args.estimate_confidence,
        n_resamples=args.resamples,
        by_task=args.by_task,
        simulate_ppi=args.simulate_ppi,
        simulation_repeats=args.simulation_repeats,
        target_width=args.target_width,
        random_state=args.seed,
        check_input=False,  # load() checked and normalised the table
        notes=notes,
        title=args.title,
        registry=registry,
        drift_judged=drift_judged,
        drift_anchors=drift_anchors,
        pairwise=pairwise,
    )
    header, rows = headline_rows(report.headline, report.meta["calibrated"])
    import pandas as pd

    print(table_text(pd.DataFrame(rows, columns=header)))
    if pairwise is not None:
        print("\nPairwise battles per language (raw judge → calibrated judge)")
        print_summary(pairwise)
    paths = write_report(report, args.out, json_path=args.json, markdown_path=args.markdown,
                         leaderboards_csv=args.leaderboards)
    for kind, path in paths.items():
        print(f"wrote {kind}: {path}")
    return 0

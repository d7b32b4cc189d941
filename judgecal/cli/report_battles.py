"""judgecal report-battles BATTLES --out battles.html: the pairwise report (HTML, JSON, Markdown)."""

from __future__ import annotations

import argparse

from judgecal.cli._analysis_args import fraction, positive_int
from judgecal.cli._battles_args import BATTLES_HELP, add_battle_options

HELP = ("write the pairwise report: per-language agreement, ties, position bias and self-preference before and "
        "after calibration, and leaderboards (natives, raw judge, calibrated, human-anchored) side by side")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("battles", help=BATTLES_HELP)
    parser.add_argument("--out", default="battles.html", help="HTML file to write (default battles.html)")
    parser.add_argument("--json", metavar="FILE", help="JSON summary (default: beside --out, .json)")
    parser.add_argument("--markdown", metavar="FILE", help="Markdown summary (default: beside --out, .md)")
    add_battle_options(parser)
    parser.add_argument("--resamples", type=positive_int, default=1000,
                        help="bootstrap resamples, clustered by prompt (default 1000)")
    parser.add_argument("--confidence", type=fraction, default=0.9, help="leaderboard interval level (default 0.9)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--title", default="judgecal pairwise report", help="report title")


def run(args: argparse.Namespace) -> int:
    from judgecal.cli._battles_args import build_from_args, print_summary, read_battles_from_args
    from judgecal.report.render_battles import write_battles_report

    battles = read_battles_from_args(args, args.battles)
    report = build_from_args(args, battles, confidence=args.confidence, title=args.title)
    print_summary(report)
    paths = write_battles_report(report, args.out, json_path=args.json, markdown_path=args.markdown,
                                 leaderboards_csv=args.leaderboards)
    for kind, path in paths.items():
        print(f"wrote {kind}: {path}")
    return 0

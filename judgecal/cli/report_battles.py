"""judgecal report-battles BATTLES --out battles.html: the pairwise report (HTML, JSON, Markdown)."""

from __future__ import annotations

import argparse

from judgecal.cli._analysis_args import columns, fraction, positive_int

HELP = ("write the pairwise report: per-language agreement, ties, position bias and self-preference before and "
        "after calibration, and leaderboards (natives, raw judge, calibrated, human-anchored) side by side")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("battles", help="battles file (csv, tsv, jsonl, json, parquet; docs/pairwise.md) "
                                        "or a PARIKSHA release folder")
    parser.add_argument("--out", default="battles.html", help="HTML file to write (default battles.html)")
    parser.add_argument("--json", metavar="FILE", help="JSON summary (default: beside --out, .json)")
    parser.add_argument("--markdown", metavar="FILE", help="Markdown summary (default: beside --out, .md)")
    parser.add_argument("--leaderboards", metavar="FILE", help="also write the leaderboards as CSV")
    parser.add_argument("--battle-calibrator", metavar="FILE",
                        help="apply this fitted pairwise calibrator for the 'after' numbers "
                             "(default: held-out probabilities from nested CV grouped by prompt)")
    parser.add_argument("--judge", help="the judge's rater id when the file holds several judges")
    parser.add_argument("--judge-family", metavar="REGEX",
                        help="systems of the judge's own family, for self-preference (e.g. gpt for a GPT judge)")
    parser.add_argument("--sources", type=columns, default=("human", "judge", "calibrated", "anchored"),
                        help="leaderboards: comma-separated human, judge, calibrated, anchored (default all)")
    parser.add_argument("--resamples", type=positive_int, default=1000,
                        help="bootstrap resamples, clustered by prompt (default 1000)")
    parser.add_argument("--confidence", type=fraction, default=0.9, help="leaderboard interval level (default 0.9)")
    parser.add_argument("--alpha", type=float, default=1.0,
                        help="ridge penalty on log-strengths (default 1; 0 fails when a system never loses)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--title", default="judgecal pairwise report", help="report title")


def run(args: argparse.Namespace) -> int:
    from judgecal.cli.leaderboard import _read
    from judgecal.data.render import table_text
    from judgecal.errors import ConfigError
    from judgecal.pairwise.overview import build_battles_report
    from judgecal.report.render_battles import summary_rows, write_battles_report

    if args.alpha < 0:
        raise ConfigError(f"--alpha must be >= 0, got {args.alpha}")
    battles = _read(args.battles)
    report = build_battles_report(battles, calibrator=args.battle_calibrator, judge=args.judge,
                                  judge_family=args.judge_family, sources=tuple(args.sources),
                                  n_resamples=args.resamples, confidence=args.confidence, alpha=args.alpha,
                                  random_state=args.seed, title=args.title)
    import pandas as pd

    header, rows = summary_rows(report.summary)
    print(table_text(pd.DataFrame(rows, columns=header)))
    paths = write_battles_report(report, args.out, json_path=args.json, markdown_path=args.markdown,
                                 leaderboards_csv=args.leaderboards)
    for kind, path in paths.items():
        print(f"wrote {kind}: {path}")
    return 0

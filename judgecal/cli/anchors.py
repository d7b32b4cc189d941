"""judgecal anchors RATINGS --per-language N --out anchors.csv: pick anchor items to re-score
whenever the judge or its prompt changes."""

from __future__ import annotations

import argparse

from judgecal.cli._analysis_args import load
from judgecal.cli._common import add_input_options

HELP = "pick a stratified, seeded set of human-labelled anchor items per language (re-score them after a judge change)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ratings", help="ratings file with human and judge rows (or a PARIKSHA release folder)")
    parser.add_argument("--per-language", type=int, required=True, metavar="N", help="anchor items per language")
    parser.add_argument("--out", required=True, metavar="FILE",
                        help="anchor rows (every human and judge row of the chosen items; format from the extension)")
    parser.add_argument("--metric", help="metric whose (judge level, human consensus) strata are sampled "
                                         "(default: the first metric, by name, with judge and human scores)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the draw within strata (default 0)")
    parser.add_argument("--repair", action="store_true",
                        help="PARIKSHA folders: reassign rows whose prompt ids belong to another language")
    add_input_options(parser)


def run(args: argparse.Namespace) -> int:
    from judgecal.calibration.anchors import select_anchors
    from judgecal.data.io import write_ratings
    from judgecal.data.render import table_text

    ratings, registry = load(args)
    anchors, summary = select_anchors(ratings, args.per_language, metric=args.metric, random_state=args.seed,
                                      metrics=registry)
    write_ratings(anchors, args.out)
    per = summary.groupby("language")[["available", "chosen"]].sum()
    short = per[per["chosen"] < args.per_language]
    print(f"chose {int(summary['chosen'].sum())} anchor item(s) in {len(per)} language(s), stratified by "
          "(judge level, human consensus):")
    print(table_text(summary))
    for lang, row in short.iterrows():
        print(f"note: {lang} has only {int(row['available'])} judged, human-labelled item(s): all taken")
    print(f"\nwrote {args.out} ({len(anchors)} rows). Re-score these items with the new judge, then: "
          f"judgecal drift CALIBRATOR NEW_JUDGED --anchors {args.out}")
    return 0

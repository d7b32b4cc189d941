"""The pairwise report's options and how they are read, shared by `judgecal report-battles`
and `judgecal report --battles` (no heavy imports at module level).

Both commands take the same options under one definition. Three of them are named
differently in `report`, where `--judge` already names the ratings' judge and alpha is
Krippendorff's: `--battle-judge`, `--battle-sources` and `--battle-alpha` there for
`--judge`, `--sources` and `--alpha` of `report-battles` (``prefix="battle-"``).
"""

from __future__ import annotations

import argparse

from judgecal.cli._analysis_args import columns
from judgecal.errors import ConfigError

BATTLES_HELP = "battles file (csv, tsv, jsonl, json, parquet; docs/pairwise.md) or a PARIKSHA release folder"
DEFAULT_SOURCES = ("human", "judge", "calibrated", "anchored")
DEFAULT_ALPHA = 1.0


def add_battle_options(parser, *, prefix: str = "") -> None:
    """The options of the pairwise analysis on ``parser`` (a parser or an argument group).

    Values land in ``args.battle_calibrator``, ``battle_judge``, ``judge_family``,
    ``battle_sources``, ``battle_alpha`` and ``leaderboards``; options not given are None
    (so `report` can tell which were given without --battles; :func:`build_from_args`
    fills in the defaults).
    """
    parser.add_argument("--battle-calibrator", metavar="FILE",
                        help="apply this fitted pairwise calibrator for the 'after' numbers "
                             "(default: held-out probabilities from nested CV grouped by prompt)")
    parser.add_argument(f"--{prefix}judge", dest="battle_judge", metavar="ID",
                        help="the judge's rater id when the battles hold several judges")
    parser.add_argument("--judge-family", metavar="REGEX",
                        help="systems of the judge's own family, for self-preference (e.g. gpt for a GPT judge)")
    parser.add_argument(f"--{prefix}sources", dest="battle_sources", type=columns, metavar="SOURCES",
                        help="leaderboards: comma-separated human, judge, calibrated, anchored (default all)")
    parser.add_argument(f"--{prefix}alpha", dest="battle_alpha", type=float, metavar="ALPHA",
                        help=f"ridge penalty on the leaderboards' log-strengths (default {DEFAULT_ALPHA:g}; "
                             "0 fails when a system never loses)")
    parser.add_argument("--leaderboards", metavar="FILE", help="also write the leaderboards as CSV")


def given_battle_options(args: argparse.Namespace, *, prefix: str = "") -> list[str]:
    """The pairwise options given on the command line, by their flags."""
    flags = {"battle_calibrator": "--battle-calibrator", "battle_judge": f"--{prefix}judge",
             "judge_family": "--judge-family", "battle_sources": f"--{prefix}sources",
             "battle_alpha": f"--{prefix}alpha", "leaderboards": "--leaderboards"}
    return [flag for dest, flag in flags.items() if getattr(args, dest, None) is not None]


def read_battles_from_args(args: argparse.Namespace, path: str, *, prefix: str = ""):
    """The normalised battles table at ``path`` (file or PARIKSHA folder, as `judgecal leaderboard`
    reads it), after checking the options that need no data: errors come before any work."""
    from judgecal.cli.leaderboard import _read
    from judgecal.data.schema import judge_mask

    alpha = _alpha(args)
    if alpha < 0:
        raise ConfigError(f"--{prefix}alpha must be >= 0, got {alpha:g}")
    battles = _read(path)
    # The judge now, with this command's flag in the message, not after minutes of work.
    judge_mask(battles, args.battle_judge, rows="judge verdicts", empty=f"{path}: no judge verdicts",
               which=f"name one with --{prefix}judge")
    return battles


def build_from_args(args: argparse.Namespace, battles, *, confidence: float, title: str):
    """:func:`judgecal.pairwise.overview.build_battles_report` with the options (and the
    command's --resamples and --seed)."""
    from judgecal.pairwise.overview import build_battles_report

    return build_battles_report(battles, calibrator=args.battle_calibrator, judge=args.battle_judge,
                                judge_family=args.judge_family,
                                sources=tuple(args.battle_sources or DEFAULT_SOURCES),
                                n_resamples=args.resamples, confidence=confidence, alpha=_alpha(args),
                                random_state=args.seed, title=title)


def print_summary(report) -> None:
    """The per-language table (raw → calibrated) in the terminal, names made safe."""
    import pandas as pd

    from judgecal.data.render import table_text
    from judgecal.report.render_battles import summary_rows

    header, rows = summary_rows(report.summary)
    print(table_text(pd.DataFrame(rows, columns=header)))


def _alpha(args: argparse.Namespace) -> float:
    return DEFAULT_ALPHA if args.battle_alpha is None else args.battle_alpha

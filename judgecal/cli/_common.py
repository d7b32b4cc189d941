"""Options shared by subcommands that read a ratings file (no heavy imports here)."""

from __future__ import annotations

import argparse

from judgecal.errors import ConfigError, InputError, Problem


def add_input_options(parser: argparse.ArgumentParser) -> None:
    """Column mapping, metric declarations, format and encoding of a ratings file."""
    g = parser.add_argument_group("reading the ratings file")
    g.add_argument("--map", action="append", default=[], metavar="COLUMN=FILE_COLUMN",
                   help="take a ratings column from a differently named file column; join several with + "
                        "(--map item_id=prompt_id+model)")
    g.add_argument("--set", action="append", default=[], metavar="COLUMN=VALUE",
                   help="give every row this value (--set rater_kind=human)")
    g.add_argument("--wide", action="append", default=[], metavar="METRIC=FILE_COLUMN",
                   help="wide files: this file column holds the scores of METRIC (repeat per metric)")
    g.add_argument("--wide-text", action="append", default=[], metavar="METRIC=FILE_COLUMN",
                   help="wide files: this file column holds the rater's reasoning for METRIC")
    g.add_argument("--mapping", metavar="FILE", help="column mapping file (TOML or JSON; see docs/ratings-table.md)")
    g.add_argument("--metrics", metavar="FILE", help="declarations of extra metric scales (TOML or JSON)")
    add_levels_option(g)
    g.add_argument("--drop-bad-rows", action="store_true",
                   help="leave out rows that cannot be used (a score off its scale, an unknown language...) and "
                        "go on; each row left out is listed with its reason on stderr")
    g.add_argument("--format", choices=["csv", "tsv", "jsonl", "json", "parquet"], help="file format (default: from the extension)")
    g.add_argument("--encoding", default="utf-8", help="text encoding of CSV/TSV/JSON files (default utf-8)")


def add_levels_option(parser) -> None:
    parser.add_argument("--levels", action="append", default=[], metavar="METRIC=LEVELS",
                        help="declare a metric that is not built in by its levels: an integer range "
                             "(--levels toxicity=1..5) or a list (--levels toxicity=0,1,2); ordinal, higher is "
                             "better (declare polarity and labels with --metrics FILE); repeat per metric")


def registry_from_args(args: argparse.Namespace):
    """The metric registry of --metrics FILE and --levels."""
    from judgecal.data.metrics import build_registry

    return build_registry(getattr(args, "metrics", None), getattr(args, "levels", None) or ())


def load_from_args(args: argparse.Namespace, path, *, on_bad_rows: str | None = None, quiet: bool = False):
    """Read ``path`` as the options say. Returns a CheckResult.

    ``on_bad_rows`` defaults to ``"drop"`` with --drop-bad-rows; rows left out
    are then listed on stderr with their reasons (unless ``quiet``: the caller
    lists them itself).
    """
    import sys

    from judgecal.data.io import ColumnMapping, load_ratings

    if getattr(args, "repair", False):  # asked for, but a file has no release layout to repair by: say so

        raise ConfigError(f"--repair works on a PARIKSHA release folder, and {path} is a file: nothing would be "
                          "repaired. Give the release folder, or a table written from "
                          "judgecal.datasets.load_pariksha(folder, repair=True)")

    mapping = ColumnMapping.from_file(args.mapping) if args.mapping else ColumnMapping()
    mapping = mapping.merged(ColumnMapping.from_pairs(args.map, args.set, args.wide, args.wide_text))
    if on_bad_rows is None:
        on_bad_rows = "drop" if getattr(args, "drop_bad_rows", False) else "error"
    result = load_ratings(path, mapping, metrics=registry_from_args(args), fmt=args.format, encoding=args.encoding,
                          on_bad_rows=on_bad_rows)
    if len(result.dropped) and not quiet:
        print(dropped_text(result, path), file=sys.stderr)
    if result.table.empty and on_bad_rows == "drop" and not quiet:
        from judgecal.errors import InputError

        raise InputError(result.problems, summary=f"{path}: no usable rows ({result.n_input_rows} read, all left "
                                                  "out)", hint=result.hint)
    return result


def dropped_text(result, path) -> str:
    """The rows left out of ``path``, each with its reason (grouped by kind past 50)."""
    from judgecal.data.io import dropped_summary
    from judgecal.errors import InputError

    text = str(InputError(result.problems, summary=dropped_summary(result, path).replace("drop_bad_rows",
                                                                                        "--drop-bad-rows"),
                          hint=result.hint))
    return text


def load_table(args: argparse.Namespace, path):
    """A ratings table from a file, or from a PARIKSHA release folder."""
    from pathlib import Path

    p = Path(path)
    if p.is_dir():
        from judgecal.datasets.pariksha import is_pariksha_release, load_pariksha

        if is_pariksha_release(p):
            return load_pariksha(p, repair=getattr(args, "repair", False))

        raise InputError(
            Problem("is a folder, but not a PARIKSHA release (karya_eval/, gpt_eval/, outputs/); "
                    "give a ratings file (csv, tsv, jsonl, json, parquet) or a release folder", file=str(p)),
            summary="cannot read input",
        )
    return load_from_args(args, path).table


def all_dropped(result, path, rows: str = "rows") -> bool:
    """True, after saying so and listing why, when no row of a load ``result`` was usable."""
    if not result.table.empty:
        return False
    print(f"{path}: no usable {rows} ({result.n_input_rows} read, all dropped)")
    print_problems(result.problems)
    return True


def print_dropped(dropped, problems) -> None:
    """How many rows ``--drop-bad-rows`` left out, and why (nothing when none were)."""
    if dropped is not None and len(dropped):
        print(f"\n{len(dropped)} row(s) could not be used and were left out:")
        print_problems(problems)


def print_problems(problems, limit: int = 50) -> None:
    """Print up to ``limit`` problems, one a line, made safe for a terminal (they quote the file's values)."""
    from judgecal.sanitize import terminal_text

    for p in problems[:limit]:
        print(f"  - {terminal_text(p)}")
    if len(problems) > limit:
        print(f"  ... {len(problems) - limit} more problems (use --json for all)")

"""judgecal validate FILE: check a ratings table and describe it per language."""

from __future__ import annotations

import argparse

from judgecal.cli._common import (
    add_input_options,
    all_dropped,
    load_from_args,
    load_table,
    print_dropped,
)
from judgecal.sanitize import terminal_text

HELP = "check a ratings file (or a PARIKSHA folder) and report per language, including script mismatches"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="ratings file (csv, tsv, jsonl, json, parquet) or a PARIKSHA release folder")
    parser.add_argument("--repair", action="store_true",
                        help="PARIKSHA folders: reassign rows whose prompt ids belong to another language")
    parser.add_argument("--json", metavar="OUT", help="also write the report as JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any script mismatch is found")
    parser.add_argument("--battles", action="store_true",
                        help="check a pairwise battles table (docs/pairwise.md); files whose columns include "
                             "verdict and shown (and no score) are taken as battles without it; with a PARIKSHA "
                             "folder, checks its pairwise release")
    add_input_options(parser)


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from judgecal._atomic import atomic_write_text
    from judgecal.data.render import table_text
    from judgecal.data.validate import validate_ratings

    path = Path(args.path)
    if args.battles or _looks_like_battles(path, args):
        from judgecal.cli._validate_battles import run_battles

        return run_battles(args, path)
    dropped = None
    problems = []
    if path.is_dir():

        table = load_table(args, path)
    else:

        result = load_from_args(args, path, quiet=True)  # validate lists what it leaves out itself
        table, dropped, problems = result.table, result.dropped, result.problems
        if all_dropped(result, path):
            return 1
    report = validate_ratings(table)
    print(f"{path}: {len(table)} ratings rows, {table['item_id'].nunique()} items, "
          f"{table['language'].nunique()} languages, metrics {', '.join(sorted(table['metric'].unique()))}")
    print_dropped(dropped, problems)
    print("\nPer language:")
    print(table_text(report.summary))
    print("\nScores given (rows per level):")
    pivot = report.scores.pivot_table(index=["language", "metric", "rater_kind"], columns="score", values="rows", fill_value=0).astype(int)
    pivot.columns = [f"{c:g}" for c in pivot.columns]
    print(table_text(pivot.reset_index()))
    miss = report.missing[report.missing["missing"] > 0]
    print("\nMissing values:")
    print(table_text(miss))
    print("\nDeclared script vs the script of the texts (mismatched row-texts):")
    print(table_text(report.script_mismatches))
    print("\nFindings:")
    for f in report.findings or ["none"]:
        print(f"  - {terminal_text(f)}")
    if args.json:
        out = report.to_dict()
        out["dropped"] = [] if dropped is None else dropped.to_dict(orient="records")
        out["problems"] = [str(p) for p in problems]
        atomic_write_text(args.json, json.dumps(out, ensure_ascii=False, indent=2, default=str))
        print(f"\nwrote {args.json}")
    if dropped is not None and len(dropped):
        return 1
    return 1 if (args.strict and len(report.script_mismatches)) else 0


def _looks_like_battles(path, args) -> bool:
    """A file (not a folder) whose columns, after --map, include verdict and shown but no score."""
    if path.is_dir() or not path.exists():
        return False
    from judgecal.data.tables import read_table
    from judgecal.errors import InputError

    try:
        df, _ = read_table(path, args.format, encoding=args.encoding)
    except InputError:
        return False  # the ratings reader reports what is wrong with the file
    names = set(df.columns) | {m.split("=", 1)[0].strip() for m in [*args.map, *args.set] if "=" in m}
    return {"verdict", "shown"} <= names and "score" not in names

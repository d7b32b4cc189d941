"""``judgecal validate`` on a battles table: the contract's checks, then what the table holds per language.

Exit codes as for ratings: 0 when the table is usable; 1 when rows were left out
(``--drop-bad-rows``) or, with ``--strict``, when a response is in another
script than declared; an InputError listing every problem (exit 2) otherwise.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def run_battles(args: argparse.Namespace, path: Path) -> int:
    import json

    from judgecal._atomic import atomic_write_text
    from judgecal.cli._common import all_dropped, print_dropped
    from judgecal.data.battles import response_findings
    from judgecal.data.render import table_text
    from judgecal.pairwise.describe import describe_battles

    dropped, problems = None, []
    if path.is_dir():
        from judgecal.datasets import load_pariksha_battles

        table = load_pariksha_battles(path)
    else:
        result = _load(args, path)
        table, dropped, problems = result.table, result.dropped, result.problems
        if all_dropped(result, path, "battles rows"):
            return 1
    summary = describe_battles(table)
    findings = response_findings(table)
    print(f"{path}: battles table, {len(table)} rows, {table['pair_id'].nunique()} pairs, "
          f"{table['language'].nunique()} languages")
    print_dropped(dropped, problems)
    print("\nPer language:")
    print(table_text(summary, floatfmt="{:.2f}"))
    print("\nResponses blank or in another script than declared (pairs):")
    print(table_text(findings) if len(findings) else "  none")
    if args.json:
        out = {"kind": "battles", "summary": json.loads(summary.to_json(orient="records", force_ascii=False)),
               "response_findings": json.loads(findings.to_json(orient="records", force_ascii=False)),
               "dropped": [] if dropped is None else json.loads(dropped.to_json(orient="records", force_ascii=False)),
               "problems": [str(p) for p in problems]}
        atomic_write_text(args.json, json.dumps(out, ensure_ascii=False, indent=2, default=str))
        print(f"\nwrote {args.json}")
    if dropped is not None and len(dropped):
        return 1
    return 1 if (args.strict and (findings["finding"] == "other script").any()) else 0


def _load(args: argparse.Namespace, path: Path):
    from judgecal.data.io import ColumnMapping
    from judgecal.errors import ConfigError
    from judgecal.pairwise.io import load_battles

    if args.repair:
        raise ConfigError(f"--repair works on a PARIKSHA release folder, and {path} is a file")
    if args.wide or args.wide_text or args.metrics:
        raise ConfigError("--wide, --wide-text and --metrics describe ratings files, not battles")
    mapping = ColumnMapping.from_file(args.mapping) if args.mapping else ColumnMapping()
    mapping = mapping.merged(ColumnMapping.from_pairs(args.map, args.set, [], []))
    return load_battles(path, mapping, fmt=args.format, encoding=args.encoding,
                        on_bad_rows="drop" if args.drop_bad_rows else "error")

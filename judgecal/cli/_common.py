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
    g.add_argument("--format", choices=["csv", "tsv", "jsonl", "json", "parquet"], help="file format (default: from the extension)")
    g.add_argument("--encoding", default="utf-8", help="text encoding of CSV/TSV/JSON files (default utf-8)")


def load_from_args(args: argparse.Namespace, path, *, on_bad_rows: str = "error"):
    """Read ``path`` as the options say. Returns a CheckResult."""
    from judgecal.data.io import ColumnMapping, load_ratings
    from judgecal.data.metrics import DEFAULT_REGISTRY, MetricRegistry, load_metric_file

    if getattr(args, "repair", False):  # asked for, but a file has no release layout to repair by: say so

        raise ConfigError(f"--repair works on a PARIKSHA release folder, and {path} is a file: nothing would be "
                          "repaired. Give the release folder, or a table written from "
                          "judgecal.datasets.load_pariksha(folder, repair=True)")

    mapping = ColumnMapping.from_file(args.mapping) if args.mapping else ColumnMapping()
    mapping = mapping.merged(ColumnMapping.from_pairs(args.map, args.set, args.wide, args.wide_text))
    registry = MetricRegistry(load_metric_file(args.metrics)) if args.metrics else DEFAULT_REGISTRY
    return load_ratings(path, mapping, metrics=registry, fmt=args.format, encoding=args.encoding, on_bad_rows=on_bad_rows)


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

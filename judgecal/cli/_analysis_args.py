"""Options shared by `judgecal report`, `agreement` and `estimate` (no heavy imports)."""

from __future__ import annotations

import argparse

from judgecal.cli._common import load_table, registry_from_args
from judgecal.errors import ConfigError


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ratings", help="ratings file (csv, tsv, jsonl, json, parquet) or a PARIKSHA release folder")
    parser.add_argument("--repair", action="store_true",
                        help="PARIKSHA folders: reassign rows whose prompt ids belong to another language")
    parser.add_argument("--judge", help="analyse this judge (rater id) only; default: every judge, but "
                                          "calibration and the annotation planner need one when the file "
                                          "holds several")
    parser.add_argument("--seed", type=int, default=0, help="random seed of resampling (default 0)")


def fraction(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def columns(text: str) -> tuple[str, ...]:
    out = tuple(c.strip() for c in text.split(",") if c.strip())
    if not out:
        raise argparse.ArgumentTypeError("expected comma-separated column names")
    return out


def load(args: argparse.Namespace):
    """(ratings table, metric registry) as the options say."""
    return load_table(args, args.ratings), registry_from_args(args)


def write_table(frame, path: str) -> None:
    """CSV, JSON (records) or Parquet by extension, replaced atomically; CSV text
    cells a spreadsheet would run as formulas get a leading quote."""
    from pathlib import Path

    from judgecal._atomic import atomic_path
    from judgecal.data.delimited import write_delimited

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".json", ".parquet"):
        raise ConfigError(f"cannot write {path}: use .csv, .json or .parquet")
    if suffix == ".csv":  # formula-like text cells get a leading quote (spreadsheets)
        write_delimited(frame, p)
    else:
        with atomic_path(p) as tmp:
            if suffix == ".json":
                frame.to_json(tmp, orient="records", force_ascii=False, indent=1)
            else:
                frame.to_parquet(tmp, index=False)
    print(f"wrote {p}")

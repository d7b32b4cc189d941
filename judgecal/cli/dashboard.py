"""judgecal dashboard RATINGS: the Streamlit dashboard on 127.0.0.1."""

from __future__ import annotations

import argparse

HELP = "open the calibration dashboard (Streamlit) for a ratings file or PARIKSHA folder"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from judgecal.dashboard.launch import DEFAULT_MAX_UPLOAD_MB  # stdlib only: keeps the CLI light

    parser.add_argument("ratings", nargs="?",
                        help="ratings file (csv, tsv, jsonl, json, parquet) or a PARIKSHA release folder; "
                             "without it, upload a file from the browser")
    parser.add_argument("--calibrator", metavar="FILE", help="fitted calibrator (JSON from `judgecal calibrate`)")
    parser.add_argument("--battles", metavar="PATH",
                        help="pairwise battles file or PARIKSHA folder, shown on the Battles page")
    parser.add_argument("--battle-calibrator", metavar="FILE",
                        help="fitted pairwise calibrator for the Battles page (default: held-out nested CV)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to serve on (default 127.0.0.1: this machine only); any other address "
                             "is reachable from other machines and prints a warning: the dashboard has no login")
    parser.add_argument("--port", type=int, default=8501, help="port to serve on (default 8501)")
    parser.add_argument("--max-upload-mb", type=_megabytes, default=DEFAULT_MAX_UPLOAD_MB, metavar="MB",
                        help=f"largest file a browser may upload, in MB (default {DEFAULT_MAX_UPLOAD_MB})")
    parser.add_argument("--repair", action="store_true",
                        help="PARIKSHA folders: reassign rows whose prompt ids belong to another language")


def _megabytes(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of MB, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 MB, got {text}")
    return value


def run(args: argparse.Namespace) -> int:
    from judgecal.dashboard.launch import run_dashboard

    return run_dashboard(args.ratings, args.calibrator, host=args.host, port=args.port, repair=args.repair,
                         max_upload_mb=args.max_upload_mb, battles=args.battles,
                         battle_calibrator=args.battle_calibrator)

"""judgecal fetch-pariksha: download the PARIKSHA release at its pinned commit."""

from __future__ import annotations

import argparse

HELP = "download the PARIKSHA release (pinned commit, checksummed) into the user cache"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dest", help="folder to download into (default: the user cache)")
    parser.add_argument("--base-url", help="a mirror of the repository's raw files at the pinned commit")


def run(args: argparse.Namespace) -> int:
    from judgecal.datasets.fetch import BASE_URL, fetch_pariksha

    def progress(done: int, total: int, rel: str) -> None:
        print(f"[{done}/{total}] {rel}")

    folder = fetch_pariksha(args.dest, base_url=args.base_url or BASE_URL, progress=progress)
    print(f"PARIKSHA is in {folder} (all files verified)")
    return 0

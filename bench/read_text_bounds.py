"""Reading CSV as a stream, and refusing input without bounds: time and peak memory.

Writes (in a temporary folder) a CSV of N ratings rows whose responses are about
2 KB each, half of them quoted values spanning two lines with quotes and commas,
and a file of one 200 MB line with no line end. Each is read in a child process
(so that peak memory is its own), reporting seconds, peak RSS above the import,
and for the refused file the length of the error message.

Run:  python bench/read_text_bounds.py [--rows 30000] [--line-mb 200]
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
from judgecal.data.tables import read_table
from judgecal.errors import InputError
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
try:
    df, rows = read_table(sys.argv[1])
    what = f"{len(df):,} rows read"
except InputError as exc:
    what = f"refused, message {len(str(exc)):,} characters"
seconds = time.perf_counter() - t0
peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
print(f"{seconds:.2f} s, peak RSS above the import {peak:,.0f} MB, {what}")
"""


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["item_id", "language", "metric", "rater", "rater_kind", "score", "response"])
        for k in range(rows):
            text = ("answer, with \"quotes\"\nand a second line " if k % 2 else "plain answer ") + "x" * 2000
            w.writerow([f"i{k}", "hi", "la", "w1", "human", k % 3, text])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=30_000)
    ap.add_argument("--line-mb", type=int, default=200)
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "ratings.csv"
        write_csv(big, args.rows)
        line = Path(tmp) / "one_line.csv"
        with line.open("w") as fh:
            for _ in range(args.line_mb):
                fh.write("a," * 500_000)
        for label, path in ((f"CSV, {args.rows:,} rows", big), (f"one {args.line_mb} MB line", line)):
            size = path.stat().st_size / 1e6
            out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True)
            print(f"{label} ({size:,.1f} MB): {out.stdout.strip() or out.stderr.strip()[-300:]}")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

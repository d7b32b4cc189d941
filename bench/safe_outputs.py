"""What safe outputs cost: CSV formula neutralisation and atomic writes.

Builds a ratings table of N rows by repeating PARIKSHA (texts included), then
times: writing it as CSV (neutralised, atomic) and the neutralisation pass
alone; reading it back (read_table, which undoes the quotes) and the restore
pass alone; and writing a calibrator file atomically (temp file, fsync, rename)
against a plain in-place write.

    python bench/safe_outputs.py --rows 500000
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def timed(label: str, fn, n: int | None = None):
    start = time.perf_counter()
    out = fn()
    took = time.perf_counter() - start
    rate = f"  ({n / took:,.0f} rows/s)" if n else ""
    print(f"{label:<48} {took:8.2f} s{rate}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--pariksha", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pariksha"))
    parser.add_argument("--saves", type=int, default=20, help="calibrator saves to time")
    args = parser.parse_args()

    from judgecal._atomic import atomic_write_text
    from judgecal.calibration import GroupedCalibrator
    from judgecal.calibration.persist import calibrator_to_dict, save_calibrator
    from judgecal.data.delimited import neutralize_formulas, restore_formulas
    from judgecal.data.io import read_table, write_ratings
    from judgecal.datasets import load_pariksha

    base = load_pariksha(args.pariksha)
    reps = -(-args.rows // len(base))
    table = pd.concat([base] * reps, ignore_index=True).head(args.rows)
    # a few hostile cells, so that both passes have work to do
    table.loc[table.index[::1000], "justification"] = "=HYPERLINK(\"http://127.0.0.1\")"
    print(f"{len(table):,} rows x {len(table.columns)} columns")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ratings.csv"
        timed("neutralize_formulas alone", lambda: neutralize_formulas(table), len(table))
        timed("write_ratings(.csv): neutralised + atomic", lambda: write_ratings(table, path), len(table))
        print(f"{'':<48} {path.stat().st_size / 1e6:8.1f} MB")
        back, _ = timed("read_table(.csv): restores the quotes", lambda: read_table(path), len(table))
        timed("restore_formulas alone", lambda: restore_formulas(back), len(table))

        cal = GroupedCalibrator(method="isotonic").fit(base)
        target = Path(folder) / "calibrator.json"
        text = json.dumps(calibrator_to_dict(cal), ensure_ascii=False, indent=1) + "\n"
        print(f"calibrator file: {len(text) / 1e3:.0f} kB, {args.saves} saves each")
        timed("save_calibrator (encode + atomic write)", lambda: [save_calibrator(cal, target) for _ in range(args.saves)])
        timed("atomic_write_text (temp, fsync, rename)", lambda: [atomic_write_text(target, text) for _ in range(args.saves)])
        timed("plain write_text of the same JSON (in place)", lambda: [target.write_text(text, encoding="utf-8") for _ in range(args.saves)])


if __name__ == "__main__":
    main()

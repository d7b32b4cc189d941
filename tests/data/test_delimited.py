"""CSV/TSV outputs are safe to open in a spreadsheet (OWASP CSV injection): text
cells that a spreadsheet would run get a leading quote, numbers stay numbers,
judgecal's readers give back exactly what was written, and Parquet/JSONL keep the
raw text."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from judgecal.data.io import read_table, write_ratings

FORMULA_START = "=+-@\t\r"  # OWASP's list
HOSTILE = [
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C notepad'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "'=already quoted",
    "''-twice",
    "=HYPERLINK(\"http://127.0.0.1/x\",\"click\")",
]


def cells(text: str, sep: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))


def runs_as_formula(cell: str) -> bool:
    """What a spreadsheet would run: a formula character first, and not a plain number."""
    if not cell or cell[0] not in FORMULA_START:
        return False
    try:
        float(cell)
        return False
    except ValueError:
        return True


@pytest.fixture(scope="module")
def hostile_ratings(pariksha) -> pd.DataFrame:
    df = pariksha.head(len(HOSTILE) * 3).reset_index(drop=True).copy()
    n = len(df)
    df["system"] = [HOSTILE[i % len(HOSTILE)] for i in range(n)]
    df["justification"] = [HOSTILE[(i + 1) % len(HOSTILE)] for i in range(n)]
    df["item_id"] = [f"{HOSTILE[i % len(HOSTILE)]}#{i}" for i in range(n)]
    df["note"] = ["-1", "+2.5", "-3e-2", "plain"] * (n // 4) + ["x"] * (n % 4)  # text that is a number
    df["score"] = df["score"].astype(float)
    df.loc[0, "score"] = -1.0  # a negative number is a number, not a formula
    df["=header"] = "h"  # column names are cells too
    return df


@pytest.mark.parametrize("suffix,sep", [(".csv", ","), (".tsv", "\t")])
def test_ratings_csv_tsv_hold_no_formula_and_read_back_exactly(tmp_path, hostile_ratings, suffix, sep):
    path = write_ratings(hostile_ratings, tmp_path / f"ratings{suffix}")
    rows = cells(path.read_text(encoding="utf-8"), sep)
    running = [c for row in rows for c in row if runs_as_formula(c)]
    assert not running, f"{len(running)} cell(s) a spreadsheet would run, e.g. {running[:3]}"
    header, first = rows[0], rows[1]
    assert "'=header" in header
    assert first[header.index("score")] == "-1.0"  # numbers are written as numbers
    assert [r[header.index("note")] for r in rows[1:5]] == ["-1", "+2.5", "-3e-2", "plain"]
    back, _ = read_table(path)
    assert list(back.columns) == list(hostile_ratings.columns)
    for col in ("item_id", "system", "justification", "note", "response"):
        assert back[col].fillna("").tolist() == hostile_ratings[col].fillna("").astype(str).tolist(), col


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_parquet_and_jsonl_keep_the_raw_text(tmp_path, hostile_ratings, suffix):
    path = write_ratings(hostile_ratings, tmp_path / f"ratings{suffix}")
    if suffix == ".parquet":
        raw = pd.read_parquet(path)
    else:
        raw = pd.DataFrame([json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()])
    assert raw["system"].tolist() == hostile_ratings["system"].tolist()
    assert "=header" in raw.columns


def test_analysis_tables_to_csv_are_neutralised(tmp_path, hostile_ratings, capsys):
    from judgecal.cli._analysis_args import write_table

    path = tmp_path / "estimates.csv"
    write_table(hostile_ratings[["system", "note", "score"]], str(path))
    rows = cells(path.read_text(encoding="utf-8"), ",")
    assert not [c for row in rows for c in row if runs_as_formula(c)]
    assert rows[1][0] == "'" + HOSTILE[0] and rows[1][2] == "-1.0"


def test_apply_out_csv_is_neutralised(tmp_path, pariksha):
    """`judgecal apply ... --out x.csv` on judge rows whose system names are formulas."""
    from judgecal.calibration import GroupedCalibrator
    from judgecal.calibration.persist import save_calibrator
    from judgecal.cli import main

    cal = save_calibrator(GroupedCalibrator(method="isotonic").fit(pariksha), tmp_path / "cal.json")
    judged = pariksha[pariksha["rater_kind"] == "judge"].head(60).copy()
    judged["system"] = [HOSTILE[i % len(HOSTILE)] for i in range(len(judged))]
    write_ratings(judged, tmp_path / "judged.parquet")
    assert main(["apply", str(cal), str(tmp_path / "judged.parquet"), "--out", str(tmp_path / "out.csv")]) == 0
    rows = cells((tmp_path / "out.csv").read_text(encoding="utf-8"), ",")
    assert not [c for row in rows for c in row if runs_as_formula(c)]
    back, _ = read_table(tmp_path / "out.csv")
    assert back["system"].tolist() == judged["system"].tolist()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("=+-@\t\r'0123456789.eE xA")), max_size=12))
def test_cell_rule_is_safe_and_reversible(value):
    from judgecal.data.delimited import neutralize_cell, restore_cell

    written = neutralize_cell(value)
    assert not runs_as_formula(written)
    assert restore_cell(written) == value
    if written != value:
        assert written == "'" + value

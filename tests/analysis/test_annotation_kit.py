"""Annotation sheets: blinded export, reading back, and the kit's files."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from _synth_ratings import synthetic_ratings

from judgecal.analysis.annotation_kit import (
    key_path,
    read_annotation_sheet,
    sheet_columns,
    write_annotation_sheet,
)
from judgecal.errors import ConfigError, InputError

KIT = Path(__file__).resolve().parents[2] / "annotations"


def test_templates_match_the_sheet_layout():
    header = (KIT / "templates" / "ratings_sheet.csv").read_text(encoding="utf-8").strip().split(",")
    assert header == sheet_columns(["la", "tq", "h"])
    jsonl = pd.read_json(KIT / "templates" / "ratings_sheet.jsonl", lines=True)
    assert list(jsonl.columns) == header
    for metric in ("la", "tq", "h", "ocq", "pc"):
        assert (KIT / "guidelines" / f"{metric}.md").read_text(encoding="utf-8").strip()


def test_example_sheet_reads_with_one_empty_cell():
    res = read_annotation_sheet(KIT / "example" / "example_sheet.csv")
    assert len(res.table) == 23 and list(res.empty_cells["metric"]) == ["la"]
    assert set(res.table["rater_kind"]) == {"human"} and set(res.table["script"]) == {"Deva", "Taml"}
    h = res.table[(res.table["metric"] == "h") & (res.table["item_id"] == "ex-hi-2")]
    assert (h["score"] == 1).all()


def test_blinded_round_trip(tmp_path):
    df = synthetic_ratings(10, languages=("hi",), systems=("secret-model",))
    df["response"] = "उत्तर"
    batch = df[df["rater_kind"] == "judge"][["item_id", "system"]].head(4)
    path = write_annotation_sheet(batch, df, tmp_path / "batch.csv", metrics=["tq"])
    text = path.read_text(encoding="utf-8-sig")
    assert "secret-model" not in text and "hi-0" not in text and "उत्तर" in text
    assert key_path(path).exists()
    sheet = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    sheet["annotator_id"] = "a1"
    sheet["tq"] = ["2", "1", "", "0"]
    filled = tmp_path / "batch_filled.csv"
    sheet.to_csv(filled, index=False)
    res = read_annotation_sheet(filled, key=key_path(path))
    key = pd.read_csv(key_path(path), dtype=str)
    left_empty = dict(zip(key["sheet_item_id"], key["item_id"], strict=True))[sheet["item_id"].iloc[2]]
    assert sorted(res.table["item_id"]) == sorted(set(batch["item_id"]) - {left_empty})
    assert list(res.empty_cells["row"]) == [4]


def test_bad_sheets_are_rejected_with_rows(tmp_path):
    sheet = pd.DataFrame({c: [""] for c in sheet_columns(["tq"])})
    sheet["item_id"], sheet["language"], sheet["annotator_id"], sheet["tq"] = "x1", "hi", "a1", "3"
    bad = tmp_path / "bad.csv"
    sheet.to_csv(bad, index=False)
    with pytest.raises(InputError, match="row 2"):
        read_annotation_sheet(bad, key=tmp_path / "none.csv")
    sheet["tq"], sheet["annotator_id"] = "2", ""
    sheet.to_csv(bad, index=False)
    with pytest.raises(InputError, match="annotator"):
        read_annotation_sheet(bad, key=tmp_path / "none.csv")
    with pytest.raises(ConfigError):
        write_annotation_sheet(sheet[["item_id"]], synthetic_ratings(5), tmp_path / "x.xlsx")


def test_blinded_ids_are_secret_and_only_the_key_maps_them_back(tmp_path):
    import hashlib

    df = synthetic_ratings(8, languages=("hi",), systems=("sys-a", "sys-b"))
    batch = df[df["rater_kind"] == "judge"][["item_id", "system"]]
    items = sorted(batch["item_id"].unique())
    runs = []
    for run in ("one", "two"):
        path = write_annotation_sheet(batch, df, tmp_path / run / "batch.csv", metrics=["tq"])
        key = pd.read_csv(key_path(path), dtype=str)
        runs.append(dict(zip(key["item_id"], key["sheet_item_id"], strict=True)))
        assert key_path(path).stat().st_mode & 0o777 == 0o600  # the key is for the study's owner only
        sheet = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        sheet["annotator_id"], sheet["tq"] = "a1", "2"
        sheet.to_csv(tmp_path / run / "filled.csv", index=False)
        res = read_annotation_sheet(tmp_path / run / "filled.csv", key=key_path(path))
        assert sorted(res.table["item_id"]) == items
    # Not a function of the item id: the same items get other ids in another run, and no
    # id is a hash of its item (the old ids were sha256(item_id)[:12], reversible from
    # the public release and the system names).
    assert all(runs[0][i] != runs[1][i] for i in items)
    hashed = {"item-" + hashlib.sha256(i.encode()).hexdigest()[:12] for i in items}
    assert not hashed & (set(runs[0].values()) | set(runs[1].values()))
    assert len(set(runs[0].values())) == len(items)


def test_a_blinded_sheet_without_its_key_is_refused(tmp_path):
    df = synthetic_ratings(5, languages=("hi",))
    batch = df[df["rater_kind"] == "judge"][["item_id", "system"]]
    path = write_annotation_sheet(batch, df, tmp_path / "batch.csv", metrics=["tq"])
    sheet = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    sheet["annotator_id"], sheet["tq"] = "a1", "1"
    filled = tmp_path / "elsewhere" / "filled.csv"
    filled.parent.mkdir()
    sheet.to_csv(filled, index=False)
    with pytest.raises(InputError, match="key"):
        read_annotation_sheet(filled)


def test_downloaded_blinded_batch_carries_its_key(tmp_path):
    import zipfile

    from judgecal.analysis.budget import export_batch

    df = synthetic_ratings(6, languages=("ta",), systems=("model-z",))
    batch = df[df["rater_kind"] == "judge"][["item_id", "system"]]
    data = export_batch(batch, df, ["tq"])
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        assert sorted(bundle.namelist()) == ["annotation_sheet.csv", "annotation_sheet.key.csv"]
        bundle.extractall(tmp_path)
    sheet_file = tmp_path / "annotation_sheet.csv"
    assert sheet_file.read_bytes().startswith(b"\xef\xbb\xbf") and b"model-z" not in sheet_file.read_bytes()
    sheet = pd.read_csv(sheet_file, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    sheet["annotator_id"], sheet["tq"] = "a9", "1"
    sheet.to_csv(sheet_file, index=False)
    res = read_annotation_sheet(sheet_file)  # the key beside it, as extracted
    assert sorted(res.table["item_id"]) == sorted(batch["item_id"])
    plain = export_batch(batch, df, ["tq"], blind=False)
    assert plain.startswith(b"\xef\xbb\xbf") and b"model-z" not in plain and batch["item_id"].iloc[0].encode() in plain


FORMULAS = ["=cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0", "-2+cmd|' /C calc'!A0", "@SUM(1)", "\t=1", "'=x"]


def _formula_cells(path: Path) -> list[str]:
    import csv

    rows = csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline=""))
    return [c for row in rows for c in row if c and c[0] in "=+-@\t\r" and c not in ("-1", "+1")]


def test_sheet_and_key_hold_no_formula_and_read_back(tmp_path):
    df = synthetic_ratings(6, languages=("hi",), systems=("sys",))
    ids = {old: f"{FORMULAS[i % len(FORMULAS)]}#{i}" for i, old in enumerate(df["item_id"].unique())}
    df["item_id"] = df["item_id"].map(ids)
    df["system"] = FORMULAS[0]
    df["prompt"] = FORMULAS[1]
    df["response"] = FORMULAS[2]
    batch = df[df["rater_kind"] == "judge"][["item_id", "system"]]
    path = write_annotation_sheet(batch, df, tmp_path / "batch.csv", metrics=["tq"])
    assert _formula_cells(path) == [] and _formula_cells(key_path(path)) == []
    sheet = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert set(sheet["prompt"]) == {"'" + FORMULAS[1]}
    # an annotator fills it in a spreadsheet, which keeps the quoted text as it was
    sheet["annotator_id"], sheet["tq"], sheet["tq_reason"] = "a1", "1", FORMULAS[3]
    filled = tmp_path / "filled.csv"
    sheet.to_csv(filled, index=False, encoding="utf-8-sig")
    res = read_annotation_sheet(filled, key=key_path(path))
    # the ratings table strips ids of surrounding white space ("\t=1#4" -> "=1#4")
    assert sorted(res.table["item_id"]) == sorted(batch["item_id"].str.strip().unique())
    assert set(res.table["justification"]) == {FORMULAS[3]}


def test_downloaded_sheet_holds_no_formula(tmp_path):
    from judgecal.analysis.budget import export_batch

    df = synthetic_ratings(4, languages=("ta",), systems=("m",))
    df["response"] = FORMULAS[0]
    batch = df[df["rater_kind"] == "judge"][["item_id", "system"]]
    out = tmp_path / "download.csv"
    out.write_bytes(export_batch(batch, df, ["tq"], blind=False))
    assert _formula_cells(out) == []

"""`judgecal validate` on battles tables: detection, every contract problem, exit codes, PARIKSHA."""

from __future__ import annotations

import json

import pandas as pd

from judgecal.cli import main
from judgecal.datasets import make_battles
from judgecal.pairwise.describe import describe_battles
from judgecal.pairwise.io import write_battles


def test_good_battles_file_is_detected_and_described(tmp_path, capsys):
    table = make_battles(300, random_state=0)
    path = write_battles(table, tmp_path / "b.csv")
    assert main(["validate", str(path), "--json", str(tmp_path / "v.json")]) == 0
    out = capsys.readouterr().out
    assert "battles table, " in out and f"{table['pair_id'].nunique()} pairs" in out
    doc = json.loads((tmp_path / "v.json").read_text(encoding="utf-8"))
    assert doc["kind"] == "battles" and doc["problems"] == []
    summary = pd.DataFrame(doc["summary"])
    want = describe_battles(table)
    assert summary["pairs"].tolist() == want["pairs"].tolist()
    assert (summary["pairs_both_orders"] == summary["pairs"]).all()  # make_battles judges both orders
    assert summary["native_votes"].sum() == (table["rater_kind"] == "human").sum()


def bad_file(tmp_path):
    table = make_battles(100, random_state=0)
    table.loc[0, "verdict"] = "A"                               # unknown code
    table.loc[1, "system_2"] = table.loc[1, "system_1"]          # a system against itself
    table.loc[2, "shown"] = "13"                                 # unknown order
    table = pd.concat([table, table.iloc[[5]]], ignore_index=True)  # a duplicate
    path = tmp_path / "bad.csv"
    table.to_csv(path, index=False)
    return path


def test_bad_battles_file_lists_every_problem(tmp_path, capsys):
    path = bad_file(tmp_path)
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "bad.csv, row 2, column 'verdict'" in err and "'A'" in err
    assert "row 3, column 'system_2'" in err and "plays itself" in err
    assert "row 4, column 'shown'" in err
    assert "row 502, column 'pair_id': duplicate verdict" in err  # the copy of row 7 (the header is row 1)


def test_drop_bad_rows_lists_each_row_and_exits_1(tmp_path, capsys):
    path = bad_file(tmp_path)
    assert main(["validate", str(path), "--drop-bad-rows"]) == 1
    out = capsys.readouterr().out
    assert "could not be used and were left out" in out
    assert "row 2, column 'verdict'" in out and "row 4, column 'shown'" in out


def test_battles_flag_on_a_ratings_file_says_what_is_missing(tmp_path, capsys):
    path = tmp_path / "ratings.csv"
    pd.DataFrame({"item_id": ["a"], "language": ["hi"], "rater": ["r"], "score": [1]}).to_csv(path, index=False)
    assert main(["validate", str(path), "--battles"]) != 0
    err = capsys.readouterr().err
    assert "verdict" in err and "ratings.csv" in err


def test_pariksha_pairwise_release(pariksha_path, capsys, tmp_path):
    assert main(["validate", str(pariksha_path), "--battles", "--json", str(tmp_path / "p.json")]) == 0
    out = capsys.readouterr().out
    assert "21690 pairs" in out and "10 languages" in out
    doc = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    summary = pd.DataFrame(doc["summary"]).set_index("language")
    assert summary.loc["pa", "pairs_with_systems"] == summary.loc["pa", "pairs"]  # all of Punjabi's pairs have metadata
    assert (summary["pairs_with_systems"] < summary["pairs"]).sum() == 9
    assert summary["native_votes"].sum() == 65150
    findings = pd.DataFrame(doc["response_findings"])
    assert ((findings["language"] == "pa") & (findings["finding"] == "other script")).any()
    # --strict: responses in another script than declared make it exit 1
    assert main(["validate", str(pariksha_path), "--battles", "--strict"]) == 1

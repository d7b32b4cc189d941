"""The battles table contract: readers, column and verdict-code mapping, every problem listed, drop mode."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from judgecal.data.battles import normalize_battles, outcomes
from judgecal.data.io import ColumnMapping
from judgecal.datasets import make_battles
from judgecal.errors import ConfigError, InputError
from judgecal.pairwise.io import load_battles, read_battles, write_battles

HI_1 = "यह पहला उत्तर है और काफी लंबा भी है"
HI_2 = "यह दूसरा उत्तर है जो अलग लिखा गया है"
TA = "இது தமிழில் எழுதப்பட்ட ஒரு பதில் ஆகும்"


def good_rows() -> pd.DataFrame:
    return pd.DataFrame({
        "pair_id": ["p1", "p1", "p1", "p2"],
        "language": ["hindi", "hi", "hi", "hi"],
        "prompt_id": ["q1"] * 4,
        "system_1": ["a", "a", "a", "b"], "system_2": ["b", "b", "b", "c"],
        "response_1": [HI_1, HI_1, HI_1, HI_2], "response_2": [HI_2, HI_2, HI_2, HI_1],
        "rater": ["r1", "judge-x", "judge-x", "r1"], "rater_kind": ["human", "judge", "judge", "Human"],
        "shown": ["12", "12", 21, "12"], "verdict": ["First", "tie", "second", "second"],
    })


@pytest.mark.parametrize("ext", ["csv", "tsv", "jsonl", "parquet"])
def test_round_trip_every_format(tmp_path, ext):
    table = make_battles(200, random_state=3)
    path = write_battles(table, tmp_path / f"battles.{ext}")
    back = read_battles(path)
    cols = ["pair_id", "language", "script", "prompt_id", "system_1", "system_2", "rater", "rater_kind", "shown", "verdict"]
    pd.testing.assert_frame_equal(back[cols].astype(str), table[cols].astype(str))
    assert not list(tmp_path.glob(".battles*"))  # the temporary file was renamed into place


def test_normalises_and_derives_outcomes():
    table = normalize_battles(good_rows()).table
    assert table["language"].tolist() == ["hi"] * 4 and table["script"].tolist() == ["Deva"] * 4
    assert table["verdict"].tolist() == ["first", "tie", "second", "second"]
    assert table["shown"].tolist() == ["12", "12", "21", "12"]
    # second seen in order 21 is system_1 better
    assert outcomes(table["verdict"], table["shown"]).tolist() == [0, 1, 0, 2]


def test_every_problem_is_listed_with_row_and_column():
    df = good_rows()
    df = pd.concat([df, df.iloc[[0]]], ignore_index=True)  # row 5 duplicates row 1
    df.loc[1, "verdict"] = "A"  # unknown verdict code
    df.loc[2, "shown"] = "13"
    df.loc[3, ["system_1", "system_2"]] = ["c", "c"]  # a system plays itself
    extra = df.iloc[[3]].assign(pair_id="p3", system_1="a", response_1=TA, rater="r2")  # Tamil text in a Hindi row
    blank = df.iloc[[3]].assign(pair_id="p4", system_1="a", response_2="  ", rater="r2")
    df = pd.concat([df, extra, blank], ignore_index=True)
    with pytest.raises(InputError) as info:
        normalize_battles(df, source="b.csv", row_numbers=np.arange(2, len(df) + 2))
    found = {(p.row, p.column) for p in info.value.problems}
    assert {(3, "verdict"), (4, "shown"), (5, "system_2"), (6, "pair_id"), (7, "response_1"), (8, "response_2")} <= found
    text = str(info.value)
    for words in ("unknown verdict code", "must be 12", "plays itself", "duplicate verdict", "Taml script", "missing response"):
        assert words in text
    assert all(p.file == "b.csv" for p in info.value.problems)


def test_pair_rows_must_describe_the_same_pair():
    df = good_rows()
    df.loc[1, "system_2"] = "z"
    with pytest.raises(InputError, match="another system_2 on an earlier row"):
        normalize_battles(df)


def test_text_checks_can_be_left_to_a_report():
    df = good_rows()
    df.loc[3, "response_1"] = TA
    assert len(normalize_battles(df, check_texts=False).table) == 4
    with pytest.raises(InputError):
        normalize_battles(df)


def test_drop_mode_lists_each_dropped_row(tmp_path):
    df = good_rows()
    df.loc[1, "verdict"] = "maybe"
    df.loc[3, "rater_kind"] = "robot"
    path = tmp_path / "b.csv"
    df.to_csv(path, index=False)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("too,few,fields\n")
    result = load_battles(path, on_bad_rows="drop")
    assert len(result.table) == 2 and result.n_input_rows == 5
    assert sorted(result.dropped["row"].tolist()) == [3, 5, 6]
    assert any("verdict" in r for r in result.dropped["reason"]) and any("rater_kind" in r for r in result.dropped["reason"])


def test_mapping_and_verdict_codes_in_file_terms(tmp_path):
    df = good_rows().rename(columns={"pair_id": "pairing", "verdict": "choice"})
    df["choice"] = ["A", "C", "B", "X"]
    path = tmp_path / "b.jsonl"
    df.to_json(path, orient="records", lines=True, force_ascii=False)
    mapping = ColumnMapping(columns={"pair_id": "pairing", "verdict": "choice"})
    with pytest.raises(InputError) as info:
        load_battles(path, mapping, verdict_codes={"A": "first", "B": "second", "C": "tie"})
    (problem,) = info.value.problems
    assert problem.column == "choice" and problem.row == 4 and problem.value == "X"
    with pytest.raises(ConfigError):
        load_battles(path, mapping, verdict_codes={"A": "win"})


def test_missing_columns_and_bad_probs():
    with pytest.raises(InputError, match="'verdict' is missing"):
        normalize_battles(good_rows().drop(columns=["verdict"]))
    df = good_rows().assign(verdict_probs=['{"first": 0.5, "tie": 0.5}', None, '{"first": 2}', "[1]"])
    with pytest.raises(InputError) as info:
        normalize_battles(df)
    assert sorted(p.row for p in info.value.problems) == [3, 4]


def test_a_missing_pair_id_is_one_problem():
    df = good_rows()
    df.loc[3, "pair_id"] = None
    with pytest.raises(InputError) as info:
        normalize_battles(df)
    assert [(p.row, p.column) for p in info.value.problems] == [(4, "pair_id")]

"""The ratings table on disk: formats, column mappings, wide files, metric
declarations, and the errors bad input gets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from judgecal.data.io import (
    ColumnMapping,
    detect_format,
    load_ratings,
    read_ratings,
    read_table,
    write_ratings,
)
from judgecal.data.metrics import DEFAULT_REGISTRY, MetricRegistry, MetricScale, load_metric_file
from judgecal.data.schema import REQUIRED, empty_ratings, normalize_ratings
from judgecal.errors import ConfigError, InputError

FORMATS = ("csv", "tsv", "jsonl", "json", "parquet")
TRICKY_TEXTS = [
    "यह उत्तर सही है, लेकिन \"अधूरा\" है।",
    "line one\nline two\r\nline three\rend",
    "tab\tand comma, and 'quotes'",
    "separator\u2028inside and \x85 next-line",
    "",
]


def sample_table() -> pd.DataFrame:
    """Five ratings with every optional column filled in some way."""
    probs = [{"0": 0.1, "1": 0.2, "2": 0.7}, None, {"0": 0.9, "1": 0.1}, None, {"0": 0.0, "1": 0.25, "2": 0.75}]
    df = pd.DataFrame(
        {
            "item_id": ["p1/m1", "p1/m1", "p1/m1", "p2/m1", "p2/m1"],
            "language": ["hi", "hi", "hi", "pa", "pa"],
            "script": ["Deva", "Deva", "Deva", "Guru", "Guru"],
            "task": ["qa"] * 5,
            "metric": ["la", "la", "h", "la", "tq"],
            "rater": ["w1", "gpt-x", "gpt-x", "w2", "gpt-x"],
            "rater_kind": ["human", "judge", "judge", "human", "judge"],
            "score": [2.0, 2.0, 0.0, 1.0, 2.0],
            "prompt": ["सवाल?", "सवाल?", "सवाल?", "ਸਵਾਲ?", "ਸਵਾਲ?"],
            "response": TRICKY_TEXTS,
            "justification": [None, "fluent", "no claims", "ਠੀਕ ਹੈ", "answers it"],
            "score_probs": probs,
            "judge_prompt_hash": [None, "abc123", "abc123", None, "abc123"],
            "system": ["m1"] * 5,
            "prompt_id": ["p1", "p1", "p1", "p2", "p2"],
            "n_tokens": [None, 120, 80, None, 95],
        }
    )
    return df


@pytest.mark.parametrize("fmt", FORMATS)
def test_write_read_round_trip(fmt, tmp_path):
    df = sample_table()
    path = write_ratings(df, tmp_path / f"ratings.{fmt}")
    assert path.suffix == f".{fmt}"
    back = read_ratings(path)
    assert len(back) == len(df)
    for col in REQUIRED:
        assert back[col].tolist() == df[col].tolist(), col
    for col in ("task", "prompt", "system", "prompt_id", "judge_prompt_hash"):
        assert back[col].fillna("-").tolist() == df[col].fillna("-").tolist(), col
    # text with separators, quotes, line breaks and Unicode line separators survives
    assert back["response"].fillna("").tolist() == df["response"].tolist()
    assert back["justification"].tolist()[1:] == df["justification"].tolist()[1:]
    assert pd.isna(back["justification"].iloc[0])
    # score_probs: dicts are stored as JSON text and read back equal
    for got, want in zip(back["score_probs"], df["score_probs"], strict=True):
        if want is None:
            assert got is None or pd.isna(got)
        else:
            assert json.loads(got) == want
    # extra columns are kept (CSV is untyped: numbers come back as text)
    tokens = [None if pd.isna(v) else float(v) for v in back["n_tokens"]]
    assert tokens == [None, 120.0, 80.0, None, 95.0]
    assert back["score"].dtype == float


def test_read_ratings_is_repeatable_through_normalised_tables(tmp_path):
    """read -> write -> read gives the same table."""
    first = read_ratings(write_ratings(sample_table(), tmp_path / "a.parquet"))
    second = read_ratings(write_ratings(first, tmp_path / "b.jsonl"))
    pd.testing.assert_frame_equal(
        first[list(REQUIRED)].reset_index(drop=True), second[list(REQUIRED)].reset_index(drop=True)
    )


def test_format_from_extension_and_errors():
    assert detect_format("x.CSV") == "csv"
    assert detect_format("x.tab") == "tsv"
    assert detect_format("x.ndjson") == "jsonl"
    assert detect_format("x.pq") == "parquet"
    assert detect_format("x.data", "jsonl") == "jsonl"
    with pytest.raises(ConfigError, match="extension"):
        detect_format("x.xlsx")
    with pytest.raises(ConfigError, match="unknown format"):
        detect_format("x.csv", "excel")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_ratings(tmp_path / "nope.csv")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(InputError, match="folder"):
        read_ratings(tmp_path / "dir.csv")
    # Without an extension too: the path's kind comes before its format (it said
    # "cannot tell the format from the extension ''" for a folder or a missing file).
    (tmp_path / "outputs").mkdir()
    with pytest.raises(InputError, match="is a folder, not a file"):
        read_ratings(tmp_path / "outputs")
    with pytest.raises(InputError, match="does not exist"):
        read_ratings(tmp_path / "nope")


def test_damaged_parquet_is_an_input_error(tmp_path):
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(InputError, match="Parquet"):
        read_ratings(path)


# --- column mapping ---------------------------------------------------------

OTHER_LAYOUT = (
    "prompt_id\tmodel\tworker\tlang\tling\tling_why\ttask\ttask_why\thall\n"
    "p1\tm1\tw1\thindi\t2\tअच्छा है\t1\tआधा\tFalse\n"
    "p1\tm2\tw1\thindi\t0\tगलत\t0\tनहीं\tTrue\n"
    "p2\tm1\tw2\tPunjabi\t1\tਠੀਕ\t2\tਹਾਂ\tfalse\n"
)


def _check_other_layout(table: pd.DataFrame) -> None:
    assert len(table) == 9  # 3 rows x 3 metrics
    assert sorted(table["item_id"].unique()) == ["p1/m1", "p1/m2", "p2/m1"]
    assert set(table["rater_kind"]) == {"human"}
    assert sorted(table["metric"].unique()) == ["h", "la", "tq"]
    assert set(table["language"]) == {"hi", "pa"}
    la = table[table["metric"] == "la"].set_index("item_id")
    assert la["score"].to_dict() == {"p1/m1": 2.0, "p1/m2": 0.0, "p2/m1": 1.0}
    assert la.loc["p1/m1", "justification"] == "अच्छा है"
    h = table[table["metric"] == "h"].set_index("item_id")["score"].to_dict()
    assert h == {"p1/m1": 0.0, "p1/m2": 1.0, "p2/m1": 0.0}  # True/False on a 0/1 scale
    assert h_justification_absent(table)
    # mapped and wide source columns do not leak into the long table
    assert not {"ling", "ling_why", "task_why", "hall", "worker", "lang"} & set(table.columns)
    assert sorted(table["rater"].unique()) == ["w1", "w2"]


def h_justification_absent(table: pd.DataFrame) -> bool:
    return table.loc[table["metric"] == "h", "justification"].isna().all()


def test_mapping_from_cli_pairs(tmp_path):
    path = tmp_path / "other.tsv"
    path.write_text(OTHER_LAYOUT, encoding="utf-8")
    mapping = ColumnMapping.from_pairs(
        columns=["item_id=prompt_id+model", "rater=worker", "language=lang"],
        constants=["rater_kind=human"],
        wide=["la=ling", "tq=task", "h=hall"],
        wide_text=["la=ling_why", "tq=task_why"],
    )
    assert mapping.columns["item_id"] == ["prompt_id", "model"]
    table = read_ratings(path, mapping)
    _check_other_layout(table)
    # the columns an item id is joined from stay in the table
    assert {"prompt_id", "model"} <= set(table.columns)
    assert (table["item_id"] == table["prompt_id"] + "/" + table["model"]).all()


def test_mapping_from_toml_and_json_files(tmp_path):
    path = tmp_path / "other.tsv"
    path.write_text(OTHER_LAYOUT, encoding="utf-8")
    toml = tmp_path / "map.toml"
    toml.write_text(
        '[columns]\nitem_id = ["prompt_id", "model"]\nrater = "worker"\nlanguage = "lang"\n'
        '[constants]\nrater_kind = "human"\n'
        '[wide]\nla = "ling"\ntq = "task"\nh = "hall"\n'
        '[wide_text]\nla = "ling_why"\ntq = "task_why"\n',
        encoding="utf-8",
    )
    _check_other_layout(read_ratings(path, ColumnMapping.from_file(toml)))
    as_json = tmp_path / "map.json"
    m = ColumnMapping.from_file(toml)
    as_json.write_text(json.dumps({"columns": m.columns, "constants": m.constants, "wide": m.wide, "wide_text": m.wide_text}))
    _check_other_layout(read_ratings(path, ColumnMapping.from_file(as_json)))


def _wide_mapping() -> ColumnMapping:
    """OTHER_LAYOUT's columns and its three wide score columns (no reasoning columns)."""
    return ColumnMapping.from_pairs(
        columns=["item_id=prompt_id+model", "rater=worker", "language=lang"],
        constants=["rater_kind=human"], wide=["la=ling", "tq=task", "h=hall"],
    )


def _refused_wide_file(tmp_path, old: str, new: str) -> tuple[Path, InputError]:
    """OTHER_LAYOUT with ``old`` replaced by ``new``, read with _wide_mapping: the file and its error."""
    path = tmp_path / "other.tsv"
    path.write_text(OTHER_LAYOUT.replace(old, new), encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_ratings(path, _wide_mapping())
    return path, info.value


def test_wide_rows_keep_the_file_row_in_problems(tmp_path):
    _, error = _refused_wide_file(tmp_path, "p1\tm2\tw1\thindi\t0", "p1\tm2\tw1\thindi\t9")
    (problem,) = error.problems
    assert (problem.row, problem.column, problem.value) == (3, "score", "9")
    assert "not on the la scale" in problem.message


def test_problems_of_mapped_columns_name_the_file_columns_once_per_row(tmp_path):
    # "column 'rater'" named a column the file does not have, and a wide file's
    # row (three table rows here) was listed once per metric.
    path, error = _refused_wide_file(tmp_path, "p1\tm2\tw1\thindi", "p1\tm2\t\txx-9")
    found = [(p.row, p.column, p.message) for p in error.problems]
    assert found == [(3, "worker", "missing value"), (3, "lang", "not a BCP-47 tag or a known language name")]
    assert str(error).startswith("2 problem(s) in ")
    result = load_ratings(path, _wide_mapping(), on_bad_rows="drop")
    assert [(p.row, p.column) for p in result.problems] == [(3, "worker"), (3, "lang")]
    assert len(result.table) == 6


def test_merged_mapping_cli_overrides_file():
    base = ColumnMapping({"rater": "worker"}, {"rater_kind": "human"})
    merged = base.merged(ColumnMapping.from_pairs(columns=["rater=annotator"], constants=["task=qa"]))
    assert merged.columns == {"rater": "annotator"}
    assert merged.constants == {"rater_kind": "human", "task": "qa"}
    assert base.merged(None) is base


@pytest.mark.parametrize("pair", ["item_id", "=x", "item_id=", "  =  "])
def test_bad_cli_pairs(pair):
    with pytest.raises(ConfigError, match="NAME=VALUE"):
        ColumnMapping.from_pairs(columns=[pair])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[columns\n", "cannot be parsed"),
        ("[other]\nx = 1\n", "unknown section"),
        ("columns = 3\n", "must be a table"),
        ("[columns]\nitem_id = 3\n", "column name"),
        ("[wide]\nla = [\"a\"]\n", "column name"),
        ("[constants]\nrater_kind = {a = 1}\n", "must be a value"),
    ],
)
def test_bad_mapping_files(tmp_path, text, message):
    path = tmp_path / "map.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        ColumnMapping.from_file(path)


def test_mapping_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        ColumnMapping.from_file(tmp_path / "none.toml")
    as_list = tmp_path / "m.json"
    as_list.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="expected"):
        ColumnMapping.from_file(as_list)


def test_mapping_naming_absent_columns_lists_them(tmp_path):
    path = tmp_path / "other.tsv"
    path.write_text(OTHER_LAYOUT, encoding="utf-8")
    mapping = ColumnMapping.from_pairs(columns=["item_id=pid+model", "rater=annotator"])
    with pytest.raises(InputError) as info:
        read_ratings(path, mapping)
    assert {p.column for p in info.value.problems} == {"pid", "annotator"}
    assert all("prompt_id" in p.message for p in info.value.problems)  # lists the file's columns


def test_joined_item_id_with_missing_part(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("pid,model,language,metric,rater,rater_kind,score\np1,,hi,la,w1,human,1\np1,m2,hi,la,w1,human,2\n")
    table = read_ratings(path, ColumnMapping.from_pairs(columns=["item_id=pid+model"]))
    assert table["item_id"].tolist() == ["p1/", "p1/m2"]


# --- scores, booleans, metrics ----------------------------------------------

def _frame(**overrides) -> pd.DataFrame:
    """A small valid ratings frame; list overrides set the number of rows."""
    base = {"item_id": "a", "language": "hi", "metric": "la", "rater": "r", "rater_kind": "human", "score": 1}
    base.update(overrides)
    n = max(len(v) for v in base.values() if isinstance(v, list)) if any(isinstance(v, list) for v in base.values()) else 1
    return pd.DataFrame({k: pd.Series(v if isinstance(v, list) else [v] * n, dtype=object) for k, v in base.items()})


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, 1.0), (False, 0.0), ("True", 1.0), ("false", 0.0), ("yes", 1.0), ("N", 0.0), (" t ", 1.0), ("1", 1.0), (0, 0.0)],
)
def test_booleans_on_binary_metrics(value, expected):
    assert normalize_ratings(_frame(metric="h", score=value)).table["score"].tolist() == [expected]
    assert normalize_ratings(_frame(metric="pc", score=value)).table["score"].tolist() == [expected]


def test_bool_dtype_column_on_binary_metric():
    df = _frame(metric=["h", "h"], item_id=["a", "b"])
    df["score"] = np.array([True, False])
    assert df["score"].dtype == bool
    assert normalize_ratings(df).table["score"].tolist() == [1.0, 0.0]


@pytest.mark.parametrize("value", [True, "true", "no"])
def test_booleans_are_refused_on_ordinal_metrics(value):
    with pytest.raises(InputError) as info:
        normalize_ratings(_frame(metric="la", score=value))
    (p,) = info.value.problems
    assert p.column == "score" and "0/1" in p.message and "la" in p.message


def test_off_scale_error_text_names_scale_row_column_and_value(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(
        "item_id,language,metric,rater,rater_kind,score\n"
        "a,hi,la,w1,human,3\n"
        "a,hi,h,w1,human,2\n"
        "a,hi,tq,w1,human,1.5\n"
        "a,hi,ocq,w1,human,two\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        read_ratings(path)
    text = str(info.value)
    assert "4 problem(s)" in text
    assert f"{path}, row 2, column 'score': not on the la scale ('0', '1', '2') (value: '3')" in text
    assert f"{path}, row 3, column 'score': not on the h scale ('0', '1') (value: '2')" in text
    assert f"{path}, row 4, column 'score': not on the tq scale" in text
    assert f"{path}, row 5, column 'score': not a number (value: 'two')" in text


def test_duplicate_item_metric_rater_is_reported_on_the_later_row():
    df = pd.DataFrame(
        {
            "item_id": ["a", "a", " a ", "a", "b"],
            "language": ["hi"] * 5,
            "metric": ["la", "LA", "la", "tq", "la"],
            "rater": ["r1", "r1", "r1", "r1", "r1"],
            "rater_kind": ["human"] * 5,
            "score": [1, 2, 1, 1, 1],
        }
    )
    with pytest.raises(InputError) as info:
        normalize_ratings(df, row_numbers=[10, 11, 12, 13, 14])
    assert [p.row for p in info.value.problems] == [11, 12]
    assert all("duplicate" in p.message for p in info.value.problems)
    assert info.value.problems[0].value == "a / la / r1"
    result = normalize_ratings(df, on_bad_rows="drop")
    assert result.table["score"].tolist() == [1.0, 1.0, 1.0]  # first of the repeats is kept
    assert result.dropped["row"].tolist() == [2, 3]


def test_same_item_and_rater_on_different_metrics_is_not_a_duplicate():
    df = _frame(metric=["la", "tq", "h"], score=[1, 1, 0], item_id=["a"] * 3)
    assert len(normalize_ratings(df).table) == 3


def test_custom_metric_from_a_metrics_file(tmp_path):
    toml = tmp_path / "metrics.toml"
    toml.write_text(
        '[[metrics]]\nid = "fluency5"\nname = "fluency"\nlevels = [1, 2, 3, 4, 5]\n'
        'labels = ["bad", "poor", "ok", "good", "great"]\naliases = ["fluency"]\n'
        '[[metrics]]\nid = "toxic"\nlevels = [0, 1]\nhigher_is_better = false\nmeasurement = "nominal"\n',
        encoding="utf-8",
    )
    scales = load_metric_file(toml)
    registry = MetricRegistry(scales)
    assert registry.get("Fluency").id == "fluency5"
    assert registry.get("toxic").higher_is_better is False
    assert registry.get("la").levels == (0.0, 1.0, 2.0)  # built-ins stay
    path = tmp_path / "r.csv"
    path.write_text(
        "item_id,language,metric,rater,rater_kind,score\n"
        "a,ta,fluency,w1,human,5\na,ta,toxic,w1,human,false\na,ta,fluency5,w2,human,1\n",
        encoding="utf-8",
    )
    table = read_ratings(path, metrics=registry)
    assert table["metric"].tolist() == ["fluency5", "toxic", "fluency5"]
    assert table["score"].tolist() == [5.0, 0.0, 1.0]
    # without the declaration the metric is unknown, and the message says how to declare it
    with pytest.raises(InputError, match="declare others in a metrics file"):
        read_ratings(path)
    # on the declared scale, 0 and 6 are off it; true/false is refused on 1-5
    path.write_text("item_id,language,metric,rater,rater_kind,score\na,ta,fluency,w1,human,0\nb,ta,fluency,w1,human,true\n")
    with pytest.raises(InputError) as info:
        read_ratings(path, metrics=registry)
    assert [p.row for p in info.value.problems] == [2, 3]


def test_metrics_file_in_json_and_errors(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps([{"id": "x", "levels": [0, 1, 2, 3]}]))
    (scale,) = load_metric_file(path)
    assert scale.levels == (0.0, 1.0, 2.0, 3.0) and scale.name == "x"
    path.write_text(json.dumps({"metrics": [{"levels": [0, 1]}]}))
    with pytest.raises(ConfigError, match="lacks"):
        load_metric_file(path)
    path.write_text("{")
    with pytest.raises(ConfigError, match="cannot be parsed"):
        load_metric_file(path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_metric_file(tmp_path / "none.json")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"levels": (0,)}, "at least two"),
        ({"levels": (2, 1)}, "increasing"),
        ({"levels": (0, 0, 1)}, "distinct"),
        ({"levels": (0, 1), "labels": ("a",)}, "labels"),
        ({"levels": (0, 1), "measurement": "fuzzy"}, "measurement"),
    ],
)
def test_bad_metric_declarations(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        MetricScale("m", "m", **kwargs)


def test_builtin_metric_scales():
    reg = DEFAULT_REGISTRY
    for mid in ("la", "ocq", "tq"):
        assert reg.get(mid).levels == (0.0, 1.0, 2.0) and reg.get(mid).higher_is_better
    for mid in ("pc", "h"):
        scale = reg.get(mid)
        assert scale.levels == (0.0, 1.0) and not scale.higher_is_better and scale.is_binary
        assert scale.label(1) == "present"
    assert reg.resolve("Hallucination") == "h"
    assert reg.resolve("ling_rating") == "la"
    assert reg.resolve("nope") is None
    mask = reg.get("la").on_scale(np.array([0, 1, 2, 3, np.nan, 0.5]))
    assert mask.tolist() == [True, True, True, False, False, False]
    with pytest.raises(ConfigError, match="known metrics"):
        reg.get("nope")


# --- the other checks of normalize_ratings -----------------------------------

def test_script_column_is_derived_checked_and_normalised():
    df = _frame(language=["pa", "pa-Arab", "sr", "sr-Latn", "zh_TW", "hi"], item_id=list("abcdef"),
                script=[None, "", "cyrl", "LATN", None, "Latn"])
    table = normalize_ratings(df).table
    # the language is the minimal tag that keeps the script: romanised Hindi is its own group
    assert table["language"].tolist() == ["pa", "pa-Arab", "sr", "sr-Latn", "zh-Hant", "hi-Latn"]
    assert table["script"].tolist() == ["Guru", "Arab", "Cyrl", "Latn", "Hant", "Latn"]
    assert table["locale"].tolist() == ["pa", "pa-Arab", "sr", "sr-Latn", "zh-TW", "hi"]  # the region kept
    assert normalize_ratings(df.drop(columns="script")).table["script"].tolist() == ["Guru", "Arab", "Cyrl", "Latn", "Hant", "Deva"]


def test_script_clash_with_tag_subtag_and_bad_codes():
    df = _frame(language=["sr-Latn", "hi", "hi"], item_id=list("abc"), script=["Cyrl", "Devanagari", "D3va"])
    with pytest.raises(InputError) as info:
        normalize_ratings(df)
    messages = {p.row: p.message for p in info.value.problems}
    assert "script subtag" in messages[1]
    assert "ISO 15924" in messages[2] and "ISO 15924" in messages[3]


def test_missing_required_columns_listed_all_at_once():
    df = _frame().drop(columns=["rater", "score"])
    with pytest.raises(InputError) as info:
        normalize_ratings(df, source="x.csv")
    assert {p.column for p in info.value.problems} == {"rater", "score"}
    assert "columns found: item_id, language, metric, rater_kind" in info.value.problems[0].message


def test_empty_table_is_an_input_error():
    with pytest.raises(InputError, match="no rows"):
        normalize_ratings(empty_ratings())


def test_on_bad_rows_must_be_known():
    with pytest.raises(ConfigError):
        normalize_ratings(_frame(), on_bad_rows="skip")


@pytest.mark.parametrize("column", ["language", "metric", "item_id", "rater", "rater_kind", "score", "script"])
@pytest.mark.parametrize("value", [["x"], {"a": 1}, np.array([1, 2]), b"\xff\xfe"], ids=["list", "dict", "array", "bytes"])
def test_cells_holding_lists_objects_or_bytes_are_reported_once(column, value):
    df = _frame(item_id=["a", "b"], script=["Deva", "Deva"])
    df.at[1, column] = value
    with pytest.raises(InputError) as info:
        normalize_ratings(df)
    (p,) = info.value.problems
    assert (p.row, p.column) == (2, column)
    assert "single value" in p.message
    result = normalize_ratings(df, on_bad_rows="drop")
    assert len(result.table) == 1 and result.dropped["row"].tolist() == [2]


def test_utf8_bytes_cells_are_read_as_text():
    df = _frame(item_id=["a", "b"], rater=[b"w1", "w\u00e9".encode()])
    assert normalize_ratings(df).table["rater"].tolist() == ["w1", "w\u00e9"]


def test_integer_ids_next_to_nulls_stay_integers(tmp_path):
    path = tmp_path / "r.jsonl"
    rows = [
        {"item_id": 7, "language": "hi", "metric": "la", "rater": 12, "rater_kind": "human", "score": 1},
        {"item_id": None, "language": "hi", "metric": "la", "rater": 12, "rater_kind": "human", "score": 1},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    result = load_ratings(path, on_bad_rows="drop")
    assert result.table["item_id"].tolist() == ["7"] and result.table["rater"].tolist() == ["12"]
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "r.parquet")
    assert load_ratings(tmp_path / "r.parquet", on_bad_rows="drop").table["item_id"].tolist() == ["7"]


# --- whole-file faults, one example each --------------------------------------

HEADER = "item_id,language,metric,rater,rater_kind,score\n"


def test_latin1_line_in_utf8_file_is_named(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(HEADER.encode() + b"a,hi,la,w1,human,1\n" + "b,hi,la,Jos\xe9,human,1\n".encode("latin-1"))
    with pytest.raises(InputError) as info:
        read_ratings(path)
    (p,) = info.value.problems
    assert p.row == 3 and "0xe9" in p.message and "encoding" in p.message
    assert read_ratings(path, encoding="latin-1")["rater"].tolist() == ["w1", "José"]


def test_unknown_encoding_is_a_config_error(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "a,hi,la,w1,human,1\n")
    with pytest.raises(ConfigError, match="encoding"):
        read_ratings(path, encoding="no-such-codec")


@pytest.mark.parametrize("encoding", ["utf-8", "UTF8", "utf_8", "U8"])
def test_utf8_bom_is_ignored(tmp_path, encoding):
    path = tmp_path / "r.csv"
    path.write_bytes("\ufeff".encode() + HEADER.encode() + b"a,hi,la,w1,human,1\n")
    assert read_ratings(path, encoding=encoding)["item_id"].tolist() == ["a"]


def test_ragged_rows_are_all_listed_with_their_lines(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "a,hi,la,w1,human\n\n" + 'b,hi,la,"w\n1",human,1\n' + "c,hi,la,w1,human,1,extra\n")
    with pytest.raises(InputError) as info:
        read_ratings(path)
    assert [(p.row, p.message) for p in info.value.problems] == [
        (2, "has 5 fields, the header has 6"),
        (6, "has 7 fields, the header has 6"),
    ]


def test_repeated_header_names(tmp_path):
    path = tmp_path / "r.tsv"
    path.write_text("item_id\titem_id\tlanguage\n1\t2\thi\n")
    with pytest.raises(InputError, match="repeated"):
        read_ratings(path)


def test_jsonl_bad_lines_all_listed(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"item_id": "a"}\n\n[1, 2]\n{broken\n')
    with pytest.raises(InputError) as info:
        read_ratings(path)
    assert [p.row for p in info.value.problems] == [3, 4]


def test_json_shapes(tmp_path):
    path = tmp_path / "r.json"
    rec = {"item_id": "a", "language": "hi", "metric": "la", "rater": "w", "rater_kind": "human", "score": 2}
    path.write_text(json.dumps({"ratings": [rec]}))
    assert read_ratings(path)["score"].tolist() == [2.0]
    path.write_text(json.dumps({"rows": [rec]}))
    with pytest.raises(InputError, match="list of objects"):
        read_ratings(path)
    path.write_text("[1, 2")
    with pytest.raises(InputError, match="not valid JSON"):
        read_ratings(path)


def test_many_problems_are_grouped_but_all_counted(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "".join(f"i{k},hi,la,w1,human,9\n" for k in range(120)))
    with pytest.raises(InputError) as info:
        read_ratings(path)
    assert len(info.value.problems) == 120
    text = str(info.value)
    assert "120 problem(s)" in text
    assert "at rows 2, 3, 4, 5, 6, 7, 8, 9, ... (120 rows)" in text
    assert len(text.splitlines()) < 10


def test_read_table_returns_file_rows(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "\n\na,hi,la,w1,human,1\nb,hi,la,w1,human,1\n")
    df, rows = read_table(path)
    assert rows.tolist() == [4, 5] and len(df) == 2


def test_reasoning_column_without_its_score_column_is_refused(tmp_path):
    path = tmp_path / "other.tsv"
    path.write_text(OTHER_LAYOUT, encoding="utf-8")
    mapping = ColumnMapping.from_pairs(
        columns=["item_id=prompt_id+model", "rater=worker", "language=lang"], constants=["rater_kind=human"],
        wide=["la=ling"], wide_text=["la=ling_why", "tq=task_why"],
    )
    with pytest.raises(ConfigError, match=r"\['tq'\]"):
        read_ratings(path, mapping)


def test_json_keeps_every_float_digit(tmp_path):
    df = sample_table().assign(expected=[0.000123456789012345, 1.2345678901234567, 1e-20, 123456789.12345679, None])
    for fmt in ("json", "jsonl"):
        back = read_ratings(write_ratings(df, tmp_path / f"x.{fmt}"))
        assert back["expected"].tolist()[:4] == [0.000123456789012345, 1.2345678901234567, 1e-20, 123456789.12345679]
        assert pd.isna(back["expected"].iloc[4])


@pytest.mark.parametrize("fmt", FORMATS)
def test_long_texts_round_trip(fmt, tmp_path):
    """A response longer than the csv module's default 128 KiB field limit."""
    df = sample_table().assign(response=["\u0928" * 200_000] * 5)
    back = read_ratings(write_ratings(df, tmp_path / f"long.{fmt}"))
    assert back["response"].str.len().tolist() == [200_000] * 5


def test_drop_mode_that_leaves_nothing_lists_every_unreadable_record(tmp_path):
    # Every record unreadable: as when every row breaks the contract, the result is an
    # empty table and each record is listed as dropped with its line.
    csv_path = tmp_path / "r.csv"
    csv_path.write_text(HEADER + "a,hi,la,w1,human,1,extra\nb,hi,la,w1\n")
    result = load_ratings(csv_path, on_bad_rows="drop")
    assert result.table.empty and set(REQUIRED) <= set(result.table.columns)
    assert result.dropped["row"].tolist() == [2, 3] and result.n_input_rows == 2
    assert "has 7 fields" in result.problems[0].message
    jsonl_path = tmp_path / "r.jsonl"
    jsonl_path.write_text('[1, 2]\n{broken\n')
    result = load_ratings(jsonl_path, on_bad_rows="drop")
    assert result.table.empty and result.dropped["row"].tolist() == [1, 2]
    # a whole-file problem found after records were left out lists those records first
    jsonl_path.write_text('{broken\n{"item_id": "a", "language": "hi"}\n')
    with pytest.raises(InputError) as info:
        load_ratings(jsonl_path, on_bad_rows="drop")
    assert info.value.problems[0].row == 1 and "1 unreadable record(s)" in info.value.summary
    assert any("missing" in p.message for p in info.value.problems)

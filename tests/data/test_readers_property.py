"""Property-based tests of the ratings readers (hypothesis).

Random ratings files in every format, with rows broken in known ways (unknown
languages, scores off the scale or not numbers, wrong rater kinds, missing ids,
bad script codes, duplicate keys) and whole-file faults (a missing column, an
empty file, latin-1 bytes inside UTF-8, ragged CSV rows, a broken JSONL line).

The properties:
- only JudgecalError (InputError / ConfigError) ever escapes the readers;
- with ``on_bad_rows="drop"`` every input row is either in the table or in
  ``dropped`` with a reason, never both and never neither, and exactly the rows
  the test knows to be bad are dropped;
- with ``on_bad_rows="error"`` the InputError names the file and, for each bad
  row, its row (file line or record number) and column.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from judgecal.data.io import load_ratings
from judgecal.data.languages import UnknownLanguage, normalize_language
from judgecal.data.schema import normalize_ratings
from judgecal.errors import InputError, JudgecalError

FORMATS = ("csv", "tsv", "jsonl", "json", "parquet")
COLUMNS = ("item_id", "language", "script", "metric", "rater", "rater_kind", "score", "response", "tag")
REQUIRED = ("item_id", "language", "metric", "rater", "rater_kind", "score")

# Accepted spellings and the script each implies (checked by hand, not by judgecal).
LANGUAGES = {"hi": "Deva", "hindi": "Deva", "Punjabi": "Guru", "sr-Latn": "Latn", "zh_TW": "Hant",
             "ta": "Taml", "EN": "Latn", " bn ": "Beng"}
UNKNOWN_LANGUAGES = ("xx", "zz-notalang", "qwertyuiop", "12", "not a language")
METRIC_IDS = {"la": "la", "LA": "la", "linguistic_acceptability": "la", "tq": "tq",
              "task_quality": "tq", "h": "h", "hallucination": "h"}
GOOD_SCORES = {"la": (0, 1, 2, "2", "1.0", " 0 ", 2.0), "tq": (0, 1, 2, "0", 1.0),
               "h": (0, 1, True, False, "true", "No", "1")}
OFF_SCALE = {"la": (3, -1, 1.5, "7"), "tq": (5, 0.5, "-2"), "h": (2, 0.5, -1, "3")}
NOT_NUMBERS = ("abc", "1,5", "two", "nan", "inf", "1 2")
ROW_FAULTS = (*[None] * 14, "language", "score_off", "score_text", "score_missing",
              "bool_on_ordinal", "rater_kind", "metric", "item_missing", "rater_missing", "script", "nested")
FILE_FAULTS = (None, None, None, None, "drop_column", "empty", "latin1", "ragged", "bad_json_line")


def test_unknown_language_pool_is_really_unknown():
    for value in UNKNOWN_LANGUAGES:
        with pytest.raises(UnknownLanguage):
            normalize_language(value)


@dataclass
class Case:
    fmt: str
    records: list[dict]  # as written, one per data row
    bad: list[bool]  # the test's own verdict per record
    bad_column: list[set[str]]  # columns the reader must name for each record
    with_script: bool
    file_fault: str | None
    fault_at: int  # record index the file fault hits
    blank_before: list[bool]  # blank line before the record (text formats)


texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=15)


@st.composite
def cases(draw) -> Case:
    fmt = draw(st.sampled_from(FORMATS))
    n = draw(st.integers(1, 10))
    with_script = draw(st.booleans())
    records, bad, bad_column, seen = [], [], [], set()
    for i in range(n):
        lang = draw(st.sampled_from(sorted(LANGUAGES)))
        metric = draw(st.sampled_from(sorted(METRIC_IDS)))
        mid = METRIC_IDS[metric]
        rec = {
            "item_id": draw(st.sampled_from(["i1", "i2", " i3 ", 7])),
            "language": lang,
            "script": draw(st.sampled_from([LANGUAGES[lang], LANGUAGES[lang].upper(), None])),
            "metric": metric,
            "rater": draw(st.sampled_from(["r1", "r2", "judge-x"])),
            "rater_kind": draw(st.sampled_from(["human", "judge", " Human ", "JUDGE"])),
            "score": draw(st.sampled_from(GOOD_SCORES[mid])),
            "response": draw(texts),
            "tag": f"t{i}",
        }
        fault = draw(st.sampled_from(ROW_FAULTS))
        if fault == "language":
            rec["language"] = draw(st.sampled_from(UNKNOWN_LANGUAGES))
        elif fault == "score_off":
            rec["score"] = draw(st.sampled_from(OFF_SCALE[mid]))
        elif fault == "score_text":
            rec["score"] = draw(st.sampled_from(NOT_NUMBERS))
        elif fault == "score_missing":
            rec["score"] = draw(st.sampled_from([None, "", "  "]))
        elif fault == "bool_on_ordinal":
            rec["score"] = draw(st.sampled_from([True, False, "yes", "FALSE"]))
        elif fault == "rater_kind":
            rec["rater_kind"] = draw(st.sampled_from(["robot", "", "humans"]))
        elif fault == "metric":
            rec["metric"] = draw(st.sampled_from(["fluency", "l a", "h2"]))
        elif fault == "item_missing":
            rec["item_id"] = draw(st.sampled_from([None, "", "   "]))
        elif fault == "rater_missing":
            rec["rater"] = draw(st.sampled_from([None, ""]))
        elif fault == "script" and with_script:
            # not a 4-letter code, or clashing with the tag's own script subtag
            rec["script"] = "Cyrl" if lang == "sr-Latn" else draw(st.sampled_from(["Latin", "De", "12ab"]))
        elif fault == "nested" and fmt in ("json", "jsonl"):
            # JSON can hold a list or an object where one value belongs
            col = draw(st.sampled_from(["language", "metric", "item_id", "rater", "score", "rater_kind"]))
            rec[col] = draw(st.sampled_from([[rec[col]], {"value": rec[col]}, [1, 2]]))
        if i and draw(st.integers(0, 4)) == 0:  # repeat an earlier row's key exactly
            prev = records[draw(st.integers(0, i - 1))]
            for key in ("item_id", "metric", "rater"):
                rec[key] = prev[key]
        columns = bad_columns(rec, with_script)
        if not columns:
            key = (str(rec["item_id"]).strip(), METRIC_IDS[rec["metric"]], str(rec["rater"]).strip())
            if key in seen:
                columns = {"item_id"}  # duplicate rating of an earlier good row
            seen.add(key)
        is_bad = bool(columns)
        records.append(rec)
        bad.append(is_bad)
        bad_column.append(columns)
    file_fault = draw(st.sampled_from(FILE_FAULTS))
    if file_fault == "ragged" and fmt not in ("csv", "tsv"):
        file_fault = None
    if file_fault == "bad_json_line" and fmt != "jsonl":
        file_fault = None
    if file_fault == "latin1" and fmt == "parquet":
        file_fault = None
    blank = [fmt in ("csv", "tsv", "jsonl") and draw(st.integers(0, 5)) == 0 for _ in records]
    return Case(fmt, records, bad, bad_column, with_script, file_fault, draw(st.integers(0, n - 1)), blank)


_TRUE_FALSE = {"true", "false", "yes", "no", "t", "f", "y", "n"}
_LEVELS = {"la": (0, 1, 2), "tq": (0, 1, 2), "h": (0, 1)}


def _score_ok(value, mid: str) -> bool:
    """The test's own reading of a score cell (independent of judgecal)."""
    if value is None:
        return False
    if isinstance(value, bool):
        return mid == "h"
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE_FALSE:
            return mid == "h"
        try:
            value = float(text)
        except ValueError:
            return False
    return math.isfinite(value) and value in _LEVELS[mid]


def bad_columns(rec: dict, with_script: bool) -> set[str]:
    """Columns of a record that judgecal must reject, by the test's own rules."""
    nested = {c for c in REQUIRED if isinstance(rec[c], (list, dict))}
    if nested:
        return nested
    bad = set()
    for col in ("item_id", "rater"):
        if rec[col] is None or not str(rec[col]).strip():
            bad.add(col)
    if rec["language"] in UNKNOWN_LANGUAGES:
        bad.add("language")
    if str(rec["rater_kind"]).strip().lower() not in ("human", "judge"):
        bad.add("rater_kind")
    mid = METRIC_IDS.get(rec["metric"])
    if mid is None:
        bad.add("metric")
    script = rec["script"] if with_script else None
    if script in ("Latin", "De", "12ab") or (rec["language"] == "sr-Latn" and script == "Cyrl"):
        bad.add("script")
    if mid is not None and not _score_ok(rec["score"], mid):
        bad.add("score")
    elif mid is None and not _score_ok(rec["score"], "la") and not _score_ok(rec["score"], "h"):
        # with an unknown metric only "missing" and "not a number" can be told
        text = "" if rec["score"] is None else str(rec["score"]).strip().lower()
        if text in ("", *NOT_NUMBERS):
            bad.add("score")
    return bad


def _cell(value):
    """How a value looks in a delimited file."""
    return "" if value is None else str(value)


def write_case(case: Case, path) -> tuple[list[int], str | None]:
    """Write the file; return the row number judgecal should report for each
    record, and the column a "drop_column" fault removed."""
    columns = [c for c in COLUMNS if c != "script" or case.with_script]
    dropped_column = None
    if case.file_fault == "drop_column":
        dropped_column = REQUIRED[case.fault_at % len(REQUIRED)]
        columns.remove(dropped_column)
    records = [{c: r[c] for c in columns} for r in case.records]
    if case.file_fault == "latin1":
        records[case.fault_at]["response"] = "LATIN1MARK"
    rows: list[int] = []
    if case.file_fault == "empty":
        if case.fmt == "parquet":
            pd.DataFrame({c: pd.Series(dtype=object) for c in columns}).to_parquet(path)
        else:
            path.write_bytes(b"" if case.fault_at % 2 else b"  \n\n")
        return rows, None
    if case.fmt in ("csv", "tsv"):
        out = io.StringIO()
        # CRLF + minimal quoting: fields with any line break are quoted (RFC 4180)
        writer = csv.writer(out, delimiter="," if case.fmt == "csv" else "\t", lineterminator="\r\n")
        writer.writerow(columns)
        line = 2
        for i, rec in enumerate(records):
            if case.blank_before[i]:
                out.write("\r\n")
                line += 1
            cells = [_cell(rec[c]) for c in columns]
            if case.file_fault == "ragged" and i == case.fault_at:
                cells.append("extra")
            start = out.tell()
            writer.writerow(cells)
            rows.append(line)
            # the reader counts lines as io.StringIO(newline="") splits them
            line += len(io.StringIO(out.getvalue()[start:], newline="").readlines())
        data = out.getvalue().encode("utf-8")
    elif case.fmt == "jsonl":
        lines = []
        for i, rec in enumerate(records):
            if case.blank_before[i]:
                lines.append("")
            text = json.dumps(rec, ensure_ascii=False)
            if case.file_fault == "bad_json_line" and i == case.fault_at:
                text = text[:-1]  # cut the closing brace
            lines.append(text)
            rows.append(len(lines))
        data = "\n".join(lines).encode("utf-8")
    elif case.fmt == "json":
        data = ("[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n]").encode("utf-8")
        rows = list(range(1, len(records) + 1))
    else:
        # Parquet columns have one type: write every value as text (or null)
        frame = pd.DataFrame({c: [None if r[c] is None else str(r[c]) for r in records] for c in columns})
        frame.to_parquet(path, index=False)
        return list(range(1, len(records) + 1)), dropped_column
    if case.file_fault == "latin1":
        data = data.replace(b"LATIN1MARK", "caf\u00e9".encode("latin-1"))
    path.write_bytes(data)
    return rows, dropped_column


def _check_error(exc: JudgecalError, case: Case, path, rows: list[int], dropped_column: str | None) -> None:
    assert isinstance(exc, InputError), f"unexpected {type(exc).__name__}: {exc}"
    assert exc.problems, "an InputError must list its problems"
    assert all(p.file == str(path) for p in exc.problems), [str(p) for p in exc.problems]
    assert str(exc)  # renders without error
    fault = case.file_fault
    if fault == "drop_column":
        assert any(p.column == dropped_column and "missing" in p.message for p in exc.problems)
    elif fault == "empty":
        assert any("empty" in p.message or "no rows" in p.message for p in exc.problems)
    elif fault == "latin1":
        raw = path.read_bytes()
        line = raw[: raw.index(b"caf\xe9")].count(b"\n") + 1
        assert any(p.row == line and "utf-8" in p.message for p in exc.problems), [str(p) for p in exc.problems]
    elif fault == "ragged":
        assert any(p.row == rows[case.fault_at] and "fields" in p.message for p in exc.problems)
    elif fault == "bad_json_line":
        assert any(p.row == rows[case.fault_at] and "JSON" in p.message for p in exc.problems)
    else:
        named = {(p.row, p.column) for p in exc.problems}
        for i, columns in enumerate(case.bad_column):
            for column in columns:
                assert (rows[i], column) in named, (
                    f"record {i} ({case.records[i]}) should be reported at row {rows[i]}, "
                    f"column {column!r}; got {[str(p) for p in exc.problems]}"
                )
        reported_rows = {p.row for p in exc.problems}
        assert reported_rows <= {rows[i] for i, b in enumerate(case.bad) if b}, "a good row was reported"


@settings(max_examples=90, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=cases())
def test_readers_never_crash_and_never_lose_rows(case, tmp_path):
    path = tmp_path / f"ratings.{case.fmt}"
    rows, dropped_column = write_case(case, path)
    # A ragged CSV line or a broken JSONL line spoils one record: drop mode drops it,
    # error mode refuses the file. The other faults spoil the whole file.
    record_fault = case.file_fault in ("ragged", "bad_json_line")
    whole_file_fault = case.file_fault is not None and not record_fault
    n_bad = sum(case.bad)
    event(f"{case.fmt}: {case.file_fault or ('bad rows' if n_bad else 'clean')}")

    # drop mode: account for every row
    try:
        result = load_ratings(path, on_bad_rows="drop")
    except JudgecalError as exc:
        # drop mode fails on whole-file faults only, never on bad rows
        assert whole_file_fault, f"drop mode failed on row-level faults only: {exc}"
        _check_error(exc, case, path, rows, dropped_column)
    else:
        assert not whole_file_fault, f"{case.file_fault} was not detected"
        assert result.n_input_rows == len(case.records)
        assert len(result.table) + len(result.dropped) == result.n_input_rows
        assert (result.dropped["reason"].str.len() > 0).all()
        kept_rows = {rows[int(t[1:])] for t in result.table.get("tag", [])}  # no tag column when nothing is kept
        dropped_rows = set(result.dropped["row"].astype(int))
        assert not kept_rows & dropped_rows
        assert kept_rows | dropped_rows == set(rows)
        bad_rows = {rows[i] for i, b in enumerate(case.bad) if b}
        if record_fault:
            fault_row = rows[case.fault_at]
            assert fault_row in dropped_rows
            reason = result.dropped.loc[result.dropped["row"] == fault_row, "reason"].iloc[0]
            assert ("fields" in reason) if case.file_fault == "ragged" else ("JSON" in reason)
            # a later repeat of the spoiled record's key is no longer a repeat, so it may be kept
            repeats = {rows[i] for i, cols in enumerate(case.bad_column) if cols == {"item_id"}}
            assert bad_rows - repeats <= dropped_rows <= bad_rows | {fault_row}
        else:
            assert dropped_rows == bad_rows
            assert len(result.problems) >= n_bad
        if len(result.table):
            assert result.table["score"].dtype == float
            assert set(result.table["language"]) <= {"hi", "pa", "sr-Latn", "zh-Hant", "ta", "en", "bn"}
            assert set(result.table["metric"]) <= {"la", "tq", "h"}
            assert set(result.table["rater_kind"]) <= {"human", "judge"}
            assert result.table["script"].isin(["Deva", "Guru", "Latn", "Hant", "Taml", "Beng"]).all()

    # error mode: all or nothing, and the error says where
    try:
        table = load_ratings(path, on_bad_rows="error").table
    except JudgecalError as exc:
        assert whole_file_fault or record_fault or n_bad, f"good file rejected: {exc}"
        _check_error(exc, case, path, rows, dropped_column)
    else:
        assert not whole_file_fault and not record_fault and not n_bad
        assert len(table) == len(case.records)
        assert list(table["tag"]) == [r["tag"] for r in case.records]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fmt=st.sampled_from(("csv", "tsv", "jsonl", "json")),
    data=st.binary(max_size=300),
)
def test_random_bytes_give_only_judgecal_errors(fmt, data, tmp_path):
    """Whatever the bytes, a reader raises a JudgecalError or returns a checked table."""
    path = tmp_path / f"noise.{fmt}"
    path.write_bytes(data)
    for mode in ("drop", "error"):
        try:
            result = load_ratings(path, on_bad_rows=mode)
        except JudgecalError:
            continue
        assert len(result.table) + len(result.dropped) == result.n_input_rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.lists(st.sampled_from([*REQUIRED, "script", "x", "", "item_id"]), min_size=1, max_size=8),
    body=st.lists(st.lists(st.sampled_from(["hi", "la", "1", "human", "", "r1", "a,b", "\u0a2a"]), max_size=9), max_size=6),
)
def test_csv_with_random_headers_and_ragged_rows(header, body, tmp_path):
    path = tmp_path / "r.csv"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(body)
    path.write_text(out.getvalue(), encoding="utf-8")
    ragged = {i + 2 for i, r in enumerate(body) if r and len(r) != len(header)}
    header_ok = len(set(header)) == len(header) and all(h.strip() for h in header)
    try:
        load_ratings(path, on_bad_rows="error")
    except JudgecalError as exc:
        assert isinstance(exc, InputError)
        assert all(p.file == str(path) for p in exc.problems)
        if ragged and header_ok:
            assert {p.row for p in exc.problems} == ragged
    else:
        assert not ragged and header_ok
    try:
        result = load_ratings(path, on_bad_rows="drop")
    except JudgecalError as exc:
        assert isinstance(exc, InputError)
        assert all(p.file == str(path) for p in exc.problems)
        # drop mode drops ragged lines and never fails on them alone: the error has another cause
        # (the ragged lines are listed too, so that an error about what is left explains itself)
        assert [p for p in exc.problems if p.row not in ragged or "fields" not in p.message]
        return
    assert len(result.table) + len(result.dropped) == result.n_input_rows == sum(1 for r in body if r)
    assert ragged <= set(result.dropped["row"])


# --- write -> read round trip ---------------------------------------------------

any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=25)
ids = st.text(st.characters(exclude_categories=("Cs", "Zs", "Cc", "Zl", "Zp")), min_size=1, max_size=12)


@st.composite
def valid_tables(draw) -> pd.DataFrame:
    n = draw(st.integers(1, 12))
    keys = draw(st.lists(st.tuples(ids, st.sampled_from(["la", "tq", "h"]), ids), min_size=n, max_size=n, unique=True))
    rows = []
    for item, metric, rater in keys:
        levels = (0.0, 1.0) if metric == "h" else (0.0, 1.0, 2.0)
        probs = draw(st.none() | st.dictionaries(st.sampled_from(["0", "1", "2"]), st.floats(0, 1), min_size=1))
        rows.append({
            "item_id": item, "language": draw(st.sampled_from(["hi", "pa-Arab", "sr-Latn", "zh-TW", "ta"])),
            "metric": metric, "rater": rater, "rater_kind": draw(st.sampled_from(["human", "judge"])),
            "score": draw(st.sampled_from(levels)), "response": draw(any_text), "justification": draw(st.none() | any_text),
            "score_probs": probs,
            "cost": draw(st.none() | st.floats(allow_nan=False, allow_infinity=False, width=64)),
        })
    return pd.DataFrame(rows)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=valid_tables(), fmt=st.sampled_from(FORMATS))
def test_write_then_read_gives_the_same_table(frame, fmt, tmp_path):
    from judgecal.data.io import read_ratings, write_ratings

    table = normalize_ratings(frame).table
    back = read_ratings(write_ratings(table, tmp_path / f"t.{fmt}"))
    assert len(back) == len(table)
    for col in ("item_id", "language", "script", "metric", "rater", "rater_kind", "score"):
        assert back[col].tolist() == table[col].tolist(), col
    # texts come back exactly; CSV cannot tell an empty text from a missing one
    blank = (lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else v)  # noqa: E731
    for col in ("response", "justification"):
        assert [blank(v) for v in back[col]] == [blank(v) for v in table[col]], col
    for got, want in zip(back["score_probs"], table["score_probs"], strict=True):
        assert (json.loads(got) if isinstance(got, str) else None) == want
    for got, want in zip(back["cost"], table["cost"], strict=True):
        if want is None or (isinstance(want, float) and math.isnan(want)):
            assert got is None or pd.isna(got)
        else:
            assert float(got) == want  # exact: no digits lost in any format


# --- any Python values in a DataFrame ------------------------------------------

cell_values = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["hi", "hindi", "la", "h", "human", "judge", "Deva", "1", "true", "", " "]),
    st.text(max_size=8), st.binary(max_size=4), st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
    st.just(pd.Timestamp("2024-01-01")), st.just(float("nan")),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.fixed_dictionaries({c: cell_values for c in ("item_id", "language", "script", "metric", "rater", "rater_kind", "score", "task")}), min_size=1, max_size=8))
def test_normalize_any_values_only_judgecal_errors_and_full_accounting(records):
    df = pd.DataFrame(records, dtype=object)
    try:
        result = normalize_ratings(df, on_bad_rows="drop")
    except JudgecalError as exc:
        raise AssertionError(f"drop mode raised on row-level values: {exc}") from exc
    assert len(result.table) + len(result.dropped) == len(df)
    assert (result.dropped["reason"].str.len() > 0).all()
    assert sorted(result.dropped["row"]) == sorted(set(result.dropped["row"]))
    if len(result.table):
        assert result.table["score"].map(math.isfinite).all()
        assert set(result.table["rater_kind"]) <= {"human", "judge"}
        assert result.table["item_id"].map(lambda v: isinstance(v, str) and v.strip() == v and v != "").all()
    try:
        normalize_ratings(df, on_bad_rows="error")
    except InputError as exc:
        assert len(result.dropped) > 0
        assert {p.row for p in exc.problems} == set(result.dropped["row"])
    else:
        assert len(result.dropped) == 0

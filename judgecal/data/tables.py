"""Reading one table file as it is: CSV, TSV, JSONL, JSON or Parquet.

Text columns stay strings and every record keeps its row number in the file, so
that later checks can say where a problem is. ``judgecal.data.io`` builds the
ratings table on top of this (column mappings, the contract checks).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from judgecal.data.delimited import restore_formulas
from judgecal.errors import ConfigError, InputError, Problem

FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def detect_format(path: str | Path, fmt: str | None = None) -> str:
    """The table format of ``path``: ``fmt`` if given (checked), else from the extension.

    Returns one of ``csv``, ``tsv``, ``jsonl``, ``json``, ``parquet``; ConfigError for an
    unknown format or extension.

    Examples
    --------
    >>> detect_format("ratings.TSV"), detect_format("ratings.txt", "csv")
    ('tsv', 'csv')
    """
    if fmt:
        if fmt not in set(FORMATS.values()):
            raise ConfigError(f"unknown format {fmt!r}; use one of {sorted(set(FORMATS.values()))}")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ConfigError(
            f"{path}: cannot tell the format from the extension {suffix!r}; "
            f"use one of {sorted(FORMATS)} or pass a format"
        )
    return FORMATS[suffix]


def read_table(path: str | Path, fmt: str | None = None, *, encoding: str = "utf-8",
               skipped: list[Problem] | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """Read a file as it is (text columns as strings) and the file row of each record.

    Row numbers: CSV/TSV count the header as row 1; JSONL counts lines from 1;
    JSON and Parquet count records from 1. Records that cannot be read (a CSV
    line with the wrong number of fields, a JSONL line that is not an object)
    raise InputError, unless a list is passed as ``skipped``: then they are left
    out and one Problem per record is appended to it.
    """
    path = Path(path)
    # What the path is comes first: a folder or a missing file has no format to tell.
    if not path.exists():
        raise InputError(Problem("file does not exist", file=str(path)), summary="cannot read input")
    if path.is_dir():
        raise InputError(Problem("is a folder, not a file", file=str(path)), summary="cannot read input")
    fmt = detect_format(path, fmt)
    if fmt == "parquet":
        try:
            df = _read_parquet(path)
        except Exception as exc:  # pyarrow raises several unrelated types
            raise InputError(Problem(f"not a readable Parquet file: {exc}", file=str(path)), summary="cannot read input") from exc
        return df, np.arange(1, len(df) + 1)
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError(Problem("the file is empty", file=str(path)), summary="cannot read input")
    text = _decode(raw, str(path), encoding)
    if fmt in ("csv", "tsv"):
        df, rows = _read_delimited(text, str(path), "," if fmt == "csv" else "\t", skipped)
        return restore_formulas(df, text), rows  # undo the quote judgecal's writers put before formula-like text
    if fmt == "jsonl":
        return _read_jsonl(text, str(path), skipped)
    return _read_json(text, str(path))


def _read_parquet(path: Path) -> pd.DataFrame:
    """Parquet as pandas, with integer columns that hold nulls as nullable Int64:
    plain pandas turns them into floats, and integer ids into "7.0"."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    df = table.to_pandas()
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_integer(column.type) and column.null_count:
            df[name] = table.select([name]).to_pandas(types_mapper={column.type: pd.Int64Dtype()}.get)[name]
    return df


def _decode(raw: bytes, source: str, encoding: str) -> str:
    import codecs

    try:
        # any spelling of UTF-8 (utf8, UTF_8, U8) also drops a byte-order mark
        utf8 = codecs.lookup(encoding).name == "utf-8"
        return raw.decode("utf-8-sig" if utf8 else encoding)
    except UnicodeDecodeError:
        pass
    except LookupError as exc:
        raise ConfigError(f"unknown text encoding {encoding!r}") from exc
    problems = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        try:
            line.decode(encoding)
        except UnicodeDecodeError as exc:
            problems.append(
                Problem(
                    f"not valid {encoding} (byte {line[exc.start]:#04x} at character {exc.start + 1}); "
                    "save the file as UTF-8 or pass its encoding",
                    file=source,
                    row=number,
                )
            )
    raise InputError(problems, summary=f"{source} mixes text encodings or is not {encoding}")


def _read_delimited(text: str, source: str, sep: str, skipped: list[Problem] | None) -> tuple[pd.DataFrame, np.ndarray]:
    import csv
    import io

    # Model responses can be longer than the csv module's default field limit
    # (128 KiB); the whole file is in memory already, so no limit is needed.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    # Row numbers are the file line each record starts on, so that problems point
    # at the right line even after blank lines or quoted fields spanning lines.
    records, starts = [], []
    try:
        while True:
            start = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                break
            if record:  # blank lines carry no record
                records.append(record)
                starts.append(start)
    except csv.Error as exc:
        raise InputError(Problem(f"malformed {'TSV' if sep == chr(9) else 'CSV'}: {exc}", file=source, row=reader.line_num), summary="cannot read input") from exc
    header, body = records[0], records[1:]
    problems = []
    if len(set(header)) != len(header) or any(not h.strip() for h in header):
        dupes = sorted({h for h in header if header.count(h) > 1 or not h.strip()})
        problems.append(Problem("header has empty or repeated column names", file=source, row=starts[0], value=dupes))
    if problems:
        raise InputError(problems, summary=f"{source} is not a well-formed table")
    ragged = [Problem(f"has {len(rec)} fields, the header has {len(header)}", file=source, row=line)
              for line, rec in zip(starts[1:], body, strict=True) if len(rec) != len(header)]
    if ragged and skipped is None:
        raise InputError(ragged, summary=f"{source} is not a well-formed table")
    if ragged:
        skipped.extend(ragged)
        keep = [i for i, rec in enumerate(body) if len(rec) == len(header)]
        body_starts = starts[1:]  # sliced once: slicing inside the loop made drop mode quadratic in the lines
        body, starts = [body[i] for i in keep], [starts[0]] + [body_starts[i] for i in keep]
    df = pd.DataFrame(body, columns=header, dtype=object)
    df = df.replace({"": None})
    return df, np.asarray(starts[1:], dtype=int)


def _read_jsonl(text: str, source: str, skipped: list[Problem] | None) -> tuple[pd.DataFrame, np.ndarray]:
    records, rows, problems = [], [], []
    # Split on "\n" only: str.splitlines also breaks at U+2028, U+0085 and other
    # characters that JSON strings may hold unescaped.
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(f"not valid JSON: {exc.msg}", file=source, row=number, value=line[:80]))
            continue
        if not isinstance(obj, dict):
            problems.append(Problem("each line must be a JSON object", file=source, row=number, value=line[:80]))
            continue
        records.append(obj)
        rows.append(number)
    if problems and skipped is None:
        raise InputError(problems, summary=f"{source} has lines that are not JSON objects")
    if skipped is not None:
        skipped.extend(problems)
    return _records_frame(records), np.asarray(rows, dtype=int)


def _read_json(text: str, source: str) -> tuple[pd.DataFrame, np.ndarray]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(Problem(f"not valid JSON: {exc.msg}", file=source, row=exc.lineno), summary="cannot read input") from exc
    if isinstance(data, dict) and isinstance(data.get("ratings"), list):
        data = data["ratings"]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InputError(Problem("expected a list of objects (or {\"ratings\": [...]})", file=source), summary="cannot read input")
    return _records_frame(data), np.arange(1, len(data) + 1)


def _records_frame(records: list[dict]) -> pd.DataFrame:
    """JSON objects as a DataFrame; integer columns that also hold nulls become
    nullable Int64 rather than floats, so integer ids stay "7", not "7.0"."""
    df = pd.DataFrame.from_records(records)
    for col in df.columns:
        if df[col].dtype == float and df[col].isna().any():
            values = [r.get(col) for r in records]
            if all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in values):
                df[col] = pd.array(values, dtype="Int64")
    return df

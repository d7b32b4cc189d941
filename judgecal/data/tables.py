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

from judgecal.data._read_delimited import read_delimited
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
    source = str(path)
    # What the path is comes first: a folder or a missing file has no format to tell.
    if not path.exists():
        raise InputError(Problem("file does not exist", file=source), summary="cannot read input")
    if path.is_dir():
        raise InputError(Problem("is a folder, not a file", file=source), summary="cannot read input")
    if not path.is_file():
        # /dev/zero, /dev/urandom, a pipe: endless or blocking, and nothing to point a row number at
        raise InputError(Problem("is not a regular file (a device, pipe or socket); save the data to a file and "
                                 "give that", file=source), summary="cannot read input")
    fmt = detect_format(path, fmt)
    if fmt == "parquet":
        try:
            df = _read_parquet(path)
        except Exception as exc:  # pyarrow raises several unrelated types
            raise InputError(Problem(f"not a readable Parquet file: {exc}", file=source), summary="cannot read input") from exc
        return df, np.arange(1, len(df) + 1)
    codec = _codec(encoding)
    if path.stat().st_size == 0:
        raise InputError(Problem("the file is empty", file=source), summary="cannot read input")
    try:
        if fmt in ("csv", "tsv"):
            lines = lambda: _text_lines(path, codec, source, newline="")  # noqa: E731 (read again to explain a fault)
            df, rows = read_delimited(lines, source, "," if fmt == "csv" else "\t", skipped, path.stat().st_size)
            return restore_formulas(df), rows  # undo the quote judgecal's writers put before formula-like text
        if fmt == "jsonl":
            return _read_jsonl(_text_lines(path, codec, source, newline="\n"), source, skipped)
        text = path.read_bytes().decode(codec)
        if not text.strip():
            raise InputError(Problem("the file is empty", file=source), summary="cannot read input")
        return _read_json(text, source)
    except UnicodeDecodeError:
        raise _encoding_error(path, source, encoding) from None


# The longest physical line read, in characters: a ratings file's lines are records
# (or lines of a text in a quoted value); a longer one is a file without line ends
# or binary data, and parsing it would take memory many times its size.
MAX_LINE_CHARS = 16 * 2**20


def _text_lines(path: Path, codec: str, source: str, *, newline: str):
    """The lines of a text file, decoded as they are read (never the whole file
    at once), each at most :data:`MAX_LINE_CHARS` long. ``newline=""`` splits
    at \\n, \\r\\n and \\r as the csv module counts lines; ``"\\n"`` only at \\n
    (JSONL: strings may hold U+2028 and other line-like characters)."""
    import io

    limit = MAX_LINE_CHARS
    with path.open("rb") as raw, io.TextIOWrapper(raw, encoding=codec, newline=newline) as fh:
        number = 0
        while line := fh.readline(limit + 1):
            number += 1
            if len(line) > limit:
                raise InputError(Problem(f"the line is longer than {limit:,} characters: not a line of a ratings "
                                         "table (a file without line ends, or binary data?)", file=source,
                                         row=number), summary="cannot read input")
            yield line


def _codec(encoding: str) -> str:
    import codecs

    try:
        # any spelling of UTF-8 (utf8, UTF_8, U8) also drops a byte-order mark
        return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
    except LookupError as exc:
        raise ConfigError(f"unknown text encoding {encoding!r}") from exc


def _encoding_error(path: Path, source: str, encoding: str) -> InputError:
    """Every line that is not valid ``encoding``, read again line by line."""
    problems = []
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError as exc:
                problems.append(Problem(
                    f"not valid {encoding} (byte {line[exc.start]:#04x} at character {exc.start + 1}); "
                    "save the file as UTF-8 or pass its encoding", file=source, row=number))
    if not problems:  # a character split across lines (UTF-16, say): the file as a whole is not this encoding
        problems.append(Problem(f"not valid {encoding}; save the file as UTF-8 or pass its encoding", file=source))
    return InputError(problems, summary=f"{source} mixes text encodings or is not {encoding}")


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


def _read_jsonl(lines, source: str, skipped: list[Problem] | None) -> tuple[pd.DataFrame, np.ndarray]:
    """JSON objects, one per line of ``lines`` (split at \\n only: JSON strings
    may hold U+2028, U+0085 and other characters str.splitlines breaks at)."""
    records, rows, problems = [], [], []
    for number, line in enumerate(lines, start=1):
        line = line.removesuffix("\n").removesuffix("\r")
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
    if not records and not problems:
        raise InputError(Problem("the file is empty", file=source), summary="cannot read input")
    if problems and skipped is None:
        raise InputError(problems, summary=f"{source} has lines that are not JSON objects", droppable=True)
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

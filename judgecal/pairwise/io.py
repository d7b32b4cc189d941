"""Reading and writing battles tables: CSV, TSV, JSONL, JSON and Parquet.

The same readers and explicit column mappings as the ratings table
(:mod:`judgecal.data.tables`, :class:`judgecal.data.io.ColumnMapping`); other
verdict codes (``A``/``B``/``C``, ``0``/``1``/``2``) come in through an explicit
``verdict_codes`` mapping, never a guess. Problems are reported in the file's
own terms (its column names and rows).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pandas as pd

from judgecal.data.battles import VERDICTS, empty_battles, normalize_battles
from judgecal.data.io import ColumnMapping, apply_mapping, write_ratings
from judgecal.data.schema import CheckResult
from judgecal.data.tables import read_table
from judgecal.errors import ConfigError, InputError, Problem


def map_verdict_codes(values: pd.Series, codes: Mapping[str, str]) -> pd.Series:
    """Verdict cells translated by ``codes`` (file code -> first/tie/second);
    cells without a code are kept as they are, so the contract check reports them."""
    bad = sorted({str(v) for v in codes.values()} - set(VERDICTS))
    if bad:
        raise ConfigError(f"verdict_codes must map to {VERDICTS}; got {bad}")
    lookup = {str(k).strip(): v for k, v in codes.items()}
    text = values.astype("string").str.strip().str.replace(r"^(-?\d+)\.0$", r"\1", regex=True)
    return text.map(lambda v: lookup.get(v, v) if isinstance(v, str) else v).astype(object).where(values.notna(), None)


def load_battles(
    path: str | Path,
    mapping: ColumnMapping | None = None,
    *,
    verdict_codes: Mapping[str, str] | None = None,
    fmt: str | None = None,
    encoding: str = "utf-8",
    on_bad_rows: str = "error",
    check_texts: bool = True,
) -> CheckResult:
    """Read a battles file, map its columns and verdict codes, check the contract.

    With ``on_bad_rows="drop"`` unreadable records and rows that break the
    contract are left out and each is listed in ``dropped`` (row, reason) and
    ``problems``; otherwise one InputError lists every problem.
    """
    source = str(path)
    skipped: list[Problem] | None = [] if on_bad_rows == "drop" else None
    df, rows = read_table(path, fmt, encoding=encoding, skipped=skipped)
    if skipped and len(df) == 0:
        result = CheckResult(table=empty_battles())
    else:
        try:
            df, rows = apply_mapping(df, rows, mapping or ColumnMapping(), source)
            if mapping is not None and mapping.wide:
                raise ConfigError("wide mappings (one column per metric) do not apply to battles")
            if verdict_codes and "verdict" in df.columns:
                df = df.assign(verdict=map_verdict_codes(df["verdict"], verdict_codes))
            result = normalize_battles(df, source=source, row_numbers=rows, on_bad_rows=on_bad_rows,
                                       check_texts=check_texts)
            result.problems = _in_file_terms(result.problems, mapping)
        except InputError as exc:
            problems = _in_file_terms(exc.problems, mapping)
            if skipped:
                raise InputError([*skipped, *problems],
                                 summary=f"{exc.summary} (after leaving out {len(skipped)} unreadable record(s))") from exc
            raise InputError(problems, summary=exc.summary) from None
    return result.add_unread(skipped or [])


def read_battles(path: str | Path, mapping: ColumnMapping | None = None, **kwargs) -> pd.DataFrame:
    """Read a battles file; raise :class:`InputError` listing every problem."""
    return load_battles(path, mapping, on_bad_rows="error", **kwargs).table


def write_battles(df: pd.DataFrame, path: str | Path, fmt: str | None = None) -> Path:
    """Write a battles table atomically (a temporary file renamed into place);
    the format follows the extension."""
    return write_ratings(df, path, fmt=fmt)  # atomic, and CSV/TSV safe for spreadsheets


def _in_file_terms(problems: list[Problem], mapping: ColumnMapping | None) -> list[Problem]:
    """Problems named by the file's own column names where the mapping renamed them."""
    if mapping is None or mapping.empty:
        return problems
    names = {t: src if isinstance(src, str) else "+".join(src) for t, src in mapping.columns.items()}
    return [replace(p, column=names[p.column]) if p.column in names else p for p in problems]


__all__ = ["ColumnMapping", "load_battles", "read_battles", "write_battles", "map_verdict_codes"]

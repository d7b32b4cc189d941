"""Reading the generations to be judged.

A generations table has one row per model output: ``item_id``, ``language``,
``prompt``, ``response`` and optionally ``reference``, ``task``, ``system``,
``prompt_id``, ``script``. Files may be JSONL, CSV/TSV, JSON or Parquet. Every
problem is reported at once with its row; nothing is dropped silently.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from judgecal.data.io import read_table
from judgecal.data.languages import UnknownLanguage, normalize_language
from judgecal.data.schema import SCRIPT_CLASH, SCRIPT_INVALID, check_scripts
from judgecal.errors import InputError, Problem

REQUIRED = ("item_id", "language", "prompt", "response")
OPTIONAL = ("reference", "task", "system", "prompt_id", "script")


def read_generations(source: str | Path | pd.DataFrame, *, task: str | None = None,
                     known_tasks: set[str] | None = None, fmt: str | None = None,
                     encoding: str = "utf-8") -> pd.DataFrame:
    """The generations as a checked DataFrame with a ``task`` for every row.

    ``task`` is used for rows without one (and when there is no task column);
    a row without a task when ``task`` is None is a problem. ``fmt`` and
    ``encoding`` are those of a file (default: format from the extension, UTF-8).
    """
    if isinstance(source, pd.DataFrame):
        df, rows, name = source.reset_index(drop=True).copy(), list(range(1, len(source) + 1)), "generations"
    else:
        df, rows = read_table(source, fmt, encoding=encoding)
        df, rows, name = df.reset_index(drop=True), list(rows), str(source)
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise InputError(
            [Problem(f"required column {c!r} is missing (columns found: {', '.join(map(str, df.columns))})",
                     file=name, column=c) for c in missing],
            summary=f"{name} is not a generations table",
        )
    if df.empty:
        raise InputError(Problem("the table has no rows", file=name), summary="nothing to judge")
    problems: list[Problem] = []
    for col, allow_empty in (("item_id", False), ("prompt", False), ("response", True), ("language", False)):
        problems += _check_text(df, col, allow_empty, name, rows)  # an empty answer is a legitimate thing to judge
    problems += _duplicate_ids(df, name, rows)
    langs, scripts, found = _languages_and_scripts(df, name, rows)
    problems += found
    problems += _fill_tasks(df, task, known_tasks, name, rows)
    if problems:
        raise InputError(problems, summary=f"{len(problems)} problem(s) in {name}")
    df["item_id"] = df["item_id"].astype(str)
    df["language"] = [langs[i] for i in range(len(df))]
    df["script"] = scripts.to_numpy()
    if "reference" in df.columns:
        df["reference"] = df["reference"].where(df["reference"].notna(), None)
    return df


def _check_text(df: pd.DataFrame, col: str, allow_empty: bool, name: str, rows: list) -> list[Problem]:
    """Missing (and, unless allowed, empty) texts of a column; numbers become text in place."""
    problems = []
    df[col] = df[col].astype(object)  # numbers (integer ids in JSON or Parquet) become text below
    for i, v in enumerate(df[col]):
        if v is None or (isinstance(v, float) and pd.isna(v)):
            problems.append(Problem("missing value", file=name, row=rows[i], column=col))
        elif not isinstance(v, str):
            df.at[i, col] = str(v)
        elif not allow_empty and not v.strip():
            problems.append(Problem("empty text", file=name, row=rows[i], column=col, value=v))
    return problems


def _duplicate_ids(df: pd.DataFrame, name: str, rows: list) -> list[Problem]:
    ids = df["item_id"][df["item_id"].notna()]  # a missing id is reported already, not as a duplicate of another
    dup = ids.astype(str).duplicated(keep="first")
    return [Problem("duplicate item_id (appears on an earlier row)", file=name, row=rows[i], column="item_id",
                    value=df.at[i, "item_id"]) for i in dup[dup].index]


def _languages_and_scripts(df: pd.DataFrame, name: str, rows: list) -> tuple[dict, pd.Series, list[Problem]]:
    """Normalised language per row (by position), the script column, and their problems."""
    problems = []
    langs = {}
    for i, v in enumerate(df["language"]):
        if isinstance(v, str) and v.strip():
            try:
                langs[i] = normalize_language(v)
            except UnknownLanguage:
                problems.append(Problem("not a BCP-47 tag or a known language name", file=name, row=rows[i],
                                        column="language", value=v))
    # The script column, checked as the ratings table checks it: judge rows must read back.
    lang_col = pd.Series([langs.get(i) for i in range(len(df))], dtype=object)
    script_col = df["script"] if "script" in df.columns else pd.Series([None] * len(df), dtype=object)
    scripts, invalid, clash = check_scripts(lang_col, script_col.reset_index(drop=True))
    for message, mask in ((SCRIPT_INVALID, invalid), (SCRIPT_CLASH, clash)):
        problems.extend(Problem(message, file=name, row=rows[i], column="script", value=script_col.iloc[i])
                        for i in mask.nonzero()[0])
    return langs, scripts, problems


def _fill_tasks(df: pd.DataFrame, task: str | None, known_tasks: set[str] | None, name: str,
                rows: list) -> list[Problem]:
    """Fill rows without a task with ``task`` (in place); rows still without one, or with an unknown one."""
    problems = []
    if "task" not in df.columns:
        df["task"] = task
    df["task"] = df["task"].where(df["task"].notna() & (df["task"].astype(str).str.strip() != ""), task)
    for i, v in enumerate(df["task"]):
        if v is None or (isinstance(v, float) and pd.isna(v)):
            problems.append(Problem("no task given (add a task column or pass a task)", file=name, row=rows[i],
                                    column="task"))
        elif known_tasks is not None and v not in known_tasks:
            problems.append(Problem(f"unknown task (known: {', '.join(sorted(known_tasks))})", file=name,
                                    row=rows[i], column="task", value=v))
    return problems


def generations_from_ratings(ratings: pd.DataFrame) -> pd.DataFrame:
    """The generations behind a ratings table (one row per item), e.g. to have
    PARIKSHA's responses judged again: ``generations_from_ratings(load_pariksha())``.
    Needs the ratings' ``prompt`` and ``response`` columns."""
    missing = [c for c in ("item_id", "language", "prompt", "response") if c not in ratings.columns]
    if missing:
        raise InputError(Problem(f"the ratings table has no {', '.join(missing)} column(s)"),
                         summary="cannot rebuild the generations")
    keep = [c for c in ("item_id", "language", "script", "task", "prompt", "response", "reference", "system",
                        "prompt_id") if c in ratings.columns]
    return ratings[keep].drop_duplicates("item_id").reset_index(drop=True)

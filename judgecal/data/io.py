"""Reading and writing ratings tables: CSV, TSV, JSONL, JSON and Parquet.

Other layouts come in through an explicit :class:`ColumnMapping` (from CLI flags
or a small TOML/JSON file): renamed columns, constants for every row, item ids
built from several columns, and wide files with one score column per metric.
Every problem is reported with file, row, column and value; with
``on_bad_rows="drop"`` unusable rows are left out and listed, never lost silently.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from judgecal._atomic import atomic_path
from judgecal.data.delimited import write_delimited
from judgecal.data.metrics import DEFAULT_REGISTRY, MetricRegistry, read_config_file
from judgecal.data.schema import CheckResult, empty_ratings, normalize_ratings
from judgecal.data.tables import FORMATS, detect_format, read_table  # noqa: F401 (part of this module's API)
from judgecal.errors import ConfigError, InputError, Problem, short_list


@dataclass
class ColumnMapping:
    """How a file's columns become ratings-table columns.

    Parameters
    ----------
    columns : dict
        Ratings column -> file column, or a list of file columns joined with ``/``
        (e.g. ``item_id = ["prompt_id", "model"]``).
    constants : dict
        Ratings column -> value given to every row (``rater_kind = "human"``).
    wide : dict
        Metric id -> file column holding that metric's score, for files with one
        score column per metric; each becomes its own rows.
    wide_text : dict
        Metric id -> file column holding the rater's reasoning for that metric
        (becomes ``justification``).

    Examples
    --------
    >>> m = ColumnMapping.from_pairs(columns=["item_id=prompt_id+model"], constants=["rater_kind=human"])
    >>> m.columns, m.constants
    ({'item_id': ['prompt_id', 'model']}, {'rater_kind': 'human'})
    >>> m.merged(ColumnMapping(wide={"la": "ling_rating"})).wide
    {'la': 'ling_rating'}
    """

    columns: dict[str, str | list[str]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    wide: dict[str, str] = field(default_factory=dict)
    wide_text: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """True when the mapping changes nothing (no columns, constants or wide columns)."""
        return not (self.columns or self.constants or self.wide or self.wide_text)

    @classmethod
    def from_file(cls, path: str | Path) -> ColumnMapping:
        """Read a mapping from TOML or JSON with the tables/keys ``columns``,
        ``constants``, ``wide`` and ``wide_text``."""
        path = Path(path)
        data = read_config_file(path, "mapping file")
        if not isinstance(data, dict):
            raise ConfigError(f"mapping file {path}: expected tables/objects columns, constants, wide, wide_text")
        unknown = set(data) - {"columns", "constants", "wide", "wide_text"}
        if unknown:
            raise ConfigError(f"mapping file {path}: unknown section(s) {sorted(unknown)}")
        for key in data:
            if not isinstance(data[key], dict):
                raise ConfigError(f"mapping file {path}: [{key}] must be a table of name = value")
            for name, value in data[key].items():
                names = value if key == "columns" and isinstance(value, list) else [value]
                ok = (
                    isinstance(value, (str, int, float, bool))
                    if key == "constants"
                    else bool(names) and all(isinstance(v, str) and v for v in names)
                )
                if not ok:
                    want = "a value" if key == "constants" else "a column name" + (" or a list of them" if key == "columns" else "")
                    raise ConfigError(f"mapping file {path}: [{key}] {name} must be {want}, got {value!r}")
        return cls(**{k: dict(v) for k, v in data.items()})

    @classmethod
    def from_pairs(
        cls,
        columns: Sequence[str] = (),
        constants: Sequence[str] = (),
        wide: Sequence[str] = (),
        wide_text: Sequence[str] = (),
    ) -> ColumnMapping:
        """From CLI-style ``NAME=VALUE`` strings (``--map item_id=id``)."""

        def pairs(items: Sequence[str], flag: str) -> dict[str, str]:
            out = {}
            for item in items:
                name, sep, value = item.partition("=")
                if not sep or not name.strip() or not value.strip():
                    raise ConfigError(f"{flag} expects NAME=VALUE, got {item!r}")
                out[name.strip()] = value.strip()
            return out

        cols = pairs(columns, "--map")
        cols = {k: (v.split("+") if "+" in v else v) for k, v in cols.items()}
        return cls(cols, pairs(constants, "--set"), pairs(wide, "--wide"), pairs(wide_text, "--wide-text"))

    def merged(self, other: ColumnMapping | None) -> ColumnMapping:
        """A new mapping with ``other``'s entries added, ``other`` winning on a clash;
        ``self`` when ``other`` is None (a mapping file merged with command-line flags).
        """
        if other is None:
            return self
        return ColumnMapping(
            {**self.columns, **other.columns},
            {**self.constants, **other.constants},
            {**self.wide, **other.wide},
            {**self.wide_text, **other.wide_text},
        )


def apply_mapping(df: pd.DataFrame, rows: np.ndarray, mapping: ColumnMapping, source: str | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """Rename, fill constants and melt wide score columns, keeping file rows.

    Parameters
    ----------
    df : DataFrame
        The file as read, one row per record.
    rows : int array, shape (len(df),)
        The file row of each record (for error messages).
    mapping : ColumnMapping
    source : str, optional
        File name used in problem messages.

    Returns
    -------
    (DataFrame, int array)
        The mapped table and the file row of each of its rows; a wide file gives one
        row per (record, metric), so rows repeat.
    """
    if mapping.empty:
        return df, rows
    orphans = sorted(set(mapping.wide_text) - set(mapping.wide))
    if orphans:
        # the reasoning column would otherwise vanish from the table unnoticed
        raise ConfigError(
            f"wide_text names metric(s) {orphans} that wide does not list; give their score columns "
            "too (--wide METRIC=COLUMN)"
        )
    needed = [c for v in mapping.columns.values() for c in ([v] if isinstance(v, str) else v)]
    needed += list(mapping.wide.values()) + list(mapping.wide_text.values())
    absent = sorted({c for c in needed if c not in df.columns})
    if absent:
        found = short_list(df.columns)
        raise InputError(
            [Problem(f"the column mapping names column {c!r}, which the file does not have (columns: {found})", file=source, column=c) for c in absent],
            summary="the column mapping does not fit the file",
        )
    out = pd.DataFrame(index=df.index)
    used = set()
    for target, src in mapping.columns.items():
        if isinstance(src, str):
            out[target] = df[src]
            used.add(src)
        else:
            out[target] = df[src].astype("string").fillna("").agg("/".join, axis=1)
            # the joined columns stay in the table too (prompt_id is useful on its own)
    wide_cols = set(mapping.wide.values()) | set(mapping.wide_text.values())
    for col in df.columns:
        if col not in used and col not in wide_cols and col not in out.columns:
            out[col] = df[col]
    for target, value in mapping.constants.items():
        out[target] = value
    if not mapping.wide:
        return out, rows
    parts, part_rows = [], []
    for metric, col in mapping.wide.items():
        part = out.copy()
        part["metric"] = metric
        part["score"] = df[col]
        if metric in mapping.wide_text:
            part["justification"] = df[mapping.wide_text[metric]]
        parts.append(part)
        part_rows.append(rows)
    long = pd.concat(parts, ignore_index=True)
    return long, np.concatenate(part_rows)


def load_ratings(
    path: str | Path,
    mapping: ColumnMapping | None = None,
    *,
    metrics: MetricRegistry = DEFAULT_REGISTRY,
    fmt: str | None = None,
    encoding: str = "utf-8",
    on_bad_rows: str = "error",
) -> CheckResult:
    r"""Read a ratings file, map its columns, and check it against the contract.

    Parameters
    ----------
    path : str or Path
        CSV, TSV, JSONL, JSON or Parquet file; the format follows the extension
        unless ``fmt`` says it.
    mapping : ColumnMapping, optional
        How the file's columns become ratings columns (other layouts, wide files).
    metrics : MetricRegistry
        The metric scales scores are checked against (built-ins by default).
    fmt : {"csv", "tsv", "jsonl", "json", "parquet"}, optional
    encoding : str
        Text encoding of CSV/TSV/JSON(L) files.
    on_bad_rows : {"error", "drop"}
        ``"error"`` raises :class:`~judgecal.errors.InputError` listing every problem
        with file, row, column and value. ``"drop"`` leaves out unusable records
        (also ones the reader cannot use: ragged CSV lines, JSONL lines that are not
        objects) and lists them in ``problems``, ``dropped`` and ``n_input_rows``.

    Returns
    -------
    CheckResult
        ``table`` (the normalised ratings table), ``problems``, ``dropped``
        (``row``, ``reason``) and ``n_input_rows``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ratings.csv"
    >>> _ = path.write_text("item_id,language,metric,rater,rater_kind,score\n"
    ...                     "q1,hindi,la,ann1,human,2\n"
    ...                     "q2,hindi,la,ann1,human,7\n")
    >>> result = load_ratings(path, on_bad_rows="drop")
    >>> result.ok, len(result.table), result.n_input_rows
    (False, 1, 2)
    >>> result.dropped
       row                                      reason
    0    3  score: not on the la scale ('0', '1', '2')
    """
    skipped: list[Problem] | None = [] if on_bad_rows == "drop" else None
    df, rows = read_table(path, fmt, encoding=encoding, skipped=skipped)
    if skipped and len(df) == 0:
        # Every record was unreadable: like a file whose rows all break the contract,
        # the result is an empty table with every record listed as dropped.
        result = CheckResult(table=empty_ratings())
    else:
        result = _checked(df, rows, mapping, metrics, str(path), on_bad_rows, skipped)
    return result.add_unread(skipped or [])


def _in_file_terms(problems: list[Problem], mapping: ColumnMapping | None) -> list[Problem]:
    """Problems found in the mapped table, told in the file's terms: a column taken
    from a differently named file column is named as the file names it, and a
    problem of a wide file's row (one table row per metric) is listed once."""
    if mapping is None or mapping.empty:
        return problems
    names = {t: src if isinstance(src, str) else "+".join(src) for t, src in mapping.columns.items()}
    out, seen = [], set()
    for p in problems:
        if p.column in names:
            p = replace(p, column=names[p.column])
        key = (p.message, p.file, p.row, p.column, repr(p.value))
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def _checked(df, rows, mapping, metrics, source: str, on_bad_rows: str, skipped) -> CheckResult:
    try:
        df, rows = apply_mapping(df, rows, mapping or ColumnMapping(), source)
        result = normalize_ratings(df, metrics=metrics, source=source, row_numbers=rows, on_bad_rows=on_bad_rows)
        result.problems = _in_file_terms(result.problems, mapping)
        return result
    except InputError as exc:
        problems = _in_file_terms(exc.problems, mapping)
        counted = f"{len(exc.problems)} problem(s)"
        summary = (f"{len(problems)} problem(s)" + exc.summary[len(counted):]
                   if exc.summary.startswith(counted) else exc.summary)
        exc = InputError(problems, summary=summary, hint=exc.hint, droppable=exc.droppable)
        if not skipped:
            raise exc from None
        # A whole-file problem (a missing column, say) found after records were left
        # out: the dropped records come first, so the user sees everything at once.
        raise InputError([*skipped, *exc.problems],
                         summary=f"{exc.summary} (after leaving out {len(skipped)} unreadable record(s))",
                         hint=exc.hint) from exc


def read_ratings(path: str | Path, mapping: ColumnMapping | None = None, *, drop_bad_rows: bool = False,
                 **kwargs) -> pd.DataFrame:
    r"""Read a ratings file into a normalised ratings table.

    Language names and tags are normalised to BCP-47 (``hindi`` -> ``hi``), the
    script is filled from the tag, scores are checked against each metric's scale.
    Takes the options of :func:`load_ratings` (``metrics``, ``fmt``, ``encoding``).

    Parameters
    ----------
    path : str or Path
        CSV, TSV, JSONL, JSON or Parquet file.
    mapping : ColumnMapping, optional
        How the file's columns become ratings columns.
    drop_bad_rows : bool
        Leave out rows that cannot be used instead of raising: never silently. A
        :class:`~judgecal.errors.DroppedRowsWarning` says how many and why, and
        ``table.attrs["dropped"]`` lists each as a dict (file ``row``, ``reason``).
        :func:`load_ratings` returns the same as a :class:`CheckResult`.

    Returns
    -------
    DataFrame
        One row per (item, metric, rater) with the ratings-table columns.

    Raises
    ------
    InputError
        Listing every problem with file, row, column and value (unless ``drop_bad_rows``).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ratings.csv"
    >>> _ = path.write_text("item_id,language,metric,rater,rater_kind,score\n"
    ...                     "q1,hindi,la,ann1,human,2\n"
    ...                     "q1,hindi,la,gpt-4o,judge,1\n")
    >>> read_ratings(path)
      item_id language script metric   rater rater_kind  score
    0      q1       hi   Deva     la    ann1      human    2.0
    1      q1       hi   Deva     la  gpt-4o      judge    1.0
    >>> _ = path.write_text("item_id,language,metric,rater,rater_kind,score\nq1,hindi,la,ann1,human,7\n")
    >>> read_ratings(path)
    Traceback (most recent call last):
    ...
    judgecal.errors.InputError: 1 problem(s) in ...ratings.csv:
      - ...ratings.csv, row 2, column 'score': not on the la scale ('0', '1', '2') (value: '7')
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     table = read_ratings(path, drop_bad_rows=True)
    >>> len(table), table.attrs["dropped"]
    (0, [{'row': 2, 'reason': "score: not on the la scale ('0', '1', '2')"}])
    """
    result = load_ratings(path, mapping, on_bad_rows="drop" if drop_bad_rows else "error", **kwargs)
    table = result.table
    if drop_bad_rows:
        # plain records, not a DataFrame: pandas compares attrs when it concatenates
        table.attrs["dropped"] = result.dropped.to_dict(orient="records")
    if len(result.dropped):
        import warnings

        from judgecal.errors import DroppedRowsWarning

        listed = InputError(result.problems, summary=dropped_summary(result, path), hint=result.hint)
        warnings.warn(str(listed), DroppedRowsWarning, stacklevel=2)
    return table


def dropped_summary(result: CheckResult, path: str | Path) -> str:
    """One line: how many of a file's rows were left out."""
    return f"left out {len(result.dropped)} of {result.n_input_rows} row(s) of {path} (drop_bad_rows)"


def write_ratings(df: pd.DataFrame, path: str | Path, fmt: str | None = None) -> Path:
    """Write a ratings table; the format follows the extension.

    The file is replaced atomically: readers see the old table or the new one,
    whole. CSV/TSV cells a spreadsheet would run as formulas are written with a
    leading quote (:mod:`judgecal.data.delimited`), which :func:`read_table`
    removes again; Parquet and JSON(L) keep the raw text. Nested values
    (``score_probs`` dicts) are stored as JSON text.

    Parameters
    ----------
    df : DataFrame
        A ratings table.
    path : str or Path
    fmt : {"csv", "tsv", "jsonl", "json", "parquet"}, optional
        Overrides the extension.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import pandas as pd, pathlib, tempfile
    >>> table = pd.DataFrame({"item_id": ["=q1"], "language": ["hi"], "metric": ["la"],
    ...                       "rater": ["ann1"], "rater_kind": ["human"], "score": [2.0]})
    >>> path = write_ratings(table, pathlib.Path(tempfile.mkdtemp()) / "ratings.csv")
    >>> path.read_text().splitlines()[1]
    "'=q1,hi,la,ann1,human,2.0"
    >>> read_ratings(path)["item_id"].tolist()
    ['=q1']
    """
    path = Path(path)
    fmt = detect_format(path, fmt)
    out = df.copy()
    for col in out.columns:  # nested values (score_probs dicts) are stored as JSON text
        if out[col].dtype == object and out[col].map(lambda v: isinstance(v, (dict, list))).any():
            out[col] = out[col].map(lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v)
    if fmt in ("csv", "tsv"):  # text a spreadsheet would run as a formula gets a leading quote
        return write_delimited(out, path, sep="," if fmt == "csv" else "\t")
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            out.to_parquet(tmp, index=False)
        else:
            # Python's json, not DataFrame.to_json: pandas keeps at most 15 decimal
            # places (0.000123456789012345 -> 0.000123456789012); repr round-trips.
            records = out.astype(object).where(out.notna(), None).to_dict(orient="records")
            with tmp.open("w", encoding="utf-8", newline="\n") as fh:
                if fmt == "jsonl":
                    for record in records:
                        fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
                else:
                    json.dump(records, fh, ensure_ascii=False, default=str)
    return path


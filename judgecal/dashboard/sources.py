"""Where the dashboard's ratings and calibrator come from, read with readable errors.

Three kinds of source: a ratings file (CSV, TSV, JSONL, JSON, Parquet), a
PARIKSHA release folder, and a file uploaded from the browser (bytes plus the
name the user gave it). Every failure becomes a :class:`SourceError` whose text
is fit to show on the page: the file's name, what is wrong and where, never a
Python traceback.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from judgecal.errors import JudgecalError

RATINGS_SUFFIXES = ("csv", "tsv", "tab", "jsonl", "ndjson", "json", "parquet", "pq")
CALIBRATOR_SUFFIXES = ("json",)


class SourceError(JudgecalError):
    """A ratings or calibrator source cannot be used; the message is meant for the page."""

    exit_code = 1


@dataclass(frozen=True)
class SourceRef:
    """Identity of a source for caching: the path plus what tells a changed file apart."""

    path: str
    stamp: str
    repair: bool = False


def source_ref(path: str | os.PathLike, *, repair: bool = False) -> SourceRef:
    """A cache key for ``path``: its resolved path with size and modification time.

    For a folder (PARIKSHA) the stamp covers every file below it, so an edited
    release is read again.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise SourceError(f"{p}: no such file or folder")
    if p.is_dir():
        stats = [f.stat() for f in sorted(p.rglob("*")) if f.is_file()]
        stamp = f"dir:{len(stats)}:{sum(s.st_size for s in stats)}:{max((s.st_mtime_ns for s in stats), default=0)}"
    else:
        s = p.stat()
        stamp = f"file:{s.st_size}:{s.st_mtime_ns}"
    return SourceRef(str(p.resolve()), stamp, repair)


def read_ratings_source(path: str | os.PathLike, *, repair: bool = False) -> pd.DataFrame:
    """Read a ratings file, or a PARIKSHA release folder, as a checked ratings table.

    repair : PARIKSHA folders only: reassign rows whose prompt ids belong to
        another language (the release's swapped files)
    Raises :class:`SourceError` with every problem the readers found.
    """
    from judgecal.data.io import read_ratings
    from judgecal.datasets.pariksha import is_pariksha_release, load_pariksha

    p = Path(path).expanduser()
    try:
        if p.is_dir():
            if not is_pariksha_release(p):
                raise SourceError(
                    f"{p} is a folder but not a PARIKSHA release; pass a ratings file "
                    f"({', '.join('.' + s for s in RATINGS_SUFFIXES)}) or a PARIKSHA folder"
                )
            table = load_pariksha(p, repair=repair)
        else:
            table = read_ratings(p)
    except SourceError:
        raise
    except JudgecalError as exc:
        raise SourceError(str(exc)) from exc
    return _check_usable(table, str(p))


def read_uploaded_ratings(name: str, data: bytes) -> pd.DataFrame:
    """Read a ratings file uploaded from the browser (``name`` gives its format).

    The bytes are written to a private temporary folder so the same readers
    (and the same checks) serve uploads and files on disk; messages name the
    upload, not the temporary path.
    """
    from judgecal.data.io import read_ratings

    with _as_file(name, data, RATINGS_SUFFIXES) as (path, shown):
        try:
            table = read_ratings(path)
        except JudgecalError as exc:
            raise SourceError(str(exc).replace(str(path), shown)) from exc
    return _check_usable(table, shown)


def read_calibrator_source(path: str | os.PathLike):
    """Load a fitted calibrator file (versioned JSON) through :func:`judgecal.load_calibrator`."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise SourceError(f"{p}: no such calibrator file")
    load = _calibrator_loader()
    try:
        return load(p)
    except JudgecalError as exc:
        raise SourceError(str(exc)) from exc
    except (ValueError, KeyError, TypeError) as exc:  # a loader that let a parse error through
        raise SourceError(f"{p}: not a judgecal calibrator file ({type(exc).__name__}: {exc})") from exc


def read_uploaded_calibrator(name: str, data: bytes):
    """Load a calibrator file uploaded from the browser."""
    with _as_file(name, data, CALIBRATOR_SUFFIXES) as (path, shown):
        try:
            return read_calibrator_source(path)
        except SourceError as exc:
            raise SourceError(str(exc).replace(str(path), shown)) from exc


# Columns analyses group, filter and compare on. Held as pandas' string dtype
# instead of Python objects, element-wise comparisons and factorising run in
# Arrow instead of the interpreter: about half the time of an overview render.
KEY_COLUMNS = ("item_id", "language", "script", "task", "metric", "rater", "rater_kind", "system", "prompt_id",
               "judge_prompt_hash")
# What the analyses read; the long texts stay out of their copies and takes.
ANALYSIS_COLUMNS = (*KEY_COLUMNS, "score", "score_probs", "score_calibrated")


def compact(table: pd.DataFrame) -> pd.DataFrame:
    """The same table with its key columns as pandas string dtype (values unchanged, missing stays missing)."""
    out = table.copy(deep=False)
    for col in KEY_COLUMNS:
        if col in out.columns and out[col].dtype == object:
            out[col] = out[col].astype("str")
    return out


def analysis_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The columns analyses need (no long texts), as a cheap column selection."""
    return table[[c for c in table.columns if c in ANALYSIS_COLUMNS]]


def content_digest(data: bytes) -> str:
    """Short digest identifying uploaded bytes (cache key)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _calibrator_loader():
    try:
        from judgecal.calibration import load_calibrator
    except ImportError as exc:
        raise SourceError(
            "not available: loading calibrators (judgecal.calibration.load_calibrator is not in this build)"
        ) from exc
    return load_calibrator


def _check_usable(table: pd.DataFrame, shown: str) -> pd.DataFrame:
    if table.empty:
        raise SourceError(f"{shown}: the file holds no ratings rows")
    return table


class _as_file:
    """Context manager: uploaded bytes as a file with the upload's suffix."""

    def __init__(self, name: str, data: bytes, suffixes: tuple[str, ...]):
        self.name = Path(name or "upload").name
        self.data = data
        self.suffixes = suffixes

    def __enter__(self) -> tuple[Path, str]:
        suffix = Path(self.name).suffix.lower().lstrip(".")
        if suffix not in self.suffixes:
            raise SourceError(
                f"{self.name}: cannot tell the file's format from its extension "
                f"{('.' + suffix) if suffix else '(none)'}; use one of {', '.join('.' + s for s in self.suffixes)}"
            )
        if not self.data:
            raise SourceError(f"{self.name}: the uploaded file is empty")
        self._dir = tempfile.TemporaryDirectory(prefix="judgecal-upload-")
        path = Path(self._dir.name) / self.name
        path.write_bytes(self.data)
        return path, self.name

    def __exit__(self, *exc) -> None:
        self._dir.cleanup()

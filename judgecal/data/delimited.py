"""CSV and TSV files that are safe to open in a spreadsheet.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula (and, in some, after a leading tab or carriage return), so a response or
an item id from the data such as ``=HYPERLINK(...)`` or ``@SUM(...)|cmd`` would
run when an annotator opens the sheet. As OWASP recommends for CSV injection,
every such text cell is written with a single quote in front (``'=HYPERLINK(...)``),
which spreadsheets show as text.

Rules (the same for every CSV/TSV judgecal writes):

* Only text cells are changed. Numbers stay numbers: a numeric column is written
  as it is (a score of ``-1`` is ``-1``), and so is a text cell that is a plain
  number (``-1``, ``+2.5``, ``-3e-2``): no spreadsheet runs it.
* A text cell that starts with one of ``= + - @``, tab or carriage return, after
  any single quotes, gets one more quote: ``=1+1`` -> ``'=1+1``, and a cell that
  already was ``'=1+1`` -> ``''=1+1``. Column names follow the same rule.
* Reading undoes it exactly (:func:`restore_formulas`): judgecal's CSV/TSV reader
  removes one leading quote from such cells, so what was written reads back as it
  was. A hand-made file with a cell like ``'=x`` therefore reads as ``=x``.

Parquet, JSON and JSONL are not opened by spreadsheets and keep the raw text.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from judgecal._atomic import atomic_path

FORMULA_START = "=+-@\t\r"
# A cell a spreadsheet would run: after any quotes (ours), a formula character.
_NEEDS_QUOTE = re.compile(r"'*[=+\-@\t\r]")
_QUOTED = re.compile(r"'+[=+\-@\t\r]")
# A quoted formula where a cell can start: file start, after a separator, a line
# end or a field's opening double quote (false hits only cost the full check).
_QUOTED_AT_CELL_START = re.compile(r"(?:^|[,\t\r\n\"])'+[=+\-@\t\r]")
_FIRST_OF_FORMULA = frozenset("'" + FORMULA_START)
_FIRST_OF_QUOTED = frozenset("'")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralize_cell(value: object) -> object:
    """One cell as written to a CSV/TSV: text a spreadsheet would run gets a quote in front."""
    if isinstance(value, str) and _NEEDS_QUOTE.match(value) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def restore_cell(value: object) -> object:
    """The inverse of :func:`neutralize_cell` (one leading quote off a quoted formula)."""
    if isinstance(value, str) and _QUOTED.match(value):
        return value[1:]
    return value


def _map_text(frame: pd.DataFrame, first: frozenset, cell) -> pd.DataFrame:
    """``frame`` with ``cell`` applied to the text cells (and column names) whose
    first character is in ``first``; ``frame`` itself when nothing changes.

    Cells are screened by their first character only (one cheap pass per text
    column); ``cell`` makes the exact decision for the few that pass.
    """
    out = frame
    for col in frame.columns:
        values = frame[col]
        if not (values.dtype == object or isinstance(values.dtype, (pd.StringDtype, pd.CategoricalDtype))):
            continue  # numbers, booleans, dates: written as they are
        cells = values.to_numpy(dtype=object)
        screened = np.fromiter((type(v) is str and v[:1] in first for v in cells), dtype=bool, count=len(cells))
        if not screened.any():
            continue
        changed = cells.copy()
        changed[screened] = [cell(v) for v in cells[screened]]
        if (changed[screened] != cells[screened]).any():
            if out is frame:
                out = frame.copy()
            out[col] = pd.Series(changed, index=frame.index, dtype=object)
    names = [cell(c) for c in frame.columns]
    if names != list(frame.columns):
        out = out.copy() if out is frame else out
        out.columns = names
    return out


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Make text cells and column names safe to open in a spreadsheet.

    A text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return
    (or with quotes before one of them) gets one more quote in front; numbers and
    text cells that are plain numbers are left alone. See the module notes.

    Parameters
    ----------
    frame : DataFrame

    Returns
    -------
    DataFrame
        A copy, or ``frame`` itself when nothing changes.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"response": ["=HYPERLINK(1)", "-1", "fine"], "score": [-1, 0, 1]})
    >>> neutralize_formulas(frame)["response"].tolist()
    ["'=HYPERLINK(1)", '-1', 'fine']
    >>> restore_formulas(neutralize_formulas(frame))["response"].tolist()
    ['=HYPERLINK(1)', '-1', 'fine']
    """
    return _map_text(frame, _FIRST_OF_FORMULA, neutralize_cell)


def restore_formulas(frame: pd.DataFrame, source_text: str | None = None) -> pd.DataFrame:
    """Undo :func:`neutralize_formulas` on a table read from CSV/TSV.

    Parameters
    ----------
    frame : DataFrame
    source_text : str, optional
        The file's text; when no cell of it can start with a quoted formula (one
        regular-expression scan), ``frame`` is returned at once.

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> restore_formulas(pd.DataFrame({"a": ["'=x", "''=y", "'plain"]}))["a"].tolist()
    ['=x', "'=y", "'plain"]
    """
    if source_text is not None and not _QUOTED_AT_CELL_START.search(source_text):
        return frame
    return _map_text(frame, _FIRST_OF_QUOTED, restore_cell)


def write_delimited(frame: pd.DataFrame, path: str | Path, *, sep: str = ",", encoding: str = "utf-8",
                    private: bool = False) -> Path:
    """Write ``frame`` as CSV (``sep=","``) or TSV (``"\\t"``) with formula cells
    neutralised, CRLF line ends, no index; the file is replaced atomically.

    encoding : ``"utf-8-sig"`` adds the byte-order mark some spreadsheet apps need
        to show non-Latin scripts.
    private : owner-only permissions (a key file), see :func:`judgecal._atomic.atomic_path`
    """
    # CRLF as RFC 4180 says: the csv writer then also quotes fields holding a
    # bare "\r", which with "\n" endings it writes unquoted (and breaks the row).
    with atomic_path(path, private=private) as tmp:
        neutralize_formulas(frame).to_csv(tmp, sep=sep, index=False, encoding=encoding, lineterminator="\r\n")
    return Path(path)


def delimited_bytes(frame: pd.DataFrame, *, sep: str = ",", encoding: str = "utf-8-sig") -> bytes:
    """What :func:`write_delimited` writes, as bytes (for a download button)."""
    text = neutralize_formulas(frame).to_csv(sep=sep, index=False, lineterminator="\r\n")
    return text.encode(encoding)

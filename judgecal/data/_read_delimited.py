"""Reading CSV and TSV records with every row accounted for.

Python's csv reader, strict about quotes: a quoted value must close, and its
closing quote must be followed by a separator or a line end. Without that, one
unclosed quote silently swallows every later line into one value (a 1,200-row
file read as 601 rows). Where quoting breaks, the error names the line of the
quote that opened the broken value, since that is where the fix goes.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from judgecal.errors import InputError, Problem

# More columns than any ratings table has: a header beyond it is not one (a
# file of numbers, a line of binary data), and a frame that wide takes gigabytes.
MAX_COLUMNS = 10_000


class _Lines:
    """The physical lines of a text, one at a time, keeping those of the record
    being read (``pending``) so that a quoting fault can be traced to its line,
    and counting the quote characters."""

    def __init__(self, lines):
        self._lines = iter(lines)
        self.pending: list[str] = []
        self.quotes = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.pending.append(line)
        self.quotes += line.count('"')
        return line


def read_delimited(open_lines: Callable[[], Iterable[str]], source: str, sep: str, skipped: list[Problem] | None,
                   size: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Records of a CSV (``sep=","``) or TSV file as strings, and the file line
    each starts on (header = line 1), shape (n,). Ragged records raise
    InputError, or with a ``skipped`` list are left out and listed in it.

    ``open_lines()`` gives the file's physical lines, read as a stream (it is
    called again only to explain a fault); ``size`` bounds a value's length.
    """
    kind = "TSV" if sep == "\t" else "CSV"
    # Model responses can be longer than the csv module's default field limit
    # (128 KiB); no value is longer than the file.
    csv.field_size_limit(max(csv.field_size_limit(), size + 1))
    lines = _Lines(open_lines())
    reader = csv.reader(lines, delimiter=sep, strict=True)
    # Row numbers are the file line each record starts on, so that problems point
    # at the right line even after blank lines or quoted values spanning lines.
    records, starts, ends = [], [], []
    spanning: dict[int, int] = {}  # record index -> line where its first multi-line value opens
    while True:
        start = reader.line_num + 1
        lines.pending.clear()
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            error = _quoting_error(lines.pending, start, reader.line_num, sep, source, exc)
            error = InputError([*_before_failure(records, starts, ends, spanning, start, reader.line_num, source),
                                *error.problems], summary=error.summary)
            raise error from exc
        if not record:  # blank lines carry no record
            continue
        if reader.line_num > start:
            spanning[len(records)] = start
        if not records and len(record) > MAX_COLUMNS:
            raise InputError(Problem(f"the header has {len(record):,} columns: not a ratings table (it has a few "
                                     f"dozen at most; the limit is {MAX_COLUMNS:,})", file=source, row=start),
                             summary=f"{source} is not a well-formed table")
        records.append(record)
        starts.append(start)
        ends.append(reader.line_num)
    if 0 in spanning:
        raise InputError(_header_spans(source, spanning[0], starts, records, reader.line_num),
                         summary=f"{source}: unbalanced quotes in the {kind} header (nothing was read)")
    if not records:
        raise InputError(Problem("the file is empty", file=source), summary="cannot read input")
    if spanning and lines.quotes % 2:
        # Quoted values hold an even number of quotes (open, close, doubled); an
        # odd count means a quote is missing or stray somewhere and the reader
        # took some quote as text. Values spanning lines are then in doubt: they
        # may be lines swallowed by the broken quote.
        raise InputError(_unbalanced(open_lines(), sep, source, spanning, starts, ends),
                         summary=f"{source}: the quotes of the {kind} file do not balance (an odd number), and values "
                                 "span lines, so lines may have been swallowed; nothing was read. A quote is probably "
                                 "unclosed or stray on one of the lines named: quote a value that holds quotes, "
                                 'writing each quote in it as two ("")')
    header, body = records[0], records[1:]
    if len(set(header)) != len(header) or any(not h.strip() for h in header):
        dupes = sorted({h for h in header if header.count(h) > 1 or not h.strip()})
        raise InputError(Problem("header has empty or repeated column names", file=source, row=starts[0], value=dupes),
                         summary=f"{source} is not a well-formed table")
    bad = _ragged(body, starts, ends, header, spanning, source)
    if bad and skipped is None:
        raise InputError([p for _, p in bad], summary=f"{source} is not a well-formed table", droppable=True)
    if bad:
        skipped.extend(p for _, p in bad)
        drop = {i for i, _ in bad}
        keep = [i for i in range(len(body)) if i not in drop]
        body_starts = starts[1:]
        body, starts = [body[i] for i in keep], [starts[0]] + [body_starts[i] for i in keep]
    df = pd.DataFrame(body, columns=header, dtype=object)
    df = df.replace({"": None})
    return df, np.asarray(starts[1:], dtype=int)


def _unbalanced(file_lines: Iterable[str], sep: str, source: str, spanning, starts, ends) -> list[Problem]:
    """The first value spanning lines and the lines with quotes inside values
    that are not quoted (one of them was probably meant to open or close a value)."""
    first = min(spanning)
    out = [Problem(f"the record starting here runs over lines {starts[first]}-{ends[first]}", file=source,
                   row=starts[first])]
    lines = _Lines(file_lines)
    reader = csv.reader(lines, delimiter=sep, strict=True)
    while len(out) <= 20:
        start = reader.line_num + 1
        lines.pending.clear()
        if next(reader, None) is None:
            break
        if any('"' in line for line in lines.pending):
            raw = "".join(lines.pending)
            bare = _scan_quotes(raw, sep)[2]
            if bare is not None:
                out.append(Problem("a quote inside a value that is not quoted", file=source,
                                   row=start + _lines_before(raw, bare)))
    return out


def _before_failure(records, starts, ends, spanning, failed: int, last: int, source: str) -> list[Problem]:
    """What came before a quoting failure at line ``failed`` that can explain it:
    a header spanning lines, records that did not fit the table, and the
    records just before with values spanning lines (a quote there may be the
    broken one, and what it left of the lines after it failed here)."""
    if not records:
        return []
    out = [p for _, p in _ragged(records[1:], starts, ends, records[0], spanning, source, suspects=True)]
    if 0 in spanning:
        out.insert(0, _header_spans(source, spanning[0], starts, records, last))
    return out + [p for k, p in _swallowed(source, spanning, starts, ends, len(records) - 1, failed) if k > 0]


def _header_spans(source: str, line: int, starts: list[int], records: list[list[str]], last: int) -> Problem:
    # No column name holds a line break: a quote in the header opened a value
    # that swallowed the lines after it.
    end = starts[1] - 1 if len(starts) > 1 else last
    return Problem(f"a quoted column name opens here and runs over several lines (to line {end}): a quote in the "
                   "header is unclosed or stray", file=source, row=line, value=records[0][:8])


def _ragged(body, starts, ends, header, spanning, source, *, suspects: bool = False) -> list[tuple[int, Problem]]:
    """(body index, problem) of records with the wrong number of fields; with
    ``suspects`` also of the records with values spanning lines just before one
    (once the quoting is known to be broken: a quote there that does not close
    where it should swallows the following lines, and what is left of them no
    longer fits the table)."""
    out: dict[int, Problem] = {}
    for i, rec in enumerate(body):
        if len(rec) == len(header):
            continue
        lines = "" if ends[i + 1] == starts[i + 1] else (
            f" (the record runs over lines {starts[i + 1]}-{ends[i + 1]}: a quote in it may be unclosed or stray)")
        out[i] = Problem(f"has {len(rec)} fields, the header has {len(header)}{lines}", file=source, row=starts[i + 1])
        if not suspects:
            continue
        # body record i - 1 is record i of the file (the header is record 0)
        for k, problem in _swallowed(source, spanning, starts, ends, i, starts[i + 1]):
            if k > 0 and k - 1 not in out:
                out[k - 1] = problem
    return sorted(out.items())


def _swallowed(source, spanning, starts, ends, record: int, failed: int) -> list[tuple[int, Problem]]:
    """The suspects before line ``failed``, which cannot be read: record ``record``
    and the records just before it that have values spanning lines. One quote
    too few or too many shifts every later quote, so the fault can be in any of
    that run. Returns (file record index, problem) for each."""
    run = []
    while record in spanning:
        run.append(record)
        record -= 1
    return [(k, Problem(f"a quoted value opens here and the record runs over lines {starts[k]}-{ends[k]}, before "
                        f"line {failed}, which cannot be read: if a quote in it is unclosed or stray, it swallowed "
                        "the lines after it", file=source, row=spanning[k])) for k in reversed(run)]


def _lines_before(text: str, offset: int) -> int:
    """Line breaks (\\n, \\r\\n or \\r, as the csv reader counts lines) in text[:offset]."""
    return text.count("\n", 0, offset) + text.count("\r", 0, offset) - text.count("\r\n", 0, offset)


def _quoting_error(lines: list[str], start: int, end: int, sep: str, source: str, exc: Exception) -> InputError:
    """The csv reader stopped inside the record of ``lines`` (file lines start..end):
    name the line where the quoted value it was reading opens."""
    kind = "TSV" if sep == "\t" else "CSV"
    text = "".join(lines)
    at, multi, _ = _scan_quotes(text, sep)
    if at is None:  # not a quoting fault after all: say what the reader said
        return InputError(Problem(f"malformed {kind}: {exc}", file=source, row=end), summary="cannot read input")
    snippet = re.split(r"\r\n|\r|\n", text[at:], maxsplit=1)[0]
    if "end of data" in str(exc):
        how = f"and never closes: every line after it, to the end of the file (line {end}), would be one value"
    else:
        how = (f"and its closing quote on line {end} is followed by text, not by a separator or a line end: "
               "a quote is missing or stray here or on a line before it")
    problems = [Problem(f"a quoted value opens here {how}. Close the quote, or write a quote that is part of the "
                        'text as two ("")', file=source, row=start + _lines_before(text, at), value=snippet)]
    if multi is not None and multi < at:
        # An earlier value of the same record already ran over line ends: its
        # quote is as likely the broken one (it swallowed the lines up to here).
        problems.insert(0, Problem("an earlier quoted value of the same record opens here and runs over several "
                                   "lines: if this quote is the unclosed or stray one, it swallowed them",
                                   file=source, row=start + _lines_before(text, multi)))
    return InputError(problems, summary=f"{source}: unbalanced quotes in the {kind} file (nothing was read)")


_QUOTED = re.compile(r'"(?:[^"]|"")*("|\Z)', re.S)


def _scan_quotes(text: str, sep: str) -> tuple[int | None, int | None, int | None]:
    """Walk the values of ``text`` (one record, as the csv reader saw it) and
    return the offsets of: the opening quote of the first value the reader
    cannot finish (one that runs to the end of the text, or whose closing quote
    is followed by something other than a separator or a line end); the opening
    quote of the first value that spans lines; the first quote inside a value
    that is not quoted (a "bare" quote). None where there is none."""
    plain = re.compile(f"[^{re.escape(sep)}\\r\\n]*")
    pos, n, multi, bare = 0, len(text), None, None
    while pos < n:
        if text[pos] == '"':
            m = _QUOTED.match(text, pos)
            if not m.group(1) or text[m.end():m.end() + 1] not in (sep, "\r", "\n", ""):
                return pos, multi, bare
            if multi is None and ("\n" in m.group(0) or "\r" in m.group(0)):
                multi = pos
            pos = m.end()
        else:
            end = plain.match(text, pos).end()
            if bare is None and '"' in text[pos:end]:
                bare = text.index('"', pos)
            pos = end
        pos += 1  # the separator or line end after the value
    return None, multi, bare

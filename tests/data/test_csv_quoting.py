"""Damaged quoting in CSV/TSV never loses rows silently (issue 15, item 1).

An unclosed quote used to swallow every later line into one value: a 1,200-row
file read as 601 rows and nothing was said. The reader now refuses such a file
and names the line of the opening quote. The property test writes random rows
through Python's csv writer, damages the quoting at a random place (a quote
deleted or inserted), and checks that every row is either read as written or
named in the error.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from judgecal.data.io import load_ratings, read_table
from judgecal.errors import InputError

HEADER = ["item_id", "language", "metric", "rater", "rater_kind", "score", "response"]


def _rows(n: int, response) -> list[list[str]]:
    return [[f"i{k}", "hi", "la", "w1", "human", str(k % 3), response(k)] for k in range(n)]


def _write(rows, sep: str, terminator: str = "\r\n") -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=sep, lineterminator=terminator)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize("sep,ext", [(",", "csv"), ("\t", "tsv")])
def test_unclosed_quote_at_line_602_is_refused_with_its_line(sep, ext, tmp_path):
    rows = _rows(1200, lambda k: f'he said "ok{sep} fine" at {k}' if k % 7 == 0 else f"plain text {k}")
    text = _write(rows, sep)
    lines = text.split("\r\n")
    # line 602 of the file is row 601; cut the closing quote of its value
    assert lines[601].startswith("i600")
    lines[601] = f'i600{sep}hi{sep}la{sep}w1{sep}human{sep}0{sep}"an answer that never closes'
    path = tmp_path / f"r.{ext}"
    path.write_text("\r\n".join(lines), encoding="utf-8")
    for mode in ("error", "drop"):
        with pytest.raises(InputError) as info:
            load_ratings(path, on_bad_rows=mode)
        problems = info.value.problems
        assert [p.row for p in problems] == [602], str(info.value)
        assert problems[0].file == str(path)
        assert "quote" in str(info.value) and str(path) in str(info.value)


def test_unclosed_quote_on_the_last_line_is_refused(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(_write(_rows(3, lambda k: "x"), ",") + 'i9,hi,la,w1,human,1,"no end\r\n', encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_table(path)
    assert [p.row for p in info.value.problems] == [5]
    assert "never closes" in str(info.value)


def test_the_opening_quote_line_is_named_inside_a_record_spanning_lines(tmp_path):
    # the record starts on line 2 with a legitimate two-line value; the bad quote is on line 3
    text = 'item_id,response,extra\r\ni1,"ok\r\nstill ok","bad\r\ni2,"x",2\r\n'
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_table(path)
    # the broken value opens on line 3; the earlier value spanning lines 2-3 is named as the other suspect
    assert [p.row for p in info.value.problems] == [2, 3]
    assert "followed by text" in info.value.problems[1].message


def test_text_after_a_closing_quote_is_refused_not_glued_on(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text('item_id,response\r\ni1,"Hello" he said\r\n', encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_table(path)
    assert [p.row for p in info.value.problems] == [2]


def test_well_quoted_values_with_quotes_separators_and_newlines_still_read(tmp_path):
    rows = _rows(5, lambda k: f'a "quoted", \t word\r\nand a second line {k}')
    for sep, ext in ((",", "csv"), ("\t", "tsv")):
        path = tmp_path / f"ok.{ext}"
        path.write_text(_write(rows, sep), encoding="utf-8")
        df, starts = read_table(path)
        assert df["response"].tolist() == [r[-1] for r in rows]
        assert starts.tolist() == [2, 4, 6, 8, 10]


# --- property: random rows, random quoting damage ------------------------------------

text_cells = st.lists(st.sampled_from([*'ab ,\t"\n', "\r\n", "क", "é"]), max_size=12).map("".join)


def _line_spans(rows, sep, terminator) -> list[tuple[int, int, int, int]]:
    """(first line, last line, start offset, end offset) of each record, header first."""
    spans, line, offset = [], 1, 0
    for rec in [HEADER, *rows]:
        piece = io.StringIO(newline="")
        csv.writer(piece, delimiter=sep, lineterminator=terminator).writerow(rec)
        text = piece.getvalue()
        n_lines = len(io.StringIO(text, newline="").readlines())
        spans.append((line, line + n_lines - 1, offset, offset + len(text)))
        line += n_lines
        offset += len(text)
    return spans


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cells=st.lists(text_cells, min_size=1, max_size=12),
    sep=st.sampled_from([",", "\t"]),
    terminator=st.sampled_from(["\r\n", "\n"]),
    damage=st.sampled_from(["delete", "insert"]),
    where=st.floats(0, 1, exclude_max=True),
)
def test_damaged_quoting_never_loses_a_row_silently(cells, sep, terminator, damage, where, tmp_path):
    rows = _rows(len(cells), lambda k: cells[k])
    text = _write(rows, sep, terminator)
    if damage == "delete":
        quotes = [i for i, c in enumerate(text) if c == '"']
        if not quotes:
            return
        pos = quotes[int(where * len(quotes))]
        damaged = text[:pos] + text[pos + 1:]
    else:
        pos = int(where * len(text))
        if text[pos - 1:pos + 1] == "\r\n":
            pos -= 1  # a quote between \r and \n would make one line two; the row numbers would move
        damaged = text[:pos] + '"' + text[pos:]
    spans = _line_spans(rows, sep, terminator)
    hit = next(i for i, (_, _, lo, hi) in enumerate(spans) if lo <= pos < hi or (pos == hi == len(text)))
    path = tmp_path / ("r.csv" if sep == "," else "r.tsv")
    path.write_bytes(damaged.encode("utf-8"))
    try:
        df, starts = read_table(path)
    except InputError as exc:
        # The damaged row is named, or lies in the range of lines the error names: one quote too
        # many or too few shifts every later quote, so where values span lines the fault can only
        # be placed between the first line whose quoting is in doubt and the line that failed.
        first, last = spans[hit][:2]
        named = [p.row for p in exc.problems if p.row is not None]
        assert named and min(named) <= last and first <= max(named), (str(exc), spans[hit])
        return
    # read without complaint: every row is there, on its own lines, and only the damaged one may differ
    # (a quote inserted inside a header name is a literal quote: the header reads, with that name)
    assert starts.tolist() == [s[0] for s in spans[1:]]
    assert len(df) == len(rows)
    for k, rec in enumerate(rows):
        if k + 1 != hit:
            assert [("" if v is None else v) for v in df.iloc[k].tolist()] == rec


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cells=st.lists(text_cells, min_size=1, max_size=12),
    sep=st.sampled_from([",", "\t"]),
    where=st.floats(0, 1, exclude_max=True),
)
def test_with_drop_every_row_is_read_or_listed(cells, sep, where, tmp_path):
    """Leaving bad rows out (drop mode): a row that is not read as written is listed."""
    rows = _rows(len(cells), lambda k: cells[k])
    text = _write(rows, sep)
    quotes = [i for i, c in enumerate(text) if c == '"']
    if not quotes:
        return
    pos = quotes[int(where * len(quotes))]
    damaged = text[:pos] + text[pos + 1:]
    spans = _line_spans(rows, sep, "\r\n")
    path = tmp_path / ("r.csv" if sep == "," else "r.tsv")
    path.write_bytes(damaged.encode("utf-8"))
    skipped = []
    try:
        df, starts = read_table(path, skipped=skipped)
    except InputError:
        return  # refused as a whole: checked by the test above
    read = dict(zip(starts.tolist(), range(len(df)), strict=True))
    listed = [p.row for p in skipped]
    for p in skipped:  # a record spanning lines is listed with all of them
        m = re.search(r"runs over lines (\d+)-(\d+)", p.message)
        if m:
            listed += list(range(int(m.group(1)), int(m.group(2)) + 1))
    for k, rec in enumerate(rows):
        first, last = spans[k + 1][:2]
        if first in read:
            got = [("" if v is None else v) for v in df.iloc[read[first]].tolist()]
            if got == rec:
                continue
            # read but changed: only the damaged row may be, and only with its own lines
            assert spans[k + 1][2] <= pos < spans[k + 1][3], (k, got, rec)
            continue
        assert any(first <= r <= last for r in listed), (k, listed, spans)

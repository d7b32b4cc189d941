"""Unbounded input is refused or bounded (issue 15, item 10, the reading side).

`judgecal apply calibrator.json /dev/zero` grew to 4 GB, and a 200 MB line took
7 GB and wrote a 1.2 GB error message (the header repeated per missing column).
Non-regular files are refused, lines have a length limit, text files are read
as a stream, and error messages list a bounded number of problems with values
and column lists cut short.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from judgecal.data import tables
from judgecal.data.io import read_ratings
from judgecal.errors import InputError, Problem

HEADER = "item_id,language,metric,rater,rater_kind,score\n"


def _capped(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``code`` in a child process limited to 1 GB of address space (reading
    an endless file would otherwise take the machine's memory) and ``timeout``."""
    prelude = "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30)); "
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_devices_are_refused_before_reading(device):
    proc = _capped("from judgecal.data.io import read_ratings; from judgecal.errors import InputError\n"
                   f"try: read_ratings({device!r}, fmt='csv')\n"
                   "except InputError as exc: print(exc)")
    assert proc.returncode == 0 and "not a regular file" in proc.stdout, proc.stderr[-2000:]


def test_apply_on_dev_zero_ends_with_a_message_not_gigabytes(tmp_path):
    cal = tmp_path / "calibrator.json"
    cal.write_text("{}", encoding="utf-8")
    for argv in (["validate", "/dev/zero", "--format", "csv"], ["apply", str(cal), "/dev/zero", "--format", "csv",
                                                               "--out", str(tmp_path / "o.csv")]):
        proc = _capped(f"from judgecal.cli import main; sys.exit(main({argv!r}))")
        assert proc.returncode in (1, 2), proc.stderr[-2000:]
        assert "MemoryError" not in proc.stderr and "Traceback" not in proc.stderr
    assert "not a regular file" in _capped(
        "from judgecal.cli import main; sys.exit(main(['validate', '/dev/zero', '--format', 'csv']))").stderr


def test_a_pipe_is_refused(tmp_path):
    fifo = tmp_path / "ratings.csv"
    os.mkfifo(fifo)
    # opened, a pipe without a writer would block forever: the child has a timeout
    proc = _capped("from judgecal.data.io import read_ratings; from judgecal.errors import InputError\n"
                   f"try: read_ratings({str(fifo)!r})\n"
                   "except InputError as exc: print(exc)", timeout=60)
    assert "not a regular file" in proc.stdout


def test_an_overlong_line_is_refused_with_its_line_number(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "MAX_LINE_CHARS", 1000)
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "a,hi,la,w1,human,1\n" + "x" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_ratings(path)
    (problem,) = info.value.problems
    assert problem.row == 3 and "longer than 1,000 characters" in problem.message
    jsonl = tmp_path / "r.jsonl"
    jsonl.write_text('{"item_id": "a"}\n' + "y" * 5000, encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_ratings(jsonl)
    assert [p.row for p in info.value.problems] == [2]


def test_a_huge_header_line_gives_a_short_message(tmp_path):
    # 2 MB of column names and no row: the message used to repeat the header per missing column
    path = tmp_path / "r.csv"
    path.write_text(",".join(f"column_{k}_{'z' * 20}" for k in range(70_000)) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_ratings(path)
    assert len(str(info.value)) < 5000, len(str(info.value))


def test_messages_list_at_most_n_problems_then_how_many_more():
    problems = [Problem(f"kind {k} of problem", file="f.csv", row=k, column="c") for k in range(5000)]
    text = str(InputError(problems, summary="many"))
    assert len(text.splitlines()) <= InputError.max_listed + 3
    assert "... and 4,950 more" in text


def test_a_long_value_or_message_is_cut_short_in_the_message():
    text = str(InputError([Problem("m" * 100_000, file="f.csv", row=2, value="v" * 100_000)]))
    assert len(text) < 3000 and "more characters" in text


def test_text_files_are_read_as_a_stream(tmp_path):
    """Peak memory of reading a 60 MB CSV stays well below the several copies
    (bytes, decoded text, a StringIO) the reader used to hold at once."""
    path = tmp_path / "big.csv"
    row = "a{k},hi,la,w1,human,1," + "x" * 2000 + "\n"
    with path.open("w", encoding="utf-8") as fh:
        fh.write(HEADER.rstrip("\n") + ",response\n")
        for k in range(30_000):
            fh.write(row.format(k=k))
    code = (
        "import resource, sys; from judgecal.data.tables import read_table; "
        f"df, rows = read_table({str(path)!r}); "
        "print(len(df), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    base = subprocess.run([sys.executable, "-c", "import resource, judgecal.data.tables; "
                           "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"],
                          capture_output=True, text=True, timeout=120)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    n, peak = proc.stdout.split()
    assert int(n) == 30_000
    size_kb = path.stat().st_size / 1024
    # the table itself holds the text once (about the file's size); reading adds at most one more copy
    assert int(peak) - int(base.stdout) < 2.6 * size_kb, (peak, base.stdout, size_kb)

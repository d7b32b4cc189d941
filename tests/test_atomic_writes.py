"""Every output is written atomically (judgecal._atomic): a reader polling a file
while judgecal rewrites it never sees it empty or half-written, and a write that
fails part-way leaves the old file intact and no temporary file behind."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from judgecal._atomic import atomic_path, atomic_write_bytes, atomic_write_text

# A separate process reads the files as fast as it can until told to stop, and
# counts the reads that are not one of the complete versions: the file missing,
# empty, not valid JSON (kind "json"), or not byte-equal to its reference copy.
POLLER = textwrap.dedent("""
    import json, os, sys
    targets, stop = json.loads(sys.argv[1]), sys.argv[2]
    expected = {p: open(ref, "rb").read() for p, kind, ref in targets if kind == "bytes"}
    open(stop + ".ready", "w").close()
    reads = bad = 0
    while not os.path.exists(stop):
        for path, kind, _ in targets:
            try:
                data = open(path, "rb").read()
            except FileNotFoundError:
                bad += 1
                continue
            reads += 1
            if kind == "json":
                try:
                    json.loads(data)
                except ValueError:
                    bad += 1
            elif data != expected[path]:
                bad += 1
    print(reads, bad)
""")


def poll_while_rewriting(tmp_path: Path, targets: dict[Path, str], rewrite, times: int) -> tuple[int, int]:
    """Call ``rewrite`` ``times`` times while another process polls ``targets``
    (path -> "bytes" or "json"); returns (reads, bad reads)."""
    rewrite()
    listed = []
    for i, (path, kind) in enumerate(targets.items()):
        reference = tmp_path / f"reference-{i}.bin"
        reference.write_bytes(path.read_bytes())
        listed.append((str(path), kind, str(reference)))
    stop = tmp_path / "stop"
    proc = subprocess.Popen([sys.executable, "-c", POLLER, json.dumps(listed), str(stop)],
                            stdout=subprocess.PIPE, text=True)
    try:
        ready = Path(str(stop) + ".ready")
        while not ready.exists():
            assert proc.poll() is None, "the poller did not start"
        for _ in range(times):
            rewrite()
    finally:
        stop.touch()
        out, _ = proc.communicate(timeout=60)
    for p in (stop, ready, *(Path(ref) for *_, ref in listed)):
        p.unlink()
    reads, bad = map(int, out.split())
    return reads, bad


@pytest.fixture(scope="module")
def ratings(pariksha) -> pd.DataFrame:
    return pariksha.head(1000).reset_index(drop=True)


def test_calibrator_rewrites_are_never_seen_half_written(tmp_path, pariksha):
    from judgecal.calibration import GroupedCalibrator
    from judgecal.calibration.persist import load_calibrator, save_calibrator

    cal = GroupedCalibrator(method="isotonic").fit(pariksha)
    target = tmp_path / "calibrator.json"
    reads, bad = poll_while_rewriting(tmp_path, {target: "json"}, lambda: save_calibrator(cal, target), 30)
    assert reads > 30 and bad == 0, f"{bad} of {reads} reads saw an incomplete calibrator file"
    assert load_calibrator(target).nodes_ == cal.nodes_


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".json", ".parquet"])
def test_ratings_rewrites_are_never_seen_half_written(tmp_path, ratings, suffix):
    from judgecal.data.io import write_ratings

    target = tmp_path / f"ratings{suffix}"
    reads, bad = poll_while_rewriting(tmp_path, {target: "bytes"}, lambda: write_ratings(ratings, target), 20)
    assert reads > 20 and bad == 0, f"{bad} of {reads} reads saw an incomplete {suffix} file"


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet"])
def test_analysis_tables_are_written_atomically(tmp_path, ratings, suffix, capsys):
    from judgecal.cli._analysis_args import write_table

    target = tmp_path / f"table{suffix}"
    reads, bad = poll_while_rewriting(tmp_path, {target: "bytes"}, lambda: write_table(ratings, str(target)), 20)
    assert reads > 20 and bad == 0, f"{bad} of {reads} reads saw an incomplete {suffix} table"


def test_report_files_are_written_atomically(tmp_path, pariksha):
    from judgecal.report import build_report, write_report

    hi = pariksha[(pariksha["language"] == "hi") & (pariksha["metric"] == "la")]
    report = build_report(hi, n_resamples=20, learning_repeats=1)
    target = tmp_path / "report.html"
    files = {target: "bytes", tmp_path / "report.json": "json", tmp_path / "report.md": "bytes"}
    reads, bad = poll_while_rewriting(tmp_path, files, lambda: write_report(report, target), 8)
    assert reads > 8 and bad == 0, f"{bad} of {reads} reads saw an incomplete report file"


class Exploding:
    """A cell whose text cannot be made: the writer fails after it has started."""

    def __str__(self) -> str:
        raise RuntimeError("cannot format this cell")

    __repr__ = __str__


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl"])
def test_a_failed_ratings_write_leaves_the_old_file(tmp_path, ratings, suffix):
    from judgecal.data.io import write_ratings

    target = write_ratings(ratings, tmp_path / f"ratings{suffix}")
    before = target.read_bytes()
    broken = ratings.copy()
    broken["note"] = pd.Series([None] * (len(broken) - 1) + [Exploding()], dtype=object)
    with pytest.raises(RuntimeError, match="cannot format"):
        write_ratings(broken, target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_atomic_helpers(tmp_path):
    target = atomic_write_text(tmp_path / "sub" / "a.txt", "one\n")
    assert target.read_text() == "one\n" and oct(target.stat().st_mode & 0o777) != oct(0o600)
    target.chmod(0o640)
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two" and target.stat().st_mode & 0o777 == 0o640  # permissions kept
    assert atomic_write_text(tmp_path / "key.csv", "k", private=True).stat().st_mode & 0o777 == 0o600
    with pytest.raises(ValueError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise ValueError("writer failed")
    assert target.read_bytes() == b"two"
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["a.txt"]


# Files that may write without judgecal._atomic, and why.
DIRECT_WRITES_ALLOWED = {
    "_atomic.py": "the helper itself",
    "datasets/fetch.py": "downloads go to a .part file that replaces the target once its checksum is right",
    "dashboard/sources.py": "an upload is copied into a private temporary folder of its own",
    "judges/batch.py": "working files of a provider batch, recorded in the batch store only once written",
}
WRITER_METHODS = {"write_text", "write_bytes", "to_csv", "to_parquet", "to_json", "write_table", "dump"}


def _direct_writes(tree) -> list[int]:
    """Lines that write to a path that is not a temporary path from ``atomic_path``."""
    import ast

    temp_names = {item.optional_vars.id for node in ast.walk(tree) if isinstance(node, ast.With)
                  for item in node.items
                  if isinstance(item.context_expr, ast.Call) and getattr(item.context_expr.func, "id", "") == "atomic_path"
                  and isinstance(item.optional_vars, ast.Name)}

    def is_temp(node) -> bool:
        return isinstance(node, ast.Name) and node.id in temp_names

    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "open" and len(node.args) > 1:
            mode = node.args[1]
            if isinstance(mode, ast.Constant) and set(str(mode.value)) & set("wax") and not is_temp(node.args[0]):
                lines.append(node.lineno)
        elif isinstance(func, ast.Attribute) and func.attr == "open" and node.args:
            mode = node.args[0]
            if isinstance(mode, ast.Constant) and set(str(mode.value)) & set("wax") and not is_temp(func.value):
                lines.append(node.lineno)
        elif isinstance(func, ast.Attribute) and func.attr in ("write_text", "write_bytes"):
            if not is_temp(func.value):
                lines.append(node.lineno)
        elif isinstance(func, ast.Attribute) and func.attr in WRITER_METHODS and node.args:
            # to_csv(path), to_parquet(path), json.dump(obj, fh) ...: the first argument that is a path
            target = node.args[1] if func.attr == "dump" else node.args[0]
            if func.attr == "dump" and isinstance(target, ast.Name) and target.id == "fh":
                continue  # json.dump into a file handle opened (and checked) above
            if not is_temp(target):
                lines.append(node.lineno)
    return lines


def test_every_writer_goes_through_the_atomic_helper():
    import ast

    import judgecal

    root = Path(judgecal.__file__).parent
    found = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel in DIRECT_WRITES_ALLOWED or rel.startswith("app/"):
            continue
        lines = _direct_writes(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            found[rel] = lines
    assert not found, f"files written in place (not through judgecal._atomic): {found}"

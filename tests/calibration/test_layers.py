"""calibration/ sits on data/ only (DESIGN.md's dependency direction): none of its modules
imports the judges (provider) layer, the data sets, or anything above it, and the public
modules do not reach into each other's machinery in a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import judgecal

PACKAGE = Path(judgecal.__file__).parent
ALLOWED = ("judgecal.calibration", "judgecal.data", "judgecal.errors", "judgecal._version", "judgecal._lazy")


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of judgecal in a file, docstrings aside."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("judgecal")]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("judgecal"):
            out.append((node.lineno, node.module))
    return out


def test_calibration_imports_only_data_and_itself():
    files = sorted((PACKAGE / "calibration").rglob("*.py"))
    assert len(files) > 10
    wrong = [f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
             for path in files for line, module in _imports(path)
             if not any(module == a or module.startswith(a + ".") for a in ALLOWED)]
    assert wrong == []


def test_the_check_sees_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from judgecal.judges import score_generations\n")
    assert _imports(bad) == [(2, "judgecal.judges")]

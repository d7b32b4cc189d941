"""The architecture contracts in .importlinter hold (no import cycles, DESIGN.md's
layers, private modules kept private), checked by import-linter on the source."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import judgecal

ROOT = Path(judgecal.__file__).resolve().parents[1]


def _lint_imports(config: Path, cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("lint-imports")
    cmd = [str(exe)] if exe.exists() else [shutil.which("lint-imports") or "lint-imports"]
    return subprocess.run([*cmd, "--config", str(config), "--no-cache"], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"})


def test_contracts_are_kept():
    config = ROOT / ".importlinter"
    if not config.exists():
        pytest.skip("not a checkout: .importlinter is not installed with the package")
    result = _lint_imports(config, ROOT)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "3 kept, 0 broken" in result.stdout


def test_a_layer_violation_is_caught(tmp_path):
    """The check can fail: a calibration module importing the judges layer breaks it."""
    pkg = tmp_path / "judgecal"
    shutil.copytree(ROOT / "judgecal", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    (pkg / "calibration" / "leak.py").write_text("def f():\n    from judgecal.judges import api\n")
    result = _lint_imports(ROOT / ".importlinter", tmp_path)
    assert result.returncode != 0
    assert "judgecal.calibration.leak -> judgecal.judges" in result.stdout

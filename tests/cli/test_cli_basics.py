"""The judgecal command itself: --version, --help, and a light start-up."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from judgecal import __version__
from judgecal.cli import COMMANDS, build_parser, main

# what a CLI module must not import at start-up (the team's rule: pandas, sklearn, SDKs)
HEAVY = ("pandas", "sklearn", "scipy", "pyarrow", "statsmodels", "litellm", "openai", "anthropic", "streamlit")


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"judgecal {__version__}"


def test_version_and_help_as_subprocesses():
    version = subprocess.run([sys.executable, "-m", "judgecal", "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.strip() == f"judgecal {__version__}"
    help_ = subprocess.run([sys.executable, "-m", "judgecal", "--help"], capture_output=True, text=True, timeout=60)
    assert help_.returncode == 0
    for name in ("validate", "demo", "fetch-pariksha"):
        assert name in help_.stdout


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage: judgecal" in capsys.readouterr().out


def test_unknown_command_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_every_present_subcommand_has_help_and_run():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert {"validate", "demo", "fetch-pariksha"} <= set(sub.choices)
    assert set(sub.choices) <= set(COMMANDS)
    for name, p in sub.choices.items():
        assert p.description, name
        assert callable(p.get_default("_run")), name


def test_start_up_imports_nothing_heavy():
    """Building the whole parser (every subcommand module) loads none of the heavy packages."""
    code = (
        "import json, sys\n"
        "from judgecal.cli import build_parser\n"
        "build_parser().format_help()\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_help_subprocess_imports_nothing_heavy():
    """`judgecal --help` end to end, with the import log of the interpreter."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "judgecal", "--help"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0
    imported = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines() if "|" in line}
    assert "judgecal" in imported
    assert not imported & set(HEAVY), imported & set(HEAVY)


def test_outputs_the_file_system_refuses_are_messages(tmp_path, capsys):
    # An output under a file, or a folder given as an output file, was an OSError traceback.
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("item_id,language,metric,rater,rater_kind,score\na,hi,la,w1,human,2\n", encoding="utf-8")
    (tmp_path / "afile").write_text("", encoding="utf-8")
    (tmp_path / "adir").mkdir()
    assert main(["validate", str(ratings), "--json", str(tmp_path / "afile" / "v.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("judgecal validate: error: ") and "afile" in err and "Traceback" not in err
    assert main(["validate", str(ratings), "--json", str(tmp_path / "adir")]) == 2
    assert "Is a directory" in capsys.readouterr().err

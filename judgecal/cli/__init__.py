"""The ``judgecal`` command line.

Each subcommand lives in its own module ``judgecal/cli/<name>.py`` exposing
``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``. Those
modules import nothing heavy at module level, so ``judgecal --help`` and
``--version`` stay fast; the work's imports happen inside ``run``.

User errors (:class:`~judgecal.errors.JudgecalError`) are printed as a message
without a traceback and give a non-zero exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from judgecal._version import __version__
from judgecal.errors import JudgecalError
from judgecal.sanitize import terminal_text

# name -> module under judgecal.cli. Order is the order in --help.
COMMANDS = {
    "validate": "validate",
    "demo": "demo",
    "score": "score",
    "calibrate": "calibrate",
    "apply": "apply",
    "anchors": "anchors",
    "drift": "drift",
    "import-inspect": "import_inspect",
    "report": "report",
    "report-battles": "report_battles",
    "agreement": "agreement",
    "estimate": "estimate",
    "leaderboard": "leaderboard",
    "dashboard": "dashboard",
    "fetch-pariksha": "fetch",
}


def _available_commands() -> dict[str, object]:
    found = {}
    for name, module in COMMANDS.items():
        try:
            found[name] = importlib.import_module(f"judgecal.cli.{module}")
        except ModuleNotFoundError as exc:
            # A subcommand whose module is not written yet is simply not offered.
            if exc.name != f"judgecal.cli.{module}":
                raise
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="judgecal",
        description="Calibrate LLM-as-judge scores against native-speaker judgments, per language and script.",
    )
    parser.add_argument("--version", action="version", version=f"judgecal {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in _available_commands().items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except JudgecalError as exc:
        # Messages quote values from the data: no escape sequence of theirs reaches the terminal.
        print(f"judgecal {args.command}: error: {terminal_text(exc)}", file=sys.stderr)
        if getattr(exc, "droppable", False) and getattr(args, "drop_bad_rows", True) is False:
            print("(to leave out the rows named, listed with their reasons, and go on: add --drop-bad-rows)",
                  file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and closed: not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        # The file system refused (an output path under a file, a folder named as a
        # file, no permission): the user's to fix, so a message, not a traceback.
        what = f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc)
        if isinstance(exc, FileExistsError | NotADirectoryError):
            what += " (a file stands where a folder is needed)"
        print(f"judgecal {args.command}: error: {terminal_text(what)}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

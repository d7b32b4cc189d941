"""judgecal's exception tree.

Every error judgecal raises on purpose derives from :class:`JudgecalError`. The
command line prints such errors as a message (no traceback) and exits non-zero;
anything else is a bug. Errors coming from third-party SDKs are re-raised as one
of these with ``raise ... from exc`` so callers catch one family.

    JudgecalError
    ├── InputError               bad user data: carries every Problem found
    ├── ConfigError              bad options, mapping files, metric declarations (also a ValueError)
    │   └── ParameterError       a calibration estimator's parameter breaks its declared
    │                            constraints (judgecal.calibration._fit.params; also
    │                            scikit-learn's InvalidParameterError)
    ├── MissingDependencyError   an optional extra is not installed (install hint)
    ├── DatasetError             a data set cannot be found, downloaded or verified
    ├── JudgeError               judging failed
    │   ├── ProviderError        the provider answered with an error
    │   │   └── RateLimitError   429 / overloaded
    │   ├── ProviderTimeoutError the provider did not answer in time
    │   │   └── ProviderConnectionError  could not connect (refused)
    │   └── ScoreParseError      the answer holds no usable score
    └── CalibratorError          calibrators: not fitted, bad file, wrong judge
        ├── CalibratorFileError  damaged, edited or unknown-version file
        └── CalibratorMismatchError  scores from another judge/prompt/metric
"""

from __future__ import annotations

from dataclasses import dataclass


class JudgecalError(Exception):
    """Base class of every error judgecal raises on purpose."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as known.

    ``row`` is the 1-based line of the file for text formats (the header is
    line 1 of a CSV/TSV), and the 1-based record number for Parquet.
    """

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: object = None

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        prefix = ", ".join(where)
        value = "" if self.value is None else f" (value: {_short(self.value)})"
        message = _cut(self.message, 1000)
        return f"{prefix}: {message}{value}" if prefix else f"{message}{value}"


def _short(value: object, limit: int = 60) -> str:
    text = repr(value) if not isinstance(value, str) or len(value) < 10 * limit else repr(value[: 2 * limit])
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _cut(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters, saying how much was left out:
    a message quoting a 200 MB line must not be 200 MB long."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text) - limit:,} more characters)"


def short_list(names, limit: int = 20, width: int = 40) -> str:
    """Names for a message: at most ``limit``, each cut to ``width`` characters,
    then how many more there are."""
    names = list(names)
    shown = [str(n) if len(str(n)) <= width else str(n)[: width - 3] + "..." for n in names[:limit]]
    more = f", ... and {len(names) - limit:,} more" if len(names) > limit else ""
    return ", ".join(shown) + more


class InputError(JudgecalError):
    """The input data is wrong. ``problems`` lists every problem found."""

    exit_code = 1
    max_listed = 50

    def __init__(self, problems: list[Problem] | Problem | str, *, summary: str | None = None,
                 hint: str | None = None, droppable: bool = False):
        self.hint = hint  # what to do about it (a ready-to-edit declaration, say), shown after the list
        self.droppable = droppable  # the problems are rows that could be left out (on_bad_rows="drop")
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        self.summary = summary or f"{len(self.problems)} problem(s) in the input"
        super().__init__(self._render())

    def _render(self) -> str:
        text = self._listed()
        return f"{text}\n{self.hint}" if self.hint else text

    def _listed(self) -> str:
        lines = [self.summary + ":"]
        if len(self.problems) <= self.max_listed:
            lines += [f"  - {p}" for p in self.problems]
            return "\n".join(lines)
        # Many problems usually share a cause: list each kind once with its
        # count and first rows, so the message stays readable but covers all.
        groups: dict[tuple, list[Problem]] = {}
        for p in self.problems:
            groups.setdefault((p.file, p.column, p.message), []).append(p)
        shown = list(groups.items())[: self.max_listed]
        for (file, column, message), items in shown:
            message = _cut(message, 1000)
            rows = [str(p.row) for p in items[:8] if p.row is not None]
            more = f", ... ({len(items)} rows)" if len(items) > 8 else ""
            where = ", ".join(x for x in (file, f"column {column!r}" if column else None) if x)
            row_text = f" at rows {', '.join(rows)}{more}" if rows else ""
            example = f" (e.g. value {_short(items[0].value)})" if items[0].value is not None else ""
            lines.append(f"  - {where}: {message}{row_text}{example}")
        if len(groups) > len(shown):
            rest = sum(len(items) for _, items in list(groups.items())[len(shown):])
            lines.append(f"  ... and {rest:,} more problem(s) of {len(groups) - len(shown):,} other kinds")
        return "\n".join(lines)


class DroppedRowsWarning(UserWarning):
    """Rows were left out on request (``drop_bad_rows=True``); the message says
    how many and why, and the table's ``attrs["dropped"]`` lists each."""


class ConfigError(JudgecalError, ValueError):
    """Options, mapping files or metric declarations are wrong.

    Also a ``ValueError``, as scikit-learn raises for a bad estimator parameter, so
    code written for any estimator catches a judgecal calibrator's too."""


class MissingDependencyError(JudgecalError, ImportError):
    """An optional dependency is missing; the message says which extra to install."""

    def __init__(self, package: str, extra: str, purpose: str = ""):
        self.package = package
        self.extra = extra
        what = f" for {purpose}" if purpose else ""
        super().__init__(
            f"{package} is needed{what} but is not installed. "
            f"Install it with: pip install 'judgecal[{extra}]'"
        )


class DatasetError(JudgecalError):
    """A data set cannot be found, downloaded or verified."""


class JudgeError(JudgecalError):
    """Judging a response failed."""


class ProviderError(JudgeError):
    """The provider answered with an error (status code in ``status``)."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class RateLimitError(ProviderError):
    """The provider said to slow down (HTTP 429 or overloaded)."""


class ProviderTimeoutError(JudgeError):
    """The provider did not answer in time or the connection dropped."""


class ProviderConnectionError(ProviderTimeoutError):
    """No connection to the provider could be made (refused: nothing listens at
    that address). Retried like a timeout: a local server may still be starting."""


class ScoreParseError(JudgeError):
    """The judge's answer holds no usable score; ``raw`` keeps the answer."""

    def __init__(self, message: str, *, raw: str | None = None):
        super().__init__(message)
        self.raw = raw


class CalibratorError(JudgecalError):
    """Base for calibrator problems."""


class CalibratorFileError(CalibratorError):
    """A calibrator file is damaged, edited, or from an unknown version."""


class CalibratorMismatchError(CalibratorError):
    """Scores come from another judge, prompt or metric than the calibrator's."""

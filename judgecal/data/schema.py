"""The ratings table: judgecal's one data contract.

One row per (item, metric, rater). Required columns are :data:`REQUIRED`;
``script`` may be left out on input and is then derived from the language.
Optional columns in :data:`OPTIONAL` have fixed meanings; any other column is
kept as it is (judge token counts, costs, user metadata).

:func:`normalize_ratings` checks a DataFrame against the contract, normalises
languages, scripts, metric ids and scores, and either raises one
:class:`~judgecal.errors.InputError` listing every problem or, when asked,
drops the unusable rows and says which and why. Nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from judgecal.data.languages import (
    UnknownLanguage,
    default_script,
    normalize_language,
    parse_language,
    with_script,
)
from judgecal.data.metrics import DEFAULT_REGISTRY, MetricRegistry, declaration_for
from judgecal.data.scripts import MIN_LETTERS, MIN_SHARE, detect_scripts
from judgecal.errors import ConfigError, InputError, Problem, short_list

REQUIRED = ("item_id", "language", "script", "metric", "rater", "rater_kind", "score")
OPTIONAL = (
    "task",  # task name: open_prompt, continue_writing, summarize, qa, ...
    "prompt_id",  # several items (one per system) may answer one prompt
    "system",  # the evaluated model that wrote the response
    "prompt",
    "response",
    "reference",
    "justification",  # judge's justification, or the human rater's reasoning
    "score_probs",  # judge's distribution over levels, JSON text {"0": p, ...}
    "judge_prompt_hash",
    "locale",  # the full language tag where the language column dropped its region or variant (zh-TW)
)
TEXT_COLUMNS = ("response", "prompt", "reference", "justification")
RATER_KINDS = ("human", "judge")
KEY = ("item_id", "metric", "rater")
_TRUE = {"true", "yes", "t", "y"}
_FALSE = {"false", "no", "f", "n"}


@dataclass
class CheckResult:
    """A normalised ratings table and what was wrong with the input.

    ``dropped`` has one row per input row that was left out, with ``row`` (the
    file row) and ``reason``; it is empty unless ``on_bad_rows="drop"``.
    """

    table: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    dropped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "reason"]))
    n_input_rows: int = 0
    hint: str | None = None  # what to do about the problems (e.g. a declaration of unknown metrics)

    @property
    def ok(self) -> bool:
        """True when the input had no problems."""
        return not self.problems

    def add_unread(self, skipped: Sequence[Problem]) -> CheckResult:
        """Count records the reader could not parse (dropped with ``on_bad_rows="drop"``)
        as dropped rows and problems of this result, ahead of the rows it checked."""
        if skipped:
            unread = pd.DataFrame({"row": [p.row for p in skipped], "reason": [p.message for p in skipped]})
            self.dropped = pd.concat([unread, self.dropped], ignore_index=True)
            self.problems = [*skipped, *self.problems]
            self.n_input_rows += len(skipped)
        return self


def judge_mask(table: pd.DataFrame, judge: str | None, *, rows: str = "judge rows",
               empty: str = "nothing to calibrate",
               which: str = "say which one to calibrate (judge=..., --judge on the command line)",
               ) -> tuple[str, np.ndarray]:
    """The judge's name (``judge`` if given) and which rows (bool (n,)) are its own.

    Shared by the ratings and the battles tables: an error if the table has no
    ``rater_kind == "judge"`` rows (summary ``empty``), holds several judges and none
    was named (the message ends with ``which``), or does not hold ``judge``.
    """
    is_judge = (table["rater_kind"] == "judge").to_numpy(dtype=bool, na_value=False)
    names = sorted(pd.unique(table["rater"][is_judge]).tolist())
    if not names:
        raise InputError(Problem(f"the table has no {rows} (rater_kind == 'judge')", column="rater_kind"),
                         summary=empty)
    if judge is None:
        if len(names) > 1:
            raise ConfigError(f"the table holds several judges {names}; {which}")
        judge = names[0]
    elif judge not in names:
        raise ConfigError(f"judge {judge!r} is not in the table; judges found: {names}")
    if len(names) > 1:
        # Not in place: pandas may hand out a read-only view of its data.
        is_judge = is_judge & (table["rater"] == judge).to_numpy(dtype=bool, na_value=False)
    return judge, is_judge


def normalize_ratings(
    df: pd.DataFrame,
    *,
    metrics: MetricRegistry = DEFAULT_REGISTRY,
    source: str | None = None,
    row_numbers: Sequence[int] | None = None,
    on_bad_rows: str = "error",
) -> CheckResult:
    """Check and normalise a ratings table.

    Parameters
    ----------
    df : DataFrame, one row per (item, metric, rater)
    metrics : the metric scales scores are checked against
    source : file name used in problem messages
    row_numbers : file row of each ``df`` row, shape (len(df),); default 1..n
    on_bad_rows : ``"error"`` raises InputError listing every problem;
        ``"drop"`` leaves out unusable rows and lists them in ``dropped``.
    """
    if on_bad_rows not in ("error", "drop"):
        raise ConfigError(f"on_bad_rows must be 'error' or 'drop', not {on_bad_rows!r}")
    n = len(df)
    rows = np.arange(1, n + 1) if row_numbers is None else np.asarray(row_numbers)
    require_columns(df, REQUIRED, source, "the ratings table")

    out = df.copy()
    bad = np.zeros(n, dtype=bool)
    problems: list[Problem] = []
    reasons = np.full(n, "", dtype=object)

    odd_cells: dict[str, np.ndarray] = {}  # column -> cells already reported as not one value

    def flag(mask: np.ndarray, column: str, message: str, values) -> None:
        nonlocal bad
        if column in odd_cells:
            mask = mask & ~odd_cells[column]
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        vals = np.asarray(values, dtype=object)
        for i in idx:
            problems.append(Problem(message, file=source, row=int(rows[i]), column=column, value=vals[i]))
            reasons[i] = reasons[i] + ("; " if reasons[i] else "") + f"{column}: {message}"
        bad |= mask

    # A cell holding a list, an object or undecodable bytes (nested JSON, Parquet
    # list or binary columns) is not one label or score: report it once, here,
    # and blank it so the checks below neither crash on it nor report it again.
    for col in (*REQUIRED, "task"):
        if col in out.columns and out[col].dtype == object and _may_hold_containers(out[col]):
            values = out[col].map(_decode_bytes)
            odd = values.map(_not_one_value).to_numpy(dtype=bool)
            if odd.any():
                flag(odd, col, "expected a single value, not a list, object or non-UTF-8 bytes", out[col])
                odd_cells[col] = odd
            out[col] = values.where(~odd, None)

    for col in ("item_id", "rater"):
        values = out[col]
        text = values.astype("string").str.strip()
        flag(text.isna().to_numpy() | (text == "").fillna(True).to_numpy(), col, "missing value", values)
        out[col] = text.astype(object)

    kind = out["rater_kind"].astype("string").str.strip().str.lower()
    flag(~kind.isin(RATER_KINDS).fillna(False).to_numpy(), "rater_kind", "must be 'human' or 'judge'", out["rater_kind"])
    out["rater_kind"] = kind.astype(object)

    normalize_language_columns(out, flag)
    hint = _normalize_metrics_and_scores(out, metrics, flag)
    if "task" in out.columns:
        out["task"] = out["task"].astype("string").str.strip().astype(object)

    # Keys must be unique: the same rater scoring the same item and metric twice
    # is ambiguous (which one counts?), so every repeat is a problem.
    ok_key = ~bad
    dup = np.zeros(n, dtype=bool)
    dup[ok_key] = out.loc[ok_key, list(KEY)].duplicated(keep="first").to_numpy()
    key_text = out["item_id"].astype(str) + " / " + out["metric"].astype(str) + " / " + out["rater"].astype(str)
    flag(dup, "item_id", "duplicate rating: this item, metric and rater appear on an earlier row", key_text)

    if problems and on_bad_rows == "error":
        raise InputError(problems, summary=f"{len(problems)} problem(s) in {source or 'the ratings table'}", hint=hint,
                         droppable=True)
    dropped = pd.DataFrame({"row": rows[bad], "reason": reasons[bad]})
    table = out.loc[~bad].reset_index(drop=True)
    # + 0.0 turns -0.0 into 0.0: the same level, which would otherwise print as "-0"
    table["score"] = table["score"].astype(float) + 0.0
    return CheckResult(table=_order_columns(table), problems=problems, dropped=dropped, n_input_rows=n, hint=hint)


def require_columns(df: pd.DataFrame, required: Sequence[str], source: str | None, table: str) -> None:
    """InputError naming every required column ``df`` lacks (``script`` may be
    left out: it is derived), or saying that it has no rows."""
    missing = [c for c in required if c not in df.columns and c != "script"]
    if missing:
        found = short_list(df.columns) or "none"  # a 200 MB header line must not be quoted per column
        raise InputError(
            [Problem(f"required column {c!r} is missing (columns found: {found})", file=source, column=c) for c in missing],
            summary=f"{source or 'input'} does not have {table}'s columns",
        )
    if len(df) == 0:
        raise InputError(Problem("the table has no rows", file=source), summary="empty input")


def normalize_language_columns(out: pd.DataFrame, flag) -> None:
    """Normalise ``out``'s language column in place and check or derive its script
    column; ``flag(mask, column, message, values)`` records the bad cells.
    Shared by the ratings and battles tables.

    One rule for all: the script is the script column's, else the tag's script
    subtag, else the one its region or language implies (CLDR likely subtags),
    else (``und`` only) the script the row's texts are written in; the language
    becomes the minimal tag that keeps that script (``zh-TW``, ``zh-Hant-HK`` ->
    ``zh-Hant``; ``hi-Deva`` -> ``hi``). A region or variant the tag loses is
    kept in a ``locale`` column."""
    raw = out["language"]
    parsed: dict = {}
    for value in pd.unique(raw.dropna()):
        try:
            parsed[value] = parse_language(str(value))
        except UnknownLanguage:
            parsed[value] = None
    known = {v: p for v, p in parsed.items() if p is not None}
    language = raw.map({v: p.language for v, p in known.items()})
    flag(language.isna().to_numpy(), "language", "not a BCP-47 tag or a known language name", raw)
    explicit = raw.map({v: p.explicit for v, p in known.items()})
    implied = raw.map({v: p.script for v, p in known.items()})

    given = out["script"] if "script" in out.columns else pd.Series(None, index=out.index, dtype=object)
    text = given.astype("string").str.strip()
    empty = (text.isna() | (text == "")).to_numpy(dtype=bool)
    text = text.str.title()
    valid = text.str.fullmatch(r"[A-Z][a-z]{3}").fillna(False).to_numpy(dtype=bool)
    flag(~empty & ~valid, "script", SCRIPT_INVALID, given)
    clash = ~empty & valid & explicit.notna().to_numpy() & (text != explicit).fillna(False).to_numpy(dtype=bool)
    flag(clash, "script", SCRIPT_CLASH, given)
    script = text.astype(object).where(~empty & valid, implied)

    # und (undetermined) says nothing of its script: read it from the row's text.
    # Private-use codes (qaa..qtz) need a script subtag or column: no guessing.
    need = (script.isna() & (language == "und")).to_numpy() & empty
    if need.any():
        script = script.where(~need, _script_from_texts(out, need))
    lost = (script.isna() & language.notna()).to_numpy() & empty
    if lost.any():
        tags = raw[lost].map(lambda v: normalize_language(str(v)))
        messages = {t: _no_script_message(t) for t in pd.unique(tags)}
        for tag, message in messages.items():
            mask = np.zeros(len(out), dtype=bool)
            mask[np.flatnonzero(lost)[(tags == tag).to_numpy()]] = True
            flag(mask, "language", message, raw)

    pairs = pd.Series(list(zip(language, script, strict=True)), index=out.index)
    group = {p: (with_script(*p) if isinstance(p[0], str) else None) for p in pd.unique(pairs)}
    out["language"] = pairs.map(group).astype(object)
    out["script"] = script.astype(object)
    if "locale" not in out.columns and any(p.has_more for p in known.values()):
        # zh-TW and zh-Hant-TW share the group zh-Hant; the region stays here
        out["locale"] = raw.map({v: p.full for v, p in known.items()}).astype(object)


def _script_from_texts(out: pd.DataFrame, rows: np.ndarray) -> pd.Series:
    """The script of the first text (response, prompt, reference, reasoning) of
    each row in ``rows`` (bool mask) that is long and clear enough to tell."""
    found = pd.Series(None, index=out.index, dtype=object)
    todo = rows.copy()
    for col in TEXT_COLUMNS:
        if col not in out.columns or not todo.any():
            continue
        idx = np.flatnonzero(todo)
        scripts, share, letters = detect_scripts(out[col].to_numpy(dtype=object)[idx].tolist())
        ok = (letters >= MIN_LETTERS) & (share >= MIN_SHARE)
        found.iloc[idx[ok]] = scripts[ok]
        todo[idx[ok]] = False
    return found


def _no_script_message(tag: str) -> str:
    try:
        default_script(tag)
    except UnknownLanguage as exc:
        return f"{exc}" + (", or texts (response, prompt) long enough to read it from" if tag == "und" else "")
    return "no script could be found for this language"


SCRIPT_INVALID = "not an ISO 15924 script code such as 'Deva'"
SCRIPT_CLASH = "differs from the script subtag of the language tag"


def check_scripts(lang: pd.Series, given: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """A script column checked against its normalised language tags (both (n,)).

    Returns the scripts normalised ('deva' -> 'Deva'; empty -> the language's
    default script) as an object Series, and two bool (n,) masks: the value is
    not an ISO 15924 code; it differs from a script subtag of the tag (sr-Latn).
    """
    implied = lang.map({t: _script_or_none(t) for t in pd.unique(lang.dropna())})
    text = given.astype("string").str.strip()
    empty = text.isna() | (text == "")
    text = text.str.title()
    valid = text.str.fullmatch(r"[A-Z][a-z]{3}").fillna(False)
    invalid = (~empty & ~valid).to_numpy(dtype=bool)
    tag_script = lang.map(lambda t: t.split("-")[1] if isinstance(t, str) and "-" in t and len(t.split("-")[1]) == 4 else None)
    clash = (~empty & valid & tag_script.notna() & (text != tag_script)).fillna(False).to_numpy(dtype=bool)
    return text.where(~empty, implied).astype(object), invalid, clash


def _script_or_none(tag: str) -> str | None:
    try:
        return default_script(tag)
    except UnknownLanguage:
        return None


def _normalize_metrics_and_scores(out: pd.DataFrame, metrics: MetricRegistry, flag) -> str | None:
    """Metric ids and scores checked in place; returns a ready-to-edit declaration
    of the metrics that are not known (from the scores seen), or None."""
    raw_metric = out["metric"]
    ids = {v: metrics.resolve(str(v)) for v in pd.unique(raw_metric.dropna())}
    metric = raw_metric.map(ids)
    known = ", ".join(metrics.ids())
    unknown = metric.isna().to_numpy()
    flag(unknown, "metric", f"unknown metric (known: {known}; declare others in a metrics file)", raw_metric)
    out["metric"] = metric.astype(object)

    raw = out["score"]
    score = _to_number(raw)
    hint = None
    names = raw_metric[unknown & raw_metric.notna().to_numpy()].astype(str).str.strip()
    names = names[names != ""]
    if len(names):
        seen = score[names.index].groupby(names.to_numpy(), sort=False).agg(lambda s: s.dropna().unique().tolist())
        hint = declaration_for(dict(list(seen.items())[:20]))
    missing = raw.isna() | (raw.astype("string").str.strip() == "").fillna(True)
    flag(missing.to_numpy(), "score", "missing score", raw)
    flag((~missing & score.isna()).to_numpy(), "score", "not a number", raw)
    off = np.zeros(len(out), dtype=bool)
    for mid in pd.unique(metric.dropna()):
        scale = metrics.get(mid)
        rows = (metric == mid).to_numpy() & score.notna().to_numpy()
        off[rows] = ~scale.on_scale(score.to_numpy()[rows])
    if off.any():
        levels = {m: metrics.get(m).levels for m in pd.unique(metric[off])}
        for mid, lv in levels.items():
            mask = off & (metric == mid).to_numpy()
            flag(mask, "score", f"not on the {mid} scale {tuple(f'{x:g}' for x in lv)}", raw)
    # true/false means 1/0 only on a 0/1 scale; on any other scale it would be a
    # silent guess (is True the top level of 0-2? of 1-5?).
    boolean = _boolean_like(raw)
    if boolean.any():
        for mid in pd.unique(metric[boolean].dropna()):
            lv = metrics.get(mid).levels
            if lv != (0.0, 1.0):
                mask = boolean & (metric == mid).to_numpy()
                flag(mask, "score", f"true/false is only a score on 0/1 scales; {mid} has levels {tuple(f'{x:g}' for x in lv)}", raw)
    out["score"] = score
    return hint


def _decode_bytes(value: object) -> object:
    """UTF-8 bytes (Parquet binary columns) as text; other values unchanged."""
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return value
    return value


# infer_dtype kinds (fast, in C) that cannot hold lists, dicts or bytes.
_PLAIN_KINDS = {"string", "empty", "integer", "floating", "mixed-integer-float", "boolean", "decimal",
                "complex", "datetime", "datetime64", "date", "time", "timedelta", "timedelta64", "period"}


def _may_hold_containers(values: pd.Series) -> bool:
    return pd.api.types.infer_dtype(values, skipna=True) not in _PLAIN_KINDS


def _not_one_value(value: object) -> bool:
    return isinstance(value, (list, tuple, dict, set, np.ndarray, bytes, bytearray))


def _boolean_like(raw: pd.Series) -> np.ndarray:
    """Mask, shape (n,): which cells are booleans or true/false words."""
    if pd.api.types.is_bool_dtype(raw):
        return np.ones(len(raw), dtype=bool)
    if pd.api.types.is_numeric_dtype(raw):
        return np.zeros(len(raw), dtype=bool)
    if pd.api.types.infer_dtype(raw, skipna=True) in ("string", "empty"):
        is_bool = np.zeros(len(raw), dtype=bool)
    else:
        is_bool = raw.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy(dtype=bool)
    lower = raw.astype("string").str.strip().str.lower()
    return is_bool | lower.isin(_TRUE | _FALSE).fillna(False).to_numpy(dtype=bool)


def _to_number(raw: pd.Series) -> pd.Series:
    """Numbers as floats; true/false words and booleans as 1/0 (binary metrics
    such as hallucination are often stored that way); anything else NaN."""
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype(float)
    if pd.api.types.is_numeric_dtype(raw):
        return raw.astype(float)
    text = raw.astype("string").str.strip()
    lower = text.str.lower()
    number = pd.to_numeric(text, errors="coerce").astype(float)
    number = number.where(~lower.isin(_TRUE).fillna(False), 1.0)
    number = number.where(~lower.isin(_FALSE).fillna(False), 0.0)
    return number.where(np.isfinite(number), np.nan)


def _order_columns(df: pd.DataFrame) -> pd.DataFrame:
    first = [c for c in (*REQUIRED[:2], "script", "task", *REQUIRED[3:]) if c in df.columns]
    first = list(dict.fromkeys(first))
    rest = [c for c in df.columns if c not in first]
    return df[first + rest]


def empty_ratings() -> pd.DataFrame:
    """An empty ratings table with the required columns."""
    return pd.DataFrame({c: pd.Series(dtype=float if c == "score" else object) for c in REQUIRED})

"""The battles table: the pairwise sibling of the ratings table.

One row per (pair, rater, order shown). A *pair* is two responses to one prompt
(``response_1`` by ``system_1``, ``response_2`` by ``system_2``, in a fixed
canonical order); a rater saw them in the order ``shown`` (``12``: response_1
first; ``21``: swapped) and said which one they SAW first was better:
``verdict`` in ``first`` / ``tie`` / ``second``. docs/pairwise.md is the contract.

:func:`normalize_battles` checks a DataFrame against the contract and either
raises one :class:`~judgecal.errors.InputError` listing every problem, or with
``on_bad_rows="drop"`` leaves out the unusable rows and lists each one.

Derived, not stored: :func:`outcomes` gives each row's verdict relative to the
canonical order, 0 = system_1 better, 1 = tie, 2 = system_2 better (ordered,
so the ordinal calibrator and Bradley-Terry with ties read it directly).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from judgecal.data.schema import CheckResult, normalize_language_columns, require_columns
from judgecal.data.scripts import detect_scripts, script_matches
from judgecal.data.validate import MIN_LETTERS, MIN_SHARE
from judgecal.errors import ConfigError, InputError, Problem

REQUIRED = ("pair_id", "language", "script", "rater", "rater_kind", "shown", "verdict")
OPTIONAL = (
    "prompt_id",  # groups pairs for CV and clustered bootstraps; falls back to pair_id
    "system_1",
    "system_2",
    "task",
    "prompt",
    "response_1",
    "response_2",
    "verdict_probs",  # judge's distribution, JSON {"first": p, "tie": p, "second": p}
    "justification",
    "judge_prompt_hash",
)
VERDICTS = ("first", "tie", "second")
SHOWN = ("12", "21")
RATER_KINDS = ("human", "judge")
KEY = ("pair_id", "rater", "shown")
# Columns that describe the pair itself: every row of a pair must agree on them.
PAIR_COLUMNS = ("language", "script", "prompt_id", "system_1", "system_2", "prompt", "response_1", "response_2")
RESPONSES = ("response_1", "response_2")
OUTCOME_LABELS = ("system_1 better", "tie", "system_2 better")


def outcomes(verdict: Sequence[str] | pd.Series, shown: Sequence[str] | pd.Series) -> np.ndarray:
    """Verdicts relative to the canonical order, int array shape (n,).

    0 = system_1 better, 1 = tie, 2 = system_2 better. ``verdict`` (n,) holds
    first/tie/second about the order seen, ``shown`` (n,) holds 12 or 21.
    """
    v = pd.Series(np.asarray(verdict, dtype=object)).map({"first": 0, "tie": 1, "second": 2}).to_numpy()
    swapped = pd.Series(np.asarray(shown, dtype=object)).astype(str).to_numpy() == "21"
    if pd.isna(v).any():
        raise InputError(Problem("verdicts must be first, tie or second (normalise the table first)", column="verdict"))
    v = v.astype(np.int64)
    return np.where(swapped, 2 - v, v)


def seen_probs(probs: np.ndarray, shown: Sequence[str] | pd.Series) -> np.ndarray:
    """Distributions over (first, tie, second) seen, shape (n, 3), turned into the
    canonical order (system_1, tie, system_2); rows shown ``21`` are reversed."""
    swapped = pd.Series(np.asarray(shown, dtype=object)).astype(str).to_numpy() == "21"
    out = np.array(probs, dtype=float, copy=True)
    out[swapped] = out[swapped][:, ::-1]
    return out


def parse_verdict_probs(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Judge distributions, shape (n, 3) over first/tie/second (NaN rows where
    missing), and a bool (n,) mask of cells given but not a distribution."""
    out = np.full((len(values), 3), np.nan)
    bad = np.zeros(len(values), dtype=bool)
    for i, cell in enumerate(values.tolist()):
        if cell is None or (isinstance(cell, float) and np.isnan(cell)) or (isinstance(cell, str) and not cell.strip()):
            continue
        try:
            probs = json.loads(cell) if isinstance(cell, str) else cell
            if not isinstance(probs, Mapping) or set(probs) - set(VERDICTS):
                raise ValueError
            p = np.array([float(probs.get(k, 0.0)) for k in VERDICTS])
            if not np.all(np.isfinite(p)) or (p < 0).any() or not 0.98 <= p.sum() <= 1.02:
                raise ValueError
            out[i] = p / p.sum()
        except (TypeError, ValueError, json.JSONDecodeError):
            bad[i] = True
    return out, bad


def normalize_battles(
    df: pd.DataFrame,
    *,
    source: str | None = None,
    row_numbers: Sequence[int] | None = None,
    on_bad_rows: str = "error",
    check_texts: bool = True,
) -> CheckResult:
    """Check and normalise a battles table.

    Parameters
    ----------
    df : DataFrame, one row per (pair, rater, order shown)
    source : file name used in problem messages
    row_numbers : file row of each ``df`` row, shape (len(df),); default 1..n
    on_bad_rows : ``"error"`` raises InputError listing every problem;
        ``"drop"`` leaves out unusable rows and lists them in ``dropped``.
    check_texts : check both responses when the table has them: each must be
        there and written in the declared script (Latin or another script in a
        row declared otherwise is a problem). Benchmarks whose systems sometimes
        answer in another language (PARIKSHA) pass False and count such
        responses with :func:`response_findings` instead.
    """
    if on_bad_rows not in ("error", "drop"):
        raise ConfigError(f"on_bad_rows must be 'error' or 'drop', not {on_bad_rows!r}")
    n = len(df)
    rows = np.arange(1, n + 1) if row_numbers is None else np.asarray(row_numbers)
    require_columns(df, REQUIRED, source, "the battles table")

    out = df.reset_index(drop=True).copy()
    bad = np.zeros(n, dtype=bool)
    problems: list[Problem] = []
    reasons = np.full(n, "", dtype=object)

    def flag(mask: np.ndarray, column: str, message: str, values) -> None:
        nonlocal bad
        idx = np.flatnonzero(mask)
        vals = np.asarray(values, dtype=object)
        for i in idx:
            problems.append(Problem(message, file=source, row=int(rows[i]), column=column, value=vals[i]))
            reasons[i] = reasons[i] + ("; " if reasons[i] else "") + f"{column}: {message}"
        bad |= mask

    def text(col: str) -> pd.Series:
        return out[col].map(lambda v: v.decode("utf-8", "replace") if isinstance(v, bytes) else v).astype("string").str.strip()

    for col in ("pair_id", "rater"):
        values = text(col)
        flag((values.isna() | (values == "")).fillna(True).to_numpy(), col, "missing value", out[col])
        out[col] = values.astype(object)
    for col in ("prompt_id", "system_1", "system_2"):
        if col in out.columns:
            values = text(col)
            present = (values.notna() & (values != "")).to_numpy(dtype=bool)
            out[col] = values.astype(object).where(present, None)

    kind = text("rater_kind").str.lower()
    flag(~kind.isin(RATER_KINDS).fillna(False).to_numpy(), "rater_kind", "must be 'human' or 'judge'", out["rater_kind"])
    out["rater_kind"] = kind.astype(object)

    shown = text("shown").str.replace(r"\.0$", "", regex=True)
    flag(~shown.isin(SHOWN).fillna(False).to_numpy(), "shown",
         "must be 12 (response_1 shown first) or 21 (response_2 shown first)", out["shown"])
    out["shown"] = shown.astype(object)

    verdict = text("verdict").str.lower()
    flag(~verdict.isin(VERDICTS).fillna(False).to_numpy(), "verdict",
         "unknown verdict code; use first, tie or second (map other codes with verdict_codes)", out["verdict"])
    out["verdict"] = verdict.astype(object)

    if "verdict_probs" in out.columns:
        _, odd = parse_verdict_probs(out["verdict_probs"])
        flag(odd, "verdict_probs", 'not a distribution {"first": p, "tie": p, "second": p} summing to 1',
             out["verdict_probs"])

    normalize_language_columns(out, flag)
    if "system_1" in out.columns and "system_2" in out.columns:
        same = (out["system_1"].notna() & (out["system_1"] == out["system_2"])).to_numpy(dtype=bool)
        flag(same, "system_2", "a system plays itself: system_1 and system_2 are the same", out["system_2"])
    if check_texts:
        _check_responses(out, flag)
    _check_pair_consistency(out, bad, flag)

    # The same rater judging the same pair in the same order twice is ambiguous.
    dup = np.zeros(n, dtype=bool)
    dup[~bad] = out.loc[~bad, list(KEY)].duplicated(keep="first").to_numpy()
    key_text = out["pair_id"].astype(str) + " / " + out["rater"].astype(str) + " / shown " + out["shown"].astype(str)
    flag(dup, "pair_id", "duplicate verdict: this pair, rater and order appear on an earlier row", key_text)

    if problems and on_bad_rows == "error":
        raise InputError(problems, summary=f"{len(problems)} problem(s) in {source or 'the battles table'}")
    dropped = pd.DataFrame({"row": rows[bad], "reason": reasons[bad]})
    table = out.loc[~bad].reset_index(drop=True)
    if "prompt_id" not in table.columns:
        table["prompt_id"] = table["pair_id"]
    else:
        table["prompt_id"] = table["prompt_id"].where(table["prompt_id"].notna(), table["pair_id"])
    first = [c for c in (*REQUIRED, *OPTIONAL) if c in table.columns]
    table = table[first + [c for c in table.columns if c not in first]]
    return CheckResult(table=table, problems=problems, dropped=dropped, n_input_rows=n)


def response_scripts(out: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per response column: detected script, whether the text is long and uniform
    enough to tell (``reliable``), and whether it clashes with the declared script.

    Returns {column: DataFrame (n rows) with detected, reliable, mismatch, blank}.
    Each distinct text is measured once (a pair's texts repeat on every vote).
    """
    result = {}
    for col in RESPONSES:
        if col not in out.columns:
            continue
        cells = out[col].map(lambda v: v if isinstance(v, str) else None)
        blank = cells.isna() | (cells.fillna("").str.strip() == "")
        codes, uniques = pd.factorize(cells)
        u_script, u_share, u_letters = detect_scripts(list(uniques))
        detected = np.where(codes >= 0, u_script[np.maximum(codes, 0)] if len(uniques) else None, None)
        reliable = (codes >= 0) & (u_letters[np.maximum(codes, 0)] >= MIN_LETTERS) & (u_share[np.maximum(codes, 0)] >= MIN_SHARE) \
            if len(uniques) else np.zeros(len(out), dtype=bool)
        declared = out["script"].astype(object).to_numpy()
        pairs = {(d, s) for d, s, r in zip(declared, detected, reliable, strict=True) if r}
        clash = {p: not script_matches(*p) for p in pairs if isinstance(p[0], str)}
        mismatch = np.array([bool(r) and clash.get((d, s), False) for d, s, r in zip(declared, detected, reliable, strict=True)],
                            dtype=bool)
        result[col] = pd.DataFrame({"detected": detected, "reliable": reliable, "mismatch": mismatch,
                                    "blank": blank.to_numpy(dtype=bool)})
    return result


def _check_responses(out: pd.DataFrame, flag) -> None:
    for col, found in response_scripts(out).items():
        flag(found["blank"].to_numpy(), col, "missing response text", out[col])
        mismatch, detected = found["mismatch"].to_numpy(), found["detected"].to_numpy()
        for script in sorted({str(s) for s in detected[mismatch]}):
            flag(mismatch & (detected == script), col,
                 f"response is written in {script} script, not in the row's script", out[col])


def response_findings(table: pd.DataFrame) -> pd.DataFrame:
    """Per language and response column, among pairs that have response texts:
    pairs with a blank response and pairs whose response is in another script
    than declared, by detected script.

    One row per (language, column, finding, detected) with ``pairs``.
    """
    pairs = table.drop_duplicates("pair_id").reset_index(drop=True)
    found_all = response_scripts(pairs)
    if not found_all:
        return pd.DataFrame(columns=["language", "column", "finding", "detected", "pairs"])
    # Pairs without any response text (no metadata) are not counted as blank.
    has_text = ~np.logical_and.reduce([f["blank"].to_numpy() for f in found_all.values()])
    pairs = pairs[has_text].reset_index(drop=True)
    rows = []
    for col, found in response_scripts(pairs).items():
        for lang, g in found.assign(language=pairs["language"].to_numpy()).groupby("language"):
            if int(g["blank"].sum()):
                rows.append({"language": lang, "column": col, "finding": "blank", "detected": None, "pairs": int(g["blank"].sum())})
            for script, k in g.loc[g["mismatch"], "detected"].value_counts().items():
                rows.append({"language": lang, "column": col, "finding": "other script", "detected": script, "pairs": int(k)})
    return pd.DataFrame(rows, columns=["language", "column", "finding", "detected", "pairs"])


def _check_pair_consistency(out: pd.DataFrame, bad: np.ndarray, flag) -> None:
    """Rows of one pair must describe the same pair: same language, systems, texts."""
    cols = [c for c in PAIR_COLUMNS if c in out.columns]
    keyed = out["pair_id"].notna().to_numpy()  # rows without a pair_id are reported already
    first_row = out.groupby("pair_id", sort=False).cumcount().to_numpy() == 0
    for col in cols:
        values = out[col].astype("string")
        # "first" skips missing cells: the pair's first non-missing value is the reference
        ref = values.groupby(out["pair_id"], sort=False).transform("first")
        differs = ((values != ref).fillna(values.isna() != ref.isna())).to_numpy(dtype=bool) & ~first_row & keyed
        if differs.any():
            flag(differs, col, f"this pair has another {col} on an earlier row", out[col])


def empty_battles() -> pd.DataFrame:
    """An empty battles table with the required columns."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in (*REQUIRED, "prompt_id")})

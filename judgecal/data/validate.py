"""``judgecal validate``: what is in a ratings table and what looks wrong.

Per language: rows, items, raters per item, score distributions per metric and
rater kind, missing values; and every mismatch between the declared
language/script and the script the texts are actually written in (responses,
prompts, and free-text reasoning). Texts in another language's script are the
signature of mislabelled rows (for example two files whose languages were
swapped); the report says which languages' texts look like which.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from judgecal.data.languages import default_script
from judgecal.data.schema import TEXT_COLUMNS
from judgecal.data.scripts import (
    MIN_LETTERS,
    MIN_SHARE,
    detect_scripts,
    script_matches,
    script_name,
)


@dataclass
class ValidationReport:
    """What :func:`validate_ratings` found, as tables.

    Attributes
    ----------
    summary : DataFrame
        One row per language (and script): rows, items, raters per item, judges.
    scores : DataFrame
        Rows per language, metric, rater kind and score level.
    missing : DataFrame
        Missing values per language and column.
    script_mismatches : DataFrame
        Rows and items per language, text column and detected script that does not
        match the declared script.
    row_scripts : DataFrame
        Per row and text column: detected script, its share, mismatch flag.
    findings : list of str
        Sentences for the user (script mismatches, language mix-ups).
    """
    summary: pd.DataFrame  # one row per language
    scores: pd.DataFrame  # language x metric x rater_kind x level -> count
    missing: pd.DataFrame  # language x column -> missing count
    script_mismatches: pd.DataFrame  # language x column x detected script -> rows, items
    row_scripts: pd.DataFrame  # per row and text column: detected script, share, mismatch
    findings: list[str] = field(default_factory=list)

    @property
    def n_mismatched_rows(self) -> int:
        """Number of table rows with at least one text column in another script than declared."""
        if self.row_scripts.empty:
            return 0
        return int(self.row_scripts.loc[self.row_scripts["mismatch"], "row"].nunique())

    def to_dict(self) -> dict:
        """The report as JSON-ready records (what ``judgecal validate --json`` writes); ``row_scripts`` is left out."""
        return {
            "summary": self.summary.to_dict(orient="records"),
            "scores": self.scores.to_dict(orient="records"),
            "missing": self.missing.to_dict(orient="records"),
            "script_mismatches": self.script_mismatches.to_dict(orient="records"),
            "findings": list(self.findings),
        }


def validate_ratings(ratings: pd.DataFrame, *, text_columns: tuple[str, ...] = TEXT_COLUMNS) -> ValidationReport:
    """Describe a normalised ratings table and check its texts' scripts.

    Parameters
    ----------
    ratings : DataFrame
        A normalised ratings table (from :func:`judgecal.read_ratings` or
        :func:`judgecal.data.schema.normalize_ratings`).
    text_columns : tuple of str
        Columns whose text is compared with the declared script (judges'
        justifications are left out by default: judges usually write English).

    Returns
    -------
    ValidationReport

    Examples
    --------
    >>> import pandas as pd
    >>> ratings = pd.DataFrame({"item_id": ["q1", "q1", "q2"], "language": "hi", "script": "Deva",
    ...                         "metric": "la", "rater": ["ann1", "gpt", "ann1"],
    ...                         "rater_kind": ["human", "judge", "human"], "score": [2.0, 2.0, 1.0],
    ...                         "response": ["नमस्ते दुनिया, आप कैसे हैं", "नमस्ते दुनिया, आप कैसे हैं", "hello world, how are you"]})
    >>> report = validate_ratings(ratings)
    >>> report.summary[["language", "script", "rows", "items"]]
      language script  rows  items
    0       hi   Deva     3      2
    >>> report.n_mismatched_rows
    1
    """
    df = ratings.reset_index(drop=True)
    findings: list[str] = []
    # Counting works on a slim copy: ids as integer codes, labels as categories
    # (hashing a million strings once, not once per groupby), no long texts.
    keys = pd.DataFrame(
        {
            "item_id": pd.factorize(df["item_id"])[0],
            "rater": pd.factorize(df["rater"])[0],
            **{c: pd.Categorical(df[c]) for c in ("language", "script", "metric", "rater_kind")},
            "score": df["score"].to_numpy(),
        }
    )
    summary = _plain(_summary(keys))
    scores = _plain(
        keys.groupby(["language", "metric", "rater_kind", "score"], observed=True).size().rename("rows").reset_index()
    )
    # Long texts repeat across the rows of an item: hash each column once and
    # work on its distinct values.
    coded = {c: _text_codes(df[c]) for c in text_columns if c in df.columns}
    missing = _missing(df, text_columns, coded)
    row_scripts = _row_scripts(keys, coded)
    mismatches = _plain(_mismatch_table(df, row_scripts))
    findings += _language_swaps(df, row_scripts)
    findings += _split_items(keys)
    if not mismatches.empty:
        other = mismatches[mismatches["detected_script"] != "Latn"]
        latin = mismatches[mismatches["detected_script"] == "Latn"]
        if len(latin):
            findings.append(
                f"{int(latin['rows'].sum())} row-texts are in Latin script where another script was declared "
                "(English or romanised text; often reasoning written in English): "
                + ", ".join(f"{r.language}/{r.column}: {r.rows}" for r in latin.itertuples())
            )
        if len(other):
            findings.append(
                f"{int(other['rows'].sum())} row-texts are written in a different non-Latin script than declared: "
                + ", ".join(f"{r.language}/{r.column}: {r.rows} in {r.detected_script}" for r in other.itertuples())
            )
    return ValidationReport(summary, scores, missing, mismatches, row_scripts, findings)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns back to plain object columns for the report."""
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.CategoricalDtype):
            frame[col] = frame[col].astype(object)
    return frame


def _summary(df: pd.DataFrame) -> pd.DataFrame:
    human = df[df["rater_kind"] == "human"]
    judge = df[df["rater_kind"] == "judge"]
    # Distinct human raters of each item (over all its metrics).
    per_item = human.groupby(["language", "item_id"], observed=True)["rater"].nunique()
    raters = per_item.groupby("language", observed=True)
    out = pd.DataFrame(
        {
            "script": df.groupby("language", observed=True)["script"].agg(lambda s: ",".join(sorted(set(s)))),
            "rows": df.groupby("language", observed=True).size(),
            "items": df.groupby("language", observed=True)["item_id"].nunique(),
            "human_rows": human.groupby("language", observed=True).size(),
            "judge_rows": judge.groupby("language", observed=True).size(),
            "human_raters": human.groupby("language", observed=True)["rater"].nunique(),
            "items_with_humans": human.groupby("language", observed=True)["item_id"].nunique(),
            "raters_per_item_mean": raters.mean().round(2),
            "raters_per_item_min": raters.min(),
            "raters_per_item_max": raters.max(),
            "judges": judge.groupby("language", observed=True)["rater"].nunique(),
        }
    )
    dist = per_item.groupby(["language", per_item.rename("k")], observed=True).size()
    out["raters_per_item"] = [
        ", ".join(f"{int(k)}:{int(n)}" for (_, k), n in dist[dist.index.get_level_values(0) == lang].items())
        for lang in out.index
    ]
    count_cols = ["human_rows", "judge_rows", "human_raters", "items_with_humans", "judges"]
    out[count_cols] = out[count_cols].fillna(0).astype(int)
    return out.reset_index()


def _text_codes(texts: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Code of each cell, shape (n,), -1 where missing; and the distinct texts."""
    try:
        codes, uniques = pd.factorize(texts)
    except TypeError:  # unhashable cells (lists, dicts): compare them as text
        codes, uniques = pd.factorize(texts.astype(str).where(texts.notna()))
    values = uniques.to_numpy(dtype=object).tolist()  # fast from Arrow-backed strings
    return codes, [u if isinstance(u, str) else str(u) for u in values]


def _missing(df: pd.DataFrame, text_columns, coded: dict) -> pd.DataFrame:
    cols = [c for c in ("task", "system", "prompt_id", *text_columns) if c in df.columns]
    if not cols:
        return pd.DataFrame(columns=["language", "column", "missing", "rows"])
    blank = {}
    for col in cols:
        codes, uniques = coded[col] if col in coded else _text_codes(df[col])
        empty = np.fromiter((not u.strip() for u in uniques), dtype=bool, count=len(uniques))
        blank[col] = (codes < 0) | (empty[codes] & (codes >= 0)) if len(uniques) else codes < 0
    counts = pd.DataFrame(blank, index=df.index).groupby(df["language"]).sum()
    long = counts.stack().rename("missing").reset_index().rename(columns={"level_1": "column"})
    long["rows"] = long["language"].map(df.groupby("language").size())
    return long


def _row_scripts(df: pd.DataFrame, coded: dict) -> pd.DataFrame:
    """Detected script of every text cell, shape (rows x columns with text, ...).

    ``df`` has ``language`` and ``script`` as categoricals and ``rater_kind``;
    ``coded`` maps each text column to its codes and distinct texts.

    Each distinct text is measured once (texts repeat across the rows of an
    item), and declared/detected pairs are compared once per distinct pair.
    """
    frames = []
    # categorical codes: building and grouping the per-cell table stays cheap
    lang, script = df["language"].array, df["script"].array
    human = (df["rater_kind"] == "human").to_numpy()
    for col, (codes, uniques) in coded.items():
        has = codes >= 0
        if col == "justification":
            # A judge writes its justification in whatever language its prompt asks
            # for (usually English): only raters' own reasoning says anything
            # about the row's language.
            has &= human
        if not has.any():
            continue
        idx = np.flatnonzero(has)
        used, inverse = np.unique(codes[idx], return_inverse=True)
        u_script, u_share, u_letters = detect_scripts([uniques[k] for k in used])
        detected, share, letters = u_script[inverse], u_share[inverse], u_letters[inverse]
        reliable = (letters >= MIN_LETTERS) & (share >= MIN_SHARE)
        mismatch = reliable & _mismatched(script.codes[idx], list(script.categories), detected)
        frames.append(
            pd.DataFrame(
                {
                    "row": idx,
                    "column": col,
                    "language": pd.Categorical.from_codes(lang.codes[idx], lang.categories),
                    "declared_script": pd.Categorical.from_codes(script.codes[idx], script.categories),
                    "detected_script": detected,
                    "share": share,
                    "reliable": reliable,
                    "mismatch": mismatch,
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["row", "column", "language", "declared_script", "detected_script", "share", "reliable", "mismatch"])
    return pd.concat(frames, ignore_index=True)


def _mismatched(d_codes: np.ndarray, d_uniques: list[str], detected: np.ndarray) -> np.ndarray:
    """Mask, shape (n,): detected script not consistent with the declared one.

    d_codes : declared script of each cell as a code into ``d_uniques``, shape (n,)
    detected : detected script of each cell (None: no letters), shape (n,)
    """
    s_codes, s_uniques = pd.factorize(detected)  # None (no letters) gets code -1
    table = np.array([[not script_matches(d, s) for s in s_uniques] for d in d_uniques], dtype=bool).reshape(len(d_uniques), len(s_uniques))
    out = np.zeros(len(d_codes), dtype=bool)
    ok = (d_codes >= 0) & (s_codes >= 0)
    out[ok] = table[d_codes[ok], s_codes[ok]]
    return out


def _mismatch_table(df: pd.DataFrame, row_scripts: pd.DataFrame) -> pd.DataFrame:
    bad = row_scripts[row_scripts["mismatch"]]
    cols = ["language", "declared_script", "column", "detected_script", "rows", "items"]
    if bad.empty:
        return pd.DataFrame(columns=cols)
    bad = bad.assign(item_id=df["item_id"].to_numpy()[bad["row"].to_numpy()])
    out = (
        bad.groupby(["language", "declared_script", "column", "detected_script"], observed=True)
        .agg(rows=("row", "size"), items=("item_id", "nunique"))
        .reset_index()
    )
    return out[cols].sort_values(["language", "rows"], ascending=[True, False], ignore_index=True)


def _language_swaps(df: pd.DataFrame, row_scripts: pd.DataFrame) -> list[str]:
    """Languages whose texts are mostly in the script of another language of the table."""
    findings = []
    reliable = row_scripts[row_scripts["reliable"]]
    if reliable.empty:
        return findings
    langs = sorted(set(df["language"]))
    script_of = {lang: default_script(lang) for lang in langs}
    owners: dict[str, list[str]] = {}
    for lang, script in script_of.items():
        owners.setdefault(script, []).append(lang)
    looks_like: dict[str, tuple[str, int, int]] = {}
    for lang, part in reliable.groupby("language", observed=True):
        counts = part["detected_script"].value_counts()
        top = counts.index[0]
        if top != script_of[lang] and top in owners and not script_matches(script_of[lang], top):
            rows = int(part.loc[part["detected_script"] == top, "row"].nunique())
            looks_like[lang] = (top, rows, int(part["row"].nunique()))
    done = set()
    for lang, (script, rows, total) in looks_like.items():
        others = [o for o in owners[script] if o != lang]
        swapped = [o for o in others if o in looks_like and looks_like[o][0] == script_of[lang]]
        if swapped and lang not in done:
            other = swapped[0]
            o_script, o_rows, o_total = looks_like[other]
            findings.append(
                f"LANGUAGE MIX-UP: rows labelled {lang} ({script_name(script_of[lang])}) have texts in "
                f"{script_name(script)}, the script of {other}, in {rows} of {total} rows with readable text; "
                f"rows labelled {other} have texts in {script_name(o_script)} in {o_rows} of {o_total}. "
                f"The labels {lang} and {other} look swapped."
            )
            done |= {lang, other}
        elif lang not in done:
            findings.append(
                f"rows labelled {lang} have texts mostly in {script_name(script)} ({rows} of {total} rows), "
                f"the script of {', '.join(others) or 'another language'}: check their language label"
            )
    return findings


def _split_items(df: pd.DataFrame) -> list[str]:
    langs = df.groupby("item_id")["language"].nunique()
    split = langs[langs > 1]
    if split.empty:
        return []
    pairs = (
        df[df["item_id"].isin(split.index)]
        .groupby("item_id")["language"]
        .agg(lambda s: "/".join(sorted(set(s))))
        .value_counts()
    )
    return [
        f"{len(split)} items are labelled with more than one language across rows: "
        + ", ".join(f"{k}: {v} items" for k, v in pairs.items())
    ]

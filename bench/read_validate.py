"""Reading and validating 1M ratings rows from Parquet: rows/s per stage.

Makes a realistic ratings table (10 Indic languages, 3 metrics, 3 human raters
and one judge per item, prompts, responses and reasoning drawn from a pool of
unique texts in each language's script, judge score distributions as JSON),
writes it as Parquet, then times each stage as a user's `judgecal validate
ratings.parquet` runs it:

    read       Parquet -> DataFrame (read_table)
    normalize  contract checks and normalisation (normalize_ratings)
    validate   per-language report with script detection (validate_ratings)

Run:  python bench/read_validate.py [--rows 1000000] [--texts 40000] [--keep FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from judgecal.data.io import read_table
from judgecal.data.schema import normalize_ratings
from judgecal.data.validate import validate_ratings

# language tag -> first and last code point of a block of its script's letters
LETTERS = {
    "hi": (0x0905, 0x0939), "mr": (0x0905, 0x0939), "bn": (0x0985, 0x09B9), "pa": (0x0A05, 0x0A39),
    "gu": (0x0A85, 0x0AB9), "or": (0x0B05, 0x0B39), "ta": (0x0B85, 0x0BB9), "te": (0x0C05, 0x0C39),
    "kn": (0x0C85, 0x0CB9), "ml": (0x0D05, 0x0D39),
}
LANGS = list(LETTERS)
METRICS = (("la", 3), ("tq", 3), ("h", 2))
RATERS_PER_ITEM = 3
JUDGE = "gpt-4o-2024-08-06"


def text_pool(rng: np.random.Generator, lang: str, n: int, mean_words: int) -> np.ndarray:
    """n unique pseudo-sentences in the language's script, shape (n,), built in one pass."""
    lo, hi = LETTERS[lang]
    words = rng.poisson(mean_words, n) + 3
    word_len = rng.integers(2, 9, words.sum())
    chars = rng.integers(lo, hi + 1, word_len.sum() + len(word_len))
    ends = np.cumsum(word_len + 1) - 1
    chars[ends] = ord(" ")
    flat = chars.astype("<u4").tobytes().decode("utf-32-le")
    char_ends = np.cumsum(np.add.reduceat(word_len + 1, np.r_[0, np.cumsum(words)[:-1]]))
    starts = np.r_[0, char_ends[:-1]]
    # a number tag keeps every text distinct even if the random letters repeat
    return np.array([f"{flat[s:e - 1]} {k}" for k, (s, e) in enumerate(zip(starts, char_ends, strict=True))], dtype=object)


def make_table(n_rows: int, n_texts: int, seed: int = 0) -> pd.DataFrame:
    """A ratings table with about ``n_rows`` rows (whole items only)."""
    rng = np.random.default_rng(seed)
    rows_per_item = len(METRICS) * (RATERS_PER_ITEM + 1)
    n_items = -(-n_rows // rows_per_item)
    n_systems = 4
    item = np.arange(n_items)
    lang_of_item = np.asarray(LANGS)[item % len(LANGS)]
    prompt_of_item = item // n_systems
    system_of_item = np.asarray([f"model-{k}" for k in range(n_systems)])[item % n_systems]

    # pools of unique texts per language; responses per item, prompts per prompt, reasons per rating
    per_lang = max(1, n_texts // len(LANGS))
    responses = {lang: text_pool(rng, lang, per_lang, 40) for lang in LANGS}
    prompts = {lang: text_pool(rng, lang, max(1, per_lang // 4), 12) for lang in LANGS}
    reasons = {lang: text_pool(rng, lang, max(1, per_lang // 2), 15) for lang in LANGS}
    response_of_item = np.empty(n_items, dtype=object)
    prompt_text = np.empty(n_items, dtype=object)
    for lang in LANGS:
        idx = np.flatnonzero(lang_of_item == lang)
        response_of_item[idx] = responses[lang][rng.integers(0, per_lang, len(idx))]
        prompt_text[idx] = prompts[lang][prompt_of_item[idx] % len(prompts[lang])]

    # one row per (item, metric, rater): 3 humans from a pool of 40 per language, then the judge
    rep_item = np.repeat(item, rows_per_item)
    metric_idx = np.tile(np.repeat(np.arange(len(METRICS)), RATERS_PER_ITEM + 1), n_items)
    slot = np.tile(np.arange(RATERS_PER_ITEM + 1), n_items * len(METRICS))
    is_judge = slot == RATERS_PER_ITEM
    worker = (rep_item * 7 + slot * 13) % 40
    lang = lang_of_item[rep_item]
    rater = np.where(is_judge, JUDGE, np.char.add(np.char.add(lang.astype(str), "-w"), worker.astype(str)))
    levels = np.asarray([m[1] for m in METRICS])[metric_idx]
    quality = rng.normal(0, 1, n_items)[rep_item] + rng.normal(0, 0.6, len(rep_item)) + 0.5 * is_judge
    score = np.clip(np.rint((quality + 1) * (levels - 1) / 2), 0, levels - 1)

    reason = np.empty(len(rep_item), dtype=object)
    for code in LANGS:
        idx = np.flatnonzero((lang == code) & ~is_judge)
        reason[idx] = reasons[code][rng.integers(0, len(reasons[code]), len(idx))]
    judge_rows = np.flatnonzero(is_judge)
    reason[judge_rows] = "The response answers the question clearly and is fluent."
    probs_pool = [json.dumps({str(k): round(float(p), 4) for k, p in enumerate(rng.dirichlet(np.ones(3)))}) for _ in range(500)]
    score_probs = np.full(len(rep_item), None, dtype=object)
    score_probs[judge_rows] = np.asarray(probs_pool, dtype=object)[rng.integers(0, 500, len(judge_rows))]

    df = pd.DataFrame(
        {
            "item_id": np.char.add(np.char.add(np.char.add(lang_of_item.astype(str), "-p"), prompt_of_item.astype(str)), np.char.add("/", system_of_item))[rep_item],
            "language": lang,
            "task": "qa",
            "metric": np.asarray([m[0] for m in METRICS])[metric_idx],
            "rater": rater,
            "rater_kind": np.where(is_judge, "judge", "human"),
            "score": score,
            "prompt_id": np.char.add(lang_of_item.astype(str), np.char.add("-p", prompt_of_item.astype(str)))[rep_item],
            "system": system_of_item[rep_item],
            "prompt": prompt_text[rep_item],
            "response": response_of_item[rep_item],
            "justification": reason,
            "score_probs": score_probs,
        }
    )
    return df.iloc[:n_rows]


def timed(label: str, n: int, fn):
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    print(f"{label:<34} {seconds:7.2f} s   {n / seconds:>12,.0f} rows/s")
    return out, seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--texts", type=int, default=40_000, help="unique response texts in the pool")
    ap.add_argument("--keep", help="keep the Parquet file here instead of a temporary folder")
    args = ap.parse_args()

    print(f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.1f} (other work on the machine slows every stage)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep) if args.keep else Path(tmp) / "ratings.parquet"
        df, _ = timed("generate table", args.rows, lambda: make_table(args.rows, args.texts))
        n = len(df)
        uniques = {c: df[c].nunique() for c in ("response", "prompt", "justification")}
        timed("write Parquet", n, lambda: df.to_parquet(path, index=False))
        df = None  # free it before reading back
        print(f"rows {n:,}; unique texts {uniques}; file {path.stat().st_size / 1e6:.1f} MB")
        print("-" * 70)
        (raw, rows), t_read = timed("read      (read_table)", n, lambda: read_table(path))
        result, t_norm = timed("normalize (normalize_ratings)", n, lambda: normalize_ratings(raw, source=str(path), row_numbers=rows))
        assert len(result.table) == n and not result.problems
        report, t_val = timed("validate  (validate_ratings)", n, lambda: validate_ratings(result.table))
        total = t_read + t_norm + t_val
        print("-" * 70)
        print(f"{'read + normalize + validate':<34} {total:7.2f} s   {n / total:>12,.0f} rows/s")
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
        print(f"languages {len(report.summary)}, script mismatches {int(report.script_mismatches['rows'].sum()) if len(report.script_mismatches) else 0}, findings {len(report.findings)}")


if __name__ == "__main__":
    main()

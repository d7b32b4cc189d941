"""The judge's score profile a calibrator records: per (metric, language), how often the
judge gave each level on the fitting data, and a fingerprint of the judge (model id,
prompt hash per metric, whether it returned log-probabilities).

Drift checks (``calibration.drift``) and ``apply``'s warnings compare new judge
scores with this profile. Calibrator files written before it existed have none
(``FittedGroups.judge_profile is None``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from judgecal.data.metrics import MetricScale
from judgecal.errors import CalibratorFileError, InputError, Problem


def profile_key(metric: str, language: str) -> str:
    """'la|hi': the key of one (metric, language) in a profile's ``levels``."""
    return f"{metric}|{language}"


def fingerprint(judge: str, prompt_hash: dict, logprobs: bool) -> dict:
    """The judge's fingerprint: {'model', 'prompt_hash' (metric -> hash), 'logprobs'}."""
    return {"model": str(judge), "prompt_hash": {str(m): str(h) for m, h in (prompt_hash or {}).items()},
            "logprobs": bool(logprobs)}


def has_logprobs(rows: pd.DataFrame) -> bool:
    """Whether judge rows carry the judge's score distribution (score_probs) on any row."""
    return "score_probs" in rows.columns and bool(rows["score_probs"].notna().any())


def text_codes(col: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes (n,) and the text of each code: factorising first and converting only the
    distinct values to text is much faster than converting a million-row column."""
    codes, uniques = pd.factorize(col, sort=False)
    return codes, [str(u) for u in uniques]


def level_counts(language: pd.Series, metric: pd.Series, score: pd.Series,
                 scales: dict[str, MetricScale]) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """Level counts per (metric, language) of n judge scores, vectorised.

    language, metric, score : shape (n,).
    Returns ({profile key: counts (K,) on the metric's levels}, off-scale rows): rows
    whose metric has no scale here or whose score is not one of its levels are not
    counted; they come back (with their position) for the caller to report.
    """
    lang_code, lang_names = text_codes(language)
    met_code, met_names = text_codes(metric)
    values = score.to_numpy(dtype=float)
    out: dict[str, np.ndarray] = {}
    off = np.zeros(len(values), dtype=bool)
    for mi, m in enumerate(met_names):
        rows = np.flatnonzero(met_code == mi)
        scale = scales.get(m)
        if scale is None:
            off[rows] = True
            continue
        levels = np.asarray(scale.levels)
        pos = np.clip(np.searchsorted(levels, values[rows]), 0, len(levels) - 1)
        good = np.isclose(levels[pos], values[rows])
        off[rows[~good]] = True
        k = len(levels)
        flat = np.bincount(lang_code[rows[good]] * k + pos[good], minlength=len(lang_names) * k)
        table = flat.reshape(len(lang_names), k)
        for li in np.flatnonzero(table.sum(axis=1) > 0):
            out[profile_key(m, lang_names[li])] = table[li]
    bad = pd.DataFrame({"row": np.flatnonzero(off) + 1, "metric": np.asarray(met_names, dtype=object)[met_code[off]],
                        "score": values[off]})
    return out, bad


def build_profile(items: pd.DataFrame, scales: dict[str, MetricScale], judge: str, prompt_hash: dict,
                  logprobs: bool) -> dict:
    """The profile of a calibrator's fitting data.

    items : one row per (item, metric) the calibrator was fitted on, with
        language, script, metric, judge_score.
    Returns {'fingerprint': ..., 'levels': {profile key: {'metric', 'language',
    'script', 'levels', 'counts'}}}.
    """
    counts, bad = level_counts(items["language"], items["metric"], items["judge_score"], scales)
    if len(bad):  # fitting checked the scores already: this is a bug, not bad input
        raise InputError(Problem(f"{len(bad)} fitting judge score(s) off their metric's scale"),
                         summary="cannot record the judge's score distribution")
    scripts = (items.assign(language=items["language"].astype(str), metric=items["metric"].astype(str),
                            script=items["script"].astype(str))
               .groupby(["metric", "language"])["script"].agg(lambda s: ",".join(sorted(set(s)))))
    levels = {}
    for key, c in sorted(counts.items()):
        m, lang = key.split("|", 1)
        levels[key] = {"metric": m, "language": lang, "script": scripts.get((m, lang), ""),
                       "levels": [float(v) for v in scales[m].levels], "counts": [int(v) for v in c]}
    return {"fingerprint": fingerprint(judge, prompt_hash, logprobs), "levels": levels}


def check_profile(profile, source: str) -> None:
    """Raise CalibratorFileError naming the first field of a file's ``judge_profile`` that is
    malformed (the key is optional: None passes)."""
    def bad(field: str, what: str):
        raise CalibratorFileError(f"{source} is not a valid calibrator file: judge_profile.{field} {what}")

    if profile is None:
        return
    if not isinstance(profile, dict) or not isinstance(profile.get("levels"), dict):
        bad("levels", "is missing or not an object")
    fp = profile.get("fingerprint")
    if not isinstance(fp, dict) or not isinstance(fp.get("model"), str) or not isinstance(fp.get("logprobs"), bool) \
            or not isinstance(fp.get("prompt_hash"), dict):
        bad("fingerprint", "needs model (text), prompt_hash (object) and logprobs (true/false)")
    for key, e in profile["levels"].items():
        if not isinstance(e, dict) or not isinstance(e.get("metric"), str) or not isinstance(e.get("language"), str):
            bad(key, "needs metric and language (text)")
        lv, counts = e.get("levels"), e.get("counts")
        if not isinstance(lv, list) or not isinstance(counts, list) or len(lv) != len(counts) or len(lv) < 2:
            bad(key, "needs levels and counts of the same length (two or more)")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in lv):
            bad(f"{key}.levels", "must be numbers")
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in counts):
            bad(f"{key}.counts", "must be non-negative integers")
        if key != profile_key(e["metric"], e["language"]):
            bad(key, f"does not match its metric and language ({e['metric']!r}, {e['language']!r})")

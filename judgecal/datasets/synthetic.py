"""A synthetic ratings table with a known truth, in the style of sklearn's ``make_*``.

Each item has a latent quality per metric. Human raters see it with noise; the
judge sees it with its own noise plus a per-language inflation (the pattern seen
in multilingual judge studies: inflation grows for lower-resource languages and
non-Latin scripts). Texts are pseudo-words in each language's script, so that
script checks have something real to check.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from judgecal.data.languages import default_script, normalize_language
from judgecal.data.metrics import DEFAULT_REGISTRY, MetricRegistry
from judgecal.data.schema import normalize_ratings
from judgecal.errors import ConfigError

DEFAULT_LANGUAGES = ("en", "hi", "bn", "ta", "pa", "sr-Latn", "sr", "zh-Hant", "ar", "sw")
JUDGE_ID = "synthetic-judge"


def default_inflation(languages: Sequence[str]) -> dict[str, float]:
    """Judge inflation on the latent scale: small for English, larger elsewhere,
    growing along the list (a stand-in for resource level)."""
    return {lang: (0.05 if lang == "en" else 0.25 + 0.5 * i / max(1, len(languages) - 1)) for i, lang in enumerate(languages)}


def make_judge_ratings(
    n_items: int = 600,
    *,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
    metrics: Sequence[str] = ("la", "tq", "h"),
    n_raters: int = 3,
    n_systems: int = 4,
    inflation: Mapping[str, float] | None = None,
    rater_noise: float = 0.45,
    judge_noise: float = 0.35,
    prompts_per_language: int | None = None,
    registry: MetricRegistry = DEFAULT_REGISTRY,
    random_state: int | None = 0,
    return_truth: bool = False,
):
    """Make a ratings table with human and judge rows.

    Parameters
    ----------
    n_items : number of generations, spread evenly over languages
    languages : language tags or names
    metrics : metric ids; ordinal metrics use their levels, binary metrics mark a
        problem present with 1
    n_raters : human ratings per item and metric (each language has its own pool
        of ``n_raters + 2`` raters)
    n_systems : evaluated systems; system k has a quality offset of ``0.3 * k``
    inflation : language -> shift of the judge on the latent scale (levels are one
        unit apart); default :func:`default_inflation`
    rater_noise, judge_noise : standard deviations on the latent scale
    prompts_per_language : prompts per language (items share prompts across systems)
    return_truth : also return a dict with the inflation, system offsets and the
        latent quality of every item

    Returns
    -------
    DataFrame (the ratings table), or ``(DataFrame, truth)`` with ``return_truth``.
    """
    rng = np.random.default_rng(random_state)
    langs = [normalize_language(x) for x in languages]
    shift = default_inflation(langs) if inflation is None else {normalize_language(k): float(v) for k, v in inflation.items()}
    scales = [registry.get(m) for m in metrics]
    systems = [f"system-{k}" for k in range(n_systems)]
    offsets = {s: 0.3 * k for k, s in enumerate(systems)}
    lang_of_item = np.asarray(langs)[np.arange(n_items) % len(langs)]
    system_of_item = np.asarray(systems)[(np.arange(n_items) // len(langs)) % n_systems]
    # Every (language, prompt, system) is one item; enough prompts that no two
    # items share an id (a repeated id would be a duplicate rating).
    slots = len(langs) * n_systems
    needed = -(-n_items // slots)
    n_prompts = prompts_per_language or needed
    if n_prompts < needed:
        raise ConfigError(
            f"prompts_per_language={n_prompts} with {len(langs)} languages and {n_systems} systems "
            f"gives {n_prompts * slots} distinct items, fewer than n_items={n_items}"
        )
    prompt_of_item = np.arange(n_items) // slots

    rows = []
    latent_all = {}
    for i in range(n_items):
        lang, system = lang_of_item[i], system_of_item[i]
        item_id = f"{lang}-p{prompt_of_item[i]:03d}/{system}"
        text = _pseudo_text(default_script(lang), rng, 12)
        prompt = _pseudo_text(default_script(lang), rng, 6) + "?"
        raters = rng.choice(n_raters + 2, size=n_raters, replace=False)
        for scale in scales:
            base = rng.normal(0.0, 0.8) + offsets[system] - 0.45
            latent = base if scale.higher_is_better else -base
            latent_all[(item_id, scale.id)] = latent
            center = (scale.min + scale.max) / 2
            for r in raters:
                level = _to_level(center + latent + rng.normal(0, rater_noise), scale.levels)
                rows.append((item_id, lang, scale.id, f"{lang}-rater-{r}", "human", level, system, i, text, prompt, None))
            direction = 1.0 if scale.higher_is_better else -1.0
            judged = center + latent + direction * shift.get(lang, 0.0) + rng.normal(0, judge_noise)
            level = _to_level(judged, scale.levels)
            rows.append((item_id, lang, scale.id, JUDGE_ID, "judge", level, system, i, text, prompt, f"score {level:g}"))
    df = pd.DataFrame(
        rows,
        columns=["item_id", "language", "metric", "rater", "rater_kind", "score", "system", "_i", "response", "prompt", "justification"],
    )
    df["prompt_id"] = df["item_id"].str.split("/").str[0]
    df["task"] = "qa"
    df = normalize_ratings(df.drop(columns="_i"), metrics=registry).table
    if return_truth:
        return df, {"inflation": shift, "system_offsets": offsets, "latent": latent_all}
    return df


def _to_level(value: float, levels: tuple[float, ...]) -> float:
    """Round a latent value to the nearest level (levels one unit apart from the first)."""
    idx = int(np.clip(np.rint(value - levels[0]), 0, len(levels) - 1))
    return levels[idx]


@lru_cache(maxsize=64)
def _letters(script: str) -> np.ndarray:
    from judgecal.data.scripts import _table

    table, codes = _table()
    if script == "Latn":
        return np.arange(ord("a"), ord("z") + 1)
    wanted = {"Hans": "Hani", "Hant": "Hani", "Jpan": "Hani", "Kore": "Hang"}.get(script, script)
    if wanted not in codes:
        wanted = "Latn"
    cps = np.flatnonzero(table[:0x30000] == codes.index(wanted))
    letters = [c for c in cps[:4000] if unicodedata.category(chr(c)) in ("Lo", "Ll", "Lu")]
    return np.asarray(letters or [ord("a")])


def _pseudo_text(script: str, rng: np.random.Generator, words: int) -> str:
    letters = _letters(script)
    return " ".join("".join(chr(c) for c in rng.choice(letters, size=rng.integers(2, 7))) for _ in range(words))

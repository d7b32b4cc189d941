"""Synthetic battles with known system strengths, per-language tie propensity
and position bias (for coverage tests of calibration and leaderboards).

Natives and the judge decide each shown pair by a Davidson model on the
systems' strengths s (log-scale) plus a position term b for the response shown
first: with a = exp(s_first + b), c = exp(s_second),

    P(first) = a / D,  P(second) = c / D,  P(tie) = nu * sqrt(a c) / D,
    D = a + c + nu * sqrt(a c),

with the language's tie propensity nu. The judge sees noisier strengths
(``judge_noise`` per pair), its own position bias and tie propensity, and by
default both orders. With ``prompt_effect`` > 0 each prompt moves each
system's strength by its own normal draw (sd ``prompt_effect``), seen by natives
and the judge alike: some prompts suit some systems, so the pairs of one prompt
are correlated, as in real data (intervals must then be clustered by prompt).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from judgecal.data.battles import normalize_battles

JUDGE_ID = "synthetic-pairwise-judge"
DEFAULT_LANGUAGES = ("hi", "bn", "ta", "pa", "sw")


def davidson_probs(s_first: np.ndarray, s_second: np.ndarray, nu: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """P(first, tie, second) seen, shape (n, 3), from strengths (n,), tie
    propensities (n,) and first-position advantages (n,) on the log scale."""
    a, c = np.exp(s_first + bias), np.exp(s_second)
    t = nu * np.sqrt(a * c)
    return np.column_stack([a, t, c]) / (a + c + t)[:, None]


def make_battles(
    n_pairs: int = 2000,
    *,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
    n_systems: int = 8,
    strengths: Sequence[float] | None = None,
    tie_propensity: Mapping[str, float] | float = 0.6,
    position_bias: Mapping[str, float] | float = 0.2,
    judge_tie_propensity: float = 0.15,
    judge_position_bias: float = 0.1,
    judge_noise: float = 0.5,
    n_votes: int = 3,
    both_orders: bool = True,
    prompts_per_language: int | None = None,
    prompt_effect: float = 0.0,
    random_state: int | None = 0,
    return_truth: bool = False,
):
    """Make a battles table with native votes and judge verdicts.

    Parameters
    ----------
    n_pairs : pairs, spread evenly over languages
    languages : language tags
    n_systems : systems; strengths default to evenly spaced in [-1, 1]
    strengths : the systems' true log-strengths, shape (n_systems,)
    tie_propensity : Davidson nu of the natives, per language or one value
    position_bias : natives' log-advantage of the response shown first, per language or one
    judge_tie_propensity, judge_position_bias : the judge's own
    judge_noise : sd of the judge's per-pair error on the strength difference
    n_votes : native votes per pair (every vote sees response_1 first)
    both_orders : the judge sees both orders (shown 12 and 21), else 12 only
    prompts_per_language : prompts per language (pairs share prompts); default n_pairs / 10 / languages
    prompt_effect : sd of each prompt's own shift of each system's log-strength (0 = none, the default;
        the strengths are then the population's; with it, natives' outcomes averaged over prompts are
        a little less decisive than ``strengths`` say)

    Returns the normalised battles table, and with ``return_truth`` also a dict
    with ``strengths`` (n_systems,), ``systems``, ``tie_propensity`` and ``position_bias`` per language.
    """
    rng = np.random.default_rng(random_state)
    langs = list(languages)
    s = np.linspace(-1, 1, n_systems) if strengths is None else np.asarray(strengths, float)
    if len(s) < 2:
        raise ValueError("make_battles needs at least two systems")
    if not prompt_effect >= 0:
        raise ValueError(f"prompt_effect must be >= 0, got {prompt_effect}")
    systems = [f"system-{k}" for k in range(len(s))]
    nu = {lg: float(tie_propensity[lg] if isinstance(tie_propensity, Mapping) else tie_propensity) for lg in langs}
    pb = {lg: float(position_bias[lg] if isinstance(position_bias, Mapping) else position_bias) for lg in langs}
    lang = np.array([langs[i % len(langs)] for i in range(n_pairs)], dtype=object)
    per_lang = prompts_per_language or max(1, n_pairs // (10 * len(langs)))
    prompt_no = np.array([rng.integers(per_lang) for _ in lang], dtype=np.int64)
    prompt = np.array([f"{lg}-p{k}" for lg, k in zip(lang, prompt_no, strict=True)], dtype=object)
    i = rng.integers(len(s), size=n_pairs)
    j = (i + rng.integers(1, len(s), size=n_pairs)) % len(s)  # never a system against itself
    s_i, s_j = s[i], s[j]
    if prompt_effect > 0:  # drawn only when asked, so the default stream (and table) is unchanged
        lang_no = np.array([langs.index(lg) for lg in lang], dtype=np.int64)
        shift = rng.normal(0.0, prompt_effect, size=(len(langs) * per_lang, len(s)))
        row = lang_no * per_lang + prompt_no
        s_i, s_j = s_i + shift[row, i], s_j + shift[row, j]
    pair_id = np.array([f"pair-{k}" for k in range(n_pairs)], dtype=object)
    rows = []
    nu_v = np.array([nu[lg] for lg in lang])
    pb_v = np.array([pb[lg] for lg in lang])
    p_h = davidson_probs(s_i, s_j, nu_v, pb_v)
    for v in range(n_votes):
        seen = _draw(rng, p_h)
        rows.append(_frame(pair_id, lang, prompt, systems, i, j, [f"{lg}-rater{v}" for lg in lang], "human", "12", seen))
    err = rng.normal(0, judge_noise, size=n_pairs)
    jn, jb = np.full(n_pairs, judge_tie_propensity), np.full(n_pairs, judge_position_bias)
    rows.append(_frame(pair_id, lang, prompt, systems, i, j, JUDGE_ID, "judge", "12",
                       _draw(rng, davidson_probs(s_i + err, s_j, jn, jb))))
    if both_orders:
        seen = _draw(rng, davidson_probs(s_j, s_i + err, jn, jb))
        rows.append(_frame(pair_id, lang, prompt, systems, i, j, JUDGE_ID, "judge", "21", seen))
    table = normalize_battles(pd.concat(rows, ignore_index=True), source="make_battles", check_texts=False).table
    if not return_truth:
        return table
    return table, {"strengths": s, "systems": systems, "tie_propensity": nu, "position_bias": pb}


def _draw(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """One verdict index (0 first, 1 tie, 2 second) per row of p (n, 3)."""
    return (rng.random(len(p))[:, None] > np.cumsum(p, axis=1)[:, :2]).sum(axis=1)


def _frame(pair_id, lang, prompt, systems, i, j, rater, kind, shown, seen) -> pd.DataFrame:
    names = np.asarray(systems, dtype=object)
    return pd.DataFrame({
        "pair_id": pair_id, "language": lang, "prompt_id": prompt, "system_1": names[i], "system_2": names[j],
        "rater": rater, "rater_kind": kind, "shown": shown,
        "verdict": np.asarray(("first", "tie", "second"), dtype=object)[seen],
    })

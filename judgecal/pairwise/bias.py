"""Biases of pairwise verdicts per language and script.

- position: share of verdicts for the response shown first (natives and the
  judge), and the judge's flip rate where it saw both orders (its canonical
  outcomes differ between the two orders);
- ties: share of tie verdicts;
- length: response lengths in grapheme clusters (Unicode extended grapheme
  clusters through the ``regex`` module's ``\\X``: an Indic aksara with its
  vowel signs counts once, unlike code points), and how often a decisive
  verdict goes to the longer response;
- self-preference: on pairs where exactly one system is of the judge's family,
  how often the judge's decisive verdict goes to that system, beside the
  natives' decisive votes on the same pairs.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from judgecal.data.battle_verdicts import human_votes, judged_pairs


def grapheme_lengths(texts) -> np.ndarray:
    """Length of each text in extended grapheme clusters, shape (n,); 0 for missing."""
    import regex

    cluster = regex.compile(r"\X")
    cache: dict[str, int] = {}
    out = np.zeros(len(texts), dtype=np.int64)
    for i, text in enumerate(list(texts)):
        if isinstance(text, str):
            if text not in cache:
                cache[text] = len(cluster.findall(text))
            out[i] = cache[text]
    return out


def _share(mask) -> float:
    mask = np.asarray(mask, dtype=float)
    return float(mask.mean()) if len(mask) else float("nan")


def bias_table(battles: pd.DataFrame, *, judge: str | None = None, judge_family: str | None = None) -> pd.DataFrame:
    """Per (language, script): position, tie, length and self-preference figures.

    judge_family : regular expression (case-insensitive) matching the systems
        of the judge's own family (``"gpt"`` for PARIKSHA's GPT judge); None
        leaves self-preference out.

    Columns: pairs, first_native, first_judge (share of verdicts for the
    response shown first), pairs_both_orders, flip_rate, tie_native, tie_judge,
    mean_graphemes_1/2 (pairs with texts), longer_wins_native/judge (decisive
    verdicts for the longer response, pairs whose lengths differ),
    family_pairs (exactly one family system), family_win_judge /
    family_win_native (decisive verdicts for the family system), self_preference
    (their difference).
    """
    pairs = judged_pairs(battles, judge)
    votes = human_votes(battles)
    jrows = battles[(battles["rater_kind"] == "judge") & (battles["rater"] == pairs["rater"].iloc[0])]
    has_text = all(c in battles.columns for c in ("response_1", "response_2"))
    if has_text:
        texts = battles.drop_duplicates("pair_id").set_index("pair_id")[["response_1", "response_2"]]
        length = pd.DataFrame({"len_1": grapheme_lengths(texts["response_1"]), "len_2": grapheme_lengths(texts["response_2"])},
                              index=texts.index)
        length = length[(length["len_1"] > 0) & (length["len_2"] > 0)]
    family = family_outcomes(battles, judge_family)
    rows = []
    for (lang, script), g in pairs.groupby(["language", "script"]):
        v = votes[(votes["language"] == lang) & (votes["script"] == script)]
        j = jrows[(jrows["language"] == lang) & (jrows["script"] == script)]
        both = g[g["n_orders"] == 2]
        row = {"language": lang, "script": script, "pairs": len(g),
               "first_native": _share(v["verdict"] == "first"), "first_judge": _share(j["verdict"] == "first"),
               "pairs_both_orders": len(both), "flip_rate": _share(both["flipped"]) if len(both) else float("nan"),
               "tie_native": _share(v["verdict"] == "tie"), "tie_judge": _share(j["verdict"] == "tie")}
        if has_text:
            lg = length.reindex(g["pair_id"]).dropna()
            row["pairs_with_texts"] = len(lg)
            row["mean_graphemes_1"] = float(lg["len_1"].mean()) if len(lg) else float("nan")
            row["mean_graphemes_2"] = float(lg["len_2"].mean()) if len(lg) else float("nan")
            longer = pd.Series(np.where(lg["len_1"] > lg["len_2"], 0, 2), index=lg.index)[lg["len_1"] != lg["len_2"]]
            row["longer_wins_native"] = _wins(v, longer)
            row["longer_wins_judge"] = _wins(g, longer)
        if family is not None:
            fam = family.reindex(g["pair_id"]).dropna()
            row["family_pairs"] = len(fam)
            row["family_win_judge"] = _wins(g, fam)
            row["family_win_native"] = _wins(v, fam)
            row["self_preference"] = row["family_win_judge"] - row["family_win_native"]
        rows.append(row)
    return pd.DataFrame(rows)


def family_outcomes(battles: pd.DataFrame, judge_family: str | None) -> pd.Series | None:
    """pair_id -> the winning outcome (0 or 2) of the one system of the judge's family, for pairs
    with exactly one such system (``judge_family`` a case-insensitive regular expression); None
    without a family or without system columns."""
    if judge_family is None or not {"system_1", "system_2"} <= set(battles.columns):
        return None
    pattern = re.compile(judge_family, re.IGNORECASE)
    info = battles.drop_duplicates("pair_id").set_index("pair_id")[["system_1", "system_2"]].dropna()
    f1 = info["system_1"].map(lambda s: bool(pattern.search(s)))
    f2 = info["system_2"].map(lambda s: bool(pattern.search(s)))
    return pd.Series(np.where(f1, 0, 2), index=info.index)[f1 ^ f2]


def _wins(verdicts: pd.DataFrame, target: pd.Series) -> float:
    """Share of decisive verdicts (rows with pair_id, outcome) on the pairs of
    ``target`` (pair_id -> winning outcome 0 or 2) that give that outcome."""
    on = verdicts[verdicts["pair_id"].isin(target.index) & (verdicts["outcome"] != 1)]
    if on.empty:
        return float("nan")
    return float((on["outcome"].to_numpy() == target.loc[on["pair_id"]].to_numpy()).mean())

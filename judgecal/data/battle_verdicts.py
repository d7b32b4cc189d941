"""One judge's verdicts on each pair: each order's outcome and the combined verdict.

A judge may see a pair in both orders (position swap). Each order's verdict is
turned into the canonical outcome (0 = system_1 better, 1 = tie, 2 = system_2
better); the **combined verdict** follows one documented rule:

    combined = 1 + sign(sum over orders of (outcome - 1))

so two agreeing orders give their verdict, a decisive order and a tie give the
decisive side, and two orders that contradict each other (the judge followed
the position, not the responses) give a tie. The combined distribution is the
mean over orders of each order's distribution (the judge's ``verdict_probs``
turned into the canonical order where given, else the verdict as certain).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from judgecal.data.battles import outcomes, parse_verdict_probs, seen_probs
from judgecal.data.schema import judge_mask
from judgecal.errors import ConfigError, InputError, Problem

PAIR_INFO = ("language", "script", "prompt_id", "system_1", "system_2", "task")


def pick_judge_rows(battles: pd.DataFrame, judge: str | None = None) -> tuple[str, pd.DataFrame]:
    """The name of the table's judge (``judge`` if given) and its rows; error if
    there are several judges and none was named, or none at all."""
    judge, mask = judge_mask(battles, judge, rows="judge verdicts", empty="no judge verdicts",
                             which="say which one (judge=...)")
    return judge, battles[mask]


def judged_pairs(battles: pd.DataFrame, judge: str | None = None) -> pd.DataFrame:
    """One row per pair the judge saw, from a normalised battles table.

    Columns: pair_id, rater (the judge), the pair's language, script, prompt_id
    (and systems, task where present), n_orders (1 or 2), outcome_12 /
    outcome_21 (each order's canonical outcome, -1 where that order was not
    judged), outcome (combined, see the module docstring), p_system_1, p_tie,
    p_system_2 (combined distribution, rows sum to 1), flipped (both orders
    judged and their outcomes differ), has_probs (verdict_probs used).
    """
    judge, rows = pick_judge_rows(battles, judge)
    rows = rows.reset_index(drop=True)
    o = outcomes(rows["verdict"], rows["shown"])
    probs = np.eye(3)[o]
    has_probs = np.zeros(len(rows), dtype=bool)
    if "verdict_probs" in rows.columns:
        given, _ = parse_verdict_probs(rows["verdict_probs"])
        has_probs = ~np.isnan(given).any(axis=1)
        probs[has_probs] = seen_probs(given[has_probs], rows["shown"].to_numpy()[has_probs])
    code, pair_ids = pd.factorize(rows["pair_id"], sort=False)
    n_pairs = len(pair_ids)
    n_orders = np.bincount(code, minlength=n_pairs)
    swapped = (rows["shown"] == "21").to_numpy()
    out_12 = np.full(n_pairs, -1, dtype=np.int64)
    out_21 = np.full(n_pairs, -1, dtype=np.int64)
    out_12[code[~swapped]] = o[~swapped]
    out_21[code[swapped]] = o[swapped]
    signed = np.bincount(code, weights=o - 1.0, minlength=n_pairs)
    combined = (1 + np.sign(signed)).astype(np.int64)
    p = np.column_stack([np.bincount(code, weights=probs[:, k], minlength=n_pairs) for k in range(3)]) / n_orders[:, None]
    first = np.unique(code, return_index=True)[1]  # first row of each pair, in code order
    info = [c for c in PAIR_INFO if c in rows.columns]
    out = pd.DataFrame({"pair_id": np.asarray(pair_ids, dtype=object), "rater": judge})
    for col in info:
        out[col] = rows[col].to_numpy()[first]
    out["n_orders"] = n_orders
    out["outcome_12"] = out_12
    out["outcome_21"] = out_21
    out["outcome"] = combined
    out["p_system_1"], out["p_tie"], out["p_system_2"] = p[:, 0], p[:, 1], p[:, 2]
    out["flipped"] = (n_orders == 2) & (out_12 != out_21)
    out["has_probs"] = np.bincount(code, weights=has_probs.astype(float), minlength=n_pairs) > 0
    return out


def human_votes(battles: pd.DataFrame) -> pd.DataFrame:
    """The native votes of a battles table with their canonical ``outcome`` (0/1/2)."""
    votes = battles[battles["rater_kind"] == "human"].reset_index(drop=True)
    return votes.assign(outcome=outcomes(votes["verdict"], votes["shown"]) if len(votes) else np.zeros(0, int))


def human_majority(votes: pd.DataFrame) -> pd.Series:
    """Per pair_id: the natives' most frequent canonical outcome; NaN where two or
    more outcomes share the top count (no majority)."""
    # factorize + bincount rather than pd.crosstab: the same counts, about 50x faster on PARIKSHA's 65k votes
    codes, pairs = pd.factorize(votes["pair_id"], sort=True)
    outcome = votes["outcome"].to_numpy(dtype=np.int64)
    counts = np.bincount(codes * 3 + outcome, minlength=3 * len(pairs)).reshape(len(pairs), 3)
    unique_top = (counts == counts.max(axis=1, keepdims=True)).sum(axis=1) == 1
    best = np.where(unique_top, counts.argmax(axis=1), np.nan)
    return pd.Series(best, index=pd.Index(pairs, name="pair_id", dtype=votes["pair_id"].dtype), dtype=float)


@dataclass
class BattleArrays:
    """Battles as the arrays leaderboard numerics take (docs/pairwise.md).

    i, j : int (n,) indices into ``systems`` of system_1 and system_2
    outcome : int (n,) 0 = system_1 better, 1 = tie, 2 = system_2 better;
        or float (n, 3) probabilities of the three (calibrated verdicts)
    weight : float (n,) weight of each battle
    cluster : int (n,) prompt index (for bootstraps clustered by prompt)
    systems : list of system names; language : object (n,)
    """

    i: np.ndarray
    j: np.ndarray
    outcome: np.ndarray
    weight: np.ndarray
    cluster: np.ndarray
    systems: list[str]
    language: np.ndarray


def battle_arrays(battles: pd.DataFrame, source: str = "human", *, judge: str | None = None,
                  probabilities: pd.DataFrame | None = None) -> BattleArrays:
    """Leaderboard inputs from a battles table, only pairs with both systems.

    source : 'human' (one battle per native vote, weight 1), 'judge' (the
        judge's combined verdict per pair, weight 1) or 'calibrated'
        (``probabilities``: judged pairs with prob_system_1/prob_tie/prob_system_2,
        e.g. PairwiseCalibrator.apply's output; outcome is (n, 3)).
    Systems are indexed over all pairs of the table with systems, so arrays of
    different sources built from one table share the indices.
    """
    if not {"system_1", "system_2"} <= set(battles.columns):
        raise InputError(Problem("leaderboards need system_1 and system_2 columns", column="system_1"),
                         summary="no systems in the battles")
    known = battles[battles["system_1"].notna() & battles["system_2"].notna()]
    systems = sorted(set(known["system_1"]) | set(known["system_2"]))
    index = {s: k for k, s in enumerate(systems)}
    prompts = {p: k for k, p in enumerate(pd.unique(known["prompt_id"]))}
    if source == "human":
        rows = human_votes(known)
        outcome = rows["outcome"].to_numpy()
    elif source == "judge":
        rows = judged_pairs(known, judge)
        outcome = rows["outcome"].to_numpy()
    elif source == "calibrated":
        if probabilities is None:
            raise ConfigError("source='calibrated' needs probabilities (PairwiseCalibrator.apply's output)")
        rows = probabilities[probabilities["pair_id"].isin(set(known["pair_id"]))]
        outcome = rows[["prob_system_1", "prob_tie", "prob_system_2"]].to_numpy(dtype=float)
    else:
        raise ConfigError(f"source must be 'human', 'judge' or 'calibrated', not {source!r}")
    return BattleArrays(
        i=rows["system_1"].map(index).to_numpy(dtype=np.int64), j=rows["system_2"].map(index).to_numpy(dtype=np.int64),
        outcome=outcome, weight=np.ones(len(rows)), cluster=rows["prompt_id"].map(prompts).to_numpy(dtype=np.int64),
        systems=systems, language=rows["language"].to_numpy(dtype=object))

"""How well a judge's verdicts match native votes, per language and script.

:func:`agreement_table` compares the judge's combined verdict with the
natives' majority; :func:`calibration_table` scores held-out calibrated
probabilities (from :func:`~judgecal.pairwise.calibration.cross_validated_pairs`)
against every native vote, beside two references on the same folds: a fixed
reading of the verdict (the verdict's outcome with probability 0.8, the two
others 0.1) and the per-language verdict x vote table fitted on the training folds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from judgecal.data.battle_verdicts import human_majority, human_votes, judged_pairs

ECE_BINS = 10
TABLE_SMOOTHING = 0.5  # pseudo-votes added to every cell of the verdict x vote table


def agreement_table(battles: pd.DataFrame, judge: str | None = None) -> pd.DataFrame:
    """Per (language, script): pairs, agreement of the judge's verdict with the
    natives' majority (3-way over pairs with a majority; and where both are
    decisive), tie rates and first-position preference of natives and judge.

    Rates of natives are over votes; of the judge over its verdicts; first
    preference is the share of verdicts for the response shown first.
    """
    pairs = judged_pairs(battles, judge)
    votes = human_votes(battles)
    majority = human_majority(votes)
    pairs = pairs.assign(majority=pairs["pair_id"].map(majority))
    jrows = battles[battles["rater_kind"] == "judge"]
    jrows = jrows[jrows["rater"] == pairs["rater"].iloc[0]]
    rows = []
    for (lang, script), g in pairs.groupby(["language", "script"]):
        v = votes[(votes["language"] == lang) & (votes["script"] == script)]
        j = jrows[(jrows["language"] == lang) & (jrows["script"] == script)]
        has = g["majority"].notna()
        decisive = has & (g["majority"] != 1) & (g["outcome"] != 1)
        rows.append({
            "language": lang, "script": script, "pairs": len(g), "pairs_with_majority": int(has.sum()),
            "agree_3way": _mean(g.loc[has, "outcome"] == g.loc[has, "majority"]),
            "agree_decisive": _mean(g.loc[decisive, "outcome"] == g.loc[decisive, "majority"]),
            "tie_native": _mean(v["verdict"] == "tie"), "tie_judge": _mean(j["verdict"] == "tie"),
            "first_native": _mean(v["verdict"] == "first"), "first_judge": _mean(j["verdict"] == "first"),
        })
    return pd.DataFrame(rows)


def _mean(mask) -> float:
    mask = np.asarray(mask, dtype=float)
    return float(mask.mean()) if len(mask) else float("nan")


def vote_probabilities(held_out: pd.DataFrame, battles: pd.DataFrame) -> pd.DataFrame:
    """One row per native vote on a held-out pair: language, script, fold,
    outcome (0/1/2), the judge's verdict outcome, and the calibrated (``cal_*``),
    fixed 80/10/10 (``fixed_*``) and verdict x vote table (``table_*``)
    probabilities of the three outcomes. The table of fold f is fitted per
    language on the votes of the other folds (``TABLE_SMOOTHING`` per cell)."""
    votes = human_votes(battles)
    info = held_out.set_index("pair_id")
    votes = votes[votes["pair_id"].isin(info.index)].reset_index(drop=True)
    at = info.loc[votes["pair_id"]]
    verdict = at["outcome"].to_numpy()
    out = pd.DataFrame({"language": votes["language"], "script": votes["script"], "pair_id": votes["pair_id"],
                        "fold": at["fold"].to_numpy(), "outcome": votes["outcome"].to_numpy(), "verdict": verdict})
    cal = at[["prob_system_1", "prob_tie", "prob_system_2"]].to_numpy(dtype=float)
    fixed = np.full((len(out), 3), 0.1)
    fixed[np.arange(len(out)), verdict] = 0.8
    table = np.full((len(out), 3), np.nan)
    for lang in pd.unique(out["language"]):
        in_lang = (out["language"] == lang).to_numpy()
        for f in pd.unique(out["fold"]):
            train, test = in_lang & (out["fold"] != f).to_numpy(), in_lang & (out["fold"] == f).to_numpy()
            counts = np.full((3, 3), TABLE_SMOOTHING)
            np.add.at(counts, (verdict[train], out["outcome"].to_numpy()[train]), 1.0)
            table[test] = (counts / counts.sum(axis=1, keepdims=True))[verdict[test]]
    for name, p in (("cal", cal), ("fixed", fixed), ("table", table)):
        for j, level in enumerate(("system_1", "tie", "system_2")):
            out[f"{name}_{level}"] = p[:, j]
    return out


def first_better_ece(p_first: np.ndarray, is_first: np.ndarray, bins: int = ECE_BINS) -> float:
    """ECE of P(first better): votes (n,) binned by predicted probability in
    equal-width bins; the vote-weighted mean |mean prediction - observed share|."""
    if not len(p_first):
        return float("nan")
    b = np.minimum((np.asarray(p_first) * bins).astype(int), bins - 1)
    n = np.bincount(b, minlength=bins)
    gap = np.bincount(b, weights=np.asarray(is_first, float) - p_first, minlength=bins)
    return float(np.abs(gap).sum() / n.sum())


def calibration_table(votes: pd.DataFrame, by=("language", "script")) -> pd.DataFrame:
    """Per group of ``votes`` (from :func:`vote_probabilities`): log-loss of a
    native vote under each model, predicted vs observed tie rate, and ECE of
    P(first better) for the calibrated probabilities and the table. The natives
    saw response_1 first, so first better = system_1 better."""
    rows = []
    groups = votes.groupby(list(by)) if by else [((), votes)]
    for key, g in groups:
        y = g["outcome"].to_numpy()
        row = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True)) if by else {"group": "all"}
        row["votes"] = len(g)
        for name in ("cal", "table", "fixed"):
            p = g[[f"{name}_system_1", f"{name}_tie", f"{name}_system_2"]].to_numpy()
            row[f"log_loss_{name}"] = float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1)).mean())
        row["tie_native"] = float((y == 1).mean())
        row["tie_predicted"] = float(g["cal_tie"].mean())
        row["tie_gap"] = row["tie_predicted"] - row["tie_native"]
        row["ece_first_cal"] = first_better_ece(g["cal_system_1"].to_numpy(), y == 0)
        row["ece_first_table"] = first_better_ece(g["table_system_1"].to_numpy(), y == 0)
        rows.append(row)
    return pd.DataFrame(rows)

"""Judge-drift detection on PARIKSHA: size and power of `check_drift`, 200 simulated updates.

The calibrator is fitted on PARIKSHA (repaired). Its recorded distribution is the
judge's levels on the items it was fitted on (items with human ratings). Each run
builds new judged rows per language from those items:

* judge change (JUDGE_LANGS): a random 70 % subset of the items, every score moved
  up one level with probability p = min(1, 0.3 / share of items below the top level),
  so the mean rises by 0.3 where that is possible (printed: where fewer than 30 % of
  a metric's items are below the top, +0.3 by one-level moves is impossible and the
  achieved shift is smaller). The anchor items get the same judge change.
* system change, no shift (the other languages): a random 70 % subset of the items
  ("different items, same judge"); the judge re-scores anchors identically up to
  re-scoring noise.
* system change with a shift (SYSTEM_LANGS): a 30 % subset drawn with items the judge
  scored below the top on la or tq twenty times as likely (a weaker system; same
  judge), so the distribution really moves while the judge does not.

The subsets above share items with the fitting data, which makes the distribution
test conservative there. The size of the test on disjoint data is measured in a
second null run: per language, the items are split in random halves, the recorded
distribution is taken from one half (``build_profile``, what fitting on it records)
and the other half is the new judged rows, same judge, no noise.

Re-scoring noise in every language: with probability NOISE an item's new score
moves one level up or down (at random, kept on the scale), as a judge sampled at
temperature > 0 would.

Anchors: ``select_anchors(ratings, ANCHORS)`` once (seed 0). Flags: Holm at 0.05 over
all (metric, language) tests; a language is flagged when any of its metrics is.

Usage: python bench/drift_sim.py [--runs 200]
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import time
import warnings

import numpy as np
import pandas as pd

from judgecal.calibration import GroupedCalibrator, check_drift, select_anchors
from judgecal.calibration._fit.profile import build_profile
from judgecal.datasets import load_pariksha

JUDGE_LANGS = ("kn", "mr")
SYSTEM_LANGS = ("bn", "te")
SHIFT = 0.3
SUBSET = 0.7
SYSTEM_SUBSET = 0.3
SYSTEM_WEIGHT = 20.0
ANCHORS = 40
NOISE = 0.03


def fitting_items(ratings: pd.DataFrame) -> pd.DataFrame:
    """Judge rows of the (item, metric) pairs with human ratings: what the calibrator was fitted on."""
    human = ratings[ratings["rater_kind"] == "human"][["item_id", "metric"]].drop_duplicates()
    judge = ratings[ratings["rater_kind"] == "judge"]
    return judge.merge(human, on=["item_id", "metric"]).reset_index(drop=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()
    ratings = load_pariksha(repair=True)
    cal = GroupedCalibrator(method="isotonic").fit(ratings)
    items = fitting_items(ratings)
    anchors_old, _ = select_anchors(ratings, ANCHORS, random_state=0)
    anchor_ids = set(anchors_old["item_id"].astype(str))
    top = items.groupby("metric")["score"].transform("max").to_numpy()
    lowest = items.groupby("metric")["score"].transform("min").to_numpy()
    score = items["score"].to_numpy(float)
    lang = items["language"].astype(str).to_numpy()
    is_anchor = items["item_id"].astype(str).isin(anchor_ids).to_numpy()
    # Probability of moving up one level, per (metric, language) of the judge-changed languages.
    p_up = np.zeros(len(items))
    feas = []
    for (m, lg), g in items.groupby(["metric", "language"]):
        if lg not in JUDGE_LANGS:
            continue
        below = float((g["score"] < g["score"].max()).mean())
        p = min(1.0, SHIFT / below) if below > 0 else 0.0
        p_up[g.index] = p
        feas.append({"language": lg, "metric": m, "share_below_top": below, "p_up": p,
                     "expected_mean_shift": p * below})
    print("judge change: +0.3 by one-level moves needs >= 30 % of items below the top level")
    print(pd.DataFrame(feas).round(3).to_string(index=False))
    lower = (score < top) & items["metric"].isin(["la", "tq"]).to_numpy()  # quality metrics, not h
    weight = np.where(np.isin(lang, SYSTEM_LANGS) & lower, SYSTEM_WEIGHT, 1.0)
    # One weight per item (items span metrics).
    item_w = pd.Series(weight).groupby(items["item_id"].to_numpy()).max()
    ids = item_w.index.to_numpy()
    id_lang = items.groupby("item_id")["language"].first().astype(str).reindex(ids).to_numpy()
    row_item = pd.Index(ids).get_indexer(items["item_id"])
    flags = []
    t0 = time.perf_counter()
    for run in range(args.runs):
        rng = np.random.default_rng(1000 + run)
        new = score.copy()
        judge_changed = np.isin(lang, JUDGE_LANGS)
        new += (judge_changed & (rng.random(len(new)) < p_up) & (new < top)).astype(float)
        noisy = rng.random(len(new)) < NOISE
        step = np.where(rng.random(len(new)) < 0.5, -1.0, 1.0)
        new = np.where(noisy, np.clip(new + step, lowest, top), new)
        # Subset of items per language (Efraimidis-Spirakis weighted sampling without replacement).
        keys = rng.random(len(ids)) ** (1.0 / item_w.to_numpy())
        chosen = np.zeros(len(ids), bool)
        for lg in np.unique(id_lang):
            members = np.flatnonzero(id_lang == lg)
            k = int(round((SYSTEM_SUBSET if lg in SYSTEM_LANGS else SUBSET) * len(members)))
            chosen[members[np.argsort(-keys[members])[:k]]] = True
        keep = chosen[row_item] | is_anchor  # the anchors are always re-scored
        judged = items.loc[keep, ["item_id", "language", "script", "metric", "rater", "rater_kind"]].assign(
            score=new[keep])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = check_drift(cal, judged, anchors=anchors_old, random_state=run)
        v = report.verdict.assign(run=run)
        flags.append(v)
    elapsed = time.perf_counter() - t0
    allv = pd.concat(flags)
    rates = allv.groupby("language")[["distribution_flagged", "anchors_flagged"]].mean()
    rates["condition"] = ["judge change (+0.3)" if lg in JUDGE_LANGS else
                          "system change, shifted" if lg in SYSTEM_LANGS else "system change (reshuffled subset)"
                          for lg in rates.index]
    rates["reading_judge"] = allv.assign(j=allv["reading"].str.startswith("judge changed")).groupby("language")["j"].mean()
    print(f"\n{args.runs} runs, {elapsed:.1f} s of check_drift ({elapsed / args.runs * 1000:.0f} ms per run)")
    print("rate flagged per language (Holm 0.05 over 30 (metric, language) tests; any metric flags the language):")
    print(rates[["condition", "distribution_flagged", "anchors_flagged", "reading_judge"]].round(3).to_string())
    judge = rates.loc[list(JUDGE_LANGS)]
    null = rates.drop(index=list(JUDGE_LANGS) + list(SYSTEM_LANGS))
    system = rates.loc[list(SYSTEM_LANGS)]
    null_rates = disjoint_null(cal, items, ids, id_lang, row_item, args.runs)
    print("\nsize on disjoint halves (recorded distribution from one half, new rows = the other half, same judge):")
    print(null_rates.round(3).to_string())
    print("\ntargets:")
    print(f"  judge-changed languages, distribution flagged >= 95 %: min {judge['distribution_flagged'].min():.3f}")
    print(f"  unshifted languages, distribution flagged <= 5 %:      max {null['distribution_flagged'].max():.3f} "
          f"(overlapping subsets), max {null_rates['distribution_flagged'].max():.3f} (disjoint halves, all languages)")
    print(f"  judge change told apart by anchors: judge-changed anchor rate min {judge['anchors_flagged'].min():.3f}; "
          f"system-change anchor rate max {pd.concat([null, system])['anchors_flagged'].max():.3f} "
          f"(shifted-system distribution rate min {system['distribution_flagged'].min():.3f})")


def disjoint_null(cal, items, ids, id_lang, row_item, runs: int) -> pd.DataFrame:
    """Flag rate per language when the recorded and the new scores come from disjoint random halves."""
    scales = cal.state_.scales
    fp = cal.state_.judge_profile["fingerprint"]
    out = []
    for run in range(runs):
        rng = np.random.default_rng(5000 + run)
        half = np.zeros(len(ids), bool)
        for lg in np.unique(id_lang):
            members = np.flatnonzero(id_lang == lg)
            half[rng.permutation(members)[: len(members) // 2]] = True
        in_a = half[row_item]
        a = items[in_a].rename(columns={"score": "judge_score"})
        profile = build_profile(a, scales, fp["model"], fp["prompt_hash"], fp["logprobs"])
        half_cal = copy.copy(cal)
        half_cal.state_ = dataclasses.replace(cal.state_, judge_profile=profile)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = check_drift(half_cal, items[~in_a], random_state=run)
        out.append(report.verdict)
    return pd.concat(out).groupby("language")[["distribution_flagged"]].mean()


if __name__ == "__main__":
    main()

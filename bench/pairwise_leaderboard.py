"""PARIKSHA leaderboards per language: natives, raw judge, calibrated judge, human-anchored.

On the pairs with known systems (pair metadata present), per language:

- ``all-human``: Davidson strengths from every native vote (the reference);
- ``split-half``: Kendall tau between two random halves of the native votes;
- ``judge``: from the GPT judge's verdicts;
- ``calibrated``: from the calibrated judge's probabilities (PairwiseCalibrator,
  nested-CV held-out probabilities: the calibrators saw the other folds' native
  votes of every language, i.e. far more than 50 labelled battles);
- with 50 human-labelled pairs drawn at random (20 draws): ``human-50`` (those
  pairs' votes alone, ridge alpha = 1 because 50 pairs leave strengths
  unbounded), ``table-50`` (a verdict x vote table estimated on the 50 pairs,
  add-one smoothed, turning every verdict into expected votes),
  ``ppi-judge`` (PPI++ with the raw verdict as the prediction) and
  ``ppi-table`` (PPI++ with the table's expected votes as the prediction,
  cross-fitted: a labelled pair's prediction comes from a table without it);
  experiments that are not in the package: ``shrunk-*`` (the judge's strengths
  moved toward PPI++ by a James-Stein factor) and ``stacked`` (one Davidson fit
  on every judge verdict plus the labelled pairs' native votes, each vote
  weighted like one verdict: biased, no valid interval, the best point
  ranking we found with few labels).

Prints Kendall tau to the all-human leaderboard (mean over draws and the 10-90 %
range), the PPI++ lambda and effective sample size gain. The all-human
leaderboard contains the labelled pairs' votes, so every estimator that uses
them shares data with its reference; ``--held-out-reference`` adds columns
``|x`` scored against the leaderboard of the other pairs' votes only, which
separates that overlap from information. ``--labelled 50,100,200`` repeats the
table per size and ends with a curve (mean tau, languages >= the judge). Usage::

    python bench/pairwise_leaderboard.py [--draws 20] [--labelled 50] [--no-calibrated] [--held-out-reference]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from judgecal.data.battle_verdicts import human_votes, judged_pairs
from judgecal.datasets import load_pariksha_battles
from judgecal.pairwise.leaderboard import DavidsonBT, HumanAnchoredBT, kendall_tau


def language_pairs(battles: pd.DataFrame, lang: str, calibrated: pd.DataFrame | None) -> dict:
    """Per-pair arrays for one language: i, j, judge outcome, vote counts (P, 3), votes, systems."""
    b = battles[(battles["language"] == lang) & battles["has_systems"]]
    votes = human_votes(b)
    pairs = judged_pairs(b)
    counts = pd.crosstab(votes["pair_id"], votes["outcome"]).reindex(columns=[0, 1, 2], fill_value=0)
    pairs = pairs[pairs["pair_id"].isin(counts.index)].reset_index(drop=True)
    systems = sorted(set(pairs["system_1"]) | set(pairs["system_2"]))
    index = {s: k for k, s in enumerate(systems)}
    out = {
        "i": pairs["system_1"].map(index).to_numpy(), "j": pairs["system_2"].map(index).to_numpy(),
        "judge": pairs["outcome"].to_numpy(), "counts": counts.loc[pairs["pair_id"]].to_numpy(dtype=float),
        "systems": systems, "votes": votes[votes["pair_id"].isin(set(pairs["pair_id"]))].reset_index(drop=True),
        "index": index,
    }
    if calibrated is not None:
        probs = calibrated.set_index("pair_id").loc[pairs["pair_id"], ["prob_system_1", "prob_tie", "prob_system_2"]]
        out["calibrated"] = probs.to_numpy(dtype=float)
    return out


def verdict_table(judge: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """P(native vote | verdict), (3, 3), add-one smoothed, from labelled pairs' vote counts."""
    table = np.ones((3, 3))
    for v in range(3):
        table[v] += counts[judge == v].sum(axis=0)
    return table / table.sum(axis=1, keepdims=True)


def one_draw(d: dict, labelled: np.ndarray, m: int, alpha: float) -> dict[str, object]:
    i, j, judge, counts = d["i"], d["j"], d["judge"], d["counts"]
    n_votes = counts.sum(axis=1)
    shares = counts / n_votes[:, None]
    lab = np.zeros(len(i), dtype=bool)
    lab[labelled] = True
    out: dict[str, object] = {}
    out["human-50"] = DavidsonBT(alpha=1.0).fit(i[lab], j[lab], shares[lab], weights=n_votes[lab], n_systems=m)
    table = verdict_table(judge[lab], counts[lab])
    out["table-50"] = DavidsonBT(alpha=alpha).fit(i, j, table[judge], n_systems=m)
    human = np.where(lab[:, None], shares, np.nan)
    out["ppi-judge"] = HumanAnchoredBT(alpha=alpha).fit(i, j, judge, human, n_systems=m)
    pred = table[judge]
    for k in np.flatnonzero(lab):  # cross-fit: each labelled pair's prediction from the others' table
        rest = lab.copy()
        rest[k] = False
        pred[k] = verdict_table(judge[rest], counts[rest])[judge[k]]
    out["ppi-table"] = HumanAnchoredBT(alpha=alpha).fit(i, j, pred, human, n_systems=m)
    stacked_i, stacked_j = np.concatenate([i, i[lab]]), np.concatenate([j, j[lab]])
    out["stacked"] = DavidsonBT(alpha=alpha).fit(
        stacked_i, stacked_j, np.vstack([np.eye(3)[judge], shares[lab]]),
        weights=np.concatenate([np.ones(len(i)), n_votes[lab]]), n_systems=m)
    for name, base in (("shrunk-judge", DavidsonBT(alpha=alpha).fit(i, j, judge, n_systems=m)),
                       ("shrunk-table", out["table-50"])):
        out[name] = shrunk(base, out["ppi-table" if name == "shrunk-table" else "ppi-judge"], m)
    if "calibrated" in d:
        out["ppi-calibrated"] = HumanAnchoredBT(alpha=alpha).fit(i, j, d["calibrated"], human, n_systems=m)
    return out


class _Strengths:
    def __init__(self, strengths):
        self.strengths_ = strengths


def shrunk(base, ppi, m: int) -> _Strengths:
    """Experiment (not in the package): the judge-based strengths moved toward the PPI++ ones by a
    positive-part James-Stein factor, 1 - (m - 3) / (delta' Cov^+ delta), delta = PPI - judge."""
    delta = ppi.strengths_ - base.strengths_
    cov = ppi.cov_[:m, :m]
    stat = float(delta @ np.linalg.pinv(cov) @ delta)
    c = max(0.0, 1.0 - (m - 3) / stat) if stat > 0 else 0.0
    return _Strengths(base.strengths_ + c * delta)


def split_half_tau(d: dict, rng: np.random.Generator, m: int) -> float:
    votes = d["votes"]
    half = rng.random(len(votes)) < 0.5
    fits = []
    for part in (votes[half], votes[~half]):
        i = part["system_1"].map(d["index"]).to_numpy()
        j = part["system_2"].map(d["index"]).to_numpy()
        fits.append(DavidsonBT(alpha=1e-3).fit(i, j, part["outcome"].to_numpy(), n_systems=m).strengths_)
    return kendall_tau(*fits)


def language_rows(d: dict, lang: str, args, rng: np.random.Generator, n_labelled: int) -> dict[str, object]:
    """One language's row: tau of every leaderboard to the all-human one (and to the held-out one)."""
    m = len(d["systems"])
    n_votes = d["counts"].sum(axis=1)

    def human_fit(keep: np.ndarray, alpha: float = 0.0) -> np.ndarray:
        return DavidsonBT(alpha=alpha).fit(d["i"][keep], d["j"][keep], d["counts"][keep] / n_votes[keep, None],
                                weights=n_votes[keep], n_systems=m).strengths_

    everything = np.ones(len(d["i"]), dtype=bool)
    ref = human_fit(everything)
    row: dict[str, object] = {"language": lang, "labelled": n_labelled, "systems": m, "pairs": len(d["i"]),
                              "votes": int(n_votes.sum())}
    judge = DavidsonBT(alpha=args.alpha).fit(d["i"], d["j"], d["judge"], n_systems=m).strengths_
    row["judge"] = kendall_tau(judge, ref)
    if "calibrated" in d:
        row["calibrated"] = kendall_tau(
            DavidsonBT(alpha=args.alpha).fit(d["i"], d["j"], d["calibrated"], n_systems=m).strengths_, ref)
    taus: dict[str, list[float]] = {}
    tuning: dict[str, list[tuple[float, float]]] = {}
    split = []
    for _ in range(args.draws):
        labelled = rng.choice(len(d["i"]), n_labelled, replace=False)
        held_out_ref = None
        if args.held_out_reference:
            rest = everything.copy()
            rest[labelled] = False
            held_out_ref = human_fit(rest, alpha=1e-3)  # few pairs left: a system may never lose
            taus.setdefault("judge|x", []).append(kendall_tau(judge, held_out_ref))
        for name, model in one_draw(d, labelled, m, args.alpha).items():
            taus.setdefault(name, []).append(kendall_tau(model.strengths_, ref))
            if held_out_ref is not None and name in ("human-50", "ppi-table", "stacked"):
                taus.setdefault(name + "|x", []).append(kendall_tau(model.strengths_, held_out_ref))
            if name.startswith("ppi"):
                tuning.setdefault(name, []).append((model.lam_, model.ess_gain_))
        split.append(split_half_tau(d, rng, m))
    for name, values in taus.items():
        row[name] = float(np.mean(values))
        row[name + " p10-p90"] = "{:.2f}-{:.2f}".format(*np.quantile(values, [0.1, 0.9]))
    row["split-half"] = float(np.mean(split))
    for name, values in tuning.items():
        row[f"{name} lam"], row[f"{name} ESS gain"] = np.mean(values, axis=0)
    return row


def print_table(rows: list[dict], with_calibrated: bool) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    numeric = table.select_dtypes("number").mean()
    table = pd.concat([table, pd.DataFrame([{"language": "mean", **numeric.to_dict()}])], ignore_index=True)
    with pd.option_context("display.width", 250, "display.max_columns", 40, "display.float_format", "{:.2f}".format):
        cols = ["language", "systems", "pairs", "votes", "split-half", "judge"] + (
            ["calibrated"] if with_calibrated else []) + [c for c in table.columns if c.startswith(
                ("human-50", "table-50", "ppi-", "shrunk-", "stacked", "judge|x"))]
        print(table[[c for c in cols if c in table.columns]].to_string(index=False))
    for name in ("ppi-table", "stacked"):
        beats = (table[name] >= table["judge"])[:-1]
        print(f"{name} >= judge in {int(beats.sum())}/{len(beats)} languages; mean tau {name} "
              f"{table[name].iloc[-1]:.3f}, judge {table['judge'].iloc[-1]:.3f}")
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=20)
    ap.add_argument("--labelled", default="50", help="labelled pairs per language; several: 50,100,200")
    ap.add_argument("--no-calibrated", action="store_true")
    ap.add_argument("--held-out-reference", action="store_true",
                    help="also score against the leaderboard of the unlabelled pairs' votes (columns |x)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--alpha", type=float, default=0.1,
                    help="ridge on judge-based fits (a judge may never let a weak system win)")
    args = ap.parse_args()
    sizes = [int(v) for v in str(args.labelled).split(",")]
    t0 = time.perf_counter()
    battles = load_pariksha_battles()
    known = battles[battles["has_systems"]]
    calibrated = None
    if not args.no_calibrated:
        from judgecal.pairwise.calibration import cross_validated_pairs

        calibrated = cross_validated_pairs(known)
    print(f"loaded and calibrated in {time.perf_counter() - t0:.1f} s")
    data = {lang: language_pairs(battles, lang, calibrated) for lang in sorted(known["language"].unique())}
    curve = []
    for size in sizes:
        rng = np.random.default_rng(args.seed)
        print(f"\n{size} labelled pairs per language, {args.draws} draws")
        table = print_table([language_rows(d, lang, args, rng, size) for lang, d in data.items()],
                            calibrated is not None)
        mean = table.iloc[-1]
        point = {"labelled": size, "judge": mean["judge"]}
        for name in ("human-50", "ppi-table", "stacked", "judge|x", "human-50|x", "ppi-table|x", "stacked|x"):
            if name in table:
                point[name] = mean[name]
        for name in ("ppi-table", "stacked"):
            point[f"{name} >= judge"] = int((table[name] >= table["judge"])[:-1].sum())
        point["ppi-table ESS gain"] = mean["ppi-table ESS gain"]
        curve.append(point)
    if len(curve) > 1:
        print("\ncurve (means over languages; human-50 is the labelled pairs alone at each size)")
        with pd.option_context("display.width", 250, "display.float_format", "{:.3f}".format):
            print(pd.DataFrame(curve).to_string(index=False))
    print(f"total {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()

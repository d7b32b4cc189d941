"""Coverage of human-anchored (PPI++) leaderboard intervals, clustered by prompt or not.

Synthetic battles from ``make_battles`` (one language, 5 systems, 2,400 pairs on
80 prompts, 3 native votes per pair, the judge in both orders with natives' tie
propensity and position bias and per-pair noise sd 0.3, so its verdict is worth
something), natives' votes kept on 600 random pairs only; the rest are judge-only. With ``prompt_effect``
each prompt shifts each system's log-strength by N(0, sd^2), for natives and
judge alike. Inputs are built as the product builds them
(``standings.anchored_inputs``) and ``HumanAnchoredBT`` is fitted three ways:

- ``clustered``: ``clusters`` = prompt ids (what every leaderboard judgecal shows does);
- ``independent``: no clusters (battles taken as independent);
- ``no-cross``: each prompt split in two clusters, its labelled and its unlabelled
  pairs, i.e. clustered but without the labelled x unlabelled cross term.

The target is what the fit converges to over the population of prompts: a
Davidson fit on the natives' outcome probabilities averaged over the prompt
shifts (Gauss-Hermite), every ordered pair of systems weighted alike (the design
draws pairs uniformly; natives see response_1 first, with make_battles'
position bias). Prints per setting the share of 90 % intervals covering it
(all systems of all repetitions), mean interval width, mean lambda, and the time
of one fit; then the time of one clustered fit on 1M battles; with
``--pariksha FOLDER`` also, per PARIKSHA language, how the clustered standard
errors of the anchored leaderboard compare with the independent ones and with
the spread of the natives' leaderboard under the prompt bootstrap (1,000
resamples; every PARIKSHA pair with systems has native votes, so the anchored
fit is the natives' own, on vote shares per pair); with ``--few-prompts`` the
coverage of a PARIKSHA-like design with 20 prompts (t quantiles on prompts - 1
degrees of freedom, as the product shows them, and normal ones). Usage::

    python bench/ppi_cluster_coverage.py [--reps 400] [--no-big] [--pariksha ../shared/data/pariksha] [--few-prompts]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from judgecal.data.battle_verdicts import battle_arrays
from judgecal.datasets import make_battles
from judgecal.datasets.synthetic_battles import davidson_probs
from judgecal.pairwise.leaderboard import DavidsonBT, HumanAnchoredBT
from judgecal.pairwise.standings import anchored_inputs

M, PAIRS, PROMPTS, LABELLED, NU, POSITION = 5, 2400, 80, 600, 0.6, 0.2


def target(prompt_sd: float) -> np.ndarray:
    """Centred strengths the natives' fit converges to over prompts (see the module docstring)."""
    s = np.linspace(-1, 1, M)
    a, b = np.array([(x, y) for x in range(M) for y in range(M) if x != y]).T
    nodes, weights = np.polynomial.hermite_e.hermegauss(41)
    probs = np.zeros((len(a), 3))
    for z, w in zip(nodes, weights / weights.sum(), strict=True):
        # u_a - u_b ~ N(0, 2 sd^2): put it all on the first system
        probs += w * davidson_probs(s[a] + np.sqrt(2) * prompt_sd * z, s[b], np.full(len(a), NU),
                                    np.full(len(a), POSITION))
    return DavidsonBT().fit(a, b, probs, n_systems=M).strengths_


def one_world(seed: int, prompt_sd: float):
    battles = make_battles(PAIRS, languages=("hi",), n_systems=M, prompts_per_language=PROMPTS, tie_propensity=NU,
                           position_bias=POSITION, judge_tie_propensity=NU, judge_position_bias=POSITION,
                           judge_noise=0.3, prompt_effect=prompt_sd, random_state=seed)
    rng = np.random.default_rng(seed)
    keep = set(rng.choice(battles["pair_id"].unique(), LABELLED, replace=False))
    battles = battles[(battles["rater_kind"] != "human") | battles["pair_id"].isin(keep)]
    return anchored_inputs(battles)


def coverage(reps: int, prompt_sd: float) -> None:
    truth = target(prompt_sd)
    ways = ("clustered", "independent", "no-cross")
    hits, widths, lams, secs = ({w: [] for w in ways} for _ in range(4))
    for seed in range(reps):
        arr = one_world(seed, prompt_sd)
        lab = ~np.isnan(arr.human).any(axis=1)
        split = np.array([f"{p}|{int(x)}" for p, x in zip(arr.prompt, lab, strict=True)], dtype=object)
        for way, clusters in zip(ways, (arr.prompt, None, split), strict=True):
            start = time.perf_counter()
            model = HumanAnchoredBT().fit(arr.i, arr.j, arr.judge, arr.human, clusters=clusters, n_systems=M)
            secs[way].append(time.perf_counter() - start)
            low, high = model.intervals(0.9)
            hits[way].append((low <= truth) & (truth <= high))
            widths[way].append(np.mean(high - low))
            lams[way].append(model.lam_)
    print(f"prompt_effect {prompt_sd:g}: {reps} repetitions x {M} systems; target {np.round(truth, 3)}")
    for way in ways:
        h = np.mean(hits[way])
        se = np.sqrt(h * (1 - h) / (reps * M))
        print(f"  {way:<12} coverage {h:.3f} (+-{se:.3f} binomial)  width {np.mean(widths[way]):.3f}  "
              f"lambda {np.mean(lams[way]):.2f}  fit {1000 * np.median(secs[way]):.1f} ms", flush=True)


def big_fit(n: int = 1_000_000, m: int = 20, n_prompts: int = 10_000, n_labelled: int = 5_000) -> None:
    """Time of one fit on n battles (array level: make_battles would take minutes to build them)."""
    rng = np.random.default_rng(0)
    i = rng.integers(m, size=n)
    j = (i + rng.integers(1, m, size=n)) % m
    prompt = rng.integers(n_prompts, size=n)
    theta = np.linspace(-1, 1, m)[:, None] + rng.normal(0, 0.5, size=(m, n_prompts))
    d = theta[i, prompt] - theta[j, prompt]
    p = np.column_stack([np.exp(d / 2), np.full(n, NU), np.exp(-d / 2)])
    p /= p.sum(axis=1, keepdims=True)
    native = (rng.random(n)[:, None] > p.cumsum(axis=1)[:, :2]).sum(axis=1)
    judge = np.where(rng.random(n) < 0.6, native, rng.integers(0, 3, size=n))
    human = np.full((n, 3), np.nan)
    lab = rng.choice(n, n_labelled, replace=False)
    human[lab] = np.eye(3)[native[lab]]
    for name, clusters in (("independent", None), ("clustered", prompt)) * 2:  # twice: the first pays warm-up
        start = time.perf_counter()
        model = HumanAnchoredBT().fit(i, j, judge, human, clusters=clusters, n_systems=m)
        print(f"  1M battles, {m} systems, {n_labelled:,} labelled, {n_prompts:,} prompts, {name}: "
              f"{time.perf_counter() - start:.2f} s (lambda {model.lam_:.2f}, mean se {model.se_.mean():.4f})")


def pariksha(folder: str) -> None:
    """Clustered over independent standard errors of the anchored leaderboard, per PARIKSHA language."""
    from judgecal.datasets import load_pariksha_battles

    battles = load_pariksha_battles(folder)
    battles = battles[battles["system_1"].notna() & battles["system_2"].notna()]
    for language, part in battles.groupby("language"):
        arr = anchored_inputs(part)
        m, lab = len(arr.systems), ~np.isnan(arr.human).any(axis=1)
        fits = {name: HumanAnchoredBT(alpha=1.0).fit(arr.i, arr.j, arr.judge, arr.human, clusters=clusters,
                                                     n_systems=m) for name, clusters in (("c", arr.prompt), ("i", None))}
        ratio = fits["c"].se_ / fits["i"].se_
        votes = battle_arrays(part, "human")
        natives = DavidsonBT(alpha=1.0).fit(votes.i, votes.j, votes.outcome, n_systems=m)
        boot = natives.bootstrap(votes.cluster, n_resamples=1000, random_state=0).std(axis=0)
        print(f"  {language}: {len(arr.i)} pairs ({int(lab.sum())} with native votes), {len(set(arr.prompt))} prompts, "
              f"{m} systems, lambda {fits['c'].lam_:.2f}; se clustered / independent: median {np.median(ratio):.2f}, "
              f"range {ratio.min():.2f}-{ratio.max():.2f}; clustered se / prompt-bootstrap sd: median "
              f"{np.median(fits['c'].se_ / boot):.2f}, correlation {np.corrcoef(fits['c'].se_, boot)[0, 1]:.2f}")


def few_prompts(reps: int = 200, m: int = 14, n_prompts: int = 20, per_prompt: int = 30) -> None:
    """Coverage with few clusters (PARIKSHA-like: 20 prompts, 14 systems, every battle labelled)."""
    from scipy import stats

    theta = np.linspace(-1, 1, m)
    a, b = np.array([(x, y) for x in range(m) for y in range(m) if x != y]).T
    nodes, weights = np.polynomial.hermite_e.hermegauss(41)
    z_normal = stats.norm.ppf(0.95)
    for sd in (0.0, 0.5):
        probs = np.zeros((len(a), 3))
        for z, w in zip(nodes, weights / weights.sum(), strict=True):
            d = theta[a] - theta[b] + np.sqrt(2) * sd * z
            probs += w * np.column_stack([np.exp(d / 2), np.full(len(a), NU), np.exp(-d / 2)]) / (
                np.exp(d / 2) + np.exp(-d / 2) + NU)[:, None]
        truth = DavidsonBT().fit(a, b, probs, n_systems=m).strengths_
        hits = {"clustered (t, as shown)": [], "clustered, normal": [], "independent": []}
        for seed in range(reps):
            rng = np.random.default_rng(seed)
            n = n_prompts * per_prompt
            i = rng.integers(m, size=n)
            j = (i + rng.integers(1, m, size=n)) % m
            prompt = np.repeat(np.arange(n_prompts), per_prompt)
            shift = rng.normal(0, sd, size=(n_prompts, m))[prompt]
            d = theta[i] - theta[j] + shift[np.arange(n), i] - shift[np.arange(n), j]
            p = np.column_stack([np.exp(d / 2), np.full(n, NU), np.exp(-d / 2)])
            y = np.eye(3)[(rng.random(n)[:, None] > (p / p.sum(axis=1, keepdims=True)).cumsum(axis=1)[:, :2]).sum(axis=1)]
            for name, clusters in (("clustered (t, as shown)", prompt), ("independent", None)):
                model = HumanAnchoredBT().fit(i, j, y, y, clusters=clusters, n_systems=m)
                low, high = model.intervals(0.9)
                hits[name].append((low <= truth) & (truth <= high))
                if clusters is not None:
                    hits["clustered, normal"].append(np.abs(model.strengths_ - truth) <= z_normal * model.se_)
        print(f"  {n_prompts} prompts x {per_prompt}, {m} systems, all labelled, prompt_effect {sd:g}, {reps} worlds: "
              + ", ".join(f"{k} {np.mean(v):.3f}" for k, v in hits.items()), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--no-big", action="store_true", help="skip the 1M-battle timing")
    parser.add_argument("--pariksha", metavar="FOLDER", help="also compare standard errors on PARIKSHA's battles")
    parser.add_argument("--few-prompts", action="store_true", help="also coverage with 20 prompts (PARIKSHA-like)")
    args = parser.parse_args()
    start = time.perf_counter()
    for sd in (1.0, 0.5, 0.0):
        coverage(args.reps, sd)
    print(f"coverage runs: {time.perf_counter() - start:.0f} s")
    if not args.no_big:
        big_fit()
    if args.pariksha:
        pariksha(args.pariksha)
    if args.few_prompts:
        few_prompts()


if __name__ == "__main__":
    main()

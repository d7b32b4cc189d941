"""Per-language leaderboards from a battles table (docs/pairwise.md), by source.

Sources:

- ``human``: every native vote is a battle;
- ``judge``: the judge's combined verdict per pair;
- ``calibrated``: the calibrated judge's probabilities per pair
  (``PairwiseCalibrator.apply`` output, passed as ``calibrated``);
- ``anchored``: PPI++ (:class:`~judgecal.pairwise.leaderboard.HumanAnchoredBT`):
  pairs with native votes are labelled (their vote shares), every judged pair
  carries the judge's prediction (the calibrated probabilities when given, else
  the raw verdict).

Strengths are Davidson log-strengths, centred per language. ``length_control``
adds log(1 + graphemes of response_1) - log(1 + graphemes of response_2) as a
covariate (``human``, ``judge``, ``calibrated``), so systems are compared at equal
length; the fitted coefficient is reported as ``length_coef``. ``human``, ``judge``
and ``calibrated`` intervals are percentiles of a bootstrap clustered by prompt;
``anchored`` intervals are t (prompts - 1 degrees of freedom), from the PPI++ covariance clustered by prompt
(cluster-robust: pairs of one prompt are correlated). Only pairs with
both systems count (see ``battle_counts`` for how many lack them).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from judgecal.data.battle_verdicts import battle_arrays, human_votes, judged_pairs
from judgecal.errors import ConfigError, InputError, Problem
from judgecal.pairwise.leaderboard import (
    DavidsonBT,
    HumanAnchoredBT,
    kendall_tau,
    kendall_tau_rows,
    leaderboard_table,
    length_covariate,
)

SOURCES = ("human", "judge", "calibrated", "anchored")


def language_leaderboards(
    battles: pd.DataFrame,
    sources: tuple[str, ...] = ("human", "judge"),
    *,
    judge: str | None = None,
    calibrated: pd.DataFrame | None = None,
    n_resamples: int = 1000,
    confidence: float = 0.9,
    alpha: float = 0.0,
    random_state: int = 0,
    length_control: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(leaderboards, taus) for each language of a normalised battles table.

    leaderboards: one row per (language, source, system): strength, ci_low,
    ci_high, rank, rank_best, rank_worst, battles (the system's battles in that
    source), interval (how the interval was made). taus: one row per (language,
    source_a, source_b): Kendall tau-b between the two sources' strengths, with
    ci_low/ci_high at ``confidence`` from the paired bootstrap (the same prompts
    resampled for both sources; NaN when one source is ``anchored``, which has
    no bootstrap).
    """
    unknown = sorted(set(sources) - set(SOURCES))
    if unknown or not sources:
        raise ConfigError(f"unknown leaderboard source(s) {unknown}; choose from {', '.join(SOURCES)}")
    if "calibrated" in sources and calibrated is None:
        raise ConfigError("the 'calibrated' leaderboard needs calibrated probabilities (a pairwise calibrator)")
    if not {"system_1", "system_2"} <= set(battles.columns):
        raise InputError(Problem("leaderboards need system_1 and system_2 columns", column="system_1"),
                         summary="no systems in the battles")
    known = battles[battles["system_1"].notna() & battles["system_2"].notna()]
    if known.empty:
        raise InputError("no battle names both of its systems: leaderboards need system_1 and system_2")
    boards, taus = [], []
    for language, part in known.groupby("language", sort=True):
        strengths: dict[str, pd.Series] = {}
        samples: dict[str, np.ndarray] = {}
        # Every bootstrapped source draws the same prompts in each resample (paired), so the
        # Kendall tau between two leaderboards gets an interval from the same resamples.
        universe = np.arange(part["prompt_id"].nunique())
        for source in sources:
            try:
                table, drawn = _one(part, source, judge, calibrated, n_resamples, confidence, alpha, random_state,
                                    length_control, universe)
            except InputError as exc:
                names = sorted(set(part["system_1"]) | set(part["system_2"]))
                key = Problem("systems by index: " + ", ".join(f"{k} = {s}" for k, s in enumerate(names)))
                raise InputError([*exc.problems, key], summary=f"{language}, {source} leaderboard: {exc.summary}") from exc
            boards.append(table.assign(language=language, source=source))
            strengths[source] = table.set_index("system")["strength"]
            if drawn is not None:
                samples[source] = drawn
        for a, b in itertools.combinations(strengths, 2):
            common = strengths[a].index.intersection(strengths[b].index)
            row = {"language": language, "source_a": a, "source_b": b, "systems": len(common),
                   "kendall_tau": kendall_tau(strengths[a][common], strengths[b][common]),
                   "ci_low": np.nan, "ci_high": np.nan}
            if a in samples and b in samples:  # same systems in the same order: one language's table
                row["ci_low"], row["ci_high"] = _tau_interval(samples[a], samples[b], confidence)
            taus.append(row)
    front = ["language", "source", "system"]
    out = pd.concat(boards, ignore_index=True)
    return out[front + [c for c in out.columns if c not in front]], pd.DataFrame(taus)


def _tau_interval(a: np.ndarray, b: np.ndarray, confidence: float) -> tuple[float, float]:
    """Percentile interval of Kendall tau-b over paired bootstrap resamples (R, m) of two leaderboards."""
    per_resample = kendall_tau_rows(a, b)
    per_resample = per_resample[np.isfinite(per_resample)]
    if not len(per_resample):
        return np.nan, np.nan
    tail = (1 - confidence) / 2
    low, high = np.quantile(per_resample, [tail, 1 - tail])
    return float(low), float(high)


def _one(part, source, judge, calibrated, n_resamples, confidence, alpha, seed, length_control,
         universe) -> tuple[pd.DataFrame, np.ndarray | None]:
    """(leaderboard table, bootstrap strengths (R, m) or None for the anchored source)."""
    if source == "anchored":
        if length_control:
            raise ConfigError("length control is not available for the anchored (PPI++) leaderboard")
        return _anchored(part, judge, calibrated, confidence, alpha), None
    arr = battle_arrays(part, source, judge=judge,
                        probabilities=calibrated if source == "calibrated" else None)
    if len(arr.i) == 0:
        raise InputError(f"no {source} battles with both systems")
    m = len(arr.systems)
    x = _length_ratio(part, _row_pairs(part, source, judge, calibrated)) if length_control else None
    model = DavidsonBT(alpha=alpha).fit(arr.i, arr.j, arr.outcome, weights=arr.weight, n_systems=m, length_diff=x)
    samples = model.bootstrap(arr.cluster, n_resamples=n_resamples, random_state=seed, universe=universe)
    table = leaderboard_table(model.strengths_, names=arr.systems, samples=samples, confidence=confidence)
    counts = np.bincount(arr.i, minlength=m) + np.bincount(arr.j, minlength=m)
    return table.assign(battles=table["system"].map(dict(zip(arr.systems, counts, strict=True))),
                        interval="bootstrap by prompt", nu=model.nu_, length_coef=model.length_coef_), samples


@dataclass(frozen=True)
class AnchoredInputs:
    """One language's arrays for :class:`HumanAnchoredBT`, one row per judged pair naming both systems.

    i, j (n,) system indices into ``systems``; judge (n,) verdict codes or (n, 3)
    calibrated probabilities; human (n, 3) native vote shares, NaN rows for pairs
    without a native vote; prompt (n,) prompt ids (the clusters).
    """

    i: np.ndarray
    j: np.ndarray
    judge: np.ndarray
    human: np.ndarray
    prompt: np.ndarray
    systems: list[str]


def anchored_inputs(part: pd.DataFrame, judge: str | None = None,
                    calibrated: pd.DataFrame | None = None) -> AnchoredInputs:
    """The anchored leaderboard's inputs from one language's battles (pairs naming both systems)."""
    pairs = judged_pairs(part, judge)
    votes = human_votes(part)
    if votes.empty:
        raise InputError("no native votes to anchor on")
    counts = pd.crosstab(votes["pair_id"], votes["outcome"]).reindex(columns=[0, 1, 2], fill_value=0)
    systems = sorted(set(part["system_1"]) | set(part["system_2"]))
    index = {s: k for k, s in enumerate(systems)}
    i = pairs["system_1"].map(index).to_numpy(dtype=np.int64)
    j = pairs["system_2"].map(index).to_numpy(dtype=np.int64)
    if calibrated is not None:
        probs = calibrated.set_index("pair_id").reindex(pairs["pair_id"])
        f = probs[["prob_system_1", "prob_tie", "prob_system_2"]].to_numpy(dtype=float)
        if np.isnan(f).any():
            raise InputError(f"{int(np.isnan(f).any(axis=1).sum())} judged pair(s) have no calibrated probabilities")
    else:
        f = pairs["outcome"].to_numpy()
    labelled = counts.reindex(pairs["pair_id"]).to_numpy(dtype=float)  # NaN rows: no native vote
    return AnchoredInputs(i=i, j=j, judge=f, human=labelled / labelled.sum(axis=1, keepdims=True),
                          prompt=pairs["prompt_id"].to_numpy(dtype=object), systems=systems)


def _anchored(part, judge, calibrated, confidence, alpha) -> pd.DataFrame:
    arr = anchored_inputs(part, judge, calibrated)
    systems, m = arr.systems, len(arr.systems)
    # Prompts are the independent draws; a spread across prompts needs two of them in each group.
    lab = ~np.isnan(arr.human).any(axis=1)
    few = len(set(arr.prompt[lab])) < 2 or ((~lab).any() and len(set(arr.prompt[~lab])) < 2)
    how = ", battles taken as independent (all labelled or all unlabelled pairs share one prompt)" if few \
        else " clustered by prompt"
    kind = "normal" if few else "t"
    model = HumanAnchoredBT(alpha=alpha).fit(arr.i, arr.j, arr.judge, arr.human, n_systems=m,
                                             clusters=None if few else arr.prompt)
    table = leaderboard_table(model.strengths_, names=systems, se=model.se_, confidence=confidence, df=model.df_)
    n_battles = np.bincount(arr.i, minlength=m) + np.bincount(arr.j, minlength=m)
    return table.assign(battles=table["system"].map(dict(zip(systems, n_battles, strict=True))),
                        interval=f"{kind} (PPI++{how}, lambda {model.lam_:.2f}, effective human "
                                 f"battles {model.effective_n_:.0f} of {model.n_labelled_})", nu=model.nu_)


def _row_pairs(part: pd.DataFrame, source: str, judge, calibrated) -> np.ndarray:
    """pair_id of each battle, in the order battle_arrays gives them."""
    if source == "human":
        return human_votes(part)["pair_id"].to_numpy()
    if source == "judge":
        return judged_pairs(part, judge)["pair_id"].to_numpy()
    return calibrated.loc[calibrated["pair_id"].isin(set(part["pair_id"])), "pair_id"].to_numpy()


def _length_ratio(part: pd.DataFrame, pair_ids: np.ndarray) -> np.ndarray:
    """length_covariate of the two responses' grapheme lengths, per battle; an empty response counts 0."""
    from judgecal.pairwise.bias import grapheme_lengths

    if not {"response_1", "response_2"} <= set(part.columns):
        raise InputError(Problem("length control needs response_1 and response_2", column="response_1"),
                         summary="no response texts")
    texts = part.drop_duplicates("pair_id").set_index("pair_id")[["response_1", "response_2"]]
    missing = texts.index[~(texts["response_1"].map(_is_text) & texts["response_2"].map(_is_text))]
    if len(missing):
        raise InputError([Problem("length control needs both responses' texts", column="response_1", value=p)
                          for p in missing], summary=f"{len(missing)} pair(s) without both responses")
    per_battle = texts.loc[pair_ids]
    return length_covariate(grapheme_lengths(per_battle["response_1"]), grapheme_lengths(per_battle["response_2"]))


def _is_text(value) -> bool:
    return isinstance(value, str)

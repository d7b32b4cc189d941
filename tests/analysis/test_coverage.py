"""Seeded Monte-Carlo coverage of every interval judgecal reports.

Each test draws many samples from a population whose true value is known,
builds the 90 % interval on each, and checks how often it holds the truth.
With R repetitions the coverage's standard error is about sqrt(0.09 / R).
"""

from __future__ import annotations

import numpy as np
import pytest

from judgecal.analysis import stats as st
from judgecal.analysis.estimates import ppi_mean, rank_systems, stratified_estimates
from judgecal.analysis.resample import bootstrap_many, compress, percentile_interval
from judgecal.analysis.simulate import allocate, sample_labels

CONF = 0.9


def _population(n=20000, seed=0):
    """Per item: three human levels and a judge level on 0-2 (inflated), and the humans' mean."""
    rng = np.random.default_rng(seed)
    q = rng.normal(1.0, 0.8, n)
    humans = np.clip(np.rint(q[:, None] + rng.normal(0, 0.6, (n, 3))), 0, 2)
    judge = np.clip(np.rint(q + 0.4 + rng.normal(0, 0.6, n)), 0, 2)
    counts = np.stack([(humans == v).sum(axis=1) for v in range(3)], axis=1).astype(float)
    mean = humans.mean(axis=1)
    top = counts.max(axis=1, keepdims=True)
    dist = np.where(counts == top, np.abs(np.arange(3)[None] - mean[:, None]), np.inf)
    consensus = dist.argmin(axis=1)
    return np.column_stack([counts, judge, consensus, mean])


def _statistics(rows):
    """Statistic functions of W for pattern rows (counts h0..h2, judge, consensus, mean)."""
    c, j, h, m = rows[:, :3], rows[:, 3].astype(int), rows[:, 4].astype(int), rows[:, 5]
    levels = np.array([0.0, 1.0, 2.0])
    jh = c.copy()
    jh[np.arange(len(j)), j] += 1
    coinc_h, coinc_jh = st.unit_coincidences(c), st.unit_coincidences(jh)
    return {
        "alpha_humans": lambda w: st.alpha_w(coinc_h, w, levels, "ordinal"),
        "alpha_judge_humans": lambda w: st.alpha_w(coinc_jh, w, levels, "ordinal"),
        "kappa": lambda w: st.cohen_kappa_w(st.confusion_w(h, j, w, 3), "quadratic"),
        "percent_agreement": lambda w: st.percent_agreement_w(st.confusion_w(h, j, w, 3)),
        "weighted_f1": lambda w: st.weighted_f1_w(st.confusion_w(h, j, w, 3)),
        "spearman": lambda w: st.spearman_w(j.astype(float), m, w),
        "kendall": lambda w: st.kendall_tau_b_w(j.astype(float), m, w),
        "mean_signed_difference": lambda w: st.mean_w(j - m, w),
    }


def test_bootstrap_intervals_cover_population_values():
    pop = _population()
    pop_pat = compress(pop)
    truth = {k: fn(pop_pat.counts[None].astype(float))[0] for k, fn in _statistics(pop_pat.rows).items()}
    rng = np.random.default_rng(11)
    reps, n = 200, 300
    hits = dict.fromkeys(truth, 0)
    for _ in range(reps):
        sample = pop[rng.integers(0, len(pop), n)]
        p = compress(sample)
        dists = bootstrap_many(_statistics(p.rows), p.counts, n_resamples=300, random_state=rng)
        for k, d in dists.items():
            low, high = percentile_interval(d, CONF)
            hits[k] += low <= truth[k] <= high
    coverage = {k: v / reps for k, v in hits.items()}
    for k, cov in coverage.items():
        assert 0.84 <= cov <= 0.96, (k, cov, coverage)


def test_ppi_mean_interval_coverage_and_gain():
    rng = np.random.default_rng(12)
    reps, n, big_n = 1000, 60, 2000
    hits_ppi = hits_classic = 0
    widths_ppi, widths_classic = [], []
    for _ in range(reps):
        q = rng.normal(0, 1, n + big_n)
        f = q + rng.normal(0, 0.5, n + big_n)
        y = 2 + q + rng.normal(0, 0.5, n + big_n)  # E[Y] = 2
        res = ppi_mean(y[:n], f[:n], f[n:], confidence=CONF)
        classic = ppi_mean(y[:n], f[:n], f[n:], confidence=CONF, lam=0.0)
        hits_ppi += res["ci_low"] <= 2 <= res["ci_high"]
        hits_classic += classic["ci_low"] <= 2 <= classic["ci_high"]
        widths_ppi.append(res["ci_high"] - res["ci_low"])
        widths_classic.append(classic["ci_high"] - classic["ci_low"])
    assert 0.87 <= hits_ppi / reps <= 0.93
    assert 0.87 <= hits_classic / reps <= 0.93
    assert np.mean(widths_ppi) < 0.8 * np.mean(widths_classic)


def _strata_population(seed=0):
    rng = np.random.default_rng(seed)
    sizes = np.array([30, 25, 40, 20, 35, 30])
    strata = np.repeat(np.arange(len(sizes)), sizes)
    q = rng.normal(0.3 * strata, 0.7)
    y = np.clip(np.rint(q + rng.normal(0, 0.4, len(q))), 0, 2) / 1.0
    f = np.clip(np.rint(q + 0.5 + rng.normal(0, 0.4, len(q))), 0, 2) / 1.0
    truth = np.bincount(strata, weights=y) / sizes
    return y, f, strata, sizes, truth


@pytest.mark.parametrize("n", [40, 90])
def test_stratified_ppi_and_human_intervals_cover_finite_population_means(n):
    y, f, strata, sizes, truth = _strata_population()
    rng = np.random.default_rng(13)
    reps = 400
    hits = {"ppi": 0, "human": 0}
    width = {"ppi": 0.0, "human": 0.0}
    total = 0
    for _ in range(reps):
        labelled = sample_labels(strata, allocate(n, sizes, rng), rng)
        res = stratified_estimates(y, f, strata, labelled, confidence=CONF)
        for name in hits:
            half = res[f"t_{name}"] * res[f"{name}_se"]
            hits[name] += int((np.abs(res[name] - truth) <= half).sum())
            width[name] += float(half.sum())
        total += len(sizes)
    assert 0.86 <= hits["ppi"] / total <= 0.95
    assert 0.86 <= hits["human"] / total <= 0.95
    assert width["ppi"] < width["human"]


def test_rank_intervals_cover_true_ranks():
    rng = np.random.default_rng(14)
    true = np.array([1.0, 1.1, 1.3, 1.35, 1.6])
    se = np.full(5, 0.08)
    true_rank = (-true).argsort().argsort() + 1
    import pandas as pd

    hits, reps = 0, 200
    for rep in range(reps):
        est = true + se * rng.standard_normal(5)
        frame = pd.DataFrame({"language": "hi", "metric": "tq", "judge": "j", "system": list("abcde"),
                              "estimator": "ppi", "estimate": est, "se": se, "higher_is_better": True})
        ranks = rank_systems(frame, confidence=CONF, n_draws=1000, random_state=rep).set_index("system")
        hits += int(((ranks.loc[list("abcde"), "rank_low"].to_numpy() <= true_rank)
                     & (true_rank <= ranks.loc[list("abcde"), "rank_high"].to_numpy())).sum())
    # Rank intervals from independent draws are conservative: at least nominal.
    assert hits / (reps * 5) >= 0.88


def test_t_interval_coverage_on_discrete_scores():
    from judgecal.analysis.estimates import t_interval

    rng = np.random.default_rng(15)
    p = np.array([0.15, 0.35, 0.5])
    truth = float(p @ np.arange(3))
    hits = sum(lo <= truth <= hi for _, lo, hi, _ in
               (t_interval(rng.choice(3, 40, p=p).astype(float), CONF) for _ in range(1000)))
    assert 0.87 <= hits / 1000 <= 0.93
    assert np.isnan(t_interval(np.array([1.0]), CONF)[1])


def test_alpha_judge_vs_consensus_interval_coverage():
    pop = _population(seed=3)
    j, h = pop[:, 3].astype(int), pop[:, 4].astype(int)
    both = np.zeros((len(pop), 3))
    np.add.at(both, (np.arange(len(pop)), j), 1)
    np.add.at(both, (np.arange(len(pop)), h), 1)
    levels = np.array([0.0, 1.0, 2.0])
    pop_pat = compress(both)
    truth = st.alpha_w(st.unit_coincidences(pop_pat.rows), pop_pat.counts[None].astype(float), levels, "ordinal")[0]
    rng = np.random.default_rng(16)
    hits, reps = 0, 200
    for _ in range(reps):
        p = compress(both[rng.integers(0, len(both), 300)])
        coinc = st.unit_coincidences(p.rows)
        d = bootstrap_many({"a": lambda w, c=coinc: st.alpha_w(c, w, levels, "ordinal")}, p.counts,
                           n_resamples=300, random_state=rng)["a"]
        low, high = percentile_interval(d, CONF)
        hits += low <= truth <= high
    assert 0.84 <= hits / reps <= 0.96

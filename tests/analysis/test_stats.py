"""Statistics against worked examples with known answers, and against reference implementations."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as sps
from sklearn.metrics import cohen_kappa_score, f1_score

from judgecal.analysis import stats as st
from judgecal.analysis.agreement import krippendorff_alpha
from judgecal.analysis.resample import bootstrap_distribution, compress, percentile_interval

NAN = np.nan
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the 4 coders x 12 units example
# with missing values; published alphas: nominal 0.743, ordinal 0.815, interval 0.849, ratio 0.797.
K2011 = np.array([
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
])


def _value_counts(reliability: np.ndarray, levels: np.ndarray) -> np.ndarray:
    return (reliability.T[:, :, None] == levels[None, None, :]).sum(axis=1).astype(float)


def _alpha_mine(reliability, levels, level):
    p = compress(_value_counts(reliability, levels))
    return st.alpha_w(st.unit_coincidences(p.rows), p.counts[None].astype(float), levels, level)[0]


@pytest.mark.parametrize(("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)])
def test_alpha_published_example(level, published):
    levels = np.arange(1, 6, dtype=float)
    assert round(_alpha_mine(K2011, levels, level), 3) == published
    assert round(krippendorff_alpha(K2011, levels=levels, level_of_measurement=level), 3) == published


def test_alpha_hand_computed_binary():
    # Coder A 0,0,1,1; coder B 0,1,1,1. Coincidences [[2,1],[1,4]], n=8:
    # alpha = 1 - (n-1) * 2 / (2 * 3 * 5) = 1 - 14/30.
    data = np.array([[0, 0, 1, 1], [0, 1, 1, 1]], dtype=float)
    assert _alpha_mine(data, np.array([0.0, 1.0]), "nominal") == pytest.approx(1 - 14 / 30)


def test_alpha_matches_package_on_random_tables():
    import krippendorff

    rng = np.random.default_rng(3)
    levels = np.array([0.0, 1.0, 2.0])
    for level in ("nominal", "ordinal", "interval", "ratio"):
        for _ in range(10):
            n = int(rng.integers(5, 80))
            vc = np.array([rng.multinomial(int(rng.integers(0, 5)), [0.2, 0.3, 0.5]) for _ in range(n)])
            if (vc.sum(axis=1) >= 2).sum() == 0 or (vc.sum(axis=0) > 0).sum() < 2:
                continue
            p = compress(vc)
            mine = st.alpha_w(st.unit_coincidences(p.rows), p.counts[None].astype(float), levels, level)[0]
            ref = krippendorff.alpha(value_counts=vc, value_domain=levels, level_of_measurement=level)
            assert mine == pytest.approx(ref, abs=1e-10)


def test_alpha_undefined_is_nan_not_zero():
    vc = np.array([[2.0, 0.0], [3.0, 0.0]])  # everybody gave the same level
    p = compress(vc)
    assert np.isnan(st.alpha_w(st.unit_coincidences(p.rows), p.counts[None].astype(float), np.array([0.0, 1.0]), "nominal")[0])


def _conf(x, y, v):
    p = compress(np.c_[x, y])
    return st.confusion_w(p.rows[:, 0], p.rows[:, 1], p.counts[None].astype(float), v)


def test_kappa_hand_computed():
    # 2x2 table [[20, 5], [10, 15]]: po = 0.7, pe = 0.5, kappa = 0.4.
    x = np.array([0] * 25 + [1] * 25)
    y = np.array([0] * 20 + [1] * 5 + [0] * 10 + [1] * 15)
    assert st.cohen_kappa_w(_conf(x, y, 2), None)[0] == pytest.approx(0.4)
    # Quadratic weights, pairs (0,0), (1,2), (2,2): observed 1/3, expected 5/3, kappa 0.8.
    assert st.cohen_kappa_w(_conf([0, 1, 2], [0, 2, 2], 3), "quadratic")[0] == pytest.approx(0.8)


def test_kappa_f1_agreement_match_sklearn():
    rng = np.random.default_rng(5)
    for _ in range(20):
        x = rng.integers(0, 3, 60)
        y = np.clip(x + rng.integers(-1, 2, 60), 0, 2)
        c = _conf(x, y, 3)
        for w in (None, "linear", "quadratic"):
            assert st.cohen_kappa_w(c, w)[0] == pytest.approx(cohen_kappa_score(x, y, weights=w))
        assert st.weighted_f1_w(c)[0] == pytest.approx(f1_score(x, y, average="weighted", zero_division=0))
        assert st.percent_agreement_w(c)[0] == pytest.approx(np.mean(x == y))


def test_f1_and_agreement_hand_computed():
    truth, pred = [0, 0, 1, 1, 1], [0, 1, 1, 1, 0]
    c = _conf(truth, pred, 2)
    # F1 class 0 = 0.5 (support 2), class 1 = 2/3 (support 3): (1 + 2) / 5.
    assert st.weighted_f1_w(c)[0] == pytest.approx(0.6)
    assert st.percent_agreement_w(c)[0] == pytest.approx(0.6)


def test_rank_correlations_hand_computed():
    x, y = np.array([1.0, 2, 3, 4]), np.array([1.0, 3, 2, 4])
    w = np.ones((1, 4))
    assert st.spearman_w(x, y, w)[0] == pytest.approx(0.8)  # 1 - 6 * 2 / 60
    assert st.kendall_tau_b_w(x, y, w)[0] == pytest.approx(4 / 6)  # 5 concordant, 1 discordant


def test_rank_correlations_with_ties_match_scipy():
    rng = np.random.default_rng(7)
    for _ in range(20):
        x = rng.integers(0, 3, 40).astype(float)
        y = x + rng.integers(0, 4, 40) / 3
        p = compress(np.c_[x, y])
        w = p.counts[None].astype(float)
        assert st.spearman_w(p.rows[:, 0], p.rows[:, 1], w)[0] == pytest.approx(sps.spearmanr(x, y)[0])
        assert st.kendall_tau_b_w(p.rows[:, 0], p.rows[:, 1], w)[0] == pytest.approx(sps.kendalltau(x, y)[0])


def test_kendall_blocks_give_same_answer(monkeypatch):
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=300), rng.normal(size=300)
    w = rng.integers(0, 3, (4, 300)).astype(float)
    full = st.kendall_tau_b_w(x, y, w)
    monkeypatch.setattr(st, "_KENDALL_BLOCK", 37)
    assert np.allclose(st.kendall_tau_b_w(x, y, w), full)


def test_compress_keeps_nan_as_a_value_and_maps_items():
    rows = np.array([[1.0, np.nan], [1.0, np.nan], [2.0, 0.0]])
    p = compress(rows)
    assert p.counts.tolist() == [2, 1] and p.n_items == 3
    assert np.isnan(p.rows[0, 1])
    assert np.array_equal(p.rows[p.inverse][:, 0], rows[:, 0])


def test_bootstrap_weights_resample_items():
    # Mean of a 0/1 variable: the bootstrap sd must match the binomial sd sqrt(p(1-p)/n).
    values = np.r_[np.zeros(70), np.ones(30)]
    p = compress(values)
    dist = bootstrap_distribution(lambda w: st.mean_w(p.rows[:, 0], w), p.counts, n_resamples=4000, random_state=1)
    assert dist.std() == pytest.approx(np.sqrt(0.3 * 0.7 / 100), rel=0.08)
    low, high = percentile_interval(dist, 0.9)
    assert low < 0.3 < high


def test_percentile_interval_refuses_mostly_undefined():
    assert np.isnan(percentile_interval(np.r_[np.full(80, np.nan), np.arange(20.0)], 0.9)[0])
    with pytest.raises(Exception, match="confidence"):
        percentile_interval(np.arange(10.0), 1.5)

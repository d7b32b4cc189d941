"""The ordinal nodes of one fold fitted all at once (ordinal_nodes) are, up to the
solver tolerance, the nodes that fitting each one with fit_proportional_odds gives,
and a whole GroupedCalibrator fit is unchanged by taking that path."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from synth import synthetic_ratings
from test_isotonic_nodes import _metric_setup, _with_probs

from judgecal.calibration import GroupedCalibrator
from judgecal.calibration._fit import hierarchy as hz
from judgecal.calibration._fit.ordinal_nodes import fit_ordinal_nodes
from judgecal.calibration.ordinal import fit_proportional_odds, ordinal_proba
from judgecal.calibration.persist import calibrator_to_dict

TOL = 1e-6  # on coefficients, thresholds and level probabilities


def _assert_same_nodes(got: dict, want: dict, md: hz.MetricData) -> int:
    """Same groups and sizes in the same order, parameters and predictions within TOL; returns the node count."""
    assert [list(t) for t in got.values()] == [list(t) for t in want.values()]
    n = 0
    for level, table in want.items():
        for code, (state, size) in table.items():
            mine, my_size = got[level][code]
            assert my_size == size and mine["kind"] == "ordinal"
            np.testing.assert_allclose(mine["coef"], state["coef"], rtol=0, atol=TOL)
            np.testing.assert_allclose(mine["thresholds"], state["thresholds"], rtol=0, atol=TOL)
            n += 1
    rows = np.arange(len(md.y))
    a, b = hz.components(md, got, rows, "ordinal"), hz.components(md, want, rows, "ordinal")
    np.testing.assert_allclose(a.P, b.P, rtol=0, atol=TOL)
    np.testing.assert_array_equal(a.n, b.n)
    return n


def _ratings_with_text(seed=4):
    """Synthetic ratings with responses (length feature), uneven rater counts (per-rater
    weights other than 1/3), a language whose humans never give level 2 and one
    whose humans give one level only."""
    rng = np.random.default_rng(seed)
    df = _with_probs(synthetic_ratings(n_prompts=10, languages=("hi", "mr", "ta", "bn", "pa", "te"), seed=seed))
    human = df["rater_kind"] == "human"
    df.loc[human & (df["language"] == "ta") & (df["score"] == 2), "score"] = 1.0
    df.loc[human & (df["language"] == "te"), "score"] = 0.0
    drop = human & df["rater"].str.endswith("2") & (rng.uniform(size=len(df)) < 0.5)
    df = df[~drop].reset_index(drop=True)
    words = np.array(["नमस्ते", "दुनिया", "வணக்கம்", "hello", "ঠিক", "ਸਤਿ"])
    lengths = {item: " ".join(rng.choice(words, rng.integers(1, 30))) for item in df["item_id"].unique()}
    df["response"] = df["item_id"].map(lengths)
    return df


@pytest.mark.parametrize(("features", "target", "metric", "min_size"), [
    (("score",), "consensus", "la", 5),  # ordinal fits the human levels per rater
    (("score",), "consensus", "h", 5),  # nominal: one majority level per item
    (("score",), "per_rater", "tq", 60),  # some languages and scripts too small for a node
    (("score", "other_metrics", "length"), "consensus", "la", 5),  # a distinct feature row per item
    (("score", "expected", "other_metrics"), "consensus", "h", 30),
])
def test_batched_nodes_match_per_node_fits(features, target, metric, min_size):
    md, fold = _metric_setup(_ratings_with_text(), metric, features, target)
    assert not np.allclose(md.r_weight, md.r_weight[0])  # uneven weights reach the fit
    n_nodes, n_language_nodes = 0, []
    for slot in range(6):
        train = fold != slot if slot < 5 else np.ones(len(fold), bool)
        args = dict(min_group_size=min_size, alpha=1e-3, prior_weight=1.0)
        got = hz.fit_all_nodes(md, train, "ordinal", **args)
        want = hz.fit_all_nodes(md, train, "ordinal", batched=False, **args)
        n_nodes += _assert_same_nodes(got, want, md)
        n_language_nodes.append(len(got["language"]))
    assert n_nodes > 6  # script (and language) nodes too, not only the metric's
    if min_size == 60:  # 40 items per language: no language node, only the two-language script's
        assert max(n_language_nodes) == 0 < n_nodes - 6
    else:
        assert min(n_language_nodes) > 0


def test_random_nodes_match_fit_proportional_odds():
    """Four levels, three features, random weights, overlapping nodes, a node that never
    sees the top level, a single-level node and a node of two rows."""
    rng = np.random.default_rng(7)
    n, K = 600, 4
    X = np.column_stack([rng.integers(0, 3, n), rng.normal(size=n), rng.integers(0, 2, n)]).astype(float)
    yi = np.clip(np.round(X[:, 0] + 0.5 * X[:, 1] + rng.normal(0, 0.7, n)), 0, K - 1).astype(np.int64)
    w = rng.uniform(0.2, 2.0, n)
    group = rng.integers(0, 5, n)
    yi[group == 3] = np.minimum(yi[group == 3], 2)  # level 3 never used
    yi[group == 4] = 1  # one level only
    tiny = np.zeros(n, bool)
    tiny[:2] = True
    member = np.column_stack([np.zeros(n, np.int64), group + 1, np.where(tiny, 6, -1)])
    for alpha, prior in ((1e-3, 1.0), (0.1, 0.5), (1e-3, 0.0)):
        if prior == 0:  # without the prior, a node missing a level has no finite fit (a threshold
            # runs off to infinity and where it stops is arbitrary): only nodes that use every level
            keep = (group < 3) & ~tiny
            rows, mem, n_nodes = np.flatnonzero(keep), member[keep][:, :2], 4
        else:
            rows, mem, n_nodes = np.arange(n), member, 7
        coef, thr, n_iter = fit_ordinal_nodes(X, rows, yi[rows], w[rows], mem, n_nodes, K,
                                              alpha=alpha, prior_weight=prior)
        assert coef.shape == (n_nodes, 3) and thr.shape == (n_nodes, K - 1) and (n_iter < 100).all()
        for node in range(n_nodes):
            sel = rows[(mem == node).any(axis=1)]
            c, t, _ = fit_proportional_odds(X[sel], yi[sel], w[sel], K, alpha=alpha, prior_weight=prior)
            np.testing.assert_allclose(coef[node], c, rtol=0, atol=TOL)
            np.testing.assert_allclose(thr[node], t, rtol=0, atol=TOL)
            np.testing.assert_allclose(ordinal_proba(X @ coef[node], thr[node]), ordinal_proba(X @ c, t),
                                       rtol=0, atol=TOL)
            assert np.all(np.diff(thr[node]) > 0)


def test_zero_weight_node_is_refused_as_per_node():
    X = np.array([[0.0], [1.0], [2.0], [1.0]])
    member = np.array([[0, -1], [0, -1], [0, 1], [0, 1]])
    w = np.array([1.0, 1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="sum to zero"):
        fit_ordinal_nodes(X, np.arange(4), np.array([0, 1, 2, 1]), w, member, 2, 3)
    with pytest.raises(ValueError, match="sum to zero"):
        fit_proportional_odds(X[2:], np.array([2, 1]), w[2:], 3)


def test_non_finite_features_take_the_per_node_path(monkeypatch):
    md, fold = _metric_setup(_ratings_with_text(), "la", ("score",), "consensus")

    class Batched(Exception):
        pass

    def batched(*args, **kwargs):
        raise Batched

    monkeypatch.setattr(hz, "fit_node_groups", batched)
    md.X = md.X.copy()
    md.X[0, 0] = np.nan
    nodes = hz.fit_all_nodes(md, fold != 0, "ordinal", min_group_size=5, alpha=1e-3, prior_weight=1.0)
    assert len(nodes["language"]) == 6
    md.X[0, 0] = 0.0
    with pytest.raises(Batched):
        hz.fit_all_nodes(md, fold != 0, "ordinal", min_group_size=5, alpha=1e-3, prior_weight=1.0)


def _fit(ratings, per_node: bool, **params):
    with pytest.MonkeyPatch.context() as mp:
        if per_node:
            mp.setattr(hz, "fit_all_nodes", functools.partial(hz.fit_all_nodes, batched=False))
        cal = GroupedCalibrator(**params).fit(ratings, check_input=False)
    body = calibrator_to_dict(cal)
    for key in ("created_utc", "sha256"):
        body.pop(key)
    return cal, body


def _assert_close_fits(fast, slow):
    """Same structure and choices; numbers within TOL (model parameters and predictions)."""
    (cal_a, a), (cal_b, b) = fast, slow
    assert a.keys() == b.keys() and a["nodes"].keys() == b["nodes"].keys()
    for metric, info in cal_b.metric_info_.items():
        mine = cal_a.metric_info_[metric]
        assert mine["method"] == info["method"] and mine["shrinkage"] == info["shrinkage"]
        for m, v in info["cv_mae"].items():
            assert abs(mine["cv_mae"][m] - v) < TOL
    for key, node in b["nodes"].items():
        other = a["nodes"][key]
        assert other["n_items"] == node["n_items"] and other["model"]["kind"] == node["model"]["kind"]
        assert abs(other["offset"] - node["offset"]) < TOL
        for name in ("coef", "thresholds", "values"):
            if name in node["model"]:
                np.testing.assert_allclose(other["model"][name], node["model"][name], rtol=0, atol=TOL)
    q_a, q_b = cal_a.cv_quality_, cal_b.cv_quality_
    assert list(q_a.columns) == list(q_b.columns)
    num = q_b.select_dtypes("number").columns
    np.testing.assert_allclose(q_a[num].to_numpy(float), q_b[num].to_numpy(float), rtol=0, atol=TOL)


@pytest.mark.parametrize("params", [
    {"method": "ordinal"},
    {"method": "auto", "target": "per_rater", "min_group_size": 40},
    {"method": "ordinal", "features": ("score", "other_metrics", "length"), "pooling": "none"},
])
def test_fit_close_with_and_without_batching_synthetic(params):
    ratings = _ratings_with_text()
    fast, slow = _fit(ratings, False, **params), _fit(ratings, True, **params)
    _assert_close_fits(fast, slow)
    judge = ratings[ratings["rater_kind"] == "judge"]
    np.testing.assert_allclose(fast[0].apply(judge)["score_calibrated"], slow[0].apply(judge)["score_calibrated"],
                               rtol=0, atol=TOL)


@pytest.mark.parametrize("params", [{"method": "ordinal"}, {"method": "ordinal", "target": "per_rater"}])
def test_fit_close_with_and_without_batching_pariksha(pariksha, params):
    fast, slow = _fit(pariksha, False, **params), _fit(pariksha, True, **params)
    _assert_close_fits(fast, slow)
    assert len(fast[1]["nodes"]) > 20
    judge = pariksha[pariksha["rater_kind"] == "judge"]
    a, b = fast[0].apply(judge), slow[0].apply(judge)
    np.testing.assert_allclose(a["score_calibrated"], b["score_calibrated"], rtol=0, atol=TOL)


@pytest.mark.parametrize(("features", "min_size"), [(("score",), 5), (("score", "other_metrics", "length"), 60)])
def test_ordinal_components_match_each_node_prediction(features, min_size):
    """components() gathers each row's ordinal node by code: the same numbers as
    predicting with each node (node_predict) on its own rows."""
    md, fold = _metric_setup(_ratings_with_text(), "tq", features, "consensus")
    levels = np.asarray(md.scale.levels)
    nodes = hz.fit_all_nodes(md, fold != 1, "ordinal", min_group_size=min_size, alpha=1e-3, prior_weight=1.0)
    rows = np.flatnonzero(fold == 1)
    got = hz.components(md, nodes, rows, "ordinal")
    E = np.zeros((len(rows), 3))
    P = np.zeros((len(rows), 3, len(levels)))
    n = np.zeros((len(rows), 3))
    for j, (level, codes) in enumerate((("language", md.lang), ("script", md.script), ("metric", None))):
        for code, (state, size) in nodes[level].items():
            hit = np.flatnonzero(codes[rows] == code) if codes is not None else np.arange(len(rows))
            E[hit, j], P[hit, j] = hz.node_predict(state, None, md.X[rows[hit]], levels)
            n[hit, j] = size
    assert (n[:, 2] > 0).all() and (n[:, 1] > 0).any() and ((n[:, 0] > 0).any() == (min_size == 5))
    np.testing.assert_array_equal(got.n, n)
    np.testing.assert_allclose(got.P, P, rtol=0, atol=1e-13)
    np.testing.assert_allclose(got.E, E, rtol=0, atol=1e-13)
    expected_only = hz.components(md, nodes, rows, "isotonic")  # what the fold sums ask for
    assert expected_only.P is None
    np.testing.assert_array_equal(expected_only.E, got.E)

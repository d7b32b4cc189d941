"""The isotonic nodes of all folds fitted at once from per-value sums are the very
nodes that fitting each node on its own rows gives, and the whole GroupedCalibrator
fit is unchanged by taking that path."""

from __future__ import annotations

import numpy as np
import pytest
from synth import synthetic_ratings

from judgecal.calibration import GroupedCalibrator
from judgecal.calibration._fit import hierarchy as hz
from judgecal.calibration._fit import isotonic_nodes as iso_nodes
from judgecal.calibration._fit.design import make_design_spec
from judgecal.calibration._fit.examples import build_examples
from judgecal.calibration._fit.folds import assign_folds
from judgecal.calibration._fit.metric_data import metric_data
from judgecal.calibration.persist import calibrator_to_dict
from judgecal.data.metrics import DEFAULT_REGISTRY


def _with_probs(df, seed=5):
    """Judge rows get a score_probs distribution leaning on their score (continuous 'expected')."""
    rng = np.random.default_rng(seed)
    out = df.copy()
    texts = []
    for kind, metric, score in zip(out["rater_kind"], out["metric"], out["score"], strict=True):
        if kind != "judge":
            texts.append(None)
            continue
        k = 2 if metric == "h" else 3
        p = 0.5 * rng.dirichlet(np.ones(k)) + 0.5 * np.eye(k)[int(score)]
        texts.append("{" + ", ".join(f'"{i}": {v:.4f}' for i, v in enumerate(p / p.sum())) + "}")
    out["score_probs"] = texts
    return out


def _metric_setup(ratings, metric, features, target, n_splits=5):
    ex = build_examples(ratings, features=features)
    folds = assign_folds(ex.items["cv_group"], n_splits, 0, strata=ex.items["language"])
    mask = (ex.items["metric"] == metric).to_numpy()
    items = ex.items[mask].reset_index(drop=True)
    scale = DEFAULT_REGISTRY.get(metric)
    spec = make_design_spec(items, metric, scale, features)
    return metric_data(ex, mask, items, scale, spec, target), folds[mask]


@pytest.mark.parametrize(("features", "target", "metric", "min_size"), [
    (("score",), "consensus", "tq", 5),
    (("score",), "per_rater", "la", 5),
    (("score",), "consensus", "h", 60),  # some languages and scripts too small for a node
    (("expected",), "consensus", "tq", 5),  # one distinct value per item, nearly
    (("score", "expected"), "per_rater", "h", 30),
])
def test_table_nodes_equal_per_node_fits(features, target, metric, min_size):
    ratings = _with_probs(synthetic_ratings(n_prompts=10, languages=("hi", "mr", "ta", "bn", "pa"), seed=2))
    md, fold = _metric_setup(ratings, metric, features, target)
    tables = iso_nodes.fit_isotonic_nodes(md, fold, 5, min_size)
    assert len(tables.nodes) == 6
    n_nodes = 0
    for slot in range(6):
        train = fold != slot if slot < 5 else np.ones(len(fold), bool)
        ref = hz.fit_all_nodes(md, train, "isotonic", min_group_size=min_size, alpha=1e-3, prior_weight=1.0)
        # Same groups, sizes, knots and values, bit for bit, in the same order.
        assert tables.nodes[slot] == ref
        assert [list(t) for t in tables.nodes[slot].values()] == [list(t) for t in ref.values()]
        n_nodes += sum(len(t) for t in ref.values())
        for rows in (np.flatnonzero(train), np.flatnonzero(~train), np.arange(len(fold))):
            got, want = tables.components(slot, rows), hz.components(md, ref, rows, "isotonic")
            np.testing.assert_array_equal(got.E, want.E)
            np.testing.assert_array_equal(got.n, want.n)
    assert n_nodes > 6  # not only metric nodes
    if min_size == 60:
        assert any(len(nodes["language"]) < len(md.lang_keys) for nodes in tables.nodes)


def test_applies_only_to_finite_features():
    ratings = synthetic_ratings(n_prompts=5, languages=("hi", "ta"))
    md, _ = _metric_setup(ratings, "la", ("score",), "consensus")
    assert iso_nodes.applies(md)
    md.x_iso = md.x_iso.copy()
    md.x_iso[0] = np.nan
    assert not iso_nodes.applies(md)


def _fit_dict(ratings, monkeypatch=None, **params):
    if monkeypatch is not None:  # the per-node path: every node fitted on its own rows
        monkeypatch.setattr(iso_nodes, "applies", lambda md: False)
    body = calibrator_to_dict(GroupedCalibrator(**params).fit(ratings, check_input=False))
    for key in ("created_utc", "sha256"):
        body.pop(key)
    return body


@pytest.mark.parametrize("params", [
    {"method": "isotonic"},
    {"method": "isotonic", "target": "per_rater", "min_group_size": 40},
    {"method": "auto", "features": ("score", "expected")},
    {"method": "isotonic", "pooling": "none", "n_splits": 4, "random_state": 3},
])
def test_fit_identical_with_and_without_tables_synthetic(params):
    ratings = _with_probs(synthetic_ratings(n_prompts=12, languages=("hi", "mr", "ta", "bn", "pa", "te"), seed=3))
    fast = _fit_dict(ratings, **params)
    with pytest.MonkeyPatch.context() as mp:
        slow = _fit_dict(ratings, mp, **params)
    assert fast == slow


@pytest.mark.parametrize("params", [{"method": "isotonic"}, {"method": "isotonic", "target": "per_rater"}])
def test_fit_identical_with_and_without_tables_pariksha(pariksha_path, params):
    from judgecal.datasets import load_pariksha

    ratings = load_pariksha(pariksha_path, repair=True)
    fast = _fit_dict(ratings, **params)
    with pytest.MonkeyPatch.context() as mp:
        slow = _fit_dict(ratings, mp, **params)
    assert fast == slow
    assert len(fast["nodes"]) > 20

"""Choosing the shrinkage pseudo-counts by held-out absolute error."""

from __future__ import annotations

import numpy as np
import pytest
from synth import metric_arrays

from judgecal.calibration._fit import hierarchy as hz
from judgecal.calibration._fit.heldout import held_out_rows, summed_absolute_error


def _metric_data():
    return metric_arrays("la")


def _sums(md, rng, distinct_levels: bool):
    fold = rng.integers(0, 3, len(md.y))
    sets = [np.flatnonzero(fold == f) for f in range(3)]
    comps = []
    for r in sets:
        # node predictions that depend on few values (as isotonic nodes on a judge's levels) or on every row
        E = rng.integers(0, 3, (len(r), 3)) / 2.0 if distinct_levels else rng.random((len(r), 3)) * 2
        comps.append(hz.Components(E, None, np.ones((len(r), 3))))
    return sets, comps, hz.fold_sums(md, sets, comps, 5, sets, comps)


@pytest.mark.parametrize("distinct_levels", [True, False])
def test_summed_absolute_error_equals_row_by_row_sum(distinct_levels):
    md = _metric_data()
    rng = np.random.default_rng(4)
    sets, comps, sums = _sums(md, rng, distinct_levels)
    if distinct_levels:
        assert len(sums.held_out.count) < len(md.y)  # identical rows were merged
    assert sums.held_out.count.sum() == len(md.y)
    u = hz._coefficients(sums, hz.K_GRID[:, None, None, None, None], hz.K_GRID[None, :, None, None, None],
                         hz.KD_GRID[None, None, :, None, None])
    got = summed_absolute_error(u, sums.held_out)
    want = np.zeros(u.shape[:3])
    for f, (rows, c) in enumerate(zip(sets, comps, strict=True)):
        v = np.column_stack([c.E, md.y[rows], np.ones(len(rows))])
        coef = u[:, :, :, f][:, :, :, md.lang[rows]]  # (S, L, D, r, 5)
        want += np.abs(np.einsum("abcri,ri->abcr", coef, v)).sum(axis=-1)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)


def test_chunks_give_the_same_sum(monkeypatch):
    import judgecal.calibration._fit.heldout as ho

    rng = np.random.default_rng(2)
    langs = [rng.integers(0, 4, 500) for _ in range(2)]
    vs = [np.column_stack([rng.random((500, 4)), np.ones(500)]) for _ in range(2)]
    rows = held_out_rows([0, 1], langs, vs)
    u = rng.normal(size=(7, 2, 4, 5))
    whole = summed_absolute_error(u, rows)
    monkeypatch.setattr(ho, "CHUNK", 7)
    np.testing.assert_allclose(summed_absolute_error(u, rows), whole, rtol=1e-12)


def test_loss_changes_the_choice_only_through_the_criterion():
    md = _metric_data()
    sets, comps, sums = _sums(md, np.random.default_rng(5), False)
    for loss in ("absolute", "squared"):
        k = hz.choose_shrinkage(sums, "partial", 10.0, loss=loss)
        assert k[0] in hz.K_GRID and k[1] in hz.K_GRID and k[2] in hz.KD_GRID
    with pytest.raises(ValueError, match="loss must be"):
        hz.choose_shrinkage(sums, "partial", 10.0, loss="huber")
    assert hz.choose_shrinkage(sums, "none", loss="absolute") == (0.0, 0.0, float("inf"))


@pytest.mark.parametrize(("loss", "bias_penalty"), [("absolute", 0.0), ("absolute", 10.0), ("squared", 10.0)])
def test_chosen_pseudo_counts_minimise_the_served_held_out_error(loss, bias_penalty):
    # Independent of the coefficient algebra: serve every grid setting with hz.combine
    # (on a scale wide enough that nothing is clipped) and score it row by row.
    md = _metric_data()
    sets, comps, sums = _sums(md, np.random.default_rng(6), False)
    wide = np.array([-100.0, 100.0])

    def criterion(k):
        w_l, d_l, w_s, d_s = hz.weights_offsets(sums, *k)
        err = np.empty(len(md.y))
        for f, (rows, c) in enumerate(zip(sets, comps, strict=True)):
            lang, script = md.lang[rows], md.script[rows]
            e, _ = hz.combine(c, wide, w_l[f, lang], d_l[f, lang], w_s[f, script], d_s[f, script])
            err[rows] = e - md.y[rows]
        first = np.abs(err).sum() if loss == "absolute" else (err**2).sum()
        per_lang = np.bincount(md.lang, err) ** 2 / np.bincount(md.lang)
        return first + bias_penalty * per_lang.sum()

    grid = [(a, b, c) for a in hz.K_GRID for b in hz.K_GRID for c in hz.KD_GRID]
    values = np.array([criterion(k) for k in grid])
    chosen = hz.choose_shrinkage(sums, "partial", bias_penalty, loss=loss)
    assert criterion(chosen) <= values.min() + 1e-9 * max(1.0, values.min())
    if loss == "absolute" and bias_penalty == 0:
        # the absolute and squared criteria disagree here, so the test tells them apart
        other = hz.choose_shrinkage(sums, "partial", 0.0, loss="squared")
        assert criterion(other) > values.min() + 1e-6


def test_non_finite_errors_are_refused_clearly():
    from judgecal.errors import InputError

    md = _metric_data()
    rng = np.random.default_rng(6)
    fold = rng.integers(0, 3, len(md.y))
    sets = [np.flatnonzero(fold == f) for f in range(3)]
    comps = [hz.Components(rng.random((len(r), 3)), None, np.ones((len(r), 3))) for r in sets]
    comps[1].E[0, 2] = np.nan  # e.g. a NaN judge score that skipped the input checks
    sums = hz.fold_sums(md, sets, comps, 5, sets, comps)
    with pytest.raises(InputError, match="not finite"):
        hz.choose_shrinkage(sums, "partial")

"""Vectorised pieces of the calibrator fit give the numbers the plain per-group
code gives: group summaries, held-out moments."""

from __future__ import annotations

import numpy as np
import pandas as pd
from synth import metric_arrays, synthetic_ratings

from judgecal.calibration._fit import conformal as cf
from judgecal.calibration._fit import hierarchy as hz
from judgecal.calibration._fit.evaluation import expected_calibration_error, summarize


def _summarize_per_group(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Reference: one pandas sub-frame per group."""
    rows = []
    for key, g in frame.groupby(by, sort=True, observed=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key, strict=True))
        row["n_items"] = len(g)
        row["bias"] = float(g["error"].mean())
        row["mae"] = float(g["error"].abs().mean())
        if "log_loss" in g.columns and g["log_loss"].notna().any():
            row["log_loss"] = float(g["log_loss"].mean())
            row["ece"] = expected_calibration_error(g["confidence"].to_numpy(), g["accuracy"].to_numpy())
        if "covered" in g.columns and g["covered"].notna().any():
            row["coverage"] = float(g["covered"].mean())
            row["set_size"] = float(g["set_size"].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def test_summarize_equals_per_group_means():
    rng = np.random.default_rng(0)
    n = 3000
    lang = rng.choice(["hi", "ta", "mr", "bn"], n)
    frame = pd.DataFrame({
        "variant": rng.choice(["raw", "iso", "ord"], n),
        "language": pd.Categorical(lang, categories=["ta", "hi", "mr", "bn", "zz"]),  # unsorted, one unused
        "metric": np.where(rng.random(n) < 0.05, None, rng.choice(["la", "tq"], n)),  # missing keys kept
        "error": rng.normal(0.1, 0.5, n) / 3,
    })
    ordinal = (frame["variant"] == "ord").to_numpy()
    frame["log_loss"] = np.where(ordinal, rng.random(n), np.nan)
    frame["confidence"] = np.where(ordinal, rng.uniform(0.3, 1, n), np.nan)
    frame["accuracy"] = np.where(ordinal, rng.random(n), np.nan)
    with_sets = frame[frame["variant"] != "raw"].assign(covered=lambda d: rng.random(len(d)) < 0.9,
                                                        set_size=lambda d: rng.integers(1, 3, len(d)))
    mixed = pd.concat([with_sets, frame[frame["variant"] == "raw"]])  # covered: object with NaN
    assert mixed["covered"].dtype == object
    for data, by in ((frame, ["variant", "language", "metric"]), (mixed, ["variant", "language"]),
                     (mixed.drop(columns=["log_loss", "confidence", "accuracy"]), ["language"]),
                     (frame.iloc[:0], ["language"])):
        got, want = summarize(data, by), _summarize_per_group(data, by)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert len(summarize(mixed, ["variant", "language"])) == 12


def test_fold_sums_moments_equal_blockwise_sums():
    md = metric_arrays("la")
    rng = np.random.default_rng(1)
    fold = rng.integers(0, 3, len(md.y))
    sets = [np.flatnonzero(fold == f) for f in range(3)]
    comps = [hz.Components(rng.random((len(r), 3)), None, np.ones((len(r), 3))) for r in sets]
    sums = hz.fold_sums(md, sets, comps, 5, sets, comps)
    want = np.zeros((3, len(md.lang_keys), 5, 5))
    for f, (rows, c) in enumerate(zip(sets, comps, strict=True)):
        v = np.column_stack([c.E, md.y[rows], np.ones(len(rows))])
        np.add.at(want[f], md.lang[rows], v[:, :, None] * v[:, None, :])
    np.testing.assert_array_equal(sums.moments, want)


def _conformal_per_group(md, obs, fold, metric, n_splits, min_size):
    """Reference: one pandas group at a time, np.unique per fold."""
    from judgecal.calibration._fit.state import node_key

    items = pd.DataFrame([md.lang_keys[c] for c in md.lang], columns=["language", "script"])
    out = {}
    for level, cols in (("metric", []), ("script", ["script"]), ("language", ["language", "script"])):
        groups = items.groupby(cols, observed=True).indices.items() if cols else [((), np.arange(len(items)))]
        for key, idx in groups:
            if len(idx) < min_size and level != "metric":
                continue
            key = key if isinstance(key, tuple) else (key,)
            lang = key[0] if level == "language" else None
            script = key[-1] if level != "metric" else None
            per_fold = []
            for f in range(n_splits):
                values, counts = np.unique(np.round(obs[idx[fold[idx] == f]], cf.DECIMALS), return_counts=True)
                per_fold.append({"values": values.tolist(), "counts": counts.tolist()})
            out[node_key(metric, lang, script)] = {"n": int(len(idx)), "folds": per_fold}
    return out


def test_conformal_scores_equal_per_group_counts():
    md = metric_arrays("tq")
    rng = np.random.default_rng(2)
    # Few distinct scores, some differing only by float noise (they must tie after rounding).
    n = len(md.y)
    few = rng.choice([0.1, 0.25, 1 / 3, 0.5, 0.9], n) + rng.choice([0.0, 1e-13], n)
    fold = rng.integers(0, 5, n)
    for obs in (few, rng.random(n)):  # few distinct scores; all distinct
        for min_size in (10, 40, 1000):  # all groups; Devanagari (hi + mr) only; the metric only
            got = cf.conformal_scores("tq", md, obs, fold, 5, min_size)
            want = _conformal_per_group(md, obs, fold, "tq", 5, min_size)
            assert got == want
            assert list(got) == list(want)
            if min_size == 40:
                assert set(want) == {"tq|*|*", "tq|*|Deva"}
        assert list(want) == ["tq|*|*"]


def test_folds_from_categorical_codes_equal_folds_from_strings():
    from judgecal.calibration._fit.folds import assign_folds

    rng = np.random.default_rng(3)
    prompts = np.char.add("p", rng.integers(0, 400, 3000).astype(str)).astype(object)
    langs = rng.choice(["ta", "hi", "mr", "bn", "ur"], 3000).astype(object)
    for strata_cats in (None, ["bn", "hi", "mr", "ta", "ur"], ["ur", "ta", "hi", "mr", "bn"]):  # sorted, unsorted
        cat_strata = None if strata_cats is None else pd.Series(pd.Categorical(langs, categories=strata_cats))
        cat_groups = pd.Series(pd.Categorical(prompts))
        for seed in (0, 7):
            want = assign_folds(prompts, 5, seed, strata=None if strata_cats is None else langs)
            got = assign_folds(cat_groups, 5, seed, strata=cat_strata)
            np.testing.assert_array_equal(got, want)
    assert np.bincount(want).min() > 500  # all five folds used


def test_categories_from_codes_equal_astype_category():
    from judgecal.calibration._fit.examples import _as_category

    values = ["b2", "अ1", "B1", "a10", "a9", "Ω", "b2", "zz", "अ1", "a10", "ä"]
    for dtype in ("str", object):
        full = pd.Series(values * 3, dtype=dtype)
        codes, uniques = pd.factorize(full, sort=False)
        pick = np.array([0, 3, 4, 1, 3, 9, 2, 5])  # a subset: some values unused
        sub = full.iloc[pick].reset_index(drop=True)
        got = _as_category(sub, codes[pick], uniques)
        pd.testing.assert_series_equal(got, sub.astype("category"))
        assert list(got.cat.categories) == sorted(set(sub))


def test_build_examples_items_are_categorical_like_astype():
    from judgecal.calibration._fit.examples import build_examples

    ratings = synthetic_ratings(n_prompts=4, languages=("hi", "ta", "mr"))
    ratings["item_id"] = np.where(ratings["language"] == "ta", "Ζ", "a") + ratings["item_id"]
    for dtype in ("str", object, "category"):
        table = ratings.astype({"item_id": dtype, "metric": dtype})
        items = build_examples(table).items
        judge = table[table["rater_kind"] == "judge"].reset_index(drop=True)
        for col in ("item_id", "metric"):
            want = judge[col].astype("category")
            pd.testing.assert_series_equal(items[col], want)


def test_unique_rows_equal_numpy_unique_axis0(monkeypatch):
    from judgecal.calibration._fit import rowcodes

    rng = np.random.default_rng(4)
    n = 5000
    fold, lang, x = rng.integers(0, 5, n), rng.integers(0, 30, n), rng.integers(0, 3, n)
    table = rng.random((5, 30, 3, 3))
    few = np.column_stack([fold, lang] + [table[fold, lang, x, j] for j in range(3)] + [rng.integers(0, 7, n) / 3])
    many = rng.random((n, 6)).round(2)  # many distinct values per column: codes get compacted on the way
    for data in (few, many, few[:1], few[:0]):
        want_rows, want_inverse = np.unique(data, axis=0, return_inverse=True)
        got_rows, got_inverse = rowcodes.unique_rows(data)
        np.testing.assert_array_equal(got_rows, want_rows)
        np.testing.assert_array_equal(got_inverse, want_inverse.reshape(-1))
    assert len(rowcodes.unique_rows(few)[0]) < n // 2
    monkeypatch.setattr(rowcodes, "_MAX_CODE", 8)  # compact the codes at every column
    np.testing.assert_array_equal(rowcodes.unique_rows(many)[0], np.unique(many, axis=0))

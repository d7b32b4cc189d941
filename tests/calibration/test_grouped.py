"""GroupedCalibrator: back-off, shrinkage, targets, features, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from synth import synthetic_ratings

from judgecal.calibration import GroupedCalibrator
from judgecal.calibration._fit.examples import build_examples, log_text_length
from judgecal.errors import CalibratorMismatchError, ConfigError, InputError


def _judge(df):
    return df[df["rater_kind"] == "judge"].copy()


def _consensus(df):
    return df[df["rater_kind"] == "human"].groupby(["item_id", "metric"])["score"].mean().rename("y")


def test_calibration_removes_per_language_inflation(ratings, fitted):
    q = fitted.cv_quality_
    tq = q[q["metric"] == "tq"].set_index("language")
    # Raw judge bias grows with the inflation we built in; held-out calibrated bias is small.
    assert tq.loc["ta", "raw_bias"] > tq.loc["hi", "raw_bias"] + 0.2
    assert (q["bias"].abs() < 0.06).all()
    assert (q.loc[q["metric"] != "h", "mae"] < q.loc[q["metric"] != "h", "raw_mae"]).all()
    # In-sample the calibrated means follow the humans per language.
    out = fitted.apply(_judge(ratings)).join(_consensus(ratings), on=["item_id", "metric"])
    gaps = out.groupby(["language", "metric"]).apply(lambda g: (g["score_calibrated"] - g["y"]).mean())
    assert gaps.abs().max() < 0.05


def test_output_columns_and_scale(ratings, fitted):
    out = fitted.apply(ratings)
    judge = out[out["rater_kind"] == "judge"]
    human = out[out["rater_kind"] == "human"]
    assert judge["score_calibrated"].between(0, 2).all()
    assert judge.loc[judge["metric"] == "h", "score_calibrated"].between(0, 1).all()
    assert human["score_calibrated"].isna().all() and human["calibration_level"].isna().all()
    # every language has a node; a row says "script" only where its language node is given no weight
    assert set(judge["calibration_level"].astype(str)) <= {"language", "script"}
    assert (judge["score_set_low"] <= judge["score_set_high"]).all()
    assert len(out) == len(ratings) and out.index.equals(ratings.index)


def test_unseen_language_backs_off_to_script_then_metric(ratings, fitted):
    j = _judge(ratings).head(30).copy()
    j["language"] = ["ne"] * 10 + ["te"] * 10 + ["hindi"] * 10  # Devanagari, Telugu, and a name
    j["script"] = None  # derived from the language
    out = fitted.apply(j)
    levels = out["calibration_level"].astype(str).tolist()
    assert levels[:10] == ["script"] * 10 and set(out["calibration_group"].astype(str)[:10]) <= {
        "la|*|Deva", "tq|*|Deva", "h|*|Deva"}
    assert levels[10:20] == ["metric"] * 10
    assert levels[20:] == ["language"] * 10  # "hindi" is normalised to hi
    # A Devanagari-script newcomer gets the script-level calibration, not the raw score.
    deva = fitted.predict([2, 2], language="ne", metric="tq")
    assert np.all(deva < 2)


def test_a_regional_tag_is_served_by_its_language_before_its_script(ratings, fitted):
    j = _judge(ratings)
    j = j[j["language"] == "hi"].head(20).copy()
    out_hi = fitted.apply(j)
    j["language"] = "hi-IN"  # a region: Hindi's own group, not the Devanagari script's
    out = fitted.apply(j)
    assert (out["calibration_level"].astype(str) == "language").all()
    assert set(out["calibration_group"].astype(str)) <= {"la|hi|Deva", "tq|hi|Deva", "h|hi|Deva"}
    np.testing.assert_array_equal(out["score_calibrated"], out_hi["score_calibrated"])
    j["language"] = "ne-NP"  # a region of a language without a group: the script still serves
    assert (fitted.apply(j)["calibration_level"].astype(str) == "script").all()


def test_shrinkage_is_chosen_by_cross_validation(ratings):
    # Same judge behaviour in every language: pooling cannot hurt, so the chosen
    # pseudo-counts are large (language groups lean on their parents).
    same = synthetic_ratings(inflation={"hi": 0.5, "mr": 0.5, "ta": 0.5}, seed=3)
    flat = GroupedCalibrator(method="isotonic").fit(same)
    diff = GroupedCalibrator(method="isotonic").fit(ratings)
    k_flat = flat.metric_info_["tq"]["shrinkage"]
    k_diff = diff.metric_info_["tq"]["shrinkage"]
    w = lambda n, k: 0.0 if np.isinf(k) else n / (n + k)  # noqa: E731
    own_flat = w(120, k_flat["language"]) if np.isinf(k_flat["offset"]) else 1.0
    assert own_flat < 1.0 or k_flat["script"] > 0
    # Where languages differ, each language's own level is kept (its own curve or an offset).
    assert w(120, k_diff["language"]) > 0.5 or not np.isinf(k_diff["offset"])


def test_pooling_modes(ratings):
    none = GroupedCalibrator(method="isotonic", pooling="none").fit(ratings)
    full = GroupedCalibrator(method="isotonic", pooling="complete").fit(ratings)
    j = _judge(ratings)
    a, b = none.apply(j), full.apply(j)
    assert (a["calibration_weight"] == 1).all() and set(a["calibration_level"].astype(str)) == {"language"}
    # complete pooling: the language and script nodes get no weight, so the metric's calibrator serves
    assert (b["calibration_weight"] == 1).all() and set(b["calibration_level"].astype(str)) == {"metric"}
    # Complete pooling: one curve per metric, so the same judge score gets the same value everywhere.
    assert b.groupby(["metric", "score"])["score_calibrated"].nunique().max() == 1
    assert a.groupby(["metric", "score"])["score_calibrated"].nunique().max() > 1


def test_auto_records_why(fitted):
    for info in fitted.metric_info_.values():
        assert info["method"] in ("isotonic", "ordinal")
        assert info["selection"].startswith("auto:")
        assert min(info["cv_loss"], key=info["cv_loss"].get) == info["method"]


def test_ordinal_method_gives_probabilities(ratings):
    cal = GroupedCalibrator(method="ordinal").fit(ratings)
    p = cal.predict_proba([0, 1, 2], language="ta", metric="la")
    assert p.shape == (3, 3) and np.allclose(p.sum(1), 1)
    assert np.all(np.diff(p @ np.array([0, 1, 2])) > 0)
    out = cal.apply(_judge(ratings))
    la = out[out["metric"] == "la"]
    assert np.allclose(la[["prob_0", "prob_1", "prob_2"]].to_numpy() @ [0, 1, 2], la["score_calibrated"])
    iso = GroupedCalibrator(method="isotonic").fit(ratings)
    with pytest.raises(Exception, match="ordinal"):
        iso.predict_proba([0, 1], language="ta", metric="la")


def test_per_rater_target_and_weights(ratings):
    ex = build_examples(ratings)
    per_item = np.bincount(ex.rater_item, weights=ex.rater_weight)
    assert np.allclose(per_item, 1.0)  # every item weighs one, however many raters it had
    cal = GroupedCalibrator(method="isotonic", target="per_rater").fit(ratings)
    cons = GroupedCalibrator(method="isotonic", target="consensus").fit(ratings)
    j = _judge(ratings)
    a, b = cal.apply(j), cons.apply(j)
    ordinal_metrics = (j["metric"] != "h").to_numpy()
    # For least squares on la/tq the two targets coincide: per-rater rows at weight 1/n
    # average to the consensus mean. For h (nominal) consensus means the majority,
    # per-rater the share of raters who saw a hallucination: they differ.
    assert np.allclose(a["score_calibrated"][ordinal_metrics], b["score_calibrated"][ordinal_metrics], atol=1e-9)
    assert not np.allclose(a["score_calibrated"][~ordinal_metrics], b["score_calibrated"][~ordinal_metrics])


def test_majority_target_for_nominal_metric(ratings):
    ex = build_examples(ratings)
    h = ex.items[ex.items["metric"] == "h"]
    assert set(h["y"].unique()) <= {0.0, 1.0}
    la = ex.items[ex.items["metric"] == "la"]
    assert not set(la["y"].unique()) <= {0.0, 1.0, 2.0}  # means, not levels


def test_extra_features(ratings):
    df = ratings.copy()
    rng = np.random.default_rng(0)
    judge = df["rater_kind"] == "judge"
    p = rng.dirichlet([1, 1, 1], judge.sum())
    df.loc[judge, "score_probs"] = [
        json.dumps({"0": row[0], "1": row[1], "2": row[2]} if m != "h" else {"0": row[0], "1": 1 - row[0]})
        for row, m in zip(p, df.loc[judge, "metric"], strict=True)]
    df["response"] = df["item_id"].map(lambda s: "नमस्ते दुनिया " * (len(s) % 7 + 1))
    cal = GroupedCalibrator(method="ordinal", features=("score", "expected", "other_metrics", "length")).fit(df)
    design = cal.metric_info_["la"]["design"]
    assert design["numeric"] == ["judge_expected", "judge_h", "judge_tq", "response_length"]
    out = cal.apply(_judge(df))
    assert out["score_calibrated"].notna().all()
    with pytest.raises(InputError, match="score_probs"):
        cal.apply(_judge(df).drop(columns="score_probs"))


def test_text_length_counts_base_characters():
    # Hindi "नमस्ते" is 6 code points: 4 letters plus a virama and a vowel sign, which do not count.
    n = np.expm1(log_text_length(pd.Series(["नमस्ते", "abc", "日本語", "a b\u200dc"])))
    assert np.allclose(n, [4, 3, 3, 3])


def test_bad_input_is_explained(ratings, fitted):
    with pytest.raises(ConfigError, match="several judges"):
        two = pd.concat([ratings, _judge(ratings).assign(rater="other-judge")])
        GroupedCalibrator().fit(two)
    with pytest.raises(InputError, match="no human ratings"):
        GroupedCalibrator().fit(_judge(ratings))
    with pytest.raises(ConfigError, match="method"):
        GroupedCalibrator(method="platt").fit(ratings)
    twice = pd.concat([ratings, _judge(ratings).head(2)], ignore_index=True)
    with pytest.raises(InputError, match="more than once"):
        GroupedCalibrator().fit(twice, check_input=False)  # unchecked tables are still checked for this
    with pytest.raises(InputError, match="duplicate rating"):
        GroupedCalibrator().fit(twice)
    j = _judge(ratings)
    with pytest.raises(CalibratorMismatchError, match="fitted for judge 'test-judge'"):
        fitted.apply(j.assign(rater="gpt-other"))
    assert fitted.apply(j.assign(rater="gpt-other"), allow_mismatch=True)["score_calibrated"].notna().all()
    with pytest.raises(CalibratorMismatchError, match="not in this calibrator"):
        fitted.apply(j.assign(metric="pc"))
    with pytest.raises(InputError, match="off the la scale"):
        fitted.apply(j.assign(score=1.5))
    with pytest.raises(InputError, match="language"):
        fitted.apply(j.assign(language="no such language 42"))
    with pytest.raises(InputError, match="missing"):
        fitted.apply(j.drop(columns="score"))
    with pytest.raises(InputError, match="True/False"):
        fitted.apply(j.assign(score=j["score"] > 0))
    with pytest.raises(Exception, match="not fitted"):
        GroupedCalibrator().apply(j)


def test_one_judge_picked_from_a_table_of_several(ratings, fitted):
    # judge= chooses one judge's rows; the other judge's rows change nothing.
    # (It used to crash on pandas' read-only boolean arrays.)
    two = pd.concat([ratings, _judge(ratings).assign(rater="other-judge", score=0.0)], ignore_index=True)
    cal = GroupedCalibrator(judge="test-judge").fit(two)
    assert cal.judge_ == "test-judge"
    assert cal.training_["n_items"] == fitted.training_["n_items"]
    pd.testing.assert_frame_equal(cal.cv_quality_, fitted.cv_quality_)


def test_too_few_prompts_for_folds():
    small = synthetic_ratings(n_prompts=2, systems=2, languages=("hi",))
    with pytest.raises((InputError, ConfigError), match="fold"):
        GroupedCalibrator().fit(small)


def test_user_declared_scale_round_trips(tmp_path):
    from judgecal.calibration import load_calibrator
    from judgecal.data.metrics import MetricRegistry, MetricScale

    reg = MetricRegistry([MetricScale("flu", "fluency", (1, 2, 3, 4, 5))])
    rng = np.random.default_rng(5)
    rows = []
    for lang, script, shift in (("hi", "Deva", 1), ("ta", "Taml", 2)):
        for i in range(150):
            q = rng.uniform(1, 5)
            item = f"{lang}{i}"
            for r in range(3):
                rows.append((item, lang, script, "flu", f"w{r}", "human", float(np.clip(round(q + rng.normal(0, .6)), 1, 5)), f"p{lang}{i // 3}"))
            rows.append((item, lang, script, "flu", "j", "judge", float(np.clip(round(q + shift), 1, 5)), f"p{lang}{i // 3}"))
    df = pd.DataFrame(rows, columns=["item_id", "language", "script", "metric", "rater", "rater_kind", "score", "prompt_id"])
    cal = GroupedCalibrator(method="ordinal", metrics=reg).fit(df)
    path = cal.save(tmp_path / "flu.json")
    loaded = load_calibrator(path)
    out = loaded.apply(df[df["rater_kind"] == "judge"])
    assert out["score_calibrated"].between(1, 5).all()
    assert [c for c in out.columns if c.startswith("prob_")] == [f"prob_{k}" for k in range(1, 6)]
    assert set(out["score_set_low"].dropna()) <= {1, 2, 3, 4, 5}
    # The judge inflates ta by 2 levels: a judge 5 in ta means less than a judge 5 in hi.
    assert loaded.predict([5], language="ta", metric="flu")[0] < loaded.predict([5], language="hi", metric="flu")[0]


def test_training_hash_ignores_row_and_category_order(ratings):
    from judgecal.calibration.grouped import training_hash

    items = build_examples(ratings).items
    shuffled = items.sample(frac=1, random_state=0).copy()
    for col in ("item_id", "metric"):
        cat = shuffled[col].astype("category")
        shuffled[col] = cat.cat.reorder_categories(list(cat.cat.categories)[::-1])
    assert training_hash(shuffled) == training_hash(items)
    changed = items.copy()
    changed.loc[changed.index[0], "y"] = changed["y"].iloc[0] + 1
    assert training_hash(changed) != training_hash(items)

"""make_judge_ratings: shapes, determinism, and the judge's per-language inflation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from judgecal.data.schema import REQUIRED, normalize_ratings
from judgecal.data.scripts import detect_script, script_matches
from judgecal.data.validate import validate_ratings
from judgecal.datasets import make_judge_ratings
from judgecal.datasets.synthetic import DEFAULT_LANGUAGES, JUDGE_ID, default_inflation
from judgecal.errors import ConfigError

INFLATION = {"en": 0.0, "hi": 0.3, "ta": 0.6, "zh-Hant": 0.9, "sw": 1.2}


@pytest.fixture(scope="module")
def inflated():
    return make_judge_ratings(n_items=2000, languages=tuple(INFLATION), inflation=INFLATION, random_state=7)


@pytest.mark.parametrize(("n_items", "languages", "n_raters"), [(120, ("en", "hi", "ta", "zh-Hant"), 3), (37, ("pa",), 2), (10, DEFAULT_LANGUAGES, 4)])
def test_shapes(n_items, languages, n_raters):
    df = make_judge_ratings(n_items=n_items, languages=languages, n_raters=n_raters, random_state=1)
    assert len(df) == n_items * 3 * (n_raters + 1)  # 3 metrics x (raters + judge)
    assert df["item_id"].nunique() == n_items
    assert set(REQUIRED) <= set(df.columns)
    assert {"response", "prompt", "justification", "system", "prompt_id", "task"} <= set(df.columns)
    human = df[df["rater_kind"] == "human"]
    per_item = human.groupby(["item_id", "metric"])["rater"].nunique()
    assert (per_item == n_raters).all()
    assert (df[df["rater_kind"] == "judge"].groupby(["item_id", "metric"]).size() == 1).all()
    assert set(df.loc[df["rater_kind"] == "judge", "rater"]) == {JUDGE_ID}
    # each language has its own pool of n_raters + 2 raters
    pools = human.groupby("language")["rater"].unique()
    for lang, raters in pools.items():
        assert all(r.startswith(f"{lang}-rater-") for r in raters) and len(raters) <= n_raters + 2
    # it is a valid ratings table as it is
    pd.testing.assert_frame_equal(normalize_ratings(df).table, df)


def test_scores_on_scale_and_texts_in_the_languages_script():
    df = make_judge_ratings(n_items=100, random_state=3)
    assert set(df.loc[df["metric"] != "h", "score"]) <= {0.0, 1.0, 2.0}
    assert set(df.loc[df["metric"] == "h", "score"]) <= {0.0, 1.0}
    assert set(df["language"]) == set(DEFAULT_LANGUAGES)
    for (lang, script), part in df.groupby(["language", "script"]):
        for text in part["response"].unique()[:5]:
            guess = detect_script(text)
            assert guess.letters >= 20 and script_matches(script, guess.script), (lang, script, guess)
    report = validate_ratings(df)
    assert report.script_mismatches.empty
    assert not any("MIX-UP" in f for f in report.findings)


def test_same_random_state_same_table_and_different_state_differs():
    a = make_judge_ratings(n_items=80, random_state=11)
    b = make_judge_ratings(n_items=80, random_state=11)
    c = make_judge_ratings(n_items=80, random_state=12)
    pd.testing.assert_frame_equal(a, b)
    assert not a["score"].equals(c["score"])
    assert not a["response"].equals(c["response"])


def _judge_minus_human(df: pd.DataFrame, metric: str) -> pd.Series:
    """Per language: mean judge score minus mean human score, over the same items."""
    part = df[df["metric"] == metric]
    means = part.groupby(["language", "rater_kind"])["score"].mean().unstack()
    return means["judge"] - means["human"]


def test_inflation_recovered_in_order(inflated):
    order = list(INFLATION)
    for metric in ("la", "tq"):
        gap = _judge_minus_human(inflated, metric)[order]
        assert spearmanr(list(INFLATION.values()), gap.to_numpy()).statistic == pytest.approx(1.0), gap
        assert gap.is_monotonic_increasing
        assert abs(gap["en"]) < 0.1  # no inflation -> no gap
        assert gap["sw"] - gap["en"] > 0.4
    # hallucination: 1 = problem present, so an inflating judge reports fewer
    gap = _judge_minus_human(inflated, "h")[order]
    assert gap.is_monotonic_decreasing
    assert abs(gap["en"]) < 0.1 and gap["sw"] < -0.2


def test_top_grade_more_often_from_the_inflated_judge(inflated):
    la = inflated[(inflated["metric"] == "la") & (inflated["language"] == "sw")]
    top = la.groupby("rater_kind")["score"].apply(lambda s: (s == 2).mean())
    assert top["judge"] > top["human"] + 0.2


def test_return_truth(inflated):
    df, truth = make_judge_ratings(n_items=40, languages=("hi", "ta"), inflation={"hi": 0.5, "ta": 1}, return_truth=True)
    assert truth["inflation"] == {"hi": 0.5, "ta": 1.0}
    assert truth["system_offsets"] == {f"system-{k}": pytest.approx(0.3 * k) for k in range(4)}
    assert len(truth["latent"]) == 40 * 3
    assert set(truth["latent"]) == set(zip(df["item_id"], df["metric"], strict=True))


def test_language_names_accepted_and_default_inflation():
    df, truth = make_judge_ratings(n_items=30, languages=("hindi", "Punjabi", "en"), return_truth=True)
    assert set(df["language"]) == {"hi", "pa", "en"}
    assert truth["inflation"] == default_inflation(["hi", "pa", "en"])
    infl = default_inflation(list(DEFAULT_LANGUAGES))
    assert infl["en"] == 0.05
    others = [infl[lang] for lang in DEFAULT_LANGUAGES if lang != "en"]
    assert others == sorted(others) and min(others) >= 0.25


def test_too_few_prompts_is_a_config_error():
    with pytest.raises(ConfigError, match="distinct items"):
        make_judge_ratings(n_items=100, languages=("hi",), n_systems=2, prompts_per_language=10)
    df = make_judge_ratings(n_items=20, languages=("hi",), n_systems=2, prompts_per_language=10)
    assert df["item_id"].nunique() == 20 and df["prompt_id"].nunique() == 10


def test_custom_metrics_and_rater_counts():
    df = make_judge_ratings(n_items=12, languages=("ta",), metrics=("ocq", "pc"), n_raters=1)
    assert set(df["metric"]) == {"ocq", "pc"}
    assert len(df) == 12 * 2 * 2
    assert np.isin(df.loc[df["metric"] == "pc", "score"], [0.0, 1.0]).all()

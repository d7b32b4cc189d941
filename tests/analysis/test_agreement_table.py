"""agreement_table against independent computations, and its error paths."""

from __future__ import annotations

import krippendorff
import numpy as np
import pandas as pd
import pytest
from _synth_ratings import synthetic_ratings
from sklearn.metrics import cohen_kappa_score

from judgecal.analysis import agreement_table, item_table
from judgecal.data.metrics import DEFAULT_REGISTRY
from judgecal.errors import ConfigError, InputError


def test_table_shape_and_intervals(synthetic):
    t = agreement_table(synthetic, n_resamples=200)
    assert set(t["language"]) == {"hi", "ta"} and set(t["metric"]) == {"la", "tq", "h"}
    per_group = t.groupby(["language", "metric"]).size()
    assert (per_group == 8).all()  # 1 human-human + 1 judge+humans + 6 judge-consensus statistics
    ok = t["estimate"].notna()
    assert ok.all()
    assert ((t["ci_low"] <= t["estimate"] + 1e-9) & (t["estimate"] <= t["ci_high"] + 1e-9)).all()
    assert (t.loc[t["comparison"] == "human-human", "judge"] == "").all()


def test_alpha_matches_package_on_reliability_matrix():
    df = synthetic_ratings(150, languages=("hi",), seed=4)
    t = agreement_table(df, n_resamples=50)
    humans = df[df["rater_kind"] == "human"].pivot(index="rater", columns="item_id", values="score")
    expected = krippendorff.alpha(reliability_data=humans.to_numpy(float), value_domain=[0, 1, 2],
                                  level_of_measurement="ordinal")
    got = t[(t["comparison"] == "human-human") & (t["statistic"] == "alpha")]["estimate"].iloc[0]
    assert got == pytest.approx(expected)
    everyone = df.pivot(index="rater", columns="item_id", values="score")
    expected_j = krippendorff.alpha(reliability_data=everyone.to_numpy(float), value_domain=[0, 1, 2],
                                    level_of_measurement="ordinal")
    got_j = t[(t["comparison"] == "judge+humans") & (t["statistic"] == "alpha")]["estimate"].iloc[0]
    assert got_j == pytest.approx(expected_j)


def test_kappa_and_agreement_against_majority_vote_by_hand():
    df = synthetic_ratings(200, languages=("ta",), seed=5)
    humans = df[df["rater_kind"] == "human"].groupby("item_id")["score"].agg(list)

    def majority(scores):
        values, counts = np.unique(scores, return_counts=True)
        return values[counts == counts.max()].min()  # ties to the lower level (data.consensus's rule)

    cons = humans.map(majority)
    judge = df[df["rater_kind"] == "judge"].set_index("item_id")["score"].reindex(cons.index)
    t = agreement_table(df, n_resamples=50).set_index("statistic")
    jc = t[t["comparison"] == "judge-consensus"]
    assert jc.loc["kappa", "estimate"] == pytest.approx(cohen_kappa_score(cons, judge, weights="quadratic"))
    assert jc.loc["percent_agreement", "estimate"] == pytest.approx(np.mean(cons.to_numpy() == judge.to_numpy()))


def test_perfect_judge_and_level_shares():
    df = synthetic_ratings(120, languages=("hi",), n_raters=1, seed=6)
    human = df[df["rater_kind"] == "human"].set_index("item_id")["score"]
    judge_rows = df["rater_kind"] == "judge"
    df.loc[judge_rows, "score"] = df.loc[judge_rows, "item_id"].map(human).to_numpy()
    t = agreement_table(df, n_resamples=50).set_index("statistic")
    jc = t[t["comparison"] == "judge-consensus"]
    for stat in ("kappa", "percent_agreement", "weighted_f1", "spearman", "kendall", "alpha"):
        assert jc.loc[stat, "estimate"] == pytest.approx(1.0)
    # One human per item: no pairable units, so the human ceiling is undefined, not 0.
    assert np.isnan(t[t["comparison"] == "human-human"]["estimate"].iloc[0])
    assert jc.loc["kappa", "human_levels"] == jc.loc["kappa", "judge_levels"]


def test_two_judges_report_the_human_ceiling_once():
    df = synthetic_ratings(80, languages=("hi",), seed=7)
    second = df[df["rater_kind"] == "judge"].assign(rater="judge-y")
    t = agreement_table(pd.concat([df, second], ignore_index=True), n_resamples=30)
    assert (t["comparison"] == "human-human").sum() == 1
    assert set(t.loc[t["comparison"] != "human-human", "judge"]) == {"judge-x", "judge-y"}
    only = agreement_table(pd.concat([df, second], ignore_index=True), judge="judge-y", n_resamples=30)
    assert set(only.loc[only["comparison"] != "human-human", "judge"]) == {"judge-y"}


def test_by_task_and_nominal_metric():
    df = synthetic_ratings(100, languages=("hi",), seed=8)
    number = df["item_id"].str.split("-").str[1].astype(int)
    df.loc[number % 2 == 0, "task"] = "qa"
    t = agreement_table(df, by=("language", "task"), n_resamples=30)
    assert set(t["task"]) == {"qa", "open_prompt"}
    h = synthetic_ratings(100, languages=("hi",), metric="h", seed=9)
    h["score"] = (h["score"] >= 1).astype(float)
    th = agreement_table(h, n_resamples=30)
    assert th["estimate"].notna().any()


def test_error_paths(synthetic):
    with pytest.raises(ConfigError, match="judge"):
        agreement_table(synthetic, judge="nobody")
    with pytest.raises(ConfigError, match="group"):
        agreement_table(synthetic, by=("language", "country"))
    with pytest.raises(ConfigError, match="confidence"):
        agreement_table(synthetic, confidence=95)
    bad = synthetic_ratings(20, languages=("hi",))
    bad.loc[0, "score"] = 1.5  # a human score between levels
    with pytest.raises(InputError, match="off the tq scale"):
        item_table(bad, DEFAULT_REGISTRY.get("tq"))


def test_pariksha_tables_cover_every_language_and_show_inflation(pariksha_repaired):
    t = agreement_table(pariksha_repaired, n_resamples=100)
    cells = t[(t["comparison"] == "human-human") & (t["statistic"] == "alpha")]
    assert len(cells) == 30 and cells["estimate"].notna().all()
    tq = t[(t["metric"] == "tq") & (t["comparison"] == "judge-consensus") & (t["statistic"] == "kappa")]

    def top_share(text: str) -> float:
        return float(text.split()[-1].split(":")[1].rstrip("%"))

    inflated = sum(top_share(r.judge_levels) > top_share(r.human_levels) for r in tq.itertuples())
    assert inflated == 10  # the judge gives the top task-quality grade more often in every language

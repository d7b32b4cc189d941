"""Per-item consensus of human ratings on hand-made examples with known answers."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from judgecal.data.consensus import consensus
from judgecal.data.schema import normalize_ratings
from judgecal.errors import ConfigError

# item -> (metric, human scores); the judge also rates A and B
HUMAN = {
    "A": ("la", [0, 2, 2]),
    "B": ("la", [0, 1]),
    "C": ("la", [0, 0, 2, 2, 1]),
    "D": ("h", [1]),
    "E": ("tq", [1, 1, 1, 1]),
}


@pytest.fixture
def ratings() -> pd.DataFrame:
    rows = []
    for item, (metric, scores) in HUMAN.items():
        lang = "pa" if item == "E" else "hi"
        for k, s in enumerate(scores):
            rows.append((item, lang, metric, f"w{k}", "human", s))
    rows += [("A", "hi", "la", "gpt", "judge", 0), ("B", "hi", "la", "gpt", "judge", 2)]
    df = pd.DataFrame(rows, columns=["item_id", "language", "metric", "rater", "rater_kind", "score"])
    return normalize_ratings(df).table


def by_item(result: pd.DataFrame) -> dict[str, dict]:
    return result.set_index("item_id").to_dict(orient="index")


def test_mean(ratings):
    r = by_item(consensus(ratings, "mean"))
    assert r["A"]["consensus"] == pytest.approx(4 / 3)  # the judge's 0 is not counted
    assert r["B"]["consensus"] == 0.5
    assert r["C"]["consensus"] == 1.0
    assert r["D"]["consensus"] == 1.0
    assert r["E"]["consensus"] == 1.0
    assert not any(v["tied"] for v in r.values())


def test_median(ratings):
    r = by_item(consensus(ratings, "median"))
    assert [r[i]["consensus"] for i in "ABCDE"] == [2.0, 0.5, 1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    ("ties", "b", "c"),
    [("lower", 0.0, 0.0), ("higher", 1.0, 2.0), ("mean", 0.5, 1.0), ("nan", math.nan, math.nan)],
)
def test_majority_with_each_tie_rule(ratings, ties, b, c):
    r = by_item(consensus(ratings, "majority", ties=ties))
    assert r["A"]["consensus"] == 2.0 and not r["A"]["tied"]  # clear majority: tie rule irrelevant
    assert r["D"]["consensus"] == 1.0 and not r["D"]["tied"]
    assert r["E"]["consensus"] == 1.0
    for item, want in (("B", b), ("C", c)):
        got = r[item]["consensus"]
        assert (math.isnan(got) and math.isnan(want)) or got == want, (item, got, want)
        assert r[item]["tied"]


def test_counts_and_agreement(ratings):
    r = by_item(consensus(ratings, "majority"))
    assert {i: r[i]["n_raters"] for i in r} == {"A": 3, "B": 2, "C": 5, "D": 1, "E": 4}
    assert r["A"]["agreement"] == pytest.approx(2 / 3)
    assert r["B"]["agreement"] == 0.5
    assert r["C"]["agreement"] == pytest.approx(2 / 5)
    assert r["D"]["agreement"] == 1.0
    assert r["E"]["agreement"] == 1.0


def test_carries_language_and_script(ratings):
    out = consensus(ratings)
    assert list(out.columns) == ["item_id", "metric", "language", "script", "consensus", "n_raters", "agreement", "tied"]
    with_task = consensus(ratings.assign(task="qa", system="m1"))
    assert {"task", "system"} <= set(with_task.columns) and set(with_task["task"]) == {"qa"}
    r = by_item(out)
    assert (r["E"]["language"], r["E"]["script"]) == ("pa", "Guru")
    assert (r["A"]["language"], r["A"]["script"]) == ("hi", "Deva")


def test_all_raters_and_judge_only(ratings):
    everyone = by_item(consensus(ratings, "mean", rater_kind=None))
    assert everyone["A"]["consensus"] == 1.0  # (0 + 2 + 2 + 0) / 4
    assert everyone["A"]["n_raters"] == 4
    judge = by_item(consensus(ratings, "mean", rater_kind="judge"))
    assert set(judge) == {"A", "B"} and judge["B"]["consensus"] == 2.0


def test_two_metrics_of_one_item_stay_apart():
    df = pd.DataFrame(
        {"item_id": ["x"] * 4, "language": ["ta"] * 4, "metric": ["la", "la", "h", "h"],
         "rater": ["a", "b", "a", "b"], "rater_kind": ["human"] * 4, "score": [2, 2, 0, 1]}
    )
    out = consensus(normalize_ratings(df).table, "majority", ties="higher").set_index("metric")
    assert out.loc["la", "consensus"] == 2.0 and not out.loc["la", "tied"]
    assert out.loc["h", "consensus"] == 1.0 and out.loc["h", "tied"]


def test_grouping_by_item_only():
    df = pd.DataFrame(
        {"item_id": ["x"] * 3, "language": ["ta"] * 3, "metric": ["la", "tq", "la"],
         "rater": ["a", "a", "b"], "rater_kind": ["human"] * 3, "score": [2, 0, 1]}
    )
    out = consensus(normalize_ratings(df).table, "mean", by=("item_id",))
    assert len(out) == 1 and out["consensus"].iloc[0] == 1.0 and out["n_raters"].iloc[0] == 3


def test_no_rows_of_that_kind_gives_an_empty_frame(ratings):
    out = consensus(ratings[ratings["rater_kind"] == "judge"], "mean")
    assert out.empty and {"consensus", "n_raters", "agreement", "tied"} <= set(out.columns)


def test_bad_options(ratings):
    with pytest.raises(ConfigError, match="method"):
        consensus(ratings, "mode")
    with pytest.raises(ConfigError, match="ties"):
        consensus(ratings, "majority", ties="random")


def test_items_with_a_blank_grouping_column_are_kept():
    df = pd.DataFrame(
        {"item_id": ["a", "a", "b"], "language": ["hi"] * 3, "metric": ["la"] * 3, "rater": ["r1", "r2", "r1"],
         "rater_kind": ["human"] * 3, "score": [1, 2, 0], "task": [None, None, "qa"]}
    )
    table = normalize_ratings(df).table
    for method in ("mean", "median", "majority"):
        out = consensus(table, method, by=("item_id", "metric", "task"))
        assert sorted(out["item_id"]) == ["a", "b"], method
        a = out[out["item_id"] == "a"].iloc[0]
        assert a["n_raters"] == 2 and a["language"] == "hi"
    assert consensus(table, "mean", by=("item_id", "metric", "task")).set_index("item_id").loc["a", "consensus"] == 1.5


# --- properties on random tables ----------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def human_tables(draw) -> pd.DataFrame:
    rows = []
    for item in range(draw(st.integers(1, 6))):
        metric = draw(st.sampled_from(["la", "h"]))
        levels = [0, 1, 2] if metric == "la" else [0, 1]
        scores = draw(st.lists(st.sampled_from(levels), min_size=1, max_size=6))
        rows += [(f"i{item}", "ta", metric, f"w{k}", "human", s) for k, s in enumerate(scores)]
    return pd.DataFrame(rows, columns=["item_id", "language", "metric", "rater", "rater_kind", "score"])


@settings(max_examples=30, deadline=None)
@given(df=human_tables(), ties=st.sampled_from(["lower", "higher", "mean", "nan"]))
def test_consensus_properties(df, ties):
    table = normalize_ratings(df).table
    groups = {k: g["score"].to_numpy() for k, g in table.groupby(["item_id", "metric"])}
    for method in ("mean", "median", "majority"):
        out = consensus(table, method, ties=ties).set_index(["item_id", "metric"])
        assert set(out.index) == set(groups)  # one row per item and metric, none lost
        for key, scores in groups.items():
            row = out.loc[key]
            assert row["n_raters"] == len(scores)
            counts = pd.Series(scores).value_counts()
            assert row["agreement"] == pytest.approx(counts.max() / len(scores))
            modes = sorted(counts[counts == counts.max()].index)
            value = row["consensus"]
            if method == "mean":
                assert value == pytest.approx(scores.mean())
            elif method == "median":
                assert value == pytest.approx(float(pd.Series(scores).median()))
            else:
                assert row["tied"] == (len(modes) > 1)
                want = {"lower": modes[0], "higher": modes[-1], "mean": sum(modes) / len(modes),
                        "nan": modes[0] if len(modes) == 1 else math.nan}[ties]
                assert (math.isnan(value) and math.isnan(want)) or value == pytest.approx(want)


def test_majority_level_tie_rules_and_empty_rows():
    from judgecal.data.consensus import majority_level, nearest_level

    counts = [[1, 1, 1], [0, 2, 2], [3, 0, 0], [0, 0, 0]]
    levels = [0, 1, 2]
    assert majority_level(counts, levels).tolist()[:3] == [0, 1, 0]
    assert majority_level(counts, levels, "higher").tolist()[:3] == [2, 2, 0]
    assert majority_level(counts, levels, "mean").tolist()[:3] == [1, 1.5, 0]
    assert math.isnan(majority_level(counts, levels, "nan")[0]) and majority_level(counts, levels, "nan")[2] == 0
    assert all(math.isnan(majority_level(counts, levels, t)[3]) for t in ("lower", "higher", "mean", "nan"))
    assert nearest_level([0.5, 1.5, 1.6, float("nan")], levels).tolist() == [0, 1, 2, -1]
    with pytest.raises(ConfigError):
        majority_level(counts, levels, "random")


def test_one_majority_rule_on_pariksha(pariksha):
    # The analyses' consensus level and the calibrators' majority target are the
    # documented rule, consensus(method="majority"): they used to break ties
    # differently (nearest the mean in the analyses), 178 la/tq items apart.
    from judgecal.analysis.items import item_table, scales_for
    from judgecal.calibration._fit.examples import build_examples

    expected = consensus(pariksha, "majority").set_index(["item_id", "metric"])["consensus"]
    assert expected.index.is_unique
    for metric, scale in scales_for(pariksha).items():
        items = item_table(pariksha, scale).set_index("item_id")
        rule = expected.xs(metric, level="metric").reindex(items.index)
        pd.testing.assert_series_equal(items["human_level"], rule, check_names=False)
    ex = build_examples(pariksha).items
    major = ex.set_index(["item_id", "metric"])["y_major"]
    major.index = major.index.set_levels([lv.astype(str) for lv in major.index.levels])
    pd.testing.assert_series_equal(major, expected.reindex(major.index), check_names=False)

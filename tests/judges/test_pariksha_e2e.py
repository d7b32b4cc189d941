"""PARIKSHA's responses judged end to end through the fake provider; the judge
rows join cleanly with the native speakers' ratings."""

from __future__ import annotations

import pandas as pd

from judgecal.data.consensus import consensus
from judgecal.data.schema import normalize_ratings
from judgecal.judges import generations_from_ratings, score_generations

from .conftest import openai_url

PER_LANGUAGE = 6


def test_pariksha_end_to_end(fake, pariksha_path, tmp_path):
    from judgecal.datasets import load_pariksha

    human = load_pariksha(pariksha_path, repair=True, include=("human",))
    gens = generations_from_ratings(human)
    gens = gens.groupby("language", group_keys=False).head(PER_LANGUAGE).reset_index(drop=True)
    assert gens["language"].nunique() == 10  # every language and script of the release

    res = score_generations(gens, "openai/fake-judge", ["la", "tq", "h"], base_url=openai_url(fake),
                            cache=tmp_path / "c.sqlite", concurrency=32, progress=False)
    judge = res.ratings
    assert res.failures.empty and len(judge) == 3 * len(gens)

    # Join on item and metric: every judgment meets the humans who rated that response.
    joined = judge.merge(human, on=["item_id", "metric"], suffixes=("_judge", "_human"), validate="one_to_many")
    assert set(joined["item_id"]) == set(judge["item_id"])
    assert (joined["language_judge"] == joined["language_human"]).all()
    assert (joined["script_judge"] == joined["script_human"]).all()
    assert (joined["response_judge"] == joined["response_human"]).all()

    # One long table passes the ratings contract, and consensus runs on it.
    both = pd.concat([human[human["item_id"].isin(judge["item_id"])], judge], ignore_index=True)
    table = normalize_ratings(both).table
    assert set(table["rater_kind"]) == {"human", "judge"}
    cons = consensus(table[table["rater_kind"] == "human"])
    pairs = cons.merge(judge, on=["item_id", "metric"])
    assert len(pairs) == len(judge)

    # The scored table goes straight into calibration: one rubric hash per metric
    # (single-metric prompts), recorded in the calibrator and checked on apply.
    from judgecal.calibration import GroupedCalibrator, load_calibrator

    hashes = judge.groupby("metric")["judge_prompt_hash"].nunique()
    assert (hashes == 1).all() and judge["judge_prompt_hash"].nunique() == 3
    cal = GroupedCalibrator(method="isotonic", n_splits=3).fit(table)
    loaded = load_calibrator(cal.save(tmp_path / "cal.json"))
    assert loaded.judge_ == "openai/fake-judge"
    assert loaded.judge_prompt_hash_ == judge.groupby("metric")["judge_prompt_hash"].first().to_dict()
    assert loaded.apply(judge)["score_calibrated"].notna().all()

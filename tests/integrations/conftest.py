"""PARIKSHA judge rows, their human labels, and a calibrator fitted on PARIKSHA,
shared by the framework integration tests.

The calibrator records a judge prompt hash (the hash of the grading template the
inspect test's judge uses), so that prompt mismatches can be tested.
"""

from __future__ import annotations

import pandas as pd
import pytest

JUDGE = "pariksha-gpt-judge"  # PARIKSHA's judge rows carry this rater id
TEMPLATE = (
    "Rate the linguistic acceptability of the answer in its language from 0 (unacceptable) to 2 "
    "(fully acceptable).\n\n[Question]\n{question}\n\n[Answer]\n{answer}\n\n{instructions}"
)
INSTRUCTIONS = "Finish with the line SCORE: n, n being 0, 1 or 2."
LANGUAGES = ("hi", "ta", "bn")
PER_LANGUAGE = 8


@pytest.fixture(scope="session")
def prompt_hash() -> str:
    from judgecal.integrations._common import template_hash

    return template_hash(TEMPLATE)


@pytest.fixture(scope="session")
def calibrator_path(pariksha, prompt_hash, tmp_path_factory):
    """A calibrator fitted on all of PARIKSHA, judge rows stamped with the template's hash."""
    from judgecal.calibration import GroupedCalibrator

    ratings = pariksha.copy()
    ratings["judge_prompt_hash"] = pd.Series(pd.NA, index=ratings.index, dtype=object)
    ratings.loc[ratings["rater_kind"] == "judge", "judge_prompt_hash"] = prompt_hash
    path = tmp_path_factory.mktemp("integrations") / "calibrator.json"
    GroupedCalibrator().fit(ratings).save(path)
    return path


@pytest.fixture(scope="session")
def judged_items(pariksha) -> pd.DataFrame:
    """PER_LANGUAGE items of metric 'la' per language: the judge's score, the
    response and prompt, and the mean human score (on the first half only: the
    other half is the unlabelled pool of the prediction-powered estimate)."""
    la = pariksha[pariksha["metric"] == "la"]
    human = la[la["rater_kind"] == "human"].groupby("item_id")["score"].mean()
    judge = la[(la["rater_kind"] == "judge") & la["language"].isin(LANGUAGES) & la["item_id"].isin(human.index)]
    judge = judge.drop_duplicates("response").sort_values(["language", "item_id"])
    picked = judge.groupby("language", group_keys=False).head(PER_LANGUAGE).reset_index(drop=True)
    picked["human_mean"] = picked["item_id"].map(human)
    rank = picked.groupby("language").cumcount()
    picked.loc[rank >= PER_LANGUAGE // 2, "human_mean"] = float("nan")
    assert picked["human_mean"].notna().sum() == len(LANGUAGES) * PER_LANGUAGE // 2
    return picked

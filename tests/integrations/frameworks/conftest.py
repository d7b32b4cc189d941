"""Fixtures of the framework integration tests: a calibrator fitted on PARIKSHA
and a few of its judged items."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ..conftest import fit_stamped_calibrator
from .pariksha_judged import PROMPT_HASH


@pytest.fixture(scope="session")
def calibrator_file(pariksha, tmp_path_factory) -> Path:
    """A calibrator fitted on all of PARIKSHA, its judge rows stamped with PROMPT_HASH."""
    return fit_stamped_calibrator(pariksha, PROMPT_HASH, tmp_path_factory.mktemp("frameworks") / "calibrator.json")


@pytest.fixture(scope="session")
def judged_la(pariksha) -> pd.DataFrame:
    """3 judged items of metric 'la' in each of hi, ta, bn (distinct responses):
    item_id, language, prompt, response, score (PARIKSHA's judge)."""
    la = pariksha[(pariksha["metric"] == "la") & (pariksha["rater_kind"] == "judge")
                  & pariksha["language"].isin(["hi", "ta", "bn"])]
    la = la.drop_duplicates("response").sort_values(["language", "item_id"])
    picked = la.groupby("language", group_keys=False).head(3).reset_index(drop=True)
    assert len(picked) == 9 and picked["score"].nunique() > 1
    return picked[["item_id", "language", "prompt", "response", "score"]]

"""PARIKSHA items judged by PARIKSHA's judge and a calibrator fitted on PARIKSHA,
shared by the framework integration tests.

The items and the inspect task come from the documented example
docs/integrations/inspect_pariksha.py (so the docs' example is what is tested).
The calibrator records a judge prompt hash, that of the example's grading
template, so that prompt mismatches can be tested.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
JUDGE = "pariksha-gpt-judge"  # PARIKSHA's judge rows carry this rater id


@pytest.fixture(scope="session")
def example():
    """docs/integrations/inspect_pariksha.py as a module."""
    pytest.importorskip("inspect_ai", reason="inspect-ai is not installed: pip install 'judgecal[inspect]'")
    spec = importlib.util.spec_from_file_location("inspect_pariksha", REPO / "docs" / "integrations" / "inspect_pariksha.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.JUDGE == JUDGE
    return module


@pytest.fixture(scope="session")
def prompt_hash(example) -> str:
    from judgecal.integrations._common import template_hash

    return template_hash(example.TEMPLATE)


@pytest.fixture(scope="session")
def calibrator_path(pariksha, prompt_hash, tmp_path_factory):
    """A calibrator fitted on all of PARIKSHA, judge rows stamped with the template's hash."""
    return fit_stamped_calibrator(pariksha, prompt_hash, tmp_path_factory.mktemp("integrations") / "calibrator.json")


def fit_stamped_calibrator(ratings: pd.DataFrame, prompt_hash: str, path: Path) -> Path:
    """A calibrator fitted on ``ratings`` whose judge rows carry ``prompt_hash``, saved to ``path``
    (so that scores from another judge prompt can be refused)."""
    from judgecal.calibration import GroupedCalibrator

    ratings = ratings.copy()
    ratings["judge_prompt_hash"] = pd.Series(pd.NA, index=ratings.index, dtype=object)
    ratings.loc[ratings["rater_kind"] == "judge", "judge_prompt_hash"] = prompt_hash
    GroupedCalibrator().fit(ratings).save(path)
    return path


@pytest.fixture(scope="session")
def judged_items(pariksha, example) -> pd.DataFrame:
    """8 items of metric 'la' in each of hi, ta, bn; native mean on half of them."""
    items = example.pariksha_items(pariksha, ("hi", "ta", "bn"), 8)
    assert len(items) == 24 and items["human_mean"].notna().sum() == 12
    return items

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from synth import synthetic_ratings  # noqa: E402


@pytest.fixture(scope="session")
def ratings():
    """Three languages (two share Devanagari), known judge inflation per language."""
    return synthetic_ratings(inflation={"hi": 0.2, "mr": 0.5, "ta": 0.8})


@pytest.fixture(scope="session")
def fitted(ratings):
    from judgecal.calibration import GroupedCalibrator

    return GroupedCalibrator().fit(ratings)


@pytest.fixture(scope="session")
def saved(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("cal") / "calibrator.json"
    fitted.save(path)
    return path

"""Shared test fixtures.

PARIKSHA is read from ../shared/data/pariksha (beside the checkout), or from the
path in JUDGECAL_PARIKSHA; it is never copied into the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

REPO = Path(__file__).resolve().parents[1]


def pariksha_dir() -> Path | None:
    env = os.environ.get("JUDGECAL_PARIKSHA")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data" / "pariksha")
    for c in candidates:
        if (c / "karya_eval").is_dir() and (c / "gpt_eval").is_dir():
            return c
    return None


@pytest.fixture(scope="session")
def pariksha_path() -> Path:
    path = pariksha_dir()
    if path is None:
        pytest.skip("PARIKSHA data not found beside the checkout (../shared/data/pariksha)")
    return path


@pytest.fixture(scope="session")
def pariksha(pariksha_path):
    """The PARIKSHA release as a ratings table (human and judge rows)."""
    from judgecal.datasets import load_pariksha

    return load_pariksha(pariksha_path)

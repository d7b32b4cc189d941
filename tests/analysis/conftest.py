from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def synthetic():
    """Human and judge ratings with a known per-language inflation (the lead's generator)."""
    from judgecal.datasets import make_judge_ratings

    return make_judge_ratings(n_items=400, languages=("hi", "ta"), n_systems=4, random_state=3)


@pytest.fixture(scope="session")
def pariksha_repaired(pariksha_path):
    from judgecal.datasets import load_pariksha

    return load_pariksha(pariksha_path, repair=True)

"""Fixtures for judge tests: the fake provider on 127.0.0.1 and small generations."""

from __future__ import annotations

import pandas as pd
import pytest

from .fake_provider import FakeProvider

FAKE_OPENAI_KEY = "sk-test-SECRET-openai-0123456789"
FAKE_ANTHROPIC_KEY = "sk-ant-test-SECRET-0123456789"


@pytest.fixture(autouse=True)
def provider_keys(monkeypatch):
    """Recognisable fake keys, so tests can check they never reach files."""
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_OPENAI_KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_ANTHROPIC_KEY)
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture
def fake():
    with FakeProvider() as server:
        yield server


def openai_url(server: FakeProvider) -> str:
    return server.base_url + "/v1"


@pytest.fixture
def gens() -> pd.DataFrame:
    n = 6
    return pd.DataFrame({
        "item_id": [f"item-{i}" for i in range(n)],
        "language": ["hi", "hi", "ta", "ta", "bn", "pa"],
        "task": "qa",
        "prompt": ["भारत की राजधानी क्या है?", "पानी कैसे बचाएं?", "சென்னை எங்கே உள்ளது?",
                   "தேநீர் எப்படி செய்வது?", "কলকাতা কোথায়?", "ਪੰਜਾਬ ਦੀ ਰਾਜਧਾਨੀ ਕੀ ਹੈ?"],
        "response": ["भारत की राजधानी नई दिल्ली है।", "नल बंद रखें और बारिश का पानी जमा करें।",
                     "சென்னை தமிழ்நாட்டில் உள்ளது.", "தண்ணீர், தேயிலை, பால், சர்க்கரை.",
                     "কলকাতা পশ্চিমবঙ্গে।", "ਚੰਡੀਗੜ੍ਹ।"],
        "system": ["m1", "m2", "m1", "m2", "m1", "m2"],
    })

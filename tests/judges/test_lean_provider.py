"""The lean provider (benchmarks' stand-in for the fake provider's happy path)
gives the real openai SDK, through ``score_generations``, the same judgments as
the full fake provider: benchmarks against it measure the same client work."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pandas as pd
import pytest

from judgecal.judges import score_generations

from .conftest import openai_url
from .lean_provider import LeanProvider

COMPARED = ["item_id", "metric", "score", "justification", "score_probs", "expected_score", "tokens_in",
            "tokens_out", "cost_usd", "judge_prompt_hash"]


def test_lean_provider_gives_the_same_judgments_as_the_full_fake(fake, gens, tmp_path):
    metrics = ["la", "ocq", "h"]
    kw = {"progress": False, "prices": (0.15, 0.60), "concurrency": 8}
    full = score_generations(gens, "openai/fake-judge", metrics, base_url=openai_url(fake),
                             cache=tmp_path / "full.sqlite", **kw)
    with LeanProvider() as lean:
        res = score_generations(gens, "openai/fake-judge", metrics, base_url=lean.base_url + "/v1",
                                cache=tmp_path / "lean.sqlite", **kw)
        lean_requests = lean.stats.requests
    n = len(gens) * len(metrics)
    assert lean_requests == n == fake.stats()["requests"]  # every judgment came over HTTP from each server
    assert res.summary.failures == 0 and len(res.ratings) == n
    assert res.ratings["score_probs"].notna().all()  # logprobs made it through the lean path too
    key = ["item_id", "metric"]
    got = res.ratings[COMPARED].sort_values(key).reset_index(drop=True)
    want = full.ratings[COMPARED].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want)


def test_lean_provider_rejects_what_it_does_not_serve():
    with LeanProvider() as lean:
        for path, data, status in [("/v1/messages", b"{}", 404), ("/v1/chat/completions", b"not json", 400)]:
            req = urllib.request.Request(lean.base_url + path, data=data, method="POST")
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(req)
            assert err.value.code == status
            assert "lean provider" in json.loads(err.value.read())["error"]["message"]
        assert lean.stats.requests == 0

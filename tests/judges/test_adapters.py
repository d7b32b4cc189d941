"""The real openai, anthropic and litellm clients over HTTP against the fake provider."""

from __future__ import annotations

import asyncio
import json

import pytest

from judgecal._lazy import require
from judgecal.data.schema import normalize_ratings
from judgecal.errors import ConfigError, MissingDependencyError
from judgecal.judges import CompletionRequest, make_adapter, parse_judge, score_generations
from judgecal.judges.base import parse_retry_after
from judgecal.judges.litellm_adapter import import_litellm

from .conftest import FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, openai_url

SCHEMA = {"type": "object", "properties": {"justification": {"type": "string"},
                                           "score": {"type": "integer", "enum": [0, 1, 2]},
                                           "addresses_evaluator": {"type": "boolean"}},
          "required": ["justification", "score", "addresses_evaluator"], "additionalProperties": False}


def _complete(judge, url, **kw):
    adapter = make_adapter(judge, base_url=url)

    async def go():
        try:
            return await adapter.complete(CompletionRequest("sys", "judge this FAKE_SCORE=2", schema=SCHEMA, **kw))
        finally:
            await adapter.aclose()

    return asyncio.run(go())


def test_openai_sdk_returns_text_tokens_and_logprobs(fake):
    c = _complete("openai/fake-judge", openai_url(fake), logprobs=True, top_logprobs=5)
    assert json.loads(c.text)["score"] == 2
    assert c.input_tokens > 0 and c.output_tokens > 0
    assert c.logprobs and any(tok == "2" and c.text[off] == "2" for off, tok, _, _ in c.logprobs)
    assert c.response_id.startswith("fake-")
    # the SDK really sent the structured-output request over HTTP
    assert fake.stats()["requests"] == 1


def test_anthropic_sdk_forced_tool_use_without_logprobs(fake):
    c = _complete("anthropic/fake-claude", fake.base_url)
    assert json.loads(c.text)["score"] == 2
    assert c.logprobs is None
    assert c.finish_reason == "tool_use"


@pytest.mark.parametrize("route", ["openai", "anthropic"])
def test_litellm_routes(fake, route):
    url = openai_url(fake) if route == "openai" else fake.base_url
    c = _complete(f"litellm/{route}/fake-model", url, logprobs=route == "openai")
    assert json.loads(c.text)["score"] == 2
    if route == "openai":
        assert c.logprobs


@pytest.mark.parametrize("judge", ["openai/fake-judge", "anthropic/fake-claude", "litellm/openai/fake-judge"])
def test_score_generations_each_provider(fake, gens, tmp_path, judge):
    url = fake.base_url if judge.startswith("anthropic") else openai_url(fake)
    res = score_generations(gens, judge, ["la", "h"], base_url=url, cache=tmp_path / "c.sqlite", progress=False)
    r = res.ratings
    assert len(r) == 2 * len(gens) and res.failures.empty
    assert set(r["rater"]) == {judge} and set(r["rater_kind"]) == {"judge"}
    checked = normalize_ratings(r).table  # the ratings-table contract holds
    assert len(checked) == len(r)
    assert r["judge_prompt_hash"].str.fullmatch(r"[0-9a-f]{16}").all()
    if judge.startswith("anthropic"):
        assert r["score_probs"].isna().all()
        assert r["score_probs_note"].str.contains("anthropic returns no logprobs").all()
        assert r["expected_score"].isna().all()
    else:
        probs = r["score_probs"].map(json.loads)
        assert probs.map(lambda d: abs(sum(d.values()) - 1) < 1e-6).all()
        # the stated score is the most probable level in the fake's distribution
        assert (probs.map(lambda d: float(max(d, key=d.get))) == r["score"]).all()


def test_keys_never_reach_cache_or_output(fake, gens, tmp_path):
    cache = tmp_path / "c.sqlite"
    out = tmp_path / "out.jsonl"
    res = score_generations(gens, "openai/fake-judge", ["la"], base_url=openai_url(fake), cache=cache, progress=False)
    res.ratings.to_json(out, orient="records", lines=True)
    score_generations(gens, "anthropic/fake-claude", ["la"], base_url=fake.base_url, cache=cache, progress=False)
    for path in tmp_path.iterdir():
        data = path.read_bytes()
        assert FAKE_OPENAI_KEY.encode() not in data and FAKE_ANTHROPIC_KEY.encode() not in data, path


def test_missing_key_without_base_url(monkeypatch, gens, tmp_path):
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        score_generations(gens, "openai/gpt-4o-mini", ["la"], cache=tmp_path / "c.sqlite", progress=False)


def test_bad_judge_names():
    for name in ["gpt-4o", "mistral/large", "openai/"]:
        with pytest.raises(ConfigError, match="provider"):
            parse_judge(name)


def test_missing_sdk_gives_install_hint():
    with pytest.raises(MissingDependencyError, match=r"pip install 'judgecal\[nope\]'"):
        require("judgecal_no_such_sdk", "nope", "testing")


def test_retry_after_forms():
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # in the past
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after(None) is None


def test_prices_known_unknown_and_from_litellm():
    from judgecal.judges.costs import cost, lookup_prices

    assert lookup_prices("gpt-4o-mini") == (0.15, 0.60)
    assert lookup_prices("no-such-model-xyz") is None
    assert cost(None, 10, 10) != cost(None, 10, 10)  # NaN: unknown, never a silent zero
    import_litellm()
    in_price, _ = lookup_prices("gemini/gemini-embedding-001")  # from LiteLLM's local price map
    assert in_price == pytest.approx(0.15)

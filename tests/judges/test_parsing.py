"""Score extraction: strict, tolerant, and never a guessed score."""

from __future__ import annotations

import math

import pytest

from judgecal.data.metrics import BUILTIN_METRICS
from judgecal.errors import ScoreParseError
from judgecal.judges.parsing import expected_score, parse_judgment, score_distribution

LA, H = BUILTIN_METRICS["la"], BUILTIN_METRICS["h"]


def test_strict():
    p = parse_judgment('{"justification": "fine", "score": 2, "addresses_evaluator": false}', [LA])
    assert p.method == "strict" and p.metrics["la"].score == 2.0 and p.metrics["la"].justification == "fine"
    assert p.addresses_evaluator is False


@pytest.mark.parametrize("raw,score", [
    ('```json\n{"justification": "ok", "score": 1}\n```', 1.0),
    ('Here is my verdict: {"justification": "ok", "score": "2"} hope it helps', 2.0),
    ('justification: it is fluent. "score": 0', 0.0),
])
def test_tolerant(raw, score):
    p = parse_judgment(raw, [LA])
    assert p.method == "tolerant" and p.metrics["la"].score == score


@pytest.mark.parametrize("raw,match", [
    ("", "empty"),
    (None, "empty"),
    ("I think it's great!", "no score"),
    ('{"justification": "x", "score": 5}', "not one of the levels"),
    ('{"justification": "x", "score": 1.5}', "not one of the levels"),
    ('{"justification": "x", "score": "two"}', "not a number"),
    ('{"justification": "x", "score": true}', "not a number"),
    ('score: 1 ... actually score: 2', "conflicting"),
    ('{"justification": "x"}', "no score"),
])
def test_no_guessing(raw, match):
    with pytest.raises(ScoreParseError, match=match) as info:
        parse_judgment(raw, [LA])
    assert info.value.raw == raw


def test_compound():
    raw = ('{"la": {"justification": "a", "score": 2}, "h": {"justification": "b", "score": 1}, '
           '"addresses_evaluator": true}')
    p = parse_judgment(raw, [LA, H], compound=True)
    assert p.metrics["la"].score == 2 and p.metrics["h"].score == 1 and p.addresses_evaluator
    assert raw[p.metrics["la"].offset] == "2" and raw[p.metrics["h"].offset] == "1"
    with pytest.raises(ScoreParseError, match="h: the answer has no score"):
        parse_judgment('{"la": {"justification": "a", "score": 2}}', [LA, H], compound=True)


def test_distribution_from_logprobs():
    raw = '{"justification": "x", "score": 2}'
    p = parse_judgment(raw, [LA])
    off = p.metrics["la"].offset
    alts = [["2", math.log(0.5)], ["1", math.log(0.3)], [" 0", math.log(0.1)], ["x", math.log(0.1)]]
    probs, note = score_distribution([[off, "2", math.log(0.5), alts]], off, LA)
    assert probs == pytest.approx({"0": 1 / 9, "1": 3 / 9, "2": 5 / 9})
    assert "mass on levels 0.900" in note
    assert expected_score(probs) == pytest.approx((3 + 10) / 9)


def test_openai_logprobs_keep_number_tokens_with_offsets():
    from judgecal.judges.openai_adapter import logprobs_from_openai

    tokens = ['{"', "score", '":', " ", "2", "}"]
    choice = {"logprobs": {"content": [
        {"token": t, "logprob": -0.1, "top_logprobs": [{"token": t, "logprob": -0.1}]} for t in tokens]}}
    kept = logprobs_from_openai(choice)
    assert kept == [[len("".join(tokens[:4])), "2", -0.1, [["2", -0.1]]]]
    assert logprobs_from_openai({"logprobs": None}) is None


def test_distribution_unavailable_is_said():
    assert score_distribution(None, 3, LA) == (None, "unavailable: the provider returned no logprobs")
    assert score_distribution([[0, "1", 0.0, []]], None, LA)[1].startswith("unavailable: the score's position")
    raw = '{"score": 12}'
    probs, note = score_distribution([[raw.index("12"), "12", -0.1, []]], raw.index("12"), LA)
    assert probs is None and "is not a level" in note
    probs, note = score_distribution([], 3, LA)
    assert probs is None and "token of its own" in note
    assert math.isnan(expected_score(None))

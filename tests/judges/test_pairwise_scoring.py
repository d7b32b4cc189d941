"""Judging battles through the real openai, anthropic and litellm clients against
the fake provider (which prefers the longer response): both orders, verdicts
about what was shown, the combined verdict rule, logprob distributions, the
cache, faults and unparseable answers."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from judgecal.data.battles import normalize_battles
from judgecal.judges.pairwise import score_battles

from .conftest import openai_url

LONG, SHORT = "दिल्ली भारत की राजधानी है और एक बड़ा शहर है।", "दिल्ली।"


def _pairs() -> pd.DataFrame:
    """p-long1: response_1 longer; p-long2: response_2 longer; p-equal: same length;
    p-pos: a position-biased judge; p-tie1: a tie when response_1 is shown first."""
    rows = [("p-long1", LONG, SHORT, "प्रश्न एक?"), ("p-long2", SHORT, LONG, "प्रश्न दो?"),
            ("p-equal", "नमस्ते दोस्त", "नमस्ते मित्र", "प्रश्न तीन?"),
            ("p-pos", LONG, SHORT, "प्रश्न FAKE_POSITIONAL?"),
            ("p-tie1", "यह उत्तर छोटा है लेकिन इसमें कुछ और शब्द भी लिखे गए हैं FAKE_TIE_WHEN_FIRST", LONG * 3,
             "प्रश्न पाँच?")]
    return pd.DataFrame({"pair_id": [r[0] for r in rows], "language": "hi", "task": "qa",
                         "prompt": [r[3] for r in rows], "response_1": [r[1] for r in rows],
                         "response_2": [r[2] for r in rows], "system_1": "sys-a", "system_2": "sys-b"})


def _url(fake, judge: str) -> str:
    return fake.base_url if judge.startswith("anthropic") else openai_url(fake)


def _score(fake, tmp_path, judge="openai/fake-judge", pairs=None, **kw):
    kw.setdefault("retry_base", 0.01)
    return score_battles(_pairs() if pairs is None else pairs, judge, base_url=_url(fake, judge),
                         cache=kw.pop("cache", tmp_path / "c.sqlite"), progress=False, **kw)


@pytest.mark.parametrize("judge", ["openai/fake-judge", "anthropic/fake-claude", "litellm/openai/fake-judge"])
def test_both_orders_judged_and_combined(fake, tmp_path, judge):
    res = _score(fake, tmp_path, judge)
    b = res.battles
    assert len(b) == 2 * len(_pairs()) and res.failures.empty
    assert sorted(b.groupby("pair_id")["shown"].apply(sorted).map(tuple).unique()) == [("12", "21")]
    seen = b.set_index(["pair_id", "shown"])["verdict"]
    # Verdicts are about the order SHOWN: the longer response wins in both orders.
    assert seen["p-long1", "12"] == "first" and seen["p-long1", "21"] == "second"
    assert seen["p-long2", "12"] == "second" and seen["p-long2", "21"] == "first"
    assert seen["p-equal", "12"] == seen["p-equal", "21"] == "tie"
    assert seen["p-pos", "12"] == seen["p-pos", "21"] == "first"
    assert seen["p-tie1", "12"] == "tie" and seen["p-tie1", "21"] == "first"
    # The combined rule: agree -> that verdict; contradict -> tie; tie + decisive -> the decisive side.
    pairs = res.pairs.set_index("pair_id")
    assert pairs.loc["p-long1", ["outcome_12", "outcome_21", "outcome"]].tolist() == [0, 0, 0]
    assert pairs.loc["p-long2", "outcome"] == 2 and pairs.loc["p-equal", "outcome"] == 1
    assert pairs.loc["p-pos", ["outcome_12", "outcome_21", "outcome"]].tolist() == [0, 2, 1]
    assert bool(pairs.loc["p-pos", "flipped"]) and not bool(pairs.loc["p-long1", "flipped"])
    assert pairs.loc["p-tie1", ["outcome_12", "outcome_21", "outcome"]].tolist() == [1, 2, 2]
    # The output is a battles table by the contract, rater = the judge.
    assert len(normalize_battles(b, check_texts=False).table) == len(b)
    assert set(b["rater"]) == {judge} and set(b["rater_kind"]) == {"judge"}
    assert b["judge_prompt_hash"].str.fullmatch(r"[0-9a-f]{16}").all() and b["judge_prompt_hash"].nunique() == 1
    s = res.summary
    assert (s.items, s.metrics, s.judgments, s.unscored) == (5, ["12", "21"], 10, 0)
    if judge.startswith("anthropic"):
        assert b["verdict_probs"].isna().all()
        assert b["verdict_probs_note"].str.contains("anthropic returns no logprobs").all()
    else:
        probs = b["verdict_probs"].map(json.loads)
        assert probs.map(lambda d: abs(sum(d.values()) - 1) < 1e-6 and set(d) == {"first", "tie", "second"}).all()
        # the stated verdict is the most probable one; the fake puts 0.6 on it and 0.18 on each other
        assert (probs.map(lambda d: max(d, key=d.get)) == b["verdict"]).all()
        assert probs.map(lambda d: round(max(d.values()), 3)).eq(0.625).all()
        assert res.pairs["has_probs"].all()


def test_no_swap_judges_the_canonical_order_only(fake, tmp_path):
    res = _score(fake, tmp_path, swap=False)
    assert len(res.battles) == len(_pairs()) and set(res.battles["shown"]) == {"12"}
    assert (res.pairs["n_orders"] == 1).all() and (res.pairs["outcome_21"] == -1).all()
    assert res.summary.metrics == ["12"] and sum(fake.stats()["received"].values()) == len(_pairs())


def test_rerun_comes_from_the_cache_and_orders_are_distinct_requests(fake, tmp_path):
    first = _score(fake, tmp_path)
    received = fake.stats()["received"]
    assert len(received) == 10 and set(received.values()) == {1}  # each order once, the two orders differ
    again = _score(fake, tmp_path)
    assert fake.stats()["received"] == received  # nothing sent again
    assert again.summary.cache_hits == again.summary.requests == 10 and again.summary.http_requests == 0
    assert again.battles["cached"].all()
    cols = ["pair_id", "shown", "verdict", "verdict_probs"]
    pd.testing.assert_frame_equal(first.battles[cols], again.battles[cols])
    # Another template variant is another prompt: not answered from the cache.
    _score(fake, tmp_path, variant="simple")
    assert sum(fake.stats()["received"].values()) == 20


@pytest.mark.parametrize("judge", ["openai/fake-judge", "anthropic/fake-claude"])
def test_429_and_500_end_in_the_same_verdicts(fake, tmp_path, judge):
    clean = _score(fake, tmp_path / "ref", judge).battles
    fake.reset()
    fake.configure(rules=[{"fault": "429", "times": 1, "retry_after": 0.2}, {"fault": "500", "times": 2}])
    res = _score(fake, tmp_path, judge, concurrency=4)
    assert res.failures.empty and res.summary.rate_limited == 10 and res.summary.retries >= 10
    key = ["pair_id", "shown", "verdict"]
    pd.testing.assert_frame_equal(res.battles[key], clean[key])


@pytest.mark.parametrize("fault", ["garbage", "truncated", "refuse"])
def test_unusable_answers_are_failures_never_verdicts(fake, tmp_path, fault):
    fake.configure(rules=[{"fault": fault, "contains": "FAKE_POSITIONAL"}])
    res = _score(fake, tmp_path)
    assert "p-pos" not in set(res.battles["pair_id"]) and len(res.battles) == 8
    f = res.failures
    assert len(f) == 2 and set(f["pair_id"]) == {"p-pos"} and set(f["shown"]) == {"12", "21"}
    assert set(f["kind"]) == {"refused" if fault == "refuse" else "unparseable"} and f["final"].all()
    assert f["raw_text"].str.len().gt(0).all()  # the raw answer is kept
    assert res.summary.unscored == 2 and "p-pos" not in set(res.pairs["pair_id"])


def test_reask_after_garbage_gives_the_verdict_and_keeps_the_failure(fake, tmp_path):
    fake.configure(rules=[{"fault": "garbage", "contains": "FAKE_POSITIONAL", "times": 1}])
    res = _score(fake, tmp_path, retry_unparseable=1)
    assert len(res.battles) == 10
    f = res.failures
    assert len(f) == 2 and not f["final"].any() and set(f["attempt"]) == {0}


def test_one_order_failed_leaves_a_one_order_pair(fake, tmp_path):
    # Only the order that shows p-tie1's response_1 first has its marker right before that fence's end.
    fake.configure(rules=[{"fault": "garbage", "contains": "FAKE_TIE_WHEN_FIRST\\n<<<END FIRST"}])
    res = _score(fake, tmp_path)
    f = res.failures
    assert f[["pair_id", "shown", "kind"]].values.tolist() == [["p-tie1", "12", "unparseable"]]
    pair = res.pairs.set_index("pair_id").loc["p-tie1"]
    assert (pair["n_orders"], pair["outcome_12"], pair["outcome_21"], pair["outcome"]) == (1, -1, 2, 2)
    assert res.summary.unscored == 1 and len(res.battles) == 9


def test_provider_errors_after_the_last_attempt_are_failures(fake, tmp_path):
    fake.configure(rules=[{"fault": "500", "contains": "FAKE_TIE_WHEN_FIRST"}])
    res = _score(fake, tmp_path, max_attempts=2, pairs=_pairs().iloc[[4]])
    assert res.battles.empty and res.pairs.empty
    assert len(res.failures) == 2 and set(res.failures["kind"]) == {"provider_error"}
    assert res.failures["message"].str.contains("500").all() and res.summary.failed_requests == 2


def test_pairs_with_identical_responses_share_one_request(fake, tmp_path):
    same = pd.DataFrame({"pair_id": ["x"], "language": "hi", "task": "qa", "prompt": "प्रश्न?",
                         "response_1": "वही उत्तर", "response_2": "वही उत्तर"})
    res = _score(fake, tmp_path, pairs=same)
    assert list(res.battles["verdict"]) == ["tie", "tie"] and sum(fake.stats()["received"].values()) == 1


def test_helper_processes_send_battles_too(fake, tmp_path):
    clean = _score(fake, tmp_path / "ref").battles
    fake.reset()
    fake.configure(latency=0.05)
    res = _score(fake, tmp_path, workers=2, concurrency=2)
    key = ["pair_id", "shown", "verdict", "verdict_probs"]
    pd.testing.assert_frame_equal(res.battles[key], clean[key])
    # Whether the helper is up before the ten calls are done depends on the machine's load.
    assert sum(res.summary.answers_by_process.values()) == 10 and set(res.summary.answers_by_process) <= {
        "main", "worker-1"}


def test_rpm_limit_paces_battles_below_the_providers_limit(fake, tmp_path):
    rpm = 300.0  # 5 requests a second, 10 requests (5 pairs x 2 orders)
    fake.configure(rpm=rpm)  # the fake holds one second's worth
    res = _score(fake, tmp_path, rpm=rpm, concurrency=16)
    st = fake.stats()
    assert len(res.battles) == 10 and st["status"].get("429", 0) == 0
    times = sorted(t for t, _, o in st["events"] if o == "200")
    # Paced, not sent at once (a rate check, not a speed check; the limiter makes up
    # for late wake-ups of up to half an interval, so the bound is half the ideal span).
    assert times[-1] - times[0] >= 9 * 60.0 / rpm * 0.5


def test_unstructured_answers_are_read_the_same_way(fake, tmp_path):
    structured = _score(fake, tmp_path / "s").battles
    plain = _score(fake, tmp_path, structured=False).battles
    assert fake.stats()["requests"] == 20  # no schema is another request
    assert plain["verdict"].tolist() == structured["verdict"].tolist() and set(plain["parse_method"]) == {"strict"}

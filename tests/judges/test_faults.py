"""Fault handling: 429 storms, 500s, dropped connections, bad bodies, garbage and refusals."""

from __future__ import annotations

import pytest

from judgecal.judges import score_generations
from judgecal.judges.engine import FatalProviderError

from .conftest import openai_url


def _score(fake, gens, tmp_path, judge="openai/fake-judge", **kw):
    url = fake.base_url if judge.startswith("anthropic") else openai_url(fake)
    kw.setdefault("retry_base", 0.01)
    return score_generations(gens, judge, kw.pop("metrics", ["la", "h"]), base_url=url,
                             cache=tmp_path / "c.sqlite", progress=False, **kw)


def _clean(fake, gens, tmp_path, judge="openai/fake-judge"):
    ref = _score(fake, gens, tmp_path / "ref", judge)
    fake.reset()
    return ref.ratings.set_index(["item_id", "metric"])["score"].sort_index()


@pytest.mark.parametrize("judge", ["openai/fake-judge", "anthropic/fake-claude"])
def test_429_storm_ends_in_correct_output_and_honours_retry_after(fake, gens, tmp_path, judge):
    expected = _clean(fake, gens, tmp_path, judge)
    fake.configure(rules=[{"fault": "429", "times": 2, "retry_after": 0.4}])
    res = _score(fake, gens, tmp_path, judge, concurrency=4)
    assert res.failures.empty
    assert res.ratings.set_index(["item_id", "metric"])["score"].sort_index().equals(expected)
    st = fake.stats()
    assert st["status"]["429"] == 2 * len(expected)  # every request limited twice
    assert res.summary.rate_limited == 2 * len(expected)
    # Retry-After respected: no request came back sooner than 0.4 s after its 429.
    by_key = {}
    for t, key, outcome in st["events"]:
        by_key.setdefault(key, []).append((t, outcome))
    for events in by_key.values():
        for (t0, o0), (t1, _) in zip(events, events[1:], strict=False):
            if o0 == "429":
                assert t1 - t0 >= 0.4 - 0.05


def test_random_429_storm_and_500s(fake, gens, tmp_path):
    expected = _clean(fake, gens, tmp_path)
    fake.configure(rules=[{"fault": "429", "probability": 0.5, "retry_after": 0.05},
                          {"fault": "500", "probability": 0.3}], fault_seed=3)
    res = _score(fake, gens, tmp_path, concurrency=8, max_attempts=30)
    assert res.failures.empty
    assert res.ratings.set_index(["item_id", "metric"])["score"].sort_index().equals(expected)
    assert fake.stats()["status"].get("429", 0) > 0 and fake.stats()["status"].get("500", 0) > 0


@pytest.mark.parametrize("fault", ["500", "drop", "bad_body"])
def test_transient_faults_are_retried(fake, gens, tmp_path, fault):
    expected = _clean(fake, gens, tmp_path)
    fake.configure(rules=[{"fault": fault, "times": 2}])
    res = _score(fake, gens, tmp_path)
    assert res.failures.empty
    assert res.ratings.set_index(["item_id", "metric"])["score"].sort_index().equals(expected)
    assert res.summary.retries == 2 * len(expected)


def test_slow_answers_time_out_and_are_retried(fake, gens, tmp_path):
    fake.configure(rules=[{"fault": "slow", "times": 1, "delay": 3.0, "contains": "item-0-unused"},
                          {"fault": "slow", "times": 1, "delay": 3.0, "contains": "नई दिल्ली"}])
    res = _score(fake, gens, tmp_path, timeout=1.0, metrics=["la"])
    assert res.failures.empty and len(res.ratings) == len(gens)
    assert res.summary.retries == 1


def test_persistent_500_becomes_a_recorded_failure(fake, gens, tmp_path):
    fake.configure(rules=[{"fault": "500", "contains": "नई दिल्ली"}])
    res = _score(fake, gens, tmp_path, max_attempts=3, metrics=["la"])
    f = res.failures
    assert len(f) == 1 and f.iloc[0]["item_id"] == "item-0" and f.iloc[0]["kind"] == "provider_error"
    assert f.iloc[0]["final"]
    assert "item-0" not in set(res.ratings["item_id"]) and len(res.ratings) == len(gens) - 1
    assert fake.stats()["requests"] == len(gens) - 1 + 3
    assert res.summary.unscored == 1


def test_400_is_not_retried(fake, gens, tmp_path):
    fake.configure(rules=[{"fault": "400", "contains": "नई दिल्ली"}])
    res = _score(fake, gens, tmp_path, metrics=["la"])
    assert len(res.failures) == 1 and "400" in res.failures.iloc[0]["message"]
    assert fake.stats()["requests"] == len(gens)


def test_401_stops_the_run(fake, gens, tmp_path):
    fake.configure(rules=[{"fault": "401"}])
    with pytest.raises(FatalProviderError, match="401"):
        _score(fake, gens, tmp_path, concurrency=2)
    assert fake.stats()["requests"] <= 2  # no hammering with a bad key


@pytest.mark.parametrize("judge", ["openai/fake-judge", "anthropic/fake-claude"])
@pytest.mark.parametrize("fault,kind", [("garbage", "unparseable"), ("truncated", "unparseable"), ("refuse", "refused")])
def test_garbage_and_refusals_are_failures_never_scores(fake, gens, tmp_path, judge, fault, kind):
    fake.configure(rules=[{"fault": fault, "contains": "சென்னை"}])
    res = _score(fake, gens, tmp_path, judge)
    f = res.failures
    assert set(f["item_id"]) == {"item-2"} and set(f["kind"]) == {kind} and len(f) == 2
    assert f["raw_text"].str.len().gt(0).all()  # raw text kept
    assert "item-2" not in set(res.ratings["item_id"])
    assert res.ratings["score"].notna().all()


def test_unparseable_answers_are_re_asked_when_asked(fake, gens, tmp_path):
    fake.configure(rules=[{"fault": "garbage", "contains": "சென்னை", "times": 1}])
    res = _score(fake, gens, tmp_path, metrics=["la"], retry_unparseable=2)
    assert len(res.ratings) == len(gens)  # the second attempt was good
    f = res.failures
    assert len(f) == 1 and f.iloc[0]["attempt"] == 0 and not f.iloc[0]["final"]
    retried = res.ratings.set_index("item_id").loc["item-2"]
    assert retried["score"] in (0, 1, 2)


def test_bounded_re_asks(fake, gens, tmp_path):
    fake.configure(rules=[{"fault": "garbage", "contains": "சென்னை"}])
    res = _score(fake, gens, tmp_path, metrics=["la"], retry_unparseable=2)
    f = res.failures
    assert list(f["attempt"]) == [0, 1, 2] and f["final"].all()
    assert "item-2" not in set(res.ratings["item_id"])

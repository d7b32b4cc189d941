"""Helper processes (``workers > 1``): the same answers, the same guarantees.

Each helper is a real process running the real SDK client against the fake
provider; the main process keeps the queue, limits, retries and statistics.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from judgecal.judges import CompletionRequest, JudgmentCache, make_adapter, score_generations
from judgecal.judges.engine import Engine, FatalProviderError, RetryPolicy, helper_shares
from judgecal.judges.workers import WorkerProcessError

from .conftest import FAKE_OPENAI_KEY, openai_url
from .test_sigkill import _stored_request_keys

COMPARED = ["item_id", "metric", "score", "justification", "score_probs", "expected_score", "tokens_in",
            "tokens_out", "cost_usd", "judge_prompt_hash"]


def _gens(n: int, tag: str = "w") -> pd.DataFrame:
    return pd.DataFrame({"item_id": [f"{tag}{i}" for i in range(n)], "language": "hi", "task": "qa",
                         "prompt": "सवाल?", "response": [f"जवाब नंबर {i}" for i in range(n)]})


def _requests(n: int) -> list[CompletionRequest]:
    return [CompletionRequest("Judge the answer. Reply with JSON.", f"answer {i}: यह ठीक है", max_tokens=50,
                              schema={"type": "object", "properties": {"score": {"enum": [0, 1, 2]},
                                                                       "justification": {"type": "string"}}},
                              logprobs=True)
            for i in range(n)]


def _engine(fake, cache, judge="openai/fake-judge", **kw) -> Engine:
    url = fake.base_url if judge.startswith("anthropic") else openai_url(fake)
    kw.setdefault("retry", RetryPolicy(base=0.01))
    return Engine(make_adapter(judge, base_url=url), cache, progress=False, **kw)


async def _run_with_ready_helpers(engine: Engine, requests):
    await engine.start_workers(wait=True)
    try:
        return await engine.run(requests)
    finally:
        await engine.aclose()


@pytest.mark.parametrize(("judge", "workers"), [("openai/fake-judge", 3), ("anthropic/fake-claude", 2)])
def test_helpers_share_the_work_through_one_cache(fake, tmp_path, judge, workers):
    fake.configure(latency=0.05)
    cache = JudgmentCache(tmp_path / "c.sqlite")
    engine = _engine(fake, cache, judge, concurrency=8, workers=workers)
    requests = _requests(60)
    outcomes = asyncio.run(_run_with_ready_helpers(engine, requests))
    assert all(o.completion is not None and o.error is None for o in outcomes)
    by = engine.stats.by_process
    helpers = {f"worker-{i}" for i in range(1, workers)}
    if workers == 2:  # the main process keeps half the calls in flight
        assert set(by) == {"main", *helpers} and all(v > 0 for v in by.values())
    else:  # with helpers up from the start, the main process only coordinates
        assert set(by) == helpers and all(v > 0 for v in by.values())
    assert sum(by.values()) == 60
    st = fake.stats()
    assert st["requests"] == 60 and set(st["received"].values()) == {1}  # each sent once
    assert st["max_in_flight"] <= 8  # the concurrency bound holds over all processes
    # Every answer is in the shared cache file, stored by whichever process received it.
    again = JudgmentCache(tmp_path / "c.sqlite")
    assert len(again) == 60
    keys = engine.keys(requests)
    assert again.get_many(keys).keys() == set(keys)
    # A re-run sends nothing.
    rerun = _engine(fake, again, judge, concurrency=8, workers=workers)
    outcomes2 = asyncio.run(rerun.run(requests))
    assert all(o.cached for o in outcomes2) and fake.stats()["requests"] == 60
    assert [o.completion.text for o in outcomes2] == [o.completion.text for o in outcomes]


@pytest.mark.parametrize(("concurrency", "workers", "shares"), [
    (64, 1, []), (64, 2, [32]), (7, 2, [3]), (64, 3, [32, 32]), (64, 4, [22, 21, 21]), (3, 3, [2, 1])])
def test_helper_shares(concurrency, workers, shares):
    assert helper_shares(concurrency, workers) == shares
    if workers >= 3:  # the helpers take every call in flight; the main process coordinates
        assert sum(shares) == concurrency


def test_api_with_workers_gives_the_same_table(fake, tmp_path):
    gens = _gens(40)
    one = score_generations(gens, "openai/fake-judge", ["la", "h"], base_url=openai_url(fake),
                            cache=tmp_path / "one.sqlite", progress=False, concurrency=8)
    fake.reset()
    fake.configure(latency=0.05)
    two = score_generations(gens, "openai/fake-judge", ["la", "h"], base_url=openai_url(fake),
                            cache=tmp_path / "two.sqlite", progress=False, concurrency=8, workers=2)
    a = one.ratings[COMPARED].sort_values(["item_id", "metric"]).reset_index(drop=True)
    b = two.ratings[COMPARED].sort_values(["item_id", "metric"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    assert two.summary.judgments == 80 and two.summary.http_requests == 80
    assert sum(two.summary.answers_by_process.values()) == 80
    assert two.failures.empty
    if Path("/proc/self/stat").exists():  # no helper process is left behind, started or starting
        assert not [p for p in _children(os.getpid()) if _alive(p)]


def test_faults_through_helpers_are_retried_by_the_engine(fake, tmp_path):
    # Every request: a 429 with Retry-After, then a 500, then an answer.
    fake.configure(rules=[{"fault": "429", "times": 1, "retry_after": 0.3},
                          {"fault": "500", "times": 2}])
    cache = JudgmentCache(tmp_path / "c.sqlite")
    engine = _engine(fake, cache, concurrency=6, workers=2)
    outcomes = asyncio.run(_run_with_ready_helpers(engine, _requests(24)))
    assert all(o.completion is not None for o in outcomes)
    assert engine.stats.by_process.get("worker-1", 0) > 0
    assert engine.stats.rate_limited == 24 and engine.stats.retries == 48
    st = fake.stats()
    assert st["status"] == {"429": 24, "500": 24, "200": 24}
    by_key: dict = {}
    for t, key, outcome in st["events"]:
        by_key.setdefault(key, []).append((t, outcome))
    for events in by_key.values():  # Retry-After honoured, whichever process sent the retry
        assert events[0][1] == "429" and events[1][0] - events[0][0] >= 0.3 - 0.05


def test_garbage_and_refusals_through_helpers_come_back_as_they_were_sent(fake, tmp_path):
    from .fake_provider import GARBAGE, REFUSAL

    fake.configure(rules=[{"fault": "garbage", "contains": "answer 1"}, {"fault": "refuse", "contains": "answer 2"}])
    engine = _engine(fake, JudgmentCache(tmp_path / "c.sqlite"), concurrency=4, workers=2)
    requests = _requests(30)
    outcomes = asyncio.run(_run_with_ready_helpers(engine, requests))
    assert engine.stats.by_process.get("worker-1", 0) > 0
    for r, o in zip(requests, outcomes, strict=True):
        i = int(r.user.split(":")[0].split()[1])
        if str(i).startswith("1"):
            assert o.completion.text == GARBAGE and o.completion.refusal is None
        elif str(i).startswith("2"):
            assert o.completion.refusal == REFUSAL and o.completion.text is None
        else:
            assert json.loads(o.completion.text)["score"] in (0, 1, 2)


def test_helper_errors_arrive_as_the_engine_knows_them(fake, tmp_path):
    from judgecal.errors import ProviderError, RateLimitError

    fake.configure(rules=[{"fault": "401", "contains": "answer 0:"}, {"fault": "429", "retry_after": 2.5}])
    engine = _engine(fake, JudgmentCache(tmp_path / "c.sqlite"), concurrency=4, workers=2)
    req = _requests(2)

    async def go():
        await engine.start_workers(wait=True)
        helper = engine._pool.helpers[0]
        try:
            with pytest.raises(ProviderError) as bad_key:
                await helper.complete("k0", req[0])
            with pytest.raises(RateLimitError) as limited:
                await helper.complete("k1", req[1])
            return bad_key.value, limited.value
        finally:
            await engine.aclose()

    bad_key, limited = asyncio.run(go())
    assert bad_key.status == 401 and not isinstance(bad_key, RateLimitError)
    assert limited.status == 429 and limited.retry_after == pytest.approx(2.5)


def test_bad_key_stops_a_run_with_helpers(fake, tmp_path):
    fake.configure(rules=[{"fault": "401"}])
    engine = _engine(fake, JudgmentCache(tmp_path / "c.sqlite"), concurrency=4, workers=2)
    with pytest.raises(FatalProviderError):
        asyncio.run(_run_with_ready_helpers(engine, _requests(12)))


def test_a_helper_that_dies_ends_the_run_with_a_clear_error(fake, tmp_path):
    fake.configure(latency=0.2)
    cache = JudgmentCache(tmp_path / "c.sqlite")
    engine = _engine(fake, cache, concurrency=4, workers=2)

    async def go():
        await engine.start_workers(wait=True)
        helper = engine._pool.helpers[0]
        run = asyncio.create_task(engine.run(_requests(40)))
        while engine.stats.by_process.get("worker-1", 0) < 2:
            await asyncio.sleep(0.01)
        os.kill(helper._proc.pid, signal.SIGKILL)
        try:
            return await run
        finally:
            await engine.aclose()

    with pytest.raises(WorkerProcessError, match=r"(?s)worker-1 .*exited with code -9.*run again to resume"):
        asyncio.run(go())
    assert len(JudgmentCache(tmp_path / "c.sqlite")) >= 2  # what had arrived is kept


def test_setup_sent_to_helpers_holds_no_key(fake, tmp_path):
    engine = _engine(fake, JudgmentCache(tmp_path / "c.sqlite"), concurrency=4, workers=2)

    async def go():
        await engine.start_workers(wait=True)
        setup = json.dumps(engine._pool.helpers[0].setup)
        await engine.aclose()
        return setup

    setup = asyncio.run(go())
    assert FAKE_OPENAI_KEY not in setup and "openai/fake-judge" in setup


def test_bad_worker_counts():
    from judgecal.errors import ConfigError

    with pytest.raises(ConfigError, match="workers must be at least 1"):
        score_generations(_gens(2), "openai/fake-judge", ["la"], base_url="http://127.0.0.1:9/v1",
                          cache=":memory:", progress=False, workers=0)
    with pytest.raises(ConfigError, match=r"workers \(4\) cannot exceed concurrency \(2\)"):
        score_generations(_gens(2), "openai/fake-judge", ["la"], base_url="http://127.0.0.1:9/v1",
                          cache=":memory:", progress=False, workers=4, concurrency=2)


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to find the helper processes")
def test_sigkill_with_workers_then_resume(fake, tmp_path):
    n, concurrency = 60, 6
    gens = _gens(n, "k")
    gens.to_json(tmp_path / "gens.jsonl", orient="records", lines=True, force_ascii=False)
    fake.configure(latency=0.25)
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-m", "judgecal", "score", str(tmp_path / "gens.jsonl"), "--judge", "openai/fake-judge",
           "--metrics", "la", "--base-url", openai_url(fake), "--cache", str(tmp_path / "cache.sqlite"),
           "--out", str(out), "--concurrency", str(concurrency), "--workers", "2", "--no-progress"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    helpers: list[int] = []
    # Kill once the helper has answered some requests and about half are done.
    while not (helpers and sum(fake.stats()["answered"].values()) >= n // 2):
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.time() < deadline, "the scoring run made no progress"
        helpers = helpers or _children(proc.pid)
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    # The helper finishes (and stores) the calls it had in flight, then exits.
    while any(_alive(p) for p in helpers):
        assert time.time() < deadline, "a helper process outlived the killed run"
        time.sleep(0.05)
    before = Counter(fake.stats()["received"])
    arrived = _stored_request_keys(tmp_path / "cache.sqlite")
    assert n // 2 - concurrency <= len(arrived) < n

    done = subprocess.run(cmd, env=env, capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr.decode()
    after = Counter(fake.stats()["received"]) - before
    assert not (set(after) & arrived)  # nothing stored is paid for again
    assert len(set(after) & set(before)) <= concurrency  # only calls in flight in the killed main process
    assert sum(after.values()) == n - len(arrived)
    ratings = pd.read_json(out, lines=True)
    assert sorted(ratings["item_id"]) == sorted(gens["item_id"])


def test_memory_cache_with_helpers_is_filled_by_the_main_process(fake, tmp_path):
    cache = JudgmentCache(":memory:")
    engine = _engine(fake, cache, concurrency=4, workers=2)
    outcomes = asyncio.run(_run_with_ready_helpers(engine, _requests(16)))
    assert engine.stats.by_process.get("worker-1", 0) > 0
    assert all(o.completion is not None for o in outcomes)
    assert len(cache) == 16  # helpers cannot reach an in-memory cache; their answers are stored here

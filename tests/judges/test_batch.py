"""Batch scoring through the real openai and anthropic SDK clients against the fake
server's batch endpoints: submit -> poll -> collect, the shared cache, partial
failures inside a batch, and bad options."""

from __future__ import annotations

import json
import sqlite3

import pandas as pd
import pytest

from judgecal.errors import ConfigError
from judgecal.judges import score_generations
from judgecal.judges.batch import BatchPendingError

from .conftest import FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY
from .fake_batch import FakeBatchProvider
from .fake_provider import Rule

FAST = {"poll_interval": 0.05, "poll_max": 0.2}
PROVIDERS = ["openai", "anthropic"]


@pytest.fixture
def fake():
    with FakeBatchProvider(batch_delay=0.2) as server:
        yield server


def url(server, provider: str) -> str:
    return server.base_url + ("/v1" if provider == "openai" else "")


def score(gens, provider, fake, cache, batch=None, **kw):
    return score_generations(gens, f"{provider}/fake-judge", kw.pop("metrics", ["la", "h"]),
                             base_url=url(fake, provider), cache=cache, progress=False,
                             batch=False if batch is False else {**FAST, **(batch or {})}, **kw)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_submit_poll_collect_same_as_live(provider, fake, gens, tmp_path):
    cache = tmp_path / "cache.sqlite"
    res = score(gens, provider, fake, cache)
    st = fake.batch_stats()
    assert st[f"{provider}_batches_created"] == 1
    assert st[f"{provider}_polls"] >= 1
    if provider == "openai":
        assert st["files_uploaded"] == 1 and st["files_downloaded"] == 1  # no error file: nothing failed
    else:
        assert st["anthropic_results_downloaded"] == 1
    assert st["batch_requests_processed"] == len(gens) * 2
    assert fake.stats()["requests"] == len(gens) * 2  # no live calls at all
    rep = res.summary.batch
    assert rep.requests_submitted == rep.answered_in_batch == len(gens) * 2
    assert rep.failed_in_batch == 0 and res.failures.empty

    # Same output as live scoring (another cache), row for row.
    live = score(gens, provider, fake, tmp_path / "live.sqlite", batch=False)
    cols = ["item_id", "metric", "score", "justification", "judge_prompt_hash", "rater"]
    a = res.ratings[cols].sort_values(["item_id", "metric"]).reset_index(drop=True)
    b = live.ratings[cols].sort_values(["item_id", "metric"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    assert list(res.ratings.columns) == list(live.ratings.columns)

    # Request and result files sit beside the cache, and hold no API key.
    files = sorted((tmp_path / "cache.sqlite.batches").iterdir())
    assert [f.name.split(".", 1)[1] for f in files] == ["requests.jsonl", "results.jsonl"]
    for f in files:
        text = f.read_text()
        assert FAKE_OPENAI_KEY not in text and FAKE_ANTHROPIC_KEY not in text
    assert len(files[0].read_text().splitlines()) == len(gens) * 2
    db = sqlite3.connect(cache)
    jobs = db.execute("SELECT batch_id, state, n FROM batch_jobs").fetchall()
    assert len(jobs) == 1 and jobs[0][1] == "collected" and jobs[0][2] == len(gens) * 2


@pytest.mark.parametrize("provider", PROVIDERS)
def test_mixed_live_and_batch_never_pay_twice(provider, fake, gens, tmp_path):
    cache = tmp_path / "cache.sqlite"
    score(gens.iloc[:2], provider, fake, cache, batch=False)  # 2 items x 2 metrics live
    live_calls = fake.stats()["requests"]
    assert live_calls == 4
    res = score(gens, provider, fake, cache)  # the rest through a batch
    assert res.summary.batch.requests_submitted == (len(gens) - 2) * 2
    assert res.summary.cache_hits == 4
    assert fake.stats()["requests"] == live_calls + (len(gens) - 2) * 2
    # And back to live: everything comes from the cache.
    again = score(gens, provider, fake, cache, batch=False)
    assert again.summary.http_requests == 0
    assert len(again.ratings) == len(gens) * 2


@pytest.mark.parametrize("provider", PROVIDERS)
def test_partial_failures_retried_live_and_reported(provider, fake, gens, tmp_path):
    # Inside the batch: item-1's requests error (500), item-2's expire; once only.
    fake.configure(rules=[Rule("500", contains=gens.loc[1, "response"], times=1),
                          Rule("drop", contains=gens.loc[2, "response"], times=1)])
    res = score(gens, provider, fake, tmp_path / "cache.sqlite")
    rep = res.summary.batch
    assert rep.failed_in_batch == 4 and rep.retried_live == 4 and rep.still_failed == 0
    assert all(f["recovered"] for f in rep.failures)
    assert sum("expired" in f["error"] for f in rep.failures) == 2
    assert sum("500" in f["error"] or "errored" in f["error"] for f in rep.failures) == 2
    assert len(res.ratings) == len(gens) * 2 and res.failures.empty
    assert fake.stats()["requests"] == len(gens) * 2 + 4  # 4 live retries


def test_partial_failures_retried_in_a_new_batch(fake, gens, tmp_path):
    fake.configure(rules=[Rule("500", contains=gens.loc[3, "response"], times=1)])
    res = score(gens, "openai", fake, tmp_path / "cache.sqlite", batch={"retry": "batch"})
    st = fake.batch_stats()
    assert st["openai_batches_created"] == 2
    assert st["batch_requests_processed"] == len(gens) * 2 + 2  # the second batch holds the 2 failed only
    rep = res.summary.batch
    assert rep.retried_in_batch == 2 and rep.retried_live == 0 and rep.still_failed == 0
    assert len(res.ratings) == len(gens) * 2


@pytest.mark.parametrize("provider", PROVIDERS)
def test_failures_that_persist_become_failure_rows(provider, fake, gens, tmp_path):
    # Always 500 for item-4, in the batch and live: reported, never scored.
    fake.configure(rules=[Rule("500", contains=gens.loc[4, "response"])])
    res = score(gens, provider, fake, tmp_path / "cache.sqlite", max_attempts=2, retry_base=0.01)
    rep = res.summary.batch
    assert rep.failed_in_batch == 2 and rep.still_failed == 2
    assert not any(f["recovered"] for f in rep.failures)
    assert all("live retry" in f["final_error"] for f in rep.failures)
    assert set(res.failures["item_id"]) == {"item-4"}
    assert set(res.failures["kind"]) == {"provider_error"}
    assert "item-4" not in set(res.ratings["item_id"])
    assert res.summary.unscored == 2


def test_unparseable_batch_answers_are_failures_not_scores(fake, gens, tmp_path):
    fake.configure(rules=[Rule("garbage", contains=gens.loc[0, "response"])])
    res = score(gens, "openai", fake, tmp_path / "cache.sqlite", metrics=["la"])
    assert set(res.failures["kind"]) == {"unparseable"}
    assert res.failures["raw_text"].str.contains("rate it quite well").all()
    assert "item-0" not in set(res.ratings["item_id"])


def test_max_wait_then_resume_collects_without_resubmitting(fake, gens, tmp_path):
    fake.configure_batches(hold=True)
    cache = tmp_path / "cache.sqlite"
    with pytest.raises(BatchPendingError, match="run the same command again"):
        score(gens, "anthropic", fake, cache, batch={"max_wait": 0.3})
    assert fake.batch_stats()["anthropic_batches_created"] == 1
    fake.release()
    res = score(gens, "anthropic", fake, cache)
    assert fake.batch_stats()["anthropic_batches_created"] == 1
    rep = res.summary.batch
    assert rep.jobs_resumed == 1 and rep.jobs_submitted == 0 and rep.answered_in_batch == len(gens) * 2
    assert len(res.ratings) == len(gens) * 2


def test_bad_batch_options(fake, gens, tmp_path):
    with pytest.raises(ConfigError, match="--batch works with openai/ and anthropic/"):
        score_generations(gens, "litellm/openai/fake", ["la"], base_url=url(fake, "openai"),
                          cache=tmp_path / "c.sqlite", progress=False, batch=True)
    with pytest.raises(ConfigError, match="batch retry must be one of"):
        score(gens, "openai", fake, tmp_path / "c.sqlite", batch={"retry": "sometimes"})
    with pytest.raises(ConfigError, match="poll_interval"):
        score(gens, "openai", fake, tmp_path / "c.sqlite", batch={"poll_interval": 0})
    assert fake.stats()["requests"] == 0 and not fake.batch_stats()


def test_summary_is_json(fake, gens, tmp_path):
    res = score(gens, "openai", fake, tmp_path / "cache.sqlite")
    assert json.loads(json.dumps(res.summary.as_dict()))["batch"]["batch_ids"]


def test_whole_batch_failure_is_retried_live(fake, gens, tmp_path):
    fake.fail_next_batch("line 3: not valid JSON")
    cache = tmp_path / "cache.sqlite"
    res = score(gens, "openai", fake, cache)
    rep = res.summary.batch
    assert rep.failed_in_batch == len(gens) * 2 and rep.retried_live == len(gens) * 2
    assert rep.still_failed == 0 and len(res.ratings) == len(gens) * 2
    assert "the whole batch failed" in rep.failures[0]["error"] and "not valid JSON" in rep.failures[0]["error"]
    db = sqlite3.connect(cache)
    assert db.execute("SELECT state FROM batch_jobs").fetchall() == [("failed",)]
    # A re-run has nothing left to do: no batch is polled or submitted again.
    polls = fake.batch_stats()["openai_polls"]
    again = score(gens, "openai", fake, cache)
    assert again.summary.batch.jobs_submitted == 0 and fake.batch_stats()["openai_polls"] == polls


def test_cli_batch_wait_exit_code_then_collect(fake, gens, tmp_path, capsys):
    from judgecal.cli import main

    gens.to_json(tmp_path / "gens.jsonl", orient="records", lines=True, force_ascii=False)
    args = ["score", str(tmp_path / "gens.jsonl"), "--judge", "openai/fake-judge", "--metrics", "la",
            "--base-url", url(fake, "openai"), "--cache", str(tmp_path / "cache.sqlite"),
            "--out", str(tmp_path / "out.csv"), "--no-progress", "--batch", "--batch-poll", "0.05",
            "--batch-poll-max", "0.1"]
    fake.configure_batches(hold=True)
    assert main([*args, "--batch-wait", "0.3"]) == 4
    err = capsys.readouterr().err
    assert "still running" in err and "run the same command again" in err
    assert not (tmp_path / "out.csv").exists()
    fake.release()
    assert main(args) == 0
    err = capsys.readouterr().err
    assert f"{len(gens)} answered in batch" in err and "1 batch(es) of an earlier run collected" in err
    assert len(pd.read_csv(tmp_path / "out.csv")) == len(gens)
    assert fake.batch_stats()["openai_batches_created"] == 1

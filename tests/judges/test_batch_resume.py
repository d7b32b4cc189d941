"""`judgecal score --batch` killed with SIGKILL resumes without resubmitting:
killed between submit and collect (the batch id was recorded), and killed while
the create call was in flight (the provider has the batch, the run never
learned its id). Submissions are counted at the server."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pandas as pd
import pytest

from judgecal.judges import score_generations

from .fake_batch import FakeBatchProvider

N = 8
PROVIDERS = ["openai", "anthropic"]


@pytest.fixture
def fake():
    with FakeBatchProvider() as server:
        yield server


def _url(fake, provider):
    return fake.base_url + ("/v1" if provider == "openai" else "")


def _cmd(fake, provider, tmp_path):
    return [sys.executable, "-m", "judgecal", "score", str(tmp_path / "gens.jsonl"), "--judge", f"{provider}/fake-judge",
            "--metrics", "la", "--base-url", _url(fake, provider), "--cache", str(tmp_path / "cache.sqlite"),
            "--out", str(tmp_path / "out.jsonl"), "--summary", str(tmp_path / "summary.json"), "--no-progress",
            "--batch", "--batch-poll", "0.05", "--batch-poll-max", "0.2"]


def _gens(tmp_path) -> pd.DataFrame:
    gens = pd.DataFrame({"item_id": [f"b{i}" for i in range(N)], "language": "hi", "task": "qa",
                         "prompt": "सवाल?", "response": [f"जवाब {i}" for i in range(N)]})
    gens.to_json(tmp_path / "gens.jsonl", orient="records", lines=True, force_ascii=False)
    return gens


def _jobs(tmp_path) -> list[tuple]:
    path = tmp_path / "cache.sqlite"
    if not path.exists():
        return []
    db = sqlite3.connect(path, timeout=30)
    try:
        return db.execute("SELECT state, batch_id FROM batch_jobs").fetchall()
    except sqlite3.OperationalError:  # tables not created yet
        return []
    finally:
        db.close()


def _kill_when(proc, condition, what: str) -> None:
    deadline = time.time() + 180
    while not condition():
        assert proc.poll() is None, f"the run ended before {what}: {proc.stderr.read().decode()}"
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _finish_and_check(fake, provider, tmp_path, gens, created_key):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(_cmd(fake, provider, tmp_path), env=env, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    assert fake.batch_stats()[created_key] == 1  # never resubmitted
    assert fake.batch_stats()["batch_requests_processed"] == N  # each request processed once
    assert fake.stats()["requests"] == N  # and nothing was sent live
    summary = json.loads((tmp_path / "summary.json").read_text())
    ratings = pd.read_json(tmp_path / "out.jsonl", lines=True)
    assert sorted(ratings["item_id"]) == sorted(gens["item_id"])
    clean = score_generations(gens, f"{provider}/fake-judge", ["la"], base_url=_url(fake, provider),
                              cache=tmp_path / "clean.sqlite", progress=False)
    a = ratings.set_index("item_id")["score"].sort_index().astype(float)
    b = clean.ratings.set_index("item_id")["score"].sort_index().astype(float)
    assert a.equals(b)
    assert [s for s, _ in _jobs(tmp_path)] == ["collected"]
    return summary["batch"], done.stderr.decode()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_killed_between_submit_and_collect_resumes_without_resubmitting(fake, provider, tmp_path):
    gens = _gens(tmp_path)
    fake.configure_batches(hold=True)  # the batch stays in progress until released
    created = f"{provider}_batches_created"
    proc = subprocess.Popen(_cmd(fake, provider, tmp_path), env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _kill_when(proc, lambda: fake.batch_stats().get(f"{provider}_polls", 0) >= 2, "polling")
    assert fake.batch_stats()[created] == 1
    jobs = _jobs(tmp_path)
    assert len(jobs) == 1 and jobs[0][0] == "submitted" and jobs[0][1]  # the batch id was kept
    assert not (tmp_path / "out.jsonl").exists()
    fake.release()
    report, stderr = _finish_and_check(fake, provider, tmp_path, gens, created)
    assert report["jobs_resumed"] == 1 and report["jobs_submitted"] == 0 and report["requests_submitted"] == 0
    assert report["answered_in_batch"] == N
    assert "1 batch(es) of an earlier run collected" in stderr


@pytest.mark.parametrize("provider", PROVIDERS)
def test_killed_during_create_adopts_the_batch(fake, provider, tmp_path):
    gens = _gens(tmp_path)
    # The server registers the batch, then waits before answering: the run is
    # killed in that window and never learns the batch id.
    fake.configure_batches(hold=True, create_delay=30.0)
    created = f"{provider}_batches_created"
    proc = subprocess.Popen(_cmd(fake, provider, tmp_path), env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _kill_when(proc, lambda: fake.batch_stats().get(created, 0) == 1, "the create call")
    jobs = _jobs(tmp_path)
    assert jobs == [("prepared", None)]  # recorded before submitting; no id known
    fake.configure_batches(create_delay=0.0)
    fake.release()
    report, _ = _finish_and_check(fake, provider, tmp_path, gens, created)
    assert report["jobs_adopted"] == 1 and report["jobs_submitted"] == 0
    if provider == "openai":
        assert fake.batch_stats()["files_uploaded"] == 1  # not even the file again

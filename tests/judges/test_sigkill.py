"""A run killed with SIGKILL halfway resumes without re-paying finished calls."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter

import pandas as pd

from .conftest import openai_url

N = 40
CONCURRENCY = 4


def _cmd(fake, tmp_path, out):
    return [sys.executable, "-m", "judgecal", "score", str(tmp_path / "gens.jsonl"), "--judge", "openai/fake-judge",
            "--metrics", "la", "--base-url", openai_url(fake), "--cache", str(tmp_path / "cache.sqlite"),
            "--out", str(out), "--concurrency", str(CONCURRENCY), "--no-progress"]


def _stored_request_keys(cache) -> set[str]:
    db = sqlite3.connect(cache)
    try:
        rows = db.execute("SELECT json_extract(answer, '$.response_id') FROM answers").fetchall()
    finally:
        db.close()
    return {r[0].removeprefix("fake-") for r in rows}


def test_sigkill_halfway_then_resume(fake, tmp_path):
    gens = pd.DataFrame({"item_id": [f"k{i}" for i in range(N)], "language": "hi", "task": "qa",
                         "prompt": "सवाल?", "response": [f"जवाब {i}" for i in range(N)]})
    gens.to_json(tmp_path / "gens.jsonl", orient="records", lines=True, force_ascii=False)
    fake.configure(latency=0.25)
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(_cmd(fake, tmp_path, out), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while sum(fake.stats()["answered"].values()) < N // 2:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.time() < deadline, "the scoring run made no progress"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()  # killed before writing its output
    before = Counter(fake.stats()["received"])
    arrived = _stored_request_keys(tmp_path / "cache.sqlite")
    assert N // 2 - CONCURRENCY <= len(arrived) < N

    done = subprocess.run(_cmd(fake, tmp_path, out), env=env, capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr.decode()
    after = Counter(fake.stats()["received"]) - before

    # No request whose answer had arrived (and been stored) is sent again...
    assert not (set(after) & arrived)
    # ...only those in flight at the kill may repeat, at most one per worker.
    repeated = set(after) & set(before)
    assert len(repeated) <= CONCURRENCY
    # Every request was answered exactly once overall apart from those repeats.
    assert sum(after.values()) == N - len(arrived)

    ratings = pd.read_json(out, lines=True)
    assert sorted(ratings["item_id"]) == sorted(gens["item_id"])
    # Same scores as an uninterrupted run.
    from judgecal.judges import score_generations

    clean = score_generations(gens, "openai/fake-judge", ["la"], base_url=openai_url(fake),
                              cache=tmp_path / "clean.sqlite", progress=False)
    a = ratings.set_index("item_id")["score"].sort_index()
    b = clean.ratings.set_index("item_id")["score"].sort_index()
    assert a.astype(float).equals(b.astype(float))

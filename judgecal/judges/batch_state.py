"""Batch jobs as kept with the run: tables in the judgment cache's SQLite file,
and the report of what went through batches.

``batch_jobs``: one row per job (a request file submitted as one provider
batch): tag, judge, provider, the provider's batch id once known, request file,
size, state (``prepared`` -> ``submitted`` -> ``collected``) and a note.
``batch_members``: the cache keys of each job's requests (the custom ids sent).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

OPEN_STATES = ("prepared", "submitted")


class BatchStore:
    """Batch jobs and their members, in tables of the judgment cache's SQLite file."""

    def __init__(self, cache):
        # The cache's own connection: same file, same transactions, works for ":memory:".
        self.db = cache._db
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS batch_jobs (tag TEXT PRIMARY KEY, judge TEXT NOT NULL, provider TEXT NOT NULL, "
            "batch_id TEXT, request_file TEXT, n INTEGER NOT NULL, state TEXT NOT NULL, created REAL NOT NULL, "
            "updated REAL NOT NULL, note TEXT)")
        self.db.execute("CREATE TABLE IF NOT EXISTS batch_members (tag TEXT NOT NULL, key TEXT NOT NULL, "
                        "PRIMARY KEY (tag, key))")

    def add_job(self, tag: str, judge: str, provider: str, request_file: str, keys: list[str]) -> None:
        now = time.time()
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("INSERT INTO batch_jobs VALUES (?, ?, ?, NULL, ?, ?, 'prepared', ?, ?, NULL)",
                            (tag, judge, provider, request_file, len(keys), now, now))
            self.db.executemany("INSERT INTO batch_members VALUES (?, ?)", [(tag, k) for k in keys])

    def set(self, tag: str, *, state: str | None = None, batch_id: str | None = None, note: str | None = None) -> None:
        sets, values = ["updated = ?"], [time.time()]
        for col, value in (("state", state), ("batch_id", batch_id), ("note", note)):
            if value is not None:
                sets.append(f"{col} = ?")
                values.append(value)
        self.db.execute(f"UPDATE batch_jobs SET {', '.join(sets)} WHERE tag = ?", (*values, tag))

    def open_jobs(self, judge: str) -> list[dict]:
        cols = ("tag", "batch_id", "request_file", "n", "state", "created")
        marks = ",".join("?" * len(OPEN_STATES))
        rows = self.db.execute(f"SELECT {', '.join(cols)} FROM batch_jobs WHERE judge = ? AND state IN ({marks}) "
                               "ORDER BY created", (judge, *OPEN_STATES))
        return [dict(zip(cols, r, strict=True)) for r in rows]

    def members(self, tag: str) -> list[str]:
        return [k for (k,) in self.db.execute("SELECT key FROM batch_members WHERE tag = ?", (tag,))]

    def known_batch_ids(self) -> set[str]:
        return {b for (b,) in self.db.execute("SELECT batch_id FROM batch_jobs WHERE batch_id IS NOT NULL")}

    def jobs(self) -> list[dict]:
        cols = ("tag", "judge", "provider", "batch_id", "n", "state", "note")
        return [dict(zip(cols, r, strict=True)) for r in
                self.db.execute(f"SELECT {', '.join(cols)} FROM batch_jobs ORDER BY created")]


@dataclass
class BatchReport:
    """Counts of one run's batch jobs and requests, and its failed requests (``failures``)."""

    jobs_submitted: int = 0
    jobs_resumed: int = 0  # recorded by an earlier run, collected by this one
    jobs_adopted: int = 0  # submission interrupted, found at the provider
    requests_submitted: int = 0
    answered_in_batch: int = 0
    failed_in_batch: int = 0
    retried_live: int = 0
    retried_in_batch: int = 0
    still_failed: int = 0
    polls: int = 0
    batch_ids: list = field(default_factory=list)
    failures: list = field(default_factory=list)  # [{"key", "error", "retried", "recovered", "final_error"}]

    def as_dict(self) -> dict:
        out = dict(self.__dict__)
        out["failures"] = self.failures[:200]
        return out


def describe_report(report: BatchReport) -> str:
    """One paragraph for the command line: what went through batches and what failed."""
    r = report
    text = f"judgecal score --batch: {r.requests_submitted} request(s) submitted in {r.jobs_submitted} batch(es)"
    if r.jobs_resumed or r.jobs_adopted:
        text += f"; {r.jobs_resumed} batch(es) of an earlier run collected"
        if r.jobs_adopted:
            text += f" ({r.jobs_adopted} found at the provider after an interrupted submit)"
    text += f"; {r.answered_in_batch} answered in batch"
    if r.failed_in_batch:
        text += (f"; {r.failed_in_batch} failed inside a batch (retried: live {r.retried_live}, "
                 f"in a new batch {r.retried_in_batch}), {r.still_failed} still without an answer")
        for f in r.failures[:5]:
            text += f"\n  - {f['key'][:12]}…: {f['error']}{' (recovered)' if f['recovered'] else ''}"
    return text

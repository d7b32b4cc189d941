"""The persistent judgment cache: a judgment is never paid for twice.

SQLite in WAL mode, one row per provider answer, keyed by a hash of everything
that changes the answer (provider, model, base URL, system and user text,
schema, sampling parameters, sample and attempt index; never the API key).
Each answer is committed the moment it arrives, so a run killed with SIGKILL
keeps every answer it received; several processes may share one cache file
(WAL plus a busy timeout; the first answer stored for a key wins).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from judgecal.errors import ConfigError
from judgecal.judges.base import Completion
from judgecal.judges.gcpolicy import no_gc

SCHEMA_VERSION = 3  # 2: logprobs of number tokens only; 3: long texts hashed as bytes
_LONG_FIELDS = ("system", "user")


def cache_key(judge_identity: dict, request_identity: dict) -> str:
    """sha256 over the judge and the request. The long prompt texts go into the
    hash as length-prefixed bytes rather than through JSON (same uniqueness,
    a fraction of the CPU)."""
    small = {k: v for k, v in request_identity.items() if k not in _LONG_FIELDS}
    head = json.dumps({"v": SCHEMA_VERSION, "judge": judge_identity, "request": small},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    h = hashlib.sha256(head.encode())
    for name in _LONG_FIELDS:
        data = str(request_identity.get(name) or "").encode()
        h.update(f"\x1f{name}:{len(data)}\x1f".encode())
        h.update(data)
    return h.hexdigest()


class JudgmentCache:
    """Answers by cache key. ``path=":memory:"`` keeps them in memory only."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            self._setup()
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"cache file {self.path} cannot be used as a judgment cache: {exc}") from exc

    def _setup(self, patience: float = 60.0) -> None:
        # Switching a new file to WAL while another process or thread opens it
        # can answer "database is locked" at once, without waiting on the busy
        # timeout (SQLite does not apply it to journal-mode changes): retry.
        deadline = time.monotonic() + patience
        delay = 0.01
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                # NORMAL: a commit survives the process being killed (not a power cut).
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, created REAL NOT NULL, "
                    "judge TEXT NOT NULL, answer TEXT NOT NULL)"
                )
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def get_many(self, keys: Iterable[str]) -> dict[str, Completion]:
        with no_gc():  # many small objects, no cycles: skip the collector's full passes
            return self._get_many(keys)

    def _get_many(self, keys: Iterable[str]) -> dict[str, Completion]:
        keys = list(dict.fromkeys(keys))
        found: dict[str, Completion] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for key, answer in self._db.execute(f"SELECT key, answer FROM answers WHERE key IN ({marks})", chunk):
                found[key] = Completion.from_json(answer)
        return found

    def put(self, key: str, judge: str, answer: Completion) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO answers (key, created, judge, answer) VALUES (?, ?, ?, ?)",
            (key, time.time(), judge, answer.to_json()),
        )

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]

    def response_ids(self) -> set[str]:
        """Provider response ids of every stored answer (for tests and audits)."""
        rows = self._db.execute("SELECT answer FROM answers")
        return {json.loads(a).get("response_id") for (a,) in rows} - {None}

    def close(self) -> None:
        self._db.close()

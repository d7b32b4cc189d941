"""Scoring through the providers' batch APIs (``judgecal score --batch``).

:class:`BatchEngine` has the interface of :class:`~judgecal.judges.engine.Engine`
(``run``, ``lookup``, ``stats``, ``adapter``), so the scoring code does not care
which one it drives. For the requests the judgment cache does not answer, it

1. writes the request file (JSONL, beside the cache in ``<cache>.batches/``),
2. records the batch job and its members (cache keys) in the cache's SQLite
   file *before* submitting,
3. submits (OpenAI: upload the file, create the batch; Anthropic: create the
   message batch) and records the provider's batch id,
4. polls with exponential backoff and jitter until the batch has ended,
5. stores every answer in the judgment cache (the same keys as live scoring,
   so live and batch runs never pay twice for one request), and marks the job
   collected,
6. retries the requests that failed inside the batch (errored, expired,
   missing) live through the wrapped engine or in a new batch, and reports them.

A run interrupted at any step resumes: requests already answered come from the
cache; requests in a recorded batch are not resubmitted (the batch is polled and
collected); a job recorded but whose submission was interrupted is looked up at
the provider (OpenAI by the job tag in the batch metadata; Anthropic by request
count and creation time) before anything is submitted again.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

from judgecal.errors import ConfigError, JudgeError, ProviderError, ProviderTimeoutError
from judgecal.judges.base import CompletionRequest, JudgeAdapter
from judgecal.judges.batch_anthropic import AnthropicBatch
from judgecal.judges.batch_openai import OpenAIBatch
from judgecal.judges.batch_provider import BatchFailedError, BatchProvider
from judgecal.judges.batch_state import BatchReport, BatchStore
from judgecal.judges.engine import Engine, Outcome, _retryable
from judgecal.judges.options import BatchOptions


class BatchPendingError(JudgeError):
    """Batches are still running when the wait limit was reached; the run can be resumed."""

    exit_code = 4  # `judgecal score --batch`: run again later to collect


def make_batch_provider(adapter: JudgeAdapter) -> BatchProvider:
    if adapter.provider == "openai":
        return OpenAIBatch(adapter)
    if adapter.provider == "anthropic":
        return AnthropicBatch(adapter)
    raise ConfigError(f"--batch works with openai/ and anthropic/ judges, not {adapter.name} "
                      "(score it live, or through the provider's own batch tooling)")


class BatchEngine:
    """Engine-compatible scoring through a provider batch API.

    live : the live :class:`Engine` (its adapter, cache, stats and retries are used)
    options : :class:`~judgecal.judges.options.BatchOptions` (polling, waiting,
        retries of failed requests, batch size, files folder); None = its defaults
    progress : say what the batches do on stderr (default: as the live engine)
    provider : the provider's batch API (default: from the adapter)
    """

    def __init__(self, live: Engine, options: BatchOptions | None = None, *,
                 progress: bool | str | None = None, provider: BatchProvider | None = None):
        options = options or BatchOptions()
        self.live = live
        self.adapter = live.adapter
        self.cache = live.cache
        self.stats = live.stats
        self.provider = provider or make_batch_provider(live.adapter)
        self.poll_interval, self.poll_max, self.max_wait = options.poll_interval, options.poll_max, options.max_wait
        self.retry, self.max_rounds = options.retry, options.max_rounds
        self.batch_size = min(options.batch_size or self.provider.max_requests, self.provider.max_requests)
        self.store = BatchStore(self.cache)
        files_dir = options.files_dir
        if files_dir is None:
            path = getattr(self.cache, "path", ":memory:")
            files_dir = Path(tempfile.mkdtemp(prefix="judgecal-batches-")) if path == ":memory:" else Path(path + ".batches")
        self.files_dir = Path(files_dir)
        self.progress = live.progress if progress is None else progress
        self.report = BatchReport()
        self._rng = random.Random()

    # ------------------------------------------------------------ Engine API
    def keys(self, requests: list[CompletionRequest]) -> list[str]:
        return self.live.keys(requests)

    def lookup(self, requests: list[CompletionRequest]):
        return self.live.lookup(requests)

    async def run(self, requests: list[CompletionRequest], desc: str = "judging") -> list[Outcome]:
        """One outcome per request, in order, like Engine.run."""
        t0 = time.perf_counter()
        keys, hits = self.lookup(requests)
        self.stats.requested += len(requests)
        self.stats.cache_hits += sum(1 for k in keys if k in hits)
        by_key = {k: r for k, r in zip(keys, requests, strict=True) if k not in hits}
        errors: dict[str, str] = {}
        try:
            if by_key:
                errors = await self._rounds(by_key, desc)
        finally:
            await self.adapter.aclose()
            self.stats.elapsed += time.perf_counter() - t0
        fresh = self.cache.get_many([k for k in by_key])
        outcomes = []
        for k in keys:
            if k in hits:
                outcomes.append(Outcome(k, hits[k], cached=True))
            elif k in fresh:
                outcomes.append(Outcome(k, fresh[k], attempts=1))
            else:
                outcomes.append(Outcome(k, None, error=errors.get(k, "no answer from the batch"), attempts=1))
        return outcomes

    # ------------------------------------------------------------ internals
    async def _rounds(self, by_key: dict[str, CompletionRequest], desc: str) -> dict[str, str]:
        """Batch rounds, then live retries; returns {key: error} of requests still unanswered."""
        rounds = self.max_rounds if self.retry == "batch" else 1
        todo = dict(by_key)
        first_failed: dict[str, str] | None = None
        for round_ in range(rounds):
            failed = await self._batch_round(todo, desc)
            if first_failed is None:
                first_failed = dict(failed)
                self.report.failed_in_batch += len(failed)
            if not failed or round_ + 1 == rounds:
                break
            self._say(f"{len(failed)} request(s) failed inside the batch; resubmitting them in a new batch")
            self.report.retried_in_batch += len(failed)
            todo = {k: by_key[k] for k in failed}
        left = dict(failed)
        if left and self.retry == "live":
            self._say(f"{len(left)} request(s) failed inside the batch; retrying them live")
            self.report.retried_live += len(left)
            keys = list(left)
            outcomes = await self.live.run([by_key[k] for k in keys], desc=f"{desc} live retry")
            for key, outcome in zip(keys, outcomes, strict=True):
                if outcome.completion is not None:
                    del left[key]
                else:
                    left[key] = f"{left[key]}; live retry: {outcome.error}"
        for key, why in (first_failed or {}).items():
            self.report.failures.append({"key": key, "error": why, "retried": self.retry,
                                         "recovered": key not in left, "final_error": left.get(key)})
        self.report.still_failed += len(left)
        return left

    async def _batch_round(self, todo: dict[str, CompletionRequest], desc: str) -> dict[str, str]:
        """Submit what no open job covers, wait for every job involved, collect.
        Returns {key: error} for the requests of ``todo`` left without an answer."""
        judge = self.adapter.name
        jobs = []
        covered: set[str] = set()
        wanted = set(todo)
        for job in self.store.open_jobs(judge):
            members = self.store.members(job["tag"])
            if covered.isdisjoint(members) and not wanted.isdisjoint(members):
                jobs.append(job)
                covered.update(members)
                self.report.jobs_resumed += 1
                if job["batch_id"]:
                    self.report.batch_ids.append(job["batch_id"])
        new = [k for k in todo if k not in covered]
        for start in range(0, len(new), self.batch_size):
            chunk = new[start:start + self.batch_size]
            jobs.append(self._prepare(chunk, todo))
        for job in jobs:
            if job["state"] == "prepared":
                await self._submit(job)
        if jobs:
            self._say(f"{desc}: waiting for {len(jobs)} batch(es): {', '.join(j['batch_id'] for j in jobs)}")
        failed = await self._wait_and_collect(jobs)
        missing = [k for k in todo if k not in failed]
        answered = set(self.cache.get_many(missing))
        return {k: failed.get(k, "no answer in the batch results") for k in todo if k not in answered}

    def _prepare(self, chunk: list[str], todo: dict[str, CompletionRequest]) -> dict:
        tag = "jc-" + uuid.uuid4().hex[:20]
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / f"{tag}.requests.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for key in chunk:
                fh.write(json.dumps(self.provider.request_line(key, todo[key]), ensure_ascii=False) + "\n")
        self.store.add_job(tag, self.adapter.name, self.adapter.provider, str(path), chunk)
        return {"tag": tag, "batch_id": None, "request_file": str(path), "n": len(chunk), "state": "prepared",
                "created": time.time(), "fresh": True}

    async def _submit(self, job: dict) -> None:
        """Submit a prepared job, unless an interrupted run already did."""
        found = None
        if not job.get("fresh"):  # prepared by an earlier run: its create call may have gone through
            found = await self._call(self.provider.find_submitted, job["tag"], job["n"], job["created"],
                                     self.store.known_batch_ids())
        if found:
            self.report.jobs_adopted += 1
            batch_id = found
        else:
            path = Path(job["request_file"])
            lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
            batch_id = await self._call(self.provider.submit, path, lines, job["tag"])
            self.report.jobs_submitted += 1
            self.report.requests_submitted += job["n"]
        self.store.set(job["tag"], state="submitted", batch_id=batch_id)
        job.update(state="submitted", batch_id=batch_id)
        self.report.batch_ids.append(batch_id)

    async def _wait_and_collect(self, jobs: list[dict]) -> dict[str, str]:
        """Poll until every job's batch has ended, collecting each as soon as it
        has (answers are in the cache early; memory holds one batch's results).
        Returns {key: error} of the members left without an answer."""
        start = time.monotonic()
        delay = self.poll_interval
        waiting = {j["tag"]: j for j in jobs}
        failed: dict[str, str] = {}
        while True:
            for tag, job in list(waiting.items()):
                st = await self._call(self.provider.state, job["batch_id"])
                self.report.polls += 1
                if st.status != job.get("status"):
                    self._say(f"batch {job['batch_id']}: {st.status} {st.counts or ''}")
                job["status"] = st.status
                if st.ended:
                    del waiting[tag]
                    failed.update(await self._collect(job))
            if not waiting:
                return failed
            if self.max_wait is not None and time.monotonic() - start + delay > self.max_wait:
                ids = ", ".join(j["batch_id"] for j in waiting.values())
                raise BatchPendingError(
                    f"{len(waiting)} batch(es) still running after {self.max_wait:g} s ({ids}); they are recorded "
                    f"in {getattr(self.cache, 'path', 'the cache')}: run the same command again to collect them "
                    "(nothing is resubmitted)")
            await asyncio.sleep(delay * self._rng.uniform(0.8, 1.2))
            delay = min(self.poll_max, delay * 1.5)

    async def _collect(self, job: dict) -> dict[str, str]:
        """Store the batch's answers; returns {key: error} of its members left without one."""
        members = set(self.store.members(job["tag"]))
        try:
            results = await self._call(self.provider.results, job["batch_id"])
        except BatchFailedError as exc:  # nothing to collect: all its requests go to the retry
            self.store.set(job["tag"], state="failed", note=str(exc)[:500])
            self._say(str(exc))
            return {key: f"the whole batch failed: {exc}" for key in members}
        path = Path(job["request_file"]).with_name(f"{job['tag']}.results.jsonl")
        failed = {}
        with open(path, "w", encoding="utf-8") as fh:
            for r in results:
                if r.custom_id not in members:  # not ours (only possible for an adopted batch)
                    continue
                fh.write(json.dumps({"custom_id": r.custom_id, "error": r.error,
                                     "answer": None if r.completion is None else json.loads(r.completion.to_json())},
                                    ensure_ascii=False) + "\n")
                if r.completion is not None:
                    self.cache.put(r.custom_id, self.adapter.name, r.completion)
                    self.stats.answered += 1
                    self.report.answered_in_batch += 1
                else:
                    failed[r.custom_id] = r.error or "failed inside the batch"
        seen = {r.custom_id for r in results}
        for key in members - seen:
            failed[key] = f"missing from the results of batch {job['batch_id']} ({job.get('status', '?')})"
        self.store.set(job["tag"], state="collected", note=f"{len(members) - len(failed)} answered, {len(failed)} failed")
        self._say(f"batch {job['batch_id']}: {len(members) - len(failed)} answered, {len(failed)} failed")
        return failed

    async def _call(self, fn, *args, attempts: int = 6):
        """A batch-API call with retries on rate limits, timeouts and 5xx (honouring Retry-After)."""
        for attempt in range(attempts):
            try:
                return await fn(*args)
            except (ProviderError, ProviderTimeoutError) as exc:
                if not _retryable(exc) or attempt + 1 == attempts:
                    raise
                retry_after = getattr(exc, "retry_after", None)
                await asyncio.sleep(retry_after if retry_after is not None
                                    else self._rng.uniform(0, min(30.0, 0.5 * 2 ** attempt)))

    def _say(self, message: str) -> None:
        show = sys.stderr.isatty() if self.progress == "auto" else bool(self.progress)
        if show:
            print(f"judgecal batch: {message}", file=sys.stderr, flush=True)


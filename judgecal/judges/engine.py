"""The engine: sends requests to one adapter as fast as the limits allow.

It owns, in one place: the cache lookup (in bulk, before anything is sent),
bounded concurrency (a fixed pool of workers), rate limits, retries with
exponential backoff and full jitter that honour Retry-After (on 429, 5xx,
timeouts and dropped connections), storing every answer the moment it arrives,
and the progress bar. It knows nothing of rubrics or scores.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from dataclasses import dataclass, field

from judgecal._lazy import require
from judgecal.errors import (
    MissingDependencyError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
)
from judgecal.judges.base import Completion, CompletionRequest, JudgeAdapter
from judgecal.judges.cache import JudgmentCache, cache_key
from judgecal.judges.costs import estimate_tokens
from judgecal.judges.gcpolicy import fewer_collections
from judgecal.judges.ratelimit import RateLimiter
from judgecal.judges.workers import WorkerPool

FATAL_STATUS = (401, 403)  # wrong key or no access: every other call would fail too


class FatalProviderError(ProviderError):
    """An error that makes the whole run pointless (bad API key, no access)."""


@dataclass
class RetryPolicy:
    max_attempts: int = 6  # attempts per request, the first included
    base: float = 0.5  # seconds; attempt k waits up to base * 2**k
    cap: float = 60.0
    jitter_seed: int | None = None

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        backoff = rng.uniform(0, min(self.cap, self.base * 2 ** attempt))  # full jitter
        if retry_after is not None:
            # Honour the provider; a little jitter above it keeps workers from
            # all coming back in the same millisecond.
            return retry_after + rng.uniform(0, min(1.0, 0.1 + 0.1 * retry_after))
        return backoff


@dataclass
class Outcome:
    key: str
    completion: Completion | None = None
    error: str | None = None
    error_status: int | None = None
    cached: bool = False
    attempts: int = 0


@dataclass
class EngineStats:
    requested: int = 0
    cache_hits: int = 0
    sent: int = 0  # HTTP requests made, retries included
    answered: int = 0
    retries: int = 0
    rate_limited: int = 0
    failed: int = 0
    elapsed: float = 0.0
    by_error: dict = field(default_factory=dict)
    by_process: dict = field(default_factory=dict)  # answers received per process ("main", "worker-1", ...)


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, RateLimitError | ProviderTimeoutError):
        return True
    if isinstance(exc, ProviderError):
        status = exc.status
        return status is None or status >= 500 or status in (200, 408, 409)
    return False


class Progress:
    """tqdm bar with cache hits, retries and failures; silent when disabled."""

    def __init__(self, total: int, enabled: bool | str, desc: str):
        self.bar = None
        if enabled == "auto":
            enabled = sys.stderr.isatty()
        if enabled and total:
            try:
                tqdm = require("tqdm.auto", "judges", "a progress bar").tqdm
            except MissingDependencyError as exc:  # the run goes on without one
                print(f"judgecal: {exc}", file=sys.stderr)
                return
            self.bar = tqdm(total=total, desc=desc, unit="call", smoothing=0.05, file=sys.stderr)

    def update(self, n: int, stats: EngineStats) -> None:
        if self.bar is not None:
            self.bar.update(n)
            self.bar.set_postfix(cached=stats.cache_hits, retries=stats.retries, failed=stats.failed, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def helper_shares(concurrency: int, workers: int) -> list[int]:
    """Calls in flight each helper process takes once it is up (one entry per helper).

    With two processes the main one keeps half. With three or more it sends
    nothing once its helpers are up: it already runs the queue, limits, retries,
    cache and progress for every call, and every call waits for its event loop,
    so a main process busy with calls of its own delays all of them (measured at
    concurrency 64, steady ratio to the ideal: 0.66-0.70 with 1 main + 2 helpers
    against 0.61-0.64 with 1 + 1; bench/README.md).
    """
    if workers <= 1:
        return []
    if workers == 2:
        return [concurrency // 2]
    n = workers - 1
    return [concurrency // n + (1 if i < concurrency % n else 0) for i in range(n)]


class Engine:
    def __init__(self, adapter: JudgeAdapter, cache: JudgmentCache, *, concurrency: int = 16,
                 rpm: float | None = None, tpm: float | None = None, retry: RetryPolicy | None = None,
                 timeout: float = 60.0, progress: bool | str = "auto", workers: int = 1):
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if workers < 1:
            raise ValueError("workers must be at least 1")
        if workers > concurrency:
            raise ValueError("workers cannot exceed concurrency: each process needs a call in flight")
        self.adapter = adapter
        self.cache = cache
        self.concurrency = concurrency
        self.limiter = RateLimiter(rpm, tpm)
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.progress = progress
        self.stats = EngineStats()
        self._rng = random.Random(self.retry.jitter_seed)
        # workers > 1: helper processes that send requests (judgecal.judges.workers);
        # each takes its share of the calls in flight once it is up (helper_shares).
        self.workers = workers
        self._pool = None

    async def start_workers(self, wait: bool = False) -> None:
        """Start the helper processes now (``run`` starts them when a run has more
        than one round of requests); with ``wait``, until they are ready."""
        if self.workers > 1:
            if self._pool is None:
                self._pool = WorkerPool(self.workers - 1, self.adapter, self.cache.path)
            await self._pool.start()
            if wait:
                await self._pool.wait_ready()

    async def aclose(self) -> None:
        """Stop the helper processes (a no-op with one worker)."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    def keys(self, requests: list[CompletionRequest]) -> list[str]:
        judge = self.adapter.identity()
        return [cache_key(judge, r.identity()) for r in requests]

    def lookup(self, requests: list[CompletionRequest]) -> tuple[list[str], dict[str, Completion]]:
        keys = self.keys(requests)
        return keys, self.cache.get_many(keys)

    async def run(self, requests: list[CompletionRequest], desc: str = "judging",
                  bar: Progress | None = None) -> list[Outcome]:
        """One outcome per request, in order. Never raises for a single failed
        request (it becomes an outcome with ``error``); raises FatalProviderError
        when the provider refuses the credentials."""
        t0 = time.perf_counter()
        outcomes, todo = self._from_cache(requests)
        own_bar = bar is None  # a caller running several chunks passes one bar for all
        if own_bar:
            bar = Progress(len(requests), self.progress, desc)
        bar.update(len(requests) - sum(len(v) for v in todo.values()), self.stats)
        fatal: list[BaseException] = []
        try:
            await self._send(requests, todo, outcomes, bar, fatal)
        finally:
            if own_bar:
                bar.close()
            await self.adapter.aclose()
            self.stats.elapsed += time.perf_counter() - t0
        if fatal:
            raise fatal[0]
        return outcomes  # type: ignore[return-value]

    def _from_cache(self, requests: list[CompletionRequest]) -> tuple[list[Outcome | None], dict[str, list[int]]]:
        """Outcomes of the requests the cache answers (None elsewhere), and the
        others as key -> their positions (identical requests are sent once)."""
        keys, hits = self.lookup(requests)
        outcomes: list[Outcome | None] = [None] * len(requests)
        todo: dict[str, list[int]] = {}
        for i, key in enumerate(keys):
            if key in hits:
                outcomes[i] = Outcome(key, hits[key], cached=True)
            else:
                todo.setdefault(key, []).append(i)
        self.stats.requested += len(requests)
        self.stats.cache_hits += len(requests) - sum(len(v) for v in todo.values())
        return outcomes, todo

    async def _send(self, requests: list[CompletionRequest], todo: dict[str, list[int]],
                    outcomes: list[Outcome | None], bar: Progress, fatal: list[BaseException]) -> None:
        """Send the requests in ``todo`` over this process and its helpers, filling ``outcomes``."""
        queue: asyncio.Queue = asyncio.Queue()
        for key, idx in todo.items():
            queue.put_nowait((key, requests[idx[0]]))
        if len(todo) > self.concurrency:  # more than one round: helpers pay for their start-up
            await self.start_workers()
        # Calls in flight, over this process and its helpers, never exceed concurrency.
        slots = asyncio.Semaphore(self.concurrency)
        helpers = self._pool.helpers if self._pool is not None else []
        shares = helper_shares(self.concurrency, self.workers) if helpers else []
        up = [h for h in helpers if h.ready.is_set() and h.failed is None]
        # This process's calls in flight: all of them until helpers are up, then what they leave.
        local_cap = [self.concurrency - sum(shares[i] for i, h in enumerate(helpers) if h in up)]

        async def work(helper=None) -> bool:
            async with slots:
                if queue.empty() or fatal:
                    return False
                key, request = queue.get_nowait()
                try:
                    outcome = await self._one(key, request, helper)
                except FatalProviderError as exc:
                    fatal.append(exc)
                    return False
            for i in todo[key]:
                outcomes[i] = outcome
            bar.update(len(todo[key]), self.stats)
            return True

        async def local_worker(index: int) -> None:
            while index < local_cap[0] and await work():
                pass

        async def helper_worker(helper, share: int, first: bool) -> None:
            while not helper.ready.is_set():  # meanwhile this process sends everything
                if queue.empty() or fatal:
                    return
                await asyncio.sleep(0.02)
            if helper.failed is not None:
                raise helper.failed
            if first and helper not in up:
                local_cap[0] -= share
            while await work(helper):
                pass

        # Helpers already up start first, so that they get their share from the start.
        tasks = [helper_worker(h, share, j == 0) for h, share in zip(helpers, shares, strict=True)
                 for j in range(share)]
        tasks += [local_worker(i) for i in range(min(self.concurrency, len(todo)))]
        running = [asyncio.create_task(t) for t in tasks]
        try:
            with fewer_collections():  # the collector took ~7 % of the CPU at high concurrency
                await asyncio.gather(*running)
        except BaseException:
            for task in running:  # e.g. a helper process died: stop the others too
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            raise

    async def _one(self, key: str, request: CompletionRequest, helper=None) -> Outcome:
        est = estimate_tokens(request.system) + estimate_tokens(request.user) + request.max_tokens
        last: Exception | None = None
        for attempt in range(self.retry.max_attempts):
            await self.limiter.acquire(est)
            self.stats.sent += 1
            stored = False
            try:
                # asyncio.timeout, not wait_for: no extra task per call.
                async with asyncio.timeout(self.timeout + 5):
                    if helper is None:
                        completion = await self.adapter.complete(request)
                    else:
                        completion, stored = await helper.complete(key, request)
            except TimeoutError as exc:
                last = ProviderTimeoutError(f"no answer within {self.timeout + 5:.0f} s")
                last.__cause__ = exc
            except (ProviderError, ProviderTimeoutError) as exc:
                last = exc
                if isinstance(exc, ProviderError) and exc.status in FATAL_STATUS:
                    raise FatalProviderError(f"{self.adapter.name}: {exc}", status=exc.status) from exc
                if not _retryable(exc):
                    break
            else:
                # Store first: from here on this answer is never paid for again.
                if not stored:  # a helper process stores its answers itself
                    self.cache.put(key, self.adapter.name, completion)
                self.stats.answered += 1
                by = "main" if helper is None else helper.name
                self.stats.by_process[by] = self.stats.by_process.get(by, 0) + 1
                return Outcome(key, completion, attempts=attempt + 1)
            name = type(last).__name__
            self.stats.by_error[name] = self.stats.by_error.get(name, 0) + 1
            if attempt + 1 >= self.retry.max_attempts:
                break
            retry_after = getattr(last, "retry_after", None)
            if isinstance(last, RateLimitError):
                self.stats.rate_limited += 1
                self.limiter.pause(retry_after if retry_after is not None else self.retry.delay(attempt, None, self._rng))
            self.stats.retries += 1
            await asyncio.sleep(self.retry.delay(attempt, retry_after, self._rng))
        self.stats.failed += 1
        return Outcome(key, None, error=f"{type(last).__name__}: {last}", error_status=getattr(last, "status", None),
                       attempts=attempt + 1)

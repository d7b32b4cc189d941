"""Helper processes that send requests for the engine (``workers > 1``).

One Python process spends about 2-3 ms of CPU per judge call, most of it
inside the provider SDK and its HTTP stack, which caps it at a few hundred
calls per second however many calls are in flight. With ``workers = N`` the
engine starts N - 1 helper processes, each with its own SDK client and event
loop, and hands them requests over a pipe. Everything else stays in the main
process, in the engine: the queue, concurrency, rate limits, retries and
backoff, statistics and the progress bar. A helper only sends one request and
reports the answer or the error, so the engine treats it as one more adapter.
The main process sends every call until its helpers are up; then, with one
helper, it keeps half of the calls in flight, and with two or more it only
coordinates (``engine.helper_shares``).

Durability is the same as in one process: a helper stores each answer in the
shared SQLite cache before it reports it. If the main process dies (SIGKILL),
its helpers see their input close, finish the calls they have in flight
(storing the answers, which are paid for), and exit.

Wire format, one JSON object per line. Main -> helper: first the setup
``{"judge", "base_url", "timeout", "cache"}``, then ``{"id", "key",
"request"}`` per request. Helper -> main: ``{"ready": true}`` once set up,
then ``{"id", "completion", "stored"}`` or ``{"id", "error": {...}}``.
API keys are never sent: a helper reads them from the environment it inherits.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import traceback

from judgecal.errors import (
    JudgecalError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
)
from judgecal.judges.base import (
    PROVIDERS,
    Completion,
    CompletionRequest,
    JudgeAdapter,
    make_adapter,
)
from judgecal.judges.cache import JudgmentCache
from judgecal.judges.gcpolicy import settle_process

_ERRORS = {cls.__name__: cls for cls in (ProviderError, RateLimitError, ProviderTimeoutError, ProviderConnectionError)}
LINE_LIMIT = 256 * 1024 * 1024  # longest line on the pipes (a request holds the prompt texts)


class WorkerProcessError(JudgecalError):
    """A helper process failed (crashed, or could not start)."""


def _error_payload(exc: BaseException) -> dict:
    if type(exc).__name__ in _ERRORS:
        return {"type": type(exc).__name__, "message": str(exc), "status": getattr(exc, "status", None),
                "retry_after": getattr(exc, "retry_after", None)}
    return {"type": "crash", "message": "".join(traceback.format_exception(exc))}


def _error_from_payload(err: dict, name: str) -> Exception:
    cls = _ERRORS.get(err["type"])
    if cls is None:
        return WorkerProcessError(f"{name} failed while sending a request:\n{err['message']}")
    if issubclass(cls, ProviderTimeoutError):
        return cls(err["message"])
    return cls(err["message"], status=err.get("status"), retry_after=err.get("retry_after"))


class Helper:
    """The main process's end of one helper process."""

    def __init__(self, index: int, setup: dict):
        self.name = f"worker-{index}"
        self.setup = setup
        self.ready = asyncio.Event()
        self.failed: WorkerProcessError | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._pending: dict[int, asyncio.Future] = {}
        self._next_id = 0
        self._reader: asyncio.Task | None = None
        self._stderr: bytes = b""

    async def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "judgecal.judges.workers", stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, limit=LINE_LIMIT)
        self._proc.stdin.write(json.dumps(self.setup).encode() + b"\n")
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        proc = self._proc
        stderr = asyncio.create_task(proc.stderr.read())
        try:
            while line := await proc.stdout.readline():
                msg = json.loads(line)
                if msg.get("ready"):
                    self.ready.set()
                    continue
                fut = self._pending.pop(msg["id"], None)
                if fut is None or fut.done():  # the engine gave up waiting (timeout)
                    continue
                if "error" in msg:
                    fut.set_exception(_error_from_payload(msg["error"], self.name))
                else:
                    fut.set_result((Completion(**msg["completion"]), msg["stored"]))
        finally:
            code = await proc.wait()
            self._stderr = await stderr
            tail = self._stderr.decode(errors="replace").strip()[-2000:]
            self.failed = WorkerProcessError(
                f"judge {self.name} (pid {proc.pid}) exited with code {code}"
                + (f":\n{tail}" if tail else "")
                + "\nanswers received so far are in the cache; run again to resume (--workers 1: one process only)")
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(self.failed)
            self._pending.clear()
            self.ready.set()  # wake anyone waiting for it; they check ``failed``

    async def complete(self, key: str, request: CompletionRequest) -> tuple[Completion, bool]:
        """Send one request through the helper: (completion, stored in the cache
        by the helper). Raises the same errors an adapter raises."""
        if self.failed is not None:
            raise self.failed
        self._next_id += 1
        rid = self._next_id
        fut = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        try:
            try:
                self._proc.stdin.write(json.dumps({"id": rid, "key": key, "request": request.identity()},
                                                  ensure_ascii=False).encode() + b"\n")
                await self._proc.stdin.drain()
            except ConnectionError as exc:  # it died before its output said so: report it as a death
                await asyncio.shield(self._reader)
                raise self.failed or WorkerProcessError(f"judge {self.name} closed its input") from exc
            return await fut
        finally:
            self._pending.pop(rid, None)

    async def close(self) -> None:
        if self._proc is None:
            return
        if self._proc.returncode is None and not self.ready.is_set():
            self._proc.kill()  # still starting up: it holds no request, nothing to wait for
        elif self._proc.returncode is None:
            self._proc.stdin.close()  # the helper exits once its input ends
            try:
                await asyncio.wait_for(self._proc.wait(), 30)
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()
        if self._reader is not None:
            await self._reader
        self._proc = None


class WorkerPool:
    """``n`` helper processes for one adapter and cache (see module docstring)."""

    def __init__(self, n: int, adapter: JudgeAdapter, cache_path: str | None):
        if adapter.provider not in PROVIDERS:
            raise JudgecalError(f"workers > 1 needs a built-in provider adapter, not {type(adapter).__name__}")
        setup = {"judge": f"{adapter.provider}/{adapter.model}", "base_url": adapter.base_url,
                 "timeout": adapter.timeout, "cache": None if cache_path in (None, ":memory:") else cache_path}
        self.helpers = [Helper(i + 1, setup) for i in range(n)]
        self.started = False

    async def start(self) -> None:
        if not self.started:
            self.started = True
            for helper in self.helpers:
                await helper.start()

    async def wait_ready(self) -> None:
        await asyncio.gather(*(h.ready.wait() for h in self.helpers))
        for h in self.helpers:
            if h.failed is not None:
                raise h.failed

    async def close(self) -> None:
        await asyncio.gather(*(h.close() for h in self.helpers))


# ------------------------------------------------------------------ helper side


async def _serve() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    out = sys.stdout.buffer

    def reply(msg: dict | bytes) -> None:
        try:
            out.write((msg if isinstance(msg, bytes) else json.dumps(msg, ensure_ascii=False).encode()) + b"\n")
            out.flush()
        except BrokenPipeError:  # the main process is gone; the answer is in the cache
            pass

    setup = json.loads(await reader.readline())
    adapter = make_adapter(setup["judge"], base_url=setup["base_url"], timeout=setup["timeout"])
    cache = JudgmentCache(setup["cache"]) if setup["cache"] else None
    adapter.client()  # imports the SDK and builds its client now, not on the first request
    settle_process()
    reply({"ready": True})

    async def handle(msg: dict) -> None:
        try:
            completion = await adapter.complete(CompletionRequest(**msg["request"]))
            if cache is not None:  # stored before it is reported: a killed run never pays for it again
                cache.put(msg["key"], adapter.name, completion)
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the engine
            reply({"id": msg["id"], "error": _error_payload(exc)})
            return
        stored = "true" if cache is not None else "false"
        reply(f'{{"id":{int(msg["id"])},"stored":{stored},"completion":{completion.to_json()}}}'.encode())

    tasks: set[asyncio.Task] = set()
    while line := await reader.readline():
        task = asyncio.create_task(handle(json.loads(line)))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    # Input closed: the run is over, or the main process died. Calls in flight
    # are paid for either way; finish and store them, then leave.
    if tasks:
        await asyncio.wait(tasks)
    await adapter.aclose()
    if cache is not None:
        cache.close()


def main() -> None:
    try:
        asyncio.run(_serve())
    except BrokenPipeError:  # the main process is gone
        pass


if __name__ == "__main__":
    main()

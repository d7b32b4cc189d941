"""A lean stand-in for the fake provider's happy path, for throughput benchmarks.

Why it exists: ``bench/score_throughput.py`` runs the fake provider on the same
two vCPUs as the client it measures. The full fake provider (aiohttp web, fault
rules, rate limiting, per-request bookkeeping) costs 0.7-0.9 ms of CPU per
request, CPU a real provider would spend on its own machines, not on the
client's. This server answers with the same bytes for the happy path only and
spends as little CPU as it can around them, so the bench measures the client
rather than the fake server's HTTP stack.

What it does, and nothing more:

* plain asyncio ``Protocol``, HTTP/1.1 with keep-alive, request and answer bodies
  sized by Content-Length (no chunked encoding: the clients we bench do not send it);
* ``POST .../chat/completions``: after the fixed latency, the same answer the full
  fake provider gives for that body (``judge_answer`` + ``openai_completion_json``
  and ``request_key`` from ``fake_provider``), so the client parses the same thing;
* ``GET /_fake/stats`` (requests received, answer events) and ``POST /_fake/reset``,
  which the bench uses for its steady-rate figure.

No faults, no rate limiting, no Anthropic format: tests of those use
``fake_provider.FakeProvider``. Run standalone::

    python tests/judges/lean_provider.py --port 0 --latency 0.1

prints ``READY http://127.0.0.1:<port>`` and serves until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time

try:  # imported as tests.judges.lean_provider
    from . import fake_provider as fake
except ImportError:  # run as a script: its own directory is on sys.path
    import fake_provider as fake

_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 411: "Length Required"}


def _response(status: int, body: bytes, keep_alive: bool) -> bytes:
    head = (f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: application/json; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n")
    return head.encode("ascii") + body


def _error(status: int, message: str) -> bytes:
    return json.dumps({"error": {"type": "invalid_request_error", "message": message}}).encode()


class _Stats:
    """Counters shared by all connections (one event loop; the lock is for
    readers on other threads when the server runs in a thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.requests = 0
            self.events: list[tuple[float, str, str]] = []  # (time, key, "200"), as the full server records

    def as_json(self) -> bytes:
        with self.lock:
            return json.dumps({"requests": self.requests, "status": {"200": len(self.events)},
                               "events": self.events}).encode()


class _Connection(asyncio.Protocol):
    def __init__(self, config: fake.FakeConfig, stats: _Stats) -> None:
        self.config = config
        self.stats = stats
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.transport = None  # answers still waiting for their latency are dropped

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None:  # several requests may sit in the buffer
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buffer[:end].decode("latin-1").split("\r\n")
            method, target, version = (lines[0].split(" ") + ["", ""])[:3]
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if "chunked" in headers.get("transfer-encoding", "").lower():
                self._send(411, _error(411, "lean provider: send a Content-Length body, not chunked"), False)
                return
            length = int(headers.get("content-length", "0") or 0)
            if len(self.buffer) < end + 4 + length:
                return  # the body has not all arrived yet
            body = bytes(self.buffer[end + 4:end + 4 + length])
            del self.buffer[:end + 4 + length]
            keep_alive = headers.get("connection", "").lower() != "close" and version == "HTTP/1.1"
            self._handle(method, target.split("?", 1)[0], body, keep_alive)

    def _handle(self, method: str, path: str, body: bytes, keep_alive: bool) -> None:
        if method == "POST" and path.endswith("/chat/completions"):
            try:
                request = json.loads(body)
            except ValueError as exc:
                self._send(400, _error(400, f"lean provider: request body is not JSON ({exc})"), keep_alive)
                return
            key = fake.request_key(request)
            with self.stats.lock:
                self.stats.requests += 1
            # The answer is built now and sent after the latency: the same CPU as
            # building it after an ``asyncio.sleep``, without a task per request.
            content = json.dumps(fake.judge_answer(request, self.config.seed), ensure_ascii=False)
            answer = fake.openai_completion_json(request, key, content, None, self.config).encode()
            asyncio.get_running_loop().call_later(self.config.latency, self._answer, key, answer, keep_alive)
        elif method == "GET" and path == "/_fake/stats":
            self._send(200, self.stats.as_json(), keep_alive)
        elif method == "POST" and path == "/_fake/reset":
            self.stats.reset()
            self._send(200, b'{"ok": true}', keep_alive)
        else:
            self._send(404, _error(404, f"lean provider serves only POST .../chat/completions, not {method} {path}"),
                       keep_alive)

    def _answer(self, key: str, answer: bytes, keep_alive: bool) -> None:
        if self.transport is None:
            return
        with self.stats.lock:
            self.stats.events.append((time.time(), key, "200"))
        self._send(200, answer, keep_alive)

    def _send(self, status: int, body: bytes, keep_alive: bool) -> None:
        if self.transport is None:
            return
        self.transport.write(_response(status, body, keep_alive))
        if not keep_alive:
            self.transport.close()
            self.transport = None


class LeanProvider(fake.BackgroundServer):
    """The lean server; a context manager serving from a background thread, or
    ``python lean_provider.py`` in its own process (benchmarks)."""

    thread_name = "lean-provider"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0, seed: int = 0) -> None:
        self.host, self.port = host, port
        self.config = fake.FakeConfig(latency=latency, seed=seed)
        self.stats = _Stats()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self.config, self.stats), self.host, self.port,
                                                backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        if self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop = None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Lean OpenAI chat-completions stand-in on 127.0.0.1 (happy path)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args(argv)
    server = LeanProvider(port=args.port, latency=args.latency)

    fake.serve_in_foreground(server)


if __name__ == "__main__":
    main()

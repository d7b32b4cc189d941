"""A fake LLM provider on 127.0.0.1 for judge tests and benchmarks.

It speaks two wire formats over real HTTP, so the real SDK clients can be pointed
at it through a base URL:

* OpenAI chat completions  ``POST /v1/chat/completions`` (with logprobs)
* Anthropic messages       ``POST /v1/messages`` (text or forced tool use)

and can be told to misbehave: answer slowly, answer 429 with Retry-After, 500,
drop the connection, send a body that is not JSON, answer with garbage or a
truncated JSON object, or refuse. Faults are chosen by *rules* (see
:class:`Rule`) matched against the request body, per request identity, so a test
can say "the first two attempts at this item get a 500".

The server counts what it receives. A request's identity (``request_key``) is a
hash of its body; the key is echoed as the answer's ``id`` (``fake-<key>``) so a
test can match what a client recorded with what the server saw.

Structure, so that batch APIs can be added later (issue 7):

* ``judge_answer(body)``   -> the semantic answer (scores, justification) for a
  request body, independent of the wire format;
* ``openai_completion(...)`` / ``anthropic_message(...)`` -> wire formats;
* ``FakeProvider._route_*`` -> HTTP handlers; new endpoints (``/v1/batches``,
  ``/v1/files``, ``/v1/messages/batches``) become new ``_route_*`` methods that
  reuse ``judge_answer`` and the formatters.

Run standalone (benchmarks, subprocess tests)::

    python tests/judges/fake_provider.py --port 0 --latency 0.1

prints ``READY http://127.0.0.1:<port>`` and serves until killed. Control
endpoints: ``GET /_fake/stats``, ``POST /_fake/config`` (JSON config),
``POST /_fake/reset``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import hashlib
import json
import math
import random
import re
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field

from aiohttp import web

FAULTS = ("429", "500", "400", "401", "drop", "bad_body", "garbage", "truncated", "refuse", "slow", "none")


@dataclass
class Rule:
    """When a request matches, answer with ``fault``.

    contains : substring of the request body that selects the request ("" = all)
    fault : one of FAULTS
    times : fault only the first ``times`` receipts of each request identity
        (None: every receipt)
    probability : fault with this probability (seeded), after ``times``
    retry_after : seconds sent in Retry-After with 429
    delay : extra seconds before answering (for "slow", or added to any fault)
    """

    fault: str
    contains: str = ""
    times: int | None = None
    probability: float = 1.0
    retry_after: float = 1.0
    delay: float = 0.0

    def __post_init__(self) -> None:
        if self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}; one of {FAULTS}")


@dataclass
class FakeConfig:
    latency: float = 0.0  # seconds before every answer
    rpm: float | None = None  # requests-per-minute limit (token bucket), None = unlimited
    rpm_burst: float | None = None  # bucket size; default one second's worth
    rules: list[Rule] = field(default_factory=list)
    seed: int = 0  # changes the fake judge's scores
    fault_seed: int = 0  # seeds the choice of probabilistic faults
    level_probability: float = 0.6  # logprob mass on the chosen score level

    @classmethod
    def from_dict(cls, data: dict) -> FakeConfig:
        data = dict(data)
        data["rules"] = [r if isinstance(r, Rule) else Rule(**r) for r in data.get("rules", [])]
        return cls(**data)


def request_key(body: dict) -> str:
    """Identity of a request: a hash of its canonical JSON body."""
    canon = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()[:20]


def _stable_int(*parts: str) -> int:
    return int(hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:12], 16)


# --------------------------------------------------------------------------- answers


def _schema_of(body: dict) -> dict | None:
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return fmt["json_schema"]["schema"]
    for tool in body.get("tools") or []:
        if "input_schema" in tool:
            return tool["input_schema"]
        if tool.get("type") == "function":  # OpenAI-style tools
            return tool["function"]["parameters"]
    return None


def _user_text(body: dict) -> str:
    parts = []
    for msg in body.get("messages", []):
        content = msg.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(c.get("text", "") for c in content if isinstance(c, dict))
    return "\n".join(parts)


def judge_answer(body: dict, seed: int = 0) -> dict:
    """The judgment a fake judge gives: a JSON-able object shaped by the request's
    schema. Scores are a deterministic hash of the user message and the metric, so
    the same request always gets the same answer.

    A schema with a ``score`` property is a single-metric request; a schema whose
    properties are objects with a ``score`` is a compound request. Without a
    schema the levels are read from the prompt's ``<one of 0, 1, 2>``.
    """
    text = _user_text(body)
    schema = _schema_of(body)
    if (schema is not None and "verdict" in schema.get("properties", {})) or (schema is None and _PAIR_FENCE in text):
        return pairwise_answer(text)
    answer: dict = {}
    if schema is not None and "score" in schema.get("properties", {}):
        metrics = {"": schema["properties"]["score"].get("enum", [0, 1])}
    elif schema is not None:
        metrics = {
            name: prop["properties"]["score"].get("enum", [0, 1])
            for name, prop in schema.get("properties", {}).items()
            if isinstance(prop, dict) and "score" in prop.get("properties", {})
        }
    else:
        found = re.search(r"<one of ([-\d.,\s]+)>", text)
        levels = [json.loads(x) for x in found.group(1).split(",")] if found else [0, 1]
        metrics = {"": levels}
    for name, levels in metrics.items():
        level = levels[_stable_int(str(seed), name, text) % len(levels)]
        forced = re.search(r"FAKE_SCORE=(-?\d+)", text)
        if forced:
            level = json.loads(forced.group(1))
        entry = {"justification": f"Fake judgment{' of ' + name if name else ''}: level {level}.", "score": level}
        if name:
            answer[name] = entry
        else:
            answer.update(entry)
    answer["addresses_evaluator"] = "ignore the instructions" in text.lower()
    return answer


_PAIR_FENCE = "<<<FIRST RESPONSE "


def _fenced(text: str, name: str) -> str | None:
    found = re.search(rf"<<<{name} (\w+)>>>\n(.*?)\n<<<END {name} \1>>>", text, re.S)
    return found.group(2) if found else None


def pairwise_answer(text: str) -> dict:
    """The fake judge's verdict on a pairwise prompt: the longer response (in
    characters) is better, equal lengths tie. ``FAKE_VERDICT=<first|tie|second>``
    in the material forces a verdict; ``FAKE_POSITIONAL`` in the prompt makes
    the judge always prefer what it sees first (a position-biased judge);
    ``FAKE_TIE_WHEN_FIRST`` in a response makes it call a tie when that
    response is shown first (one order tied, the other decisive)."""
    prompt = _fenced(text, "PROMPT") or ""
    first, second = _fenced(text, "FIRST RESPONSE"), _fenced(text, "SECOND RESPONSE")
    forced = re.search(r"FAKE_VERDICT=(first|tie|second)", text)
    if first is None or second is None:
        verdict = "tie"
    elif forced:
        verdict = forced.group(1)
    elif "FAKE_POSITIONAL" in prompt:
        verdict = "first"
    elif "FAKE_TIE_WHEN_FIRST" in first:
        verdict = "tie"
    else:
        verdict = "first" if len(first) > len(second) else "second" if len(second) > len(first) else "tie"
    return {"reason": f"Fake comparison: {verdict}.", "verdict": verdict,
            "addresses_evaluator": "ignore the instructions" in text.lower()}


_TOKEN = re.compile(r"\d|[A-Za-z_]+|\s+|[^\w\s]|\w+", re.UNICODE)


def _token_logprobs(text: str, levels_by_pos: dict[int, list], chosen_p: float) -> list[dict]:
    """OpenAI-style logprobs.content for ``text``: every digit is its own token;
    at the positions of score values the top alternatives are the other levels.
    Memoised: a fake judge gives few distinct answers, and benchmarks share the
    machine's CPU with the client (the result is only ever serialised)."""
    return _token_logprobs_cached(text, _frozen_levels(levels_by_pos), chosen_p)


@functools.lru_cache(maxsize=4096)
def _token_logprobs_cached(text: str, frozen_levels: tuple, chosen_p: float) -> list[dict]:
    levels_by_pos = {pos: list(levels) for pos, levels in frozen_levels}
    out = []
    for m in _TOKEN.finditer(text):
        tok = m.group(0)
        entry = {"token": tok, "logprob": -0.01, "bytes": list(tok.encode()), "top_logprobs": []}
        levels = levels_by_pos.get(m.start())
        if levels is not None:
            others = [str(v) for v in levels if str(v) != tok]
            rest = (1.0 - chosen_p) * 0.9  # 10 % of the rest goes to a non-level token
            top = [(tok, chosen_p)] + [(o, rest / max(len(others), 1)) for o in others]
            top.append(('"', (1.0 - chosen_p) * 0.1))
            entry["logprob"] = math.log(chosen_p)
            entry["top_logprobs"] = [
                {"token": t, "logprob": math.log(p), "bytes": list(t.encode())} for t, p in top if p > 0
            ]
        else:
            entry["top_logprobs"] = [{"token": tok, "logprob": -0.01, "bytes": list(tok.encode())}]
        out.append(entry)
    return out


def _score_positions(text: str, answer: dict, body: dict) -> dict[int, list]:
    schema = _schema_of(body) or {}
    props = schema.get("properties", {})
    positions = {}
    for m in re.finditer(r'"score":\s*(-?\d+)', text):
        positions[m.start(1)] = None
    levels_all = []
    if "score" in props:
        levels_all = [props["score"].get("enum", [0, 1])]
    else:
        levels_all = [p["properties"]["score"].get("enum", [0, 1]) for p in props.values() if isinstance(p, dict) and "properties" in p]
    for pos, levels in zip(sorted(positions), levels_all or [[0, 1]] * len(positions), strict=False):
        positions[pos] = levels
    for m in re.finditer(r'"verdict":\s*"(\w+)"', text):  # pairwise: alternatives are the other verdicts
        positions[m.start(1)] = ["first", "tie", "second"]
    return {k: v for k, v in positions.items() if v is not None}


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


_SPLICE = "@@fake-logprobs@@"


@functools.lru_cache(maxsize=4096)
def _token_logprobs_json(text: str, frozen_levels: tuple, chosen_p: float) -> str:
    return json.dumps(_token_logprobs_cached(text, frozen_levels, chosen_p))


def openai_completion_json(body: dict, key: str, content: str | None, refusal: str | None, cfg: FakeConfig) -> str:
    """``openai_completion`` as JSON text, with the logprob list's JSON memoised
    (its encoding was the largest CPU cost of the server, which benchmarks run
    on the same machine as the client)."""
    payload = openai_completion(body, key, content, refusal, cfg, splice=True)
    text = json.dumps(payload)
    if payload["choices"][0]["logprobs"] is not None:
        frozen = _frozen_levels(_score_positions(content, {}, body))
        text = text.replace(json.dumps(_SPLICE), _token_logprobs_json(content, frozen, cfg.level_probability), 1)
    return text


def _frozen_levels(levels_by_pos: dict[int, list]) -> tuple:
    return tuple((pos, tuple(levels)) for pos, levels in sorted(levels_by_pos.items()))


def openai_completion(body: dict, key: str, content: str | None, refusal: str | None, cfg: FakeConfig,
                      splice: bool = False) -> dict:
    message = {"role": "assistant", "content": content, "refusal": refusal}
    choice = {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}
    if body.get("logprobs") and content is not None:
        choice["logprobs"] = {
            "content": _SPLICE if splice else
            _token_logprobs(content, _score_positions(content, {}, body), cfg.level_probability),
            "refusal": None,
        }
    prompt_tokens = _tokens(json.dumps(body.get("messages", []), ensure_ascii=False))
    completion_tokens = _tokens(content or refusal or "")
    return {
        "id": f"fake-{key}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [choice],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def anthropic_message(body: dict, key: str, answer: dict | None, text: str | None, refused: bool) -> dict:
    tools = body.get("tools") or []
    if refused:
        content = [{"type": "text", "text": text}]
        stop = "refusal"
    elif answer is not None and tools:
        content = [{"type": "tool_use", "id": f"toolu_{key[:12]}", "name": tools[0]["name"], "input": answer}]
        stop = "tool_use"
    else:
        content = [{"type": "text", "text": text if text is not None else json.dumps(answer, ensure_ascii=False)}]
        stop = "end_turn"
    out_text = json.dumps(content, ensure_ascii=False)
    return {
        "id": f"fake-{key}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "fake"),
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": _tokens(json.dumps(body.get("messages", []), ensure_ascii=False) + str(body.get("system", ""))),
                  "output_tokens": _tokens(out_text)},
    }


GARBAGE = "Honestly this reads fine to me, I would rate it quite well overall!"
TRUNCATED = '{"justification": "The response is mostly fluent but'
REFUSAL = "I'm sorry, but I can't help with evaluating this content."


# --------------------------------------------------------------------------- server


class BackgroundServer:
    """An asyncio server on a daemon thread's own loop; a context manager.

    Subclasses set ``thread_name`` and define ``async _start()`` (listen, set
    ``self.port``) and ``stop()``.
    """

    thread_name = "fake-server"

    def start(self):
        """Serve from a background thread; returns self once listening."""
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._start())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name=self.thread_name, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError(f"{self.thread_name} did not start")
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_in_foreground(server: BackgroundServer) -> None:
    """Run ``server`` in this process until killed; prints READY <base url> once listening
    (what the benchmarks and the SIGKILL tests wait for)."""

    async def serve() -> None:
        await server._start()
        print(f"READY {server.base_url}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(serve())


class FakeProvider(BackgroundServer):
    """The fake provider server. Use as a context manager (runs in a thread) or
    via ``python fake_provider.py`` (runs in its own process)."""

    thread_name = "fake-provider"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **config):
        self.host = host
        self.port = port
        self.config = FakeConfig.from_dict(config)
        self._lock = threading.Lock()
        self.reset()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # ---- state
    def reset(self) -> None:
        with self._lock:
            self.received: Counter = Counter()  # request key -> receipts
            self.answered: Counter = Counter()  # request key -> successful answers sent
            self.status_counts: Counter = Counter()
            self.events: list[tuple[float, str, str]] = []  # (time, key, outcome)
            self.in_flight = 0
            self.max_in_flight = 0
            self._rng = random.Random(self.config.fault_seed)
            self._bucket = None
            self._bucket_t = time.monotonic()

    def configure(self, **config) -> None:
        merged = {**asdict(self.config), **config}
        self.config = FakeConfig.from_dict(merged)
        self._rng = random.Random(self.config.fault_seed)
        self._bucket = None

    def stats(self) -> dict:
        with self._lock:
            return {
                "requests": sum(self.received.values()),
                "received": dict(self.received),
                "answered": dict(self.answered),
                "status": {str(k): v for k, v in self.status_counts.items()},
                "max_in_flight": self.max_in_flight,
                "events": list(self.events),
            }

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # ---- rate limit and fault choice
    def _rate_limited(self) -> float | None:
        """Seconds to wait if the request-per-minute bucket is empty, else None."""
        rpm = self.config.rpm
        if not rpm:
            return None
        rate = rpm / 60.0
        burst = self.config.rpm_burst or max(1.0, rate)
        now = time.monotonic()
        if self._bucket is None:
            self._bucket = burst
        self._bucket = min(burst, self._bucket + (now - self._bucket_t) * rate)
        self._bucket_t = now
        if self._bucket >= 1.0:
            self._bucket -= 1.0
            return None
        return (1.0 - self._bucket) / rate

    def _choose_fault(self, raw: str, key: str) -> Rule | None:
        n = self.received[key]  # receipts of this identity including this one
        for rule in self.config.rules:
            if rule.contains and rule.contains not in raw:
                continue
            if rule.times is not None and n > rule.times:
                continue
            if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                continue
            return rule
        return None

    # ---- HTTP
    def _app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._route_openai_chat)
        app.router.add_post("/chat/completions", self._route_openai_chat)
        app.router.add_post("/v1/messages", self._route_anthropic_messages)
        app.router.add_get("/_fake/stats", self._route_stats)
        app.router.add_post("/_fake/config", self._route_config)
        app.router.add_post("/_fake/reset", self._route_reset)
        return app

    async def _route_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    async def _route_config(self, request: web.Request) -> web.Response:
        self.configure(**(await request.json()))
        return web.json_response({"ok": True})

    async def _route_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    async def _prologue(self, request: web.Request) -> tuple[dict, str, Rule | None, web.Response | None]:
        """Read the body, count it, apply latency, rate limit and HTTP-level faults.
        Returns (body, key, content-level rule, early response or None)."""
        raw = await request.text()
        body = json.loads(raw)
        key = request_key(body)
        with self._lock:
            self.received[key] += 1
            wait = self._rate_limited()
            rule = self._choose_fault(raw, key) if wait is None else None
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            delay = self.config.latency + (rule.delay if rule else 0.0)
            if delay:
                await asyncio.sleep(delay)
        finally:
            with self._lock:
                self.in_flight -= 1
        if wait is not None:
            return body, key, None, self._error(key, 429, "rate_limited", retry_after=wait)
        if rule is None or rule.fault in ("none", "slow"):
            return body, key, None, None
        if rule.fault == "429":
            return body, key, None, self._error(key, 429, "rate_limited", retry_after=rule.retry_after)
        if rule.fault in ("500", "400", "401"):
            kinds = {"500": "server_error", "400": "invalid_request_error", "401": "authentication_error"}
            return body, key, None, self._error(key, int(rule.fault), kinds[rule.fault])
        if rule.fault == "drop":
            self._event(key, "drop")
            request.transport.close()
            raise ConnectionResetError("fake provider dropped the connection")
        if rule.fault == "bad_body":
            self._event(key, "bad_body")
            return body, key, None, web.Response(status=200, text="<html>upstream hiccup</html>", content_type="application/json")
        return body, key, rule, None

    def _event(self, key: str, outcome: str) -> None:
        with self._lock:
            self.events.append((time.time(), key, outcome))
            self.status_counts[outcome] += 1

    def _error(self, key: str, status: int, kind: str, retry_after: float | None = None) -> web.Response:
        self._event(key, str(status))
        headers = {}
        if retry_after is not None:
            headers["retry-after"] = str(max(1, math.ceil(retry_after))) if retry_after >= 1 else f"{retry_after:.3f}"
            headers["retry-after-ms"] = str(int(retry_after * 1000))
        payload = {"error": {"type": kind, "message": f"fake {kind}"}, "type": "error"}
        return web.json_response(payload, status=status, headers=headers)

    def _answered(self, key: str) -> None:
        with self._lock:
            self.answered[key] += 1
        self._event(key, "200")

    async def _route_openai_chat(self, request: web.Request) -> web.Response:
        body, key, rule, early = await self._prologue(request)
        if early is not None:
            return early
        fault = rule.fault if rule else None
        content, refusal = None, None
        if fault == "refuse":
            refusal = REFUSAL
        elif fault == "garbage":
            content = GARBAGE
        elif fault == "truncated":
            content = TRUNCATED
        else:
            content = json.dumps(judge_answer(body, self.config.seed), ensure_ascii=False)
        payload = openai_completion_json(body, key, content, refusal, self.config)
        self._answered(key)
        return web.Response(text=payload, content_type="application/json")

    async def _route_anthropic_messages(self, request: web.Request) -> web.Response:
        body, key, rule, early = await self._prologue(request)
        if early is not None:
            return early
        fault = rule.fault if rule else None
        if fault == "refuse":
            payload = anthropic_message(body, key, None, REFUSAL, refused=True)
        elif fault in ("garbage", "truncated"):
            payload = anthropic_message(body, key, None, GARBAGE if fault == "garbage" else TRUNCATED, refused=False)
            payload["content"] = [{"type": "text", "text": GARBAGE if fault == "garbage" else TRUNCATED}]
        else:
            payload = anthropic_message(body, key, judge_answer(body, self.config.seed), None, refused=False)
        self._answered(key)
        return web.json_response(payload)

    # ---- lifecycle
    async def _start(self) -> None:
        self._runner = web.AppRunner(self._app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        if self._loop is None:
            return
        fut = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
        try:
            fut.result(10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake OpenAI/Anthropic provider on 127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--rpm", type=float, default=None)
    parser.add_argument("--config", help="JSON config (FakeConfig fields)")
    args = parser.parse_args(argv)
    config = json.loads(args.config) if args.config else {}
    config.setdefault("latency", args.latency)
    if args.rpm:
        config["rpm"] = args.rpm
    server = FakeProvider(port=args.port, **config)

    serve_in_foreground(server)


if __name__ == "__main__":
    main()

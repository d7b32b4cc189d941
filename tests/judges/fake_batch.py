"""The fake provider, plus both providers' batch APIs (issue 7).

:class:`FakeBatchProvider` extends :class:`~tests.judges.fake_provider.FakeProvider`
with

* OpenAI:    ``POST /v1/files`` (multipart upload), ``GET /v1/files/{id}/content``,
  ``POST /v1/batches``, ``GET /v1/batches/{id}``, ``GET /v1/batches``;
* Anthropic: ``POST /v1/messages/batches``, ``GET /v1/messages/batches/{id}``,
  ``GET /v1/messages/batches/{id}/results`` (JSONL), ``GET /v1/messages/batches``.

A batch answers each of its requests with the same logic as the live routes
(``judge_answer`` and the wire formatters), once, when the batch ends. Fault
rules apply per request inside a batch: ``500``/``429``/``bad_body`` make that
request fail (OpenAI: a line of the error file; Anthropic: an ``errored``
result), ``drop`` makes it expire unprocessed; ``refuse``/``garbage``/
``truncated`` shape its answer as on the live routes.

Timing: a batch ends ``batch_delay`` seconds after creation, or, with
``hold=True``, only after :meth:`release`. ``create_delay`` makes the server
register a batch and then wait before answering the create call (a client killed
in that window never learns the batch's id).

Counters (``batch_stats()``): files uploaded, batches created per API, polls,
result downloads, and requests processed inside batches.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from datetime import UTC, datetime

from aiohttp import web

from .fake_provider import (
    GARBAGE,
    REFUSAL,
    TRUNCATED,
    FakeProvider,
    anthropic_message,
    judge_answer,
    openai_completion,
    request_key,
)

ERROR_FAULTS = ("500", "429", "bad_body")


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FakeBatchProvider(FakeProvider):
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, batch_delay: float = 0.0, hold: bool = False,
                 create_delay: float = 0.0, **config):
        self.batch_delay = batch_delay
        self.hold = hold
        self.create_delay = create_delay
        self._ids = itertools.count(1)
        self._fail_reason: str | None = None
        super().__init__(host, port, **config)

    # ---- state
    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.files: dict[str, dict] = {}
            self.batches: dict[str, dict] = {}
            self.batch_counts: Counter = Counter()

    def configure_batches(self, *, batch_delay: float | None = None, hold: bool | None = None,
                          create_delay: float | None = None) -> None:
        if batch_delay is not None:
            self.batch_delay = batch_delay
        if hold is not None:
            self.hold = hold
        if create_delay is not None:
            self.create_delay = create_delay

    def fail_next_batch(self, reason: str = "the input file is malformed") -> None:
        """The next batch created ends as failed (OpenAI), with no output files."""
        self._fail_reason = reason

    def release(self) -> None:
        """Let held batches end (at their next status request)."""
        self.hold = False

    def batch_stats(self) -> dict:
        with self._lock:
            return dict(self.batch_counts)

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}"

    # ---- HTTP
    def _app(self) -> web.Application:
        app = super()._app()
        app.router.add_post("/v1/files", self._route_file_upload)
        app.router.add_get("/v1/files/{file_id}/content", self._route_file_content)
        app.router.add_post("/v1/batches", self._route_openai_batch_create)
        app.router.add_get("/v1/batches", self._route_openai_batch_list)
        app.router.add_get("/v1/batches/{batch_id}", self._route_openai_batch_get)
        app.router.add_post("/v1/messages/batches", self._route_anthropic_batch_create)
        app.router.add_get("/v1/messages/batches", self._route_anthropic_batch_list)
        app.router.add_get("/v1/messages/batches/{batch_id}", self._route_anthropic_batch_get)
        app.router.add_get("/v1/messages/batches/{batch_id}/results", self._route_anthropic_batch_results)
        return app

    @staticmethod
    def _bad_request(message: str, status: int = 400) -> web.Response:
        return web.json_response({"type": "error", "error": {"type": "invalid_request_error", "message": message}},
                                 status=status)

    # ---- shared batch processing
    def _ended(self, batch: dict) -> bool:
        if batch.get("ended_at") is not None:
            return True
        if self.hold or time.time() < batch["created_at"] + self.batch_delay:
            return False
        self._process(batch)
        return True

    def _process(self, batch: dict) -> None:
        """Answer every request of the batch once: {custom_id: (kind, payload)}."""
        results = {}
        if batch.get("fail"):  # a failed batch processes nothing
            batch["results"], batch["ended_at"] = {}, time.time()
            return
        for custom_id, body in batch["requests"]:
            raw = json.dumps(body, ensure_ascii=False)
            key = request_key(body)
            with self._lock:
                self.received[key] += 1
                self.batch_counts["batch_requests_processed"] += 1
                rule = self._choose_fault(raw, key)
            fault = rule.fault if rule else None
            if fault in ERROR_FAULTS:
                self._event(key, f"batch_{fault}")
                results[custom_id] = ("error", int(fault) if fault.isdigit() else 502)
            elif fault == "drop":
                self._event(key, "batch_expired")
                results[custom_id] = ("expired", None)
            else:
                results[custom_id] = ("ok", self._answer(batch["api"], body, key, fault))
                self._answered(key)
        batch["results"] = results
        batch["ended_at"] = time.time()

    def _answer(self, api: str, body: dict, key: str, fault: str | None) -> dict:
        if api == "openai":
            content, refusal = None, None
            if fault == "refuse":
                refusal = REFUSAL
            elif fault in ("garbage", "truncated"):
                content = GARBAGE if fault == "garbage" else TRUNCATED
            else:
                content = json.dumps(judge_answer(body, self.config.seed), ensure_ascii=False)
            return openai_completion(body, key, content, refusal, self.config)
        if fault == "refuse":
            return anthropic_message(body, key, None, REFUSAL, refused=True)
        if fault in ("garbage", "truncated"):
            msg = anthropic_message(body, key, None, GARBAGE if fault == "garbage" else TRUNCATED, refused=False)
            msg["content"] = [{"type": "text", "text": GARBAGE if fault == "garbage" else TRUNCATED}]
            return msg
        return anthropic_message(body, key, judge_answer(body, self.config.seed), None, refused=False)

    async def _create_pause(self) -> None:
        """Wait create_delay seconds (re-read, so setting it to 0 ends the wait)."""
        start = time.monotonic()
        while time.monotonic() - start < self.create_delay:
            await asyncio.sleep(0.05)

    # ---- OpenAI files
    async def _route_file_upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form.get("file")
        if upload is None or not hasattr(upload, "file"):
            return self._bad_request("multipart field 'file' is missing")
        data = upload.file.read()
        file_id = self._new_id("file-fake")
        with self._lock:
            self.files[file_id] = {"bytes": data, "purpose": form.get("purpose"), "filename": upload.filename}
            self.batch_counts["files_uploaded"] += 1
        return web.json_response(self._file_object(file_id))

    def _file_object(self, file_id: str) -> dict:
        f = self.files[file_id]
        return {"id": file_id, "object": "file", "bytes": len(f["bytes"]), "created_at": int(time.time()),
                "filename": f["filename"] or "upload.jsonl", "purpose": f["purpose"] or "batch", "status": "processed"}

    async def _route_file_content(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        if file_id not in self.files:
            return self._bad_request(f"no file {file_id}", 404)
        with self._lock:
            self.batch_counts["files_downloaded"] += 1
        return web.Response(body=self.files[file_id]["bytes"], content_type="application/octet-stream")

    # ---- OpenAI batches
    async def _route_openai_batch_create(self, request: web.Request) -> web.Response:
        body = await request.json()
        file_id = body.get("input_file_id")
        if file_id not in self.files:
            return self._bad_request(f"input file {file_id!r} does not exist", 404)
        if body.get("endpoint") != "/v1/chat/completions":
            return self._bad_request(f"endpoint {body.get('endpoint')!r} is not supported by the fake")
        requests, seen = [], set()
        for n, line in enumerate(self.files[file_id]["bytes"].decode("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            item = json.loads(line)
            if item.get("method") != "POST" or item.get("url") != "/v1/chat/completions" or "body" not in item:
                return self._bad_request(f"line {n} of the input file is not a chat-completions request")
            if item["custom_id"] in seen:
                return self._bad_request(f"line {n}: duplicate custom_id {item['custom_id']!r}")
            seen.add(item["custom_id"])
            requests.append((item["custom_id"], item["body"]))
        batch_id = self._new_id("batch_fake")
        batch = {"api": "openai", "id": batch_id, "created_at": time.time(), "requests": requests,
                 "input_file_id": file_id, "metadata": body.get("metadata"), "ended_at": None,
                 "fail": self._fail_reason}
        self._fail_reason = None
        with self._lock:
            self.batches[batch_id] = batch
            self.batch_counts["openai_batches_created"] += 1
        await self._create_pause()
        return web.json_response(self._openai_batch(batch))

    def _openai_batch(self, batch: dict) -> dict:
        ended = self._ended(batch)
        out = {"id": batch["id"], "object": "batch", "endpoint": "/v1/chat/completions", "completion_window": "24h",
               "input_file_id": batch["input_file_id"], "created_at": int(batch["created_at"]),
               "metadata": batch["metadata"], "status": "in_progress", "output_file_id": None, "error_file_id": None,
               "request_counts": {"total": len(batch["requests"]), "completed": 0, "failed": 0}}
        if ended and batch.get("fail"):
            out.update(status="failed", failed_at=int(batch["ended_at"]),
                       errors={"object": "list", "data": [{"code": "invalid_file", "message": batch["fail"]}]})
        elif ended:
            if "output_file_id" not in batch:
                self._openai_files(batch)
            ok = sum(1 for kind, _ in batch["results"].values() if kind == "ok")
            out.update(status="completed", completed_at=int(batch["ended_at"]), output_file_id=batch["output_file_id"],
                       error_file_id=batch["error_file_id"],
                       request_counts={"total": len(batch["requests"]), "completed": ok,
                                       "failed": len(batch["requests"]) - ok})
        return out

    def _openai_files(self, batch: dict) -> None:
        good, bad = [], []
        for n, (custom_id, (kind, payload)) in enumerate(batch["results"].items()):
            line = {"id": f"batch_req_{batch['id']}_{n}", "custom_id": custom_id, "response": None, "error": None}
            if kind == "ok":
                line["response"] = {"status_code": 200, "request_id": f"req_{n}", "body": payload}
                good.append(line)
            elif kind == "error":
                line["response"] = {"status_code": payload, "request_id": f"req_{n}",
                                    "body": {"error": {"message": f"fake error {payload}", "type": "server_error"}}}
                bad.append(line)
            else:
                line["error"] = {"code": "batch_expired", "message": "This request could not be executed before the batch expired."}
                bad.append(line)
        for name, lines in (("output_file_id", good), ("error_file_id", bad)):
            if not lines:
                batch[name] = None
                continue
            file_id = self._new_id("file-fake")
            data = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines).encode("utf-8")
            with self._lock:
                self.files[file_id] = {"bytes": data, "purpose": "batch_output", "filename": f"{name}.jsonl"}
            batch[name] = file_id

    async def _route_openai_batch_get(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["batch_id"])
        if batch is None or batch["api"] != "openai":
            return self._bad_request(f"no batch {request.match_info['batch_id']}", 404)
        with self._lock:
            self.batch_counts["openai_polls"] += 1
        return web.json_response(self._openai_batch(batch))

    async def _route_openai_batch_list(self, request: web.Request) -> web.Response:
        data = [self._openai_batch(b) for b in reversed(list(self.batches.values())) if b["api"] == "openai"]
        return web.json_response({"object": "list", "data": data, "has_more": False,
                                  "first_id": data[0]["id"] if data else None, "last_id": data[-1]["id"] if data else None})

    # ---- Anthropic message batches
    async def _route_anthropic_batch_create(self, request: web.Request) -> web.Response:
        body = await request.json()
        requests, seen = [], set()
        for n, item in enumerate(body.get("requests") or []):
            if "custom_id" not in item or "params" not in item:
                return self._bad_request(f"requests[{n}] needs custom_id and params")
            if item["custom_id"] in seen:
                return self._bad_request(f"requests[{n}]: duplicate custom_id {item['custom_id']!r}")
            seen.add(item["custom_id"])
            requests.append((item["custom_id"], item["params"]))
        if not requests:
            return self._bad_request("requests is empty")
        batch_id = self._new_id("msgbatch_fake")
        batch = {"api": "anthropic", "id": batch_id, "created_at": time.time(), "requests": requests, "ended_at": None}
        with self._lock:
            self.batches[batch_id] = batch
            self.batch_counts["anthropic_batches_created"] += 1
        await self._create_pause()
        return web.json_response(self._anthropic_batch(batch))

    def _anthropic_batch(self, batch: dict) -> dict:
        ended = self._ended(batch)
        counts = {"processing": len(batch["requests"]), "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        out = {"id": batch["id"], "type": "message_batch", "processing_status": "in_progress",
               "created_at": _iso(batch["created_at"]), "expires_at": _iso(batch["created_at"] + 86400),
               "ended_at": None, "results_url": None, "request_counts": counts,
               "archived_at": None, "cancel_initiated_at": None}
        if ended:
            kinds = Counter(kind for kind, _ in batch["results"].values())
            counts.update(processing=0, succeeded=kinds["ok"], errored=kinds["error"], expired=kinds["expired"])
            out.update(processing_status="ended", ended_at=_iso(batch["ended_at"]),
                       results_url=f"{self.base_url}/v1/messages/batches/{batch['id']}/results")
        return out

    async def _route_anthropic_batch_get(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["batch_id"])
        if batch is None or batch["api"] != "anthropic":
            return self._bad_request(f"no batch {request.match_info['batch_id']}", 404)
        with self._lock:
            self.batch_counts["anthropic_polls"] += 1
        return web.json_response(self._anthropic_batch(batch))

    async def _route_anthropic_batch_list(self, request: web.Request) -> web.Response:
        data = [self._anthropic_batch(b) for b in reversed(list(self.batches.values())) if b["api"] == "anthropic"]
        return web.json_response({"data": data, "has_more": False, "first_id": data[0]["id"] if data else None,
                                  "last_id": data[-1]["id"] if data else None})

    async def _route_anthropic_batch_results(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["batch_id"])
        if batch is None or batch["api"] != "anthropic" or not self._ended(batch):
            return self._bad_request("no results for this batch (unknown or still processing)", 404)
        with self._lock:
            self.batch_counts["anthropic_results_downloaded"] += 1
        lines = []
        for custom_id, (kind, payload) in batch["results"].items():
            if kind == "ok":
                result = {"type": "succeeded", "message": payload}
            elif kind == "error":
                result = {"type": "errored", "error": {"type": "error", "error": {
                    "type": "api_error", "message": f"fake error {payload}"}}}
            else:
                result = {"type": "expired"}
            lines.append(json.dumps({"custom_id": custom_id, "result": result}, ensure_ascii=False))
        return web.Response(text="\n".join(lines) + "\n", content_type="application/binary")

"""The OpenAI Batch API: a JSONL file of chat-completion requests is uploaded
(``purpose="batch"``), a batch is created over it, and its output and error files
are downloaded when it ends. The request bodies are those of live scoring
(:func:`~judgecal.judges.openai_adapter.openai_kwargs`)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from judgecal._lazy import require
from judgecal.errors import ProviderError
from judgecal.judges.base import CompletionRequest
from judgecal.judges.batch_provider import BatchFailedError, BatchProvider, BatchResult, BatchState
from judgecal.judges.openai_adapter import (
    completion_from_openai,
    convert_openai_error,
    openai_kwargs,
)

ENDPOINT = "/v1/chat/completions"
ENDED = ("completed", "failed", "expired", "cancelled")
TAG_KEY = "judgecal_job"


class OpenAIBatch(BatchProvider):
    max_requests = 50_000

    def _sdk(self):
        return require("openai", "openai", "OpenAI judges")

    async def _api(self, make_call):
        sdk = self._sdk()
        try:
            return await make_call(self.adapter.client())
        except sdk.OpenAIError as exc:
            raise convert_openai_error(exc, sdk) from exc

    def request_line(self, custom_id: str, request: CompletionRequest) -> dict:
        # Same body as a live call (and the same max-tokens field rule).
        field = "max_tokens" if self.adapter.base_url else "max_completion_tokens"
        return {"custom_id": custom_id, "method": "POST", "url": ENDPOINT,
                "body": openai_kwargs(self.adapter, request, max_tokens_field=field)}

    async def submit(self, path: Path, lines: list[dict], tag: str) -> str:
        data = path.read_bytes()
        upload = await self._api(lambda c: c.files.create(file=(path.name, io.BytesIO(data)), purpose="batch"))
        batch = await self._api(lambda c: c.batches.create(
            input_file_id=upload.id, endpoint=ENDPOINT, completion_window="24h", metadata={TAG_KEY: tag}))
        return batch.id

    async def find_submitted(self, tag: str, n_requests: int, since: float, taken: set[str]) -> str | None:
        async def newest(client):
            found = []
            async for batch in client.batches.list(limit=100):
                if batch.created_at < since - 60:
                    break  # the list is newest first
                found.append(batch)
            return found

        for batch in await self._api(newest):
            if (batch.metadata or {}).get(TAG_KEY) == tag and batch.id not in taken:
                return batch.id
        return None

    async def state(self, batch_id: str) -> BatchState:
        batch = await self._api(lambda c: c.batches.retrieve(batch_id))
        counts = batch.request_counts.model_dump() if batch.request_counts is not None else {}
        return BatchState(batch.status in ENDED, batch.status, counts)

    async def results(self, batch_id: str) -> list[BatchResult]:
        batch = await self._api(lambda c: c.batches.retrieve(batch_id))
        out: list[BatchResult] = []
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            content = await self._api(lambda c, f=file_id: c.files.content(f))
            for n, line in enumerate(content.text.splitlines(), 1):
                if line.strip():
                    out.append(_result(line, file_id, n))
        if batch.status in ("failed", "cancelled") and not out:
            errors = [e.message for e in (batch.errors.data or [])] if batch.errors else []
            raise BatchFailedError(f"OpenAI batch {batch_id} {batch.status}: {'; '.join(map(str, errors)) or 'no reason given'}",
                                   status=400)
        return out


def _result(line: str, file_id: str, n: int) -> BatchResult:
    try:
        item = json.loads(line)
        custom_id = item["custom_id"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ProviderError(f"line {n} of batch file {file_id} is not a batch result: {line[:200]!r}",
                            status=200) from exc
    response, error = item.get("response"), item.get("error")
    if error:
        return BatchResult(custom_id, error=f"{error.get('code', 'error')}: {error.get('message', '')}")
    status = (response or {}).get("status_code")
    body = (response or {}).get("body")
    if status != 200 or not isinstance(body, dict):
        detail = (body or {}).get("error", {}).get("message", "") if isinstance(body, dict) else str(body)[:200]
        return BatchResult(custom_id, error=f"HTTP {status}: {detail}")
    try:
        return BatchResult(custom_id, completion=completion_from_openai(body))
    except ProviderError as exc:
        return BatchResult(custom_id, error=str(exc))

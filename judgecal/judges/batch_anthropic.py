"""The Anthropic Message Batches API: the requests (same parameters as live
scoring, :func:`~judgecal.judges.anthropic_adapter.anthropic_params`) are sent
in the create call; results are streamed as JSONL when the batch has ended.

Message batches carry no metadata, so a job whose create call was interrupted
is recognised by its request count and creation time (within ten minutes after
the job was recorded, not claimed by another job); its results are matched to
the job's members by custom id, so a wrong match cannot store a wrong answer.
"""

from __future__ import annotations

from pathlib import Path

from judgecal._lazy import require
from judgecal.errors import ProviderError
from judgecal.judges.anthropic_adapter import (
    anthropic_params,
    completion_from_anthropic,
    convert_anthropic_error,
)
from judgecal.judges.base import CompletionRequest
from judgecal.judges.batch_provider import BatchProvider, BatchResult, BatchState

ADOPT_WINDOW = 600.0  # seconds after a job was recorded in which its batch can have been created


class AnthropicBatch(BatchProvider):
    max_requests = 100_000

    def _sdk(self):
        return require("anthropic", "anthropic", "Anthropic judges")

    async def _api(self, make_call):
        sdk = self._sdk()
        try:
            return await make_call(self.adapter.client())
        except sdk.AnthropicError as exc:
            raise convert_anthropic_error(exc, sdk) from exc

    def request_line(self, custom_id: str, request: CompletionRequest) -> dict:
        return {"custom_id": custom_id, "params": anthropic_params(self.adapter.model, request)}

    async def submit(self, path: Path, lines: list[dict], tag: str) -> str:
        batch = await self._api(lambda c: c.messages.batches.create(requests=lines))
        return batch.id

    async def find_submitted(self, tag: str, n_requests: int, since: float, taken: set[str]) -> str | None:
        async def recent(client):
            found = []
            async for batch in client.messages.batches.list(limit=100):
                created = batch.created_at.timestamp()
                if created < since - 60:
                    break  # newest first
                found.append(batch)
            return found

        for batch in await self._api(recent):
            counts = batch.request_counts
            total = counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired
            created = batch.created_at.timestamp()
            if total == n_requests and since - 60 <= created <= since + ADOPT_WINDOW and batch.id not in taken:
                return batch.id
        return None

    async def state(self, batch_id: str) -> BatchState:
        batch = await self._api(lambda c: c.messages.batches.retrieve(batch_id))
        counts = batch.request_counts.model_dump() if batch.request_counts is not None else {}
        return BatchState(batch.processing_status == "ended", batch.processing_status, counts)

    async def results(self, batch_id: str) -> list[BatchResult]:
        async def fetch(client):
            return [item async for item in await client.messages.batches.results(batch_id)]

        out = []
        for item in await self._api(fetch):
            result = item.result
            kind = getattr(result, "type", None)
            if kind == "succeeded":
                try:
                    out.append(BatchResult(item.custom_id, completion=completion_from_anthropic(result.message)))
                except ProviderError as exc:
                    out.append(BatchResult(item.custom_id, error=str(exc)))
            elif kind == "errored":
                err = getattr(getattr(result, "error", None), "error", None)
                detail = getattr(err, "message", None) or str(getattr(result, "error", ""))[:200]
                out.append(BatchResult(item.custom_id, error=f"errored: {getattr(err, 'type', 'error')}: {detail}"))
            else:
                out.append(BatchResult(item.custom_id, error=f"{kind or 'unknown result'}: not processed"))
        return out

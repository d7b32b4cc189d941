"""What each provider's batch API implements (:class:`BatchProvider`) and the
types it returns; :mod:`judgecal.judges.batch` drives it, and
:mod:`~judgecal.judges.batch_openai` and :mod:`~judgecal.judges.batch_anthropic`
implement it (kept apart so that neither side imports the other's module)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from judgecal.errors import ProviderError
from judgecal.judges.base import Completion, CompletionRequest, JudgeAdapter


class BatchFailedError(ProviderError):
    """The provider failed a whole batch (e.g. rejected its file): every request in it failed."""


@dataclass
class BatchResult:
    """One request's result inside an ended batch: a completion, or why there is none."""

    custom_id: str
    completion: Completion | None = None
    error: str | None = None


@dataclass
class BatchState:
    ended: bool
    status: str  # the provider's word for it
    counts: dict = field(default_factory=dict)


class BatchProvider(ABC):
    """One provider's batch API, on top of its live adapter (same client, same request bodies)."""

    max_requests: int = 50_000  # requests per batch the provider accepts

    def __init__(self, adapter: JudgeAdapter):
        self.adapter = adapter

    @abstractmethod
    def request_line(self, custom_id: str, request: CompletionRequest) -> dict:
        """One entry of the request file (JSON-able)."""

    @abstractmethod
    async def submit(self, path: Path, lines: list[dict], tag: str) -> str:
        """Submit the requests of one job; returns the provider's batch id."""

    @abstractmethod
    async def find_submitted(self, tag: str, n_requests: int, since: float, taken: set[str]) -> str | None:
        """The batch id of a job whose submission was interrupted, if the provider has it."""

    @abstractmethod
    async def state(self, batch_id: str) -> BatchState: ...

    @abstractmethod
    async def results(self, batch_id: str) -> list[BatchResult]:
        """Every result of an ended batch (raw answers, also written nowhere else)."""

"""What a scoring run did: counts, tokens, cost and time, as typed objects.

:class:`RunSummary` for a run that sent (or looked up) its requests,
:class:`DryRunSummary` for ``dry_run=True``. ``as_dict()`` gives the JSON that
``judgecal score --summary`` writes (its keys are part of the command's output).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from judgecal.judges.batch_state import BatchReport


@dataclass(frozen=True)
class RunSummary:
    """Counts, tokens and cost of a run.

    Tokens and cost are those of every answer received, refused and
    unparseable ones included (they are billed too, but have no ratings row);
    ``*_sent`` count only the answers this run paid for (not from the cache).
    ``cost_usd*`` are NaN when the model's price is not known (``price_known``).
    """

    judge: str
    items: int
    metrics: list[str]
    judgments: int  # ratings rows
    unscored: int  # (item, metric) pairs without a score
    failures: int  # failed answers (rows of the failures table)
    requests: int
    cache_hits: int
    http_requests: int  # retries included
    retries: int
    rate_limited: int
    failed_requests: int
    tokens_in: int
    tokens_out: int
    cost_usd: float
    tokens_in_sent: int
    tokens_out_sent: int
    cost_usd_sent: float
    price_known: bool
    elapsed_s: float
    judgments_per_s: float | None
    answers_by_process: dict[str, int]
    batch: BatchReport | None = None  # what went through the provider batch API

    def as_dict(self) -> dict:
        """The JSON-able form (``--summary``); ``batch`` only for batch runs."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "batch"}
        if self.batch is not None:
            out["batch"] = self.batch.as_dict()
        return out


@dataclass(frozen=True)
class DryRunSummary:
    """What a run would send and its estimated cost (nothing sent)."""

    judge: str
    requests: int
    cached: int
    to_send: int
    est_tokens_in: int
    est_tokens_out: int
    est_cost_usd: float
    price_known: bool
    dry_run: bool = True

    def as_dict(self) -> dict:
        out = {"judge": self.judge, "dry_run": True}
        out.update({f.name: getattr(self, f.name) for f in fields(self) if f.name not in out})
        return out

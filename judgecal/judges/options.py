"""Options of a scoring run, grouped by what they govern (as inspect_ai's ``GenerateConfig``).

* :class:`ScoringOptions`: what the judge is asked and how its answers become
  scores (rubric, mode, samples, sampling, logprobs, re-asks). Changing one
  changes the judgments (and so the cache keys).
* :class:`TransportOptions`: how requests reach the provider (base URL,
  concurrency, processes, rate limits, retries, timeouts, the batch API).
  Changing one never changes a score, only how fast and how cheaply it comes.
* :class:`BatchOptions`: the provider batch API (``TransportOptions.batch``).
* :class:`PairingPlan`: how pairwise battles are built from generations
  (:func:`~judgecal.judges.pairwise.score_battles`).

Each default is defined here once; :func:`~judgecal.judges.api.score_generations`
and the ``judgecal score`` flags take theirs from these classes. This module
imports nothing heavy: the command line reads the defaults at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from judgecal.errors import ConfigError

if TYPE_CHECKING:
    from judgecal.data.metrics import MetricRegistry

DEFAULT_METRICS = ("la", "tq", "h")
VARIANTS = ("simple", "detailed")
MODES = ("single", "compound")
LOGPROB_MODES = ("auto", "require", "off")
BATCH_RETRY_MODES = ("live", "batch", "none")
PAIRINGS = ("all", "random", "anchors")


def _positive(name: str, value, minimum=1) -> None:
    if value is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value!r}")


def _one_of(name: str, value, allowed: tuple) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {allowed}, not {value!r}")


@dataclass(frozen=True)
class ScoringOptions:
    """What the judge is asked and how its answers are read.

    variant : ``simple`` or ``detailed`` rubric
    mode : ``single`` (one call per metric) or ``compound`` (one call for all metrics)
    task : task framing for rows without a task column (open_prompt, continue_writing, summarize, qa)
    samples : answers per item and metric; the reported score is their lower median
    temperature : sampling temperature; None = 0 for one sample, 0.7 for several
        (:attr:`effective_temperature`)
    max_tokens : answer budget per metric (a compound call gets it once per metric)
    logprobs : ``auto`` (use them where the provider returns them, say so where
        not), ``require`` (error if the provider has none), ``off``
    structured : ask for structured (JSON schema) output
    seed : sampling seed passed to providers that accept one
    retry_unparseable : how many times to re-ask after a refused or unparseable answer
    prompts_dir : folder with extra or replacement metrics/ and tasks/ templates
    registry : metric declarations (a :class:`~judgecal.data.metrics.MetricRegistry`);
        None = the built-in metrics
    """

    variant: str = "detailed"
    mode: str = "single"
    task: str | None = None
    samples: int = 1
    temperature: float | None = None
    max_tokens: int = 400
    logprobs: str = "auto"
    structured: bool = True
    seed: int | None = None
    retry_unparseable: int = 0
    prompts_dir: str | Path | None = None
    registry: MetricRegistry | None = None

    def __post_init__(self):
        _one_of("prompt variant", self.variant, VARIANTS)
        _one_of("mode", self.mode, MODES)
        _one_of("logprobs", self.logprobs, LOGPROB_MODES)
        if self.samples < 1:
            raise ConfigError("samples must be at least 1")
        _positive("max_tokens", self.max_tokens)
        _positive("retry_unparseable", self.retry_unparseable, 0)
        if self.samples > 1 and self.temperature == 0:
            raise ConfigError("several samples at temperature 0 would be identical; set a temperature above 0")

    @property
    def effective_temperature(self) -> float:
        """The temperature sent: the one given, else 0 for one sample and 0.7 for several."""
        if self.temperature is not None:
            return self.temperature
        return 0.0 if self.samples == 1 else 0.7


@dataclass(frozen=True)
class BatchOptions:
    """The provider batch API (``judgecal score --batch``); see :class:`~judgecal.judges.batch.BatchEngine`.

    retry : requests that failed inside a batch: ``live`` (sent live), ``batch``
        (a new batch, up to ``max_rounds`` rounds) or ``none``
    poll_interval, poll_max : first and longest wait between status polls
        (seconds); waits grow by half each poll, with jitter
    max_wait : stop waiting after this many seconds (re-run to collect); None = until the batches end
    max_rounds : batch rounds for ``retry="batch"``
    batch_size : requests per batch (None = the provider's maximum)
    files_dir : where request and result files go (None = ``<cache>.batches/``)
    """

    retry: str = "live"
    poll_interval: float = 10.0
    poll_max: float = 300.0
    max_wait: float | None = None
    max_rounds: int = 3
    batch_size: int | None = None
    files_dir: str | Path | None = None

    def __post_init__(self):
        _one_of("batch retry", self.retry, BATCH_RETRY_MODES)
        if not 0 < self.poll_interval <= self.poll_max:
            raise ConfigError("batch polling needs 0 < poll_interval <= poll_max")
        _positive("max_rounds", self.max_rounds)
        _positive("batch_size", self.batch_size)


@dataclass(frozen=True)
class TransportOptions:
    """How requests reach the provider.

    base_url : provider base URL (OpenAI-compatible local servers, proxies)
    concurrency : requests in flight at once, over all processes
    workers : processes that send requests (1 = this one only; more for
        high-throughput runs one process's CPU cannot keep up with, see
        :mod:`judgecal.judges.workers`); at most ``concurrency``
    rpm, tpm : requests and tokens per minute (None = no limit)
    max_attempts : attempts per request on 429, 5xx, timeouts and dropped connections
    retry_base : seconds; attempt k waits up to ``retry_base * 2**k`` (full jitter)
        unless the provider says how long (Retry-After)
    timeout : seconds per request
    batch : send through the provider's batch API: None (live), a
        :class:`BatchOptions`, or for convenience True / a dict of its fields
    """

    base_url: str | None = None
    concurrency: int = 16
    workers: int = 1
    rpm: float | None = None
    tpm: float | None = None
    max_attempts: int = 6
    retry_base: float = 0.5
    timeout: float = 60.0
    batch: BatchOptions | None = None

    def __post_init__(self):
        _positive("concurrency", self.concurrency)
        _positive("workers", self.workers)
        _positive("max_attempts", self.max_attempts)
        if self.workers > self.concurrency:
            raise ConfigError(f"workers ({self.workers}) cannot exceed concurrency ({self.concurrency}): "
                              "each process needs at least one call in flight")
        if self.timeout <= 0:
            raise ConfigError(f"timeout must be above 0 seconds, not {self.timeout!r}")
        for name in ("rpm", "tpm"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigError(f"{name} must be above 0 (or None for no limit), not {value!r}")
        batch = self.batch
        if batch is True:
            batch = BatchOptions()
        elif batch is False:
            batch = None
        elif isinstance(batch, dict):
            batch = BatchOptions(**batch)
        elif batch is not None and not isinstance(batch, BatchOptions):
            raise ConfigError(f"batch must be None, True or BatchOptions, not {type(batch).__name__}")
        object.__setattr__(self, "batch", batch)  # frozen: normalised once, here


@dataclass(frozen=True)
class PairingPlan:
    """How pairs are built from generations.

    kind : ``all`` (every pair of systems per prompt), ``random`` (each system
        meets ``opponents`` others per prompt, drawn with ``seed``) or
        ``anchors`` (every other system against each of ``anchors``)
    seed : seeds the random opponents and which response of a pair is shown first by default
    """

    kind: str = "all"
    opponents: int | None = None
    anchors: tuple[str, ...] = ()
    seed: int = 0

    def __post_init__(self):
        if self.kind not in PAIRINGS:
            raise ConfigError(f"pairing must be one of {PAIRINGS}, not {self.kind!r}")
        if self.kind == "random" and (self.opponents is None or self.opponents < 1):
            raise ConfigError("pairing 'random' needs opponents >= 1 (random opponents per system and prompt)")
        if self.kind != "random" and self.opponents is not None:
            raise ConfigError(f"opponents only applies to pairing 'random', not {self.kind!r}")
        if self.kind == "anchors" and not self.anchors:
            raise ConfigError("pairing 'anchors' needs at least one anchor system")
        if self.kind != "anchors" and self.anchors:
            raise ConfigError(f"anchors only apply to pairing 'anchors', not {self.kind!r}")
        object.__setattr__(self, "anchors", tuple(self.anchors))


_SCORING_FIELDS = frozenset(f.name for f in fields(ScoringOptions))
_TRANSPORT_FIELDS = frozenset(f.name for f in fields(TransportOptions))


def build_options(scoring: ScoringOptions | None, transport: TransportOptions | None,
                  keywords: dict) -> tuple[ScoringOptions, TransportOptions]:
    """The options objects of a call: the ones given (or the defaults), with
    keyword arguments named like their fields applied on top.

    Raises TypeError for a keyword that names no option, as a function would.
    """
    unknown = sorted(set(keywords) - _SCORING_FIELDS - _TRANSPORT_FIELDS)
    if unknown:
        raise TypeError(f"unexpected keyword argument(s) {', '.join(map(repr, unknown))}; options are "
                        f"{', '.join(sorted(_SCORING_FIELDS | _TRANSPORT_FIELDS))}")
    scoring = scoring or ScoringOptions()
    transport = transport or TransportOptions()
    mine = {k: v for k, v in keywords.items() if k in _SCORING_FIELDS}
    theirs = {k: v for k, v in keywords.items() if k in _TRANSPORT_FIELDS}
    return (replace(scoring, **mine) if mine else scoring, replace(transport, **theirs) if theirs else transport)

"""One scoring run's plan: the checked generations, the metrics and their rubrics;
rendering the requests (:meth:`Plan.calls`) and reading each answer, once
(:meth:`Plan.read`: its parsed judgment, or the kind of failure it is)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from judgecal.data.metrics import DEFAULT_REGISTRY
from judgecal.errors import ConfigError, ScoreParseError
from judgecal.judges.base import CompletionRequest
from judgecal.judges.engine import Outcome
from judgecal.judges.generations import read_generations
from judgecal.judges.options import ScoringOptions
from judgecal.judges.parsing import ParsedJudgment, parse_judgment
from judgecal.judges.templates import PromptLibrary


@dataclass
class Call:
    """One request of a run: which generation row, metrics, sample and attempt it asks about."""

    row: int  # generation row
    metrics: tuple[str, ...]
    sample: int
    attempt: int
    request: CompletionRequest | None  # dropped once answered, to bound memory
    prompt_hash: str


@dataclass
class Answer:
    """One answer, read once: its parsed judgment, or why it has none."""

    call: Call
    outcome: Outcome
    parsed: ParsedJudgment | None = None
    failure: tuple[str, str | None, str | None] | None = None  # (kind, message, raw text)


@dataclass
class Plan:
    """The generations, metrics and rubrics of a run, and how to render its requests."""

    scoring: ScoringOptions
    library: PromptLibrary
    metric_ids: tuple[str, ...]
    scales: dict
    data: pd.DataFrame
    records: list[dict]  # row access by index; iloc per call is slow
    groups: list[tuple[str, ...]]  # metrics asked together (one call each)
    use_logprobs: bool
    top_logprobs: int

    @classmethod
    def make(cls, generations, metrics, scoring: ScoringOptions, adapter, input_format, encoding) -> Plan:
        library = PromptLibrary(scoring.prompts_dir, scoring.registry or DEFAULT_REGISTRY)
        metric_ids = tuple(library.registry.resolve(m) or m for m in metrics)
        twice = sorted({f"{given!r} -> {m}" for given, m in zip(metrics, metric_ids, strict=True)
                        if metric_ids.count(m) > 1})
        if twice:  # one metric asked for twice would be scored once and counted as unscored once
            raise ConfigError(f"metrics name the same metric more than once: {', '.join(twice)}")
        scales = {m: library.rubric(m, scoring.variant).scale for m in metric_ids}
        data = read_generations(generations, task=scoring.task, known_tasks=set(library.tasks), fmt=input_format,
                                encoding=encoding)
        if scoring.logprobs == "require" and not adapter.supports_logprobs:
            raise ConfigError(f"{adapter.name}: the provider returns no logprobs (logprobs='require')")
        groups = [metric_ids] if scoring.mode == "compound" else [(m,) for m in metric_ids]
        return cls(scoring, library, metric_ids, scales, data, data.to_dict("records"), groups,
                   scoring.logprobs != "off" and adapter.supports_logprobs,
                   max(5, *(len(s.levels) for s in scales.values())))

    def calls(self, attempt_of: dict) -> list[Call]:
        """One rendered request per ((row, metric group, sample) -> attempt)."""
        sc = self.scoring
        calls = []
        for (row, group, sample), attempt in attempt_of.items():
            g = self.records[row]
            ref = g.get("reference")
            rendered = self.library.render(metrics=group, variant=sc.variant, task=g["task"], mode=sc.mode,
                                           language=g["language"], prompt=g["prompt"], response=g["response"],
                                           reference=ref if isinstance(ref, str) and ref else None)
            req = CompletionRequest(rendered.system, rendered.user, max_tokens=sc.max_tokens * len(group),
                                    temperature=sc.effective_temperature,
                                    schema=rendered.schema if sc.structured else None,
                                    logprobs=self.use_logprobs, top_logprobs=self.top_logprobs, seed=sc.seed,
                                    sample=sample, attempt=attempt)
            calls.append(Call(row, group, sample, attempt, req, rendered.prompt_hash))
        return calls

    def read(self, call: Call, outcome: Outcome) -> Answer:
        """The answer's judgment, or the kind of failure it is (parsed here, once)."""
        scales = [self.scales[m] for m in call.metrics]
        return read_answer(call, outcome, lambda text: parse_judgment(text, scales,
                                                                      compound=self.scoring.mode == "compound"))


def read_answer(call: Call, outcome: Outcome, parse) -> Answer:
    """An outcome read once: a failure (the request failed, the judge refused, or
    ``parse`` raised ScoreParseError on its text), or what ``parse`` made of it."""
    c = outcome.completion
    if c is None:
        return Answer(call, outcome, failure=("provider_error", outcome.error, None))
    if c.refusal or c.text is None:
        return Answer(call, outcome, failure=("refused", "the judge refused to answer", c.refusal))
    try:
        parsed = parse(c.text)
    except ScoreParseError as exc:
        return Answer(call, outcome, failure=("unparseable", str(exc), c.text))
    return Answer(call, outcome, parsed)

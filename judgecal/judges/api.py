"""Scoring generations with a judge: the Python API behind ``judgecal score``.

:func:`score_generations` renders one prompt per (item, metric) (or one per
item for all metrics, ``mode="compound"``) and per sample, sends them through
the :class:`~judgecal.judges.engine.Engine`, parses the answers and returns

* ``ratings``: judge rows of the ratings table, one per (item, metric), and
* ``failures``: one row per answer that held no usable score (refused,
  unparseable, off the scale) or per request that failed after its retries,
  with the raw text. Failures never become scores, and NaN never appears in
  ``ratings.score``.
"""

from __future__ import annotations

import asyncio
import json
import statistics
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from judgecal.data.metrics import DEFAULT_REGISTRY
from judgecal.errors import ConfigError, ScoreParseError
from judgecal.judges.base import CompletionRequest, make_adapter, parse_judge
from judgecal.judges.batch import BatchEngine
from judgecal.judges.cache import JudgmentCache
from judgecal.judges.costs import cost, estimate_tokens, lookup_prices
from judgecal.judges.engine import Engine, Outcome, Progress, RetryPolicy
from judgecal.judges.gcpolicy import no_gc
from judgecal.judges.generations import read_generations
from judgecal.judges.litellm_adapter import import_litellm
from judgecal.judges.options import DEFAULT_METRICS, ScoringOptions, TransportOptions, build_options
from judgecal.judges.parsing import (
    ParsedJudgment,
    expected_score,
    injection_signals,
    parse_judgment,
    score_distribution,
)
from judgecal.judges.run_summary import DryRunSummary, RunSummary
from judgecal.judges.templates import PromptLibrary

RENDER_CHUNK = 5000  # requests rendered and sent per round; bounds memory on very large runs
FAILURE_COLUMNS = ["item_id", "language", "metric", "rater", "sample", "attempt", "kind", "message",
                   "raw_text", "judge_prompt_hash", "cached", "final"]


def default_cache_path() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("judgecal")) / "judgments.sqlite"


@dataclass
class ScoreResult:
    """ratings : judge rows of the ratings table; failures : one row per failed
    answer (FAILURE_COLUMNS); summary : what the run did; example : dry run
    only, the first request as it would be sent."""

    ratings: pd.DataFrame
    failures: pd.DataFrame
    summary: RunSummary | DryRunSummary | None = None
    example: dict | None = None


@dataclass
class _Call:
    row: int  # generation row
    metrics: tuple[str, ...]
    sample: int
    attempt: int
    request: CompletionRequest | None  # dropped once answered, to bound memory
    prompt_hash: str


@dataclass
class _Answer:
    """One answer, read once: its parsed judgment, or why it has none."""

    call: _Call
    outcome: Outcome
    parsed: ParsedJudgment | None = None
    failure: tuple[str, str | None, str | None] | None = None  # (kind, message, raw text)


def score_generations(generations, judge: str, metrics=DEFAULT_METRICS, **options) -> ScoreResult:
    """Judge every generation on every metric. Blocking wrapper of :func:`ascore_generations`.

    generations : DataFrame or path (JSONL/CSV/TSV/JSON/Parquet) with item_id,
        language, prompt, response, optional reference/task/system/prompt_id
    judge : ``openai/<model>``, ``anthropic/<model>`` or ``litellm/<model>``
    metrics : metric ids with a rubric template
    options : see :func:`ascore_generations`; fields of
        :class:`~judgecal.judges.options.ScoringOptions` and
        :class:`~judgecal.judges.options.TransportOptions` may be given by name
        (``samples=3, concurrency=32``)

    Examples
    --------
    >>> result = score_generations("outputs.jsonl", "openai/gpt-4o-mini", ["la", "h"],
    ...                            samples=3, concurrency=32)  # doctest: +SKIP
    >>> result.summary.judgments, len(result.failures)  # doctest: +SKIP
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(ascore_generations(generations, judge, metrics, **options))
    raise ConfigError("score_generations was called inside a running event loop (a notebook?); "
                      "use `await ascore_generations(...)` there")


async def ascore_generations(
    generations, judge: str, metrics=DEFAULT_METRICS, *, scoring: ScoringOptions | None = None,
    transport: TransportOptions | None = None, cache: str | Path | JudgmentCache | None = None,
    prices: tuple[float, float] | None = None, include_text: bool = True, progress: bool | str = "auto",
    dry_run: bool = False, input_format: str | None = None, encoding: str = "utf-8", **options,
) -> ScoreResult:
    """Async version of :func:`score_generations` (use inside a running event loop).

    scoring : what the judge is asked and how answers are read (:class:`ScoringOptions`)
    transport : how requests reach the provider (:class:`TransportOptions`)
    options : fields of either, by name, applied on top of ``scoring`` / ``transport``
    cache : SQLite judgment cache (path or :class:`JudgmentCache`; default: the user cache folder)
    prices : USD per million (input, output) tokens when the model's price is not known
    include_text : copy prompt/response/reference into the ratings rows
    progress : progress bar: True, False or ``auto`` (when stderr is a terminal)
    dry_run : render and price the requests without sending any
    input_format, encoding : of a generations file (default: format from the extension, UTF-8)
    """
    scoring, transport = build_options(scoring, transport, options)
    spec = parse_judge(judge, transport.base_url)
    adapter = make_adapter(spec, timeout=transport.timeout)
    plan = _Plan.make(generations, metrics, scoring, adapter, input_format, encoding)
    if prices is None:
        if spec.provider == "litellm" and not dry_run:
            import_litellm()  # loaded anyway; its price map knows the model
        prices = lookup_prices(spec.model)
    first = {(r, g, s): 0 for r in range(len(plan.records)) for g in plan.groups for s in range(scoring.samples)}
    store = cache if isinstance(cache, JudgmentCache) else JudgmentCache(default_cache_path() if cache is None else cache)
    live = Engine(adapter, store, concurrency=transport.concurrency, rpm=transport.rpm, tpm=transport.tpm,
                  timeout=transport.timeout, progress=progress, workers=transport.workers,
                  retry=RetryPolicy(max_attempts=transport.max_attempts, base=transport.retry_base))
    engine = live if transport.batch is None else BatchEngine(live, transport.batch)
    if dry_run:
        return _dry_run(first, plan, engine, spec.name, prices)
    try:
        answers = await _ask(plan, engine, first, progress, spec.name, batched=transport.batch is not None)
    finally:
        await live.aclose()  # helper processes, if any
    # Building one small dict per judgment triggers many full garbage collections
    # (a third of the time of a large cached re-run); these objects hold no cycles.
    with no_gc():
        result = _assemble(plan, answers, spec.name, prices, include_text, adapter)
    result.summary = _summary(engine, result, prices, plan, answers)
    if not isinstance(cache, JudgmentCache):
        store.close()
    return result


@dataclass
class _Plan:
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
    def make(cls, generations, metrics, scoring: ScoringOptions, adapter, input_format, encoding) -> _Plan:
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

    def calls(self, attempt_of: dict) -> list[_Call]:
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
            calls.append(_Call(row, group, sample, attempt, req, rendered.prompt_hash))
        return calls

    def read(self, call: _Call, outcome: Outcome) -> _Answer:
        """The answer's judgment, or the kind of failure it is (parsed here, once)."""
        c = outcome.completion
        if c is None:
            return _Answer(call, outcome, failure=("provider_error", outcome.error, None))
        if c.refusal or c.text is None:
            return _Answer(call, outcome, failure=("refused", "the judge refused to answer", c.refusal))
        try:
            parsed = parse_judgment(c.text, [self.scales[m] for m in call.metrics],
                                    compound=self.scoring.mode == "compound")
        except ScoreParseError as exc:
            return _Answer(call, outcome, failure=("unparseable", str(exc), c.text))
        return _Answer(call, outcome, parsed)


async def _ask(plan: _Plan, engine, first: dict, progress, rater: str, *, batched: bool) -> dict[tuple, list[_Answer]]:
    """Send every request, re-asking after refused or unparseable answers
    (``retry_unparseable`` rounds). Returns (row, group, sample) -> answers over attempts."""

    async def run_all(attempt_of: dict, desc: str) -> list[tuple[_Call, Outcome]]:
        """Render and send in chunks: a 100k-item run never holds all its
        prompt texts at once (each is a few KB)."""
        items = list(attempt_of.items())
        if batched:  # the batch engine plans its own files; give it everything
            calls = plan.calls(dict(items))
            return list(zip(calls, await engine.run([c.request for c in calls], desc=desc), strict=True))
        bar = Progress(len(items), progress, desc)
        done = []
        try:
            for start in range(0, len(items), RENDER_CHUNK):
                with no_gc():
                    calls = plan.calls(dict(items[start:start + RENDER_CHUNK]))
                outcomes = await engine.run([c.request for c in calls], desc=desc, bar=bar)
                for call in calls:
                    call.request = None  # the text is in the cache; free it
                done.extend(zip(calls, outcomes, strict=True))
        finally:
            bar.close()
        return done

    retries = plan.scoring.retry_unparseable
    answers: dict[tuple, list[_Answer]] = {}
    pending = first
    for round_ in range(retries + 1):
        again = {}
        for call, outcome in await run_all(pending, rater + (f" retry {round_}" if round_ else "")):
            answer = plan.read(call, outcome)
            key = (call.row, call.metrics, call.sample)
            answers.setdefault(key, []).append(answer)
            if round_ < retries and outcome.completion is not None and answer.parsed is None:
                again[key] = call.attempt + 1
        if not again:
            break
        pending = again
    return answers


def _assemble(plan: _Plan, answers: dict, rater: str, prices, include_text: bool, adapter) -> ScoreResult:
    """The ratings rows (one per item and metric, over its samples) and the failures rows."""
    per_item, failures = _sort_answers(plan, answers, rater, adapter)
    data = plan.data
    extra_cols = [c for c in ("prompt_id", "system") if c in data.columns]
    if include_text:
        extra_cols += [c for c in ("prompt", "response", "reference") if c in data.columns]
    signals: dict[int, list[str]] = {}
    rows = [_rating_row(plan, row, m, judged, rater, prices, extra_cols, signals)
            for (row, m), judged in sorted(per_item.items())]
    ratings = pd.DataFrame(rows)
    # A failure is final when no later attempt of that item, metric and sample gave a score.
    scored = {(row, m, j["call"].sample) for (row, m), judged in per_item.items() for j in judged}
    for f in failures:
        row, sample = f.pop("_key")
        f["final"] = (row, f["metric"], sample) not in scored
    fails = pd.DataFrame(failures, columns=FAILURE_COLUMNS)
    return ScoreResult(ratings, fails)


def _sort_answers(plan: _Plan, answers: dict, rater: str, adapter) -> tuple[dict, list[dict]]:
    """(row, metric) -> the scored answers for it, and one failure record per metric of each failed answer."""
    failures = []
    per_item: dict[tuple[int, str], list] = {}
    scales, records = plan.scales, plan.records
    for (row, group, sample), attempts in answers.items():
        g = records[row]
        for answer in attempts:
            call, outcome, parsed = answer.call, answer.outcome, answer.parsed
            if parsed is None:
                kind, message, raw = answer.failure
                for m in group:
                    failures.append({"_key": (row, sample), "item_id": g["item_id"], "language": g["language"],
                                     "rater": rater, "sample": sample, "attempt": call.attempt,
                                     "judge_prompt_hash": call.prompt_hash, "cached": outcome.cached,
                                     "metric": m, "kind": kind, "message": message, "raw_text": raw})
                continue
            c = outcome.completion
            share = 1.0 / len(group)  # a compound call's tokens are shared by its metrics
            for m in group:
                probs, note = (score_distribution(c.logprobs, parsed.metrics[m].offset, scales[m])
                               if plan.use_logprobs
                               else (None, "unavailable: logprobs switched off" if adapter.supports_logprobs
                                     else f"unavailable: {adapter.provider} returns no logprobs"))
                per_item.setdefault((row, m), []).append({
                    "judgment": parsed.metrics[m], "probs": probs, "note": note, "parsed": parsed, "call": call,
                    "completion": c, "cached": outcome.cached, "share": share})
    return per_item, failures


def _rating_row(plan: _Plan, row: int, m: str, judged: list[dict], rater: str, prices, extra_cols: list[str],
                signals: dict[int, list[str]]) -> dict:
    """One ratings row: the lower median of the samples' scores, their mean distribution, tokens and cost."""
    g = plan.records[row]
    scores = [j["judgment"].score for j in judged]
    chosen = scores[0] if len(scores) == 1 else statistics.median_low(scores)
    pick = next(j for j in judged if j["judgment"].score == chosen)
    if len(judged) == 1:  # the common case, kept cheap for large cached re-runs
        probs, notes = pick["probs"], [pick["note"]]
        tin = pick["completion"].input_tokens * pick["share"]
        tout = pick["completion"].output_tokens * pick["share"]
    else:
        dists = [j["probs"] for j in judged if j["probs"] is not None]
        probs = ({k: sum(d[k] for d in dists) / len(dists) for k in dists[0]}
                 if len(dists) == len(judged) else None)
        notes = sorted({j["note"] for j in judged})
        tin = sum(j["completion"].input_tokens * j["share"] for j in judged)
        tout = sum(j["completion"].output_tokens * j["share"] for j in judged)
    if row not in signals:  # the response is the same for every metric
        signals[row] = injection_signals(g["response"])
    reasons = signals[row]
    if any(j["parsed"].addresses_evaluator for j in judged):
        reasons = ["the judge reported instructions aimed at it", *reasons]
    out = {
        "item_id": g["item_id"], "language": g["language"], "script": g["script"], "task": g["task"],
        "metric": m, "rater": rater, "rater_kind": "judge", "score": float(chosen),
        "justification": pick["judgment"].justification,
        "score_probs": json.dumps({k: round(v, 6) for k, v in probs.items()}) if probs else None,
        "expected_score": expected_score(probs), "score_probs_note": "; ".join(notes),
        "judge_prompt_hash": pick["call"].prompt_hash, "prompt_variant": plan.scoring.variant,
        "judge_mode": plan.scoring.mode, "n_samples": len(judged), "sample_scores": json.dumps(scores),
        "sample_sd": statistics.pstdev(scores) if len(scores) > 1 else 0.0,
        "tokens_in": int(round(tin)), "tokens_out": int(round(tout)), "cost_usd": cost(prices, tin, tout),
        "latency_s": float(sum(j["completion"].latency for j in judged) / len(judged)),
        "cached": all(j["cached"] for j in judged), "parse_method": pick["parsed"].method,
        "injection_suspected": bool(reasons), "injection_reasons": "; ".join(reasons),
    }
    for col in extra_cols:
        out[col] = g[col]
    return out


def _summary(engine, result: ScoreResult, prices, plan: _Plan, answers: dict) -> RunSummary:
    """Counts, tokens and cost of a run (see :class:`RunSummary`)."""
    st = engine.stats
    ratings = result.ratings
    n_items, metrics = len(plan.records), plan.metric_ids
    tin = tout = sent_in = sent_out = 0
    for attempts in answers.values():
        for answer in attempts:
            c = answer.outcome.completion
            if c is not None:
                tin += c.input_tokens
                tout += c.output_tokens
                if not answer.outcome.cached:
                    sent_in += c.input_tokens
                    sent_out += c.output_tokens
    return RunSummary(
        judge=engine.adapter.name, items=n_items, metrics=list(metrics), judgments=len(ratings),
        unscored=n_items * len(metrics) - len(ratings), failures=len(result.failures),
        requests=st.requested, cache_hits=st.cache_hits, http_requests=st.sent, retries=st.retries,
        rate_limited=st.rate_limited, failed_requests=st.failed, tokens_in=tin, tokens_out=tout,
        cost_usd=cost(prices, tin, tout), tokens_in_sent=sent_in, tokens_out_sent=sent_out,
        cost_usd_sent=cost(prices, sent_in, sent_out), price_known=prices is not None,
        elapsed_s=round(st.elapsed, 3),
        judgments_per_s=round(len(ratings) / st.elapsed, 1) if st.elapsed > 0 else None,
        answers_by_process=dict(st.by_process), batch=getattr(engine, "report", None),
    )


def _dry_run(attempt_of: dict, plan: _Plan, engine, rater: str, prices) -> ScoreResult:
    items = list(attempt_of.items())
    n_send = est_in = budget = 0
    example = None
    for start in range(0, len(items), RENDER_CHUNK):
        calls = plan.calls(dict(items[start:start + RENDER_CHUNK]))
        if start == 0 and calls:
            first = calls[0].request
        keys, hits = engine.lookup([c.request for c in calls])
        to_send = [c for c, k in zip(calls, keys, strict=True) if k not in hits]
        n_send += len(to_send)
        est_in += sum(estimate_tokens(c.request.system) + estimate_tokens(c.request.user) for c in to_send)
        budget += sum(c.request.max_tokens for c in to_send)
    # Judgments are short; assume 60 % of the output budget as a cautious middle.
    est_out = int(budget * 0.6)
    if items:
        r = first
        example = {"judge": rater, "system": r.system, "user": r.user, "schema": r.schema,
                   "max_tokens": r.max_tokens, "temperature": r.temperature, "logprobs": r.logprobs}
    summary = DryRunSummary(judge=rater, requests=len(items), cached=len(items) - n_send, to_send=n_send,
                            est_tokens_in=est_in, est_tokens_out=est_out,
                            est_cost_usd=cost(prices, est_in, est_out), price_known=prices is not None)
    return ScoreResult(pd.DataFrame(), pd.DataFrame(columns=FAILURE_COLUMNS), summary, example)

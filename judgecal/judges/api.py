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
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from judgecal.data.metrics import DEFAULT_REGISTRY, MetricRegistry
from judgecal.errors import ConfigError, ScoreParseError
from judgecal.judges.base import CompletionRequest, import_sdk, make_adapter, parse_judge
from judgecal.judges.cache import JudgmentCache
from judgecal.judges.costs import cost, estimate_tokens, lookup_prices
from judgecal.judges.engine import Engine, Progress, RetryPolicy
from judgecal.judges.gcpolicy import no_gc
from judgecal.judges.generations import read_generations
from judgecal.judges.parsing import (
    expected_score,
    injection_signals,
    parse_judgment,
    score_distribution,
)
from judgecal.judges.templates import PromptLibrary

LOGPROB_MODES = ("auto", "require", "off")
RENDER_CHUNK = 5000  # requests rendered and sent per round; bounds memory on very large runs
FAILURE_COLUMNS = ["item_id", "language", "metric", "rater", "sample", "attempt", "kind", "message",
                   "raw_text", "judge_prompt_hash", "cached", "final"]


def default_cache_path() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("judgecal")) / "judgments.sqlite"


@dataclass
class ScoreResult:
    ratings: pd.DataFrame
    failures: pd.DataFrame
    summary: dict = field(default_factory=dict)
    example: dict | None = None  # dry run: the first request as it would be sent


@dataclass
class _Call:
    row: int  # generation row
    metrics: tuple[str, ...]
    sample: int
    attempt: int
    request: CompletionRequest | None  # dropped once answered, to bound memory
    prompt_hash: str


def score_generations(generations, judge: str, metrics=("la", "tq", "h"), **options) -> ScoreResult:
    """Judge every generation on every metric. Blocking wrapper of :func:`ascore_generations`.

    generations : DataFrame or path (JSONL/CSV/TSV/JSON/Parquet) with item_id,
        language, prompt, response, optional reference/task/system/prompt_id
    judge : ``openai/<model>``, ``anthropic/<model>`` or ``litellm/<model>``
    metrics : metric ids with a rubric template
    options : see :func:`ascore_generations`
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(ascore_generations(generations, judge, metrics, **options))
    raise ConfigError("score_generations was called inside a running event loop (a notebook?); "
                      "use `await ascore_generations(...)` there")


async def ascore_generations(
    generations, judge: str, metrics=("la", "tq", "h"), *, variant: str = "detailed", mode: str = "single",
    task: str | None = None, samples: int = 1, temperature: float | None = None, max_tokens: int = 400,
    base_url: str | None = None, cache: str | Path | JudgmentCache | None = None, concurrency: int = 16,
    rpm: float | None = None, tpm: float | None = None, max_attempts: int = 6, timeout: float = 60.0,
    retry_unparseable: int = 0, logprobs: str = "auto", structured: bool = True,
    prices: tuple[float, float] | None = None, prompts_dir: str | Path | None = None,
    registry: MetricRegistry = DEFAULT_REGISTRY, include_text: bool = True, progress: bool | str = "auto",
    dry_run: bool = False, seed: int | None = None, retry_base: float = 0.5, batch: bool | dict = False,
    workers: int = 1, input_format: str | None = None, encoding: str = "utf-8",
) -> ScoreResult:
    """Async version of :func:`score_generations` (use inside a running event loop).

    variant : ``simple`` or ``detailed`` rubric; mode : ``single`` (one call per
    metric) or ``compound`` (one call for all metrics); task : framing for rows
    without a task column; samples : answers per item (temperature defaults to
    0 for one sample and 0.7 for several); logprobs : ``auto`` (use them where
    the provider returns them, say so where not), ``require`` (error if the
    provider has none), ``off``; retry_unparseable : how many times to re-ask
    after a refused or unparseable answer; prices : USD per million (input,
    output) tokens when the model's price is not known; dry_run : render and
    price the requests without sending any; batch : send through the provider's
    batch API (True, or a dict of :class:`~judgecal.judges.batch.BatchEngine`
    options), same cache and output as live scoring; workers : processes that
    send requests (1 = this one only; more for high-throughput runs that one
    process's CPU cannot keep up with, see :mod:`judgecal.judges.workers`);
    input_format, encoding : of a generations file (default: format from the
    extension, UTF-8).
    """
    if samples < 1:
        raise ConfigError("samples must be at least 1")
    if workers < 1:
        raise ConfigError("workers must be at least 1")
    if workers > concurrency:
        raise ConfigError(f"workers ({workers}) cannot exceed concurrency ({concurrency}): "
                          "each process needs at least one call in flight")
    if logprobs not in LOGPROB_MODES:
        raise ConfigError(f"logprobs must be one of {LOGPROB_MODES}, not {logprobs!r}")
    if temperature is None:
        temperature = 0.0 if samples == 1 else 0.7
    if samples > 1 and temperature == 0:
        raise ConfigError("several samples at temperature 0 would be identical; set a temperature above 0")
    spec = parse_judge(judge, base_url)
    library = PromptLibrary(prompts_dir, registry)
    metric_ids = tuple(library.registry.resolve(m) or m for m in metrics)
    twice = sorted({f"{given!r} -> {m}" for given, m in zip(metrics, metric_ids, strict=True)
                    if metric_ids.count(m) > 1})
    if twice:  # one metric asked for twice would be scored once and counted as unscored once
        raise ConfigError(f"metrics name the same metric more than once: {', '.join(twice)}")
    scales = {m: library.rubric(m, variant).scale for m in metric_ids}
    data = read_generations(generations, task=task, known_tasks=set(library.tasks), fmt=input_format,
                            encoding=encoding)
    adapter = make_adapter(spec, timeout=timeout)
    use_logprobs = logprobs != "off" and adapter.supports_logprobs
    if logprobs == "require" and not adapter.supports_logprobs:
        raise ConfigError(f"{adapter.name}: the provider returns no logprobs (logprobs='require')")
    if prices is None:
        if spec.provider == "litellm" and not dry_run:
            import_sdk("litellm", "litellm", "LiteLLM judges")  # loaded anyway; its price map knows the model
        prices = lookup_prices(spec.model)

    groups = [metric_ids] if mode == "compound" else [(m,) for m in metric_ids]
    top = max(5, *(len(s.levels) for s in scales.values()))

    records = data.to_dict("records")  # row access by index; iloc per call is slow

    def make_calls(attempt_of: dict) -> list[_Call]:
        calls = []
        for (row, group, sample), attempt in attempt_of.items():
            g = records[row]
            ref = g.get("reference")
            rendered = library.render(metrics=group, variant=variant, task=g["task"], mode=mode,
                                      language=g["language"], prompt=g["prompt"], response=g["response"],
                                      reference=ref if isinstance(ref, str) and ref else None)
            req = CompletionRequest(rendered.system, rendered.user, max_tokens=max_tokens * len(group),
                                    temperature=temperature, schema=rendered.schema if structured else None,
                                    logprobs=use_logprobs, top_logprobs=top, seed=seed, sample=sample,
                                    attempt=attempt)
            calls.append(_Call(row, group, sample, attempt, req, rendered.prompt_hash))
        return calls

    first = {(r, g, s): 0 for r in range(len(data)) for g in groups for s in range(samples)}
    if cache is None:
        cache = default_cache_path()
    store = cache if isinstance(cache, JudgmentCache) else JudgmentCache(cache)
    engine = live = Engine(adapter, store, concurrency=concurrency, rpm=rpm, tpm=tpm, timeout=timeout,
                           progress=progress, retry=RetryPolicy(max_attempts=max_attempts, base=retry_base),
                           workers=workers)
    if batch:  # provider batch API (judgecal.judges.batch); options as a dict, e.g. {"retry": "live"}
        from judgecal.judges.batch import BatchEngine

        engine = BatchEngine(engine, **({} if batch is True else batch))
    if dry_run:
        return _dry_run(first, make_calls, engine, spec.name, prices)

    async def run_all(attempt_of: dict, desc: str) -> list[tuple[_Call, object]]:
        """Render and send in chunks: a 100k-item run never holds all its
        prompt texts at once (each is a few KB)."""
        items = list(attempt_of.items())
        if batch:  # the batch engine plans its own files; give it everything
            calls = make_calls(dict(items))
            return list(zip(calls, await engine.run([c.request for c in calls], desc=desc), strict=True))
        bar = Progress(len(items), progress, desc)
        done = []
        try:
            for start in range(0, len(items), RENDER_CHUNK):
                with no_gc():
                    calls = make_calls(dict(items[start:start + RENDER_CHUNK]))
                outcomes = await engine.run([c.request for c in calls], desc=desc, bar=bar)
                for call in calls:
                    call.request = None  # the text is in the cache; free it
                done.extend(zip(calls, outcomes, strict=True))
        finally:
            bar.close()
        return done

    answers: dict[tuple, list] = {}  # (row, group, sample) -> [(call, outcome), ...] over attempts
    pending = first
    try:
        for round_ in range(retry_unparseable + 1):
            again = {}
            for call, outcome in await run_all(pending, spec.name + (f" retry {round_}" if round_ else "")):
                answers.setdefault((call.row, call.metrics, call.sample), []).append((call, outcome))
                if (round_ < retry_unparseable and outcome.completion is not None
                        and _parse(outcome.completion, call, scales, mode) is None):
                    again[(call.row, call.metrics, call.sample)] = call.attempt + 1
            if not again:
                break
            pending = again
    finally:
        await live.aclose()  # helper processes, if any
    # Building one small dict per judgment triggers many full garbage collections
    # (a third of the time of a large cached re-run); these objects hold no cycles.
    with no_gc():
        result = _assemble(data, records, answers, scales, spec.name, mode, variant, prices, include_text,
                           use_logprobs, adapter)
    result.summary.update(_summary(engine, result, prices, len(data), metric_ids, answers))
    if batch:
        result.summary["batch"] = engine.report.as_dict()
    if not isinstance(cache, JudgmentCache):
        store.close()
    return result


def _parse(completion, call, scales, mode):
    if completion.refusal or completion.text is None:
        return None
    try:
        return parse_judgment(completion.text, [scales[m] for m in call.metrics], compound=mode == "compound")
    except ScoreParseError:
        return None


def _assemble(data, records, answers, scales, rater, mode, variant, prices, include_text, use_logprobs, adapter) -> ScoreResult:
    rows, failures = [], []
    per_item: dict[tuple[int, str], list] = {}
    for (row, group, sample), attempts in answers.items():
        g = records[row]
        for call, outcome in attempts:
            c = outcome.completion

            def fail(kind, message, raw, call=call, outcome=outcome, g=g, row=row, sample=sample, group=group):
                for m in group:
                    failures.append({"_key": (row, sample), "item_id": g["item_id"], "language": g["language"],
                                     "rater": rater, "sample": sample, "attempt": call.attempt,
                                     "judge_prompt_hash": call.prompt_hash, "cached": outcome.cached,
                                     "metric": m, "kind": kind, "message": message, "raw_text": raw})

            if c is None:
                fail("provider_error", outcome.error, None)
                continue
            if c.refusal or c.text is None:
                fail("refused", "the judge refused to answer", c.refusal)
                continue
            try:
                parsed = parse_judgment(c.text, [scales[m] for m in group], compound=mode == "compound")
            except ScoreParseError as exc:
                fail("unparseable", str(exc), c.text)
                continue
            share = 1.0 / len(group)  # a compound call's tokens are shared by its metrics
            for m in group:
                probs, note = (score_distribution(c.logprobs, parsed.metrics[m].offset, scales[m]) if use_logprobs
                               else (None, "unavailable: logprobs switched off" if adapter.supports_logprobs
                                     else f"unavailable: {adapter.provider} returns no logprobs"))
                per_item.setdefault((row, m), []).append({
                    "judgment": parsed.metrics[m], "probs": probs, "note": note, "parsed": parsed, "call": call,
                    "completion": c, "cached": outcome.cached, "share": share})
    extra_cols = [c for c in ("prompt_id", "system") if c in data.columns]
    if include_text:
        extra_cols += [c for c in ("prompt", "response", "reference") if c in data.columns]
    signals: dict[int, list[str]] = {}
    for (row, m), judged in sorted(per_item.items()):
        g = records[row]
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
        flagged_by_judge = any(j["parsed"].addresses_evaluator for j in judged)
        if flagged_by_judge:
            reasons = ["the judge reported instructions aimed at it", *reasons]
        out = {
            "item_id": g["item_id"], "language": g["language"], "script": g["script"], "task": g["task"],
            "metric": m, "rater": rater, "rater_kind": "judge", "score": float(chosen),
            "justification": pick["judgment"].justification,
            "score_probs": json.dumps({k: round(v, 6) for k, v in probs.items()}) if probs else None,
            "expected_score": expected_score(probs), "score_probs_note": "; ".join(notes),
            "judge_prompt_hash": pick["call"].prompt_hash, "prompt_variant": variant, "judge_mode": mode,
            "n_samples": len(judged), "sample_scores": json.dumps(scores),
            "sample_sd": statistics.pstdev(scores) if len(scores) > 1 else 0.0,
            "tokens_in": int(round(tin)), "tokens_out": int(round(tout)), "cost_usd": cost(prices, tin, tout),
            "latency_s": float(sum(j["completion"].latency for j in judged) / len(judged)),
            "cached": all(j["cached"] for j in judged), "parse_method": pick["parsed"].method,
            "injection_suspected": bool(reasons), "injection_reasons": "; ".join(reasons),
        }
        for col in extra_cols:
            out[col] = g[col]
        rows.append(out)
    ratings = pd.DataFrame(rows)
    # A failure is final when no later attempt of that item, metric and sample gave a score.
    scored = {(row, m, j["call"].sample) for (row, m), judged in per_item.items() for j in judged}
    for f in failures:
        row, sample = f.pop("_key")
        f["final"] = (row, f["metric"], sample) not in scored
    fails = pd.DataFrame(failures, columns=FAILURE_COLUMNS)
    return ScoreResult(ratings, fails)


def _summary(engine: Engine, result: ScoreResult, prices, n_items: int, metrics, answers: dict) -> dict:
    """Counts, tokens and cost of a run. Tokens and cost are those of every answer
    received, refused and unparseable ones included (they are billed too, but
    have no ratings row); ``*_sent`` counts only the answers this run paid for
    (not from the cache)."""
    st = engine.stats
    ratings = result.ratings
    tin = tout = sent_in = sent_out = 0
    for attempts in answers.values():
        for _, outcome in attempts:
            c = outcome.completion
            if c is not None:
                tin += c.input_tokens
                tout += c.output_tokens
                if not outcome.cached:
                    sent_in += c.input_tokens
                    sent_out += c.output_tokens
    return {
        "judge": engine.adapter.name, "items": n_items, "metrics": list(metrics), "judgments": len(ratings),
        "unscored": n_items * len(metrics) - len(ratings), "failures": len(result.failures),
        "requests": st.requested, "cache_hits": st.cache_hits,
        "http_requests": st.sent, "retries": st.retries, "rate_limited": st.rate_limited,
        "failed_requests": st.failed, "tokens_in": tin, "tokens_out": tout,
        "cost_usd": cost(prices, tin, tout), "tokens_in_sent": sent_in, "tokens_out_sent": sent_out,
        "cost_usd_sent": cost(prices, sent_in, sent_out),
        "price_known": prices is not None, "elapsed_s": round(st.elapsed, 3),
        "judgments_per_s": round(len(ratings) / st.elapsed, 1) if st.elapsed > 0 else None,
        "answers_by_process": dict(st.by_process),
    }


def _dry_run(attempt_of: dict, make_calls, engine: Engine, rater: str, prices) -> ScoreResult:
    items = list(attempt_of.items())
    n_send = est_in = budget = 0
    example = None
    for start in range(0, len(items), RENDER_CHUNK):
        calls = make_calls(dict(items[start:start + RENDER_CHUNK]))
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
    summary = {"judge": rater, "dry_run": True, "requests": len(items), "cached": len(items) - n_send,
               "to_send": n_send, "est_tokens_in": est_in, "est_tokens_out": est_out,
               "est_cost_usd": cost(prices, est_in, est_out), "price_known": prices is not None}
    return ScoreResult(pd.DataFrame(), pd.DataFrame(columns=FAILURE_COLUMNS), summary, example)

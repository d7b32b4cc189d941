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
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from judgecal.errors import ConfigError
from judgecal.judges.base import make_adapter, parse_judge
from judgecal.judges.batch import BatchEngine
from judgecal.judges.cache import JudgmentCache
from judgecal.judges.costs import cost, estimate_tokens, lookup_prices
from judgecal.judges.engine import Engine, Outcome, Progress, RetryPolicy
from judgecal.judges.gcpolicy import no_gc
from judgecal.judges.litellm_adapter import import_litellm
from judgecal.judges.options import DEFAULT_METRICS, ScoringOptions, TransportOptions, build_options
from judgecal.judges.plan import Answer, Call, Plan
from judgecal.judges.rows import FAILURE_COLUMNS, judge_rows
from judgecal.judges.run_summary import DryRunSummary, RunSummary

RENDER_CHUNK = 5000  # requests rendered and sent per round; bounds memory on very large runs


def default_cache_path() -> Path:
    """The judgment cache used when none is given: ``judgments.sqlite`` in the user cache folder."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("judgecal")) / "judgments.sqlite"


@dataclass
class ScoreResult:
    """What a scoring run returns.

    Attributes
    ----------
    ratings : DataFrame
        Judge rows of the ratings table, one per (item, metric).
    failures : DataFrame
        One row per answer without a usable score (``FAILURE_COLUMNS``); a failure
        never becomes a score.
    summary : RunSummary or DryRunSummary
        What the run did (counts, tokens, cost); ``summary.as_dict()`` is what
        ``judgecal score --summary`` writes.
    example : dict or None
        Dry run only: the first request as it would be sent.
    """

    ratings: pd.DataFrame
    failures: pd.DataFrame
    summary: RunSummary | DryRunSummary | None = None
    example: dict | None = None


def score_generations(generations, judge: str, metrics=DEFAULT_METRICS, **options) -> ScoreResult:
    """Judge every generation on every metric. Blocking wrapper of :func:`ascore_generations`.

    Parameters
    ----------
    generations : DataFrame or path
        JSONL/CSV/TSV/JSON/Parquet with ``item_id``, ``language``, ``prompt``,
        ``response``, optional ``reference``/``task``/``system``/``prompt_id``.
    judge : str
        ``openai/<model>``, ``anthropic/<model>`` or ``litellm/<model>``.
    metrics : sequence of str
        Metric ids with a rubric template.
    **options
        See :func:`ascore_generations`; fields of
        :class:`~judgecal.judges.options.ScoringOptions` and
        :class:`~judgecal.judges.options.TransportOptions` may be given by name
        (``samples=3, concurrency=32``).

    Returns
    -------
    ScoreResult

    Raises
    ------
    ConfigError
        When called inside a running event loop (use ``await ascore_generations(...)``).

    Examples
    --------
    A dry run renders and prices the requests without sending any (no API key needed):

    >>> import pathlib, tempfile
    >>> import pandas as pd
    >>> outputs = pd.DataFrame({"item_id": ["q1"], "language": ["hi"], "task": ["open_prompt"],
    ...                         "prompt": ["भारत की राजधानी क्या है?"], "response": ["नई दिल्ली"]})
    >>> cache = pathlib.Path(tempfile.mkdtemp()) / "judgments.sqlite"
    >>> plan = score_generations(outputs, "openai/gpt-4o-mini", ["la", "h"], dry_run=True, cache=cache)
    >>> plan.summary.requests, plan.summary.to_send, plan.summary.price_known
    (2, 2, True)
    >>> sorted(plan.example)
    ['judge', 'logprobs', 'max_tokens', 'schema', 'system', 'temperature', 'user']

    A real run (needs the provider's API key):

    >>> result = score_generations("outputs.jsonl", "openai/gpt-4o-mini", ["la", "h"],
    ...                            samples=3, concurrency=32)  # doctest: +SKIP
    >>> result.ratings, result.failures, result.summary.as_dict()  # doctest: +SKIP
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
    plan = Plan.make(generations, metrics, scoring, adapter, input_format, encoding)
    if prices is None:
        if spec.provider == "litellm" and not dry_run:
            import_litellm()  # loaded anyway; its price map knows the model
        prices = lookup_prices(spec.model)
    first = {(r, g, s): 0 for r in range(len(plan.records)) for g in plan.groups for s in range(scoring.samples)}
    store, live, engine = make_engines(adapter, transport, cache, progress)
    if dry_run:
        return dry_run_result(first, plan, engine, spec.name, prices)
    try:
        answers = await ask_all(plan, engine, first, progress, spec.name, batched=transport.batch is not None)
    finally:
        await live.aclose()  # helper processes, if any
    # Building one small dict per judgment triggers many full garbage collections
    # (a third of the time of a large cached re-run); these objects hold no cycles.
    with no_gc():
        result = ScoreResult(*judge_rows(plan, answers, spec.name, prices, include_text, adapter))
    result.summary = summarize_run(engine, result, prices, plan, answers)
    if not isinstance(cache, JudgmentCache):
        store.close()
    return result


def make_engines(adapter, transport: TransportOptions, cache: str | Path | JudgmentCache | None,
                 progress) -> tuple[JudgmentCache, Engine, Engine | BatchEngine]:
    """The cache (opened from a path, or the one given), the live engine, and the
    engine a run drives (the batch engine around the live one with ``transport.batch``)."""
    store = cache if isinstance(cache, JudgmentCache) else JudgmentCache(default_cache_path() if cache is None else cache)
    live = Engine(adapter, store, concurrency=transport.concurrency, rpm=transport.rpm, tpm=transport.tpm,
                  timeout=transport.timeout, progress=progress, workers=transport.workers,
                  retry=RetryPolicy(max_attempts=transport.max_attempts, base=transport.retry_base))
    return store, live, live if transport.batch is None else BatchEngine(live, transport.batch)


async def ask_all(plan: Plan, engine, first: dict, progress, rater: str, *, batched: bool) -> dict[tuple, list[Answer]]:
    """Send every request, re-asking after refused or unparseable answers
    (``retry_unparseable`` rounds). Returns (row, group, sample) -> answers over attempts.

    ``plan`` is a :class:`Plan` or anything shaped like it (``scoring``,
    ``calls``, ``read``): the pairwise run passes its battle plan, whose groups
    are the orders shown."""

    async def run_all(attempt_of: dict, desc: str) -> list[tuple[Call, Outcome]]:
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
    answers: dict[tuple, list[Answer]] = {}
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


def summarize_run(engine, result: ScoreResult, prices, plan: Plan, answers: dict) -> RunSummary:
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


def dry_run_result(attempt_of: dict, plan: Plan, engine, rater: str, prices) -> ScoreResult:
    """What a run would send, from the cache and the rendered requests (nothing is sent)."""
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

"""Judging battles: the Python API behind ``judgecal score --pairwise``.

:func:`score_battles` takes a pairs table (or generations and a
:class:`~judgecal.judges.pairing.PairingPlan`), shows the judge each pair in
both orders by default (position swap; ``swap=False`` for the canonical order
only), and returns

* ``battles``: judge rows of the battles table (docs/pairwise.md), one per
  pair and order shown (``shown`` 12 / 21), with ``verdict`` first / tie /
  second about the order SHOWN and, where the provider returns logprobs,
  ``verdict_probs`` over the three;
* ``pairs``: one row per pair with each order's outcome and the combined
  verdict under the battles table's rule
  (:func:`judgecal.data.battle_verdicts.judged_pairs`: agreeing orders give their
  verdict, a decisive order and a tie the decisive side, contradicting orders
  a tie);
* ``failures``: one row per answer without a verdict (provider error, refusal,
  unparseable), with the raw text. A failure never becomes a verdict.

It runs on the same engine as pointwise scoring
(:class:`~judgecal.judges.engine.Engine`, or the batch engine): the same cache
(a battle order is never paid for twice: the key covers the judge, the
rendered prompt, hence both texts, their order and the template), resume
after a kill, rate limits, retries and re-asks after unparseable answers.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from judgecal.data.battle_verdicts import judged_pairs
from judgecal.data.tables import read_table
from judgecal.errors import ConfigError
from judgecal.judges.api import ScoreResult, ask_all, dry_run_result, make_engines, summarize_run
from judgecal.judges.base import CompletionRequest, make_adapter, parse_judge
from judgecal.judges.cache import JudgmentCache
from judgecal.judges.costs import cost, lookup_prices
from judgecal.judges.engine import Outcome
from judgecal.judges.generations import read_generations
from judgecal.judges.litellm_adapter import import_litellm
from judgecal.judges.options import PairingPlan, ScoringOptions, build_options
from judgecal.judges.pairing import PairingReport, pair_generations, read_pairs
from judgecal.judges.pairwise_prompt import (
    ORDERS,
    ComparisonPrompt,
    parse_verdict,
    verdict_distribution,
)
from judgecal.judges.parsing import injection_signals
from judgecal.judges.plan import Answer, Call, read_answer
from judgecal.judges.run_summary import DryRunSummary, RunSummary

FAILURE_COLUMNS = ["pair_id", "language", "shown", "rater", "attempt", "kind", "message", "raw_text",
                   "judge_prompt_hash", "cached", "final"]


@dataclass
class BattleResult:
    """battles : judge rows of the battles table; pairs : per pair, each order's
    and the combined verdict; failures : one row per answer without a verdict
    (FAILURE_COLUMNS); summary : what the run did (``items`` counts pairs and
    ``metrics`` lists the orders judged); pairing : what a pairing plan built;
    example : dry run only, the first request as it would be sent."""

    battles: pd.DataFrame
    pairs: pd.DataFrame
    failures: pd.DataFrame
    summary: RunSummary | DryRunSummary | None = None
    pairing: PairingReport | None = None
    example: dict | None = None


@dataclass
class BattlePlan:
    """The pairs of a run and how to render and read their requests. Shaped like
    :class:`~judgecal.judges.plan.Plan` so the pointwise sending loop runs it:
    a call's ``metrics`` holds the order shown (``("12",)`` or ``("21",)``)."""

    scoring: ScoringOptions
    prompt: ComparisonPrompt
    data: pd.DataFrame
    records: list[dict]
    metric_ids: tuple[str, ...]  # the orders judged
    use_logprobs: bool

    def calls(self, attempt_of: dict) -> list[Call]:
        """One rendered request per ((pair row, (order,), sample) -> attempt)."""
        sc = self.scoring
        calls = []
        for (row, group, sample), attempt in attempt_of.items():
            p = self.records[row]
            first, second = (p["response_1"], p["response_2"]) if group[0] == "12" else (p["response_2"], p["response_1"])
            r = self.prompt.render(variant=sc.variant, task=p["task"], language=p["language"], prompt=p["prompt"],
                                   first=first, second=second)
            req = CompletionRequest(r.system, r.user, max_tokens=sc.max_tokens, temperature=sc.effective_temperature,
                                    schema=r.schema if sc.structured else None, schema_name="verdict",
                                    logprobs=self.use_logprobs, top_logprobs=5, seed=sc.seed, sample=sample,
                                    attempt=attempt)
            calls.append(Call(row, group, sample, attempt, req, r.prompt_hash))
        return calls

    def read(self, call: Call, outcome: Outcome) -> Answer:
        """The answer's verdict, or the kind of failure it is (parsed here, once)."""
        return read_answer(call, outcome, parse_verdict)


def score_battles(source, judge: str, **kwargs) -> BattleResult:
    """Judge pairs of responses. Blocking wrapper of :func:`ascore_battles`.

    Examples
    --------
    >>> res = score_battles("pairs.jsonl", "openai/gpt-4o-mini", task="open_prompt")  # doctest: +SKIP
    >>> res = score_battles("gens.jsonl", "openai/gpt-4o-mini",
    ...                     pairing=PairingPlan("random", opponents=2, seed=1))  # doctest: +SKIP
    >>> res.pairs[["pair_id", "outcome_12", "outcome_21", "outcome"]]  # doctest: +SKIP
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(ascore_battles(source, judge, **kwargs))
    raise ConfigError("score_battles was called inside a running event loop (a notebook?); "
                      "use `await ascore_battles(...)` there")


async def ascore_battles(
    source, judge: str, *, pairing: PairingPlan | str | None = None, swap: bool = True, check_texts: bool = True,
    scoring: ScoringOptions | None = None, transport=None, cache: str | Path | JudgmentCache | None = None,
    prices: tuple[float, float] | None = None, include_text: bool = True, progress: bool | str = "auto",
    dry_run: bool = False, input_format: str | None = None, encoding: str = "utf-8", **options,
) -> BattleResult:
    """Async version of :func:`score_battles`.

    source : a pairs table (DataFrame or file: pair_id, language, prompt,
        response_1, response_2, optional system_1/system_2/prompt_id/task/script);
        with ``pairing``, a generations table (one response per prompt and system)
    pairing : None (``source`` holds pairs), a :class:`PairingPlan`, or its kind
        (``"all"``; ``random`` and ``anchors`` need a PairingPlan)
    swap : judge both orders (default); False judges the canonical order (12) only
    check_texts : refuse responses in another script than their row's language
    scoring, transport, options, cache, prices, include_text, progress, dry_run,
    input_format, encoding : as for :func:`~judgecal.judges.api.score_generations`
    """
    scoring, transport = build_options(scoring, transport, options)
    if scoring.samples != 1:
        raise ConfigError("pairwise judging takes one sample per order (samples=1); several samples are not supported yet")
    if scoring.mode != "single":
        raise ConfigError("mode does not apply to pairwise judging (one verdict per call); leave it at 'single'")
    spec = parse_judge(judge, transport.base_url)
    adapter = make_adapter(spec, timeout=transport.timeout)
    if scoring.logprobs == "require" and not adapter.supports_logprobs:
        raise ConfigError(f"{adapter.name}: the provider returns no logprobs (logprobs='require')")
    prompt = ComparisonPrompt(scoring.prompts_dir)
    pairs, report = _pairs(source, pairing, scoring, prompt, check_texts, input_format, encoding)
    orders = ORDERS if swap else ORDERS[:1]
    plan = BattlePlan(scoring, prompt, pairs, pairs.to_dict("records"), orders,
                      scoring.logprobs != "off" and adapter.supports_logprobs)
    if prices is None:
        if spec.provider == "litellm" and not dry_run:
            import_litellm()
        prices = lookup_prices(spec.model)
    first = {(r, (o,), 0): 0 for r in range(len(plan.records)) for o in orders}
    store, live, engine = make_engines(adapter, transport, cache, progress)
    try:
        if dry_run:
            dry = dry_run_result(first, plan, engine, spec.name, prices)
            return BattleResult(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(columns=FAILURE_COLUMNS), dry.summary,
                                report, dry.example)
        try:
            answers = await ask_all(plan, engine, first, progress, spec.name, batched=transport.batch is not None)
        finally:
            await live.aclose()
        battles, failures = battle_rows(plan, answers, spec.name, prices, include_text, adapter)
        summary = summarize_run(engine, ScoreResult(battles, failures), prices, plan, answers)
        return BattleResult(battles, combined_verdicts(battles), failures, summary, report)
    finally:
        if not isinstance(cache, JudgmentCache):
            store.close()


def _pairs(source, pairing, scoring: ScoringOptions, prompt: ComparisonPrompt, check_texts: bool, fmt,
           encoding) -> tuple[pd.DataFrame, PairingReport | None]:
    if pairing is None:
        return read_pairs(source, task=scoring.task, tasks=prompt.tasks, check_texts=check_texts, fmt=fmt,
                          encoding=encoding), None
    plan = pairing if isinstance(pairing, PairingPlan) else PairingPlan(pairing)
    gens = read_generations(source, task=scoring.task, known_tasks=prompt.tasks, fmt=fmt, encoding=encoding)
    if isinstance(source, pd.DataFrame):
        return pair_generations(gens, plan, check_texts=check_texts)
    _, rows = read_table(source, fmt, encoding=encoding)  # the file's own row numbers, for problems found in pairing
    return pair_generations(gens.assign(_row=rows), plan, name=str(source), check_texts=check_texts)


def battle_rows(plan: BattlePlan, answers: dict, rater: str, prices, include_text: bool,
                adapter) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Battles rows (one per pair and order with a verdict) and failure rows.

    answers : (pair row, (order,), sample) -> the :class:`~judgecal.judges.plan.Answer` of each attempt
    """
    text_cols = ("prompt", "response_1", "response_2") if include_text else ()
    extra = [c for c in ("prompt_id", "system_1", "system_2", "task", *text_cols, "item_id_1", "item_id_2")
             if c in plan.data.columns]
    battles, failures = [], []
    signals: dict[int, list[str]] = {}
    for (row, group, _sample), attempts in sorted(answers.items()):
        p, shown = plan.records[row], group[0]
        judged = [a for a in attempts if a.parsed is not None]
        for a in attempts:
            if a.parsed is None:
                kind, message, raw = a.failure
                failures.append({"pair_id": p["pair_id"], "language": p["language"], "shown": shown, "rater": rater,
                                 "attempt": a.call.attempt, "kind": kind, "message": message, "raw_text": raw,
                                 "judge_prompt_hash": a.call.prompt_hash, "cached": a.outcome.cached,
                                 "final": not judged})
        if not judged:
            continue
        a = judged[-1]  # re-asks stop at the first verdict
        c = a.outcome.completion
        if plan.use_logprobs:
            probs, note = verdict_distribution(c.logprobs, a.parsed.offset)
        else:
            note = ("unavailable: logprobs switched off" if adapter.supports_logprobs
                    else f"unavailable: {adapter.provider} returns no logprobs")
            probs = None
        if row not in signals:
            signals[row] = [f"{col}: {s}" for col in ("response_1", "response_2") for s in injection_signals(p[col])]
        reasons = (["the judge reported instructions aimed at it"] if a.parsed.addresses_evaluator else []) + signals[row]
        out = {"pair_id": p["pair_id"], "language": p["language"], "script": p["script"], "rater": rater,
               "rater_kind": "judge", "shown": shown, "verdict": a.parsed.verdict,
               "verdict_probs": json.dumps({k: round(v, 6) for k, v in probs.items()}) if probs else None,
               "verdict_probs_note": note, "justification": a.parsed.reason, "judge_prompt_hash": a.call.prompt_hash,
               "prompt_variant": plan.scoring.variant, "tokens_in": c.input_tokens, "tokens_out": c.output_tokens,
               "cost_usd": cost(prices, c.input_tokens, c.output_tokens), "latency_s": float(c.latency),
               "cached": a.outcome.cached, "parse_method": a.parsed.method,
               "injection_suspected": bool(reasons), "injection_reasons": "; ".join(reasons)}
        out.update({col: p[col] for col in extra})
        battles.append(out)
    return pd.DataFrame(battles), pd.DataFrame(failures, columns=FAILURE_COLUMNS)


def combined_verdicts(battles: pd.DataFrame) -> pd.DataFrame:
    """Per pair: each order's outcome and the combined verdict (docs/pairwise.md),
    from the judge rows of one run (built here by the contract, so not checked again)."""

    if battles.empty:
        return pd.DataFrame(columns=["pair_id", "rater", "n_orders", "outcome_12", "outcome_21", "outcome",
                                     "p_system_1", "p_tie", "p_system_2", "flipped", "has_probs"])
    return judged_pairs(battles)

"""Judge rows of the ratings table, and failure rows, from a run's read answers.

One ratings row per (item, metric): the lower median of its samples' scores,
their mean score distribution, tokens and cost. One failure row per metric of
each answer without a score (provider error, refusal, unparseable), marked
``final`` when no later attempt of it gave a score.
"""

from __future__ import annotations

import json
import statistics

import pandas as pd

from judgecal.judges.costs import cost
from judgecal.judges.parsing import expected_score, injection_signals, score_distribution
from judgecal.judges.plan import Plan

FAILURE_COLUMNS = ["item_id", "language", "metric", "rater", "sample", "attempt", "kind", "message",
                   "raw_text", "judge_prompt_hash", "cached", "final"]


def judge_rows(plan: Plan, answers: dict, rater: str, prices, include_text: bool,
               adapter) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ratings rows (one per item and metric, over its samples) and the failures rows.

    answers : (row, metric group, sample) -> the :class:`~judgecal.judges.plan.Answer` of each attempt
    rater : the judge's name; prices : USD per million (input, output) tokens, or None
    include_text : copy prompt, response and reference into the ratings rows
    """
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
    return ratings, fails


def _sort_answers(plan: Plan, answers: dict, rater: str, adapter) -> tuple[dict, list[dict]]:
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


def _rating_row(plan: Plan, row: int, m: str, judged: list[dict], rater: str, prices, extra_cols: list[str],
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

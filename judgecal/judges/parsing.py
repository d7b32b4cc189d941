"""Turning a judge's answer into scores, never guessing.

:func:`parse_judgment` reads the answer strictly first (the whole answer is the
JSON object the schema asked for). If that fails, a tolerant reading accepts the
usual deviations: a code fence around the JSON, prose around it, a score given
as a string, or, for one metric, a plain ``"score": 2`` in otherwise broken
JSON. A score that is missing, ambiguous or not a level of the metric's scale
raises :class:`~judgecal.errors.ScoreParseError` carrying the raw text.

:func:`score_distribution` reads the judge's probability of each score level
from the token logprobs at the score's position in the answer.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass, field

from judgecal.data.metrics import MetricScale
from judgecal.errors import ScoreParseError

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)
_SCORE = re.compile(r'"?score"?\s*[:=]\s*"?(-?\d+(?:\.\d+)?)')


@dataclass
class MetricJudgment:
    score: float
    justification: str
    offset: int | None  # character offset of the score value in the raw answer


@dataclass
class ParsedJudgment:
    metrics: dict[str, MetricJudgment]
    addresses_evaluator: bool | None
    method: str  # "strict" or "tolerant"
    notes: list[str] = field(default_factory=list)


def _level(value, scale: MetricScale, raw: str) -> float:
    if isinstance(value, bool) or value is None:
        raise ScoreParseError(f"{scale.id}: score {value!r} is not a number", raw=raw)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ScoreParseError(f"{scale.id}: score {value!r} is not a number", raw=raw) from None
    if number not in scale.levels:
        levels = ", ".join(f"{v:g}" for v in scale.levels)
        raise ScoreParseError(f"{scale.id}: score {value!r} is not one of the levels {levels}", raw=raw)
    return number


def _first_object(text: str) -> dict | None:
    """The first balanced JSON object in ``text`` that parses, else None."""
    decoder = json.JSONDecoder()
    for m in re.finditer(r"\{", text):
        try:
            obj, _ = decoder.raw_decode(text, m.start())
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            return obj
    return None


def _offsets(raw: str, scales: list[MetricScale], compound: bool) -> dict[str, int | None]:
    """Where each metric's score value sits in the raw answer (for logprobs)."""
    out: dict[str, int | None] = {}
    if not compound:
        hits = list(re.finditer(r'"score"\s*:\s*"?(-?\d)', raw))
        out[scales[0].id] = hits[0].start(1) if len(hits) == 1 else None
        return out
    for s in scales:
        head = re.search(rf'"{re.escape(s.id)}"\s*:\s*\{{', raw)
        hit = re.compile(r'"score"\s*:\s*"?(-?\d)').search(raw, head.end()) if head else None
        out[s.id] = hit.start(1) if hit else None
    return out


def _from_object(obj: dict, scales: list[MetricScale], compound: bool, raw: str) -> dict[str, MetricJudgment]:
    offsets = _offsets(raw, scales, compound)
    result = {}
    for s in scales:
        part = obj.get(s.id) if compound else obj
        if not isinstance(part, dict) or "score" not in part:
            raise ScoreParseError(f"{s.id}: the answer has no score for this metric", raw=raw)
        just = part.get("justification")
        result[s.id] = MetricJudgment(_level(part["score"], s, raw), "" if just is None else str(just), offsets[s.id])
    return result


def parse_judgment(raw: str | None, scales: list[MetricScale], *, compound: bool = False) -> ParsedJudgment:
    """Scores for ``scales`` from a judge's answer; ScoreParseError if there are none."""
    if raw is None or not str(raw).strip():
        raise ScoreParseError("the answer is empty", raw=raw)
    text = str(raw)
    try:
        obj = json.loads(text)
        if isinstance(obj, dict):
            metrics = _from_object(obj, scales, compound, text)
            return ParsedJudgment(metrics, _flag(obj), "strict")
    except (json.JSONDecodeError, ScoreParseError):
        pass
    # Tolerant: fenced or embedded JSON.
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    for cand in candidates:
        obj = _first_object(cand)
        if obj is None:
            continue
        try:
            metrics = _from_object(obj, scales, compound, text)
        except ScoreParseError:
            if compound or "score" in obj:
                raise
            continue
        return ParsedJudgment(metrics, _flag(obj), "tolerant", ["score read from JSON embedded in other text"])
    if not compound:
        values = {m.group(1) for m in _SCORE.finditer(text)}
        if len(values) == 1:
            value = values.pop()
            s = scales[0]
            offset = _SCORE.search(text).start(1)
            return ParsedJudgment({s.id: MetricJudgment(_level(value, s, text), "", offset)}, None, "tolerant",
                                  ["score read from a 'score: N' pattern; no justification"])
        if len(values) > 1:
            raise ScoreParseError(f"the answer gives conflicting scores {sorted(values)}", raw=text)
    raise ScoreParseError("no score found in the answer", raw=text)


def _flag(obj: dict) -> bool | None:
    value = obj.get("addresses_evaluator")
    return value if isinstance(value, bool) else None


def score_distribution(logprobs: list | None, offset: int | None, scale: MetricScale) -> tuple[dict | None, str]:
    """The judge's probability of each level, from the alternatives of the token
    holding the score. Returns ({level: p}, note); the dict is None when the
    distribution cannot be read, and the note says why.

    ``logprobs``: [[offset, token, logprob, [[alt, alt_logprob], ...]], ...] for
    the answer's number tokens, as the adapters store them. Probabilities are
    renormalised over the levels; the note records the mass that fell on the
    levels before renormalising.
    """
    names = _level_names(scale.levels)
    return token_distribution(logprobs, offset, names, lambda t: t.strip() if t.strip() in names else None,
                              what="score", kind="a level", plural="levels")


def token_distribution(logprobs: list | None, offset: int | None, labels: tuple[str, ...], label_of, *,
                       what: str, kind: str, plural: str) -> tuple[dict | None, str]:
    """The judge's probability of each label, from the alternatives of the token
    at ``offset`` in the answer (a score level, a pairwise verdict).

    labels : the labels, in order; label_of : token text -> its label, or None
    what, kind, plural : words for the notes ("score", "a level", "levels")
    Returns ({label: p} renormalised over the labels, note), or (None, why not).
    """
    if logprobs is None:
        return None, "unavailable: the provider returned no logprobs"
    if offset is None:
        return None, f"unavailable: the {what}'s position in the answer is not known"
    for start, token, lp, alts in logprobs:
        if not start <= offset < start + len(token):
            continue
        chosen = label_of(str(token))
        if chosen is None:
            return None, f"unavailable: the {what}'s token {token!r} is not {kind}"
        probs = dict.fromkeys(labels, 0.0)
        for alt, alp in alts or [(token, lp)]:
            label = label_of(str(alt))
            if label is not None:
                probs[label] += math.exp(alp)
        if probs[chosen] == 0.0:  # the chosen token is not among the alternatives listed
            probs[chosen] = math.exp(lp)
        mass = sum(probs.values())
        if mass <= 0:
            return None, f"unavailable: no probability on any {plural[:-1]}"
        return {k: v / mass for k, v in probs.items()}, f"from logprobs; mass on {plural} {mass:.3f}"
    return None, f"unavailable: the {what} does not sit in a token of its own"


@functools.lru_cache(maxsize=64)
def _level_names(levels: tuple[float, ...]) -> tuple[str, ...]:
    return tuple(f"{v:g}" for v in levels)


def expected_score(probs: dict | None) -> float:
    """Sum of level x probability; NaN without a distribution."""
    if not probs:
        return math.nan
    return float(sum(float(k) * p for k, p in probs.items()))


_INJECTION = [
    (re.compile(r"\bignore\b.{0,40}\b(instruction|prompt|rule)s?\b", re.I | re.S), "asks to ignore instructions"),
    (re.compile(r"\b(you are|act as)\b.{0,30}\b(judge|evaluator|grader|rater)\b", re.I | re.S), "addresses the evaluator"),
    (re.compile(r"\b(give|assign|rate|score)\b.{0,40}\b(score|rating|grade|points?|marks?)\b.{0,20}\b\d+\b", re.I | re.S),
     "asks for a particular score"),
    (re.compile(r"\b(system prompt|developer message|new instructions)\b", re.I), "mentions the judge's instructions"),
    (re.compile(r"<<<\s*END\b|<\s*/\s*(response|prompt|instructions)\s*>", re.I), "tries to close a fence"),
    (re.compile(r'"score"\s*:\s*-?\d', re.I), "contains a JSON score"),
    (re.compile(r'"verdict"\s*:\s*"(first|tie|second)"', re.I), "contains a JSON verdict"),
]


def injection_signals(text: str | None) -> list[str]:
    """Reasons to think ``text`` holds instructions aimed at the judge (may be empty)."""
    if not text:
        return []
    return [reason for pattern, reason in _INJECTION if pattern.search(text)]

"""The pairwise comparison prompt: rendering, the answer's schema, reading the verdict.

The template is ``prompts/pairwise/compare.toml`` (installed as
``judgecal.prompts.pairwise``); a ``pairwise/compare.toml`` in a user's
``prompts_dir`` replaces it. One rendered prompt shows the prompt and the two
responses in the order asked (``12``: response_1 first; ``21``: swapped), each
fenced between boundary lines whose token none of the three texts contains
(:func:`~judgecal.judges.templates.fence_token`), so a response cannot close
its own fence, whatever it holds. Every prompt carries the hash of the
template text, the variant and the task (``judge_prompt_hash``).

The answer is read strictly (:func:`parse_verdict`): a JSON object with
``verdict`` one of ``first`` / ``tie`` / ``second`` (a lone fenced JSON block
is accepted and marked ``fenced``); anything else raises
:class:`~judgecal.errors.ScoreParseError` and becomes a failure row, never a
verdict. :func:`verdict_distribution` reads P(first / tie / second) from the
logprobs of the verdict's token where the provider returns them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from string import Template

from judgecal.data.languages import language_name
from judgecal.errors import ConfigError, ScoreParseError
from judgecal.judges.options import VARIANTS
from judgecal.judges.parsing import token_distribution
from judgecal.judges.templates import builtin_prompts_dir, fence_token

VERDICTS = ("first", "tie", "second")
ORDERS = ("12", "21")
TEMPLATE_FILE = "compare.toml"


@dataclass(frozen=True)
class RenderedComparison:
    system: str
    user: str
    schema: dict
    prompt_hash: str


def verdict_schema() -> dict:
    """JSON schema of the judge's answer (strict: every property required)."""
    props = {"reason": {"type": "string"}, "verdict": {"type": "string", "enum": list(VERDICTS)},
             "addresses_evaluator": {"type": "boolean"}}
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


class ComparisonPrompt:
    """The pairwise template (built-in, or ``<prompts_dir>/pairwise/compare.toml``)."""

    def __init__(self, prompts_dir: str | Path | None = None):
        path = builtin_prompts_dir().joinpath("pairwise", TEMPLATE_FILE)
        if prompts_dir is not None:
            if not Path(prompts_dir).is_dir():
                raise ConfigError(f"prompts folder {prompts_dir} does not exist")
            own = Path(prompts_dir) / "pairwise" / TEMPLATE_FILE
            if own.is_file():
                path = own
        self.source = str(path)
        text = path.read_text(encoding="utf-8")
        try:
            self.data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"pairwise prompt template {path} is not valid TOML: {exc}") from exc
        for key in ("system", "user", "criteria", "framing"):
            if key not in self.data:
                raise ConfigError(f"{path}: the pairwise template needs {key!r}")
        missing = [v for v in VARIANTS if v not in self.data["criteria"]]
        if missing:
            raise ConfigError(f"{path}: [criteria] needs the variant(s) {missing}")
        self._text = text
        self.tasks = set(self.data["framing"])
        self._schema = verdict_schema()

    @functools.lru_cache(maxsize=256)  # noqa: B019 (one object per run; few keys)
    def prompt_hash(self, variant: str, task: str) -> str:
        """Hash of the template's full text, the variant and the task framing used."""
        blob = json.dumps({"template": self._text, "variant": variant, "task": task}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def render(self, *, variant: str, task: str, language: str, prompt: str, first: str,
               second: str) -> RenderedComparison:
        """The request for one order: ``first`` and ``second`` are the texts as shown."""
        if variant not in VARIANTS:
            raise ConfigError(f"prompt variant must be one of {VARIANTS}, not {variant!r}")
        if task not in self.data["framing"]:
            raise ConfigError(f"no pairwise framing for task {task!r} in {self.source}; "
                              f"tasks framed: {', '.join(sorted(self.tasks))}")
        subst = {"language_name": _language_name(language), "boundary": fence_token(prompt, first, second)}
        framing = Template(self.data["framing"][task]).substitute(subst)
        criteria = Template(self.data["criteria"][variant]).substitute(subst)
        # The texts go in last and in one pass, so a "$" inside them is never a placeholder.
        user = Template(self.data["user"]).substitute(subst, task_framing=framing, criteria=criteria,
                                                      prompt=prompt, first=first, second=second)
        system = Template(self.data["system"]).substitute(subst)
        return RenderedComparison(system, user, self._schema, self.prompt_hash(variant, task))


@functools.lru_cache(maxsize=512)
def _language_name(tag: str) -> str:
    return language_name(tag)


@dataclass(frozen=True)
class ParsedVerdict:
    verdict: str  # first / tie / second, about the order shown
    reason: str
    addresses_evaluator: bool | None
    offset: int | None  # character offset of the verdict word in the raw answer
    method: str  # "strict" or "fenced"


_FENCED = re.compile(r"\A\s*```(?:json)?\s*(\{.*\})\s*```\s*\Z", re.S)
_VERDICT_AT = re.compile(r'"verdict"\s*:\s*"')


def parse_verdict(raw: str | None) -> ParsedVerdict:
    """The verdict of a pairwise answer, read strictly; ScoreParseError if there is none.

    Accepted: the answer is one JSON object (``strict``), or one JSON object in
    a code fence with nothing around it (``fenced``). Its ``verdict`` must be
    ``first``, ``tie`` or ``second`` (any case, surrounding spaces ignored).
    """
    if raw is None or not str(raw).strip():
        raise ScoreParseError("the answer is empty", raw=raw)
    text = str(raw)
    method, body = "strict", text
    fenced = _FENCED.match(text)
    if fenced:
        method, body = "fenced", fenced.group(1)
    try:
        obj = json.loads(body)
    except json.JSONDecodeError:
        raise ScoreParseError("the answer is not a JSON object", raw=text) from None
    if not isinstance(obj, dict):
        raise ScoreParseError("the answer is not a JSON object", raw=text)
    if "verdict" not in obj:
        raise ScoreParseError("the answer has no verdict", raw=text)
    value = obj["verdict"]
    verdict = value.strip().lower() if isinstance(value, str) else None
    if verdict not in VERDICTS:
        raise ScoreParseError(f"verdict {value!r} is not one of first, tie, second", raw=text)
    hits = list(_VERDICT_AT.finditer(text))
    offset = hits[0].end() if len(hits) == 1 else None
    flag = obj.get("addresses_evaluator")
    reason = obj.get("reason")
    return ParsedVerdict(verdict, "" if reason is None else str(reason), flag if isinstance(flag, bool) else None,
                         offset, method)


def _verdict_of_token(token: str) -> str | None:
    word = str(token).strip().strip('"').strip().lower()
    return word if word in VERDICTS else None


def verdict_distribution(logprobs: list | None, offset: int | None) -> tuple[dict | None, str]:
    """P(first / tie / second) from the alternatives of the token holding the
    verdict word. Returns ({verdict: p}, note); None and the reason when the
    distribution cannot be read. ``logprobs`` as the adapters store them:
    [[offset, token, logprob, [[alt, alt_logprob], ...]], ...]. Renormalised
    over the three verdicts; the note records the mass that fell on them.
    """
    return token_distribution(logprobs, offset, VERDICTS, _verdict_of_token, what="verdict",
                              kind="a whole verdict word", plural="verdicts")

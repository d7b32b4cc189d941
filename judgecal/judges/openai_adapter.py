"""OpenAI (official SDK), and any OpenAI-compatible server through ``base_url``
(vLLM, Ollama, llama.cpp). Structured output through a strict JSON schema;
token logprobs with the top alternatives."""

from __future__ import annotations

import re

from judgecal._lazy import require
from judgecal.errors import ProviderError
from judgecal.judges.base import (
    Completion,
    CompletionRequest,
    JudgeAdapter,
    api_key_from_env,
    convert_sdk_error,
)


def convert_openai_error(exc: Exception, sdk) -> Exception:
    """The judgecal error for an exception of the openai SDK (or litellm's copies)."""
    return convert_sdk_error(exc, sdk)


_NUMBER = re.compile(r"\s*-?\d+(?:\.\d+)?\s*")
# A pairwise verdict word, alone or with its JSON quote (judgecal.judges.pairwise_prompt).
_VERDICT_WORD = re.compile(r'\s*"?(?:first|tie|second)"?\s*', re.I)


def _kept(token: str) -> bool:
    """Whether a token could hold a score or a pairwise verdict."""
    return bool(_NUMBER.fullmatch(token) or _VERDICT_WORD.fullmatch(token))


def logprobs_from_openai(choice) -> list | None:
    """Logprobs of the tokens that could hold a score or a verdict, or None when absent.

    Returns [[offset, token, logprob, [[alt, alt_logprob], ...]], ...] for the
    tokens that are a number or a pairwise verdict word (first, tie, second),
    with the token's character offset in the answer.
    Other tokens are dropped: only a score token's alternatives are ever used,
    and keeping every token would make each cached answer many times larger.
    """
    lp = _get(choice, "logprobs")
    if lp is None:
        return None
    content = _get(lp, "content")
    if content is None:
        return None
    if isinstance(lp, dict):  # the JSON body (the live path): plain dict access, no per-field dispatch
        return _number_logprobs_from_dicts(content)
    out, offset = [], 0
    for tok in content:
        token = _get(tok, "token") or ""
        if _kept(token):
            alts = [[_get(a, "token"), float(_get(a, "logprob"))] for a in (_get(tok, "top_logprobs") or [])]
            out.append([offset, token, float(_get(tok, "logprob")), alts])
        offset += len(token)
    return out


def _number_logprobs_from_dicts(content: list) -> list:
    out, offset = [], 0
    number = _NUMBER.fullmatch
    for tok in content:
        token = tok.get("token") or ""
        if number(token) or _VERDICT_WORD.fullmatch(token):
            alts = [[a.get("token"), float(a.get("logprob"))] for a in (tok.get("top_logprobs") or [])]
            out.append([offset, token, float(tok.get("logprob")), alts])
        offset += len(token)
    return out


def openai_kwargs(adapter: JudgeAdapter, request: CompletionRequest, *, max_tokens_field: str) -> dict:
    kwargs = {
        "model": adapter.model,
        "messages": [
            {"role": "system", "content": request.system},
            {"role": "user", "content": request.user},
        ],
        "temperature": request.temperature,
        max_tokens_field: request.max_tokens,
    }
    if request.schema is not None:
        kwargs["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": request.schema_name, "schema": request.schema, "strict": True},
        }
    if request.logprobs:
        kwargs["logprobs"] = True
        kwargs["top_logprobs"] = request.top_logprobs
    if request.seed is not None:
        kwargs["seed"] = request.seed
    return kwargs


def _get(obj, name):
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def completion_from_openai(response) -> Completion:
    """A Completion from a chat-completion object or its JSON (dict)."""
    choices = _get(response, "choices")
    if not choices:
        raise ProviderError(f"the provider's answer has no choices: {str(response)[:200]!r}", status=200)
    choice = choices[0]
    message = _get(choice, "message") or {}
    usage = _get(response, "usage") or {}
    return Completion(
        text=_get(message, "content"),
        refusal=_get(message, "refusal"),
        finish_reason=_get(choice, "finish_reason"),
        input_tokens=int(_get(usage, "prompt_tokens") or 0),
        output_tokens=int(_get(usage, "completion_tokens") or 0),
        logprobs=logprobs_from_openai(choice),
        response_id=_get(response, "id"),
    )


def aiohttp_client(sdk, timeout: float):
    """The SDK's aiohttp transport when available: at high concurrency it costs
    far less CPU per request than the default httpx pool. None = SDK default."""
    factory = getattr(sdk, "DefaultAioHttpClient", None)
    if factory is None:
        return None
    try:
        return factory(timeout=timeout)
    except (RuntimeError, ImportError):  # the SDK was installed without its aiohttp extra
        return None


class OpenAIAdapter(JudgeAdapter):
    provider = "openai"
    supports_logprobs = True

    def _new_client(self):
        sdk = require("openai", "openai", "OpenAI judges")
        key = api_key_from_env("OPENAI_API_KEY", self.base_url, self.name)
        return sdk.AsyncOpenAI(api_key=key, base_url=self.base_url, max_retries=0, timeout=self.timeout,
                               http_client=aiohttp_client(sdk, self.timeout))

    async def _complete(self, request: CompletionRequest) -> Completion:
        sdk = require("openai", "openai", "OpenAI judges")
        client = self.client()
        # OpenAI's own API wants max_completion_tokens; compatible local servers
        # know max_tokens.
        field = "max_tokens" if self.base_url else "max_completion_tokens"
        try:
            # The SDK's generic request method (its documented way to call any
            # endpoint): same client, auth, errors and HTTP transport, without
            # the typed walk over the parameters and the pydantic models, which
            # cost more CPU than the HTTP call itself at high concurrency.
            response = await client.post("/chat/completions", cast_to=dict,
                                         body=openai_kwargs(self, request, max_tokens_field=field))
        except sdk.OpenAIError as exc:
            raise convert_openai_error(exc, sdk) from exc
        except ValueError as exc:  # a body that is not JSON
            raise ProviderError(f"the provider's answer is not valid JSON ({exc})", status=200) from exc
        if not isinstance(response, dict):
            raise ProviderError(f"the provider's answer is not a JSON object: {str(response)[:200]!r}", status=200)
        return completion_from_openai(response)


ADAPTER = OpenAIAdapter

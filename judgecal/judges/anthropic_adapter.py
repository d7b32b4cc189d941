"""Anthropic (official SDK). Structured output through a forced tool call whose
input schema is the judgment's schema. Anthropic returns no token logprobs, so
score distributions are reported as unavailable."""

from __future__ import annotations

import functools
import inspect
import json

from judgecal._lazy import require
from judgecal.errors import ProviderError
from judgecal.judges.base import (
    Completion,
    CompletionRequest,
    JudgeAdapter,
    api_key_from_env,
    convert_sdk_error,
)
from judgecal.judges.openai_adapter import aiohttp_client


def convert_anthropic_error(exc: Exception, sdk) -> Exception:
    """The judgecal error for an exception of the anthropic SDK; its 529
    "overloaded" is a request to slow down, like 429."""
    return convert_sdk_error(exc, sdk, rate_limit_statuses=(429, 529))


@functools.cache
def _takes_temperature(sdk) -> bool:
    create = sdk.resources.messages.AsyncMessages.create
    return "temperature" in inspect.signature(create).parameters


class AnthropicAdapter(JudgeAdapter):
    provider = "anthropic"
    supports_logprobs = False

    def _new_client(self):
        sdk = require("anthropic", "anthropic", "Anthropic judges")
        key = api_key_from_env("ANTHROPIC_API_KEY", self.base_url, self.name)
        return sdk.AsyncAnthropic(api_key=key, base_url=self.base_url, max_retries=0, timeout=self.timeout,
                                  http_client=aiohttp_client(sdk, self.timeout))

    async def _complete(self, request: CompletionRequest) -> Completion:
        sdk = require("anthropic", "anthropic", "Anthropic judges")
        client = self.client()
        kwargs = anthropic_params(self.model, request)
        if not _takes_temperature(sdk):  # SDK versions whose create() has no temperature parameter
            kwargs["extra_body"] = {"temperature": kwargs.pop("temperature")}
        try:
            message = await client.messages.create(**kwargs)
        except sdk.AnthropicError as exc:
            raise convert_anthropic_error(exc, sdk) from exc
        except ValueError as exc:
            raise ProviderError(f"the provider's answer is not valid JSON ({exc})", status=200) from exc
        return completion_from_anthropic(message)


def anthropic_params(model: str, request: CompletionRequest) -> dict:
    """Messages API parameters of one request (a live call, or one entry of a message batch)."""
    params = {
        "model": model,
        "system": request.system,
        "messages": [{"role": "user", "content": request.user}],
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
    }
    if request.schema is not None:
        params["tools"] = [{
            "name": "record_" + request.schema_name,
            "description": "Record the judgment of the response.",
            "input_schema": request.schema,
        }]
        params["tool_choice"] = {"type": "tool", "name": "record_" + request.schema_name}
    return params


def completion_from_anthropic(message) -> Completion:
    """A Completion from a Message (live answer, or a succeeded message-batch result)."""
    if isinstance(message, str) or not hasattr(message, "content"):
        raise ProviderError(f"the provider's answer is not a message: {str(message)[:200]!r}", status=200)
    text_parts, tool_input = [], None
    for block in message.content or []:
        kind = getattr(block, "type", None)
        if kind == "tool_use" and tool_input is None:
            tool_input = block.input
        elif kind == "text":
            text_parts.append(block.text)
    stop = getattr(message, "stop_reason", None)
    text = json.dumps(tool_input, ensure_ascii=False) if tool_input is not None else "".join(text_parts)
    refusal = "".join(text_parts) or "refused" if stop == "refusal" else None
    usage = getattr(message, "usage", None)
    return Completion(
        text=None if refusal else text,
        refusal=refusal,
        finish_reason=stop,
        input_tokens=int(getattr(usage, "input_tokens", 0) or 0),
        output_tokens=int(getattr(usage, "output_tokens", 0) or 0),
        logprobs=None,
        response_id=getattr(message, "id", None),
    )


ADAPTER = AnthropicAdapter

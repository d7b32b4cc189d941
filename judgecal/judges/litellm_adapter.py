"""LiteLLM: any provider LiteLLM supports, named ``litellm/<litellm model>``
(e.g. ``litellm/gemini/gemini-1.5-flash``, ``litellm/openai/my-model`` with a base
URL for an OpenAI-compatible server). Keys come from the variables LiteLLM reads
for that provider. LiteLLM's own retries are switched off (``num_retries=0``,
``max_retries=0``): its retry path needs tenacity and ignores Retry-After."""

from __future__ import annotations

import os

from judgecal._lazy import require
from judgecal.errors import ProviderError
from judgecal.judges.base import Completion, CompletionRequest, JudgeAdapter
from judgecal.judges.openai_adapter import (
    completion_from_openai,
    convert_openai_error,
    openai_kwargs,
)


def import_litellm():
    """litellm, told to read its price map from the package: it downloads it at import otherwise."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    return require("litellm", "litellm", "LiteLLM judges")


class _Headers(dict):
    def get(self, key, default=None):
        return super().get(key.lower(), default)


class LiteLLMAdapter(JudgeAdapter):
    provider = "litellm"
    # Depends on the provider behind LiteLLM; whether logprobs came back is
    # checked per answer and reported when they did not.
    supports_logprobs = True

    def _new_client(self):
        # LiteLLM keeps its own HTTP clients; the module is the "client".
        return import_litellm()

    async def _complete(self, request: CompletionRequest) -> Completion:
        litellm = self.client()
        openai = require("openai", "litellm", "LiteLLM judges")
        kwargs = openai_kwargs(self, request, max_tokens_field="max_tokens")
        kwargs.update(num_retries=0, max_retries=0, timeout=self.timeout)
        if self.base_url:
            kwargs["api_base"] = self.base_url
        try:
            response = await litellm.acompletion(**kwargs)
        except openai.OpenAIError as exc:  # LiteLLM's exceptions derive from openai's
            headers = getattr(exc, "litellm_response_headers", None)
            if headers:
                # LiteLLM keeps the provider's headers separately from .response
                exc.response = type("R", (), {"headers": _Headers({k.lower(): v for k, v in dict(headers).items()})})()
            raise convert_openai_error(exc, openai) from exc
        except ValueError as exc:
            raise ProviderError(f"the provider's answer is not valid JSON ({exc})", status=200) from exc
        if not getattr(response, "choices", None):
            raise ProviderError(f"the provider's answer has no choices: {str(response)[:200]!r}", status=200)
        return completion_from_openai(response)

    async def aclose(self) -> None:
        self._clients.clear()


ADAPTER = LiteLLMAdapter

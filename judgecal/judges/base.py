"""The provider adapter API: one small async interface, one module per provider.

An adapter turns a :class:`CompletionRequest` (system text, user text, an
optional JSON schema for structured output, sampling parameters) into a
:class:`Completion` (the answer text or refusal, token counts, and per-token
logprobs when the provider returns them). It does nothing else: retries, rate
limits, caching and parsing belong to the engine, so SDK-level retries are
always off (``max_retries=0``) and errors are re-raised as judgecal's
:class:`~judgecal.errors.ProviderError` family with the status and Retry-After.

Judges are named ``<provider>/<model>``: ``openai/gpt-4o-mini``,
``anthropic/claude-3-5-haiku-latest``, ``litellm/<litellm model string>``.
"""

from __future__ import annotations

import asyncio
import email.utils
import importlib
import json
import os
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, fields
from urllib.parse import urlsplit, urlunsplit

from judgecal.errors import (
    ConfigError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
)

PROVIDERS = {"openai": "openai", "anthropic": "anthropic", "litellm": "litellm"}


@dataclass(frozen=True)
class CompletionRequest:
    """Everything that changes a judge's answer (and so its cache key)."""

    system: str
    user: str
    max_tokens: int = 512
    temperature: float = 0.0
    schema: dict | None = None  # JSON schema of the answer object (structured output)
    schema_name: str = "judgment"
    logprobs: bool = False
    top_logprobs: int = 5
    seed: int | None = None
    sample: int = 0  # index of the sample (n samples per item are n requests)
    attempt: int = 0  # re-asks after an unparseable answer are new requests

    def identity(self) -> dict:
        # Not dataclasses.asdict: that deep-copies the schema on every call.
        return {f: getattr(self, f) for f in _REQUEST_FIELDS}


@dataclass
class Completion:
    """One provider answer, as stored in the cache (JSON-able)."""

    text: str | None
    refusal: str | None = None
    finish_reason: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    # [[offset, token, logprob, [[alt, alt_logprob], ...]], ...] for the answer's
    # number tokens (see openai_adapter.logprobs_from_openai); None = not returned
    logprobs: list | None = None
    response_id: str | None = None
    latency: float = 0.0

    def to_json(self) -> str:
        return json.dumps({f: getattr(self, f) for f in _COMPLETION_FIELDS}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Completion:
        return cls(**json.loads(text))


_REQUEST_FIELDS = tuple(f.name for f in fields(CompletionRequest))
_COMPLETION_FIELDS = tuple(f.name for f in fields(Completion))


@dataclass
class JudgeSpec:
    """A parsed judge name."""

    provider: str
    model: str
    base_url: str | None = None
    options: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.provider}/{self.model}"


def parse_judge(name: str, base_url: str | None = None) -> JudgeSpec:
    provider, sep, model = str(name).partition("/")
    if not sep or not model or provider not in PROVIDERS:
        raise ConfigError(
            f"judge {name!r} is not of the form <provider>/<model> with provider one of "
            f"{', '.join(PROVIDERS)} (e.g. openai/gpt-4o-mini, anthropic/claude-3-5-haiku-latest, "
            "litellm/gemini/gemini-1.5-flash)"
        )
    return JudgeSpec(provider, model, base_url)


def make_adapter(judge: str | JudgeSpec, *, base_url: str | None = None, timeout: float = 60.0) -> JudgeAdapter:
    """The adapter for a judge name such as ``openai/gpt-4o-mini``."""
    spec = judge if isinstance(judge, JudgeSpec) else parse_judge(judge, base_url)
    module = importlib.import_module(f"judgecal.judges.{PROVIDERS[spec.provider]}_adapter")
    return module.ADAPTER(spec.model, base_url=spec.base_url or base_url, timeout=timeout)


def parse_retry_after(headers) -> float | None:
    """Seconds to wait from ``retry-after-ms`` / ``retry-after`` (seconds or HTTP date)."""
    if headers is None:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000.0)
        value = headers.get("retry-after")
    except AttributeError:
        return None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def convert_sdk_error(exc: Exception, sdk, *, rate_limit_statuses: tuple[int, ...] = (429,)) -> Exception:
    """The judgecal error for an exception of the openai or anthropic SDK (their
    exception classes share names; litellm re-exports openai's). Timeouts and
    dropped connections, rate limits (with Retry-After) and other HTTP errors
    map to the retryable or final errors the engine understands."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    status = getattr(exc, "status_code", None)
    message = f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}"
    refused = _refused_connection(exc)
    if refused is not None:  # some transports report it as a connect *timeout*; it is not one
        return ProviderConnectionError(f"could not connect: connection refused ({refused}); nothing is listening "
                                       "at that address: check the base URL and that the server is running")
    if isinstance(exc, sdk.APITimeoutError):
        return ProviderTimeoutError(f"no answer in time ({message})")
    if isinstance(exc, sdk.APIConnectionError):
        return ProviderTimeoutError(f"connection failed or dropped ({message})")
    if status in rate_limit_statuses or isinstance(exc, sdk.RateLimitError):
        return RateLimitError(message, status=status or 429, retry_after=parse_retry_after(headers))
    if isinstance(exc, sdk.APIStatusError):
        return ProviderError(message, status=status, retry_after=parse_retry_after(headers))
    validation = getattr(sdk, "APIResponseValidationError", None)
    if isinstance(exc, ValueError) or (validation is not None and isinstance(exc, validation)):
        return ProviderError(f"the provider's answer is not valid JSON ({message})", status=status or 200)
    return ProviderError(f"the provider's answer is not usable ({message})", status=status or 200)


def _refused_connection(exc: BaseException) -> str | None:
    """The refused-connection error (as text) behind an SDK exception, if that is what it is."""
    seen = 0
    while exc is not None and seen < 10:  # SDK error -> transport error -> OSError
        if isinstance(exc, ConnectionRefusedError):
            return str(exc)
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def checked_base_url(base_url: str | None) -> str | None:
    """The base URL, refused with a clear message when it carries a user name or
    password (``https://user:secret@host``): SDK clients send the API key from the
    environment and cannot also send URL credentials. The message never shows them."""
    if not base_url:
        return base_url
    parts = urlsplit(base_url)
    try:
        has_credentials = bool(parts.username or parts.password)
    except ValueError:
        has_credentials = "@" in parts.netloc
    if has_credentials:
        host = parts.netloc.rpartition("@")[2]
        shown = urlunsplit(parts._replace(netloc="***@" + host))
        raise ConfigError(f"the base URL {shown} holds a user name or password; remove them from the URL and give "
                          "the API key in the provider's environment variable (OPENAI_API_KEY, ANTHROPIC_API_KEY, "
                          "or the one LiteLLM reads for the provider)")
    return base_url


def api_key_from_env(variable: str, base_url: str | None, judge: str) -> str:
    """The API key from the usual variable. Local OpenAI-compatible servers often
    need none, so with a base URL a placeholder is used; without one it is an error."""
    key = os.environ.get(variable)
    if key:
        return key
    if base_url:
        return "unused-local-key"
    raise ConfigError(f"{judge} needs an API key: set the environment variable {variable}")


class JudgeAdapter(ABC):
    """One provider. Subclasses implement :meth:`_complete` and :meth:`_new_client`."""

    provider: str = ""
    supports_logprobs: bool = False  # whether the provider can return token logprobs

    def __init__(self, model: str, *, base_url: str | None = None, timeout: float = 60.0):
        self.model = model
        self.base_url = checked_base_url(base_url)
        self.timeout = timeout
        # One async client per event loop: SDK clients hold connection pools bound
        # to the loop they were first used on.
        self._clients: dict[int, object] = {}

    @property
    def name(self) -> str:
        return f"{self.provider}/{self.model}"

    def identity(self) -> dict:
        """What identifies the judge in cache keys (never the API key)."""
        return {"provider": self.provider, "model": self.model, "base_url": self.base_url}

    def client(self):
        loop = asyncio.get_running_loop()
        key = id(loop)
        if key not in self._clients:
            self._clients[key] = self._new_client()
        return self._clients[key]

    async def complete(self, request: CompletionRequest) -> Completion:
        """Send one request; raise RateLimitError / ProviderError / ProviderTimeoutError."""
        start = time.perf_counter()
        result = await self._complete(request)
        result.latency = time.perf_counter() - start
        return result

    @abstractmethod
    def _new_client(self): ...

    @abstractmethod
    async def _complete(self, request: CompletionRequest) -> Completion: ...

    async def aclose(self) -> None:
        loop_id = id(asyncio.get_running_loop())
        client = self._clients.pop(loop_id, None)
        close = getattr(client, "close", None) or getattr(client, "aclose", None)
        if close is not None:
            result = close()
            if asyncio.iscoroutine(result):
                await result

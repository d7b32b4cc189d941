"""Token prices and cost per judgment.

Prices are USD per million tokens (input, output). Known models are listed
below; LiteLLM's local price map is consulted for others when LiteLLM is
installed; otherwise the cost is unknown (NaN) and the run says so: pass
``prices=(input, output)`` (CLI ``--price-in/--price-out``).
Last checked against the providers' price pages: 2025.
"""

from __future__ import annotations

import math
import os
import sys

KNOWN_PRICES = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "claude-3-5-haiku-latest": (0.80, 4.00),
    "claude-3-5-sonnet-latest": (3.00, 15.00),
    "claude-3-7-sonnet-latest": (3.00, 15.00),
    "claude-sonnet-4-0": (3.00, 15.00),
    "claude-3-haiku-20240307": (0.25, 1.25),
}


def lookup_prices(model: str) -> tuple[float, float] | None:
    """(input, output) USD per million tokens, or None if unknown."""
    bare = model.split("/")[-1]
    if bare in KNOWN_PRICES:
        return KNOWN_PRICES[bare]
    # Only consult LiteLLM if it is already loaded: importing it takes seconds.
    litellm = sys.modules.get("litellm")
    if litellm is None and os.environ.get("JUDGECAL_LITELLM_PRICES") == "1":
        import litellm  # noqa: F401
    if litellm is not None:
        for name in (model, bare):
            entry = getattr(litellm, "model_cost", {}).get(name)
            if entry and "input_cost_per_token" in entry:
                return entry["input_cost_per_token"] * 1e6, entry.get("output_cost_per_token", 0.0) * 1e6
    return None


def cost(prices: tuple[float, float] | None, input_tokens: int, output_tokens: int) -> float:
    if prices is None:
        return math.nan
    return (input_tokens * prices[0] + output_tokens * prices[1]) / 1e6


def estimate_tokens(text: str) -> int:
    """A rough token count (about four characters a token for English; more
    tokens per character for many Indic scripts, so err high: three)."""
    return max(1, len(text) // 3)

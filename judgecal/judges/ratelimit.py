"""Client-side rate limits: requests and tokens per minute.

Requests are paced (a generic cell rate algorithm): request k may start no
earlier than ``start + k * 60 / rpm``, so the achieved rate converges to the
limit without bursts that a provider's own bucket would answer with 429. Tokens
are paced the same way using each request's estimated tokens. A 429 pauses
every worker until its Retry-After has passed.
"""

from __future__ import annotations

import asyncio
import time


class RateLimiter:
    def __init__(self, rpm: float | None = None, tpm: float | None = None):
        if rpm is not None and rpm <= 0:
            raise ValueError("rpm must be positive")
        if tpm is not None and tpm <= 0:
            raise ValueError("tpm must be positive")
        self.rpm = rpm
        self.tpm = tpm
        self._next_request = 0.0
        self._next_token = 0.0
        self._paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """Hold every request back for ``seconds`` (the provider said so)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    async def acquire(self, tokens: int = 0) -> None:
        while True:
            now = time.monotonic()
            start = max(now, self._paused_until)
            if self.rpm:
                start = max(start, self._next_request)
                self._next_request = start + 60.0 / self.rpm
            if self.tpm and tokens:
                start = max(start, self._next_token)
                self._next_token = start + tokens * 60.0 / self.tpm
            wait = start - now
            if wait > 0:
                await asyncio.sleep(wait)
            # A 429 that arrived while we slept moves the pause; take a new slot.
            if self._paused_until <= time.monotonic():
                return

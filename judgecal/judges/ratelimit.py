"""Client-side rate limits: requests and tokens per minute.

Requests are paced, one slot at a time: the next request may start one
interval (60 / rpm seconds) after the previous slot. Waiting requests queue on
a lock, so only one sleeps for the next slot, and slots are granted when the
waiter actually wakes: if the event loop stalls, waiting requests do not
burst out together afterwards (a provider's own bucket would answer that with
429). A late wake-up of up to half an interval is made up for, so the long-run
rate stays at the limit; longer stalls are not made up for. Tokens are paced
the same way using each request's estimated tokens. A 429 pauses every
request until its Retry-After has passed.
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
        self._lock: asyncio.Lock | None = None

    def pause(self, seconds: float) -> None:
        """Hold every request back for ``seconds`` (the provider said so)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    async def acquire(self, tokens: int = 0) -> None:
        if not self.rpm and not self.tpm:
            while self._paused_until > time.monotonic():
                await asyncio.sleep(self._paused_until - time.monotonic())
            return
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            while True:
                now = time.monotonic()
                start = max(now, self._paused_until, self._next_request if self.rpm else 0.0,
                            self._next_token if self.tpm and tokens else 0.0)
                if start <= now:
                    break
                await asyncio.sleep(start - now)  # then look again: a 429 may have moved the pause
            if self.rpm:
                interval = 60.0 / self.rpm
                self._next_request = max(self._next_request, now - interval / 2) + interval
            if self.tpm and tokens:
                span = tokens * 60.0 / self.tpm
                self._next_token = max(self._next_token, now - span / 2) + span

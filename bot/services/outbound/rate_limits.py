"""How fast the send loop may send: per platform overall, and per recipient."""

from __future__ import annotations

import asyncio
import time as _time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    """How fast the send loop may send on one platform.

    per_second: messages per second overall (None: unlimited); per_recipient: seconds
    between two messages to the same chat.
    """

    per_second: float | None = None
    per_recipient: float = 0.0


# Telegram: ~30 messages/s overall, 1/s per chat. Slack: chat.postMessage allows ~1/s per
# channel, and conversations.open (first message to a person) is Tier 3 (~50/min), so
# overall we keep to 1/s. Teams: Microsoft documents 7 messages/s per conversation and about
# 50/s per app per tenant; 10/s overall is a conservative pace for proactive messages.
# The senders also honour 429 Retry-After themselves.
DEFAULT_LIMITS: Mapping[str, RateLimit] = {
    "telegram": RateLimit(per_second=30, per_recipient=1.0),
    "slack": RateLimit(per_second=1, per_recipient=1.0),
    "teams": RateLimit(per_second=10, per_recipient=1.0),
    "console": RateLimit(),
}


class RateLimiter:
    """Spaces sends: each platform's at least 1/rate apart (no bursts), measured between
    the moments the waits end, so no one-second window ever holds more than `rate`
    sends; and each recipient's at least `per_recipient` apart. Monotonic time: pacing
    is real time even when the jobs run "as if" at another instant."""

    def __init__(
        self,
        limits: Mapping[str, RateLimit],
        clock: Callable[[], float] = _time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limits = dict(limits)
        self.clock = clock
        self.sleep = sleep
        self._next: dict[str, float] = defaultdict(float)
        self._next_recipient: dict[tuple[str, str], float] = {}
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._recipient_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def wait(self, platform: str, recipient: str) -> None:
        limit = self.limits.get(platform, RateLimit())
        if limit.per_recipient:
            async with self._recipient_locks[platform]:
                now = self.clock()
                slot = max(now, self._next_recipient.get((platform, recipient), 0.0))
                self._next_recipient[(platform, recipient)] = slot + limit.per_recipient
                if len(self._next_recipient) > 100_000:
                    self._prune(now)
            await self._sleep_until(slot)
        if limit.per_second:
            # Waiting under the lock: the next sender's slot counts from when this one
            # actually goes, so a late wake-up can never squeeze two sends together.
            async with self._locks[platform]:
                await self._sleep_until(self._next[platform])
                self._next[platform] = self.clock() + 1 / limit.per_second

    def _prune(self, now: float) -> None:
        self._next_recipient = {k: v for k, v in self._next_recipient.items() if v > now}

    async def _sleep_until(self, when: float) -> None:
        delay = when - self.clock()
        if delay > 0:
            await self.sleep(delay)

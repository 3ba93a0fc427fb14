"""Flood control for the Bot API that slows down one chat without stalling the others.

python-telegram-bot's `AIORateLimiter` halts *every* request when any one gets a 429
(`RetryAfter`). Here a 429 holds back only the chat it was for, and the proactive limits
Telegram asks of bulk sending (about 30 messages/s overall, one per second per chat) apply
to requests marked `rate_limit_args=True`: the scheduler's messages (`TelegramSender`).
Replies to what a person just did are paced by that person, so they are not delayed.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger("cpdbot.telegram")

JSONDict = dict[str, Any]
Result = bool | JSONDict | list[JSONDict]
_FORGET_AFTER = 4096  # prune per-chat bookkeeping beyond this many chats


def retry_seconds(exc: RetryAfter) -> float:
    """`RetryAfter.retry_after` in seconds (an int or a timedelta, depending on PTB settings)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class FloodControl(BaseRateLimiter[bool]):
    """Per-chat `RetryAfter` back-off for every request; bulk pacing for paced requests."""

    def __init__(
        self,
        *,
        overall_per_second: float = 30,
        chat_interval: float = 1.0,
        max_retries: int = 3,
    ) -> None:
        self._overall = AsyncLimiter(overall_per_second, 1)
        self.chat_interval = chat_interval
        self.max_retries = max_retries
        self._blocked_until: dict[str, float] = {}  # chat -> loop time of its 429 expiry
        self._next_paced: dict[str, float] = {}  # chat -> earliest loop time of its next paced send

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: bool | None,
    ) -> Result:
        chat = data.get("chat_id")
        chat_key = None if chat is None else str(chat)
        attempt = 0
        while True:
            await self._wait_turn(chat_key, paced=bool(rate_limit_args))
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                attempt += 1
                delay = retry_seconds(exc)
                if attempt > self.max_retries:
                    raise
                log.info("telegram %s: 429, retrying in %.1f s (chat %s)", endpoint, delay, chat)
                if chat_key is None:
                    await asyncio.sleep(delay)
                else:
                    until = asyncio.get_running_loop().time() + delay
                    self._blocked_until[chat_key] = max(self._blocked_until.get(chat_key, 0), until)

    async def _wait_turn(self, chat: str | None, *, paced: bool) -> None:
        loop = asyncio.get_running_loop()
        if chat is not None:
            until = self._blocked_until.get(chat)
            if until is not None:
                wait = until - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                else:
                    del self._blocked_until[chat]
        if not paced:
            return
        if chat is not None:
            now = loop.time()
            slot = max(now, self._next_paced.get(chat, 0.0))
            self._next_paced[chat] = slot + self.chat_interval
            if len(self._next_paced) > _FORGET_AFTER:
                self._forget(now)
            if slot > now:
                await asyncio.sleep(slot - now)
        await self._overall.acquire()

    def _forget(self, now: float) -> None:
        for table in (self._next_paced, self._blocked_until):
            for key in [k for k, t in table.items() if t < now]:
                del table[key]

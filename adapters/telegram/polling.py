"""Long polling: getUpdates, record the batch in the inbox, then ask for the next offset.

Telegram forgets updates up to `offset - 1` when getUpdates is called with `offset`, so the
next offset is only used once the batch is stored: a crash in between makes Telegram send
the batch again, and the inbox recognises what it already has.
"""

from __future__ import annotations

import asyncio
import logging

from telegram.error import InvalidToken, RetryAfter, TimedOut

from adapters.telegram.adapter import TelegramAdapter
from adapters.telegram.limits import retry_seconds
from adapters.telegram.translate import ALLOWED_UPDATES

log = logging.getLogger("cpdbot.telegram")

POLL_TIMEOUT = 30  # seconds Telegram holds a getUpdates open when there is nothing new
MAX_BACKOFF = 30.0


async def run_polling(adapter: TelegramAdapter, *, poll_timeout: int = POLL_TIMEOUT) -> None:
    """Poll until cancelled. An invalid token is fatal; network trouble is retried."""
    bot = adapter.bot
    await bot.delete_webhook(drop_pending_updates=False)
    offset: int | None = None
    failures = 0
    while True:
        try:
            updates = await bot.get_updates(
                offset=offset, timeout=poll_timeout, allowed_updates=list(ALLOWED_UPDATES)
            )
            if updates:
                await adapter.accept([u.to_dict() for u in updates])
                offset = updates[-1].update_id + 1  # confirmed by the next getUpdates
            failures = 0
        except InvalidToken:
            raise
        except TimedOut:
            continue  # a long poll that outlived the HTTP timeout: just ask again
        except RetryAfter as exc:
            await asyncio.sleep(retry_seconds(exc))
        except Exception as exc:  # the network, or the database while recording the batch
            failures += 1
            delay = min(MAX_BACKOFF, 0.5 * 2**failures)
            log.warning("telegram polling: %s; retrying in %.0f s", exc, delay)
            await asyncio.sleep(delay)

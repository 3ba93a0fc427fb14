"""Telegram: python-telegram-bot's Bot API client, long polling or a webhook, inbox first.

`serve(engine, settings)` is what `cpdbot run` starts when TELEGRAM_BOT_TOKEN is set
(`settings`: this adapter's own `TelegramSettings`, built by the app).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram.ext import ExtBot

from adapters.telegram.adapter import Bot, TelegramAdapter, initialize, send_reply
from adapters.telegram.limits import FloodControl
from adapters.telegram.options import TelegramSettings
from adapters.telegram.polling import run_polling
from adapters.telegram.request import AiohttpRequest
from adapters.telegram.sender import TelegramSender
from adapters.telegram.translate import COMMANDS, render, to_route
from adapters.telegram.webhook import WebhookConfig, make_app, run_webhook
from bot.services.engine import Engine

log = logging.getLogger("cpdbot.telegram")

OFFICIAL_BASE_URL = "https://api.telegram.org/bot"

__all__ = [
    "COMMANDS",
    "AiohttpRequest",
    "FloodControl",
    "TelegramAdapter",
    "TelegramSender",
    "TelegramSettings",
    "WebhookConfig",
    "build_bot",
    "make_app",
    "open_sender",
    "render",
    "run_polling",
    "run_webhook",
    "send_reply",
    "serve",
    "to_route",
    "webhook_config",
]


def build_bot(settings: TelegramSettings, *, limiter: FloodControl | None = None) -> Bot:
    """A Bot API client for the token, at TELEGRAM_BASE_URL if set (PTB's `base_url`)."""
    token = settings.bot_token
    if not token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    base_url = settings.base_url or OFFICIAL_BASE_URL
    # A self-hosted Bot API server serves files under /file/bot<token> beside /bot<token>.
    file_url = base_url[: -len("bot")] + "file/bot" if base_url.endswith("/bot") else base_url
    return ExtBot(
        token,
        base_url=base_url,
        base_file_url=file_url,
        request=AiohttpRequest(connection_pool_size=64),
        get_updates_request=AiohttpRequest(connection_pool_size=1),
        rate_limiter=limiter or FloodControl(),
    )


def webhook_config(settings: TelegramSettings) -> WebhookConfig | None:
    """Webhook settings, or None for long polling (TELEGRAM_WEBHOOK_URL unset)."""
    if not settings.webhook_url:
        return None
    if not settings.webhook_secret:
        raise ValueError(
            "TELEGRAM_WEBHOOK_URL is set but TELEGRAM_WEBHOOK_SECRET is not: without it anyone "
            "could post updates to the webhook. Set it to a random string (A-Z, a-z, 0-9, _, -)."
        )
    return WebhookConfig(
        url=settings.webhook_url,
        secret=settings.webhook_secret,
        listen=settings.webhook_listen,
        port=settings.webhook_port,
    )


async def serve(engine: Engine, settings: TelegramSettings) -> None:
    """Run the Telegram bot until cancelled: webhook if configured, long polling otherwise."""
    config = webhook_config(settings)
    async with TelegramAdapter(engine, build_bot(settings)) as adapter:
        log.info(
            "telegram bot @%s started (%s)",
            adapter.me.username,
            "webhook" if config else "long polling",
        )
        if config is not None:
            await run_webhook(adapter, config)
        else:
            await run_polling(adapter)


@asynccontextmanager
async def open_sender(settings: TelegramSettings) -> AsyncIterator[TelegramSender]:
    """A Sender with its own Bot API client, for jobs run outside `serve` (`cpdbot tick`)."""
    bot = build_bot(settings)
    await initialize(bot)  # as the adapter starts: network trouble waited out, token kept out
    try:
        yield TelegramSender(bot)
    finally:
        await bot.shutdown()

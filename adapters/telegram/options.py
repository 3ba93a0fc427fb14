"""The Telegram adapter's own settings (built by the app from its configuration)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TelegramSettings:
    """TELEGRAM_BOT_TOKEN, TELEGRAM_BASE_URL and the TELEGRAM_WEBHOOK_* values."""

    bot_token: str | None = None
    base_url: str | None = None  # a self-hosted Bot API server (or a fake one in tests)
    webhook_url: str | None = None  # unset: long polling
    webhook_secret: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443

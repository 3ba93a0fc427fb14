"""Webhook mode: a small aiohttp endpoint that records each update before answering 200.

A callback query (a button press) is answered in the response itself: Telegram performs
an answerCallbackQuery given there, which spares the worker one Bot API call per press.

python-telegram-bot's own webhook server answers Telegram and then queues the update in
memory; this one answers only after the update is in the inbox table, checks the secret
token itself, and leaves ordering to the adapter's per-chat queues.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from adapters.healthz import healthz
from adapters.telegram.adapter import TelegramAdapter
from adapters.telegram.translate import ALLOWED_UPDATES, callback_answer

log = logging.getLogger("cpdbot.telegram")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what setWebhook accepts
MAX_BODY = 1024 * 1024  # an update is a few kB; Telegram's own limit on a message is 4096 chars
MAX_CONNECTIONS = 40
MAX_DEPTH = 32  # a real update nests about 6 levels (a callback's message's keyboard rows)


@dataclass(frozen=True)
class WebhookConfig:
    url: str  # the public HTTPS URL Telegram calls (behind a TLS-terminating proxy)
    secret: str
    listen: str = "127.0.0.1"
    port: int = 8443

    def __post_init__(self) -> None:
        if not SECRET_PATTERN.fullmatch(self.secret):
            raise ValueError(
                "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
            )

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"


def read_update(data: bytes) -> tuple[dict[str, Any] | None, str]:
    """(the update, its JSON text), or (None, why it is refused): Telegram sends UTF-8 JSON
    objects a few levels deep; anything else is answered 400, never a server error."""
    try:
        body = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, "not UTF-8"
    try:
        payload: Any = json.loads(body)
    except RecursionError:  # the parser's own limit, long before the stack is at risk
        return None, "nested too deeply"
    except ValueError:
        return None, "not JSON"
    if _depth(payload) > MAX_DEPTH:
        return None, "nested too deeply"
    if not isinstance(payload, dict) or type(payload.get("update_id")) is not int:
        return None, "not a Telegram update"
    return payload, body


def _depth(value: Any) -> int:
    """How deeply a parsed JSON value nests objects and arrays (iteratively: no recursion)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth + 1)
            if deepest > MAX_DEPTH:
                break
            stack.extend((child, depth + 1) for child in item)
    return deepest


def make_app(adapter: TelegramAdapter, config: WebhookConfig) -> web.Application:
    """The aiohttp application: POST at the webhook URL's path, and GET /healthz."""
    expected = config.secret.encode()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            log.warning("telegram webhook: refused a request without the right secret")
            return web.Response(status=403, text="forbidden")
        payload, body = read_update(await request.read())
        if payload is None:
            return web.Response(status=400, text=body)
        # Telegram performs a Bot API method given in the response: a callback query is
        # answered that way, saving a call of its own (the answer needs only the update).
        answer = callback_answer(payload)
        await adapter.accept([payload], [body], answered=answer is not None)
        # Durable now, before Telegram hears 200.
        if answer is None:
            return web.Response(status=200)
        return web.json_response(answer)

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(config.path, receive)
    app.router.add_get("/healthz", healthz(adapter.engine))
    return app


async def run_webhook(
    adapter: TelegramAdapter, config: WebhookConfig, *, sock: socket.socket | None = None
) -> None:
    """Serve the endpoint and register it with Telegram; runs until cancelled.

    `sock`: an already bound socket to serve on instead of `listen:port` (tests, systemd).
    """
    runner = web.AppRunner(make_app(adapter, config), access_log=None, handle_signals=False)
    await runner.setup()
    site: web.BaseSite = (
        web.SockSite(runner, sock)
        if sock is not None
        else web.TCPSite(runner, config.listen, config.port)
    )
    try:
        await site.start()
        await adapter.bot.set_webhook(
            config.url,
            secret_token=config.secret,
            allowed_updates=list(ALLOWED_UPDATES),
            max_connections=MAX_CONNECTIONS,
        )
        log.info("telegram webhook listening on %s for %s", site.name, config.url)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()

"""`GET /healthz` for the HTTP modes (Telegram webhook, Slack HTTP): 200 or 503 with details."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.services import health
from bot.services.engine import Engine


def healthz(engine: Engine) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(_request: web.Request) -> web.Response:
        ok, details = await asyncio.to_thread(health.check, engine.db, now=engine.clock())
        return web.json_response({"ok": ok, **details}, status=200 if ok else 503)

    return handler

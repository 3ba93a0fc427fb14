"""`serve(engine, settings)`: run the Slack app in Socket Mode or HTTP mode until cancelled.

`settings`: this adapter's own `SlackSettings`, built by the app from its configuration.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError

from adapters.slack.bolt_app import EVENTS_PATH, SlackBot
from adapters.slack.options import SlackSettings
from bot.services.engine import Engine

log = logging.getLogger("cpdbot.slack")


class SlackConfigError(RuntimeError):
    """The Slack settings cannot work (missing secret, token rejected)."""


def check_settings(settings: SlackSettings) -> str:
    """The bot token, or `SlackConfigError` for settings that cannot work (checked at start,
    before anything is served)."""
    token = settings.bot_token
    if not token:
        raise SlackConfigError("SLACK_BOT_TOKEN is not set.")
    if not settings.app_token and not settings.signing_secret:
        raise SlackConfigError(
            "SLACK_SIGNING_SECRET is required in HTTP mode (it verifies that requests come "
            "from Slack). Set it, or set SLACK_APP_TOKEN to use Socket Mode instead."
        )
    return token


async def serve(engine: Engine, settings: SlackSettings) -> None:
    """Socket Mode when SLACK_APP_TOKEN is set, else HTTP on SLACK_HTTP_PORT at /slack/events."""
    token = check_settings(settings)
    socket_mode = bool(settings.app_token)
    bot = SlackBot(
        engine,
        token=token,
        signing_secret=settings.signing_secret or "",
        api_url=settings.api_url,
    )
    try:
        try:
            me = await bot.client.auth_test()
        except SlackApiError as exc:
            raise SlackConfigError(f"Slack rejected SLACK_BOT_TOKEN: {exc}") from exc
        _say(f"Slack: signed in as {me.get('user')} in {me.get('team')}")
        # Before any new request, so a person's replayed messages come before their next.
        await bot.replay()
        if socket_mode:
            await _socket_mode(bot, str(settings.app_token))
        else:
            await _http(bot, settings.http_host, settings.http_port)
    finally:
        await bot.close()


async def _socket_mode(bot: SlackBot, app_token: str) -> None:
    # The Socket Mode client retries a failed connection forever (right for a network
    # outage); a wrong app token should stop the start instead, so check it once first.
    try:
        await bot.client.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        raise SlackConfigError(f"Slack rejected SLACK_APP_TOKEN: {exc}") from exc
    handler = AsyncSocketModeHandler(bot.app, app_token, web_client=bot.client)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    _say("Slack: Socket Mode connected")
    try:
        await asyncio.Event().wait()  # until cancelled
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


async def _http(bot: SlackBot, host: str, port: int) -> None:
    runner, bound = await bot.start_http(host, port)
    _say(f"Slack: HTTP mode, listening on http://{host}:{bound}{EVENTS_PATH}")
    try:
        await asyncio.Event().wait()  # until cancelled
    finally:
        await runner.cleanup()


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)

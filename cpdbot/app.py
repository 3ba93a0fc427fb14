"""`cpdbot run`: start every configured platform adapter (console when none is), and the
scheduler (calendar prompts, nudges, summaries) beside them."""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Awaitable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from adapters import console
from bot.services.engine import Engine
from cpdbot import delivery
from cpdbot.config import ConfigError, Settings

T = TypeVar("T")


# Collect the youngest generation after this many new container objects (CPython's default
# is 700). A turn allocates thousands; at the default, collections (and the full ones they
# trigger) took about 7% of a worker's CPU in bench/telegram.py, at this value under 1%.
GC_YOUNG_THRESHOLD = 10_000


def settle_memory() -> None:
    """Call once start-up is done (imports, schemes, parser warm-up), before serving.

    What is loaded by then lives as long as the process: `gc.freeze` keeps the collector
    from scanning it again and again, and a higher young-generation threshold makes
    collections rarer. Garbage with reference cycles is still collected, only less often.
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run`, on uvloop where it is installed (Linux and macOS).

    A worker's time goes to HTTP in and out (webhook requests, Bot and Web API calls);
    uvloop's event loop makes that cheaper (bench/telegram.py, docs/telegram.md).
    """
    try:
        import uvloop
    except ImportError:  # Windows, or a Python uvloop does not support
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def check(settings: Settings) -> None:
    """Refuse, before anything starts, settings a configured platform cannot run with
    (`ConfigError`, one line: e.g. a webhook URL without TELEGRAM_WEBHOOK_SECRET)."""
    settings.absence_words()  # a malformed CALENDAR_ABSENCE_WORDS
    if settings.telegram_enabled:
        from adapters.telegram import webhook_config
        from cpdbot.platform_settings import telegram_settings

        try:
            webhook_config(telegram_settings(settings))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if settings.slack_enabled:
        from adapters.slack.server import SlackConfigError, check_settings
        from cpdbot.platform_settings import slack_settings

        try:
            check_settings(slack_settings(settings))
        except SlackConfigError as exc:
            raise ConfigError(str(exc)) from None
    if settings.teams_enabled:
        from adapters.teams.server import TeamsConfigError
        from adapters.teams.server import check_settings as check_teams
        from cpdbot.platform_settings import teams_settings

        try:
            check_teams(teams_settings(settings))
        except TeamsConfigError as exc:
            raise ConfigError(str(exc)) from None


async def run(engine: Engine, settings: Settings, user: str) -> None:
    """Serve until stopped. Each adapter module exposes `serve(engine, its own settings)`."""
    services: list[Awaitable[None]] = []
    if settings.telegram_enabled:
        from adapters.telegram import serve as serve_telegram
        from cpdbot.platform_settings import telegram_settings

        services.append(serve_telegram(engine, telegram_settings(settings)))
    if settings.slack_enabled:
        from adapters.slack import serve as serve_slack
        from cpdbot.platform_settings import slack_settings

        services.append(serve_slack(engine, slack_settings(settings)))
    if settings.teams_enabled:
        from adapters.teams import serve as serve_teams
        from cpdbot.platform_settings import teams_settings

        services.append(serve_teams(engine, teams_settings(settings)))
    console_out = None
    if not services:
        print(
            f"No chat platform configured: starting the console bot on {engine.db.url}",
            file=sys.stderr,
        )
        services.append(console.chat(engine.handle, user, sys.stdin, sys.stdout, files=Path.cwd()))
        console_out = sys.stdout
    if not settings.scheduler_enabled:
        # Another worker, or cron with `cpdbot tick`, runs the scheduler.
        await asyncio.gather(*services)
        return
    async with delivery.running(
        engine.db, engine.schemes, settings, engine.clock, console_out=console_out
    ):
        await asyncio.gather(*services)

"""Delivering scheduled messages from the CLI: the senders per configured platform, the
jobs under APScheduler inside `cpdbot run`, and `cpdbot tick` with its printout."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime, timedelta
from typing import IO

import httpx

from adapters.console import ConsoleSender, render
from bot.core.model import ConversationRef, IdentityKey, Outgoing, Sender
from bot.core.schemes import Scheme
from bot.services import health, references
from bot.services.calendar import new_client
from bot.services.outbound.jobs import Jobs
from bot.services.outbound.scheduler import start_scheduler
from bot.services.outbound.sending import Sent, TickReport
from cpdbot.config import Settings
from storage import outbox
from storage.db import Database


class HeldSender:
    """For `cpdbot tick --print-all`: "sends" by letting tick print the message."""

    def __init__(self, platform: str) -> None:
        self.platform = platform

    async def send(self, identity: IdentityKey, chat_id: str | None, reply: Outgoing) -> None:
        return None


def teams_lookup(
    db: Database,
) -> Callable[[IdentityKey], Awaitable[ConversationRef | None]]:
    """The Teams conversation reference held for an identity, read off the event loop."""

    async def lookup(identity: IdentityKey) -> ConversationRef | None:
        return await asyncio.to_thread(references.reference_for, db, identity)

    return lookup


@asynccontextmanager
async def open_senders(
    settings: Settings, *, console_out: IO[str] | None, db: Database | None = None
) -> AsyncIterator[dict[str, Sender]]:
    """A Sender for each configured platform (real API clients), plus the console's when
    `console_out` is given. A platform without one keeps its messages pending. Teams
    writes through stored conversation references, so its Sender needs `db`."""
    async with AsyncExitStack() as stack:
        senders: dict[str, Sender] = {}
        if console_out is not None:
            senders["console"] = ConsoleSender(console_out)
        if settings.telegram_enabled:
            from adapters.telegram import open_sender
            from cpdbot.platform_settings import telegram_settings

            sender = open_sender(telegram_settings(settings))
            senders["telegram"] = await stack.enter_async_context(sender)
        if settings.slack_enabled and settings.slack_bot_token:
            from adapters.slack.sender import SlackSender, make_client

            senders["slack"] = SlackSender(
                make_client(settings.slack_bot_token, settings.slack_api_url)
            )
        if settings.teams_enabled and db is not None:
            from adapters.teams.proactive import open_sender as open_teams_sender
            from cpdbot.platform_settings import teams_settings

            teams = open_teams_sender(teams_settings(settings), teams_lookup(db))
            senders["teams"] = await stack.enter_async_context(teams)
        yield senders


def _jobs(
    db: Database,
    schemes: Mapping[str, Scheme],
    settings: Settings,
    senders: Mapping[str, Sender],
    http: httpx.AsyncClient,
    clock: Callable[[], datetime],
) -> Jobs:
    return Jobs(
        db,
        schemes,
        clock,
        senders=senders,
        http=http,
        allow_private_feeds=settings.calendar_allow_private_networks,
        poll_every=timedelta(minutes=settings.calendar_poll_minutes),
        chart_processes=settings.chart_processes,
        microsoft=settings.microsoft_endpoints(),
        secrets=db.secrets,
        absence_words=settings.absence_words(),
    )


@asynccontextmanager
async def running(
    db: Database,
    schemes: Mapping[str, Scheme],
    settings: Settings,
    clock: Callable[[], datetime],
    *,
    console_out: IO[str] | None,
) -> AsyncIterator[Jobs]:
    """The scheduler running on this event loop (APScheduler), for `cpdbot run`."""
    async with (
        open_senders(settings, console_out=console_out, db=db) as senders,
        new_client() as http,
    ):
        jobs = _jobs(db, schemes, settings, senders, http, clock)
        scheduler = start_scheduler(jobs)
        health.register_scheduler(scheduler)
        try:
            yield jobs
        finally:
            health.register_scheduler(None)
            scheduler.shutdown(wait=False)
            jobs.close()


async def tick(
    db: Database,
    schemes: Mapping[str, Scheme],
    settings: Settings,
    at: datetime,
    *,
    print_all: bool = False,
) -> TickReport:
    """Run every job once as if at `at`. Console messages are printed (by the caller);
    other platforms go through their real senders when configured, else stay pending
    (or, with `print_all`, are printed and recorded as sent)."""
    async with open_senders(settings, console_out=None, db=db) as senders:
        senders["console"] = HeldSender("console")
        if print_all:
            for platform in ("telegram", "slack", "teams"):
                senders.setdefault(platform, HeldSender(platform))
        async with new_client() as http:
            jobs = _jobs(db, schemes, settings, senders, http, lambda: at)
            try:
                report = await jobs.tick(at)
            finally:
                jobs.close()
        with db.transaction() as session:
            waiting = outbox.waiting_by_platform(session, now=at, exclude=list(senders))
        for platform, n in sorted(waiting.items()):
            print(
                f"{n} {platform} message(s) due but not sent: {platform.upper()} is not "
                "configured (set its token, or use --print-all).",
                file=sys.stderr,
            )
        return report


def recipient(identity: IdentityKey) -> str:
    if identity.platform in ("slack", "teams"):
        return f"{identity.platform}:{identity.workspace}:{identity.user_id}"
    return f"{identity.platform}:{identity.user_id}"


def format_sent(sent: Sent) -> str:
    """How `cpdbot tick` prints a sent message: a header line, then the message."""
    return f"--- to {recipient(sent.recipient)} [{sent.kind} {sent.key}]\n{render(sent.reply)}"

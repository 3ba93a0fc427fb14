"""Teams: nothing answered 200 is lost. A personal message is in the inbox before the 200;
when its work is cut short (the bot shut down while the reply waited on the connector),
the next start's `replay()` finishes it: the member gets the reply once, the entry is
saved once and the inbox row is finished. A row that cannot be read is dropped and logged
without what was typed. The real TeamsBot, engine and database (both), against
tests/fake_teams.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from adapters.teams import TeamsBot, TeamsSettings, translate
from bot.services.engine import Engine
from storage.db import Database
from tests.adapters.test_teams import Person, Teams, inbox_rows, shown
from tests.fake_teams import APP_ID, APP_PASSWORD, TENANT_ID, FakeTeams

WAIT = 20  # seconds: a bound on waiting, never a sleep


def settings_for(fake: FakeTeams) -> TeamsSettings:
    return TeamsSettings(
        app_id=APP_ID,
        app_password=APP_PASSWORD,
        tenant_id=TENANT_ID,
        openid_metadata_url=fake.openid_url,
        token_url=fake.token_url(),
    )


@asynccontextmanager
async def serving(engine: Engine, fake: FakeTeams, grace: float = 5.0) -> AsyncIterator[Teams]:
    """A bot started as `serve()` starts it (nothing replayed here: the tests do that), and
    closed with `grace` seconds for the work in flight."""
    bot = TeamsBot(engine, settings_for(fake))
    runner, port = await bot.start_http("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as http:
            yield Teams(bot, fake, http, f"http://127.0.0.1:{port}/api/messages")
    finally:
        await runner.cleanup()
        await bot.close(grace)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTeams]:
    server = await FakeTeams().start()
    yield server
    await server.stop()


def saved(person: Person, engine: Engine) -> list[tuple[int, str, str]]:
    record = engine.record(person.key)
    assert record is not None
    return [(e.number, e.title, e.category) for e in record.entries]


async def test_a_message_cut_short_by_a_shutdown_is_answered_once_after_the_restart(
    engine: Engine, fake: FakeTeams, db: Database
) -> None:
    async with serving(engine, fake) as teams:
        alice = Person(teams, "Alice")
        await alice.onboard()
        assert (await alice.say("log 1.5h arc-flash briefing yesterday"))[-1] == "Which category?"
        replies = await alice.press("Events and seminars")
        assert replies[-1].startswith("Reflection 1/2")
    before = len(teams.posts(alice.conversation))

    # A new start: its first reply needs a token, which the fake holds, so the entry is
    # saved but the reply never leaves; then the bot shuts down without waiting.
    gate = fake.hold_token()
    fake.token_requested.clear()
    async with serving(engine, fake, grace=0) as cut:
        alice.teams = cut
        later = alice.activity("later")
        assert await cut.post(later, wait=False) == 200  # Teams will not send it again
        await asyncio.wait_for(fake.token_requested.wait(), WAIT)
        assert saved(alice, engine) == [(1, "Arc-flash briefing", "events_and_seminars")]
    gate.set()
    name = translate.activity_key(later)
    (row,) = [r for r in inbox_rows(db) if r.key == name]
    assert row.done_at is None  # left for the next start
    assert len(teams.posts(alice.conversation)) == before  # the member has heard nothing

    async with serving(engine, fake) as restarted:
        alice.teams = restarted
        assert await restarted.bot.replay() == 1
        await asyncio.wait_for(restarted.bot.idle(), WAIT)
        texts = [shown(s) for s in restarted.posts(alice.conversation)[before:]]
        assert len(texts) == 1 and texts[0].startswith("Saved #1"), texts
        # The connector delivers the same activity again after the restart: nothing new.
        assert await restarted.post(later) == 200
        assert len(restarted.posts(alice.conversation)) == before + 1
        await restarted.bot.inbox.flush()
    assert saved(alice, engine) == [(1, "Arc-flash briefing", "events_and_seminars")]
    (row,) = [r for r in inbox_rows(db) if r.key == name]
    assert row.done_at is not None

    again = TeamsBot(engine, settings_for(fake))
    try:
        assert await again.replay() == 0  # nothing left to replay
    finally:
        await again.close()


async def test_an_unreadable_row_is_dropped_and_logged_without_the_message(
    engine: Engine, fake: FakeTeams, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "log 3h confidential disciplinary hearing yesterday"
    async with serving(engine, fake) as teams:
        bob = Person(teams, "Bob")
        no_sender = bob.activity(secret)
        del no_sender["from"]  # cannot tell who sent it
        rows = [
            ("activity:broken:1", "{" + secret),  # not JSON: written by a crash mid-way
            ("activity:broken:2", json.dumps(no_sender)),
            ("activity:broken:3", json.dumps([secret])),  # JSON, not an activity
        ]
        assert await teams.bot.inbox.record(rows) == [n for n, _ in rows]
        await teams.bot.inbox.flush()

    caplog.set_level(logging.INFO)
    async with serving(engine, fake) as restarted:
        assert await restarted.bot.replay() == 3
        await asyncio.wait_for(restarted.bot.idle(), WAIT)
        await restarted.bot.inbox.flush()
    dropped = [r for r in caplog.records if "cannot be read; dropped" in r.getMessage()]
    assert sorted(r.getMessage().split()[3] for r in dropped) == [n for n, _ in rows]
    assert all(r.levelno == logging.ERROR for r in dropped)
    assert "confidential" not in caplog.text
    assert fake.sent == []  # nobody to answer, nothing sent
    assert engine.record(bob.key) is None
    finished = {r.key: r.done_at for r in inbox_rows(db)}
    assert all(finished[n] is not None for n, _ in rows)

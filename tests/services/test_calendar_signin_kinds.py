"""An Outlook sign-in and a CalDAV calendar choice under way together (issue 15 review):
each keeps its own pending row, so neither is lost to the other. The real engine, a fake
Microsoft identity platform and a real Radicale on 127.0.0.1; time frozen; both databases.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from bot.core.model import IdentityKey, Incoming, Kind
from bot.core.schemes import Scheme
from bot.services.calendar.graph_auth import MicrosoftEndpoints
from bot.services.engine import Engine
from storage.db import Database
from storage.secrets import SecretBox
from tests.conftest import NOW, Chat, Clock
from tests.fake_microsoft import ACCOUNT, CLIENT_ID, FakeMicrosoft
from tests.radicale_server import RadicaleServer
from tests.scheduling import make_jobs

KEY = "OnQPHixGLtihF5N25svYBjI-As5tmrYvOZrdukmbqvg="
FORMS = itertools.count(1)


@pytest.fixture
async def ms() -> AsyncIterator[FakeMicrosoft]:
    fake = await FakeMicrosoft().start()
    yield fake
    await fake.stop()


@pytest.fixture
def keyed(db: Database) -> Iterator[Database]:
    db.secrets = SecretBox(KEY)
    yield db
    db.secrets = SecretBox(None)  # the PostgreSQL database object is shared by tests


def endpoints(ms: FakeMicrosoft) -> MicrosoftEndpoints:
    return MicrosoftEndpoints(client_id=CLIENT_ID, login_url=ms.url, graph_url=ms.url)


def member(db: Database, schemes: dict[str, Scheme], clock: Clock, ms: FakeMicrosoft) -> Chat:
    engine = Engine(db, schemes, clock, microsoft=endpoints(ms), allow_private_feeds=True)
    chat = Chat(engine, IdentityKey("console", "alice"))
    chat.onboard()
    return chat


async def say(chat: Chat, typed: str) -> str:
    await asyncio.to_thread(chat.say, typed)
    return chat.text


async def password(chat: Chat, typed: str) -> str:
    """The console's password form (nothing echoed)."""
    event = Incoming(
        chat.identity, Kind.FORM, form={"password": typed}, dedupe_key=f"f{next(FORMS)}"
    )
    await asyncio.to_thread(chat.send, event)
    return chat.text


async def press(chat: Chat, label: str) -> str:
    await asyncio.to_thread(chat.press, label)
    return chat.text


def rows(db: Database, table: str) -> list[Any]:
    with db.engine.connect() as conn:
        return list(conn.execute(text(f"SELECT * FROM {table} ORDER BY id")).mappings())


async def test_a_caldav_choice_does_not_lose_a_waiting_outlook_sign_in(
    keyed: Database,
    schemes: dict[str, Scheme],
    clock: Clock,
    ms: FakeMicrosoft,
    radicale: RadicaleServer,
) -> None:
    chat = member(keyed, schemes, clock, ms)
    await say(chat, "/calendar outlook")
    (code,) = ms.sign_ins
    await say(chat, f"/calendar caldav {radicale.url} {radicale.username}")
    assert "The password works" in await password(chat, radicale.password)
    picker = list(chat.replies)
    assert sorted(r["kind"] for r in rows(keyed, "calendar_signin")) == ["caldav", "graph"]

    ms.approve(code)  # the member signs in while the calendar choice waits
    jobs, recorder = make_jobs(keyed, schemes, clock, microsoft=endpoints(ms))
    clock.now = NOW + timedelta(seconds=10)
    await jobs.tick(clock.now)
    assert [reply.text for _, reply in recorder.sent] == [
        f"Signed in to Outlook as {ACCOUNT}. I'll ask about your training events as they end."
    ]

    chat.replies = picker
    assert "Connected calendar 2: 'Work' (CalDAV" in await press(chat, "Work")
    assert [r["kind"] for r in rows(keyed, "calendarfeed")] == ["graph", "caldav"]
    assert rows(keyed, "calendar_signin") == []
    listed = await say(chat, "/calendar list")
    assert f"1. Outlook ({ACCOUNT})" in listed
    assert "2. CalDAV 'work' (alice at 127.0.0.1)" in listed


async def test_outlook_again_while_the_code_is_valid_shows_the_same_code(
    keyed: Database, schemes: dict[str, Scheme], clock: Clock, ms: FakeMicrosoft
) -> None:
    chat = member(keyed, schemes, clock, ms)
    await say(chat, "/calendar outlook")
    (code,) = ms.sign_ins
    clock.now = NOW + timedelta(minutes=3)
    again = await say(chat, "/calendar outlook")
    assert "Your sign-in is still waiting: go to" in again
    assert f"enter {code}, valid until 10:15" in again
    assert list(ms.sign_ins) == [code]  # no second code replaced the first
    (pending,) = rows(keyed, "calendar_signin")
    assert pending["user_code"] == code

    clock.now = NOW + timedelta(minutes=16)  # expired: a new sign-in starts
    assert "To connect your Outlook calendar" in await say(chat, "/calendar outlook")
    assert len(ms.sign_ins) == 2


async def test_two_caldav_calendars_of_one_account_are_told_apart_in_the_list(
    keyed: Database,
    schemes: dict[str, Scheme],
    clock: Clock,
    ms: FakeMicrosoft,
    radicale: RadicaleServer,
) -> None:
    chat = member(keyed, schemes, clock, ms)
    for label in ("Personal", "Work"):
        await say(chat, f"/calendar caldav {radicale.url} {radicale.username}")
        await password(chat, radicale.password)
        await press(chat, label)
    listed = await say(chat, "/calendar list")
    assert "1. CalDAV 'personal' (alice at 127.0.0.1)" in listed
    assert "2. CalDAV 'work' (alice at 127.0.0.1)" in listed

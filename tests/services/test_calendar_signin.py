"""/calendar outlook end to end: the real engine starts a device-code sign-in with a fake
Microsoft identity platform on 127.0.0.1, the scheduler's sign-in job polls it no faster
than asked and tells the member once how it ended. Time frozen; both databases."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from bot.core.schemes import Scheme
from bot.services.calendar.graph_auth import MicrosoftEndpoints
from bot.services.engine import Engine
from storage import calendar_accounts as accounts
from storage.db import Database
from storage.secrets import SecretBox
from tests.conftest import NOW, Chat, Clock
from tests.fake_microsoft import ACCOUNT, CLIENT_ID, VERIFICATION_URI, FakeMicrosoft
from tests.scheduling import make_jobs

KEY = "OnQPHixGLtihF5N25svYBjI-As5tmrYvOZrdukmbqvg="
SIGNED_IN = f"Signed in to Outlook as {ACCOUNT}. I'll ask about your training events as they end."


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
    chat = Chat(Engine(db, schemes, clock, microsoft=endpoints(ms)), _alice())
    chat.onboard()
    return chat


def _alice() -> Any:
    from bot.core.model import IdentityKey

    return IdentityKey("console", "alice")


async def say(chat: Chat, typed: str) -> str:
    """The engine runs in a worker thread, as the adapters run it: the fake Microsoft
    answers on this test's event loop meanwhile."""
    await asyncio.to_thread(chat.say, typed)
    return chat.text


def rows(db: Database, table: str) -> list[Any]:
    with db.engine.connect() as conn:
        return list(conn.execute(text(f"SELECT * FROM {table}")).mappings())


def polls(ms: FakeMicrosoft) -> int:
    return sum(1 for f in ms.token_forms if f.get("grant_type", "").endswith("device_code"))


async def tick(jobs: Any, clock: Clock, seconds: float) -> None:
    clock.now = NOW + timedelta(seconds=seconds)
    await jobs.tick(clock.now)


async def test_signing_in_to_outlook_connects_the_calendar_and_says_so_once(
    keyed: Database,
    schemes: dict[str, Scheme],
    clock: Clock,
    ms: FakeMicrosoft,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    chat = member(keyed, schemes, clock, ms)
    said = await say(chat, "/calendar outlook")
    (code,) = ms.sign_ins
    assert VERIFICATION_URI in said and code in said
    assert "works until 10:15" in said and "I'll tell you when you're signed in" in said
    (pending,) = rows(keyed, "calendar_signin")
    device_code = ms.sign_ins[code].device_code
    assert device_code.encode() not in bytes(pending["device_code"])

    jobs, recorder = make_jobs(keyed, schemes, clock, microsoft=endpoints(ms))
    await tick(jobs, clock, 4)
    assert polls(ms) == 0  # not before the interval Microsoft asked for (5 s)
    await tick(jobs, clock, 5)
    assert polls(ms) == 1 and recorder.sent == []  # not signed in yet

    ms.approve(code)
    await tick(jobs, clock, 10)
    assert [reply.text for _, reply in recorder.sent] == [SIGNED_IN]
    (feed,) = rows(keyed, "calendarfeed")
    assert feed["kind"] == "graph" and feed["account"] == ACCOUNT and feed["url"] == ms.url
    refresh = accounts.read_secret(keyed.secrets, bytes(feed["secret"]))
    assert refresh in ms.refresh_tokens and refresh.encode() not in bytes(feed["secret"])
    assert accounts.read_secret(keyed.secrets, bytes(feed["access_secret"])) in ms.access_tokens
    assert rows(keyed, "calendar_signin") == []

    await tick(jobs, clock, 60)  # told once; the code is not polled again
    assert len(recorder.sent) == 1 and polls(ms) == 2
    assert device_code not in caplog.text and refresh not in caplog.text

    assert "1. Outlook (ada.lovelace@contoso.example)" in await say(chat, "/calendar list")


@pytest.mark.parametrize(
    ("act", "told"),
    [
        ("decline", "Sign-in declined; nothing connected."),
        ("expire", "The code expired; type /calendar outlook to try again."),
    ],
)
async def test_a_declined_or_expired_sign_in_is_told_once_and_connects_nothing(
    keyed: Database,
    schemes: dict[str, Scheme],
    clock: Clock,
    ms: FakeMicrosoft,
    act: str,
    told: str,
) -> None:
    chat = member(keyed, schemes, clock, ms)
    await say(chat, "/calendar outlook")
    (code,) = ms.sign_ins
    getattr(ms, act)(code)
    jobs, recorder = make_jobs(keyed, schemes, clock, microsoft=endpoints(ms))
    await tick(jobs, clock, 5)
    await tick(jobs, clock, 10)
    assert [reply.text for _, reply in recorder.sent] == [told]
    assert rows(keyed, "calendarfeed") == [] and rows(keyed, "calendar_signin") == []


async def test_a_code_nobody_used_expires_and_the_member_is_told_once(
    keyed: Database, schemes: dict[str, Scheme], clock: Clock, ms: FakeMicrosoft
) -> None:
    chat = member(keyed, schemes, clock, ms)
    await say(chat, "/calendar outlook")
    jobs, recorder = make_jobs(keyed, schemes, clock, microsoft=endpoints(ms))
    await tick(jobs, clock, 901)  # past the 15 minutes, without a poll in between
    await tick(jobs, clock, 960)
    texts = [reply.text for _, reply in recorder.sent]
    assert texts == ["The code expired; type /calendar outlook to try again."]
    assert polls(ms) == 0


async def test_slow_down_makes_every_later_poll_wait_five_seconds_more(
    keyed: Database, schemes: dict[str, Scheme], clock: Clock, ms: FakeMicrosoft
) -> None:
    chat = member(keyed, schemes, clock, ms)
    await say(chat, "/calendar outlook")
    (code,) = ms.sign_ins
    ms.slow_down(code)
    jobs, _ = make_jobs(keyed, schemes, clock, microsoft=endpoints(ms))
    await tick(jobs, clock, 5)
    assert polls(ms) == 1
    await tick(jobs, clock, 10)  # the old interval: too soon now
    await tick(jobs, clock, 14)
    assert polls(ms) == 1
    await tick(jobs, clock, 15)  # 5 + 10
    assert polls(ms) == 2
    await tick(jobs, clock, 24)
    assert polls(ms) == 2
    await tick(jobs, clock, 25)
    assert polls(ms) == 3


async def test_two_schedulers_redeem_the_code_once(
    keyed: Database, schemes: dict[str, Scheme], clock: Clock, ms: FakeMicrosoft
) -> None:
    chat = member(keyed, schemes, clock, ms)
    await say(chat, "/calendar outlook")
    (code,) = ms.sign_ins
    ms.approve(code)
    first, one = make_jobs(keyed, schemes, clock, microsoft=endpoints(ms))
    second, two = make_jobs(keyed, schemes, clock, microsoft=endpoints(ms))
    clock.now = NOW + timedelta(seconds=5)
    await asyncio.gather(first.tick(clock.now), second.tick(clock.now))
    assert polls(ms) == 1
    assert len(rows(keyed, "calendarfeed")) == 1
    assert [r.text for _, r in one.sent + two.sent] == [SIGNED_IN]


async def test_without_a_secret_key_or_client_id_outlook_says_what_is_missing(
    db: Database, schemes: dict[str, Scheme], clock: Clock, ms: FakeMicrosoft
) -> None:
    chat = member(db, schemes, clock, ms)
    said = await say(chat, "/calendar outlook")
    assert "cpdbot secret-key" in said and "CPDBOT_SECRET_KEY" in said
    assert ms.token_forms == [] and rows(db, "calendar_signin") == []

    db.secrets = SecretBox(KEY)
    try:
        off = Chat(Engine(db, schemes, clock), _alice())
        said = await say(off, "/calendar outlook")
    finally:
        db.secrets = SecretBox(None)
    assert "MICROSOFT_CLIENT_ID" in said and "/calendar add" in said
    assert ms.token_forms == [] and rows(db, "calendar_signin") == []


async def test_microsoft_failing_to_start_is_said_plainly_and_nothing_stored(
    keyed: Database, schemes: dict[str, Scheme], clock: Clock, ms: FakeMicrosoft
) -> None:
    chat = member(keyed, schemes, clock, ms)
    ms.fail_identity(503)
    said = await say(chat, "/calendar outlook")
    assert "I couldn't start the Outlook sign-in" in said and "busy" in said
    assert rows(keyed, "calendar_signin") == []


async def test_remove_cancels_a_sign_in_and_forget_erases_a_connected_outlook(
    keyed: Database, schemes: dict[str, Scheme], clock: Clock, ms: FakeMicrosoft
) -> None:
    chat = member(keyed, schemes, clock, ms)
    await say(chat, "/calendar outlook")
    (code,) = ms.sign_ins
    assert f"enter the code {code}" in await say(chat, "/calendar list")
    assert "The Outlook sign-in is cancelled" in await say(chat, "/calendar remove")
    ms.approve(code)
    jobs, recorder = make_jobs(keyed, schemes, clock, microsoft=endpoints(ms))
    await tick(jobs, clock, 5)
    assert rows(keyed, "calendarfeed") == [] and recorder.sent == [] and polls(ms) == 0

    await say(chat, "/calendar outlook")
    ms.approve(next(c for c in ms.sign_ins if c != code))
    await tick(jobs, clock, 10)
    assert len(rows(keyed, "calendarfeed")) == 1
    await say(chat, "/calendar outlook")  # and one more under way
    await say(chat, "/forget")
    await say(chat, "FORGET")
    assert rows(keyed, "calendarfeed") == [] and rows(keyed, "calendar_signin") == []

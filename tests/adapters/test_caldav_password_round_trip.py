"""A CalDAV calendar connected through each real adapter, the real engine and a real
Radicale on 127.0.0.1 (issue 15): the password asked for the platform's own way (Slack: a
button opening a modal; Teams: a card with a password input, replaced once sent;
Telegram: a message the bot deletes; the console: typed without echo), checked, the
calendar chosen and connected. Afterwards the password is in no table's raw values (the
inbox rows emptied once handled) and in no log line, DEBUG included. Both databases.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import termios
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest

from adapters import console
from adapters.slack import blocks
from adapters.teams import TeamsBot, TeamsSettings
from adapters.telegram.translate import SECRET_PROMPT
from bot.core.model import Incoming, Kind, Outgoing
from bot.core.schemes import Scheme
from bot.services.engine import Engine
from cpdbot import logs
from storage.db import Database
from tests.adapters import test_slack as slack_test
from tests.adapters import test_teams as teams_test
from tests.adapters import test_telegram as telegram_test
from tests.adapters.test_secret_input_console import Typist, _terminal_output
from tests.conftest import Clock
from tests.dialogue.test_calendar_accounts import (
    SLASH_PASSWORD,
    keyed,
    raw_values,
    rows,
    slash_radicale,
    state,
)
from tests.fake_slack import FakeSlack
from tests.fake_teams import APP_ID, APP_PASSWORD, TENANT_ID, FakeTeams
from tests.fake_telegram import FakeTelegram
from tests.radicale_server import RadicaleServer

__all__ = ["keyed", "slash_radicale"]  # fixtures of tests/dialogue/test_calendar_accounts.py

CONNECTED = "Connected calendar 1: 'Work' (CalDAV, alice at 127.0.0.1)"


@pytest.fixture
def engine(keyed: Database, schemes: dict[str, Scheme], clock: Clock) -> Engine:
    """The engine over a database with a secret key; Radicale's 127.0.0.1 allowed."""
    return Engine(keyed, schemes, clock, allow_private_feeds=True)


def caldav_command(radicale: RadicaleServer) -> str:
    return f"calendar caldav {radicale.url} {radicale.username}"


def app_debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Logging as `cpdbot` sets it up at LOG_LEVEL=DEBUG (cpdbot/logs.py): everything of
    ours at DEBUG, the HTTP and platform libraries at WARNING (python-telegram-bot logs each
    update it fetches, text and all, at DEBUG; Telegram's URLs hold the bot's token)."""
    caplog.set_level(logging.DEBUG)
    for name in logs._QUIET:
        caplog.set_level(logging.WARNING, logger=name)


def connected_to_work(db: Database, radicale: RadicaleServer) -> None:
    """The Work calendar connected, the offer gone, the password stored encrypted only."""
    (feed,) = rows(db, "calendarfeed")
    assert (feed["kind"], feed["url"]) == ("caldav", radicale.calendar_url("work"))
    assert rows(db, "calendar_signin") == []
    assert state(db) == "idle"
    assert radicale.password not in raw_values(db)


# ---------------------------------------------------------------- Slack


async def test_slack_button_modal_and_submission_connect_the_calendar(
    engine: Engine, keyed: Database, radicale: RadicaleServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = await FakeSlack().start()
    try:
        async with slack_test.serving(engine, fake) as slack:
            alice = slack_test.Person(slack, slack_test.T1, "U0ALICE001")
            await alice.onboard()
            status, _, replies = await alice.command(caldav_command(radicale), channel=alice.dm)
            assert status == 200
            assert replies[-1].startswith("Now the password for alice at 127.0.0.1")
            _, button = alice.button("Enter password")
            assert button["action_id"] == "secret:password"
            assert state(keyed) == "calendar_password"

            assert await alice.press("Enter password") == []  # nothing said in the chat
            opened = fake.called("views.open")[-1]
            view = dict(opened["view"], id="V0SECRET01")
            assert view["callback_id"] == blocks.SECRET_MODAL
            (field,) = view["blocks"]
            assert field["label"]["text"] == "Password for alice at 127.0.0.1"

            before = len(fake.posts(alice.dm))
            submission = slack_test.view_submission(
                slack_test.T1, alice.user, view, {"password": radicale.password}
            )
            status, body = await slack.interaction(submission)
            assert (status, body) == (200, "")  # the modal closes at once
            offered = [m["text"] for m in fake.posts(alice.dm)[before:]]
            assert offered == [
                "The password works. Which of alice's calendars at 127.0.0.1 shall I follow?"
            ]
            assert rows(keyed, "calendar_signin")[0]["kind"] == "caldav"

            replies = await alice.press("Work")
            assert replies == [CONNECTED + _FOLLOWS]
    finally:
        await fake.stop()
    connected_to_work(keyed, radicale)
    assert all(radicale.password not in str(call.args) for call in fake.calls)
    assert radicale.password not in caplog.text


_FOLLOWS = (
    ". I'll check it every few minutes and, soon after a training event ends, ask whether "
    "to log it. /calendar list shows your calendars."
)


# ---------------------------------------------------------------- Teams


@contextlib.asynccontextmanager
async def teams_bot(engine: Engine) -> AsyncIterator[teams_test.Teams]:
    """The Teams endpoint on 127.0.0.1 as tests/adapters/test_teams.py runs it."""
    fake = await FakeTeams().start()
    settings = TeamsSettings(
        app_id=APP_ID,
        app_password=APP_PASSWORD,
        tenant_id=TENANT_ID,
        openid_metadata_url=fake.openid_url,
        token_url=fake.token_url(),
    )
    bot = TeamsBot(engine, settings)
    await bot.replay()
    runner, port = await bot.start_http("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as http:
            yield teams_test.Teams(bot, fake, http, f"http://127.0.0.1:{port}/api/messages")
    finally:
        await runner.cleanup()
        await bot.close()
        await fake.stop()


async def test_teams_password_card_submit_replaced_and_calendar_connected(
    engine: Engine, keyed: Database, radicale: RadicaleServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with teams_bot(engine) as teams:
        alice = teams_test.Person(teams, "Alice")
        await alice.onboard()
        replies = await alice.say("/" + caldav_command(radicale))
        assert replies[-1].startswith("Now the password for alice at 127.0.0.1")
        card, submit = alice.card("Enter password")
        content = teams_test.card_of(card)
        assert content is not None
        (field,) = [b for b in content["body"] if b["type"] == "Input.Text"]
        assert (field["id"], field["style"]) == ("password", "password")

        submitted = alice.activity(
            value={**submit["data"], "password": radicale.password},
            replyToId=card.id,
            channelData={"tenant": {"id": TENANT_ID}, "source": {"name": "message"}},
        )
        replies = await alice.send(submitted)
        assert replies == [
            "The password works. Which of alice's calendars at 127.0.0.1 shall I follow?"
        ]
        (replaced,) = [u for u in teams.updates() if u.activity_id == card.id]
        body = replaced.body["attachments"][0]["content"]["body"]
        assert "✓ Password received" in [b.get("text") for b in body]
        assert not any(b["type"].startswith("Input.") for b in body)  # the input is gone

        replies = await alice.press("Work")
        assert replies == [CONNECTED + _FOLLOWS]
        sent = teams.fake.sent
    connected_to_work(keyed, radicale)
    assert all(radicale.password not in str(s.body) for s in sent)
    assert radicale.password not in caplog.text


# ---------------------------------------------------------------- Telegram


@pytest.fixture
async def telegram_fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram().start()
    yield server
    await server.close()


async def test_telegram_typed_password_deleted_and_calendar_connected(
    engine: Engine,
    keyed: Database,
    telegram_fake: FakeTelegram,
    radicale: RadicaleServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app_debug_logs(caplog)
    fake = telegram_fake
    alice = fake.user()
    async with telegram_test.running(engine, fake, "polling"):
        await telegram_test.onboard(alice)
        await alice.say("/" + caldav_command(radicale), until="send it as your next message")
        prompt = SECRET_PROMPT.format(label="Password for alice at 127.0.0.1")
        assert any(prompt in t for t in fake.texts(alice.id))

        typed = await alice.say(radicale.password, until="The password works")
        await fake.wait_for(lambda: fake.deleted)
        assert fake.deleted == [(alice.id, typed["message"]["message_id"])]
        last = await alice.tap("Work", until="Connected calendar 1")
        await telegram_test.handled(keyed, last)
        await telegram_test.handled(keyed, typed)
    assert any(CONNECTED in t for t in fake.texts(alice.id))
    connected_to_work(keyed, radicale)
    sent = [c.params for c in fake.calls if c.method != "getUpdates"]
    assert all(radicale.password not in str(params) for params in sent)
    assert radicale.password not in caplog.text


async def test_telegram_a_password_typed_after_15_minutes_is_deleted_and_not_used(
    engine: Engine,
    keyed: Database,
    clock: Clock,
    telegram_fake: FakeTelegram,
    radicale: RadicaleServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app_debug_logs(caplog)
    fake = telegram_fake
    alice = fake.user()
    async with telegram_test.running(engine, fake, "polling"):
        await telegram_test.onboard(alice)
        await alice.say("/" + caldav_command(radicale), until="send it as your next message")
        clock.now += timedelta(minutes=16)
        late = alice.message(radicale.password)
        late["message"]["date"] = int(clock.now.timestamp())  # typed now, 16 minutes on
        await fake.deliver(late)
        await fake.wait_for(lambda: fake.deleted)
        await telegram_test.handled(keyed, late)
        assert fake.deleted == [(alice.id, late["message"]["message_id"])]
        said = fake.texts(alice.id)[-1]
        assert said == (
            "I asked for that password more than 15 minutes ago, so I didn't use your message "
            f"(I've deleted it). Type /calendar caldav {radicale.url} alice again when ready."
        )
        await alice.say("/status", until="CPD year 2026")  # a command works as usual
    assert rows(keyed, "calendar_signin") == [] and rows(keyed, "calendarfeed") == []
    assert state(keyed) == "idle"
    assert radicale.password not in raw_values(keyed) and radicale.password not in caplog.text


async def test_telegram_a_password_starting_with_a_slash_connects(
    engine: Engine,
    keyed: Database,
    telegram_fake: FakeTelegram,
    slash_radicale: RadicaleServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app_debug_logs(caplog)
    fake = telegram_fake
    alice = fake.user()
    async with telegram_test.running(engine, fake, "polling"):
        await telegram_test.onboard(alice)
        await alice.say("/" + caldav_command(slash_radicale), until="send it as your next")
        typed = await alice.say(SLASH_PASSWORD, until="The password works")
        assert typed["message"]["entities"][0]["type"] == "bot_command"  # as Telegram marks it
        await fake.wait_for(lambda: fake.deleted)
        assert fake.deleted == [(alice.id, typed["message"]["message_id"])]
        last = await alice.tap("Work", until="Connected calendar 1")
        await telegram_test.handled(keyed, last)
    assert not any("I don't know" in t for t in fake.texts(alice.id))
    assert SLASH_PASSWORD not in raw_values(keyed) and SLASH_PASSWORD not in caplog.text


# ---------------------------------------------------------------- the console


def test_console_hidden_password_then_the_calendar_pressed_is_connected(
    engine: Engine, keyed: Database, radicale: RadicaleServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    master, slave = os.openpty()
    attrs = termios.tcgetattr(slave)  # as a person's terminal: lines, echoed
    attrs[3] |= termios.ECHO | termios.ICANON
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    stdin = os.fdopen(slave, "r", closefd=False)
    lines = ["/start", "IET", "Europe/London", "/" + caldav_command(radicale)]
    out = Typist(master, [*lines, radicale.password, "Work"])
    seen: list[Incoming] = []

    async def handle(event: Incoming) -> list[Outgoing]:
        seen.append(event)
        replies = await engine.handle(event)
        if not out.lines:  # all typed: end of input after this turn
            os.close(slave)
        return replies

    with contextlib.suppress(OSError, ValueError):
        asyncio.run(console.chat(handle, "alice", stdin, out))
    echoed = _terminal_output(master)
    os.close(master)
    shown = out.getvalue()
    assert "Password for alice at 127.0.0.1 (not shown as you type" in shown
    assert "The password works" in shown and CONNECTED in shown
    assert "Europe/London" in echoed  # ordinary lines echo, as always
    assert radicale.password not in echoed and radicale.password not in shown
    assert [e.form for e in seen if e.kind == Kind.FORM] == [{"password": radicale.password}]
    connected_to_work(keyed, radicale)
    assert radicale.password not in caplog.text

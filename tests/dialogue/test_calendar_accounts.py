"""/calendar caldav through the real engine and a real Radicale on 127.0.0.1: the password
asked for out of the chat history, checked after the commit, the calendar chosen and
connected; the password never in any table's raw values, the replies kept for a replay
or the logs. Both databases."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import inspect
from sqlalchemy import text as sql

from bot.core.model import CancelSignin, IdentityKey, Incoming, Kind, Outgoing, SigninView
from bot.core.schemes import Scheme
from bot.dialogue import Data
from bot.services.engine import Engine
from storage import calendar_accounts as accounts
from storage.db import Database
from storage.secrets import SecretBox
from tests.conftest import NOW, Chat, Clock
from tests.dialogue.chat import Case, S, assert_case, text
from tests.radicale_server import RadicaleServer, load_calendars, start_radicale

KEY = "OnQPHixGLtihF5N25svYBjI-As5tmrYvOZrdukmbqvg="
FORMS = itertools.count(1)


@pytest.fixture
def keyed(db: Database) -> Iterator[Database]:
    db.secrets = SecretBox(KEY)
    yield db
    db.secrets = SecretBox(None)  # the PostgreSQL database object is shared by tests


def member(db: Database, schemes: dict[str, Scheme], clock: Clock, platform: str) -> Chat:
    engine = Engine(db, schemes, clock, allow_private_feeds=True)
    user = "U1" if platform != "console" else "alice"
    chat = Chat(engine, IdentityKey(platform, user, "T1" if platform in ("slack", "teams") else ""))
    chat.onboard()
    return chat


@pytest.fixture
def alice(keyed: Database, schemes: dict[str, Scheme], clock: Clock) -> Chat:
    return member(keyed, schemes, clock, "console")


def typed_password(chat: Chat, password: str) -> list[Outgoing]:
    """What the console (and Slack's modal, Teams' card) sends: a form, nothing echoed."""
    form = {"password": password}
    key = f"form-{next(FORMS)}"  # a platform's update id: a repeat is processed once
    return chat.send(Incoming(chat.identity, Kind.FORM, form=form, dedupe_key=key))


def raw_values(db: Database) -> str:
    """Every value of every table, as the database returns it, as one text."""
    seen: list[str] = []
    with db.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(sql(f'SELECT * FROM "{table}"')):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        seen.append(bytes(value).decode("latin-1"))
                    elif isinstance(value, dict | list):
                        seen.append(json.dumps(value))
                    else:
                        seen.append(str(value))
    return "\n".join(seen)


def rows(db: Database, table: str) -> list[Any]:
    with db.engine.connect() as conn:
        return list(conn.execute(sql(f"SELECT * FROM {table}")).mappings())


def state(db: Database) -> str:
    return str(rows(db, "conversation")[0]["state"])


# The dialogue alone (no server): what each step says and where it leads.
CALDAV = {"url": "https://caldav.fastmail.com/", "user": "alice@fastmail.com"}
CASES = [
    Case(
        "/calendar caldav asks for the password",
        S.IDLE,
        text("/calendar caldav https://caldav.fastmail.com/ alice@fastmail.com"),
        S.CALENDAR_PASSWORD,
        "Now the password for alice@fastmail.com at caldav.fastmail.com",
        snap={"secret_key": True},
    ),
    Case(
        "/calendar icloud needs no address",
        S.IDLE,
        text("/calendar icloud ada@icloud.com"),
        S.CALENDAR_PASSWORD,
        "password for ada@icloud.com at caldav.icloud.com",
        snap={"secret_key": True},
    ),
    Case(
        "the password typed (console, Telegram): checked after the commit",
        S.CALENDAR_PASSWORD,
        text("s3cret-app-password"),
        S.IDLE,
        "Checking that password with caldav.fastmail.com",
        data=Data(caldav=CALDAV),
    ),
    Case(
        "/cancel at the password step",
        S.CALENDAR_PASSWORD,
        text("/cancel"),
        S.IDLE,
        "no calendar was connected",
        data=Data(caldav=CALDAV),
    ),
    Case(
        "/calendar remove with no number cancels the sign-in under way",
        S.IDLE,
        text("/calendar remove"),
        S.IDLE,
        "The Outlook sign-in is cancelled",
        effects=(CancelSignin,),
        snap={"signin": SigninView("graph", "ABCD1234", "https://microsoft.com/devicelogin", NOW)},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transition(case: Case, schemes: dict[str, Scheme]) -> None:
    assert_case(case, schemes)


def test_two_calendars_are_offered_and_the_one_pressed_is_connected(
    alice: Chat, keyed: Database, radicale: RadicaleServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    asked = alice.say(f"/calendar caldav {radicale.url} {radicale.username}")
    secret = asked[-1].secret
    assert secret is not None and secret.field == "password"
    assert secret.label == "Password for alice at 127.0.0.1"
    assert state(keyed) == "calendar_password"

    offered = typed_password(alice, radicale.password)
    assert "The password works" in alice.text
    assert [c.label for r in offered for c in r.choices] == ["Personal", "Work"]
    personal = alice.choice("Personal")
    # Waiting for the choice, the password is kept encrypted only.
    assert radicale.password not in raw_values(keyed)
    assert [r["kind"] for r in rows(keyed, "calendar_signin")] == ["caldav"]
    assert state(keyed) == "idle"

    alice.press("Work")
    assert "Connected calendar 1: 'Work' (CalDAV, alice at 127.0.0.1)" in alice.text
    (feed,) = rows(keyed, "calendarfeed")
    assert feed["kind"] == "caldav" and feed["account"] == "alice"
    assert feed["url"] == radicale.calendar_url("work")
    assert accounts.read_secret(keyed.secrets, bytes(feed["secret"])) == radicale.password
    assert rows(keyed, "calendar_signin") == []
    assert radicale.password not in raw_values(keyed)
    assert radicale.password not in caplog.text

    alice.say("/calendar list")
    assert "1. CalDAV 'work' (alice at 127.0.0.1)" in alice.text

    alice.send(Incoming(alice.identity, Kind.CHOICE, choice=personal.id))  # the offer is over
    assert "no longer open" in alice.text
    assert len(rows(keyed, "calendarfeed")) == 1


def test_a_wrong_password_is_refused_asked_again_and_nothing_stored(
    alice: Chat, keyed: Database, radicale: RadicaleServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "hunter2-not-the-password"
    alice.say(f"/calendar caldav {radicale.url} {radicale.username}")
    again = typed_password(alice, wrong)
    assert "refused that user name and password" in alice.text
    assert "Nothing was stored" in alice.text
    assert again[-1].secret is not None  # asked again, out of the chat history
    assert state(keyed) == "calendar_password"
    assert rows(keyed, "calendarfeed") == [] and rows(keyed, "calendar_signin") == []
    assert wrong not in raw_values(keyed) and wrong not in caplog.text

    typed_password(alice, radicale.password)
    assert "The password works" in alice.text


def test_on_telegram_the_typed_password_is_taken_and_its_message_scrubbed(
    keyed: Database, schemes: dict[str, Scheme], clock: Clock, radicale: RadicaleServer
) -> None:
    chat = member(keyed, schemes, clock, "telegram")
    chat.say(f"/calendar caldav {radicale.url} {radicale.username}")
    replies = chat.send(Incoming.text_of(chat.identity, radicale.password, dedupe_key="u7"))
    assert replies[0].scrub_incoming
    assert "The password works" in chat.text
    assert radicale.password not in raw_values(keyed)  # the replies kept for a replay too


@pytest.mark.parametrize("platform", ["slack", "teams"])
def test_on_slack_and_teams_a_password_typed_in_the_chat_is_not_used(
    keyed: Database,
    schemes: dict[str, Scheme],
    clock: Clock,
    radicale: RadicaleServer,
    platform: str,
) -> None:
    chat = member(keyed, schemes, clock, platform)
    chat.say(f"/calendar caldav {radicale.url} {radicale.username}")
    replies = chat.say(radicale.password)
    assert "I don't take a password typed in the chat" in chat.text
    assert "delete the message" in chat.text
    assert replies[-1].secret is not None  # the button again
    assert state(keyed) == "calendar_password"
    assert rows(keyed, "calendar_signin") == [] and rows(keyed, "calendarfeed") == []


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("/calendar caldav https://caldav.example.org/", "Which user name on caldav.example.org?"),
        ("/calendar caldav caldav.example.org alice", "can't use that server address"),
        ("/calendar caldav http://10.1.2.3/dav alice", "can't use that server address"),
        ("/calendar caldav", "/calendar caldav <server address> <user name>"),
        ("/calendar caldav https://caldav.example.org/ alice bob", "not one user name"),
    ],
)
def test_wrong_kinds_of_caldav_commands_are_explained_and_nothing_asked(
    keyed: Database, schemes: dict[str, Scheme], clock: Clock, typed: str, said: str
) -> None:
    chat = Chat(Engine(keyed, schemes, clock), IdentityKey("console", "alice"))
    chat.onboard()
    replies = chat.say(typed)
    assert said in chat.text
    assert all(r.secret is None for r in replies)
    assert state(keyed) == "idle"


def test_an_empty_password_and_cancel_at_the_password_step(
    alice: Chat, keyed: Database, radicale: RadicaleServer
) -> None:
    alice.say(f"/calendar caldav {radicale.url} {radicale.username}")
    replies = typed_password(alice, "   ")
    assert "That password is empty" in alice.text and replies[-1].secret is not None
    assert state(keyed) == "calendar_password"
    alice.say("/cancel")
    assert "no calendar was connected and nothing was stored" in alice.text
    assert state(keyed) == "idle"
    typed_password(alice, radicale.password)  # too late: not used
    assert "after I stopped waiting for it" in alice.text
    assert rows(keyed, "calendar_signin") == [] and rows(keyed, "calendarfeed") == []


def test_without_a_secret_key_caldav_says_how_to_make_one_and_asks_nothing(
    db: Database, schemes: dict[str, Scheme], clock: Clock, radicale: RadicaleServer
) -> None:
    chat = member(db, schemes, clock, "console")
    replies = chat.say(f"/calendar caldav {radicale.url} {radicale.username}")
    assert "cpdbot secret-key" in chat.text and "CPDBOT_SECRET_KEY" in chat.text
    assert all(r.secret is None for r in replies)
    assert state(db) == "idle"


def test_remove_deletes_the_calendar_and_its_password_and_forget_everything(
    alice: Chat, keyed: Database, radicale: RadicaleServer
) -> None:
    alice.say(f"/calendar caldav {radicale.url} {radicale.username}")
    typed_password(alice, radicale.password)
    alice.press("Work")
    alice.say(f"/calendar caldav {radicale.url} {radicale.username}")
    typed_password(alice, radicale.password)
    alice.press("Personal")
    assert len(rows(keyed, "calendarfeed")) == 2

    alice.say("/calendar remove 1")
    assert (
        "Disconnected calendar 1 (CalDAV 'work' (alice at 127.0.0.1)). Its sign-in is deleted."
        in (alice.text)
    )
    (left,) = rows(keyed, "calendarfeed")
    assert left["url"] == radicale.calendar_url("personal")

    # A choice waiting, then /forget: no calendar, secret or offer is left.
    alice.say(f"/calendar caldav {radicale.url} {radicale.username}")
    typed_password(alice, radicale.password)
    assert len(rows(keyed, "calendar_signin")) == 1
    alice.say("/forget")
    alice.say("FORGET")
    assert rows(keyed, "calendarfeed") == [] and rows(keyed, "calendar_signin") == []
    assert rows(keyed, "person") == []


# ---------------------------------------------------------------- the password step expires

SLASH_PASSWORD = "/Slash-first-Pass9"  # a password may start with '/'


@pytest.fixture(scope="module")
def slash_radicale() -> Iterator[RadicaleServer]:
    """A Radicale whose account's password starts with '/' (read as a command otherwise)."""
    server = start_radicale(password=SLASH_PASSWORD)
    try:
        load_calendars(server)
        yield server
    finally:
        server.stop()


def minutes_later(clock: Clock, minutes: int) -> None:
    clock.now += timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("platform", "said", "scrubbed"),
    [
        ("telegram", "so I didn't use your message (I've deleted it)", True),
        ("slack", "so I didn't use your message. If it held the password, please delete", False),
    ],
)
def test_a_password_typed_after_15_minutes_is_not_used(
    keyed: Database,
    schemes: dict[str, Scheme],
    clock: Clock,
    radicale: RadicaleServer,
    caplog: pytest.LogCaptureFixture,
    platform: str,
    said: str,
    scrubbed: bool,
) -> None:
    caplog.set_level(logging.DEBUG)
    chat = member(keyed, schemes, clock, platform)
    chat.say(f"/calendar caldav {radicale.url} {radicale.username}")
    minutes_later(clock, 16)
    replies = chat.send(Incoming.text_of(chat.identity, radicale.password, dedupe_key="u8"))
    (reply,) = replies
    assert reply.text.startswith("I asked for that password more than 15 minutes ago")
    assert said in reply.text
    assert f"Type /calendar caldav {radicale.url} alice again when ready." in reply.text
    assert reply.scrub_incoming is scrubbed and reply.account is None
    assert state(keyed) == "idle"
    assert rows(keyed, "calendar_signin") == [] and rows(keyed, "calendarfeed") == []
    assert radicale.password not in raw_values(keyed) and radicale.password not in caplog.text

    chat.say("log 1h webinar on arc-flash safety yesterday")  # the next is taken normally
    assert "I asked for that password" not in chat.text
    assert "Webinar on arc-flash safety" in chat.text


def test_within_15_minutes_the_typed_password_is_still_taken(
    keyed: Database, schemes: dict[str, Scheme], clock: Clock, radicale: RadicaleServer
) -> None:
    chat = member(keyed, schemes, clock, "telegram")
    chat.say(f"/calendar caldav {radicale.url} {radicale.username}")
    minutes_later(clock, 14)
    chat.send(Incoming.text_of(chat.identity, radicale.password, dedupe_key="u9"))
    assert "The password works" in chat.text


def test_a_password_form_sent_after_15_minutes_is_not_used(
    alice: Chat, keyed: Database, clock: Clock, radicale: RadicaleServer
) -> None:
    alice.say(f"/calendar caldav {radicale.url} {radicale.username}")
    minutes_later(clock, 16)
    (reply,) = typed_password(alice, radicale.password)  # a modal left open, sent late
    assert reply.text.startswith("I asked for that password more than 15 minutes ago")
    assert "so I didn't use it and nothing was stored" in reply.text
    assert rows(keyed, "calendar_signin") == [] and state(keyed) == "idle"


def test_a_command_after_15_minutes_works_as_usual(
    alice: Chat, keyed: Database, clock: Clock, radicale: RadicaleServer
) -> None:
    alice.say(f"/calendar caldav {radicale.url} {radicale.username}")
    minutes_later(clock, 16)
    alice.say("/calendar list")
    assert "We're in the middle" not in alice.text and "I asked for that password" not in alice.text
    assert "No calendar connected." in alice.text  # /calendar list answered
    assert state(keyed) == "idle"
    replies = alice.say(f"/calendar caldav {radicale.url} {radicale.username}")  # again
    assert replies[-1].secret is not None and state(keyed) == "calendar_password"


def test_on_telegram_a_password_starting_with_a_slash_is_the_password(
    keyed: Database,
    schemes: dict[str, Scheme],
    clock: Clock,
    slash_radicale: RadicaleServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    chat = member(keyed, schemes, clock, "telegram")
    chat.say(f"/calendar caldav {slash_radicale.url} {slash_radicale.username}")
    typed = Incoming.text_of(chat.identity, SLASH_PASSWORD, dedupe_key="u10")
    assert typed.kind == Kind.COMMAND  # as Telegram's adapter reads it
    replies = chat.send(typed)
    assert replies[0].scrub_incoming
    assert "The password works" in chat.text and "I don't know" not in chat.text
    chat.press("Work")
    (feed,) = rows(keyed, "calendarfeed")
    assert accounts.read_secret(keyed.secrets, bytes(feed["secret"])) == SLASH_PASSWORD
    assert SLASH_PASSWORD not in raw_values(keyed) and SLASH_PASSWORD not in caplog.text
    assert SLASH_PASSWORD[1:].lower() not in caplog.text.lower()


@pytest.mark.parametrize("typed", ["/cancel", "/help"])
def test_at_the_password_step_known_commands_still_work(
    keyed: Database, schemes: dict[str, Scheme], clock: Clock, typed: str
) -> None:
    chat = member(keyed, schemes, clock, "telegram")
    chat.say("/calendar caldav https://caldav.example.org/ alice")
    replies = chat.say(typed)
    assert all(r.account is None and not r.scrub_incoming for r in replies)
    if typed == "/cancel":
        assert "no calendar was connected" in chat.text and state(keyed) == "idle"
    else:
        assert "/log" in chat.text and state(keyed) == "calendar_password"


def test_the_password_step_waits_as_long_as_the_calendars_offered() -> None:
    from bot.dialogue.flows.calendar_accounts import PASSWORD_FOR
    from bot.services.calendar_signin import PICK_FOR

    assert PASSWORD_FOR == PICK_FOR == timedelta(minutes=15)

"""What a member reads when connecting a CalDAV calendar goes wrong (issue 15 review):
CalDAV's own words (no ICS-feed wording), an http:// address refused before the password
is asked, the app-password hint only where it applies. The real engine and database (and a
real Radicale on 127.0.0.1 for a refused password); both databases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text as sql

from bot.core.model import IdentityKey, Incoming, Kind
from bot.core.schemes import Scheme
from bot.services.engine import Engine
from storage.db import Database
from storage.secrets import SecretBox
from tests.conftest import Chat, Clock
from tests.radicale_server import RadicaleServer

KEY = "OnQPHixGLtihF5N25svYBjI-As5tmrYvOZrdukmbqvg="


@pytest.fixture
def keyed(db: Database) -> Iterator[Database]:
    db.secrets = SecretBox(KEY)
    yield db
    db.secrets = SecretBox(None)  # the PostgreSQL database object is shared by tests


def member(db: Database, schemes: dict[str, Scheme], clock: Clock, *, private: bool) -> Chat:
    chat = Chat(
        Engine(db, schemes, clock, allow_private_feeds=private), IdentityKey("console", "alice")
    )
    chat.onboard()
    return chat


def rows(db: Database, table: str) -> list[Any]:
    with db.engine.connect() as conn:
        return list(conn.execute(sql(f"SELECT * FROM {table}")).mappings())


def test_an_http_caldav_address_is_refused_before_the_password_is_asked(
    keyed: Database, schemes: dict[str, Scheme], clock: Clock
) -> None:
    chat = member(keyed, schemes, clock, private=False)
    replies = chat.say("/calendar caldav http://caldav.example.org/dav alice")
    assert "A CalDAV server needs an https:// address" in chat.text
    assert "unencrypted" in chat.text
    assert all(r.secret is None for r in replies)  # no password asked
    assert rows(keyed, "conversation")[0]["state"] == "idle"


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("/calendar caldav ftp://caldav.example.org/ alice", "can be used for a CalDAV server"),
        (
            "/calendar caldav https://alice:pw@caldav.example.org/ alice",
            "the user name comes after the address",
        ),
        ("/calendar caldav https://10.1.2.3/dav alice", "cannot be used as a CalDAV server"),
    ],
)
def test_refused_caldav_addresses_are_explained_in_caldav_words(
    keyed: Database, schemes: dict[str, Scheme], clock: Clock, typed: str, said: str
) -> None:
    chat = member(keyed, schemes, clock, private=False)
    chat.say(typed)
    assert "can't use that server address" in chat.text and said in chat.text
    assert "feed" not in chat.text and "ICS" not in chat.text


def test_nextcloud_without_an_address_says_where_the_address_goes(
    keyed: Database, schemes: dict[str, Scheme], clock: Clock
) -> None:
    chat = member(keyed, schemes, clock, private=False)
    replies = chat.say("/calendar nextcloud bob")
    assert chat.text == (
        "Nextcloud needs your server's address: /calendar nextcloud https://cloud.example.org bob"
    )
    assert all(r.secret is None for r in replies)


def test_the_app_password_hint_is_given_for_icloud_only(
    keyed: Database, schemes: dict[str, Scheme], clock: Clock
) -> None:
    chat = member(keyed, schemes, clock, private=False)
    chat.say("/calendar icloud ada@icloud.com")
    assert "app-specific password: appleid.apple.com" in chat.text
    chat.say("/cancel")
    chat.say("/calendar caldav https://dav.example.org/ alice")
    assert chat.text.startswith("Now the password for alice at dav.example.org. I keep it")
    assert "app-specific" not in chat.text and "iCloud" not in chat.text


def test_after_a_refused_password_the_question_is_asked_again_not_anew(
    keyed: Database, schemes: dict[str, Scheme], clock: Clock, radicale: RadicaleServer
) -> None:
    chat = member(keyed, schemes, clock, private=True)
    chat.say(f"/calendar caldav {radicale.url} {radicale.username}")
    form = {"password": "not-the-password"}
    replies = chat.send(Incoming(chat.identity, Kind.FORM, form=form, dedupe_key="f1"))
    assert "refused that user name and password" in chat.text
    assert replies[-1].secret is not None
    assert "\nSend the password again for alice at 127.0.0.1." in replies[-1].text
    assert "Now the password" not in chat.text
    assert "iCloud" not in chat.text  # a Radicale, not iCloud: no app-password hint


def test_remove_with_one_calendar_names_just_that_one(
    keyed: Database, schemes: dict[str, Scheme], clock: Clock
) -> None:
    chat = member(keyed, schemes, clock, private=False)
    chat.say("/calendar add https://calendar.example.org/secret/basic.ics")
    chat.say("/calendar remove 5")
    assert chat.text == "Which one? /calendar remove 1 (/calendar list shows it)."

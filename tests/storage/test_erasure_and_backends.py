"""Issue 12, items 3 and 5: erasure leaves nothing behind (inbox, SQLite file and WAL), and
SQLite and PostgreSQL take the same input the same way (NUL, lengths at the edges, no
message text in the logs)."""

from __future__ import annotations

import io
import json
import logging
import sqlite3
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from adapters import console
from bot.core.model import IdentityKey, Incoming
from bot.core.schemes import SchemeError, load_scheme_file
from bot.dialogue.flows import calendar_flow
from bot.services import records
from bot.services.engine import Engine
from bot.services.intake import Inbox
from cpdbot import cli
from storage import inbox, rights
from storage.db import Database
from storage.models import Entry, Identity, InboxUpdate, Person
from tests.adapters.test_telegram import onboard, running
from tests.conftest import Chat, Clock
from tests.fake_telegram import FakeTelegram

MARKER = "Qv7Marker"  # typed by the person who is forgotten, and nowhere else


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram().start()
    yield server
    await server.close()


def sqlite_bytes(db: Database) -> bytes:
    """The SQLite database file and its write-ahead log, as they are on disk."""
    path = Path(db.engine.url.database or "")
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


# ---------------------------------------------------------------- item 3: erasure


def test_forget_leaves_no_byte_of_what_was_typed(chat: Chat, db: Database) -> None:
    chat.say(f"/log 1.5h webinar on {MARKER} safety yesterday #events")
    chat.say(f"{MARKER} boundaries")
    chat.say("later")
    chat.say(f"/calendar keywords {MARKER}")
    with db.transaction() as s:
        assert s.exec(select(Entry)).one().title.endswith(f"{MARKER} safety")
    if db.is_sqlite:
        assert MARKER.encode() in sqlite_bytes(db)  # the check below can see it
    chat.say("/forget")
    chat.press("Erase everything")
    assert "no longer hold anything" in chat.text
    with db.transaction() as s:
        assert s.exec(select(func.count()).select_from(Person)).one() == 0
    if db.is_sqlite:
        held = sqlite_bytes(db)
        assert MARKER.encode() not in held and MARKER.lower().encode() not in held


@pytest.mark.parametrize("mode", ["polling"])
async def test_forget_erases_the_persons_raw_updates_from_the_inbox(
    fake: FakeTelegram, engine: Engine, db: Database, mode: str
) -> None:
    alice = fake.user(first_name=f"Ada {MARKER}")
    bob = fake.user(4242, "Bob")
    async with running(engine, fake, mode):
        await onboard(bob)
        await onboard(alice)
        await alice.say(f"/log 1.5h webinar on {MARKER} yesterday", until="Reflection 1/2")
        echo = f"Got it: 'Webinar on {MARKER}' · yesterday · 1 h 30 · Events and seminars."
        assert echo in fake.texts(alice.id)
        await alice.say(f"{MARKER} boundaries", until="Reflection 2/2")
        await alice.say("skip", until="Saved #1")
        await alice.say("/forget", until="Erase everything")
        await alice.tap("Erase everything", until="no longer hold anything")
    with db.transaction() as s:
        rows = s.exec(select(InboxUpdate)).all()
        assert rows and all(r.done_at is not None for r in rows)  # Bob's
        assert {r.sender for r in rows} == {f"telegram::{bob.id}"}
        # Handled updates keep their id (a late repeat is still recognised), not their text.
        assert [r.payload for r in rows if MARKER in r.payload or "Ada" in r.payload] == []
    if db.is_sqlite:
        assert MARKER.encode() not in sqlite_bytes(db)


async def _inline(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


async def test_handled_updates_are_pruned_within_hours_not_after_a_thousand(
    db: Database, clock: Clock
) -> None:
    run: Callable[..., Awaitable[Any]] = _inline
    box = Inbox(db, clock, "telegram", run)
    assert await box.record([("1", '{"text": "hello"}')]) == ["1"]
    box.finish("1")
    await box.flush()
    with db.transaction() as s:
        (row,) = s.exec(select(InboxUpdate)).all()
        assert row.done_at is not None and row.payload == ""  # the text goes when handled
    clock.now += timedelta(days=3)
    assert await box.record([("2", "{}")]) == ["2"]
    box.finish("2")
    await box.flush()
    with db.transaction() as s:
        assert [r.key for r in s.exec(select(InboxUpdate)).all()] == ["2"]


# ---------------------------------------------------------------- item 5: both databases


def test_nul_and_controls_in_a_log_line_and_reflections_are_saved_stripped(
    chat: Chat, db: Database
) -> None:
    chat.say("/log 1.5h web\x00inar on arc\x1b-flash yesterday #events")
    chat.say("PPE\x00 categories\u202e")
    chat.say("Check\x07 labels")
    assert "Saved #1" in chat.text
    record = chat.engine.record(chat.identity, 2026)
    assert record is not None
    (entry,) = record.entries
    assert entry.title == "Webinar on arc-flash"
    assert [r.answer for r in entry.reflections] == ["PPE categories", "Check labels"]


def test_a_guided_draft_with_nul_can_be_saved(chat: Chat) -> None:
    chat.say("/log")
    chat.say("Arc\x00 flash course")
    chat.say("yesterday")
    chat.say("2h")  # "course" in the title sets the category: no question
    assert "Got it: 'Arc flash course' · yesterday · 2 h · Training courses." in chat.text
    assert "Reflection 1/2" in chat.text
    chat.say("Boundaries\x00")
    chat.say("later")
    assert "Saved #1" in chat.text
    record = chat.engine.record(chat.identity, 2026)
    assert record is not None and [e.title for e in record.entries] == ["Arc flash course"]


def test_thirty_long_calendar_keywords_get_a_clear_reply_and_change_nothing(
    chat: Chat, db: Database
) -> None:
    chat.say("/calendar keywords training")
    words = ", ".join(f"{n:02d}" + "k" * 38 for n in range(30))  # 30 x 40 characters
    chat.say(f"/calendar keywords {words}")
    assert "characters" in chat.text and "Saved" not in chat.text
    with db.transaction() as s:
        assert s.exec(select(Person.calendar_keywords)).one() == "training"
    column = Person.__table__.c.calendar_keywords  # type: ignore[attr-defined]
    assert column.type.length >= calendar_flow.KEYWORDS_TOTAL_MAX


def test_a_scheme_id_longer_than_the_column_is_refused_by_the_loader(tmp_path: Path) -> None:
    source = (
        Path(__file__).resolve().parents[2] / "bot" / "core" / "schemes" / "data" / "generic.toml"
    )
    long_id = "x" * 65
    text = source.read_text(encoding="utf-8").replace('id = "generic"', f'id = "{long_id}"', 1)
    path = tmp_path / f"{long_id}.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemeError, match="64"):
        load_scheme_file(path)
    assert Person.__table__.c.scheme_id.type.length == 64  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "user", ["u" * 129, "slack:" + "T" * 65 + ":U1", "telegram:" + "9" * 129, "bad\x00name"]
)
def test_an_overlong_or_unsafe_user_is_one_clear_error_line(
    user: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["export", "--user", user, "--format", "csv", "--db", f"sqlite:///{tmp_path}/x"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--user" in err and ("characters" in err or "control" in err)
    assert "Traceback" not in err


def test_a_database_error_logs_no_message_text(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    entry = Entry(
        person_id=999_999,  # no such person: the foreign key refuses the row
        number=1,
        title=f"my {MARKER} title",
        activity_date=Clock().now.date(),
        minutes=60,
        category="x",
        created_at=Clock().now,
        updated_at=Clock().now,
    )
    try:
        with db.transaction() as s:
            s.add(entry)
    except Exception as exc:  # each backend raises its own IntegrityError
        logging.getLogger("cpdbot").exception("engine failed")  # as the adapters log it
        failed = exc
    else:
        raise AssertionError("the row should have been refused")
    assert MARKER not in str(failed)
    assert MARKER not in caplog.text


def test_identity_and_person_columns_match_the_cli_limits() -> None:
    columns = Identity.__table__.c  # type: ignore[attr-defined]
    assert columns.user_id.type.length == cli.USER_ID_MAX
    assert columns.workspace.type.length == cli.WORKSPACE_MAX
    assert IdentityKey.parse("slack:T1:U1").workspace == "T1"


def test_export_all_says_what_is_held_outside_the_tables_and_for_how_long(
    chat: Chat, db: Database, schemes: dict[str, Any]
) -> None:
    chat.say("/log 1h reading on earthing yesterday #self_study")
    data = records.export_all(db, chat.identity, schemes, now=Clock().now)
    assert data is not None
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        everything = json.loads(archive.read("data.json"))
        readme = archive.read("README.txt").decode()
    held = everything["held_elsewhere"]
    assert "until it is handled" in held["inbox"] and "2 days" in held["inbox"]
    assert "held_elsewhere" in readme


def test_forget_erases_every_inbox_row_of_the_person_and_export_all_shows_them(
    engine: Engine, db: Database, schemes: dict[str, Any]
) -> None:
    alice = Chat(engine, IdentityKey("telegram", "111"))
    alice.onboard()
    now = Clock().now
    with db.transaction() as s:
        inbox.record(
            s,
            "telegram",
            [("900", f'{{"text": "{MARKER} still queued"}}'), ("901", '{"text": "bob here"}')],
            now=now,
            senders={"900": IdentityKey("telegram", "111"), "901": IdentityKey("telegram", "222")},
        )
    data = records.export_all(db, alice.identity, schemes, now=now)
    assert data is not None
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        held = json.loads(archive.read("data.json"))["tables"]["inboxupdate"]
    assert [(r["key"], MARKER in r["payload"]) for r in held] == [("900", True)]

    alice.say("/forget")
    alice.press("Erase everything")
    with db.transaction() as s:
        rows = {r.key: r for r in s.exec(select(InboxUpdate)).all()}
    assert "900" not in rows  # hers, erased in the same transaction
    assert rows["901"].payload == '{"text": "bob here"}' and rows["901"].done_at is None
    if db.is_sqlite:
        assert MARKER.encode() not in sqlite_bytes(db)


def test_a_name_with_nul_from_the_platform_is_stored_stripped(engine: Engine, db: Database) -> None:
    who = IdentityKey("telegram", "5")
    replies = engine.handle_sync(Incoming.text_of(who, "/start", display_name="Ada\x00 L\u202e"))
    assert "Which professional body" in "\n".join(r.text for r in replies)
    with db.transaction() as s:
        assert s.exec(select(Person.display_name)).one() == "Ada L"


async def test_the_console_takes_nul_and_escape_characters_on_both_databases(
    engine: Engine, db: Database
) -> None:
    lines = ["/start", "IET", "Europe/London", "/log 2h site\x00 visit\x1b[31m yesterday #events"]
    lines += ["PPE\x00", "later", "/status"]
    out = io.StringIO()
    await console.chat(engine.handle, "carol", io.StringIO("\n".join(lines) + "\n"), out)
    # The NUL and the whole colour code go: nothing of '\x1b[31m' is left to read as 31 min
    assert "Saved #1: Site visit · yesterday · 2 h" in out.getvalue()
    with db.transaction() as s:
        assert s.exec(select(Entry.title)).one() == "Site visit"


async def test_a_telegram_draft_with_nul_is_saved_stripped(
    fake: FakeTelegram, engine: Engine, db: Database
) -> None:
    alice = fake.user()
    async with running(engine, fake, "polling"):
        await onboard(alice)
        await alice.say("/log", until="What did you do?")
        await alice.say("Arc\x00 flash\u200b course", until="When was it?")
        await alice.tap("Yesterday", until="How long")
        await alice.say("2h", until="Reflection 1/2")  # "course": the category is inferred
        echo = "Got it: 'Arc flash course' · yesterday · 2 h · Training courses."
        assert echo in fake.texts(alice.id)
        await alice.say("Boundaries\x00", until="Reflection 2/2")
        await alice.say("skip", until="Saved #1")
    with db.transaction() as s:
        assert s.exec(select(Entry.title)).one() == "Arc flash course"


def test_an_erasure_stands_when_the_log_cannot_be_emptied_at_once(
    chat: Chat, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def busy(_engine: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(rights, "truncate_wal", busy)
    chat.say("/forget")
    chat.press("Erase everything")
    assert "no longer hold anything" in chat.text
    with db.transaction() as s:
        assert s.exec(select(func.count()).select_from(Person)).one() == 0

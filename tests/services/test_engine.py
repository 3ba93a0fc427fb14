"""The engine on a real SQLite file: transactions, restarts, concurrency, privacy."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import func, select

from bot.core.export import read_csv, read_json, to_csv, to_json
from bot.core.model import IdentityKey, Incoming, Kind, ReflectionView
from bot.core.schemes import Scheme
from bot.services.engine import Engine
from storage import entry_store, repo
from storage.db import Database
from storage.models import Conversation, Entry, Identity, Person, ProcessedEvent, Reflection
from tests.conftest import Chat, Clock


def entries(db: Database) -> list[Entry]:
    with db.transaction() as s:
        return list(s.exec(select(Entry).order_by(Entry.id)).all())


def reflections(db: Database, entry_id: int) -> dict[str, str | None]:
    with db.transaction() as s:
        rows = s.exec(select(Reflection).where(Reflection.entry_id == entry_id)).all()
        return {r.question_id: r.answer for r in rows}


def log_full(
    chat: Chat, line: str = "/log 1.5h webinar on arc-flash safety yesterday #events"
) -> None:
    chat.say(line)
    chat.say("Arc-flash PPE ratings and labels")
    chat.say("I will check the panel labels before isolating")


def test_one_line_entry_is_stored_with_every_field(chat: Chat, db: Database) -> None:
    log_full(chat)
    assert (
        "Saved #1: Webinar on arc-flash safety · yesterday · 1 h 30 · Events and seminars"
        in chat.text
    )
    (entry,) = entries(db)
    assert (entry.title, entry.activity_date, entry.minutes, entry.category) == (
        "Webinar on arc-flash safety",
        date(2026, 11, 21),
        90,
        "events_and_seminars",
    )
    assert entry.created_at.tzinfo is not None and entry.deleted_at is None
    assert reflections(db, entry.id or 0) == {
        "key_points": "Arc-flash PPE ratings and labels",
        "change": "I will check the panel labels before isolating",
    }


def test_guided_entry_with_button_presses(chat: Chat, db: Database) -> None:
    chat.say("/log")
    chat.say("New wiring regulations")  # no category word: the category is asked
    chat.press("Yesterday")
    chat.press("1 h 30")
    assert "Which category?" in chat.text
    chat.press("Self-study")
    assert "Got it: 'New wiring regulations' · yesterday · 1 h 30 · Self-study." in chat.text
    chat.say("Chapter 5 changes")
    chat.press("Later")
    assert "Saved #1" in chat.text and "1 reflection left for later" in chat.text
    (entry,) = entries(db)
    assert (entry.minutes, entry.category, entry.activity_date) == (
        90,
        "self_study",
        date(2026, 11, 21),
    )
    assert reflections(db, entry.id or 0) == {"key_points": "Chapter 5 changes", "change": None}


def test_restart_mid_dialogue_continues(
    db: Database, schemes: dict[str, Scheme], clock: Clock
) -> None:
    first = Chat(Engine(db, schemes, clock), IdentityKey("console", "bob"))
    first.onboard()
    first.say("/log 2h site visit with contractor yesterday")
    assert "Which category?" in first.text
    # A new process: a new engine and a new connection pool on the same file.
    db2 = Database(db.url)
    second = Chat(Engine(db2, schemes, clock), IdentityKey("console", "bob"))
    second.say("work experience")
    assert "Reflection 1/2" in second.text
    second.say("later")
    assert "Saved #1: Site visit with contractor" in second.text
    db2.dispose()


def test_cancel_keeps_nothing_half_saved(chat: Chat, db: Database) -> None:
    chat.say("/log 2h site visit yesterday #work")
    chat.say("Safety briefing")
    chat.say("/cancel")
    assert "Nothing was saved" in chat.text
    assert entries(db) == []


def test_undo_button_removes_the_entry_and_undo_again_restores_nothing(
    chat: Chat, db: Database
) -> None:
    log_full(chat)
    chat.press("Undo")
    assert "Undone: #1" in chat.text
    (entry,) = entries(db)
    assert entry.deleted_at is not None
    chat.say("/list")
    assert "No entries yet" in chat.text
    chat.say("/undo")
    assert "nothing to undo" in chat.text


def test_delete_then_undo_restores(chat: Chat, db: Database) -> None:
    log_full(chat)
    chat.say("/delete 1")
    chat.press("Delete")
    assert entries(db)[0].deleted_at is not None
    chat.say("/undo")
    assert "is back" in chat.text
    assert entries(db)[0].deleted_at is None


def test_edit_every_kind_of_field_then_undo(chat: Chat, db: Database) -> None:
    log_full(chat)
    chat.say("/edit 1")
    chat.press("Hours")
    chat.say("2h")
    chat.press("Date")
    chat.say("3 Nov")
    chat.press("Category")
    chat.press("Training courses")
    chat.press("Reflection 2")
    chat.say("Plan a refresher course")
    chat.press("Title")
    chat.say("Arc-flash webinar (IET)")
    chat.press("Done")
    entry = entries(db)[0]
    assert (entry.minutes, entry.activity_date, entry.category, entry.title) == (
        120,
        date(2026, 11, 3),
        "training_courses",
        "Arc-flash webinar (IET)",
    )
    assert reflections(db, entry.id or 0)["change"] == "Plan a refresher course"
    chat.say("/undo")
    entry = entries(db)[0]
    assert (entry.minutes, entry.activity_date, entry.category, entry.title) == (
        90,
        date(2026, 11, 21),
        "events_and_seminars",
        "Webinar on arc-flash safety",
    )
    assert (
        reflections(db, entry.id or 0)["change"] == "I will check the panel labels before isolating"
    )


def test_reflect_later_fills_pending_answers(chat: Chat, db: Database) -> None:
    chat.say("/log 1h reading BS 7671 yesterday #reading")
    chat.say("later")
    chat.say("/status")
    assert "1 with reflections pending" in chat.text
    chat.say("/reflect")
    assert "Reflecting on #1" in chat.text
    chat.say("Earthing changes")
    chat.say("Update our checklist")
    assert "reflections saved for #1" in chat.text
    chat.say("/status")
    assert "all reflections done" in chat.text


def test_one_person_never_sees_anothers_record(engine: Engine, chat: Chat, db: Database) -> None:
    log_full(chat)
    mallory = Chat(engine, IdentityKey("console", "mallory"))
    mallory.onboard()
    for command in ("/edit 1", "/delete 1", "/reflect 1"):
        mallory.say(command)
        assert "no entry #1" in mallory.text
        assert "arc-flash" not in mallory.text.lower()
    mallory.say("/list")
    assert "No entries yet" in mallory.text
    mallory.say("/status")
    assert "0 min" in mallory.text
    assert entries(db)[0].deleted_at is None


def test_same_user_id_on_two_platforms_is_two_people(engine: Engine, db: Database) -> None:
    a = Chat(engine, IdentityKey("slack", "U1", "T1"))
    b = Chat(engine, IdentityKey("slack", "U1", "T2"))
    a.onboard()
    b.onboard()
    log_full(a)
    b.say("/list")
    assert "No entries yet" in b.text


def test_duplicate_update_is_processed_once(engine: Engine, db: Database) -> None:
    me = IdentityKey("telegram", "42")
    Chat(engine, me).onboard()
    event = Incoming.text_of(me, "/log 1h webinar yesterday #events", dedupe_key="update-1001")
    first = engine.handle_sync(event)
    engine.delivered(
        event
    )  # the adapter sent the replies (tests/services/test_replies.py: lost ones)
    again = engine.handle_sync(event)
    assert first and again == []
    with db.transaction() as s:
        conv = s.exec(select(Conversation)).one()
        assert conv.state == "log_reflect"
        assert s.exec(select(func.count()).select_from(ProcessedEvent)).one() == 1


def test_writing_again_makes_a_person_who_blocked_the_bot_reachable(
    engine: Engine, db: Database
) -> None:
    me = IdentityKey("telegram", "42")
    Chat(engine, me).onboard()
    with db.transaction() as s:
        identity = s.exec(select(Identity)).one()
        identity.chat_id, identity.unreachable = "42", True  # they had blocked the bot
    engine.handle_sync(Incoming.text_of(me, "/status", chat_id="4242"))
    with db.transaction() as s:
        identity = s.exec(select(Identity)).one()
        assert (identity.chat_id, identity.unreachable) == ("4242", False)
        identity.unreachable = True  # blocked again, then unblocked: the same chat as before
    engine.handle_sync(Incoming.text_of(me, "/status", chat_id="4242"))
    with db.transaction() as s:
        identity = s.exec(select(Identity)).one()
        assert (identity.chat_id, identity.unreachable) == ("4242", False)


def test_dates_are_read_as_of_when_the_person_wrote(
    engine: Engine, db: Database, clock: Clock
) -> None:
    me = IdentityKey("telegram", "42")
    Chat(engine, me).onboard()  # London
    clock.now = datetime(2026, 11, 23, 0, 20, tzinfo=UTC)  # the update arrives after midnight
    written = datetime(2026, 11, 22, 23, 40, tzinfo=UTC)  # ... but was sent before it
    engine.handle_sync(
        Incoming.text_of(me, "/log 1h webinar on earthing yesterday #events", sent_at=written)
    )
    engine.handle_sync(Incoming.text_of(me, "Later"))
    # A clock ahead of ours (skew) changes nothing: the engine's own time is the limit.
    ahead = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    engine.handle_sync(Incoming.text_of(me, "/log 2h course today #training", sent_at=ahead))
    engine.handle_sync(Incoming.text_of(me, "Later"))
    assert [(e.activity_date, e.created_at) for e in entries(db)] == [
        (date(2026, 11, 21), clock.now),  # the day before the 22nd; stored at our time
        (date(2026, 11, 23), clock.now),
    ]


def test_settings_written_are_what_a_loaded_person_reads(db: Database) -> None:
    now = datetime(2026, 11, 22, 10, tzinfo=UTC)
    with db.transaction() as s:
        _, person, _ = repo.get_or_create_identity(s, IdentityKey("console", "ada"), now=now)
        assert person.id is not None and person.timezone == "UTC"
        repo.update_person(s, person.id, {"timezone": "Europe/Paris", "nudge_hour": 7})
        assert (person.timezone, person.nudge_hour) == ("Europe/Paris", 7)
        with pytest.raises(ValueError, match="not a person field: last_entry_number"):
            repo.update_person(s, person.id, {"last_entry_number": 99})
    with db.transaction() as s:
        stored = s.get(Person, person.id)
        assert stored is not None and (stored.timezone, stored.last_entry_number) == (
            "Europe/Paris",
            0,
        )


def test_saving_an_entry_moves_the_counter_of_a_person_already_loaded(db: Database) -> None:
    now = datetime(2026, 11, 22, 10, tzinfo=UTC)
    with db.transaction() as s:
        _, person, _ = repo.get_or_create_identity(s, IdentityKey("console", "ada"), now=now)
        assert person.id is not None and person.last_entry_number == 0
        entry_id = entry_store.create_entry(
            s,
            person.id,
            number=7,
            title="Site visit",
            activity_date=date(2026, 11, 20),
            minutes=90,
            category="work_experience",
            structured=True,
            source="chat",
            reflections=[ReflectionView("learned", "What did you learn?", "Earthing")],
            now=now,
        )
        assert person.last_entry_number == 7  # read again from the database
        entry_store.create_entry(
            s,
            person.id,
            number=3,  # an older number (an import): the counter stays
            title="Webinar",
            activity_date=date(2026, 11, 1),
            minutes=60,
            category="events",
            structured=True,
            source="import",
            reflections=[],
            now=now,
        )
        assert person.last_entry_number == 7
    assert reflections(db, entry_id) == {"learned": "Earthing"}


def test_concurrent_events_for_one_conversation_are_serialised(
    engine: Engine, db: Database
) -> None:
    me = IdentityKey("console", "carol")
    Chat(engine, me).onboard()
    # Eight quick entries arrive at once for the same person: every one is saved,
    # with distinct numbers, and the conversation version counts every event.
    lines = [f"/log {i}h course part {i} yesterday #training" for i in range(1, 9)]
    barrier = threading.Barrier(len(lines))
    errors: list[BaseException] = []

    def send(line: str) -> None:
        barrier.wait()
        try:
            engine.handle_sync(Incoming.text_of(me, line))
            engine.handle_sync(Incoming.text_of(me, "later"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(line,)) for line in lines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with db.transaction() as s:
        conv = s.exec(select(Conversation)).one()
        saved = s.exec(select(Entry)).all()
    # Each "later" saves whichever draft is open; a /log that finds a draft open is refused
    # with a clear message. Nothing is half-saved and numbers never collide.
    numbers = sorted(e.number for e in saved)
    assert numbers == list(range(1, len(saved) + 1))
    assert len(saved) >= 1
    assert conv.version == 3 + 2 * len(lines)  # onboarding (3 events) + 16 events


def test_concurrent_users_each_get_their_entry(engine: Engine, db: Database) -> None:
    users = [IdentityKey("console", f"user{i}") for i in range(12)]
    for u in users:
        Chat(engine, u).onboard()
    barrier = threading.Barrier(len(users))

    def work(u: IdentityKey) -> None:
        barrier.wait()
        engine.handle_sync(Incoming.text_of(u, "/log 1h webinar yesterday #events"))
        engine.handle_sync(Incoming(u, Kind.CHOICE, choice="r:later"))

    threads = [threading.Thread(target=work, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(entries(db)) == len(users)


def test_telegram_style_identity_keeps_chat_id(engine: Engine, db: Database) -> None:
    me = IdentityKey("telegram", "777")
    engine.handle_sync(Incoming.text_of(me, "/start", chat_id="777"))
    with db.transaction() as s:
        identity = s.exec(select(Identity)).one()
    assert identity.chat_id == "777"


def test_platform_time_zone_becomes_the_default(engine: Engine) -> None:
    me = IdentityKey("slack", "U9", "T9")
    chat = Chat(engine, me, timezone_hint="America/Chicago")
    chat.say("/start")
    chat.press("IES")
    assert chat.replies[-1].choices[0].label == "America/Chicago"


@pytest.mark.parametrize("exporter,reader", [("json", "json"), ("csv", "csv")])
def test_export_round_trip(
    chat: Chat, engine: Engine, clock: Clock, exporter: str, reader: str
) -> None:
    log_full(chat)
    chat.say("/log 2h site visit with contractor 3 Nov #work")
    chat.say('Trench shoring, "permit to dig", and a comma')
    chat.say("skip")
    chat.say("/log 45m reading IET Wiring Matters 1/1 #reading")
    chat.say("later")
    clock.now += timedelta(minutes=5)
    record = engine.record(IdentityKey("console", "alice"))
    assert record is not None and len(record.entries) == 3
    data = to_json(record) if exporter == "json" else to_csv(record)
    back = read_json(data) if reader == "json" else read_csv(data, record.scheme)
    assert back == list(record.entries)
    assert record.total_minutes == 90 + 120 + 45


def test_csv_lists_totals_and_subtotals(chat: Chat, engine: Engine) -> None:
    log_full(chat)
    chat.say("/log 2h site visit 3 Nov #work")
    chat.say("later")
    record = engine.record(IdentityKey("console", "alice"))
    assert record is not None
    text = to_csv(record).decode("utf-8-sig")
    assert "Total CPD year 2026,3.5" in text
    assert "Sub-total: Events and seminars,1.5" in text
    assert "Sub-total: Work experience,2" in text
    assert "What were the key points" in text.splitlines()[0]


def test_export_by_year_uses_the_cpd_year(chat: Chat, engine: Engine) -> None:
    chat.say("/log 1h webinar 3 March 2025 #events")
    assert "in your 2025 CPD year, not 2026. Log it there?" in chat.text
    chat.press("Yes, 2025")
    chat.say("later")
    log_full(chat)
    this_year = engine.record(IdentityKey("console", "alice"))
    last_year = engine.record(IdentityKey("console", "alice"), 2025)
    assert this_year and last_year
    assert [e.activity_date.year for e in this_year.entries] == [2026]
    assert [e.activity_date for e in last_year.entries] == [date(2025, 3, 3)]


def test_a_group_message_stores_nothing_about_anyone(engine: Engine, db: Database) -> None:
    someone = IdentityKey("telegram", "555")
    event = Incoming.text_of(someone, "/status", private=False, display_name="Sam Smith")
    (reply,) = engine.handle_sync(event)
    assert "private" in reply.text
    with db.transaction() as s:
        assert s.exec(select(func.count()).select_from(Identity)).one() == 0
        assert s.exec(select(func.count()).select_from(Conversation)).one() == 0

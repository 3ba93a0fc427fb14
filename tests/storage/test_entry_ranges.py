"""Multi-day entries and a person's own day length are stored (migration 0006, issue 13):
an entry's last day and a person's "full day" are written, read back by every reader, and
rows recorded before the migration read exactly as they did."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session

from bot.core.model import EntryView, IdentityKey, ReflectionView, SaveEntry, UpdateEntry
from bot.core.schemes import Scheme
from bot.services.engine import Engine
from storage import conversations, entry_store, migrate, recipients, repo, tally
from storage.db import Database
from tests.conftest import PG_REQUIRED, Chat, Clock, drop_pg_schema, pg_schema_url

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
ADA = IdentityKey("console", "ada")


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database with no tables: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'empty.db'}")
        yield database
        database.dispose()
        return
    schema = f"cpdbot_rng_{os.getpid()}_{abs(hash(request.node.name)) % 10**8}"
    try:
        url = pg_schema_url(schema)
    except Exception as exc:
        if PG_REQUIRED:
            pytest.fail(f"PostgreSQL required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    database = Database(url)
    yield database
    database.dispose()
    drop_pg_schema(schema)


def test_upgrade_to_0006_keeps_entries_one_day_and_people_on_the_scheme_day(
    empty_db: Database, schemes: dict[str, Scheme], clock: Clock
) -> None:
    migrate.upgrade(empty_db, "0005")
    now = "2026-11-01 09:00:00"
    with empty_db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO person (id, display_name, full_name, membership_number, timezone,"
                " scheme_id, status_id, date_order, languages, studying_he, onboarded,"
                " nudge_day, nudge_hour, nudges_enabled, nudge_mode, calendar_all_events,"
                " last_entry_number, created_at) VALUES (1, 'Ada', '', '', 'Europe/London',"
                " 'iet', 'active', 'DMY', 'en', false, true, 1, 9, true, 'always', false, 1,"
                " :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO identity (id, person_id, platform, workspace, user_id, chat_id,"
                " unreachable, created_at) VALUES (1, 1, 'console', '', 'ada', 'ada', false, :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO entry (id, person_id, number, title, activity_date, minutes, category,"
                " structured, source, created_at, updated_at) VALUES (1, 1, 1, 'Arc-flash webinar',"
                " '2026-10-30', 90, 'events_and_seminars', NULL, 'chat', :now, :now)"
            ),
            {"now": now},
        )

    migrate.upgrade(empty_db)

    assert migrate.current(empty_db) == migrate.head()
    with empty_db.transaction() as session:
        found = repo.find_person(session, ADA)
        assert found is not None and found[1].day_minutes is None
        (entry,) = entry_store.recent_entries(session, 1, 10)
    assert (entry.activity_date, entry.end_date, entry.minutes) == (date(2026, 10, 30), None, 90)
    ada = Chat(Engine(empty_db, schemes, clock), ADA)
    ada.say("/list")
    assert "#1 · Fri 30 Oct · 1 h 30 · Events and seminars · Arc-flash webinar" in ada.text

    migrate.upgrade(empty_db, "0005")  # the downgrade drops both columns, keeps the rows
    with empty_db.engine.connect() as conn:
        assert conn.execute(text("SELECT title FROM entry")).scalar_one() == "Arc-flash webinar"


def _save(session: Session, person_id: int, number: int, start: date, end: date | None) -> None:
    entry_store.create_entry(
        session,
        person_id,
        number=number,
        title=f"Entry {number}",
        activity_date=start,
        end_date=end,
        minutes=14 * 60 if end else 60,
        category="events_and_seminars",
        structured=True,
        source="chat",
        reflections=(ReflectionView("key_points", "Key points?", None),),
        now=NOW,
    )


def _person(db: Database) -> int:
    with db.transaction() as session:
        _, person, _ = repo.get_or_create_identity(session, ADA, now=NOW)
        repo.update_person(session, person.id or 0, {"onboarded": True, "scheme_id": "iet"})
        assert person.id is not None
        return person.id


def test_every_reader_gives_back_the_last_day(db: Database) -> None:
    pid = _person(db)
    with db.transaction() as session:
        _save(session, pid, 1, date(2026, 11, 14), date(2026, 11, 15))
        _save(session, pid, 2, date(2026, 11, 16), None)
    want = {1: date(2026, 11, 15), 2: None}

    def ends(views: list[EntryView]) -> dict[int, date | None]:
        return {v.number: v.end_date for v in views}

    with db.transaction() as session:
        assert ends(entry_store.recent_entries(session, pid, 10)) == want
        between = entry_store.entries_between(session, pid, date(2026, 1, 1), date(2027, 1, 1))
        assert ends(between) == want
        view = entry_store.entry_view(session, pid, 1)
        assert view is not None and view.end_date == date(2026, 11, 15)
        pending = entry_store.oldest_pending(session, pid)
        assert pending is not None and pending.end_date == date(2026, 11, 15)
        counted = tally.year_tally(
            session, pid, date(2026, 1, 1), date(2027, 1, 1), questions=("key_points",)
        )
        assert ends(list(counted.unanswered)) == want
        # The year's minutes are the entry's minutes, not its minutes on each day.
        assert counted.minutes == {("events_and_seminars", True): 14 * 60 + 60}


def test_a_range_belongs_to_the_cpd_year_of_its_first_day(db: Database) -> None:
    pid = _person(db)
    with db.transaction() as session:
        _save(session, pid, 1, date(2025, 12, 31), date(2026, 1, 1))
    with db.transaction() as session:
        in_2025 = entry_store.entries_between(session, pid, date(2025, 1, 1), date(2026, 1, 1))
        in_2026 = entry_store.entries_between(session, pid, date(2026, 1, 1), date(2027, 1, 1))
    assert [(e.number, e.end_date) for e in in_2025] == [(1, date(2026, 1, 1))]
    assert in_2026 == []


def test_engine_stores_save_and_update_of_the_last_day(
    db: Database, schemes: dict[str, Scheme], clock: Clock
) -> None:
    engine = Engine(db, schemes, clock)
    pid = _person(db)
    save = SaveEntry(
        number=1,
        title="Conference",
        activity_date=date(2026, 11, 14),
        minutes=14 * 60,
        category="events_and_seminars",
        structured=True,
        source="chat",
        reflections=(),
        end_date=date(2026, 11, 15),
    )
    with db.transaction() as session:
        engine._apply(session, pid, save, NOW)
    with db.transaction() as session:
        view = entry_store.entry_view(session, pid, 1)
    assert view is not None and view.end_date == date(2026, 11, 15)

    with db.transaction() as session:
        engine._apply(session, pid, UpdateEntry(1, {"end_date": None}), NOW)
    with db.transaction() as session:
        view = entry_store.entry_view(session, pid, 1)
    assert view is not None and view.end_date is None


def test_a_persons_day_length_is_stored_and_cleared(db: Database) -> None:
    pid = _person(db)
    with db.transaction() as session:
        repo.update_person(session, pid, {"day_minutes": 450})
    with db.transaction() as session:
        found = repo.find_person(session, ADA)
        who = conversations.who(session, ADA, now=NOW)
        listed = recipients.people(session, [pid])
    assert found is not None and found[1].day_minutes == 450
    assert who.person.day_minutes == 450
    assert listed[pid].day_minutes == 450

    with db.transaction() as session:
        repo.update_person(session, pid, {"day_minutes": None})
    with db.transaction() as session:
        found = repo.find_person(session, ADA)
    assert found is not None and found[1].day_minutes is None

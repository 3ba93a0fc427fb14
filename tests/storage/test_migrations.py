"""Migrations: the migrated schema is the one the code expects, upgrades keep data."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel, select

from bot.core.model import IdentityKey
from bot.core.schemes import Scheme
from bot.services.engine import Engine
from storage import migrate
from storage.backup import backup_sqlite
from storage.db import Database
from storage.models import Entry
from tests.conftest import PG_REQUIRED, Chat, Clock, drop_pg_schema, pg_schema_url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database with no tables at all: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'empty.db'}")
        yield database
        database.dispose()
        return
    schema = f"cpdbot_mig_{os.getpid()}_{abs(hash(request.node.name)) % 10**8}"
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


def differences(db: Database) -> list[object]:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


def test_migrations_build_exactly_the_schema_of_the_code(empty_db: Database) -> None:
    migrate.upgrade(empty_db)
    assert migrate.current(empty_db) == migrate.head()
    assert differences(empty_db) == [], "models changed without a migration: add a revision"


def test_upgrade_from_the_first_revision_keeps_every_row(
    empty_db: Database, schemes: dict[str, Scheme], clock: Clock
) -> None:
    migrate.upgrade(empty_db, "0001")
    now = "2026-11-01 09:00:00"
    with empty_db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO person (id, display_name, timezone, scheme_id, status_id, date_order,"
                " languages, studying_he, onboarded, nudge_day, nudge_hour, nudges_enabled,"
                " nudge_mode, last_entry_number, created_at) VALUES (1, 'Ada', 'Europe/London',"
                " 'iet', 'active', 'DMY', 'en', false, true, 1, 9, true, 'always', 1, :now)"
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
        conn.execute(
            text(
                "INSERT INTO reflection (id, entry_id, question_id, question, answer, answered_at)"
                " VALUES (1, 1, 'key_points', 'Key points?', 'PPE categories', :now)"
            ),
            {"now": now},
        )
    with pytest.raises(migrate.SchemaError, match="cpdbot db upgrade"):
        migrate.ensure_current(empty_db)

    migrate.upgrade(empty_db)

    assert differences(empty_db) == []
    ada = Chat(Engine(empty_db, schemes, clock), IdentityKey("console", "ada"))
    ada.say("/list")
    assert "#1 · Fri 30 Oct · 1 h 30 · Events and seminars · Arc-flash webinar" in ada.text
    ada.say("/log 1h reading BS 7671 yesterday #reading")
    ada.say("later")
    assert "Saved #2" in ada.text


def cpdbot(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "cpdbot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
    )


def test_outdated_schema_is_refused_until_upgraded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(Database(url), "0001")

    refused = cpdbot("chat", "--db", url, cwd=tmp_path, stdin="/help\n")
    assert refused.returncode == 2
    assert "older than this cpdbot" in refused.stderr and "cpdbot db upgrade" in refused.stderr
    assert cpdbot("db", "current", "--db", url, cwd=tmp_path).returncode == 1

    upgraded = cpdbot("db", "upgrade", "--db", url, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"0001 -> {migrate.head()}" in upgraded.stdout
    assert cpdbot("db", "current", "--db", url, cwd=tmp_path).returncode == 0
    works = cpdbot("chat", "--db", url, cwd=tmp_path, stdin="/help\n")
    assert works.returncode == 0 and "Which professional body" in works.stdout


def test_tables_without_migration_record_are_not_touched(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'legacy.db'}")
    db.create_all()
    with pytest.raises(migrate.SchemaError, match="no migration record"):
        migrate.ensure_current(db)


def test_backup_while_the_bot_is_writing(
    sqlite_db: Database, schemes: dict[str, Scheme], clock: Clock, tmp_path: Path
) -> None:
    chat = Chat(Engine(sqlite_db, schemes, clock), IdentityKey("console", "ada"))
    chat.onboard()
    for n in range(5):
        chat.say(f"/log {n + 1}h course part {n} yesterday #training")
        chat.say("later")
    with sqlite_db.transaction() as session:  # a writer holds the database meanwhile
        session.add(
            Entry(
                person_id=1,
                number=99,
                title="uncommitted",
                activity_date=clock.now.date(),
                minutes=5,
                category="self_study",
                created_at=clock.now,
                updated_at=clock.now,
            )
        )
        session.flush()
        size = backup_sqlite(sqlite_db, tmp_path / "backups" / "cpd.db")
    assert size > 0
    copy = sqlite3.connect(tmp_path / "backups" / "cpd.db")
    titles = [row[0] for row in copy.execute("SELECT title FROM entry ORDER BY number")]
    copy.close()
    assert titles == [f"Course part {n}" for n in range(5)]  # committed rows only
    with sqlite_db.transaction() as session:
        assert len(session.exec(select(Entry)).all()) == 6
    with pytest.raises(ValueError, match="must not be the database itself"):
        backup_sqlite(sqlite_db, Path(sqlite_db.url.removeprefix("sqlite:///")))

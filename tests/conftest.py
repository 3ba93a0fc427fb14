"""Shared fixtures: a frozen clock, schemes, a real SQLite database and a chat driver."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from bot.core.model import Choice, IdentityKey, Incoming, Kind, Outgoing
from bot.core.schemes import Scheme, load_schemes
from bot.services.engine import Engine
from storage import migrate
from storage.db import Database, normalise_url
from tests.radicale_server import radicale  # noqa: F401 (a real CalDAV server fixture)

# Third-party test material (recorded payloads, calendars, date phrases), kept in the
# repository byte for byte with its provenance: tests/fixtures/SOURCES.md.
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Sunday 22 November 2026, 10:00 in London (UTC in winter).
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


class Clock:
    """A clock the tests set by hand: time never passes unless a test moves it."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="session")
def schemes() -> dict[str, Scheme]:
    return dict(load_schemes())


@pytest.fixture
def clock() -> Clock:
    return Clock()


# PostgreSQL: the server on this machine (see .ci/run). Each test session works in its
# own schema of the `test` database; tables are emptied between tests.
PG_URL = os.environ.get("CPDBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_REQUIRED = os.environ.get("CPDBOT_REQUIRE_POSTGRES", "") not in ("", "0", "false")
_pg_state: dict[str, object] = {}


def pg_schema_url(schema: str) -> str:
    """Create `schema` afresh in the test PostgreSQL and return a URL whose connections use
    it. Raises when the server cannot be reached."""
    admin = create_engine(normalise_url(PG_URL), connect_args={"connect_timeout": 3})
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    finally:
        admin.dispose()
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


def drop_pg_schema(schema: str) -> None:
    admin = create_engine(normalise_url(PG_URL))
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        admin.dispose()


def _postgres() -> tuple[Database | None, str]:
    """A session-wide PostgreSQL `Database` in a fresh schema, or (None, why not)."""
    if "db" in _pg_state or "error" in _pg_state:
        return _pg_state.get("db"), str(_pg_state.get("error", ""))  # type: ignore[return-value]
    schema = f"cpdbot_test_{os.getpid()}"
    try:
        url = pg_schema_url(schema)
    except Exception as exc:  # no server, no driver, refused: the PostgreSQL half is not run
        _pg_state["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        return None, str(_pg_state["error"])
    database = prepare(Database(url))
    _pg_state["db"], _pg_state["schema"] = database, schema
    return database, ""


def _empty(database: Database) -> None:
    names = ", ".join(t.name for t in SQLModel.metadata.sorted_tables)
    with database.engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


def pytest_sessionfinish(session: pytest.Session) -> None:
    database = _pg_state.get("db")
    if isinstance(database, Database):
        database.dispose()
        drop_pg_schema(str(_pg_state["schema"]))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if "error" in _pg_state:
        terminalreporter.write_sep(
            "!", f"PostgreSQL half NOT run ({PG_URL}: {_pg_state['error']})", red=True
        )
    elif "db" in _pg_state:
        terminalreporter.write_line(f"PostgreSQL half run against {PG_URL}")


@cache
def _head() -> str:
    return migrate.head()


def prepare(database: Database) -> Database:
    """Create the tables the fast way and record them as migrated to the latest revision.

    Honest because tests/storage/test_migrations.py proves the migrations build this same schema.
    """
    database.create_all()
    with database.engine.begin() as conn:
        MigrationContext.configure(conn).stamp(_scripts(), _head())
    return database


@cache
def _scripts() -> ScriptDirectory:
    config = AlembicConfig()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    return ScriptDirectory.from_config(config)


def new_sqlite(path: Path) -> Database:
    """A new SQLite database file, ready for the bot and the CLI."""
    return prepare(Database(f"sqlite:///{path}"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A real, empty database: a SQLite file, then the same test on PostgreSQL."""
    if request.param == "sqlite":
        database = new_sqlite(tmp_path / "cpd.db")
        yield database
        database.dispose()
        return
    pg, error = _postgres()
    if pg is None:
        if PG_REQUIRED:
            pytest.fail(f"PostgreSQL required (CPDBOT_REQUIRE_POSTGRES) but unreachable: {error}")
        pytest.skip(f"PostgreSQL not reachable: {error}")
    _empty(pg)
    yield pg


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    """A SQLite file only (for tests about SQLite itself)."""
    database = new_sqlite(tmp_path / "cpd.db")
    yield database
    database.dispose()


@pytest.fixture
def engine(db: Database, schemes: dict[str, Scheme], clock: Clock) -> Engine:
    return Engine(db, schemes, clock)


@dataclass
class Chat:
    """A person talking to the engine: `say` and `press` return the bot's replies."""

    engine: Engine
    identity: IdentityKey
    timezone_hint: str | None = None
    replies: list[Outgoing] = field(default_factory=list)

    def send(self, event: Incoming) -> list[Outgoing]:
        self.replies = self.engine.handle_sync(event)
        return self.replies

    def say(self, text: str) -> list[Outgoing]:
        return self.send(Incoming.text_of(self.identity, text, timezone_hint=self.timezone_hint))

    def press(self, label: str) -> list[Outgoing]:
        choice = self.choice(label)
        return self.send(Incoming(self.identity, Kind.CHOICE, choice=choice.id))

    def choice(self, label: str) -> Choice:
        shown = [c for r in self.replies for c in r.choices]
        for c in shown:
            if c.label == label:
                return c
        raise AssertionError(f"no choice {label!r} among {[c.label for c in shown]}")

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)

    def onboard(self, scheme: str = "IET", zone: str = "Europe/London") -> None:
        self.say("/start")
        self.press(scheme)
        self.press(zone)


@pytest.fixture
def chat(engine: Engine) -> Chat:
    c = Chat(engine, IdentityKey("console", "alice"))
    c.onboard()
    return c

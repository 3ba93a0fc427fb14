"""Database connection: URL handling, SQLite pragmas, sessions."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel, create_engine

import storage.models  # noqa: F401  (registers the tables)
from storage.secrets import SecretBox

SQLITE_BUSY_TIMEOUT_MS = 5000
DISK_FULL_SQLSTATE = "53100"  # PostgreSQL's disk_full


def default_url() -> str:
    """`sqlite:///` in the user data dir (falling back to ./cpdbot.db if it cannot be made)."""
    folder = Path(user_data_dir("cpdbot", appauthor=False))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return "sqlite:///cpdbot.db"
    return f"sqlite:///{folder / 'cpdbot.db'}"


def normalise_url(url: str) -> str:
    """Accept plain `postgresql://user@host/db` and use the psycopg 3 driver for it."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _use_wal(cur: sqlite3.Cursor) -> None:
    """Put the file in WAL mode (it stays so). Switching needs the file to itself and SQLite
    does not wait for that (no busy handler), so two workers opening one new file at once
    would see "database is locked": retry until the busy timeout instead."""
    if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
        return
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    _use_wal(cur)
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    # Deleted rows are overwritten with zeros, in the file and in the pages the WAL holds:
    # what /forget erases does not linger in free space.
    cur.execute("PRAGMA secure_delete=ON")
    cur.close()


class Database:
    """An engine plus a session factory; `transaction()` is the one unit of work.

    `secrets` encrypts what must not be stored in the clear (calendar sign-ins and
    passwords); without one given, a box with no key, which refuses to store any.
    """

    def __init__(self, url: str | None = None, *, secrets: SecretBox | None = None) -> None:
        self.secrets = secrets if secrets is not None else SecretBox(None)
        self.url = normalise_url(url or default_url())
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        # A failing statement's parameters (what people typed) stay out of the exception's
        # message, and so out of every log line that reports it.
        kwargs: dict[str, Any] = {"hide_parameters": True}
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            # Take the write lock at BEGIN so concurrent writers queue on busy_timeout
            # instead of failing with "database is locked" when upgrading a read lock.
            event.listen(self.engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
            event.listen(self.engine, "connect", _disable_pysqlite_begin)

    def create_all(self) -> None:
        SQLModel.metadata.create_all(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed once at the end, or rolled back on error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()


def truncate_wal(engine: Engine) -> None:
    """SQLite: copy the write-ahead log into the database and empty it, so the old page
    images it still holds (erased rows among them) leave the disk; nothing elsewhere."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()  # outside any transaction (BEGIN would block it)
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()


def is_disk_full(exc: BaseException) -> bool:
    """Whether a database error says the disk is full (SQLite's SQLITE_FULL, "database or
    disk is full"; PostgreSQL's disk_full, 53100): no retry will help until there is room."""
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return True
    return getattr(orig, "sqlstate", None) == DISK_FULL_SQLSTATE


def _disable_pysqlite_begin(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred).
    dbapi_conn.isolation_level = None

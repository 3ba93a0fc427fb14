"""Online backup of a SQLite database (consistent while the bot keeps running)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.db import Database


def backup_sqlite(db: Database, target: Path, *, pages_per_step: int = 1024) -> int:
    """Copy the database to `target` with SQLite's backup API; returns its size in bytes.

    Writers may keep writing meanwhile: the backup API restarts a step when a page it
    copied changes, so the copy is a consistent snapshot.
    """
    if not db.is_sqlite:
        raise ValueError("backup_sqlite is for SQLite; use pg_dump for PostgreSQL")
    source_path = make_url(db.url).database
    if not source_path or source_path == ":memory:":
        raise ValueError("an in-memory database has nothing to back up")
    target = target.expanduser()
    if target.resolve() == Path(source_path).expanduser().resolve():
        raise ValueError("the backup file must not be the database itself")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(source_path, timeout=30)
    try:
        dest = sqlite3.connect(partial)
        try:
            source.backup(dest, pages=pages_per_step)
        finally:
            dest.close()
    finally:
        source.close()
    partial.replace(target)  # the file appears only when complete
    return target.stat().st_size

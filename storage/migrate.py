"""Schema migrations (Alembic), run programmatically: no alembic.ini to find."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from storage.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaError(Exception):
    """The database schema does not match this version of cpdbot (message says what to run)."""


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    head_rev = ScriptDirectory.from_config(_config()).get_current_head()
    assert head_rev is not None
    return head_rev


def current(db: Database) -> str | None:
    """The revision the database is at (None: never migrated)."""
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> None:
    """Apply migrations in one transaction.

    On SQLite, Alembic rebuilds a table to alter it (copy, drop, rename). With foreign keys
    on, dropping `person` would cascade and delete every entry, so they are switched off for
    the migration (a PRAGMA that only works outside a transaction) and the result is checked
    with `foreign_key_check` before it is committed.
    """
    config = _config()
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection if db.is_sqlite else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                config.attributes["connection"] = conn
                command.upgrade(config, revision)
                if raw is not None:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise SchemaError(f"migration left broken references: {broken[:5]}")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def ensure_current(db: Database) -> None:
    """Create the schema in an empty database; refuse one that is older (or newer) than the code.

    An empty database (a first run) is brought up to date at once: that is the embedded
    default. A database with tables but an older revision is left alone: upgrading it is an
    operator's decision (`cpdbot db upgrade`, after a backup).
    """
    at = current(db)
    latest = head()
    if at == latest:
        return
    if at is None:
        tables = set(inspect(db.engine).get_table_names())
        if not tables:
            upgrade(db)
            return
        raise SchemaError(
            "This database has cpdbot tables but no migration record. "
            "Back it up, then run `cpdbot db upgrade` (or start from an empty database)."
        )
    script = ScriptDirectory.from_config(_config())
    known = {rev.revision for rev in script.walk_revisions()}
    if at not in known:
        raise SchemaError(
            f"The database schema ({at}) is newer than this cpdbot ({latest}). "
            "Upgrade cpdbot, or use a database made by this version."
        )
    raise SchemaError(
        f"The database schema ({at}) is older than this cpdbot ({latest}). "
        "Back it up, then run `cpdbot db upgrade`."
    )

"""Schema migrations (Alembic), run programmatically: no alembic.ini to find."""

from __future__ import annotations

import ast
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect

from storage.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported where it is used: a bot whose schema is current never loads it.

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaError(Exception):
    """The database schema does not match this version of cpdbot (message says what to run)."""


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    from alembic.script import ScriptDirectory

    head_rev = ScriptDirectory.from_config(_config()).get_current_head()
    assert head_rev is not None
    return head_rev


def current(db: Database) -> str | None:
    """The revision the database is at (None: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> None:
    """Apply migrations in one transaction.

    On SQLite, Alembic rebuilds a table to alter it (copy, drop, rename). With foreign keys
    on, dropping `person` would cascade and delete every entry, so they are switched off for
    the migration (a PRAGMA that only works outside a transaction) and the result is checked
    with `foreign_key_check` before it is committed.
    """
    _upgrade(db, revision, only_if_empty=False)


def downgrade(db: Database, revision: str) -> None:
    """Undo migrations down to `revision`, in one transaction, with the same care as
    `upgrade`: on SQLite a downgrade that drops a column of `person` rebuilds the table, and
    with foreign keys on that would cascade and delete every identity and entry."""
    _upgrade(db, revision, only_if_empty=False, down=True)


# PostgreSQL: the advisory lock every migration holds, so two workers starting on one
# empty database (or two `cpdbot db upgrade`) take turns. SQLite: BEGIN IMMEDIATE (storage.db)
# already holds the one write lock for the whole migration.
SCHEMA_LOCK = 0x637064626F74  # "cpdbot"


def _upgrade(db: Database, revision: str, *, only_if_empty: bool, down: bool = False) -> bool:
    """Migrate under the schema lock (`down`: a downgrade to `revision`). `only_if_empty`:
    only a database with no tables (True), or one another worker has just brought up to
    date (True, nothing done); else False."""
    from alembic import command

    config = _config()
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection if db.is_sqlite else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                if raw is None:
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")
                if only_if_empty and inspect(conn).get_table_names():
                    # Decided under the lock: tables made meanwhile by another worker are
                    # fine once they are at the head revision.
                    from alembic.runtime.migration import MigrationContext

                    return MigrationContext.configure(conn).get_current_revision() == head()
                config.attributes["connection"] = conn
                (command.downgrade if down else command.upgrade)(config, revision)
                if raw is not None:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise SchemaError(f"migration left broken references: {broken[:5]}")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")
    return True


def ensure_current(db: Database) -> None:
    """Create the schema in an empty database; refuse one that is older (or newer) than the code.

    An empty database (a first run) is brought up to date at once: that is the embedded
    default. A database with tables but an older revision is left alone: upgrading it is an
    operator's decision (`cpdbot db upgrade`, after a backup).
    """
    newest = newest_revision()
    if newest is not None and recorded_revision(db) == newest:
        return  # the usual case, decided without loading Alembic
    at = current(db)
    latest = head()
    if at == latest:
        return
    if at is None:
        if _upgrade(db, "head", only_if_empty=True):
            return  # created now, or by another worker starting at the same time
        raise SchemaError(
            "This database has cpdbot tables but no migration record. "
            "Back it up, then run `cpdbot db upgrade` (or start from an empty database)."
        )
    from alembic.script import ScriptDirectory

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


def recorded_revision(db: Database) -> str | None:
    """The one revision in `alembic_version`, read with plain SQL (None: none recorded)."""
    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    return str(rows[0][0]) if len(rows) == 1 else None


_REVISION_NAMES = ("revision", "down_revision")


# CPython 3.11's `ast.parse` is not safe in two threads at once (its recursion depth
# counter is shared: "AST constructor recursion depth mismatch"), and two workers starting
# in one process read the migration files together.
_PARSING = threading.Lock()


def newest_revision() -> str | None:
    """The head revision, read from the migration files' `revision` and `down_revision`
    without loading Alembic (None when they do not have exactly one head)."""
    with _PARSING:
        return _newest_revision()


def _newest_revision() -> str | None:
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target: ast.expr
            if isinstance(node, ast.AnnAssign) and node.value is not None:
                target, expression = node.target, node.value
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, expression = node.targets[0], node.value
            else:
                continue
            if not isinstance(target, ast.Name) or target.id not in _REVISION_NAMES:
                continue
            value = ast.literal_eval(expression)
            if target.id == "revision":
                revisions.add(str(value))
            elif target.id == "down_revision" and value is not None:
                parents.update([value] if isinstance(value, str) else value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None

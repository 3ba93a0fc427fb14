"""Inbox queries: updates recorded before they are acknowledged, replayed if never handled.

Like `repo`, these functions flush but never commit: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.expression import Executable
from sqlmodel import Session, col, select

from storage.models import InboxUpdate
from storage.types import UTCDateTime


def record(
    session: Session, platform: str, items: Sequence[tuple[str, str]], *, now: datetime
) -> list[str]:
    """Store (key, payload) pairs; return the keys that were new (the rest were already seen).

    A key repeated within `items` counts once. On SQLite and PostgreSQL each row is one
    INSERT ... ON CONFLICT DO NOTHING RETURNING (a statement compiled once and cached), so
    concurrent workers never both claim the same update.
    """
    unique: dict[str, str] = {}
    for key, payload in items:
        unique.setdefault(key, payload)
    rows: list[dict[str, Any]] = [
        {"platform": platform, "key": key, "payload": payload, "received_at": now}
        for key, payload in unique.items()
    ]
    dialect = session.get_bind().dialect.name
    if dialect not in _INSERT_IGNORE:
        return _record_portably(session, rows)
    stmt = _INSERT_IGNORE[dialect]
    conn = session.connection()
    return [row["key"] for row in rows if conn.execute(stmt, row).first() is not None]


_TABLE: Table = InboxUpdate.__table__  # type: ignore[attr-defined]
_INSERT_IGNORE: dict[str, Executable] = {
    name: insert(_TABLE)
    .on_conflict_do_nothing(index_elements=["platform", "key"])
    .returning(_TABLE.c.key)
    for name, insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
}


def _record_portably(session: Session, rows: list[dict[str, Any]]) -> list[str]:
    fresh: list[str] = []
    for row in rows:
        try:
            with session.begin_nested():
                session.add(InboxUpdate(**row))
                session.flush()
        except IntegrityError:
            continue
        fresh.append(row["key"])
    return fresh


def finish(session: Session, platform: str, keys: Sequence[str], *, now: datetime) -> None:
    """Mark updates handled; they stay (for `prune`) so a late repeat is still recognised."""
    if not keys:
        return
    session.connection().execute(
        _FINISH, {"b_platform": platform, "b_keys": list(keys), "b_now": now}
    )


_FINISH = (
    update(_TABLE)
    .where(
        _TABLE.c.platform == bindparam("b_platform"),
        _TABLE.c.key.in_(bindparam("b_keys", expanding=True)),
    )
    .values(done_at=bindparam("b_now", type_=UTCDateTime()))
)


def unfinished(session: Session, platform: str) -> list[tuple[str, str]]:
    """(key, payload) of updates recorded but never marked handled, oldest first."""
    rows = session.exec(
        select(InboxUpdate.key, InboxUpdate.payload)
        .where(InboxUpdate.platform == platform, col(InboxUpdate.done_at).is_(None))
        .order_by(col(InboxUpdate.id))
    ).all()
    return [(key, payload) for key, payload in rows]


def prune(session: Session, platform: str, *, done_before: datetime) -> int:
    """Forget handled updates older than `done_before`; returns how many were removed."""
    result = session.execute(
        delete(InboxUpdate)
        .where(
            col(InboxUpdate.platform) == platform,
            col(InboxUpdate.done_at).is_not(None),
            col(InboxUpdate.done_at) < done_before,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]

"""Inbox queries: updates recorded before they are acknowledged, replayed if never handled.

Like `repo`, these functions flush but never commit: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.expression import Executable
from sqlmodel import Session, col, select

from bot.core.model import IdentityKey
from storage.models import InboxUpdate
from storage.types import UTCDateTime


def sender_of(key: IdentityKey) -> str:
    """The `sender` of an update from this identity: "platform:workspace:user"."""
    return f"{key.platform}:{key.workspace}:{key.user_id}"


def record(
    session: Session,
    platform: str,
    items: Sequence[tuple[str, str]],
    *,
    now: datetime,
    senders: Mapping[str, IdentityKey] | None = None,
) -> list[str]:
    """Store (key, payload) pairs; return the keys that were new (the rest were already seen).

    `senders`: who sent each key, where known. A key repeated within `items` counts once.
    On SQLite and PostgreSQL each row is one INSERT ... ON CONFLICT DO NOTHING RETURNING (a
    statement compiled once and cached), so concurrent workers never both claim the same
    update.
    """
    unique: dict[str, str] = {}
    for key, payload in items:
        unique.setdefault(key, payload)
    who = senders or {}
    rows: list[dict[str, Any]] = [
        {
            "platform": platform,
            "key": key,
            "payload": payload,
            "received_at": now,
            "sender": sender_of(who[key]) if key in who else "",
        }
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
    """Mark updates handled and drop their payloads (the person's words and names): only the
    key stays (until `prune`), so a late repeat is still recognised."""
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
    .values(done_at=bindparam("b_now", type_=UTCDateTime()), payload="")
)


def drop_handled_payloads(session: Session, platform: str) -> int:
    """Empty the payload of every handled update (rows kept whole by an older version)."""
    result = session.execute(
        update(InboxUpdate)
        .where(
            col(InboxUpdate.platform) == platform,
            col(InboxUpdate.done_at).is_not(None),
            col(InboxUpdate.payload) != "",
        )
        .values(payload="")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def of_senders(senders: Any) -> ColumnElement[bool]:
    """Rows sent by any of `senders` (a subquery or list of "platform:workspace:user")."""
    return col(InboxUpdate.sender).in_(senders)


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

"""Teams conversation references (issue 14): where the bot writes to an identity first.

One row per identity (`models.ConversationReference`), written when a personal message
brings a reference that differs from the one held, read when a scheduled message is sent.
Reachability is the identity's own `unreachable` flag, as on Telegram and Slack: the send
loop sets it when the platform says the person can no longer be reached
(`outbox.mark_unreachable`), and `remember` clears it, since a personal message shows the
bot can reach them again. The row goes with the identity (ON DELETE CASCADE; `rights`
finds it by that foreign key), so `/forget` erases it.

Like `repo`, these functions never commit: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from bot.core.model import ConversationRef, IdentityKey
from storage.models import ConversationReference, Identity
from storage.types import UTCDateTime

_REF: Table = ConversationReference.__table__  # type: ignore[attr-defined]
_IDENTITY: Table = Identity.__table__  # type: ignore[attr-defined]
FIELDS = ("service_url", "conversation_id", "tenant_id", "bot_id", "channel_id")


def _length(name: str) -> int:
    length = getattr(_REF.c[name].type, "length", None)  # AutoString(length=...)
    assert isinstance(length, int)
    return length


# The longest value each field may hold: the column's length.
LIMITS: dict[str, int] = {name: _length(name) for name in FIELDS}
REQUIRED = ("service_url", "conversation_id")

# Built once: `remember` runs for every personal message.
_HELD = (
    select(_IDENTITY.c.id, _IDENTITY.c.unreachable, *(_REF.c[name] for name in FIELDS))
    .select_from(_IDENTITY.outerjoin(_REF, _REF.c.identity_id == _IDENTITY.c.id))
    .where(
        _IDENTITY.c.platform == bindparam("platform"),
        _IDENTITY.c.workspace == bindparam("workspace"),
        _IDENTITY.c.user_id == bindparam("user_id"),
    )
)
_VALUES: dict[str, Any] = {
    "identity_id": bindparam("identity_id"),
    **{name: bindparam(name) for name in FIELDS},
    "updated_at": bindparam("now", type_=UTCDateTime()),
}
_UPSERT = {
    name: make(_REF)
    .values(_VALUES)
    .on_conflict_do_update(
        index_elements=["identity_id"],
        set_={name: value for name, value in _VALUES.items() if name != "identity_id"},
    )
    for name, make in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
_REACHABLE = (
    update(_IDENTITY).where(_IDENTITY.c.id == bindparam("identity_id")).values(unreachable=False)
)


def _key(key: IdentityKey) -> dict[str, str]:
    return {"platform": key.platform, "workspace": key.workspace, "user_id": key.user_id}


def problem(ref: ConversationRef) -> str | None:
    """Why `ref` cannot be stored as it is (a field missing or too long), or None."""
    for name in FIELDS:
        value = getattr(ref, name)
        if name in REQUIRED and not value:
            return f"{name} is empty"
        if len(value) > LIMITS[name]:
            return f"{name} is {len(value)} characters (at most {LIMITS[name]})"
    return None


def remember(session: Session, key: IdentityKey, ref: ConversationRef, *, now: datetime) -> bool:
    """Hold `ref` for the identity behind `key` and mark the identity reachable; returns
    whether anything was written. Nothing is written when the same reference is held and
    the identity is reachable, or when `key` is unknown (the engine creates identities;
    call this once it has handled the identity's message). Raises ValueError for a
    reference that does not fit (`problem`): it is never stored cut short."""
    why = problem(ref)
    if why is not None:
        raise ValueError(f"conversation reference not stored: {why}")
    conn = session.connection()
    row = conn.execute(_HELD, _key(key)).first()
    if row is None:
        return False
    same = all(getattr(row, name) == getattr(ref, name) for name in FIELDS)
    if same and not row.unreachable:
        return False
    _write(conn, row.id, None if same else ref, bool(row.unreachable), now=now)
    return True


def remember_all(
    session: Session, refs: Mapping[IdentityKey, ConversationRef], *, now: datetime
) -> int | None:
    """`remember` for several identities within the caller's transaction (the Teams inbox
    batch): each held reference read and compared first, then only what changed written,
    in a savepoint. An identity erased meanwhile by another transaction (/forget) makes
    the writes fail: the savepoint is rolled back and None returned, the caller's own
    writes kept. Otherwise how many identities were written. Every `ref` must fit
    (`problem`)."""
    conn = session.connection()
    changes: list[tuple[Any, ConversationRef | None, bool]] = []
    for key, ref in refs.items():
        row = conn.execute(_HELD, _key(key)).first()
        if row is None:
            continue  # unknown (or erased): nothing to hold
        same = all(getattr(row, name) == getattr(ref, name) for name in FIELDS)
        if not same or row.unreachable:
            changes.append((row.id, None if same else ref, bool(row.unreachable)))
    if not changes:
        return 0
    try:
        with session.begin_nested():
            inner = session.connection()  # the savepoint's (emitted by this call)
            for identity_id, moved, unreachable in changes:
                _write(inner, identity_id, moved, unreachable, now=now)
    except DBAPIError:
        return None
    return len(changes)


def _write(
    conn: Connection,
    identity_id: Any,
    ref: ConversationRef | None,
    unreachable: bool,
    *,
    now: datetime,
) -> None:
    """Hold `ref` (None: the one held stays); mark the identity reachable if it was not."""
    if ref is not None:
        values = {name: getattr(ref, name) for name in FIELDS}
        conn.execute(_UPSERT[conn.dialect.name], {"identity_id": identity_id, "now": now, **values})
    if unreachable:
        conn.execute(_REACHABLE, {"identity_id": identity_id})


def reference_for(session: Session, key: IdentityKey) -> ConversationRef | None:
    """The reference held for the identity behind `key`, or None (unknown identity, or
    none held yet). Whether the identity is reachable is not its concern: the send loop
    only writes to reachable identities."""
    row = session.connection().execute(_HELD, _key(key)).first()
    if row is None or row.service_url is None:
        return None
    return ConversationRef(**{name: getattr(row, name) for name in FIELDS})

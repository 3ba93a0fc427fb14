"""The statements every chat event runs, in SQLAlchemy Core on the session's connection.

Each event reads who sent it and their conversation, records its dedupe key (with its
replies, kept until the adapter confirms it sent them) and writes the conversation back.
Loading those rows as ORM objects (identity map, instance state, attribute events) cost
two to three times what SQLite took to run the statements: about 120 µs against 45 µs a
statement (bench/telegram.py profile), a fifth of a turn. So these statements are built
once and run on `session.connection()`, and return plain values. The ORM stays for
everything else: first contact, effects that change a person, entries.

Like the rest of storage/, they never commit: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from bot.core.model import Choice, FileRequest, IdentityKey, Outgoing, PersonView, SecretAsk
from storage import repo
from storage.models import Conversation, Identity, Person, ProcessedEvent
from storage.types import UTCDateTime


def _table(model: type[Any]) -> Table:
    table: Table = model.__table__
    return table


_PERSON = _table(Person)
_IDENTITY = _table(Identity)
_CONVERSATION = _table(Conversation)
_PROCESSED = _table(ProcessedEvent)

_WHO = (
    select(
        _IDENTITY.c.id.label("identity_id"), _IDENTITY.c.chat_id, _IDENTITY.c.unreachable, _PERSON
    )
    .join_from(_IDENTITY, _PERSON, _PERSON.c.id == _IDENTITY.c.person_id)
    .where(
        _IDENTITY.c.platform == bindparam("platform"),
        _IDENTITY.c.workspace == bindparam("workspace"),
        _IDENTITY.c.user_id == bindparam("user_id"),
    )
)
_SET_CHAT = (
    update(_IDENTITY)
    .where(_IDENTITY.c.id == bindparam("identity_id"))
    .values(chat_id=bindparam("chat_id"), unreachable=False)
)
# FOR UPDATE (PostgreSQL) queues a second event for the same conversation behind this one;
# SQLite already serialises writers (BEGIN IMMEDIATE). The version check on saving stays
# the guarantee.
_LOAD = (
    select(_CONVERSATION.c.id, _CONVERSATION.c.state, _CONVERSATION.c.data, _CONVERSATION.c.version)
    .where(_CONVERSATION.c.identity_id == bindparam("identity_id"))
    .with_for_update()
)
_CREATE = (
    insert(_CONVERSATION)
    .values(
        identity_id=bindparam("identity_id"),
        state="idle",
        data=bindparam("data", type_=_CONVERSATION.c.data.type),
        version=0,
        updated_at=bindparam("now", type_=UTCDateTime()),
    )
    .returning(_CONVERSATION.c.id)
)
_SAVE = (
    update(_CONVERSATION)
    .where(
        _CONVERSATION.c.id == bindparam("conv_id"),
        _CONVERSATION.c.version == bindparam("expected"),
    )
    .values(
        state=bindparam("state"),
        data=bindparam("data", type_=_CONVERSATION.c.data.type),
        version=bindparam("next_version"),
        updated_at=bindparam("now", type_=UTCDateTime()),
    )
)
_MARK = {
    name: make(_PROCESSED)
    .values(
        platform=bindparam("platform"),
        key=bindparam("key"),
        created_at=bindparam("now", type_=UTCDateTime()),
        replies=bindparam("replies", type_=_PROCESSED.c.replies.type),
        recipient_id=bindparam("recipient_id"),
    )
    .on_conflict_do_nothing(index_elements=["platform", "key"])
    .returning(_PROCESSED.c.id)
    for name, make in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


class ConflictError(Exception):
    """The conversation changed under us (another event for it committed first)."""


@dataclass(frozen=True)
class Who:
    """Whose event it is: the identity and its person, as read at the start of the event."""

    identity_id: int
    person_id: int
    person: PersonView
    created: bool  # first contact: the person was made by this event


@dataclass(frozen=True)
class ConversationRow:
    id: int
    state: str
    data: dict[str, Any]
    version: int


def mark_processed(
    session: Session,
    platform: str,
    key: str,
    *,
    now: datetime,
    replies: dict[str, Any] | None = None,
    person_id: int | None = None,
) -> bool:
    """Record a platform update id with the replies it got (`encode_replies`), kept until
    `confirm_delivered`; False if it was already recorded (a duplicate).

    INSERT ... ON CONFLICT DO NOTHING: a concurrent transaction with the same key makes
    this one wait, then insert nothing (no savepoint, no exception to catch).
    """
    conn = session.connection()
    params = {
        "platform": platform,
        "key": key[:200],
        "now": now,
        "replies": replies,
        "recipient_id": person_id,
    }
    return conn.execute(_MARK[conn.dialect.name], params).first() is not None


def kept_replies(session: Session, platform: str, key: str) -> dict[str, Any] | None:
    """The replies recorded with an update and not yet confirmed delivered, if any."""
    query = select(_PROCESSED.c.replies).where(
        _PROCESSED.c.platform == platform, _PROCESSED.c.key == key[:200]
    )
    kept: dict[str, Any] | None = session.connection().execute(query).scalar()
    return kept


def confirm_delivered(session: Session, platform: str, *keys: str) -> None:
    """The updates' replies were sent: forget them (the dedupe keys themselves stay)."""
    if not keys:
        return
    session.connection().execute(
        update(_PROCESSED)
        .where(
            _PROCESSED.c.platform == platform,
            _PROCESSED.c.key.in_([key[:200] for key in keys]),
            _PROCESSED.c.replies.is_not(None),
        )
        .values(replies=None)
    )


def encode_replies(replies: Sequence[Outgoing], year: int | None) -> dict[str, Any] | None:
    """Replies as JSON for `mark_processed` (None: nothing to keep). `year`: the CPD year
    whose report the replies' files are made from. The dialogue's replies carry file
    requests, never attachments: the files are made again from the data on a replay."""
    if not replies:
        return None
    encoded = []
    for reply in replies:
        item: dict[str, Any] = {"text": reply.text}
        if reply.choices:
            item["choices"] = [[c.id, c.label] for c in reply.choices]
        if reply.errors:
            item["errors"] = dict(reply.errors)
        if reply.file is not None:
            item["file"] = [reply.file.kind, reply.file.failed]
        if reply.secret is not None:  # the question only: never an answer
            item["secret"] = [reply.secret.field, reply.secret.label, reply.secret.button]
        if reply.scrub_incoming:
            item["scrub"] = True
        encoded.append(item)
    return {"replies": encoded, "year": year}


def decode_replies(kept: dict[str, Any]) -> tuple[tuple[Outgoing, ...], int | None]:
    """`encode_replies` read back: the replies, and the CPD year of their files' report."""
    replies = []
    for item in kept.get("replies") or ():
        file = item.get("file")
        secret = item.get("secret")
        replies.append(
            Outgoing(
                str(item["text"]),
                choices=tuple(Choice(str(i), str(label)) for i, label in item.get("choices", ())),
                errors={str(k): str(v) for k, v in (item.get("errors") or {}).items()},
                file=FileRequest(str(file[0]), str(file[1])) if file else None,
                secret=SecretAsk(*(str(part) for part in secret[:3])) if secret else None,
                scrub_incoming=bool(item.get("scrub")),
            )
        )
    year = kept.get("year")
    return tuple(replies), year if isinstance(year, int) else None


def who(
    session: Session,
    key: IdentityKey,
    *,
    now: datetime,
    display_name: str = "",
    chat_id: str | None = None,
    timezone: str | None = None,
) -> Who:
    """The identity and its person; both are created (with defaults) on first contact."""
    conn = session.connection()
    row = conn.execute(
        _WHO, {"platform": key.platform, "workspace": key.workspace, "user_id": key.user_id}
    ).first()
    if row is None:
        identity, person, created = repo.get_or_create_identity(
            session,
            key,
            now=now,
            display_name=display_name,
            chat_id=chat_id,
            timezone=timezone,
        )
        assert identity.id is not None and person.id is not None
        return Who(identity.id, person.id, repo.person_view(person), created)
    if chat_id and (row.chat_id != chat_id or row.unreachable):
        # Writing to the bot from a private chat shows it can reach them there again
        # (someone who had blocked the bot and unblocked it writes from the same chat).
        conn.execute(_SET_CHAT, {"identity_id": row.identity_id, "chat_id": chat_id})
    return Who(row.identity_id, row.id, repo.person_view(row), False)


def load_conversation(session: Session, identity_id: int, *, now: datetime) -> ConversationRow:
    """The identity's conversation, locked for this transaction; created idle if none."""
    conn = session.connection()
    row = conn.execute(_LOAD, {"identity_id": identity_id}).first()
    if row is None:
        new = conn.execute(_CREATE, {"identity_id": identity_id, "data": {}, "now": now})
        return ConversationRow(new.scalar_one(), "idle", {}, 0)
    return ConversationRow(row.id, row.state, row.data, row.version)


def save_conversation(
    session: Session, conv: ConversationRow, *, state: str, data: dict[str, Any], now: datetime
) -> None:
    """Write the new state if nobody else did since we read it (optimistic version check)."""
    result = session.connection().execute(
        _SAVE,
        {
            "conv_id": conv.id,
            "expected": conv.version,
            "state": state,
            "data": data,
            "next_version": conv.version + 1,
            "now": now,
        },
    )
    if result.rowcount != 1:
        raise ConflictError(f"conversation {conv.id} changed concurrently")


def prune_processed(session: Session, *, before: datetime, limit: int) -> int:
    """Forget up to `limit` dedupe keys recorded before `before`; returns how many.

    Ids grow with time, so the keys to forget are the lowest ids, found by walking the
    primary key up to the first key to keep: no index on the time, which every event
    would pay for.
    """
    conn = session.connection()
    keep_from = conn.execute(
        select(_PROCESSED.c.id)
        .where(_PROCESSED.c.created_at >= before)
        .order_by(_PROCESSED.c.id)
        .limit(1)
    ).scalar()
    old = (
        _PROCESSED.c.id < keep_from
        if keep_from is not None
        else _PROCESSED.c.created_at < before  # none to keep: every row is old
    )
    batch = select(_PROCESSED.c.id).where(old).order_by(_PROCESSED.c.id).limit(limit)
    result = conn.execute(delete(_PROCESSED).where(_PROCESSED.c.id.in_(batch.scalar_subquery())))
    return int(result.rowcount)

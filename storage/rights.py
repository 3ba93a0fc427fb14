"""Data rights: everything held about a person (`person_data`), and erasing it (`forget_person`).

Both follow the foreign keys of every table in the metadata from `person`: a table that
references a person, an identity, an entry, a feed (or anything else that leads back to
a person) is found without being named here, so a table added later is covered as soon as
it declares its foreign key. The inbox's raw updates are found by their sender, one of the
person's identities. Like `repo`, they flush but never commit.
"""

from __future__ import annotations

import base64
import logging
import sqlite3
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, event, func, inspect, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel

from storage import evidence, inbox
from storage.db import truncate_wal
from storage.models import SECRET_COLUMN, Identity, InboxUpdate, ProcessedEvent

PERSON_TABLE = "person"
# What an export shows in place of a stored secret.
WITHHELD = "(a secret, stored encrypted: not exported)"
log = logging.getLogger("cpdbot.rights")


def _condition(table: Table, person_id: int, path: frozenset[str]) -> ColumnElement[bool] | None:
    """Rows of `table` that belong to the person, through any chain of foreign keys."""
    if table.name == PERSON_TABLE:
        return table.c.id == person_id
    found: list[ColumnElement[bool]] = []
    for fk in table.foreign_keys:
        parent = fk.column.table
        if not isinstance(parent, Table) or parent.name in path or parent is table:
            continue
        if parent.name == PERSON_TABLE:
            found.append(fk.parent == person_id)
            continue
        upper = _condition(parent, person_id, path | {table.name})
        if upper is not None:
            found.append(fk.parent.in_(select(fk.column).where(upper)))
    return or_(*found) if found else None


def owned_tables(person_id: int) -> list[tuple[Table, ColumnElement[bool]]]:
    """(table, condition) for every table that can hold the person's rows, parents first.

    Last, the inbox: raw updates are not linked by a foreign key (they are recorded before
    anyone is looked up) but by their sender, one of the person's identities; being last,
    `forget_person` erases them before the identities that find them.
    """
    result = []
    for table in SQLModel.metadata.sorted_tables:
        cond = _condition(table, person_id, frozenset())
        if cond is not None:
            result.append((table, cond))
    senders = select(
        Identity.__table__.c.platform  # type: ignore[attr-defined]
        + ":"
        + Identity.__table__.c.workspace  # type: ignore[attr-defined]
        + ":"
        + Identity.__table__.c.user_id  # type: ignore[attr-defined]
    ).where(Identity.__table__.c.person_id == person_id)  # type: ignore[attr-defined]
    result.append((InboxUpdate.__table__, inbox.of_senders(senders)))  # type: ignore[attr-defined]
    return result


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    return value


_PROCESSED: Table = ProcessedEvent.__table__  # type: ignore[attr-defined]


def _kept_replies(person_id: int) -> ColumnElement[bool]:
    """Dedupe keys of the person's updates whose replies are kept until delivered."""
    return (_PROCESSED.c.recipient_id == person_id) & _PROCESSED.c.replies.is_not(None)


def person_data(session: Session, person_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row held about the person, table by table, as JSON-ready dictionaries (the
    replies kept until delivered among them). Secrets (columns marked `SECRET_COLUMN`:
    encrypted sign-ins and passwords) are named but left out, even encrypted."""
    session.flush()
    data: dict[str, list[dict[str, Any]]] = {}
    tables = [*owned_tables(person_id), (_PROCESSED, _kept_replies(person_id))]
    for table, cond in tables:
        order = list(table.primary_key.columns)
        hidden = {c.name for c in table.columns if c.info.get(SECRET_COLUMN)}
        rows = session.execute(select(table).where(cond).order_by(*order)).mappings().all()
        if rows:
            data[table.name] = [
                {
                    k: WITHHELD if k in hidden and v is not None else _jsonable(v)
                    for k, v in row.items()
                }
                for row in rows
            ]
    return data


def count_rows(session: Session, person_id: int) -> dict[str, int]:
    """How many rows each table holds about the person (tables with none left out)."""
    session.flush()
    counts: dict[str, int] = {}
    for table, cond in owned_tables(person_id):
        n = session.execute(select(func.count()).select_from(table).where(cond)).scalar_one()
        if n:
            counts[table.name] = int(n)
    return counts


def forget_person(
    session: Session, person_id: int, *, evidence_dir: Path | None = None
) -> dict[str, int]:
    """Delete, for real, every row of the person in every table (the raw updates they sent
    among them, the one that asked included); returns counts per table.

    Evidence first (storage.evidence): its rows, then the blobs no one else's evidence
    names (not linked to the person by a foreign key: content is kept once for everyone),
    and with a directory store (`evidence_dir`, EVIDENCE_DIR) their files, once committed.

    Children are deleted before their parents, so this does not depend on ON DELETE
    CASCADE (though every foreign key to a person has it). Objects of deleted rows are
    detached from the session so a later flush cannot resurrect or trip over them. On
    SQLite, `secure_delete` zeroes the erased rows; once the transaction commits, the
    write-ahead log (which still holds the old pages) is emptied too.
    """
    session.flush()
    # Replies kept for redelivery lose their text and their link; the dedupe keys stay, so
    # an update the platform delivers again is still recognised and not handled afresh.
    session.execute(
        update(_PROCESSED)
        .where(_PROCESSED.c.recipient_id == person_id)
        .values(replies=None, recipient_id=None)
    )
    counts: dict[str, int] = {}
    rows, blobs = evidence.erase_person(session, person_id, evidence_dir)
    counts.update({k: n for k, n in (("evidence", rows), ("evidence_blob", blobs)) if n})
    gone: dict[str, set[tuple[Any, ...]]] = {}
    for table, cond in reversed(owned_tables(person_id)):
        keys = list(table.primary_key.columns)
        ids = {tuple(r) for r in session.execute(select(*keys).where(cond)).all()}
        if not ids:
            continue
        session.execute(delete(table).where(cond).execution_options(synchronize_session=False))
        counts[table.name] = len(ids)
        gone[table.name] = ids
    for obj in list(session.identity_map.values()):
        state = inspect(obj)
        table = state.mapper.local_table
        if isinstance(table, Table) and state.identity in gone.get(table.name, ()):
            session.expunge(obj)
    session.flush()
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "sqlite":
        event.listen(session, "after_commit", lambda _s: _empty_wal(bind), once=True)
    return counts


def _empty_wal(engine: Engine) -> None:
    """After the erasure committed: a failure here must not look like the erasure's."""
    try:
        truncate_wal(engine)
    except (DBAPIError, sqlite3.Error):  # busy past the timeout: a later checkpoint does it
        log.warning("emptying the write-ahead log after an erasure failed", exc_info=True)

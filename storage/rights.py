"""Data rights: everything held about a person (`person_data`), and erasing it (`forget_person`).

Both follow the foreign keys of every table in the metadata from `person`: a table that
references a person, an identity, an entry, a feed (or anything else that leads back to
a person) is found without being named here, so a table added later is covered as soon as
it declares its foreign key. Like `repo`, they flush but never commit.
"""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, func, inspect, or_, select
from sqlmodel import Session, SQLModel

PERSON_TABLE = "person"


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
    """(table, condition) for every table that can hold the person's rows, parents first."""
    result = []
    for table in SQLModel.metadata.sorted_tables:
        cond = _condition(table, person_id, frozenset())
        if cond is not None:
            result.append((table, cond))
    return result


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def person_data(session: Session, person_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row held about the person, table by table, as JSON-ready dictionaries."""
    session.flush()
    data: dict[str, list[dict[str, Any]]] = {}
    for table, cond in owned_tables(person_id):
        order = list(table.primary_key.columns)
        rows = session.execute(select(table).where(cond).order_by(*order)).mappings().all()
        if rows:
            data[table.name] = [{k: _jsonable(v) for k, v in row.items()} for row in rows]
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


def forget_person(session: Session, person_id: int) -> dict[str, int]:
    """Delete, for real, every row of the person in every table; returns counts per table.

    Children are deleted before their parents, so this does not depend on ON DELETE
    CASCADE (though every foreign key to a person has it). Objects of deleted rows are
    detached from the session so a later flush cannot resurrect or trip over them.
    """
    session.flush()
    counts: dict[str, int] = {}
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
    return counts

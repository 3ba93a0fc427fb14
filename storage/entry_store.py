"""Entries and their reflections: saved, edited, deleted and read back as `EntryView`s.
Like `repo`, these functions flush but never commit: the caller owns the transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, case
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.core.model import EntryView, ReflectionView
from storage.models import Entry, EntryObjective, Person, Reflection

ENTRY_FIELDS = {
    "title",
    "activity_date",
    "end_date",
    "minutes",
    "category",
    "structured",
    "evidence_url",
}

# Saving an entry (a chat turn) runs as Core statements: see create_entry.
_ENTRY_TABLE = Entry.__table__  # type: ignore[attr-defined]
_INSERT_ENTRY = _ENTRY_TABLE.insert().returning(_ENTRY_TABLE.c.id)
_INSERT_REFLECTION = Reflection.__table__.insert()  # type: ignore[attr-defined]
_PERSON_TABLE = Person.__table__  # type: ignore[attr-defined]
_RAISE_LAST_NUMBER = (
    _PERSON_TABLE.update()
    .where(_PERSON_TABLE.c.id == bindparam("person_id"))
    .values(
        last_entry_number=case(
            (_PERSON_TABLE.c.last_entry_number < bindparam("number"), bindparam("number")),
            else_=_PERSON_TABLE.c.last_entry_number,
        )
    )
)


def entry_views(session: Session, entries: Sequence[Entry]) -> list[EntryView]:
    """Views of these entries, in order, their reflections read in one statement."""
    ids = [e.id for e in entries if e.id is not None]
    by_entry: dict[int, list[ReflectionView]] = defaultdict(list)
    if ids:
        rows = session.exec(
            select(Reflection).where(col(Reflection.entry_id).in_(ids)).order_by(col(Reflection.id))
        ).all()
        for r in rows:
            by_entry[r.entry_id].append(ReflectionView(r.question_id, r.question, r.answer))
    return [
        EntryView(
            number=e.number,
            title=e.title,
            activity_date=e.activity_date,
            end_date=e.end_date,
            minutes=e.minutes,
            category=e.category,
            structured=e.structured,
            source=e.source,
            deleted=e.deleted_at is not None,
            reflections=tuple(by_entry.get(e.id or 0, ())),
        )
        for e in entries
    ]


def get_entry(session: Session, person_id: int, number: int) -> Entry | None:
    return session.exec(
        select(Entry).where(Entry.person_id == person_id, Entry.number == number)
    ).first()


def entry_view(session: Session, person_id: int, number: int) -> EntryView | None:
    entry = get_entry(session, person_id, number)
    return entry_views(session, [entry])[0] if entry else None


def recent_entries(session: Session, person_id: int, limit: int) -> list[EntryView]:
    entries = session.exec(
        select(Entry)
        .where(Entry.person_id == person_id, col(Entry.deleted_at).is_(None))
        .order_by(col(Entry.activity_date).desc(), col(Entry.number).desc())
        .limit(limit)
    ).all()
    return entry_views(session, entries)


_ENTRY_COLUMNS = (
    col(Entry.id),
    col(Entry.number),
    col(Entry.title),
    col(Entry.activity_date),
    col(Entry.minutes),
    col(Entry.category),
    col(Entry.structured),
    col(Entry.source),
    col(Entry.end_date),
)


def _live_views(session: Session, *conditions: Any) -> list[EntryView]:
    """Live entries matching `conditions` with their reflections, oldest first."""
    return [view for _, view in live_views_with_ids(session, *conditions)]


def live_views_with_ids(session: Session, *conditions: Any) -> list[tuple[int, EntryView]]:
    """(entry id, view) of the live entries matching `conditions`, oldest first.

    Plain column rows on the session's connection (no ORM objects or ORM result
    processing), the reflections through a join on the same conditions (no list of ids):
    a year of 2,000 entries loads several times faster than as ORM objects.
    """
    where = (col(Entry.deleted_at).is_(None), *conditions)
    execute = session.connection().execute
    rows = execute(
        sa_select(*_ENTRY_COLUMNS)
        .where(*where)
        .order_by(col(Entry.activity_date), col(Entry.number))
    ).all()
    if not rows:
        return []
    by_entry: dict[int, list[ReflectionView]] = defaultdict(list)
    for entry_id, question_id, question, answer in execute(
        sa_select(
            col(Reflection.entry_id),
            col(Reflection.question_id),
            col(Reflection.question),
            col(Reflection.answer),
        )
        .join(Entry, col(Entry.id) == col(Reflection.entry_id))
        .where(*where)
        .order_by(col(Reflection.id))
    ).all():
        by_entry[entry_id].append(ReflectionView(question_id, question, answer))
    return [
        (
            entry_id or 0,  # ids are never None here
            EntryView(
                number=number,
                title=title,
                activity_date=day,
                end_date=end,
                minutes=minutes,
                category=category,
                structured=structured,
                source=source,
                deleted=False,
                reflections=tuple(by_entry.get(entry_id or 0, ())),
            ),
        )
        for entry_id, number, title, day, minutes, category, structured, source, end in rows
    ]


# A year's entries with their reflections is the biggest read on a chat turn (/status shows
# the assessment, which looks at every activity). Plain driver SQL: SQLAlchemy's result
# processing costs more than SQLite or PostgreSQL take to answer (2,000 entries: ~9 ms
# against ~25 ms through Core).
_YEAR_ENTRIES = (
    "SELECT id, number, title, activity_date, minutes, category, structured, source, end_date"
    " FROM entry WHERE person_id = {0} AND deleted_at IS NULL"
    " AND activity_date >= {0} AND activity_date < {0} ORDER BY activity_date, number"
)
_YEAR_REFLECTIONS = (
    "SELECT r.entry_id, r.question_id, r.question, r.answer FROM reflection r"
    " JOIN entry e ON e.id = r.entry_id WHERE e.person_id = {0} AND e.deleted_at IS NULL"
    " AND e.activity_date >= {0} AND e.activity_date < {0} ORDER BY r.id"
)


def entries_between(session: Session, person_id: int, start: date, end: date) -> list[EntryView]:
    """Live entries with start <= activity date < end, oldest first, with reflections.

    A multi-day entry is in the period of its first day (its activity date), whatever its
    end date: it belongs to the CPD year it started in, with all its minutes."""
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    # SQLite keeps dates as ISO text (SQLAlchemy's Date on SQLite), PostgreSQL as dates.
    params = (person_id, start.isoformat(), end.isoformat()) if sqlite else (person_id, start, end)
    # The DBAPI cursor of this same connection (and transaction): plain tuples, no Row objects.
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(_YEAR_ENTRIES.format(mark), params)
        rows = cursor.fetchall()
        if not rows:
            return []
        cursor.execute(_YEAR_REFLECTIONS.format(mark), params)
        reflections = cursor.fetchall()
    finally:
        cursor.close()
    by_entry: dict[int, list[ReflectionView]] = defaultdict(list)
    for entry_id, question_id, question, answer in reflections:
        by_entry[entry_id].append(ReflectionView(question_id, question, answer))
    return [
        EntryView(
            number=number,
            title=title,
            activity_date=_date(day),
            end_date=None if end is None else _date(end),
            minutes=minutes,
            category=category,
            structured=None if structured is None else bool(structured),
            source=source,
            deleted=False,
            reflections=tuple(by_entry.get(entry_id, ())),
        )
        for entry_id, number, title, day, minutes, category, structured, source, end in rows
    ]


def _date(value: date | str) -> date:
    """A date column read through the DBAPI: a date (PostgreSQL) or ISO text (SQLite)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def linked_entries(session: Session, person_id: int) -> list[EntryView]:
    """Live entries linked to at least one of the person's objectives, oldest first."""
    linked = sa_select(col(EntryObjective.entry_id)).where(col(EntryObjective.entry_id) == Entry.id)
    return _live_views(session, col(Entry.person_id) == person_id, linked.exists())


def oldest_pending(session: Session, person_id: int) -> EntryView | None:
    entry = session.exec(
        select(Entry)
        .join(Reflection, col(Reflection.entry_id) == col(Entry.id))
        .where(
            Entry.person_id == person_id,
            col(Entry.deleted_at).is_(None),
            col(Reflection.answer).is_(None),
        )
        .order_by(col(Entry.activity_date), col(Entry.number))
        .limit(1)
    ).first()
    return entry_views(session, [entry])[0] if entry else None


def create_entry(
    session: Session,
    person_id: int,
    *,
    number: int,
    title: str,
    activity_date: date,
    minutes: int,
    category: str,
    structured: bool | None,
    source: str,
    reflections: Iterable[ReflectionView],
    now: datetime,
    evidence_url: str | None = None,
    end_date: date | None = None,
) -> int:
    """Insert entry `number` with its reflections and move the person's counter; its id.

    Runs as Core statements (an entry is saved in a chat turn: building ORM objects and
    flushing them cost three times as much). A Person loaded in this session has its
    counter expired, so it reads the new value.
    """
    conn = session.connection()
    entry_id: int = conn.execute(
        _INSERT_ENTRY,
        {
            "person_id": person_id,
            "number": number,
            "title": title,
            "activity_date": activity_date,
            "end_date": end_date,
            "minutes": minutes,
            "category": category,
            "structured": structured,
            "source": source,
            "evidence_url": evidence_url,
            "created_at": now,
            "updated_at": now,
            "deleted_at": None,
        },
    ).scalar_one()
    rows = [
        {
            "entry_id": entry_id,
            "question_id": r.question_id,
            "question": r.question,
            "answer": r.answer,
            "answered_at": now if r.answer is not None else None,
        }
        for r in reflections
    ]
    if rows:
        conn.execute(_INSERT_REFLECTION, rows)
    conn.execute(_RAISE_LAST_NUMBER, {"person_id": person_id, "number": number})
    loaded = session.identity_map.get(session.identity_key(Person, person_id))
    if loaded is not None:
        session.expire(loaded, ["last_entry_number"])
    return entry_id


def update_entry(
    session: Session,
    entry: Entry,
    *,
    fields: dict[str, object],
    reflections: Iterable[ReflectionView] = (),
    now: datetime,
) -> None:
    unknown = set(fields) - ENTRY_FIELDS
    if unknown:
        raise ValueError(f"not an entry field: {', '.join(sorted(unknown))}")
    for key, value in fields.items():
        setattr(entry, key, value)
    assert entry.id is not None
    for r in reflections:
        row = session.exec(
            select(Reflection).where(
                Reflection.entry_id == entry.id, Reflection.question_id == r.question_id
            )
        ).first()
        if row is None:
            row = Reflection(entry_id=entry.id, question_id=r.question_id, question=r.question)
        row.answer = r.answer
        row.answered_at = now if r.answer is not None else None
        session.add(row)
    entry.updated_at = now
    session.add(entry)
    session.flush()


def set_deleted(session: Session, entry: Entry, *, deleted: bool, now: datetime) -> None:
    entry.deleted_at = now if deleted else None
    entry.updated_at = now
    session.add(entry)
    session.flush()


def lock_numbering(session: Session, person_id: int) -> int:
    """The person's last entry number, their row locked until the transaction ends
    (FOR UPDATE on PostgreSQL; a SQLite writer is already alone), so two transactions
    adding entries for one person (concurrent imports) take their turns and the second
    sees what the first added."""
    query = sa_select(_PERSON_TABLE.c.last_entry_number).where(_PERSON_TABLE.c.id == person_id)
    number: int = session.execute(query.with_for_update()).scalar_one()
    return number

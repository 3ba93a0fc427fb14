"""Repository functions. They flush but never commit: the caller owns the transaction."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, bindparam, case, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.core.model import EntryView, IdentityKey, PersonView, ReflectionView, Tally, YearSummary
from storage.models import (
    Entry,
    EntryObjective,
    Identity,
    Person,
    Reflection,
)

PERSON_FIELDS = {
    "display_name",
    "timezone",
    "scheme_id",
    "status_id",
    "date_order",
    "languages",
    "year_start_month",
    "year_start_day",
    "studying_he",
    "onboarded",
    "nudge_day",
    "nudge_hour",
    "nudges_enabled",
    "nudge_mode",
    "paused_until",
    "calendar_keywords",
    "calendar_all_events",
}
ENTRY_FIELDS = {"title", "activity_date", "minutes", "category", "structured", "evidence_url"}


# The statements run for every event are built once: building a statement costs SQLAlchemy
# more than SQLite takes to run it (bench/turns.py: ~0.5 ms a lookup built per call).
_IDENTITY_AND_PERSON = (
    select(Identity, Person)
    .join(Person, col(Person.id) == col(Identity.person_id))
    .where(
        col(Identity.platform) == bindparam("platform"),
        col(Identity.workspace) == bindparam("workspace"),
        col(Identity.user_id) == bindparam("user_id"),
    )
)

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


def _key(key: IdentityKey) -> dict[str, str]:
    return {"platform": key.platform, "workspace": key.workspace, "user_id": key.user_id}


def find_identity(session: Session, key: IdentityKey) -> Identity | None:
    row = session.exec(_IDENTITY_AND_PERSON, params=_key(key)).first()
    return row[0] if row else None


def get_or_create_identity(
    session: Session,
    key: IdentityKey,
    *,
    now: datetime,
    display_name: str = "",
    chat_id: str | None = None,
    timezone: str | None = None,
) -> tuple[Identity, Person, bool]:
    """The identity and its person, created (with defaults) on first contact."""
    found = session.exec(_IDENTITY_AND_PERSON, params=_key(key)).first()
    if found is not None:
        identity, person = found
        if chat_id and identity.chat_id != chat_id:
            identity.chat_id = chat_id
            identity.unreachable = False
        return identity, person, False
    person = Person(display_name=display_name[:200], created_at=now)
    if timezone:
        person.timezone = timezone
    session.add(person)
    session.flush()
    assert person.id is not None
    identity = Identity(
        person_id=person.id,
        platform=key.platform,
        workspace=key.workspace,
        user_id=key.user_id,
        chat_id=chat_id,
        created_at=now,
    )
    session.add(identity)
    session.flush()
    return identity, person, True


def person_view(person: Person | Row[Any]) -> PersonView:
    """The person's settings as the dialogue sees them (from the ORM object or a row)."""
    year_start = None
    if person.year_start_month and person.year_start_day:
        year_start = (person.year_start_month, person.year_start_day)
    return PersonView(
        display_name=person.display_name,
        timezone=person.timezone,
        scheme_id=person.scheme_id,
        status_id=person.status_id,
        date_order=person.date_order,
        languages=tuple(x for x in person.languages.split(",") if x) or ("en",),
        onboarded=person.onboarded,
        last_entry_number=person.last_entry_number,
        studying_he=person.studying_he,
        year_start=year_start,
        nudge_day=person.nudge_day,
        nudge_hour=person.nudge_hour,
        nudges_enabled=person.nudges_enabled,
        nudge_mode=person.nudge_mode,
        paused_until=person.paused_until,
        calendar_keywords=person.calendar_keywords,
        calendar_all_events=person.calendar_all_events,
        joined=person.created_at,
    )


def update_person(session: Session, person_id: int, fields: dict[str, object]) -> None:
    """Set some of a person's settings (PERSON_FIELDS), as one Core UPDATE (a settings turn
    runs it); a Person loaded in this session has those attributes expired, so it reads
    the new values."""
    unknown = set(fields) - PERSON_FIELDS
    if unknown:
        raise ValueError(f"not a person field: {', '.join(sorted(unknown))}")
    if not fields:
        return
    names = tuple(sorted(fields))
    params = {f"v_{name}": fields[name] for name in names}
    session.connection().execute(_set_person(names), {"person_id": person_id, **params})
    loaded = session.identity_map.get(session.identity_key(Person, person_id))
    if loaded is not None:
        session.expire(loaded, list(names))


@functools.cache
def _set_person(names: tuple[str, ...]) -> Any:
    return (
        _PERSON_TABLE.update()
        .where(_PERSON_TABLE.c.id == bindparam("person_id"))
        .values({name: bindparam(f"v_{name}") for name in names})
    )


# ---------------------------------------------------------------- entries


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
)


def _live_views(session: Session, *conditions: Any) -> list[EntryView]:
    """Live entries matching `conditions` with their reflections, oldest first."""
    return [view for _, view in _live_views_with_ids(session, *conditions)]


def _live_views_with_ids(session: Session, *conditions: Any) -> list[tuple[int, EntryView]]:
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
                minutes=minutes,
                category=category,
                structured=structured,
                source=source,
                deleted=False,
                reflections=tuple(by_entry.get(entry_id or 0, ())),
            ),
        )
        for entry_id, number, title, day, minutes, category, structured, source in rows
    ]


# A year's entries with their reflections is the biggest read on a chat turn (/status shows
# the assessment, which looks at every activity). Plain driver SQL: SQLAlchemy's result
# processing costs more than SQLite or PostgreSQL take to answer (2,000 entries: ~9 ms
# against ~25 ms through Core).
_YEAR_ENTRIES = (
    "SELECT id, number, title, activity_date, minutes, category, structured, source"
    " FROM entry WHERE person_id = {0} AND deleted_at IS NULL"
    " AND activity_date >= {0} AND activity_date < {0} ORDER BY activity_date, number"
)
_YEAR_REFLECTIONS = (
    "SELECT r.entry_id, r.question_id, r.question, r.answer FROM reflection r"
    " JOIN entry e ON e.id = r.entry_id WHERE e.person_id = {0} AND e.deleted_at IS NULL"
    " AND e.activity_date >= {0} AND e.activity_date < {0} ORDER BY r.id"
)


def entries_between(session: Session, person_id: int, start: date, end: date) -> list[EntryView]:
    """Live entries with start <= activity date < end, oldest first, with reflections."""
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
            activity_date=day if isinstance(day, date) else date.fromisoformat(day),
            minutes=minutes,
            category=category,
            structured=None if structured is None else bool(structured),
            source=source,
            deleted=False,
            reflections=tuple(by_entry.get(entry_id, ())),
        )
        for entry_id, number, title, day, minutes, category, structured, source in rows
    ]


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


def year_summary(session: Session, person_id: int, start: date, end: date) -> YearSummary:
    live = (
        Entry.person_id == person_id,
        col(Entry.deleted_at).is_(None),
        Entry.activity_date >= start,
        Entry.activity_date < end,
    )
    rows = session.exec(
        select(Entry.category, func.sum(Entry.minutes), func.count())
        .where(*live)
        .group_by(Entry.category)
    ).all()
    pending = session.exec(
        select(func.count(func.distinct(Entry.id)))
        .join(Reflection, col(Reflection.entry_id) == col(Entry.id))
        .where(*live, col(Reflection.answer).is_(None))
    ).one()
    return YearSummary(
        start=start,
        end=end,
        minutes_by_category={cat: int(total or 0) for cat, total, _ in rows},
        entries=sum(int(n) for _, _, n in rows),
        pending_entries=int(pending or 0),
    )


# What `str.strip()` removes: every character for which `str.isspace()` is true.
STRIPPED = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_CANDIDATES_AT_ONCE = 500  # entries loaded per statement (bound parameters stay few)


def _has_text(dialect: str) -> ColumnElement[bool]:
    """True for an answer that is more than white space (`answer.strip()` is not empty).

    Most answers start with a printable ASCII character, which settles it cheaply (the
    first character compared byte by byte: SQLite's default BINARY collation, "C" in
    PostgreSQL); only the others are stripped."""
    answer = col(Reflection.answer)
    first: ColumnElement[str] = func.substr(answer, 1, 1)
    if dialect == "postgresql":
        first, stripped = first.collate("C"), func.btrim(answer, STRIPPED)
    else:
        stripped = func.trim(answer, STRIPPED)
    return case((first.between("!", "~"), True), else_=stripped != "")


_LIVE_IN_YEAR = (
    col(Entry.person_id) == bindparam("person_id"),
    col(Entry.deleted_at).is_(None),
    col(Entry.activity_date) >= bindparam("start"),
    col(Entry.activity_date) < bindparam("end"),
)
_YEAR_MINUTES = (
    sa_select(col(Entry.category), col(Entry.structured), func.sum(Entry.minutes), func.count())
    .where(*_LIVE_IN_YEAR)
    .group_by(col(Entry.category), col(Entry.structured))
)
_YEAR_DATES = (
    sa_select(col(Entry.activity_date))
    .where(*_LIVE_IN_YEAR)
    .distinct()
    .order_by(col(Entry.activity_date))
)


@functools.cache
def _short_or_pending(dialect: str) -> Select[Any]:
    """Entries of the year with a reflection pending, or short of the `questions` answered
    (no row, no answer, or white space only): one pass over the year's reflections."""
    answered = and_(
        col(Reflection.question_id).in_(bindparam("questions", expanding=True)),
        _has_text(dialect),
    )
    per_entry = (
        sa_select(
            col(Entry.id).label("id"),
            func.max(
                case(
                    (and_(col(Reflection.id).is_not(None), col(Reflection.answer).is_(None)), 1),
                    else_=0,
                )
            ).label("pending"),
            (func.sum(case((answered, 1), else_=0)) < bindparam("needed")).label("short"),
        )
        .select_from(Entry)
        .outerjoin(Reflection, col(Reflection.entry_id) == col(Entry.id))
        .where(*_LIVE_IN_YEAR)
        .group_by(col(Entry.id))
        .subquery()
    )
    return sa_select(per_entry).where(or_(per_entry.c.pending == 1, per_entry.c.short))


@functools.cache
def _ethics_candidates(hints: tuple[str, ...]) -> Select[Any]:
    """Entries of the year whose title or an answer matches a hint, or linked to an objective."""
    mentioned = [col(Entry.title).ilike(f"%{hint}%") for hint in hints]
    in_answer = sa_select(col(Reflection.id)).where(
        col(Reflection.entry_id) == col(Entry.id),
        or_(*(col(Reflection.answer).ilike(f"%{hint}%") for hint in hints)),
    )
    linked = sa_select(col(EntryObjective.id)).where(col(EntryObjective.entry_id) == col(Entry.id))
    return sa_select(col(Entry.id)).where(
        *_LIVE_IN_YEAR, or_(*mentioned, in_answer.exists(), linked.exists())
    )


def year_tally(
    session: Session,
    person_id: int,
    start: date,
    end: date,
    *,
    questions: Collection[str],
    ethics_hints: Sequence[str] | None = None,
    dates: bool = False,
) -> Tally:
    """The live entries with start <= activity date < end, counted by the database.

    `unanswered` holds the entries with a reflection to one of `questions` missing or
    blank; `ethics` (only with `ethics_hints`, LIKE patterns matched without case) the
    entries whose title or an answer matches one, and every entry linked to an
    objective; `dates` (only if asked) the days with an entry. Only these entries are
    loaded, with their reflections: a year of 2,000 entries is a few rows, not 6,000.
    The statements are built once (building them cost more than a small year takes).
    """
    conn = session.connection()
    execute = conn.execute
    year = {"person_id": person_id, "start": start, "end": end}
    minutes: dict[tuple[str, bool | None], int] = {}
    entries = 0
    for category, structured, total, count in execute(_YEAR_MINUTES, year):
        minutes[(category, structured)] = int(total or 0)
        entries += int(count)
    if not entries:
        return Tally(entries=0, pending_entries=0, minutes={})
    pending_entries = 0
    unanswered: set[int] = set()
    wanted = {**year, "questions": sorted(questions), "needed": len(questions)}
    for entry_id, pending, short in execute(_short_or_pending(conn.dialect.name), wanted):
        pending_entries += pending
        if short:
            unanswered.add(entry_id)
    ethics: set[int] = set()
    if ethics_hints is not None:
        found = execute(_ethics_candidates(tuple(ethics_hints)), year).scalars()
        ethics.update(entry_id for entry_id in found if entry_id is not None)
    days: tuple[date, ...] = ()
    if dates:
        days = tuple(execute(_YEAR_DATES, year).scalars())
    wanted_ids = sorted(unanswered | ethics)
    views: dict[int, EntryView] = {}
    for at in range(0, len(wanted_ids), _CANDIDATES_AT_ONCE):
        chunk = wanted_ids[at : at + _CANDIDATES_AT_ONCE]
        views.update(
            _live_views_with_ids(
                session, col(Entry.person_id) == person_id, col(Entry.id).in_(chunk)
            )
        )
    in_order = sorted(views.items(), key=lambda item: (item[1].activity_date, item[1].number))
    return Tally(
        entries=entries,
        pending_entries=pending_entries,
        minutes=minutes,
        dates=days,
        unanswered=tuple(v for i, v in in_order if i in unanswered),
        ethics=tuple(v for i, v in in_order if i in ethics),
    )


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

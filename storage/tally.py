"""A CPD year counted by the database: the tally /status and App Home assess
(`year_tally`), so a year of 2,000 activities is assessed without loading it, and the
year totals of many people at once (`year_summaries`, for nudges and summaries)."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, func, or_, select
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from bot.core.model import EntryView, Tally, YearSummary
from storage.entry_store import live_views_with_ids
from storage.models import Entry, EntryObjective, Reflection

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
    in_order = _views_in_order(session, person_id, unanswered | ethics)
    return Tally(
        entries=entries,
        pending_entries=pending_entries,
        minutes=minutes,
        dates=days,
        unanswered=tuple(v for i, v in in_order if i in unanswered),
        ethics=tuple(v for i, v in in_order if i in ethics),
    )


def _views_in_order(
    session: Session, person_id: int, entry_ids: set[int]
) -> list[tuple[int, EntryView]]:
    """(id, view) of these live entries with their reflections, oldest first, loaded
    _CANDIDATES_AT_ONCE at a time."""
    wanted_ids = sorted(entry_ids)
    views: dict[int, EntryView] = {}
    for at in range(0, len(wanted_ids), _CANDIDATES_AT_ONCE):
        chunk = wanted_ids[at : at + _CANDIDATES_AT_ONCE]
        views.update(
            live_views_with_ids(
                session, col(Entry.person_id) == person_id, col(Entry.id).in_(chunk)
            )
        )
    return sorted(views.items(), key=lambda item: (item[1].activity_date, item[1].number))


def year_summaries(
    session: Session, bounds: Mapping[int, tuple[date, date]]
) -> dict[int, YearSummary]:
    """YearSummary for each person over their own (start, end): one grouped query per
    distinct year, over all people when many share it (a scan beats 100,000 lookups).
    The bulk form of `bot.services.records.standing`'s totals (nudges, summaries)."""
    groups: dict[tuple[date, date], set[int]] = defaultdict(set)
    for pid, b in bounds.items():
        groups[b].add(pid)
    minutes: dict[int, dict[str, int]] = defaultdict(dict)
    counts: dict[int, int] = defaultdict(int)
    pending: dict[int, int] = defaultdict(int)
    for (start, end), pids in groups.items():
        live: list[Any] = [
            col(Entry.deleted_at).is_(None),
            col(Entry.activity_date) >= start,
            col(Entry.activity_date) < end,
        ]
        if len(pids) <= 5000:
            live.append(col(Entry.person_id).in_(sorted(pids)))
        for pid, cat, total, n in session.execute(
            select(col(Entry.person_id), col(Entry.category), func.sum(Entry.minutes), func.count())
            .where(*live)
            .group_by(col(Entry.person_id), col(Entry.category))
        ).all():
            if pid in pids:
                minutes[pid][cat] = int(total or 0)
                counts[pid] += int(n)
        for pid, n in session.execute(
            select(col(Entry.person_id), func.count(func.distinct(Entry.id)))
            .join(Reflection, col(Reflection.entry_id) == col(Entry.id))
            .where(*live, col(Reflection.answer).is_(None))
            .group_by(col(Entry.person_id))
        ).all():
            if pid in pids:
                pending[pid] = int(n)
    return {
        pid: YearSummary(
            start=start,
            end=end,
            minutes_by_category=minutes.get(pid, {}),
            entries=counts.get(pid, 0),
            pending_entries=pending.get(pid, 0),
        )
        for pid, (start, end) in bounds.items()
    }

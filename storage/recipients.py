"""The planner's queries: who may be due a scheduled message, and the facts to decide it.

Built for 100,000 people: groups of people who share the settings a decision depends on
are read once (distinct rows), then only the ids of due groups without an outbox row for
that message yet; people, year totals and pending counts are read in bulk.

Like `repo`, these functions flush but never commit: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, exists, func, select, tuple_, update
from sqlmodel import Session, col

from bot.core.model import PersonView
from storage import repo
from storage.models import Entry, Outbox, Person, Reflection

# What a year-end decision depends on: (zone, hour, scheme, status, year start month and
# day (0: the scheme's), nudges enabled), as `year_end_groups` returns them.
YearEndGroup = tuple[str, int, str, str, int, int, bool]
NudgeGroup = tuple[str, int, int]  # (zone, nudge day, nudge hour)

_YEAR_END_COLUMNS: tuple[Any, ...] = (
    col(Person.timezone),
    col(Person.nudge_hour),
    col(Person.scheme_id),
    col(Person.status_id),
    func.coalesce(col(Person.year_start_month), 0),
    func.coalesce(col(Person.year_start_day), 0),
    col(Person.nudges_enabled),
)
_NUDGE_COLUMNS: tuple[Any, ...] = (
    col(Person.timezone),
    col(Person.nudge_day),
    col(Person.nudge_hour),
)

_PERSON_COLUMNS: tuple[Any, ...] = tuple(
    col(c)
    for c in (
        Person.id,
        Person.display_name,
        Person.full_name,
        Person.membership_number,
        Person.timezone,
        Person.scheme_id,
        Person.status_id,
        Person.date_order,
        Person.languages,
        Person.onboarded,
        Person.last_entry_number,
        Person.studying_he,
        Person.year_start_month,
        Person.year_start_day,
        Person.nudge_day,
        Person.nudge_hour,
        Person.nudges_enabled,
        Person.nudge_mode,
        Person.paused_until,
        Person.calendar_keywords,
        Person.calendar_all_events,
        Person.day_minutes,
        Person.created_at,
    )
)


def _ids(session: Session, *conditions: Any) -> list[int]:
    """Ids of the onboarded people matching `conditions`."""
    query = select(col(Person.id)).where(col(Person.onboarded).is_(True), *conditions)
    return [int(i) for (i,) in session.execute(query.order_by(col(Person.id))).all()]


def _has_row(kind: str, key: str) -> Any:
    """EXISTS an outbox row of this kind and key for the person (sent, pending, skipped)."""
    return exists().where(
        col(Outbox.person_id) == col(Person.id), col(Outbox.kind) == kind, col(Outbox.key) == key
    )


def people(session: Session, person_ids: Sequence[int]) -> dict[int, PersonView]:
    """These people (onboarded ones only) as PersonViews by id, read as plain columns
    (fast enough for 100,000 people)."""
    query = select(*_PERSON_COLUMNS).where(
        col(Person.onboarded).is_(True), col(Person.id).in_(person_ids)
    )
    return {int(r.id): repo.person_view(r) for r in session.execute(query).all()}


# ---------------------------------------------------------------- monthly nudges


def nudge_groups(session: Session) -> list[NudgeGroup]:
    """The distinct (zone, day, hour) of onboarded people with nudges on."""
    rows = session.execute(
        select(*_NUDGE_COLUMNS)
        .where(col(Person.onboarded).is_(True), col(Person.nudges_enabled).is_(True))
        .distinct()
    ).all()
    return [(tz, day, hour) for tz, day, hour in rows]


def nudge_candidates(
    session: Session, groups: Sequence[NudgeGroup], *, kind: str, key: str
) -> list[int]:
    """Onboarded people of these groups with nudges on and no `kind` row under `key`."""
    return _ids(
        session,
        tuple_(*_NUDGE_COLUMNS).in_(groups),
        col(Person.nudges_enabled).is_(True),
        ~_has_row(kind, key),
    )


# ---------------------------------------------------------------- year end


def year_end_groups(session: Session) -> list[YearEndGroup]:
    """The distinct settings a year-end decision depends on, over onboarded people."""
    rows = session.execute(
        select(*_YEAR_END_COLUMNS).where(col(Person.onboarded).is_(True)).distinct()
    ).all()
    return [tuple(row) for row in rows]


def year_end_candidates(
    session: Session, groups: Sequence[YearEndGroup], *, kind: str, key: str
) -> list[int]:
    """Onboarded people of these groups without a `kind` row under `key`."""
    return _ids(session, tuple_(*_YEAR_END_COLUMNS).in_(groups), ~_has_row(kind, key))


# ---------------------------------------------------------------- reflection reminders


def entries_to_remind(
    session: Session,
    *,
    kind: str,
    now: datetime,
    pending_since: timedelta,
    max_age: timedelta,
    once_within: timedelta,
) -> dict[int, Entry]:
    """person id -> their oldest live entry with a reflection pending, created between
    `max_age` and `pending_since` ago, never reminded (no `kind` row keyed by its number),
    of onboarded people with nudges on who had no `kind` row within `once_within`."""
    reminded = exists().where(
        col(Outbox.person_id) == col(Entry.person_id),
        col(Outbox.kind) == kind,
        col(Outbox.key) == cast(col(Entry.number), String),
    )
    lately = exists().where(
        col(Outbox.person_id) == col(Entry.person_id),
        col(Outbox.kind) == kind,
        col(Outbox.created_at) > now - once_within,
    )
    rows = session.execute(
        select(Entry)
        .join(Reflection, col(Reflection.entry_id) == col(Entry.id))
        .join(Person, col(Person.id) == col(Entry.person_id))
        .where(
            col(Person.onboarded).is_(True),
            col(Person.nudges_enabled).is_(True),
            col(Entry.deleted_at).is_(None),
            col(Reflection.answer).is_(None),
            col(Entry.created_at) <= now - pending_since,
            col(Entry.created_at) >= now - max_age,
            ~reminded,
            ~lately,
        )
        .group_by(col(Entry.id))
        .order_by(col(Entry.created_at), col(Entry.id))
    ).scalars()
    oldest: dict[int, Entry] = {}
    for entry in rows:
        oldest.setdefault(entry.person_id, entry)
    return oldest


def pending_counts(session: Session, person_ids: Iterable[int]) -> dict[int, int]:
    """person id -> how many of their live entries have a reflection pending."""
    ids = sorted(set(person_ids))
    rows = session.execute(
        select(col(Entry.person_id), func.count(func.distinct(Entry.id)))
        .join(Reflection, col(Reflection.entry_id) == col(Entry.id))
        .where(
            col(Entry.deleted_at).is_(None),
            col(Reflection.answer).is_(None),
            col(Entry.person_id).in_(ids),
        )
        .group_by(col(Entry.person_id))
    ).all()
    return {int(p): int(n) for p, n in rows}


# ---------------------------------------------------------------- absences

HELD_MIN_GRACE = timedelta(hours=1)  # a held row may be sent for at least this long


def hold_claimed(
    session: Session, row_id: int, *, worker: str, attempts: int, until: datetime, note: str
) -> bool:
    """Put a claimed outbox row back to pending, due at `until` (its person is away until
    then), its grace window moved with it (at least HELD_MIN_GRACE); only while `worker`
    holds it under claim `attempts`. False if the claim was lost meanwhile."""
    held = (
        col(Outbox.id) == row_id,
        col(Outbox.state) == "claimed",
        col(Outbox.claimed_by) == worker,
        col(Outbox.attempts) == attempts,
    )
    found = session.execute(select(col(Outbox.due_at), col(Outbox.expires_at)).where(*held)).first()
    if found is None:
        return False
    due_at, expires_at = found
    if expires_at is not None:
        expires_at = until + max(expires_at - due_at, HELD_MIN_GRACE)
    result = session.execute(
        update(Outbox)
        .where(*held)
        .values(
            state="pending",
            due_at=until,
            expires_at=expires_at,
            claimed_by=None,
            claimed_at=None,
            last_error=note[:500],
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]

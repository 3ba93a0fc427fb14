"""People and their identities on each platform (`entry_store` holds the entries,
`plan_store` the plan, `tally` counts a year). Repository functions flush but never commit:
the caller owns the transaction."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam
from sqlmodel import Session, col, select

from bot.core.model import IdentityKey, PersonView
from bot.core.sanitize import clean_line
from storage.models import Identity, Person

PERSON_FIELDS = {
    "display_name",
    "full_name",
    "membership_number",
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
    "day_minutes",
}

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


def _key(key: IdentityKey) -> dict[str, str]:
    return {"platform": key.platform, "workspace": key.workspace, "user_id": key.user_id}


def find_identity(session: Session, key: IdentityKey) -> Identity | None:
    row = session.exec(_IDENTITY_AND_PERSON, params=_key(key)).first()
    return row[0] if row else None


def find_person(session: Session, key: IdentityKey) -> tuple[int, PersonView] | None:
    """The id and settings of the person behind `key`, or None if the identity is unknown."""
    row = session.exec(_IDENTITY_AND_PERSON, params=_key(key)).first()
    if row is None:
        return None
    person = row[1]
    assert person.id is not None
    return person.id, person_view(person)


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
    person = Person(display_name=clean_line(display_name)[:200], created_at=now)
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
        last_evidence_number=getattr(person, "last_evidence_number", 0),
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
        full_name=person.full_name,
        membership_number=person.membership_number,
        day_minutes=person.day_minutes,
    )


_PERSON_TABLE = Person.__table__  # type: ignore[attr-defined]


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

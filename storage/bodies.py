"""Several bodies, one record (issue 16): the other bodies a person follows and the
categories they chose for entries in those bodies.

An entry's category in another body is derived from its primary category (the schemes'
`maps_to`, bot.core.schemes.mapped_categories) whenever it is read, so editing the
primary category re-derives it; only the person's own answers are stored here
(`entry_category`, kept when the primary category changes). Both tables are erased with
the person and included in /export all (storage.rights follows their foreign keys).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from storage.models import Entry, EntryCategory, Outbox, PersonScheme


def other_bodies(session: Session, person_id: int) -> list[tuple[str, str]]:
    """(scheme id, status id) of each other body, in the order they were added."""
    rows = session.exec(
        select(PersonScheme.scheme_id, PersonScheme.status_id)
        .where(PersonScheme.person_id == person_id)
        .order_by(col(PersonScheme.id))
    ).all()
    return [(scheme_id, status_id) for scheme_id, status_id in rows]


def set_bodies(
    session: Session, person_id: int, scheme_ids: Sequence[str], *, now: datetime
) -> None:
    """The other bodies become `scheme_ids` (those kept keep their status and answers; the
    answers for a body removed are erased with it)."""
    kept = {scheme_id for scheme_id, _ in other_bodies(session, person_id)}
    gone = kept - set(scheme_ids)
    if gone:
        session.execute(
            delete(PersonScheme).where(
                col(PersonScheme.person_id) == person_id, col(PersonScheme.scheme_id).in_(gone)
            )
        )
        entry_ids = select(Entry.id).where(Entry.person_id == person_id)
        session.execute(
            delete(EntryCategory).where(
                col(EntryCategory.entry_id).in_(entry_ids),
                col(EntryCategory.scheme_id).in_(gone),
            )
        )
    for scheme_id in scheme_ids:
        if scheme_id not in kept:
            session.add(PersonScheme(person_id=person_id, scheme_id=scheme_id, created_at=now))
    session.flush()


def chosen(session: Session, person_id: int, scheme_id: str) -> dict[int, str]:
    """Entry number -> the category the person chose for it in body `scheme_id`."""
    rows = session.exec(
        select(Entry.number, EntryCategory.category)
        .join(EntryCategory, col(EntryCategory.entry_id) == col(Entry.id))
        .where(
            Entry.person_id == person_id,
            EntryCategory.scheme_id == scheme_id,
            col(EntryCategory.chosen).is_(True),
        )
    ).all()
    return {number: category for number, category in rows if category}


def file_category(
    session: Session, person_id: int, entry_number: int, scheme_id: str, category: str
) -> bool:
    """Keep the person's answer for the entry (False: no such entry of theirs)."""
    entry_id = session.exec(
        select(Entry.id).where(Entry.person_id == person_id, Entry.number == entry_number)
    ).first()
    if entry_id is None:
        return False
    row = session.exec(
        select(EntryCategory).where(
            EntryCategory.entry_id == entry_id, EntryCategory.scheme_id == scheme_id
        )
    ).first()
    if row is None:
        row = EntryCategory(entry_id=entry_id, scheme_id=scheme_id)
    row.category = category
    row.chosen = True
    session.add(row)
    session.flush()
    return True


def followed_by(session: Session, person_ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    """person id -> (scheme id, status id) of each other body, for those who follow any."""
    rows = session.exec(
        select(PersonScheme.person_id, PersonScheme.scheme_id, PersonScheme.status_id)
        .where(col(PersonScheme.person_id).in_(person_ids))
        .order_by(col(PersonScheme.id))
    ).all()
    found: dict[int, list[tuple[str, str]]] = {}
    for person_id, scheme_id, status_id in rows:
        found.setdefault(person_id, []).append((scheme_id, status_id))
    return found


def followers(session: Session) -> list[int]:
    """Ids of the people who follow another body besides their main one."""
    rows = session.exec(select(PersonScheme.person_id).distinct()).all()
    return sorted(int(i) for i in rows)


def decided(session: Session, person_id: int, kind: str, key: str) -> bool:
    """Whether the person already has an outbox row of this kind and key."""
    found = session.exec(
        select(Outbox.id).where(
            Outbox.person_id == person_id, Outbox.kind == kind, Outbox.key == key
        )
    ).first()
    return found is not None

"""What a whole record holds besides its entries, read for `/export all` and put back by
`cpdbot import` of it: the other bodies a person follows, their filings of entries in
those bodies, the explained gaps and the HCPC profile. Putting back never duplicates: a
body already followed, a filing already made, the same gap note, or a profile already
kept is left as it is. Like `repo`, these flush but never commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from bot.core.plan import GapNote
from bot.core.whole_record import Kept
from storage import bodies, plan_store, profile_store
from storage.models import CpdProfile, Entry, EntryCategory, GapNoteRow, PersonScheme


def has_entries(session: Session, person_id: int) -> bool:
    """Whether the person has any entry, deleted ones included (their numbers are taken)."""
    found = session.exec(select(Entry.id).where(Entry.person_id == person_id).limit(1)).first()
    return found is not None


def filings(session: Session, person_id: int) -> dict[int, dict[str, str]]:
    """Entry number -> {body's scheme id: the category the person chose in it}."""
    rows = session.exec(
        select(Entry.number, EntryCategory.scheme_id, EntryCategory.category)
        .join(EntryCategory, col(EntryCategory.entry_id) == col(Entry.id))
        .where(Entry.person_id == person_id, col(EntryCategory.chosen).is_(True))
        .order_by(col(Entry.number), col(EntryCategory.scheme_id))
    ).all()
    found: dict[int, dict[str, str]] = {}
    for number, scheme_id, category in rows:
        if category:
            found.setdefault(number, {})[scheme_id] = category
    return found


def kept(session: Session, person_id: int) -> Kept:
    """Everything `/export all`'s record.json carries besides the entries."""
    return Kept(
        bodies=tuple(bodies.other_bodies(session, person_id)),
        filings=filings(session, person_id),
        gap_notes=tuple(plan_store.gap_notes(session, person_id)),
        profile=_profile(session, person_id),
    )


def _profile(
    session: Session, person_id: int
) -> tuple[tuple[int, ...], str, tuple[str, ...]] | None:
    """The HCPC profile as kept (only its well-formed numbers and statements), or None."""
    row = session.exec(select(CpdProfile).where(CpdProfile.person_id == person_id)).first()
    if row is None:
        return None
    numbers = row.entry_numbers if isinstance(row.entry_numbers, list) else []
    standards = row.standards if isinstance(row.standards, list) else []
    return (
        tuple(n for n in numbers if type(n) is int),
        row.summary,
        tuple(s for s in standards if isinstance(s, str)),
    )


def add_bodies(
    session: Session, person_id: int, followed: Sequence[tuple[str, str]], *, now: datetime
) -> int:
    """Follow each (scheme id, status id) not followed yet; how many were added."""
    held = {scheme_id for scheme_id, _ in bodies.other_bodies(session, person_id)}
    added = 0
    for scheme_id, status_id in followed:
        if scheme_id in held:
            continue
        held.add(scheme_id)
        session.add(
            PersonScheme(
                person_id=person_id, scheme_id=scheme_id, status_id=status_id, created_at=now
            )
        )
        added += 1
    session.flush()
    return added


def add_filings(session: Session, entry_id: int, chosen: Mapping[str, str]) -> int:
    """The person's answers for the entry in other bodies, where it has none yet."""
    held = set(
        session.exec(select(EntryCategory.scheme_id).where(EntryCategory.entry_id == entry_id))
    )
    added = 0
    for scheme_id, category in chosen.items():
        if scheme_id in held:
            continue
        session.add(
            EntryCategory(entry_id=entry_id, scheme_id=scheme_id, category=category, chosen=True)
        )
        added += 1
    session.flush()
    return added


def add_gap_notes(session: Session, person_id: int, notes: Sequence[GapNote]) -> int:
    """Each note not already kept (same days, same words); how many were added."""
    held = set(plan_store.gap_notes(session, person_id))
    added = 0
    for note in notes:
        if note in held:
            continue
        held.add(note)
        session.add(GapNoteRow(person_id=person_id, start=note.start, end=note.end, text=note.text))
        added += 1
    session.flush()
    return added


def add_profile(
    session: Session,
    person_id: int,
    *,
    entry_numbers: tuple[int, ...],
    summary: str,
    standards: tuple[str, ...],
    now: datetime,
) -> bool:
    """Keep the HCPC profile if the person has none yet (True); one already kept stays."""
    held = session.exec(select(CpdProfile.id).where(CpdProfile.person_id == person_id)).first()
    if held is not None:
        return False
    profile_store.save_profile(
        session,
        person_id,
        entry_numbers=entry_numbers,
        summary=summary,
        standards=standards,
        now=now,
    )
    return True

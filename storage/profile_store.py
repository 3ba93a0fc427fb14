"""The HCPC CPD profile /profile gathers (issue 16): one row per person, kept step by step."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from storage.models import CpdProfile

SUMMARY_MAX_CHARS = 20_000  # far beyond 500 words: an over-long summary is kept, flagged
STATEMENT_MAX_CHARS = 20_000


def load_profile(
    session: Session, person_id: int
) -> tuple[tuple[int, ...], str, tuple[str, ...]] | None:
    """(picked entry numbers, summary, the five statements), or None before /profile."""
    row = session.exec(select(CpdProfile).where(CpdProfile.person_id == person_id)).first()
    if row is None:
        return None
    numbers = tuple(int(n) for n in row.entry_numbers)
    return numbers, row.summary, tuple(str(s) for s in row.standards)


def save_profile(
    session: Session,
    person_id: int,
    *,
    entry_numbers: tuple[int, ...],
    summary: str,
    standards: tuple[str, ...],
    now: datetime,
) -> None:
    row = session.exec(select(CpdProfile).where(CpdProfile.person_id == person_id)).first()
    if row is None:
        row = CpdProfile(person_id=person_id, updated_at=now)
    row.entry_numbers = list(entry_numbers)
    row.summary = summary[:SUMMARY_MAX_CHARS]
    row.standards = [s[:STATEMENT_MAX_CHARS] for s in standards]
    row.updated_at = now
    session.add(row)
    session.flush()

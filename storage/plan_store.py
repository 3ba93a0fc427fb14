"""Plan queries: role, responsibilities, objectives, entry links and tags, status periods
and gap notes. Like `repo`, they flush but never commit: the caller owns the transaction.

Entries and objectives are named by the numbers the person sees (#12, O3); a number that
does not exist raises `PlanError` with a message fit to show them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import bindparam, delete, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.core.plan import (
    AREAS,
    MAX_RESPONSIBILITIES,
    GapNote,
    ObjectiveStatus,
    ObjectiveView,
    Plan,
    PlanError,
    StatusPeriod,
    normalise_tag,
)
from storage.models import (
    Entry,
    EntryObjective,
    EntryTag,
    GapNoteRow,
    Objective,
    Responsibility,
    Role,
    StatusPeriodRow,
)

OBJECTIVE_FIELDS = {"title", "area", "target_date"}


def set_role(session: Session, person_id: int, text: str, *, now: datetime) -> None:
    """Set (or, with '', clear) the person's role."""
    row = session.exec(select(Role).where(Role.person_id == person_id)).first()
    text = text.strip()[:300]
    if not text:
        if row is not None:
            session.delete(row)
            session.flush()
        return
    if row is None:
        row = Role(person_id=person_id, text=text, updated_at=now)
    row.text, row.updated_at = text, now
    session.add(row)
    session.flush()


def set_responsibilities(session: Session, person_id: int, texts: Sequence[str]) -> None:
    """Replace the person's key responsibilities with `texts`, in that order."""
    cleaned = [t.strip()[:300] for t in texts if t.strip()]
    if len(cleaned) > MAX_RESPONSIBILITIES:
        raise PlanError(f"at most {MAX_RESPONSIBILITIES} responsibilities, please")
    session.execute(
        delete(Responsibility)
        .where(col(Responsibility.person_id) == person_id)
        .execution_options(synchronize_session=False)
    )
    for position, text in enumerate(cleaned, 1):
        session.add(Responsibility(person_id=person_id, text=text, position=position))
    session.flush()


def add_responsibility(session: Session, person_id: int, text: str) -> int:
    """Append one responsibility; returns its position (1-based)."""
    current = responsibilities(session, person_id)
    set_responsibilities(session, person_id, [*current, text])
    return len(current) + 1


def remove_responsibility(session: Session, person_id: int, position: int) -> str:
    """Remove the responsibility at `position` (1-based); returns its text."""
    current = responsibilities(session, person_id)
    if not 1 <= position <= len(current):
        raise PlanError(f"there is no responsibility {position}")
    removed = current.pop(position - 1)
    set_responsibilities(session, person_id, current)
    return removed


def responsibilities(session: Session, person_id: int) -> list[str]:
    params = {"person_id": person_id}
    return list(session.connection().execute(_RESPONSIBILITIES, params).scalars())


# ---------------------------------------------------------------- objectives


def _objective(session: Session, person_id: int, number: int) -> Objective:
    row = session.exec(
        select(Objective).where(Objective.person_id == person_id, Objective.number == number)
    ).first()
    if row is None:
        raise PlanError(f"there is no objective O{number}")
    return row


def _view(row: Objective) -> ObjectiveView:
    status: ObjectiveStatus = "done" if row.status == "done" else "open"
    return ObjectiveView(row.number, row.title, row.area, row.target_date, status)


def _check_area(area: str) -> None:
    if area not in AREAS:
        raise PlanError(f"the area must be one of: {', '.join(AREAS)}")


def add_objective(
    session: Session,
    person_id: int,
    *,
    title: str,
    area: str,
    target_date: date | None,
    now: datetime,
) -> ObjectiveView:
    _check_area(area)
    title = title.strip()[:200]
    if not title:
        raise PlanError("an objective needs a title")
    last = session.exec(
        select(func.max(Objective.number)).where(Objective.person_id == person_id)
    ).one()
    row = Objective(
        person_id=person_id,
        number=int(last or 0) + 1,
        title=title,
        area=area,
        target_date=target_date,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return _view(row)


def update_objective(
    session: Session, person_id: int, number: int, fields: dict[str, object]
) -> ObjectiveView:
    unknown = set(fields) - OBJECTIVE_FIELDS
    if unknown:
        raise ValueError(f"not an objective field: {', '.join(sorted(unknown))}")
    if "area" in fields:
        _check_area(str(fields["area"]))
    row = _objective(session, person_id, number)
    for key, value in fields.items():
        setattr(row, key, value)
    session.add(row)
    session.flush()
    return _view(row)


def set_objective_done(
    session: Session, person_id: int, number: int, *, done: bool, now: datetime
) -> ObjectiveView:
    row = _objective(session, person_id, number)
    row.status = "done" if done else "open"
    row.done_at = now if done else None
    session.add(row)
    session.flush()
    return _view(row)


def delete_objective(session: Session, person_id: int, number: int) -> None:
    """Delete an objective for real; its links to entries go with it (the entries stay)."""
    row = _objective(session, person_id, number)
    session.execute(
        delete(EntryObjective)
        .where(col(EntryObjective.objective_id) == row.id)
        .execution_options(synchronize_session=False)
    )
    session.delete(row)
    session.flush()


def _entry_id(session: Session, person_id: int, number: int) -> int:
    entry_id = session.exec(
        select(Entry.id).where(
            Entry.person_id == person_id,
            Entry.number == number,
            col(Entry.deleted_at).is_(None),
        )
    ).first()
    if entry_id is None:
        raise PlanError(f"there is no entry #{number}")
    return entry_id


def link_entry(session: Session, person_id: int, entry_number: int, objective_number: int) -> bool:
    """Link entry #N to objective On; False if they were already linked."""
    entry_id = _entry_id(session, person_id, entry_number)
    objective = _objective(session, person_id, objective_number)
    assert objective.id is not None
    known = session.exec(
        select(EntryObjective.id).where(
            EntryObjective.entry_id == entry_id, EntryObjective.objective_id == objective.id
        )
    ).first()
    if known is not None:
        return False
    session.add(EntryObjective(entry_id=entry_id, objective_id=objective.id))
    session.flush()
    return True


def unlink_entry(
    session: Session, person_id: int, entry_number: int, objective_number: int
) -> bool:
    entry_id = _entry_id(session, person_id, entry_number)
    objective = _objective(session, person_id, objective_number)
    result = session.execute(
        delete(EntryObjective)
        .where(
            col(EntryObjective.entry_id) == entry_id,
            col(EntryObjective.objective_id) == objective.id,
        )
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def set_entry_tags(
    session: Session, person_id: int, entry_number: int, tags: Sequence[str]
) -> tuple[str, ...]:
    """Replace the tags of entry #N (e.g. UK-SPEC 'A', 'C'); returns them normalised."""
    entry_id = _entry_id(session, person_id, entry_number)
    cleaned = tuple(dict.fromkeys(normalise_tag(t) for t in tags))
    session.execute(
        delete(EntryTag)
        .where(col(EntryTag.entry_id) == entry_id)
        .execution_options(synchronize_session=False)
    )
    for tag in cleaned:
        session.add(EntryTag(entry_id=entry_id, tag=tag))
    session.flush()
    return cleaned


# ---------------------------------------------------------------- periods and gaps


def add_status_period(session: Session, person_id: int, period: StatusPeriod) -> None:
    session.add(
        StatusPeriodRow(
            person_id=person_id, status_id=period.status_id, start=period.start, end=period.end
        )
    )
    session.flush()


_PERIODS = (
    sa_select(col(StatusPeriodRow.status_id), col(StatusPeriodRow.start), col(StatusPeriodRow.end))
    .where(col(StatusPeriodRow.person_id) == bindparam("person_id"))
    .order_by(col(StatusPeriodRow.id))
)
_PERIODS_OVERLAPPING = _PERIODS.where(
    col(StatusPeriodRow.end) >= bindparam("start"), col(StatusPeriodRow.start) < bindparam("end")
)


def status_periods(
    session: Session, person_id: int, start: date | None = None, end: date | None = None
) -> list[StatusPeriod]:
    """Periods overlapping [start, end) (all when not given), in the order they were added."""
    statement = _PERIODS_OVERLAPPING if start is not None or end is not None else _PERIODS
    params = {"person_id": person_id, "start": start or date.min, "end": end or date.max}
    return [StatusPeriod(*row) for row in session.connection().execute(statement, params)]


def status_periods_of(session: Session, person_ids: Sequence[int]) -> dict[int, list[StatusPeriod]]:
    """Everyone's periods at once (one query per call; a chunk of people), in the order
    added; people without any are left out."""
    found: dict[int, list[StatusPeriod]] = {}
    if not person_ids:
        return found
    query = (
        sa_select(
            col(StatusPeriodRow.person_id),
            col(StatusPeriodRow.status_id),
            col(StatusPeriodRow.start),
            col(StatusPeriodRow.end),
        )
        .where(col(StatusPeriodRow.person_id).in_(list(person_ids)))
        .order_by(col(StatusPeriodRow.id))
    )
    for pid, status_id, start, end in session.connection().execute(query):
        found.setdefault(int(pid), []).append(StatusPeriod(status_id, start, end))
    return found


def remove_status_period(session: Session, person_id: int, period: StatusPeriod) -> bool:
    result = session.execute(
        delete(StatusPeriodRow)
        .where(
            col(StatusPeriodRow.person_id) == person_id,
            col(StatusPeriodRow.status_id) == period.status_id,
            col(StatusPeriodRow.start) == period.start,
            col(StatusPeriodRow.end) == period.end,
        )
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def add_gap_note(session: Session, person_id: int, note: GapNote) -> None:
    text = note.text.strip()[:500]
    if not text:
        raise PlanError("say briefly why there was no CPD then (e.g. sick leave)")
    session.add(GapNoteRow(person_id=person_id, start=note.start, end=note.end, text=text))
    session.flush()


def gap_notes(session: Session, person_id: int) -> list[GapNote]:
    params = {"person_id": person_id}
    return [GapNote(*row) for row in session.connection().execute(_GAP_NOTES, params)]


# ---------------------------------------------------------------- the whole plan


# A plan is read on every /status and /review: its statements are built once (building
# and caching-keying six statements per call cost more than running them).
_ROLE = sa_select(col(Role.text)).where(col(Role.person_id) == bindparam("person_id"))
_RESPONSIBILITIES = (
    sa_select(col(Responsibility.text))
    .where(col(Responsibility.person_id) == bindparam("person_id"))
    .order_by(col(Responsibility.position))
)
_OBJECTIVES = (
    sa_select(
        col(Objective.number),
        col(Objective.title),
        col(Objective.area),
        col(Objective.target_date),
        col(Objective.status),
    )
    .where(col(Objective.person_id) == bindparam("person_id"))
    .order_by(col(Objective.number))
)
_LINKS = (
    sa_select(col(Entry.number), col(Objective.number))
    .join(EntryObjective, col(EntryObjective.entry_id) == col(Entry.id))
    .join(Objective, col(Objective.id) == col(EntryObjective.objective_id))
    .where(col(Entry.person_id) == bindparam("person_id"), col(Entry.deleted_at).is_(None))
)
_TAGS = (
    sa_select(col(Entry.number), col(EntryTag.tag))
    .join(EntryTag, col(EntryTag.entry_id) == col(Entry.id))
    .where(col(Entry.person_id) == bindparam("person_id"), col(Entry.deleted_at).is_(None))
    .order_by(col(EntryTag.id))
)
_GAP_NOTES = (
    sa_select(col(GapNoteRow.start), col(GapNoteRow.end), col(GapNoteRow.text))
    .where(col(GapNoteRow.person_id) == bindparam("person_id"))
    .order_by(col(GapNoteRow.start), col(GapNoteRow.id))
)


def load_plan(session: Session, person_id: int) -> Plan:
    """Role, responsibilities, objectives, links and tags (by entry number), gap notes."""
    execute = session.connection().execute
    params = {"person_id": person_id}
    role = execute(_ROLE, params).scalar()
    tags: dict[int, list[str]] = defaultdict(list)
    for number, tag in execute(_TAGS, params):
        tags[number].append(tag)
    return Plan(
        role=role or "",
        responsibilities=tuple(responsibilities(session, person_id)),
        objectives=tuple(
            ObjectiveView(number, title, area, target, "done" if status == "done" else "open")
            for number, title, area, target, status in execute(_OBJECTIVES, params)
        ),
        links=frozenset((int(e), int(o)) for e, o in execute(_LINKS, params)),
        tags={k: tuple(v) for k, v in tags.items()},
        gap_notes=tuple(gap_notes(session, person_id)),
    )

"""Several bodies, one record (issue 16): each other body a person follows, seen in its
own CPD year from the one set of entries, and the effects that change them.

Each entry's category in another body is its answer there if the person gave one, else
derived from its primary category through the schemes' `maps_to`; an entry that maps to
several categories (and has no answer) is "unfiled" there: counted under no category
until the person answers (/bodies asks)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime

from sqlmodel import Session

from bot.core.assess import assess
from bot.core.body_reflections import explained, read_for
from bot.core.model import (
    Effect,
    EntryView,
    FileCategory,
    Outgoing,
    PersonView,
    SaveEntry,
    SetBodies,
    UpdateEntry,
    YearSummary,
)
from bot.core.record import Record
from bot.core.schemes import Scheme, mapped_categories
from bot.core.snapshot import BodyView, Unfiled
from bot.dialogue.flows.bodies import question
from storage import bodies, entry_store
from storage import plan_store as plan_repo

UNFILED = ""  # the category an unfiled entry is counted under (shown as "not yet filed")


def apply(session: Session, person_id: int, effect: Effect, now: datetime) -> bool:
    """Apply a bodies effect (True), or leave `effect` to the caller (False)."""
    if isinstance(effect, SetBodies):
        bodies.set_bodies(session, person_id, effect.scheme_ids, now=now)
        return True
    if isinstance(effect, FileCategory):
        bodies.file_category(
            session, person_id, effect.entry_number, effect.scheme_id, effect.category
        )
        return True
    return False


def body_views(
    session: Session,
    person_id: int,
    person: PersonView,
    schemes: Mapping[str, Scheme],
    today: date,
    *,
    standing: bool,
) -> tuple[BodyView, ...]:
    """The other bodies the person follows (primary and uninstalled schemes left out), with
    their standing in their own CPD year if asked."""
    primary = schemes.get(person.scheme_id)
    views = []
    for scheme_id, status_id in bodies.other_bodies(session, person_id):
        scheme = schemes.get(scheme_id)
        if scheme is None or primary is None or scheme_id == primary.id:
            continue
        if not standing:
            views.append(BodyView(scheme_id, status_id))
            continue
        views.append(_standing(session, person_id, person, primary, scheme, status_id, today))
    return tuple(views)


def view_of(
    session: Session,
    person_id: int,
    person: PersonView,
    schemes: Mapping[str, Scheme],
    body: tuple[str, str],
    today: date,
) -> BodyView | None:
    """Body `body` (scheme id, status id) with its standing in its CPD year holding
    `today`; None when it or the main scheme is not installed, or it is the main one."""
    primary, scheme = schemes.get(person.scheme_id), schemes.get(body[0])
    if primary is None or scheme is None or scheme.id == primary.id:
        return None
    return _standing(session, person_id, person, primary, scheme, body[1], today)


def _standing(
    session: Session,
    person_id: int,
    person: PersonView,
    primary: Scheme,
    scheme: Scheme,
    status_id: str,
    today: date,
) -> BodyView:
    start, end = scheme.year_bounds(today)
    answers = bodies.chosen(session, person_id, scheme.id)
    entries = entry_store.entries_between(session, person_id, start, end)
    filed: list[EntryView] = []
    unfiled: list[Unfiled] = []
    for entry in entries:
        category, choices = file_in(primary, scheme, entry, answers)
        if not category:
            unfiled.append(Unfiled(entry.number, entry.title, choices))
        filed.append(replace(read_for(entry, primary, scheme), category=category))
    seen = replace(
        person,
        scheme_id=scheme.id,
        status_id=status_id or scheme.default_status,
        year_start=None,
        day_minutes=None,
    )
    record = Record(seen, scheme, start, end, tuple(filed))
    assessment = assess(record, today=today, plan=plan_repo.load_plan(session, person_id))
    assessment = replace(
        assessment, requirements=explained(assessment.requirements, primary, scheme)
    )
    summary = YearSummary(
        start=start,
        end=end,
        minutes_by_category=dict(assessment.minutes_by_category),
        entries=len(filed),
        pending_entries=sum(1 for e in filed if e.pending),
    )
    return BodyView(scheme.id, seen.status_id, summary, assessment, tuple(unfiled))


def file_in(
    primary: Scheme, scheme: Scheme, entry: EntryView, answers: Mapping[int, str]
) -> tuple[str, tuple[str, ...]]:
    """(the entry's category in `scheme`, or UNFILED; the categories to ask among)."""
    choices = mapped_categories(primary, entry.category, scheme)
    answer = answers.get(entry.number)
    if answer and scheme.category(answer):
        return answer, choices
    if len(choices) == 1:
        return choices[0], choices
    return UNFILED, choices


def ask_after_save(
    session: Session,
    person_id: int,
    person: PersonView,
    schemes: Mapping[str, Scheme],
    effects: Sequence[Effect],
) -> tuple[Outgoing, ...]:
    """After an entry is saved (or its category changed), the question for the first
    other body where its category cannot be derived and was not answered: asked after the
    primary's save, so the entry is never held up by it (/bodies asks again later)."""
    numbers = [
        e.number
        for e in effects
        if isinstance(e, SaveEntry) or (isinstance(e, UpdateEntry) and "category" in e.fields)
    ]
    primary = schemes.get(person.scheme_id)
    if not numbers or primary is None:
        return ()
    others = bodies.other_bodies(session, person_id)
    for number in numbers:
        entry = entry_store.entry_view(session, person_id, number)
        for scheme_id, _ in others:
            scheme = schemes.get(scheme_id)
            if entry is None or scheme is None or scheme.id == primary.id:
                continue
            answers = bodies.chosen(session, person_id, scheme.id)
            category, choices = file_in(primary, scheme, entry, answers)
            if not category:
                return (question(scheme, Unfiled(entry.number, entry.title, choices)),)
    return ()

"""Several bodies, one record (issue 16): each other body a person follows, seen in its
own CPD year from the one set of entries, and the effects that change them.

Each entry's category in another body is its answer there if the person gave one, else
derived from its primary category through the schemes' `maps_to`; an entry that maps to
several categories (and has no answer) is "unfiled" there: counted under no category
until the person answers (/bodies asks)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cached_property

from sqlmodel import Session

from bot.core import text as fmt
from bot.core.assess import assess
from bot.core.assessment import Assessment
from bot.core.body_notices import as_member_of
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
from bot.core.report import Report
from bot.core.schemes import Scheme, mapped_categories
from bot.core.snapshot import BodyView, Unfiled
from bot.dialogue.conversation import Conv, Step
from bot.dialogue.flows.bodies import asking, question
from storage import bodies, entry_store
from storage import evidence as evidence_store
from storage import plan_store as plan_repo

UNFILED = ""  # the category an unfiled entry is counted under (shown as "not yet filed")
NOT_FILED = "Not yet filed"  # its category in a body's exported record


def apply(session: Session, person_id: int, effect: Effect, now: datetime) -> bool:
    """Apply a bodies effect (True), or leave `effect` to the caller (False)."""
    if isinstance(effect, SetBodies):
        bodies.set_bodies(session, person_id, effect.scheme_ids, now=now)
        return True
    if isinstance(effect, FileCategory):
        if effect.scheme_id not in {i for i, _ in bodies.other_bodies(session, person_id)}:
            return True  # a body no longer followed: nothing kept for it
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
    record, unfiled = body_record(session, person_id, person, primary, scheme, status_id, today)
    assessment = assess(record, today=today, plan=plan_repo.load_plan(session, person_id))
    assessment = replace(
        assessment, requirements=explained(assessment.requirements, primary, scheme)
    )
    summary = YearSummary(
        start=record.start,
        end=record.end,
        minutes_by_category=dict(assessment.minutes_by_category),
        entries=len(record.entries),
        pending_entries=sum(1 for e in record.entries if e.pending),
    )
    return BodyView(scheme.id, record.person.status_id, summary, assessment, unfiled)


def body_record(
    session: Session,
    person_id: int,
    person: PersonView,
    primary: Scheme,
    scheme: Scheme,
    status_id: str,
    day: date,
) -> tuple[Record, tuple[Unfiled, ...]]:
    """The record of `scheme`'s CPD year holding `day` as that body counts it: the person
    with its status, each entry under its category there (UNFILED: not yet filed) with its
    reflections read for it; and the entries still to file."""
    start, end = scheme.year_bounds(day)
    answers = bodies.chosen(session, person_id, scheme.id)
    entries = entry_store.entries_between(session, person_id, start, end)
    kept = evidence_store.by_entry_number(session, person_id, [e.number for e in entries])
    filed: list[EntryView] = []
    unfiled: list[Unfiled] = []
    for entry in entries:
        category, choices = file_in(primary, scheme, entry, answers)
        if not category:
            unfiled.append(Unfiled(entry.number, entry.title, choices))
        seen_entry = replace(read_for(entry, primary, scheme), category=category)
        filed.append(replace(seen_entry, evidence=kept.get(entry.number, ())))
    seen = as_member_of(person, scheme, status_id)
    return Record(seen, scheme, start, end, tuple(filed)), tuple(unfiled)


@dataclass(frozen=True)
class BodyReport(Report):
    """Another body's CPD year (`body_record`) with the plan, assessed as /status assesses
    it: each per-activity check still open says which main-body questions count."""

    primary: Scheme | None = None

    @cached_property
    def assessment(self) -> Assessment:
        found = assess(self.record, today=self.today, plan=self.plan)
        if self.primary is None:
            return found
        return replace(
            found, requirements=explained(found.requirements, self.primary, self.record.scheme)
        )


def body_report(
    session: Session,
    person_id: int,
    person: PersonView,
    schemes: Mapping[str, Scheme],
    scheme_id: str,
    *,
    day: date,
    today: date,
) -> BodyReport | None:
    """`/export pdf IET`: the CPD year of body `scheme_id` holding `day`, as it counts it;
    None when the person does not follow it or it or the main scheme is not installed."""
    primary, scheme = schemes.get(person.scheme_id), schemes.get(scheme_id)
    followed = dict(bodies.other_bodies(session, person_id))
    if primary is None or scheme is None or scheme_id not in followed:
        return None
    record, _ = body_record(session, person_id, person, primary, scheme, followed[scheme_id], day)
    shown = tuple(replace(e, category=e.category or NOT_FILED) for e in record.entries)
    record = replace(record, entries=shown)
    return BodyReport(record, plan_repo.load_plan(session, person_id), (), today, primary=primary)


def also_lines(
    session: Session,
    person_id: int,
    person: PersonView,
    schemes: Mapping[str, Scheme],
    kind: str,
    day: date,
) -> tuple[str, ...]:
    """For the main body's record (its requirements section): one line per other body
    followed, its standing in its CPD year holding `day` and the export that shows it."""
    lines = []
    for view in body_views(session, person_id, person, schemes, day, standing=True):
        scheme, summary, assessment = schemes[view.scheme_id], view.summary, view.assessment
        if summary is None or assessment is None:
            continue
        short = scheme.name.split("/")[0].strip()
        hours = fmt.hours(assessment.total_minutes)
        target = assessment.target_minutes
        stand = f"{hours} of {fmt.hours(target)}" if target else f"{hours} (no hours target)"
        lines.append(
            f"Also followed: {short} — {stand} in {scheme.year_label(summary.start)}; "
            f"see /export {kind} {short}"
        )
    return tuple(lines)


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
    result: Step,
) -> tuple[tuple[Outgoing, ...], Conv]:
    """After an entry is saved (or its category changed), the question for the first
    other body where its category cannot be derived and was not answered: asked after the
    primary's save, so the entry is never held up by it (/bodies asks again later); and
    the conversation to keep, remembering the question (a category typed next answers it)."""
    numbers = [
        e.number
        for e in result.effects
        if isinstance(e, SaveEntry) or (isinstance(e, UpdateEntry) and "category" in e.fields)
    ]
    primary = schemes.get(person.scheme_id)
    if not numbers or primary is None:
        return (), result.conv
    others = bodies.other_bodies(session, person_id)
    if not others:
        return (), result.conv  # one body: no entry to load again
    for number in numbers:
        entry = entry_store.entry_view(session, person_id, number)
        for scheme_id, _ in others:
            scheme = schemes.get(scheme_id)
            if entry is None or scheme is None or scheme.id == primary.id:
                continue
            answers = bodies.chosen(session, person_id, scheme.id)
            category, choices = file_in(primary, scheme, entry, answers)
            if not category:
                asked = question(scheme, Unfiled(entry.number, entry.title, choices))
                return (asked,), asking(result.conv, scheme.id, entry.number)
    return (), result.conv

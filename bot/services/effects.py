"""A step's effects written in the event's transaction (bot.services.engine).

Each effect the dialogue returns (bot.core.model) goes to the storage function that writes
it: the person, calendar feeds and sign-ins, entries, the development plan, and the
families that keep their own dispatch (other bodies, audit packs, evidence). What storage
still refuses (an objective or entry changed meanwhile) raises `PlanError`; the engine
turns it into a reply and rolls the whole event back. `/forget` (`ForgetPerson`) erases
the person, and nothing after it is written.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session

from bot.core.model import (
    AddFeed,
    AddGapNote,
    AddObjective,
    AddResponsibility,
    AddStatusPeriod,
    CancelSignin,
    DecideOccurrence,
    DeleteEntry,
    DeleteObjective,
    Effect,
    ForgetPerson,
    LinkEntry,
    RemoveFeed,
    RemoveResponsibility,
    RestoreEntry,
    SaveEntry,
    SetEntryTags,
    SetObjectiveDone,
    SetRole,
    UpdateEntry,
    UpdatePerson,
)
from bot.core.plan import GapNote, StatusPeriod
from bot.services import audit_packs, bodies, evidence_effects
from bot.services.evidence import EvidenceSettings
from storage import calendar_accounts, entry_store, feeds, repo, rights
from storage import plan_store as plan_repo

log = logging.getLogger("cpdbot.engine")


def apply_all(
    session: Session,
    settings: EvidenceSettings,
    person_id: int,
    effects: Iterable[Effect],
    now: datetime,
) -> bool:
    """Write `effects` in order; True if one was `/forget` (the person is gone, with the
    evidence files of theirs in `settings.directory`: nothing more is to be written)."""
    for effect in effects:
        if isinstance(effect, ForgetPerson):
            rights.forget_person(session, person_id, evidence_dir=settings.directory)
            return True
        apply(session, settings, person_id, effect, now)
    return False


def apply(
    session: Session, settings: EvidenceSettings, person_id: int, effect: Effect, now: datetime
) -> None:
    """Write one effect (not `ForgetPerson`: see `apply_all`)."""
    if isinstance(effect, UpdatePerson):
        repo.update_person(session, person_id, dict(effect.fields))
        return
    if isinstance(effect, AddFeed):
        feeds.add_feed(session, person_id, effect.url, owner_emails=effect.owner_emails, now=now)
        return
    if isinstance(effect, RemoveFeed):
        feeds.remove_feed(session, person_id, effect.feed_id)
        return
    if isinstance(effect, CancelSignin):
        calendar_accounts.cancel_signin(session, person_id)
        return
    if isinstance(effect, DecideOccurrence):
        feeds.decide(
            session,
            person_id,
            effect.occurrence_id,
            decision=effect.decision,
            now=now,
            remind_at=effect.remind_at,
            entry_number=effect.entry_number,
        )
        return
    if (
        _apply_plan(session, person_id, effect, now)
        or bodies.apply(session, person_id, effect, now)
        or audit_packs.apply(session, person_id, effect, now)
        or evidence_effects.apply(session, settings, person_id, effect, now)
    ):
        return
    _apply_entry(session, person_id, effect, now)


def _apply_entry(session: Session, person_id: int, effect: Effect, now: datetime) -> None:
    """An entry saved, changed, deleted or put back."""
    if isinstance(effect, SaveEntry):
        entry_store.create_entry(
            session,
            person_id,
            number=effect.number,
            title=effect.title,
            activity_date=effect.activity_date,
            end_date=effect.end_date,
            minutes=effect.minutes,
            category=effect.category,
            structured=effect.structured,
            source=effect.source,
            reflections=effect.reflections,
            now=now,
        )
        return
    assert isinstance(effect, UpdateEntry | DeleteEntry | RestoreEntry), effect
    entry = entry_store.get_entry(session, person_id, effect.number)
    if entry is None:
        log.warning("effect %s for a missing entry", type(effect).__name__)
        return
    if isinstance(effect, UpdateEntry):
        entry_store.update_entry(
            session, entry, fields=dict(effect.fields), reflections=effect.reflections, now=now
        )
    elif isinstance(effect, DeleteEntry):
        entry_store.set_deleted(session, entry, deleted=True, now=now)
    elif isinstance(effect, RestoreEntry):
        entry_store.set_deleted(session, entry, deleted=False, now=now)


def _apply_plan(session: Session, person_id: int, effect: Effect, now: datetime) -> bool:
    """Apply a plan effect (True), or leave `effect` to the caller (False).

    storage.plan_store raises PlanError for what cannot be done (an entry or objective that
    is not there); the engine turns it into a reply and rolls the event back."""
    if isinstance(effect, SetRole):
        plan_repo.set_role(session, person_id, effect.text, now=now)
    elif isinstance(effect, AddResponsibility):
        plan_repo.add_responsibility(session, person_id, effect.text)
    elif isinstance(effect, RemoveResponsibility):
        plan_repo.remove_responsibility(session, person_id, effect.position)
    elif isinstance(effect, AddObjective):
        plan_repo.add_objective(
            session,
            person_id,
            title=effect.title,
            area=effect.area,
            target_date=effect.target_date,
            now=now,
        )
    elif isinstance(effect, SetObjectiveDone):
        number, done = effect.number, effect.done
        plan_repo.set_objective_done(session, person_id, number, done=done, now=now)
    elif isinstance(effect, DeleteObjective):
        plan_repo.delete_objective(session, person_id, effect.number)
    elif isinstance(effect, LinkEntry):
        change = plan_repo.link_entry if effect.link else plan_repo.unlink_entry
        change(session, person_id, effect.entry_number, effect.objective_number)
    elif isinstance(effect, SetEntryTags):
        plan_repo.set_entry_tags(session, person_id, effect.entry_number, effect.tags)
    elif isinstance(effect, AddStatusPeriod):
        period = StatusPeriod(effect.status_id, effect.start, effect.end)
        plan_repo.add_status_period(session, person_id, period)
    elif isinstance(effect, AddGapNote):
        note = GapNote(effect.start, effect.end, effect.text)
        plan_repo.add_gap_note(session, person_id, note)
    else:
        return False
    return True

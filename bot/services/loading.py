"""What a step reads (bot.services.engine): the `Snapshot` for the dialogue's `Needs`.

The dialogue says what it needs for the event (`dialogue.needs`); only that is read, in
the event's transaction: the entry a command names, recent entries, the CPD year's record
or report, the plan, calendar feeds, other bodies, and the evidence (a file the event
brings is stored here, before the step: bot.services.evidence_effects).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from sqlmodel import Session

from bot import dialogue
from bot.core.model import Incoming
from bot.core.schemes import Scheme, scheme_for
from bot.core.snapshot import Needs, Snapshot
from bot.core.zones import local_today
from bot.dialogue import Conv
from bot.services import audit_packs, bodies, evidence_effects, records
from bot.services.calendar.graph_auth import MicrosoftEndpoints
from bot.services.evidence import EvidenceSettings
from storage import calendar_accounts, conversations, entry_store, feeds, rights
from storage import plan_store as plan_repo
from storage.db import Database


class Engine(Protocol):
    """What of the engine (bot.services.engine.Engine) loading reads: its settings."""

    @property
    def db(self) -> Database: ...
    @property
    def schemes(self) -> Mapping[str, Scheme]: ...
    @property
    def allow_private_feeds(self) -> bool: ...
    @property
    def microsoft(self) -> MicrosoftEndpoints | None: ...
    @property
    def evidence(self) -> EvidenceSettings: ...


def load(
    engine: Engine,
    session: Session,
    who: conversations.Who,
    conv: Conv,
    event: Incoming,
    *,
    said: datetime,
    now: datetime,
    zone: str | None,
    readings: evidence_effects.Readings,
) -> Snapshot:
    """The snapshot for `event` in `conv`: "today" as of when the person wrote (`said`),
    what is stored (the event's file) stamped `now`; `readings`: certificates' text read
    before the transaction (see evidence_effects.Unread)."""
    need = dialogue.needs(conv, event, said)  # once: the evidence part reads it too
    snap = _snapshot(engine, session, who, need, said, zone)
    settings = engine.evidence
    return evidence_effects.load(session, settings, who.person_id, need, event, snap, now, readings)


def _snapshot(
    engine: Engine,
    session: Session,
    who: conversations.Who,
    need: Needs,
    now: datetime,
    zone: str | None,
) -> Snapshot:
    person_id, view = who.person_id, who.person
    scheme, today = scheme_for(engine.schemes, view.scheme_id), local_today(now, view.timezone)
    entry = (
        entry_store.entry_view(session, person_id, need.entry_number)
        if need.entry_number is not None
        else None
    )
    recent = (
        tuple(entry_store.recent_entries(session, person_id, need.recent)) if need.recent else ()
    )
    report = record = None
    if need.report_year is not None:
        year = need.report_year or None
        report = records.year_report(session, person_id, view, scheme, today=today, year=year)
    if need.record_year is not None:
        year = need.record_year or None
        record = records.year_record(session, person_id, view, scheme, today=today, year=year)
    summary, assessment = None, None
    if need.standing:
        summary, assessment = records.standing(session, person_id, view, scheme, today)
    pending = entry_store.oldest_pending(session, person_id) if need.oldest_pending else None
    microsoft = engine.microsoft
    return Snapshot(
        now=now,
        person=view,
        is_new=who.created,
        entry=entry,
        recent=recent,
        summary=summary,
        oldest_pending=pending,
        timezone_hint=zone,
        record=record,
        feeds=tuple(feeds.feed_views(session, person_id)) if need.feeds else (),
        occurrence=(
            feeds.occurrence_view(session, person_id, need.occurrence)
            if need.occurrence is not None
            else None
        ),
        allow_private_feeds=engine.allow_private_feeds,
        signin=calendar_accounts.signin_view(session, person_id) if need.feeds else None,
        secret_key=engine.db.secrets.has_key,
        outlook=microsoft is not None and bool(microsoft.client_id),
        report=report,
        assessment=assessment,
        plan=plan_repo.load_plan(session, person_id) if need.plan else None,
        periods=tuple(plan_repo.status_periods(session, person_id)) if need.plan else (),
        linked=tuple(entry_store.linked_entries(session, person_id)) if need.linked else (),
        holdings=rights.count_rows(session, person_id) if need.holdings else {},
        profile=(
            audit_packs.profile_view(session, person_id, view, scheme, today)
            if need.profile
            else None
        ),
        bodies=(
            bodies.body_views(
                session, person_id, view, engine.schemes, today, standing=need.standing
            )
            if need.bodies
            else ()
        ),
    )

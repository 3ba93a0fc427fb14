"""What the dialogue asks to have loaded (`Needs`) and what the engine loads for it
(`Snapshot`): the dialogue never reads storage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from bot.core.assessment import Assessment
from bot.core.model import (
    EntryView,
    EvidenceView,
    FeedView,
    OccurrenceView,
    PersonView,
    ProfileView,
    SigninView,
    YearSummary,
)
from bot.core.plan import Plan, StatusPeriod
from bot.core.record import Record
from bot.core.report import Report


@dataclass(frozen=True)
class Needs:
    """What the dialogue needs loaded before it can take a step (it never reads the DB)."""

    entry_number: int | None = None
    recent: int = 0
    oldest_pending: bool = False
    record_year: int | None = None  # 0: the current CPD year
    feeds: bool = False
    occurrence: int | None = None  # an occurrence id carried by a calendar prompt's button
    report_year: int | None = None  # record + plan + status periods (assessment); 0: current
    standing: bool = False  # this CPD year's summary and assessment (the record not loaded)
    plan: bool = False  # the plan and every status period
    linked: bool = False  # the entries linked to an objective (/review)
    holdings: bool = False  # how many rows of each table hold the person's data (/forget)
    # Evidence (issue 16): a file the event brings is stored before the step, with entry
    # #receive (RECEIVE_LATEST: the latest entry saved within 30 minutes, else waiting;
    # RECEIVE_WAIT: waiting, for the draft under way); the evidence of entry #evidence (0:
    # every entry's), the files waiting for an entry, a certificate's facts (E-number).
    receive: int | None = None
    evidence: int | None = None
    waiting: bool = False
    certificate: int | None = None
    profile: bool = False  # the HCPC profile and its two-year period (/profile, issue 16)
    bodies: bool = False  # the other bodies the person follows (issue 16), standings too


@dataclass(frozen=True)
class Unfiled:
    """An entry whose category in another body could not be derived: the ones to ask among."""

    number: int
    title: str
    choices: tuple[str, ...]  # category ids of that body


@dataclass(frozen=True)
class BodyView:
    """Another body the person follows (issue 16), in its own CPD year: its totals and
    assessment from the one set of entries (loaded with `Needs.standing`), and the
    entries still to be filed in one of its categories."""

    scheme_id: str
    status_id: str = ""
    summary: YearSummary | None = None
    assessment: Assessment | None = None
    unfiled: tuple[Unfiled, ...] = ()


RECEIVE_LATEST = 0
RECEIVE_WAIT = -1


@dataclass(frozen=True)
class Facts:
    """What a PDF certificate states (bot.services.certificate): each one may be missing."""

    title: str | None = None
    activity_date: date | None = None
    provider: str | None = None
    minutes: int | None = None


@dataclass(frozen=True)
class Received:
    """What became of the file an event brought (`Needs.receive`), before the step: kept
    as `view` (filed with `entry`, or waiting when None), or not kept: `refused` says why
    (shown as is), or entry #`missing` is not one of the person's live entries."""

    view: EvidenceView | None = None
    entry: EntryView | None = None
    refused: str = ""
    missing: int = 0
    latest: bool = False  # filed with the latest entry because it was saved just now
    facts: Facts | None = None  # a PDF certificate's facts, when it states any
    # Another live entry the certificate's facts fit better (same date, title words)
    # than the entry it was filed with (or, waiting, any entry): offered as the move.
    match: EntryView | None = None


@dataclass(frozen=True)
class Snapshot:
    """The data loaded for `Needs`, passed to `step` with the clock reading."""

    now: datetime  # aware, UTC
    person: PersonView
    is_new: bool = False
    entry: EntryView | None = None
    recent: tuple[EntryView, ...] = ()
    summary: YearSummary | None = None
    oldest_pending: EntryView | None = None
    timezone_hint: str | None = None
    record: Record | None = None
    feeds: tuple[FeedView, ...] = ()
    occurrence: OccurrenceView | None = None  # None also when it is not this person's
    allow_private_feeds: bool = False  # operator setting CALENDAR_ALLOW_PRIVATE_NETWORKS
    # Loaded with `Needs.feeds`: the calendar sign-in under way, and what the operator set
    # up: a CPDBOT_SECRET_KEY (secrets can be stored) and MICROSOFT_CLIENT_ID (Outlook).
    signin: SigninView | None = None
    secret_key: bool = False
    outlook: bool = False
    report: Report | None = None
    assessment: Assessment | None = None  # with `summary`, for `Needs.standing`
    plan: Plan | None = None
    periods: tuple[StatusPeriod, ...] = ()  # every status period, in the order added
    linked: tuple[EntryView, ...] = ()
    holdings: Mapping[str, int] = field(default_factory=dict)  # table name -> rows
    received: Received | None = None  # evidence (issue 16): see `Needs`
    evidence: tuple[EvidenceView, ...] = ()
    waiting: tuple[EvidenceView, ...] = ()
    deleted: frozenset[int] = frozenset()  # entry numbers of `evidence` that are deleted
    facts: Facts | None = None  # `Needs.certificate`
    profile: ProfileView | None = None
    bodies: tuple[BodyView, ...] = ()  # with `Needs.bodies` (issue 16)

"""What the dialogue asks to have loaded (`Needs`) and what the engine loads for it
(`Snapshot`): the dialogue never reads storage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.assessment import Assessment
from bot.core.model import (
    EntryView,
    FeedView,
    OccurrenceView,
    PersonView,
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

"""The dialogue's test kit: a person, their events, a `Case` (state, event -> next state,
reply, effects) and the context a step reads. Tests read like chats."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from bot.core.model import (
    EntryView,
    FeedView,
    IdentityKey,
    Incoming,
    Kind,
    OccurrenceView,
    PersonView,
    ReflectionView,
    YearSummary,
)
from bot.core.plan import ObjectiveView, Plan
from bot.core.record import Record
from bot.core.report import Report
from bot.core.schemes import Scheme
from bot.core.snapshot import Snapshot
from bot.dialogue import (
    Context,
    Conv,
    Data,
    Draft,
    State,
    step,
)

S = State
ME = IdentityKey("console", "alice")
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)  # Sunday
TODAY = date(2026, 11, 22)
YESTERDAY = date(2026, 11, 21)


def person(**changes: Any) -> PersonView:
    base: dict[str, Any] = dict(
        display_name="Alice",
        timezone="Europe/London",
        scheme_id="iet",
        status_id="active",
        date_order="DMY",
        languages=("en",),
        onboarded=True,
        last_entry_number=12,
    )
    base.update(changes)
    return PersonView(**base)


ENTRY = EntryView(
    number=7,
    title="Webinar on arc-flash safety",
    activity_date=date(2026, 11, 3),
    minutes=90,
    category="events_and_seminars",
    structured=None,
    source="chat",
    deleted=False,
    reflections=(
        ReflectionView("key_points", "What were the key points?", "PPE ratings"),
        ReflectionView("change", "How will you change?", None),
    ),
)


def text(t: str) -> Incoming:
    return Incoming.text_of(ME, t)


def press(choice: str) -> Incoming:
    return Incoming(ME, Kind.CHOICE, choice=choice)


def draft(**fields: Any) -> Data:
    return Data(draft=Draft(**fields))


FULL = dict(title="Webinar", activity_date=YESTERDAY, minutes=90)
PLAN = Plan(
    role="Protection engineer",
    responsibilities=("Ethical behaviour", "Protection design"),
    objectives=(
        ObjectiveView(1, "Learn IEC 61850", "technical", date(2027, 3, 31)),
        ObjectiveView(2, "Code of conduct refresher", "ethics", None, "done"),
    ),
    links=frozenset({(7, 1)}),
    tags={7: ("A",)},
)
HOLDINGS = {"person": 1, "identity": 1, "conversation": 1, "entry": 3, "reflection": 6}


def value(field: str) -> Data:
    return Data(field=field)


def plan_snap(**more: Any) -> dict[str, Any]:
    return {"plan": PLAN, **more}


# A calendar occurrence the bot asked about: 'IET webinar: AI safety', today 08:30-10:00 UTC.
OCC = OccurrenceView(
    id=5,
    title="IET webinar: AI safety",
    start=datetime(2026, 11, 22, 8, 30, tzinfo=UTC),
    end=datetime(2026, 11, 22, 10, 0, tzinfo=UTC),
    minutes=90,
    decision="prompted",
)
ALL_DAY = OccurrenceView(
    id=6,
    title="Annual conference",
    start=datetime(2026, 11, 21, 0, 0, tzinfo=UTC),
    end=datetime(2026, 11, 22, 0, 0, tzinfo=UTC),
    minutes=None,
    decision="prompted",
)
FEEDS = (
    FeedView(1, 31, "https://calendar.google.com/calendar/ical/a%40b.com/private-x/basic.ics",
             NOW, 0),
    FeedView(2, 32, "https://outlook.office365.com/owa/calendar/x/reachcalendar.ics", None, 2),
)  # fmt: skip


@dataclass
class Case:
    name: str
    state: State
    event: Incoming
    expect_state: State
    says: str = ""
    data: Data = field(default_factory=Data)
    effects: tuple[type, ...] = ()
    scheme: str = "iet"
    snap: dict[str, Any] = field(default_factory=dict)
    person: dict[str, Any] = field(default_factory=dict)


SUMMARY = YearSummary(
    start=date(2026, 1, 1),
    end=date(2027, 1, 1),
    minutes_by_category={"events_and_seminars": 600, "training_courses": 300},
    entries=4,
    pending_entries=1,
)


def make_ctx(schemes: dict[str, Scheme], case: Case) -> Context:
    p = person(scheme_id=case.scheme, status_id=schemes[case.scheme].default_status, **case.person)
    return Context(Snapshot(now=NOW, person=p, **case.snap), schemes)


def _report(schemes: dict[str, Scheme], scheme: str, *entries: EntryView) -> Report:
    p = person(scheme_id=scheme, status_id=schemes[scheme].default_status)
    record = Record(p, schemes[scheme], date(2026, 1, 1), date(2027, 1, 1), entries)
    return Report(record, Plan(), (), TODAY)


def assert_case(case: Case, schemes: dict[str, Scheme]) -> None:
    """One row of a flow's CASES: the state it leads to, what it says, its effects."""
    result = step(Conv(case.state, case.data), case.event, make_ctx(schemes, case))
    said = "\n".join(r.text for r in result.replies)
    assert result.conv.state == case.expect_state, said
    assert case.says.lower() in said.lower()
    assert tuple(type(e) for e in result.effects) == case.effects

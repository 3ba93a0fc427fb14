"""The pure dialogue: (state, event) -> (next state, replies, effects), no database."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.core.export import Record
from bot.core.model import (
    AddFeed,
    AddGapNote,
    AddObjective,
    AddResponsibility,
    AddStatusPeriod,
    DecideOccurrence,
    DeleteEntry,
    DeleteObjective,
    EntryView,
    FeedView,
    ForgetPerson,
    IdentityKey,
    Incoming,
    Kind,
    LinkEntry,
    OccurrenceView,
    PersonView,
    ReflectionView,
    RemoveFeed,
    RemoveResponsibility,
    RestoreEntry,
    SaveEntry,
    SetEntryTags,
    SetObjectiveDone,
    SetRole,
    UpdateEntry,
    UpdatePerson,
    YearSummary,
)
from bot.core.plan import ObjectiveView, Plan, StatusPeriod
from bot.core.report import Report
from bot.core.schemes import Scheme
from bot.core.snapshot import Needs, Snapshot
from bot.dialogue import (
    TRANSITIONS,
    Context,
    Conv,
    Data,
    Draft,
    PlanDraft,
    State,
    Undo,
    needs,
    step,
)
from bot.services.engine import summary_of

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

CASES = [
    # onboarding
    Case(
        "new user's first message starts onboarding",
        S.IDLE,
        text("hello"),
        S.ONBOARD_SCHEME,
        "Which professional body",
        person={"onboarded": False},
    ),
    Case(
        "/start asks for the scheme", S.IDLE, text("/start"), S.ONBOARD_SCHEME, "Which professional"
    ),
    Case(
        "scheme tapped",
        S.ONBOARD_SCHEME,
        press("scheme:ies"),
        S.ONBOARD_TIMEZONE,
        "time zone",
        effects=(UpdatePerson,),
    ),
    Case(
        "scheme typed by name",
        S.ONBOARD_SCHEME,
        text("STEP"),
        S.ONBOARD_TIMEZONE,
        "time zone",
        effects=(UpdatePerson,),
    ),
    Case("unknown scheme", S.ONBOARD_SCHEME, text("ACME"), S.ONBOARD_SCHEME, "pick one"),
    Case(
        "zone tapped",
        S.ONBOARD_TIMEZONE,
        press("tz:Europe/London"),
        S.IDLE,
        "All set",
        effects=(UpdatePerson,),
    ),
    Case(
        "zone typed as a city",
        S.ONBOARD_TIMEZONE,
        text("new york"),
        S.IDLE,
        "America/New_York",
        effects=(UpdatePerson,),
    ),
    Case(
        "unknown zone",
        S.ONBOARD_TIMEZONE,
        text("Atlantis"),
        S.ONBOARD_TIMEZONE,
        "don't know the time zone 'Atlantis'",
    ),
    Case(
        "/cancel during onboarding keeps defaults",
        S.ONBOARD_SCHEME,
        text("/cancel"),
        S.IDLE,
        "/settings changes them",
        effects=(UpdatePerson,),
    ),
    *[
        Case(
            f"first message replayed into {target}",
            S.ONBOARD_TIMEZONE,
            press("tz:UTC"),
            target,
            "All set",
            data=Data(pending={"kind": "command", "text": line, "command": cmd, "args": args}),
            effects=(UpdatePerson,),
            person={"onboarded": False},
            snap={"entry": ENTRY, "oldest_pending": ENTRY, "plan": PLAN},
        )
        for target, line, cmd, args in [
            (S.LOG_TITLE, "/log", "log", ""),
            (S.LOG_DATE, "/log 1h webinar", "log", "1h webinar"),
            (S.LOG_HOURS, "/log webinar yesterday", "log", "webinar yesterday"),
            (S.LOG_CATEGORY, "/log 1h webinar yesterday", "log", "1h webinar yesterday"),
            (
                S.LOG_REFLECT,
                "/log 1h webinar yesterday #events",
                "log",
                "1h webinar yesterday #events",
            ),
            (S.REFLECT_PENDING, "/reflect", "reflect", ""),
            (S.DELETE_CONFIRM, "/delete 7", "delete", "7"),
            (S.EDIT_FIELD, "/edit 7", "edit", "7"),
            (S.SETTINGS_MENU, "/settings", "settings", ""),
            (S.PLAN_MENU, "/plan", "plan", ""),
        ]
    ],
    Case(
        "first message replayed into structured question",
        S.ONBOARD_TIMEZONE,
        press("tz:UTC"),
        S.LOG_STRUCTURED,
        "structured",
        scheme="step",
        person={"onboarded": False},
        data=Data(
            pending={
                "kind": "command",
                "text": "/log 1h chat yesterday #other",
                "command": "log",
                "args": "1h chat yesterday #other",
            }
        ),
        effects=(UpdatePerson,),
    ),
    # /log guided
    Case("/log alone asks what you did", S.IDLE, text("/log"), S.LOG_TITLE, "What did you do?"),
    Case(
        "title", S.LOG_TITLE, text("Read IET wiring regs"), S.LOG_DATE, "When was it?", data=draft()
    ),
    Case(
        "title with a date",
        S.LOG_TITLE,
        text("site visit yesterday"),
        S.LOG_HOURS,
        "How long",
        data=draft(),
    ),
    Case(
        "title with date and hours",
        S.LOG_TITLE,
        text("site visit yesterday 2h"),
        S.LOG_CATEGORY,
        "Which category",
        data=draft(),
    ),
    Case(
        "title with everything",
        S.LOG_TITLE,
        text("seminar yesterday 2h #events"),
        S.LOG_REFLECT,
        "Reflection 1/2",
        data=draft(),
    ),
    Case(
        "title with everything but structured",
        S.LOG_TITLE,
        text("chat yesterday 2h #other"),
        S.LOG_STRUCTURED,
        "structured",
        data=draft(),
        scheme="step",
    ),
    Case("title too long", S.LOG_TITLE, text("x" * 201), S.LOG_TITLE, "limit is 200", data=draft()),
    Case(
        "date typed",
        S.LOG_DATE,
        text("yesterday"),
        S.LOG_HOURS,
        "How long",
        data=draft(title="Webinar"),
    ),
    Case(
        "date tapped",
        S.LOG_DATE,
        press("date:2026-11-21"),
        S.LOG_HOURS,
        "How long",
        data=draft(title="Webinar"),
    ),
    Case(
        "date when hours known",
        S.LOG_DATE,
        text("3 Nov"),
        S.LOG_CATEGORY,
        "Which category",
        data=draft(title="Webinar", minutes=60),
    ),
    Case(
        "date when hours and category known",
        S.LOG_DATE,
        text("3 Nov"),
        S.LOG_REFLECT,
        "Reflection 1/2",
        data=draft(title="Webinar", minutes=60, category="self_study"),
    ),
    Case(
        "date when structured unknown",
        S.LOG_DATE,
        text("3 Nov"),
        S.LOG_STRUCTURED,
        "structured",
        data=draft(title="W", minutes=60, category="other"),
        scheme="step",
    ),
    Case(
        "future date refused",
        S.LOG_DATE,
        text("tomorrow"),
        S.LOG_DATE,
        "in the future",
        data=draft(title="Webinar"),
    ),
    Case(
        "nonsense date",
        S.LOG_DATE,
        text("when pigs fly"),
        S.LOG_DATE,
        "couldn't read 'when pigs fly' as a date",
        data=draft(title="Webinar"),
    ),
    Case(
        "hours typed",
        S.LOG_HOURS,
        text("1h30"),
        S.LOG_CATEGORY,
        "Which category",
        data=draft(title="W", activity_date=YESTERDAY),
    ),
    Case(
        "hours tapped, category known",
        S.LOG_HOURS,
        press("min:90"),
        S.LOG_REFLECT,
        "Reflection 1/2",
        data=draft(title="W", activity_date=YESTERDAY, category="self_study"),
    ),
    Case(
        "hours when structured unknown",
        S.LOG_HOURS,
        text("2h"),
        S.LOG_STRUCTURED,
        "structured",
        data=draft(title="W", activity_date=YESTERDAY, category="other"),
        scheme="step",
    ),
    Case(
        "zero hours",
        S.LOG_HOURS,
        text("0h"),
        S.LOG_HOURS,
        "not a positive duration",
        data=draft(title="W", activity_date=YESTERDAY),
    ),
    Case(
        "negative hours",
        S.LOG_HOURS,
        text("-2h"),
        S.LOG_HOURS,
        "not a positive duration",
        data=draft(title="W", activity_date=YESTERDAY),
    ),
    Case(
        "more than a day",
        S.LOG_HOURS,
        text("25h"),
        S.LOG_HOURS,
        "more than the 24 hours",
        data=draft(title="W", activity_date=YESTERDAY),
    ),
    Case(
        "hours nonsense",
        S.LOG_HOURS,
        text("lots"),
        S.LOG_HOURS,
        "Try 1.5h",
        data=draft(title="W", activity_date=YESTERDAY),
    ),
    Case(
        "category tapped",
        S.LOG_CATEGORY,
        press("cat:self_study"),
        S.LOG_REFLECT,
        "Reflection 1/2",
        data=draft(**FULL),
    ),
    Case(
        "category typed by label",
        S.LOG_CATEGORY,
        text("events and seminars"),
        S.LOG_REFLECT,
        "Reflection 1/2",
        data=draft(**FULL),
    ),
    Case(
        "category without a structured default",
        S.LOG_CATEGORY,
        press("cat:other"),
        S.LOG_STRUCTURED,
        "structured",
        data=draft(**FULL),
        scheme="step",
    ),
    Case(
        "category with a structured default skips the question",
        S.LOG_CATEGORY,
        press("cat:reading"),
        S.LOG_REFLECT,
        "Reflection 1/2",
        data=draft(**FULL),
        scheme="step",
    ),
    Case(
        "unknown category",
        S.LOG_CATEGORY,
        text("juggling"),
        S.LOG_CATEGORY,
        "'juggling' is not a category",
        data=draft(**FULL),
    ),
    Case(
        "structured yes",
        S.LOG_STRUCTURED,
        press("struct:yes"),
        S.LOG_REFLECT,
        "Reflection",
        data=draft(**FULL, category="other"),
        scheme="step",
    ),
    Case(
        "structured typed",
        S.LOG_STRUCTURED,
        text("unstructured"),
        S.LOG_REFLECT,
        "Reflection",
        data=draft(**FULL, category="other"),
        scheme="step",
    ),
    Case(
        "structured nonsense",
        S.LOG_STRUCTURED,
        text("maybe"),
        S.LOG_STRUCTURED,
        "yes",
        data=draft(**FULL, category="other"),
        scheme="step",
    ),
    Case(
        "first reflection answered",
        S.LOG_REFLECT,
        text("PPE ratings matter"),
        S.LOG_REFLECT,
        "Reflection 2/2",
        data=draft(**FULL, category="self_study", questions=["key_points", "change"]),
    ),
    Case(
        "last reflection saves",
        S.LOG_REFLECT,
        text("Check labels"),
        S.IDLE,
        "Saved #13",
        data=draft(
            **FULL,
            category="self_study",
            questions=["key_points", "change"],
            answers={"key_points": "x"},
        ),
        effects=(SaveEntry,),
    ),
    Case(
        "skip the last reflection saves it pending",
        S.LOG_REFLECT,
        press("r:skip"),
        S.IDLE,
        "1 reflection left for later",
        effects=(SaveEntry,),
        data=draft(
            **FULL,
            category="self_study",
            questions=["key_points", "change"],
            answers={"key_points": "x"},
        ),
    ),
    Case(
        "later saves with all pending",
        S.LOG_REFLECT,
        text("later"),
        S.IDLE,
        "2 reflections left for later",
        effects=(SaveEntry,),
        data=draft(**FULL, category="self_study", questions=["key_points", "change"]),
    ),
    Case(
        "reflection over the limit",
        S.LOG_REFLECT,
        text("y" * 3001),
        S.LOG_REFLECT,
        "3,001 characters",
        data=draft(**FULL, category="self_study", questions=["key_points", "change"]),
    ),
    Case(
        "reflection choice button",
        S.LOG_REFLECT,
        press("ans:0"),
        S.LOG_REFLECT,
        "Reflection 2/2",
        scheme="step",
        data=draft(
            **FULL,
            category="reading",
            structured=False,
            structured_known=True,
            questions=["use_again", "impact"],
        ),
    ),
    # quick entry
    Case(
        "quick entry with everything",
        S.IDLE,
        text("/log 1.5h webinar on arc-flash yesterday #events"),
        S.LOG_REFLECT,
        "Got it: 'Webinar on arc-flash' · yesterday · 1 h 30 · Events and seminars",
    ),
    Case("quick entry without date", S.IDLE, text("/log 2h site visit"), S.LOG_DATE, "When was it"),
    Case(
        "quick entry without hours",
        S.IDLE,
        text("/log site visit yesterday"),
        S.LOG_HOURS,
        "How long",
    ),
    Case(
        "quick entry without a category",
        S.IDLE,
        text("/log 2h site visit yesterday"),
        S.LOG_CATEGORY,
        "Which category",
    ),
    Case(
        "quick entry, category without a structured default",
        S.IDLE,
        text("/log 2h chat yesterday #other"),
        S.LOG_STRUCTURED,
        "structured",
        scheme="step",
    ),
    Case(
        "quick entry with nothing but a title",
        S.IDLE,
        text("/log site visit"),
        S.LOG_DATE,
        "When was it",
    ),
    Case(
        "quick entry with zero hours asks again",
        S.IDLE,
        text("/log 0h webinar yesterday"),
        S.LOG_HOURS,
        "not a positive duration",
    ),
    Case(
        "quick entry dated in the future",
        S.IDLE,
        text("/log 1h webinar tomorrow"),
        S.LOG_DATE,
        "in the future",
    ),
    Case(
        "quick entry with an unknown #category",
        S.IDLE,
        text("/log 1h webinar yesterday #zzz"),
        S.LOG_CATEGORY,
        "don't know the category #zzz",
    ),
    Case(
        "plain text with hours logs it",
        S.IDLE,
        text("1h reading BS 7671 yesterday"),
        S.LOG_CATEGORY,
        "Got it",
    ),
    Case("plain chatter gets a pointer", S.IDLE, text("hello there"), S.IDLE, "/log"),
    Case(
        "slash-less command words work when idle",
        S.IDLE,
        text("log 1h webinar yesterday"),
        S.LOG_CATEGORY,
        "Got it",
    ),
    # reflect later
    Case(
        "/reflect with something pending",
        S.IDLE,
        text("/reflect"),
        S.REFLECT_PENDING,
        "Reflecting on #7",
        snap={"oldest_pending": ENTRY},
    ),
    Case("/reflect with nothing pending", S.IDLE, text("/reflect"), S.IDLE, "No reflections"),
    Case(
        "/reflect answer of the last pending",
        S.REFLECT_PENDING,
        text("Label the panels"),
        S.IDLE,
        "reflections saved for #7",
        effects=(UpdateEntry,),
        snap={"entry": ENTRY},
        data=Data(target=7, draft=Draft(questions=["change"])),
    ),
    Case(
        "/reflect later",
        S.REFLECT_PENDING,
        text("later"),
        S.IDLE,
        "can wait",
        snap={"entry": ENTRY},
        data=Data(target=7, draft=Draft(questions=["change"])),
    ),
    # delete
    Case(
        "/delete asks first",
        S.IDLE,
        text("/delete 7"),
        S.DELETE_CONFIRM,
        "Delete #7",
        snap={"entry": ENTRY},
    ),
    Case(
        "/delete of an entry that is not yours or not there",
        S.IDLE,
        text("/delete 99"),
        S.IDLE,
        "no entry #99",
    ),
    Case("/delete without a number", S.IDLE, text("/delete"), S.IDLE, "Which entry?"),
    Case("/delete with junk", S.IDLE, text("/delete seven"), S.IDLE, "Which entry?"),
    Case(
        "delete confirmed",
        S.DELETE_CONFIRM,
        press("del:yes:7"),
        S.IDLE,
        "Deleted #7",
        data=Data(target=7),
        effects=(DeleteEntry,),
    ),
    Case("delete declined", S.DELETE_CONFIRM, text("keep"), S.IDLE, "Kept #7", data=Data(target=7)),
    Case(
        "delete: stale button of another entry",
        S.DELETE_CONFIRM,
        press("del:yes:3"),
        S.DELETE_CONFIRM,
        "earlier message",
        data=Data(target=7),
    ),
    # undo
    Case(
        "undo a save",
        S.IDLE,
        text("/undo"),
        S.IDLE,
        "removed",
        effects=(DeleteEntry,),
        data=Data(undo=Undo(kind="saved", number=13, title="W")),
    ),
    Case(
        "undo button of the last save",
        S.IDLE,
        press("undo:13"),
        S.IDLE,
        "removed",
        effects=(DeleteEntry,),
        data=Data(undo=Undo(kind="saved", number=13, title="W")),
    ),
    Case(
        "undo button of an older save",
        S.IDLE,
        press("undo:12"),
        S.IDLE,
        "earlier action",
        data=Data(undo=Undo(kind="saved", number=13, title="W")),
    ),
    Case(
        "undo a delete",
        S.IDLE,
        text("/undo"),
        S.IDLE,
        "is back",
        effects=(RestoreEntry,),
        data=Data(undo=Undo(kind="deleted", number=7, title="#7")),
    ),
    Case(
        "undo an edit",
        S.IDLE,
        text("/undo"),
        S.IDLE,
        "as it was",
        effects=(UpdateEntry,),
        data=Data(undo=Undo(kind="edited", number=7, title="W", previous={"minutes": 60})),
    ),
    Case("nothing to undo", S.IDLE, text("/undo"), S.IDLE, "nothing to undo"),
    # edit
    Case(
        "/edit shows the entry",
        S.IDLE,
        text("/edit 7"),
        S.EDIT_FIELD,
        "Reflection 2",
        snap={"entry": ENTRY},
    ),
    Case("/edit of a missing entry", S.IDLE, text("/edit 8"), S.IDLE, "no entry #8"),
    Case(
        "edit: field chosen",
        S.EDIT_FIELD,
        press("field:hours"),
        S.EDIT_VALUE,
        "new hours",
        data=Data(target=7),
        snap={"entry": ENTRY},
    ),
    Case(
        "edit: field typed",
        S.EDIT_FIELD,
        text("reflection 2"),
        S.EDIT_VALUE,
        "new answer",
        data=Data(target=7),
        snap={"entry": ENTRY},
    ),
    Case(
        "edit: done",
        S.EDIT_FIELD,
        press("field:done"),
        S.IDLE,
        "Done editing #7",
        data=Data(target=7),
        snap={"entry": ENTRY},
    ),
    Case(
        "edit: hours changed",
        S.EDIT_VALUE,
        text("2h"),
        S.EDIT_FIELD,
        "hours 1 h 30 → 2 h",
        data=Data(target=7, field="hours"),
        snap={"entry": ENTRY},
        effects=(UpdateEntry,),
    ),
    Case(
        "edit: bad hours",
        S.EDIT_VALUE,
        text("-1h"),
        S.EDIT_VALUE,
        "not a positive",
        data=Data(target=7, field="hours"),
        snap={"entry": ENTRY},
    ),
    Case(
        "edit: date in the future",
        S.EDIT_VALUE,
        text("next friday"),
        S.EDIT_VALUE,
        "in the future",
        data=Data(target=7, field="date"),
        snap={"entry": ENTRY},
    ),
    Case(
        "edit: pending reflection answered",
        S.EDIT_VALUE,
        text("Label panels"),
        S.EDIT_FIELD,
        "reflection updated",
        data=Data(target=7, field="r:change"),
        snap={"entry": ENTRY},
        effects=(UpdateEntry,),
    ),
    Case(
        "edit: category",
        S.EDIT_VALUE,
        press("cat:self_study"),
        S.EDIT_FIELD,
        "Events and seminars → Self-study",
        data=Data(target=7, field="category"),
        snap={"entry": ENTRY},
        effects=(UpdateEntry,),
    ),
    # settings
    Case("/settings shows the menu", S.IDLE, text("/settings"), S.SETTINGS_MENU, "Time zone"),
    Case(
        "settings: choose time zone",
        S.SETTINGS_MENU,
        press("set:timezone"),
        S.SETTINGS_VALUE,
        "time zone",
    ),
    Case("settings: done", S.SETTINGS_MENU, press("set:done"), S.IDLE, "Settings saved"),
    Case(
        "settings: zone saved",
        S.SETTINGS_VALUE,
        text("Sydney"),
        S.SETTINGS_MENU,
        "Australia/Sydney",
        data=Data(field="timezone"),
        effects=(UpdatePerson,),
    ),
    Case(
        "settings: status saved",
        S.SETTINGS_VALUE,
        press("val:not_active"),
        S.SETTINGS_MENU,
        "10 h a year",
        data=Data(field="status"),
        effects=(UpdatePerson,),
    ),
    Case(
        "settings: bad status",
        S.SETTINGS_VALUE,
        text("emperor"),
        S.SETTINGS_VALUE,
        "pick one of the statuses",
        data=Data(field="status"),
    ),
    Case(
        "settings: date order",
        S.SETTINGS_VALUE,
        press("val:MDY"),
        S.SETTINGS_MENU,
        "month first",
        data=Data(field="date_order"),
        effects=(UpdatePerson,),
    ),
    # commands available everywhere
    Case(
        "/help mid-dialogue re-asks",
        S.LOG_HOURS,
        text("/help"),
        S.LOG_HOURS,
        "How long",
        data=draft(title="W", activity_date=YESTERDAY),
    ),
    Case(
        "/status mid-dialogue",
        S.LOG_HOURS,
        text("/status"),
        S.LOG_HOURS,
        "15 h of 30 h",
        data=draft(title="W", activity_date=YESTERDAY),
        snap={"summary": SUMMARY},
    ),
    Case(
        "/cancel abandons the draft",
        S.LOG_REFLECT,
        text("/cancel"),
        S.IDLE,
        "Nothing was saved",
        data=draft(**FULL, category="self_study", questions=["key_points"]),
    ),
    Case(
        "bare 'cancel' works too",
        S.LOG_HOURS,
        text("cancel"),
        S.IDLE,
        "Nothing was saved",
        data=draft(title="W", activity_date=YESTERDAY),
    ),
    Case("/cancel when idle", S.IDLE, text("/cancel"), S.IDLE, "Nothing to cancel"),
    Case(
        "/log while busy is refused",
        S.LOG_HOURS,
        text("/log 1h x yesterday"),
        S.LOG_HOURS,
        "middle of logging 'W'",
        data=draft(title="W", activity_date=YESTERDAY),
    ),
    Case("unknown command", S.IDLE, text("/frobnicate"), S.IDLE, "don't know /frobnicate"),
    Case(
        "stale button mid-dialogue",
        S.LOG_HOURS,
        press("cat:self_study"),
        S.LOG_HOURS,
        "earlier message",
        data=draft(title="W", activity_date=YESTERDAY),
    ),
    Case("stale button when idle", S.IDLE, press("cat:self_study"), S.IDLE, "earlier message"),
    Case("over-long message", S.LOG_TITLE, text("z" * 4001), S.LOG_TITLE, "too long", data=draft()),
    # calendar prompt buttons
    Case(
        "calendar Log it: title, date and hours filled, category asked",
        S.IDLE,
        press("cal:log:5"),
        S.LOG_CATEGORY,
        "Logging 'IET webinar: AI safety' · today · 1 h 30",
        snap={"occurrence": OCC},
    ),
    Case(
        "calendar Log it for an all-day event asks the hours",
        S.IDLE,
        press("cal:log:6"),
        S.LOG_HOURS,
        "How long",
        snap={"occurrence": ALL_DAY},
    ),
    Case(
        "calendar Log it mid-dialogue waits",
        S.LOG_HOURS,
        press("cal:log:5"),
        S.LOG_HOURS,
        "press Log it again",
        data=draft(title="W", activity_date=YESTERDAY),
        snap={"occurrence": OCC},
    ),
    Case(
        "calendar Not CPD is recorded",
        S.IDLE,
        press("cal:no:5"),
        S.IDLE,
        "not CPD; I won't ask",
        effects=(DecideOccurrence,),
        snap={"occurrence": OCC},
    ),
    Case(
        "calendar Not CPD mid-dialogue keeps the dialogue",
        S.LOG_HOURS,
        press("cal:no:5"),
        S.LOG_HOURS,
        "How long",
        data=draft(title="W", activity_date=YESTERDAY),
        effects=(DecideOccurrence,),
        snap={"occurrence": OCC},
    ),
    Case(
        "calendar Later asks again this evening",
        S.IDLE,
        press("cal:later:5"),
        S.IDLE,
        "again this evening at 19:00",
        effects=(DecideOccurrence,),
        snap={"occurrence": OCC},
    ),
    Case(
        "calendar Later pressed twice",
        S.IDLE,
        press("cal:later:5"),
        S.IDLE,
        "again later, once",
        snap={"occurrence": replace(OCC, decision="later")},
    ),
    Case(
        "calendar Later after the re-ask",
        S.IDLE,
        press("cal:later:5"),
        S.IDLE,
        "asked about",
        snap={"occurrence": replace(OCC, decision="reasked")},
    ),
    Case(
        "calendar Log it when already logged",
        S.IDLE,
        press("cal:log:5"),
        S.IDLE,
        "already logged as #13",
        snap={"occurrence": replace(OCC, decision="logged", entry_number=13)},
    ),
    Case(
        "calendar Not CPD twice",
        S.IDLE,
        press("cal:no:5"),
        S.IDLE,
        "Already noted",
        snap={"occurrence": replace(OCC, decision="not_cpd")},
    ),
    Case(
        "calendar button for an event that is not yours (or gone)",
        S.IDLE,
        press("cal:log:999"),
        S.IDLE,
        "no longer have that calendar event",
    ),
    Case(
        "saving a calendar entry records the decision",
        S.LOG_REFLECT,
        text("Alignment basics"),
        S.IDLE,
        "Saved #13",
        data=draft(
            **FULL,
            category="events_and_seminars",
            source="calendar",
            occurrence=5,
            questions=["key_points", "change"],
            answers={"key_points": "x"},
        ),
        effects=(SaveEntry, DecideOccurrence),
    ),
    # /calendar
    Case("/calendar explains itself", S.IDLE, text("/calendar"), S.IDLE, "/calendar add"),
    Case(
        "/calendar add connects a feed without echoing its secret path",
        S.IDLE,
        text(
            "/calendar add https://calendar.google.com/calendar/ical/a%40b.com/private-s3cr3t/basic.ics"
        ),
        S.IDLE,
        "Connected calendar 1 (calendar.google.com/…)",
        effects=(AddFeed,),
    ),
    Case(
        "/calendar add refuses a private address",
        S.IDLE,
        text("/calendar add http://192.168.1.10/cal.ics"),
        S.IDLE,
        "can't use that calendar address",
    ),
    Case(
        "/calendar add refuses a non-http address",
        S.IDLE,
        text("/calendar add ftp://example.com/cal.ics"),
        S.IDLE,
        "can't use that calendar address",
    ),
    Case(
        "/calendar add twice",
        S.IDLE,
        text("/calendar add " + FEEDS[0].url),
        S.IDLE,
        "already connected (number 1)",
        snap={"feeds": FEEDS},
    ),
    Case(
        "/calendar list masks the addresses",
        S.IDLE,
        text("/calendar list"),
        S.IDLE,
        "2. outlook.office365.com/… — can't be read just now",
        snap={"feeds": FEEDS},
    ),
    Case(
        "/calendar remove",
        S.IDLE,
        text("/calendar remove 2"),
        S.IDLE,
        "Disconnected calendar 2",
        effects=(RemoveFeed,),
        snap={"feeds": FEEDS},
    ),
    Case(
        "/calendar remove a number not in the list",
        S.IDLE,
        text("/calendar remove 7"),
        S.IDLE,
        "/calendar remove 1 to 2",
        snap={"feeds": FEEDS},
    ),
    Case(
        "/calendar all",
        S.IDLE,
        text("/calendar all"),
        S.IDLE,
        "all events",
        effects=(UpdatePerson,),
    ),
    Case(
        "/calendar keywords",
        S.IDLE,
        text("/calendar keywords Training, #Masterclass ,  site visit"),
        S.IDLE,
        "your keywords: training, masterclass, site visit",
        effects=(UpdatePerson,),
    ),
    Case(
        "/calendar mid-dialogue asks the question again",
        S.LOG_HOURS,
        text("/calendar list"),
        S.LOG_HOURS,
        "How long",
        data=draft(title="W", activity_date=YESTERDAY),
    ),
    # /pause and /resume
    Case(
        "/pause until a date without a year is the next one",
        S.IDLE,
        text("/pause until 5 January"),
        S.IDLE,
        "Paused until Tue 5 Jan 2027",
        effects=(UpdatePerson,),
    ),
    Case(
        "/pause until a weekday is the next one",
        S.IDLE,
        text("/pause until Friday"),
        S.IDLE,
        "Paused until Fri 27 Nov",
        effects=(UpdatePerson,),
    ),
    Case("/pause alone asks until when", S.IDLE, text("/pause"), S.IDLE, "Until when?"),
    Case(
        "/pause until a past date",
        S.IDLE,
        text("/pause until 2026-01-05"),
        S.IDLE,
        "has passed",
    ),
    Case("/pause nonsense", S.IDLE, text("/pause until never"), S.IDLE, "couldn't read 'never'"),
    Case("/pause beyond a year", S.IDLE, text("/pause until 2028-06-01"), S.IDLE, "up to a year"),
    Case(
        "/resume when paused",
        S.IDLE,
        text("/resume"),
        S.IDLE,
        "Welcome back",
        effects=(UpdatePerson,),
        person={"paused_until": date(2027, 1, 5)},
    ),
    Case("/resume when not paused", S.IDLE, text("/resume"), S.IDLE, "not paused"),
    # settings: monthly nudge and calendar events
    Case(
        "nudge day and hour typed",
        S.SETTINGS_VALUE,
        text("15th at 8am"),
        S.SETTINGS_MENU,
        "Monthly nudge: the 15th at 08:00, every month",
        data=Data(field="nudges"),
        effects=(UpdatePerson,),
    ),
    Case(
        "nudge only when behind",
        S.SETTINGS_VALUE,
        press("val:behind"),
        S.SETTINGS_MENU,
        "only when you're behind",
        data=Data(field="nudges"),
        effects=(UpdatePerson,),
    ),
    Case(
        "nudge off",
        S.SETTINGS_VALUE,
        press("val:off"),
        S.SETTINGS_MENU,
        "Monthly nudge: off",
        data=Data(field="nudges"),
        effects=(UpdatePerson,),
    ),
    Case(
        "nudge at half past refused",
        S.SETTINGS_VALUE,
        text("1 at 8:30"),
        S.SETTINGS_VALUE,
        "whole hour",
        data=Data(field="nudges"),
    ),
    Case(
        "nudge nonsense",
        S.SETTINGS_VALUE,
        text("whenever"),
        S.SETTINGS_VALUE,
        "day of the month and an hour",
        data=Data(field="nudges"),
    ),
    Case(
        "calendar events: all",
        S.SETTINGS_VALUE,
        press("val:all"),
        S.SETTINGS_MENU,
        "Calendar events: all events",
        data=Data(field="calendar"),
        effects=(UpdatePerson,),
    ),
    Case(
        "monthly nudge chosen in the settings menu",
        S.SETTINGS_MENU,
        press("set:nudges"),
        S.SETTINGS_VALUE,
        "the 1st at 09:00, every month",
    ),
    # /plan: one-liners
    Case(
        "/plan shows the plan and its menu",
        S.IDLE,
        text("/plan"),
        S.PLAN_MENU,
        "Role: Protection engineer",
        snap=plan_snap(),
    ),
    Case(
        "/plan with nothing planned yet",
        S.IDLE,
        text("/plan"),
        S.PLAN_MENU,
        "Objectives: none yet",
        snap={"plan": Plan()},
    ),
    Case(
        "/plan link entry to objective in one line",
        S.IDLE,
        text("/plan link 7 2"),
        S.IDLE,
        "Linked #7 'Webinar on arc-flash safety' to O2",
        effects=(LinkEntry,),
        snap=plan_snap(entry=ENTRY),
    ),
    Case(
        "/plan link to an objective that does not exist",
        S.IDLE,
        text("/plan link 7 O9"),
        S.IDLE,
        "no objective O9 (yours: O1, O2)",
        snap=plan_snap(entry=ENTRY),
    ),
    Case(
        "/plan link an entry you don't have (another person's number)",
        S.IDLE,
        text("/plan link 99 1"),
        S.IDLE,
        "You have no entry #99",
        snap=plan_snap(),
    ),
    Case(
        "/plan link a deleted entry",
        S.IDLE,
        text("/plan link 7 1"),
        S.IDLE,
        "You have no entry #7",
        snap=plan_snap(entry=replace(ENTRY, deleted=True)),
    ),
    Case(
        "/plan link twice",
        S.IDLE,
        text("/plan link #7 O1"),
        S.IDLE,
        "already linked to O1",
        snap=plan_snap(entry=ENTRY),
    ),
    Case(
        "/plan unlink",
        S.IDLE,
        text("/plan unlink 7 1"),
        S.IDLE,
        "Unlinked #7",
        effects=(LinkEntry,),
        snap=plan_snap(entry=ENTRY),
    ),
    Case(
        "/plan link without numbers",
        S.IDLE,
        text("/plan link the webinar"),
        S.IDLE,
        "e.g. '12 O3'",
        snap=plan_snap(),
    ),
    Case(
        "/plan tag with UK-SPEC letters",
        S.IDLE,
        text("/plan tag 7 a, c"),
        S.IDLE,
        "#7 tagged: A (Knowledge and understanding), C (Responsibility",
        effects=(SetEntryTags,),
        snap=plan_snap(entry=ENTRY),
    ),
    Case(
        "/plan done marks an objective achieved",
        S.IDLE,
        text("/plan done O1"),
        S.IDLE,
        "O1 'Learn IEC 61850' marked done",
        effects=(SetObjectiveDone,),
        snap=plan_snap(),
    ),
    Case(
        "/plan done twice",
        S.IDLE,
        text("/plan done 2"),
        S.IDLE,
        "already marked done",
        snap=plan_snap(),
    ),
    Case(
        "/plan done unknown objective",
        S.IDLE,
        text("/plan done 5"),
        S.IDLE,
        "no objective O5",
        snap=plan_snap(),
    ),
    Case(
        "/plan role in one line",
        S.IDLE,
        text("/plan role senior engineer"),
        S.IDLE,
        "Role set: Senior engineer",
        effects=(SetRole,),
        snap=plan_snap(),
    ),
    Case(
        "/plan something else",
        S.IDLE,
        text("/plan frobnicate"),
        S.IDLE,
        "/plan link 12 3",
        snap=plan_snap(),
    ),
    Case(
        "/plan in the middle of logging",
        S.LOG_HOURS,
        text("/plan"),
        S.LOG_HOURS,
        "middle of logging 'W'",
        data=draft(title="W", activity_date=YESTERDAY),
        snap=plan_snap(),
    ),
    Case("plan typed alone opens it", S.IDLE, text("plan"), S.PLAN_MENU, "Role:", snap=plan_snap()),
    Case(
        "an activity starting with 'review' is logged, not a command",
        S.IDLE,
        text("Review of BS 7671 amendment 1h yesterday"),
        S.LOG_CATEGORY,
        "Got it: 'Review of BS 7671 amendment'",
        snap=plan_snap(),
    ),
    Case(
        "/plan tag with a colon",
        S.IDLE,
        text("/plan tag #7: b"),
        S.IDLE,
        "#7 tagged: B (Design and development",
        effects=(SetEntryTags,),
        snap=plan_snap(entry=ENTRY),
    ),
    # /plan: the menu
    Case(
        "plan menu: set role",
        S.PLAN_MENU,
        press("plan:role"),
        S.PLAN_VALUE,
        "What is your role?",
        snap=plan_snap(),
    ),
    Case(
        "plan menu: add objective typed",
        S.PLAN_MENU,
        text("add objective"),
        S.PLAN_VALUE,
        "What is the objective?",
        snap=plan_snap(),
    ),
    Case(
        "plan menu: leave or exemption",
        S.PLAN_MENU,
        press("plan:period"),
        S.PLAN_STATUS,
        "Which status applies for part of the year?",
        snap=plan_snap(),
    ),
    Case(
        "plan menu: a button this scheme's menu does not offer is stale",
        S.PLAN_MENU,
        press("plan:period"),
        S.PLAN_MENU,
        "earlier message",
        scheme="step",
        snap=plan_snap(),
    ),
    Case(
        "plan menu: another dialogue's button is stale",
        S.PLAN_MENU,
        press("del:no"),
        S.PLAN_MENU,
        "earlier message",
        snap=plan_snap(),
    ),
    Case(
        "plan menu: nonsense",
        S.PLAN_MENU,
        text("banana"),
        S.PLAN_MENU,
        "pick what to change",
        snap=plan_snap(),
    ),
    Case(
        "plan menu: done", S.PLAN_MENU, press("plan:done"), S.IDLE, "Plan saved", snap=plan_snap()
    ),
    # /plan: values
    Case(
        "role typed",
        S.PLAN_VALUE,
        text("lead  engineer, substations"),
        S.PLAN_MENU,
        "Role set: Lead engineer, substations",
        data=value("role"),
        effects=(SetRole,),
        snap=plan_snap(),
    ),
    Case(
        "role cleared",
        S.PLAN_VALUE,
        press("pv:clear"),
        S.PLAN_MENU,
        "Role cleared",
        data=value("role"),
        effects=(SetRole,),
        snap=plan_snap(),
    ),
    Case(
        "role too long",
        S.PLAN_VALUE,
        text("x" * 301),
        S.PLAN_VALUE,
        "under 300 characters",
        data=value("role"),
        snap=plan_snap(),
    ),
    Case(
        "responsibilities added, one already known",
        S.PLAN_VALUE,
        text("Budgets; protection design; Mentoring"),
        S.PLAN_MENU,
        "Added: Budgets; Mentoring. You have 4 key responsibilities",
        data=value("resp_add"),
        effects=(AddResponsibility, AddResponsibility),
        snap=plan_snap(),
    ),
    Case(
        "STEP: responsibilities short of five are pointed out",
        S.PLAN_VALUE,
        text("Budgets"),
        S.PLAN_MENU,
        "STEP asks for 5–7",
        data=value("resp_add"),
        effects=(AddResponsibility,),
        scheme="step",
        snap=plan_snap(),
    ),
    Case(
        "responsibility already there",
        S.PLAN_VALUE,
        text("ethical behaviour"),
        S.PLAN_VALUE,
        "already one of your key responsibilities",
        data=value("resp_add"),
        snap=plan_snap(),
    ),
    Case(
        "responsibility removed by its button",
        S.PLAN_VALUE,
        press("pv:2"),
        S.PLAN_MENU,
        "Removed 'Protection design'",
        data=value("resp_remove"),
        effects=(RemoveResponsibility,),
        snap=plan_snap(),
    ),
    Case(
        "responsibility number out of range",
        S.PLAN_VALUE,
        text("5"),
        S.PLAN_VALUE,
        "number from 1 to 2",
        data=value("resp_remove"),
        snap=plan_snap(),
    ),
    Case(
        "objective title",
        S.PLAN_VALUE,
        text("Learn about HVDC links"),
        S.PLAN_AREA,
        "Which area is 'Learn about HVDC links' in?",
        data=value("obj_title"),
        snap=plan_snap(),
    ),
    Case(
        "objective done by its button",
        S.PLAN_VALUE,
        press("pv:1"),
        S.PLAN_MENU,
        "O1 'Learn IEC 61850' marked done",
        data=value("obj_done"),
        effects=(SetObjectiveDone,),
        snap=plan_snap(),
    ),
    Case(
        "objective removed with its links",
        S.PLAN_VALUE,
        press("pv:1"),
        S.PLAN_MENU,
        "Removed O1 'Learn IEC 61850' and its 1 link; the entries stay",
        data=value("obj_remove"),
        effects=(DeleteObjective,),
        snap=plan_snap(),
    ),
    Case(
        "objective button for one removed since",
        S.PLAN_VALUE,
        press("pv:9"),
        S.PLAN_VALUE,
        "no objective O9",
        data=value("obj_remove"),
        snap=plan_snap(),
    ),
    Case(
        "link typed",
        S.PLAN_VALUE,
        text("7 to O2"),
        S.PLAN_MENU,
        "Linked #7",
        data=value("link"),
        effects=(LinkEntry,),
        snap=plan_snap(entry=ENTRY),
    ),
    Case(
        "link to an entry that is not yours",
        S.PLAN_VALUE,
        text("99 1"),
        S.PLAN_VALUE,
        "no entry #99",
        data=value("link"),
        snap=plan_snap(),
    ),
    Case(
        "link typed badly",
        S.PLAN_VALUE,
        text("the webinar"),
        S.PLAN_VALUE,
        "e.g. '12 O3'",
        data=value("link"),
        snap=plan_snap(),
    ),
    Case(
        "a numbered button where text is expected is stale",
        S.PLAN_VALUE,
        press("pv:2"),
        S.PLAN_VALUE,
        "earlier message",
        data=value("link"),
        snap=plan_snap(),
    ),
    Case(
        "tags cleared",
        S.PLAN_VALUE,
        text("7 none"),
        S.PLAN_MENU,
        "Tags cleared for #7",
        data=value("tag"),
        effects=(SetEntryTags,),
        snap=plan_snap(entry=ENTRY),
    ),
    Case(
        "tag too long",
        S.PLAN_VALUE,
        text("7 competence-area-seventeen"),
        S.PLAN_VALUE,
        "at most 16 characters",
        data=value("tag"),
        snap=plan_snap(entry=ENTRY),
    ),
    Case(
        "gap explained",
        S.PLAN_VALUE,
        text("1 June to 31 August: sick leave"),
        S.PLAN_MENU,
        "Gap explained: 1 Jun 2026 – 31 Aug 2026: Sick leave",
        data=value("gap"),
        effects=(AddGapNote,),
        scheme="ipem",
        snap=plan_snap(),
    ),
    Case(
        "gap without a reason",
        S.PLAN_VALUE,
        text("1 June to 31 August"),
        S.PLAN_VALUE,
        "a colon, and the reason",
        data=value("gap"),
        snap=plan_snap(),
    ),
    Case(
        "gap ending before it starts",
        S.PLAN_VALUE,
        text("31 August to 1 June: leave"),
        S.PLAN_VALUE,
        "the end comes after the start",
        data=value("gap"),
        snap=plan_snap(),
    ),
    Case(
        "gap still to come",
        S.PLAN_VALUE,
        text("1/12/2026 - 20/12/2026: leave"),
        S.PLAN_VALUE,
        "still to come",
        data=value("gap"),
        snap=plan_snap(),
    ),
    Case(
        "gap with a date that is not one",
        S.PLAN_VALUE,
        text("soon to later: leave"),
        S.PLAN_VALUE,
        "couldn't read 'soon' as a date",
        data=value("gap"),
        snap=plan_snap(),
    ),
    # /plan: a new objective's area and target date
    Case(
        "area tapped",
        S.PLAN_AREA,
        press("area:ethics"),
        S.PLAN_TARGET,
        "By when do you aim to achieve 'Learn HVDC'?",
        data=Data(plan=PlanDraft(title="Learn HVDC")),
        snap=plan_snap(),
    ),
    Case(
        "area typed",
        S.PLAN_AREA,
        text("leadership"),
        S.PLAN_TARGET,
        "By when",
        data=Data(plan=PlanDraft(title="Lead a team")),
        snap=plan_snap(),
    ),
    Case(
        "area unknown",
        S.PLAN_AREA,
        text("cooking"),
        S.PLAN_AREA,
        "Please pick an area",
        data=Data(plan=PlanDraft(title="Lead a team")),
        snap=plan_snap(),
    ),
    Case(
        "target date typed: objective added",
        S.PLAN_TARGET,
        text("31 March 2027"),
        S.PLAN_MENU,
        "Added O3 'Learn HVDC' (Technical knowledge, by 31 Mar 2027)",
        data=Data(plan=PlanDraft(title="Learn HVDC", area="technical")),
        effects=(AddObjective,),
        snap=plan_snap(),
    ),
    Case(
        "no target date: objective added",
        S.PLAN_TARGET,
        press("target:none"),
        S.PLAN_MENU,
        "Added O1 'Learn HVDC' (Ethics)",
        data=Data(plan=PlanDraft(title="Learn HVDC", area="ethics")),
        effects=(AddObjective,),
        snap={"plan": Plan()},
    ),
    Case(
        "target date in the past",
        S.PLAN_TARGET,
        text("2025-01-01"),
        S.PLAN_TARGET,
        "has passed",
        data=Data(plan=PlanDraft(title="Learn HVDC", area="technical")),
        snap=plan_snap(),
    ),
    Case(
        "target date unreadable",
        S.PLAN_TARGET,
        text("someday"),
        S.PLAN_TARGET,
        "couldn't read 'someday'",
        data=Data(plan=PlanDraft(title="Learn HVDC", area="technical")),
        snap=plan_snap(),
    ),
    Case(
        "target date too far ahead",
        S.PLAN_TARGET,
        text("2040-01-01"),
        S.PLAN_TARGET,
        "within 5 years",
        data=Data(plan=PlanDraft(title="Learn HVDC", area="technical")),
        snap=plan_snap(),
    ),
    # /plan: leave or exemption, pro rata
    Case(
        "status tapped",
        S.PLAN_STATUS,
        press("pstatus:not_active"),
        S.PLAN_PERIOD,
        "From when to when (Not professionally active)?",
        data=Data(plan=PlanDraft()),
        snap=plan_snap(),
    ),
    Case(
        "status typed (IES)",
        S.PLAN_STATUS,
        text("parental leave"),
        S.PLAN_PERIOD,
        "From when to when (Parental leave)?",
        data=Data(plan=PlanDraft()),
        scheme="ies",
        snap=plan_snap(),
    ),
    Case(
        "status typed as its id's words",
        S.PLAN_STATUS,
        text("not active"),
        S.PLAN_PERIOD,
        "(Not professionally active)",
        data=Data(plan=PlanDraft()),
        snap=plan_snap(),
    ),
    Case(
        "status button of another scheme",
        S.PLAN_STATUS,
        press("pstatus:parental_leave"),
        S.PLAN_STATUS,
        "earlier message",
        data=Data(plan=PlanDraft()),
        snap=plan_snap(),
    ),
    Case(
        "IET not active for six months: pro rata",
        S.PLAN_PERIOD,
        text("1 March to 31 August"),
        S.PLAN_MENU,
        "target for CPD year 2026 is now 19 h 55 (pro rata; 30 h for a whole year)",
        data=Data(plan=PlanDraft(status="not_active")),
        effects=(AddStatusPeriod,),
        snap=plan_snap(),
    ),
    Case(
        "IES parental leave: pro rata",
        S.PLAN_PERIOD,
        text("1/3/2026 - 31/8/2026"),
        S.PLAN_MENU,
        "now 14 h 53",
        data=Data(plan=PlanDraft(status="parental_leave")),
        effects=(AddStatusPeriod,),
        scheme="ies",
        snap=plan_snap(),
    ),
    Case(
        "period ending before it starts",
        S.PLAN_PERIOD,
        text("31 August to 1 March"),
        S.PLAN_PERIOD,
        "the end comes after the start",
        data=Data(plan=PlanDraft(status="not_active")),
        snap=plan_snap(),
    ),
    Case(
        "a button while dates are expected",
        S.PLAN_PERIOD,
        press("pstatus:not_active"),
        S.PLAN_PERIOD,
        "earlier message",
        data=Data(plan=PlanDraft(status="not_active")),
        snap=plan_snap(),
    ),
    # /review and /studying
    Case(
        "/review shows each objective's progress",
        S.IDLE,
        text("/review"),
        S.IDLE,
        "O1 Learn IEC 61850 (Technical knowledge, by 31 Mar 2027) — open: 1 activity, 1 h 30",
        snap=plan_snap(linked=(ENTRY,)),
    ),
    Case(
        "/review without objectives",
        S.IDLE,
        text("/review"),
        S.IDLE,
        "No development objectives yet",
        snap={"plan": Plan()},
    ),
    Case(
        "/studying yes (IES)",
        S.IDLE,
        text("/studying yes"),
        S.IDLE,
        "IES then asks for 2 categories instead of 3",
        effects=(UpdatePerson,),
        scheme="ies",
    ),
    Case("/studying alone", S.IDLE, text("/studying"), S.IDLE, "You are not recorded as studying"),
    Case(
        "an activity starting with 'studying' is logged",
        S.IDLE,
        text("Studying for the PE exam 2h yesterday"),
        S.LOG_CATEGORY,
        "Got it: 'Studying for the PE exam'",
    ),
    # /forget
    Case(
        "/forget asks first, saying what it erases",
        S.IDLE,
        text("/forget"),
        S.FORGET_CONFIRM,
        "erases everything I hold about you — 3 entries, 6 reflections, 1 chat account link",
        snap={"holdings": HOLDINGS},
    ),
    Case(
        "FORGET typed: everything erased",
        S.FORGET_CONFIRM,
        text("FORGET"),
        S.IDLE,
        "Erased: 3 entries, 6 reflections",
        effects=(ForgetPerson,),
        snap={"holdings": HOLDINGS},
    ),
    Case(
        "Erase everything pressed",
        S.FORGET_CONFIRM,
        press("forget:yes"),
        S.IDLE,
        "This is permanent",
        effects=(ForgetPerson,),
        snap={"holdings": HOLDINGS},
    ),
    Case(
        "Keep pressed",
        S.FORGET_CONFIRM,
        press("forget:no"),
        S.IDLE,
        "Nothing was erased",
        snap={"holdings": HOLDINGS},
    ),
    Case(
        "yes is not enough to erase",
        S.FORGET_CONFIRM,
        text("yes"),
        S.FORGET_CONFIRM,
        "type FORGET",
        snap={"holdings": HOLDINGS},
    ),
    Case(
        "another dialogue's button while confirming",
        S.FORGET_CONFIRM,
        press("del:yes:7"),
        S.FORGET_CONFIRM,
        "earlier message",
        snap={"holdings": HOLDINGS},
    ),
    Case(
        "/forget by someone never set up",
        S.IDLE,
        text("/forget"),
        S.FORGET_CONFIRM,
        "erases everything",
        person={"onboarded": False},
    ),
    Case(
        "FORGET by someone never set up",
        S.FORGET_CONFIRM,
        text("forget"),
        S.IDLE,
        "Erased",
        effects=(ForgetPerson,),
        person={"onboarded": False},
    ),
]


def make_ctx(schemes: dict[str, Scheme], case: Case) -> Context:
    p = person(scheme_id=case.scheme, status_id=schemes[case.scheme].default_status, **case.person)
    return Context(Snapshot(now=NOW, person=p, **case.snap), schemes)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transition(case: Case, schemes: dict[str, Scheme]) -> None:
    result = step(Conv(case.state, case.data), case.event, make_ctx(schemes, case))
    said = "\n".join(r.text for r in result.replies)
    assert result.conv.state == case.expect_state, said
    assert case.says.lower() in said.lower()
    assert tuple(type(e) for e in result.effects) == case.effects


def test_cases_cover_every_transition_in_the_table(schemes: dict[str, Scheme]) -> None:
    seen = set()
    for case in CASES:
        result = step(Conv(case.state, case.data), case.event, make_ctx(schemes, case))
        seen.add((case.state, result.conv.state))
    missing = {(a, b) for a, _, b in TRANSITIONS} - seen
    assert not missing, f"transitions with no test: {sorted(missing)}"


@pytest.mark.parametrize("state", [s for s in State if s != S.IDLE])
def test_cancel_from_every_state_returns_to_idle_and_saves_nothing(
    state: State, schemes: dict[str, Scheme]
) -> None:
    data = Data(draft=Draft(**FULL, category="self_study"), target=7, field="hours")
    ctx = make_ctx(schemes, Case("", state, text(""), S.IDLE, snap={"entry": ENTRY}))
    result = step(Conv(state, data), text("/cancel"), ctx)
    assert result.conv.state == S.IDLE
    assert result.conv.data.draft is None
    onboarding = state in (S.ONBOARD_SCHEME, S.ONBOARD_TIMEZONE)
    assert [type(e) for e in result.effects] == ([UpdatePerson] if onboarding else [])


def test_saved_entry_has_every_field(schemes: dict[str, Scheme]) -> None:
    data = draft(
        **FULL,
        category="self_study",
        questions=["key_points", "change"],
        answers={"key_points": "Ratings"},
    )
    result = step(
        Conv(S.LOG_REFLECT, data),
        text("Label the panels"),
        make_ctx(schemes, Case("", S.LOG_REFLECT, text(""), S.IDLE)),
    )
    (effect,) = result.effects
    assert isinstance(effect, SaveEntry)
    assert (effect.number, effect.title, effect.activity_date, effect.minutes, effect.category) == (
        13,
        "Webinar",
        YESTERDAY,
        90,
        "self_study",
    )
    assert [(r.question_id, r.answer) for r in effect.reflections] == [
        ("key_points", "Ratings"),
        ("change", "Label the panels"),
    ]
    assert result.replies[-1].choices[0].id == "undo:13"


def test_group_chat_gets_a_pointer_and_nothing_changes(schemes: dict[str, Scheme]) -> None:
    conv = Conv(S.LOG_HOURS, draft(title="W", activity_date=YESTERDAY))
    event = Incoming(ME, Kind.COMMAND, text="/status", command="status", private=False)
    result = step(conv, event, make_ctx(schemes, Case("", S.IDLE, event, S.IDLE)))
    assert result.conv == conv and not result.effects
    assert "private" in result.replies[0].text


def test_first_message_is_answered_after_onboarding(schemes: dict[str, Scheme]) -> None:
    ctx = make_ctx(schemes, Case("", S.IDLE, text(""), S.IDLE, person={"onboarded": False}))
    first = step(Conv(), text("/log 1h webinar yesterday"), ctx)
    assert first.conv.state == S.ONBOARD_SCHEME
    assert "come back to your message" in first.replies[0].text
    second = step(first.conv, press("scheme:ies"), ctx)
    third = step(second.conv, text("London"), ctx)
    assert third.conv.state == S.LOG_CATEGORY
    assert "Got it: 'Webinar' · yesterday · 1 h" in "\n".join(r.text for r in third.replies)


def test_quick_entry_needs_at_most_four_messages_in_every_scheme(
    schemes: dict[str, Scheme],
) -> None:
    for scheme in schemes.values():
        ctx = Context(
            Snapshot(now=NOW, person=person(scheme_id=scheme.id, status_id=scheme.default_status)),
            schemes,
        )
        conv, messages = Conv(), 0
        result = step(conv, text("/log 1.5h webinar on arc-flash safety yesterday"), ctx)
        messages += 1
        while result.conv.state != S.IDLE:
            choices = result.replies[-1].choices
            if result.conv.state in (S.LOG_CATEGORY, S.LOG_STRUCTURED):
                event = press(choices[0].id)
            else:
                event = text("A thoughtful answer")
            result = step(result.conv, event, ctx)
            messages += 1
        assert isinstance(result.effects[0], SaveEntry), scheme.id
        assert messages <= 4, f"{scheme.id}: {messages} messages"


def test_guided_flow_never_asks_what_it_knows(schemes: dict[str, Scheme]) -> None:
    ctx = Context(Snapshot(now=NOW, person=person()), schemes)
    result = step(Conv(), text("/log"), ctx)
    result = step(result.conv, text("Arc-flash webinar 1.5h yesterday"), ctx)
    asked = [r.text for r in result.replies]
    assert result.conv.state == S.LOG_CATEGORY
    assert not any("When was it" in a or "How long" in a for a in asked)


def test_day_first_dates_follow_the_setting(schemes: dict[str, Scheme]) -> None:
    data = draft(title="Webinar")
    for order, expected in (("DMY", date(2026, 11, 3)), ("MDY", date(2026, 3, 11))):
        ctx = Context(Snapshot(now=NOW, person=person(date_order=order)), schemes)
        result = step(Conv(S.LOG_DATE, data), text("3/11"), ctx)
        assert result.conv.data.draft is not None
        assert result.conv.data.draft.activity_date == expected


def test_local_date_decides_yesterday(schemes: dict[str, Scheme]) -> None:
    # 23:30 UTC on the 22nd is already the 23rd in Sydney.
    late = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    ctx = Context(Snapshot(now=late, person=person(timezone="Australia/Sydney")), schemes)
    result = step(Conv(S.LOG_DATE, draft(title="W")), text("yesterday"), ctx)
    assert result.conv.data.draft is not None
    assert result.conv.data.draft.activity_date == date(2026, 11, 22)


def test_needs_asks_only_for_what_a_command_shows() -> None:
    assert needs(Conv(), text("/status")) == Needs(standing=True)
    assert needs(Conv(), text("/list")) == Needs(recent=10)
    assert needs(Conv(), text("/list 500")) == Needs(recent=50)
    assert needs(Conv(), text("/edit 7")) == Needs(entry_number=7)
    assert needs(Conv(), text("/reflect")) == Needs(oldest_pending=True)
    assert needs(Conv(), text("/log 1h x")) == Needs()
    assert needs(Conv(S.EDIT_VALUE, Data(target=7)), text("2h")) == Needs(entry_number=7)


def test_status_shows_pace_and_categories(schemes: dict[str, Scheme]) -> None:
    ctx = Context(Snapshot(now=NOW, person=person(), summary=SUMMARY), schemes)
    said = step(Conv(), text("/status"), ctx).replies[0].text
    assert "CPD year 2026 (IET, Professionally active): 15 h of 30 h (50%)" in said
    assert "Behind pace" in said  # 326 of 365 days gone: 26 h 47 expected
    assert "Events and seminars: 10 h" in said and "Training courses: 5 h" in said
    assert "1 with reflections pending" in said


def test_conversation_data_survives_a_round_trip_through_json() -> None:
    conv = Conv(S.LOG_REFLECT, draft(**FULL, category="x", questions=["a"], answers={"a": None}))
    again = Conv.load(str(conv.state), conv.dump())
    assert again == conv
    assert Conv.load("no_such_state", {}) == Conv()


def test_needs_loads_the_feeds_and_the_occurrence_a_button_names() -> None:
    assert needs(Conv(), text("/calendar list")) == Needs(feeds=True)
    assert needs(Conv(), press("cal:later:42")) == Needs(occurrence=42)
    assert needs(Conv(S.EDIT_VALUE, Data(target=7)), press("cal:no:5")) == Needs(
        entry_number=7, occurrence=5
    )
    assert needs(Conv(), press("cal:log:x")) == Needs()


def test_calendar_owner_comes_from_a_google_address_or_the_message(
    schemes: dict[str, Scheme],
) -> None:
    ctx = make_ctx(schemes, Case("", S.IDLE, text(""), S.IDLE))
    google = "https://calendar.google.com/calendar/ical/Ann.Lee%40example.org/private-z/basic.ics"
    (effect,) = step(Conv(), text(f"/calendar add {google}"), ctx).effects
    assert isinstance(effect, AddFeed) and effect.owner_emails == ("ann.lee@example.org",)
    outlook = "https://outlook.office365.com/owa/calendar/abc/def/reachcalendar.ics"
    (effect,) = step(Conv(), text(f"/calendar add {outlook} me@work.example"), ctx).effects
    assert isinstance(effect, AddFeed) and effect.owner_emails == ("me@work.example",)
    said = step(Conv(), text(f"/calendar add {google}"), ctx).replies[0].text
    assert "private-z" not in said and "example.org" not in said


def test_needs_for_the_plan_review_exports_and_forget() -> None:
    assert needs(Conv(), text("/plan")) == Needs(plan=True)
    assert needs(Conv(), text("/plan link 12 3")) == Needs(plan=True, entry_number=12)
    assert needs(Conv(), text("/plan tag #12 A")) == Needs(plan=True, entry_number=12)
    assert needs(Conv(), text("/plan done 3")) == Needs(plan=True)
    linking = Conv(S.PLAN_VALUE, value("link"))
    assert needs(linking, text("12 O3")) == Needs(plan=True, entry_number=12)
    # Mid-plan, another command still gets the plan to ask the question again.
    assert needs(linking, text("/status")) == Needs(standing=True, plan=True)
    assert needs(Conv(), text("/review")) == Needs(plan=True, linked=True)
    assert needs(Conv(), text("/export pdf 2025")) == Needs(report_year=2025)
    assert needs(Conv(), text("/export md")) == Needs(report_year=0)
    assert needs(Conv(), text("/export all")) == Needs()
    assert needs(Conv(), text("/export json")) == Needs(record_year=0)
    assert needs(Conv(), text("/forget")) == Needs(holdings=True)
    assert needs(Conv(S.FORGET_CONFIRM), text("FORGET")) == Needs(holdings=True)


def _report(schemes: dict[str, Scheme], scheme: str, *entries: EntryView) -> Report:
    p = person(scheme_id=scheme, status_id=schemes[scheme].default_status)
    record = Record(p, schemes[scheme], date(2026, 1, 1), date(2027, 1, 1), entries)
    return Report(record, Plan(), (), TODAY)


def test_status_lists_each_requirement_with_what_would_close_it(
    schemes: dict[str, Scheme],
) -> None:
    report = _report(schemes, "ies", ENTRY)
    snap = Snapshot(
        now=NOW,
        person=person(scheme_id="ies", status_id="member"),
        summary=summary_of(report.record),
        assessment=report.assessment,
    )
    said = step(Conv(), text("/status"), Context(snap, schemes)).replies[0].text
    assert "CPD year 2026 (IES, Professional member): 1 h 30 of 30 h (5%)." in said
    assert "IES requirements: 3 not yet met." in said
    assert "✗ Hours: 1 h 30 of 30 h" in said and "→ log 28 h 30 more" in said
    assert "✗ Balance across categories:" in said
    assert "→ answer them with /reflect (e.g. /reflect 7)" in said


def test_status_target_is_pro_rata_after_leave(schemes: dict[str, Scheme]) -> None:
    report = _report(schemes, "iet", ENTRY)
    leave = StatusPeriod("not_active", date(2026, 3, 1), date(2026, 8, 31))
    report = Report(report.record, Plan(), (leave,), TODAY)
    snap = Snapshot(
        now=NOW,
        person=person(),
        summary=summary_of(report.record),
        assessment=report.assessment,
    )
    said = step(Conv(), text("/status"), Context(snap, schemes)).replies[0].text
    assert "1 h 30 of 19 h 55 (8%)" in said
    assert "pro rata: Not professionally active 1 Mar 2026 – 31 Aug 2026" in said


@pytest.mark.parametrize(
    ("line", "kind", "says"),
    [
        ("/export pdf", "pdf", "Your CPD record for 2026 (PDF): 1 entry, 1 h 30"),
        ("/export markdown 2026", "md", "(Markdown)"),
        ("/export all", "all", "Everything I hold about you, as a ZIP"),
    ],
)
def test_export_of_a_file_made_after_the_transaction(
    line: str, kind: str, says: str, schemes: dict[str, Scheme]
) -> None:
    snap = Snapshot(now=NOW, person=person(), report=_report(schemes, "iet", ENTRY))
    result = step(Conv(), text(line), Context(snap, schemes))
    (reply,) = result.replies
    assert reply.file is not None and reply.file.kind == kind and reply.attachment is None
    assert says in reply.text and reply.file.failed
    assert not result.effects


@pytest.mark.parametrize("line", ["/export all 2025", "/export pdf docx", "/export word"])
def test_export_refuses_what_it_cannot_make(line: str, schemes: dict[str, Scheme]) -> None:
    snap = Snapshot(now=NOW, person=person(), report=_report(schemes, "iet"))
    (reply,) = step(Conv(), text(line), Context(snap, schemes)).replies
    assert reply.file is None and "/export pdf, /export md" in reply.text


def test_plan_menu_offers_only_what_can_be_done(schemes: dict[str, Scheme]) -> None:
    def labels(plan: Plan, scheme: str) -> list[str]:
        p = person(scheme_id=scheme, status_id=schemes[scheme].default_status)
        ctx = Context(Snapshot(now=NOW, person=p, plan=plan), schemes)
        return [c.label for c in step(Conv(), text("/plan"), ctx).replies[-1].choices]

    empty = labels(Plan(), "step")
    assert "Remove responsibility" not in empty and "Link entry" not in empty
    assert "Leave or exemption" not in empty  # STEP has one status: nothing to be exempt to
    full = labels(PLAN, "iet")
    assert {"Remove responsibility", "Objective done", "Link entry", "Leave or exemption"} <= set(
        full
    )
    assert full[-1] == "Done"


def test_after_a_change_the_menu_reflects_it(schemes: dict[str, Scheme]) -> None:
    ctx = Context(Snapshot(now=NOW, person=person(), plan=Plan()), schemes)
    conv = Conv(S.PLAN_TARGET, Data(plan=PlanDraft(title="Learn HVDC", area="technical")))
    result = step(conv, press("target:none"), ctx)
    (effect,) = result.effects
    assert effect == AddObjective("Learn HVDC", "technical", None)
    offered = [c.label for c in result.replies[-1].choices]
    assert "Link entry" in offered and "Objective done" in offered


def test_help_lists_the_new_commands(schemes: dict[str, Scheme]) -> None:
    said = step(Conv(), text("/help"), make_ctx(schemes, Case("", S.IDLE, text(""), S.IDLE)))
    for command in ("/plan", "/review", "/studying", "/export pdf", "/export all", "/forget"):
        assert command in said.replies[0].text

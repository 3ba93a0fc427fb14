"""The dialogue: a pure state machine, `step(conv, event, ctx) -> Step`.

No I/O, no clock reads, no platform types. The engine loads what `needs()` asks for into a
`Snapshot`, calls `step`, then writes the new state and the effects in one transaction.
The transitions are the table below; `docs/dialogue.md` draws it (a test keeps them in step).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from typing import Any, Literal, cast
from zoneinfo import available_timezones

from pydantic import BaseModel, Field

from bot.core import agenda as sched
from bot.core import text as fmt
from bot.core.model import (
    AddFeed,
    AddGapNote,
    AddObjective,
    AddResponsibility,
    AddStatusPeriod,
    Attachment,
    Choice,
    DecideOccurrence,
    DeleteEntry,
    DeleteObjective,
    Effect,
    EntryView,
    FileRequest,
    ForgetPerson,
    FormField,
    Incoming,
    Kind,
    LinkEntry,
    Outgoing,
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
)
from bot.core.parsing import DateOrder, parse_date, parse_duration, parse_quick
from bot.core.plan import (
    AREAS,
    UKSPEC_TAGS,
    GapNote,
    ObjectiveView,
    Plan,
    PlanError,
    StatusPeriod,
    normalise_tag,
    parse_area,
    review,
    review_text,
)
from bot.core.schemes import Category, Question, Scheme, scheme_for
from bot.core.snapshot import Needs, Snapshot
from bot.core.zones import local_now


class State(StrEnum):
    IDLE = "idle"
    ONBOARD_SCHEME = "onboard_scheme"
    ONBOARD_TIMEZONE = "onboard_timezone"
    LOG_TITLE = "log_title"
    LOG_DATE = "log_date"
    LOG_HOURS = "log_hours"
    LOG_CATEGORY = "log_category"
    LOG_STRUCTURED = "log_structured"
    LOG_REFLECT = "log_reflect"
    REFLECT_PENDING = "reflect_pending"
    DELETE_CONFIRM = "delete_confirm"
    EDIT_FIELD = "edit_field"
    EDIT_VALUE = "edit_value"
    SETTINGS_MENU = "settings_menu"
    SETTINGS_VALUE = "settings_value"
    PLAN_MENU = "plan_menu"
    PLAN_VALUE = "plan_value"
    PLAN_AREA = "plan_area"
    PLAN_TARGET = "plan_target"
    PLAN_STATUS = "plan_status"
    PLAN_PERIOD = "plan_period"
    FORGET_CONFIRM = "forget_confirm"


S = State
LOG_STATES = (S.LOG_TITLE, S.LOG_DATE, S.LOG_HOURS, S.LOG_CATEGORY, S.LOG_STRUCTURED, S.LOG_REFLECT)
PLAN_STATES = (S.PLAN_MENU, S.PLAN_VALUE, S.PLAN_AREA, S.PLAN_TARGET, S.PLAN_STATUS, S.PLAN_PERIOD)

# Every transition the dialogue can make: (from, trigger, to). Staying in the same state
# (a bad answer re-asked, /help, /status, /list) is always allowed and not listed.
# /cancel leads from every state back to idle (drawn once in the diagram).
TRANSITIONS: tuple[tuple[State, str, State], ...] = (
    (S.IDLE, "first contact or /start", S.ONBOARD_SCHEME),
    (S.ONBOARD_SCHEME, "scheme chosen", S.ONBOARD_TIMEZONE),
    (S.ONBOARD_TIMEZONE, "time zone chosen", S.IDLE),
    (S.ONBOARD_TIMEZONE, "time zone chosen, replaying the first message", S.LOG_TITLE),
    (S.ONBOARD_TIMEZONE, "time zone chosen, replaying the first message", S.LOG_DATE),
    (S.ONBOARD_TIMEZONE, "time zone chosen, replaying the first message", S.LOG_HOURS),
    (S.ONBOARD_TIMEZONE, "time zone chosen, replaying the first message", S.LOG_CATEGORY),
    (S.ONBOARD_TIMEZONE, "time zone chosen, replaying the first message", S.LOG_STRUCTURED),
    (S.ONBOARD_TIMEZONE, "time zone chosen, replaying the first message", S.LOG_REFLECT),
    (S.ONBOARD_TIMEZONE, "time zone chosen, replaying the first message", S.REFLECT_PENDING),
    (S.ONBOARD_TIMEZONE, "time zone chosen, replaying the first message", S.DELETE_CONFIRM),
    (S.ONBOARD_TIMEZONE, "time zone chosen, replaying the first message", S.EDIT_FIELD),
    (S.ONBOARD_TIMEZONE, "time zone chosen, replaying the first message", S.SETTINGS_MENU),
    (S.ONBOARD_TIMEZONE, "time zone chosen, replaying the first message", S.PLAN_MENU),
    (S.IDLE, "/log (nothing parsed)", S.LOG_TITLE),
    (S.IDLE, "/log line without a date", S.LOG_DATE),
    (S.IDLE, "/log line without hours", S.LOG_HOURS),
    (S.IDLE, "/log line without a category", S.LOG_CATEGORY),
    (S.IDLE, "/log line, category without a default", S.LOG_STRUCTURED),
    (S.IDLE, "/log line with everything but reflections", S.LOG_REFLECT),
    (S.LOG_TITLE, "title", S.LOG_DATE),
    (S.LOG_TITLE, "title with a date", S.LOG_HOURS),
    (S.LOG_TITLE, "title with date and hours", S.LOG_CATEGORY),
    (S.LOG_TITLE, "title with date, hours, #category", S.LOG_STRUCTURED),
    (S.LOG_TITLE, "title with date, hours, #category", S.LOG_REFLECT),
    (S.LOG_DATE, "date", S.LOG_HOURS),
    (S.LOG_DATE, "date (hours known)", S.LOG_CATEGORY),
    (S.LOG_DATE, "date (hours, category known)", S.LOG_STRUCTURED),
    (S.LOG_DATE, "date (hours, category known)", S.LOG_REFLECT),
    (S.LOG_HOURS, "hours", S.LOG_CATEGORY),
    (S.LOG_HOURS, "hours (category known)", S.LOG_STRUCTURED),
    (S.LOG_HOURS, "hours (category known)", S.LOG_REFLECT),
    (S.LOG_CATEGORY, "category without a default", S.LOG_STRUCTURED),
    (S.LOG_CATEGORY, "category", S.LOG_REFLECT),
    (S.LOG_STRUCTURED, "structured yes/no", S.LOG_REFLECT),
    (S.LOG_REFLECT, "last answer, skip or later: entry saved", S.IDLE),
    (S.IDLE, "/reflect (something pending)", S.REFLECT_PENDING),
    (S.REFLECT_PENDING, "last pending answer or later", S.IDLE),
    (S.IDLE, "/delete N", S.DELETE_CONFIRM),
    (S.DELETE_CONFIRM, "delete or keep", S.IDLE),
    (S.IDLE, "/edit N", S.EDIT_FIELD),
    (S.EDIT_FIELD, "field chosen", S.EDIT_VALUE),
    (S.EDIT_FIELD, "done", S.IDLE),
    (S.EDIT_VALUE, "valid value: entry updated", S.EDIT_FIELD),
    (S.IDLE, "/settings", S.SETTINGS_MENU),
    (S.SETTINGS_MENU, "setting chosen", S.SETTINGS_VALUE),
    (S.SETTINGS_MENU, "done", S.IDLE),
    (S.SETTINGS_VALUE, "valid value: setting saved", S.SETTINGS_MENU),
    (S.IDLE, "calendar prompt: Log it", S.LOG_CATEGORY),
    (S.IDLE, "calendar prompt: Log it (all-day event: hours asked)", S.LOG_HOURS),
    (S.IDLE, "/plan", S.PLAN_MENU),
    (S.PLAN_MENU, "role, responsibility, objective, link, tag or gap chosen", S.PLAN_VALUE),
    (S.PLAN_MENU, "leave or exemption chosen", S.PLAN_STATUS),
    (S.PLAN_MENU, "done", S.IDLE),
    (S.PLAN_VALUE, "valid value: plan updated", S.PLAN_MENU),
    (S.PLAN_VALUE, "objective title", S.PLAN_AREA),
    (S.PLAN_AREA, "area chosen", S.PLAN_TARGET),
    (S.PLAN_TARGET, "target date or none: objective added", S.PLAN_MENU),
    (S.PLAN_STATUS, "status chosen", S.PLAN_PERIOD),
    (S.PLAN_PERIOD, "from and to dates: period added", S.PLAN_MENU),
    (S.IDLE, "/forget", S.FORGET_CONFIRM),
    (S.FORGET_CONFIRM, "FORGET: everything erased, or keep", S.IDLE),
)
ALLOWED = (
    {(a, b) for a, _, b in TRANSITIONS} | {(s, s) for s in State} | {(s, S.IDLE) for s in State}
)

TITLE_MAX = 200
REFLECTION_MAX = 3000
INPUT_MAX = 4000
MAX_DAY_MINUTES = 24 * 60
LIST_DEFAULT = 10
STATUS_LINE_MAX = 300  # a requirement's line in /status (the PDF has them in full)
LIST_MAX = 50
COMMON_ZONES = (
    "Europe/London",
    "Europe/Dublin",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Asia/Singapore",
    "UTC",
)
DATE_ORDERS: dict[str, str] = {
    "DMY": "day first (21/11)",
    "MDY": "month first (11/21)",
    "YMD": "year first (2026/11/21)",
}
HOUR_CHOICES = (30, 60, 90, 120, 180, 420)
BUSY_COMMANDS = {"log", "edit", "delete", "settings", "start", "reflect", "undo", "plan", "forget"}
SLASHLESS = {
    "log",
    "status",
    "list",
    "help",
    "cancel",
    "undo",
    "reflect",
    "settings",
    "start",
    "export",
    "calendar",
    "pause",
    "resume",
    "plan",
    "review",
    "studying",
}
# Typed without a slash these are commands only on their own: 'Review of BS 7671 1h' and
# 'Studying for the exam 2h' are activities.
BARE_ONLY = {"plan", "review", "studying"}

MAX_FEEDS = 5
MAX_KEYWORDS = 30
KEYWORD_MAX = 40
PAUSE_MAX_DAYS = 366
SKIP_WORDS = {"skip", "pass", "-"}
LATER_WORDS = {"later", "not now"}
YES = {"yes", "y", "yep", "yeah", "structured", "formal", "true"}
NO = {"no", "n", "nope", "unstructured", "informal", "false"}

HELP = """\
Here is what I can do:
/log — record an activity step by step
/log 1.5h webinar on arc-flash yesterday #events — in one line; I ask only what is missing
/status — hours this CPD year against your target, by category, and each of your
  professional body's requirements: met, not yet (and what would close it) or n/a
/list — your recent entries with their numbers
/edit 12 — change entry #12 (any field, and its reflections)
/delete 12 — delete entry #12 (asks first)
/undo — undo the last save, edit or delete
/reflect — answer reflections you left for later
/plan — your role, key responsibilities, development objectives, leave or exemptions
  and explained gaps (/plan link 12 3 links entry #12 to objective O3; /plan tag 12 A C)
/review — each objective's progress and the activities linked to it
/studying yes — you are studying for a Masters or other HE qualification (IES balance)
/export — your record for this CPD year as a CSV file (/export pdf, /export md,
  /export json, /export 2025; /export all: everything I hold about you, as a ZIP)
/forget — erase everything I hold about you, for good (asks first)
/calendar add <ICS address> — after a training event in your calendar ends, I ask whether
  to log it (/calendar list, /calendar remove 1, /calendar all, /calendar keywords a, b)
/pause until 5 January — no nudges, calendar prompts or reminders until then; /resume
/settings — professional body, membership status, time zone, date order, monthly nudge,
  calendar events
/cancel — stop what we are doing; nothing half-done is kept"""


# ---------------------------------------------------------------- conversation data


class Draft(BaseModel):
    """The entry being logged (or the entry being edited / reflected on)."""

    title: str | None = None
    activity_date: date | None = None
    minutes: int | None = None
    category: str | None = None
    structured: bool | None = None
    structured_known: bool = False
    source: str = "chat"
    occurrence: int | None = None  # the calendar occurrence being logged (source calendar)
    questions: list[str] = Field(default_factory=list)
    answers: dict[str, str | None] = Field(default_factory=dict)


class Undo(BaseModel):
    kind: Literal["saved", "deleted", "edited"]
    number: int
    title: str
    previous: dict[str, Any] = Field(default_factory=dict)
    previous_reflections: dict[str, str | None] = Field(default_factory=dict)


class PlanDraft(BaseModel):
    """An objective being added (title, then area) or a status period (status, then dates)."""

    title: str | None = None
    area: str | None = None
    status: str | None = None


class Data(BaseModel):
    """Everything the dialogue remembers between messages (stored as JSON)."""

    draft: Draft | None = None
    plan: PlanDraft | None = None
    target: int | None = None  # entry number being edited / deleted / reflected on
    field: str | None = None  # the field being edited, or the setting being changed
    undo: Undo | None = None
    pending: dict[str, str] | None = None  # first message, replayed after onboarding


@dataclass(frozen=True)
class Conv:
    state: State = State.IDLE
    data: Data = field(default_factory=Data)

    @staticmethod
    def load(state: str, data: Mapping[str, Any]) -> Conv:
        try:
            return Conv(State(state), Data.model_validate(data))
        except ValueError:
            return Conv()  # unknown or corrupt state from an older version: start afresh

    def dump(self) -> dict[str, Any]:
        return self.data.model_dump(mode="json", exclude_defaults=True)


@dataclass(frozen=True)
class Context:
    snap: Snapshot
    schemes: Mapping[str, Scheme]

    @property
    def person(self) -> PersonView:
        return self.snap.person

    @property
    def scheme(self) -> Scheme:
        return scheme_for(self.schemes, self.person.scheme_id)

    @property
    def today(self) -> date:
        return local_now(self.snap.now, self.person.timezone).date()

    @property
    def date_order(self) -> DateOrder:
        order = self.person.date_order
        return cast(DateOrder, order) if order in DATE_ORDERS else "DMY"


@dataclass(frozen=True)
class Step:
    conv: Conv
    replies: tuple[Outgoing, ...] = ()
    effects: tuple[Effect, ...] = ()


# ---------------------------------------------------------------- entry point


def needs(conv: Conv, event: Incoming) -> Needs:
    """What must be loaded for `step(conv, event, ...)`: the dialogue never reads storage."""
    need = _needs(conv, event)
    occurrence = _occurrence_id(event)
    return need if occurrence is None else replace(need, occurrence=occurrence)


def _occurrence_id(event: Incoming) -> int | None:
    """The occurrence a calendar prompt's button ('cal:<action>:<id>') is about."""
    if event.kind != Kind.CHOICE or not event.choice.startswith("cal:"):
        return None
    ident = event.choice.rpartition(":")[2]
    return int(ident) if ident.isdigit() and len(ident) < 12 else None


def _needs(conv: Conv, event: Incoming) -> Needs:
    data = conv.data
    if conv.state == S.ONBOARD_TIMEZONE and data.pending:
        return needs(Conv(), _event_from(event, data.pending))
    if conv.state in (S.EDIT_FIELD, S.EDIT_VALUE, S.REFLECT_PENDING) and data.target:
        return Needs(entry_number=data.target)
    need = _command_needs(conv, event)
    if conv.state == S.FORGET_CONFIRM:
        need = replace(need, holdings=True)
    if conv.state in PLAN_STATES:  # the plan is shown again after any answer
        need = replace(need, plan=True)
        if data.field in ("link", "tag") and event.kind == Kind.TEXT:
            need = replace(need, entry_number=_leading_number(event.text))
    return need


def _command_needs(conv: Conv, event: Incoming) -> Needs:
    command, args = _command_of(conv, event)
    if command == "forget":
        return Needs(holdings=True)
    if command == "status":
        return Needs(standing=True)
    if command == "plan":
        word, _, rest = args.strip().partition(" ")
        number = _leading_number(rest) if word.lower() in ("link", "unlink", "tag") else None
        return Needs(plan=True, entry_number=number)
    if command == "review":
        return Needs(plan=True, linked=True)
    if command == "list":
        return Needs(recent=_list_size(args) or LIST_DEFAULT)
    if command in ("edit", "delete"):
        return Needs(entry_number=_entry_number(args))
    if command == "reflect":
        number = _entry_number(args)
        return Needs(entry_number=number) if number else Needs(oldest_pending=True)
    if command == "export":
        kind, year = _export_args(args)
        if kind in ("pdf", "md"):
            return Needs(report_year=year or 0)
        if kind == "all":
            return Needs()
        return Needs(record_year=year or 0)
    if command == "calendar":
        return Needs(feeds=True)
    return Needs()


def step(conv: Conv, event: Incoming, ctx: Context) -> Step:
    """Take one event in one state; return the next state, the replies and the effects."""
    result = _step(conv, event, ctx)
    assert (conv.state, result.conv.state) in ALLOWED, (conv.state, result.conv.state)
    return result


def _step(conv: Conv, event: Incoming, ctx: Context) -> Step:
    if not event.private:
        return Step(conv, (_say(_PRIVATE_ONLY),))
    if len(event.text) > INPUT_MAX or len(event.args) > INPUT_MAX:
        return _stay(
            conv,
            ctx,
            f"That message is too long ({len(event.text or event.args):,} characters; "
            f"I read up to {INPUT_MAX:,}). Nothing was changed.",
        )
    if event.kind == Kind.FORM:
        return _form(conv, event, ctx)
    command, args = _command_of(conv, event)
    if not ctx.person.onboarded and conv.state == S.FORGET_CONFIRM and command != "cancel":
        return _forget_confirm(conv, event, ctx)
    if not ctx.person.onboarded and command == "forget":
        return _forget(Conv(), ctx)  # erasure is open to anyone, set up or not
    if not ctx.person.onboarded and conv.state not in (
        S.ONBOARD_SCHEME,
        S.ONBOARD_TIMEZONE,
        S.FORGET_CONFIRM,
    ):
        return _begin_onboarding(conv, event, ctx)

    if event.kind == Kind.CHOICE and event.choice.startswith("cal:"):
        return _calendar_choice(conv, event, ctx)
    if command:
        return _command(conv, command, args, ctx)
    handler = _HANDLERS.get(conv.state)
    if handler is None:
        return _idle_input(conv, event, ctx)
    return handler(conv, event, ctx)


_PRIVATE_ONLY = (
    "I keep CPD records private, so I don't log or show anything here. "
    "Send me a direct message to log an activity or see your progress."
)


def _command_of(conv: Conv, event: Incoming) -> tuple[str, str]:
    """The command an event carries: '/log x', or a bare 'log x' typed when idle."""
    if event.kind == Kind.COMMAND:
        return event.command, event.args
    if event.kind == Kind.CHOICE and event.choice.startswith("cmd:"):
        head, _, args = event.choice[4:].partition(" ")
        return head, args
    if event.kind == Kind.TEXT:
        word, _, rest = event.text.strip().partition(" ")
        word = word.lower()
        if word in ("cancel", "help") and not rest:
            return word, ""
        if conv.state == S.IDLE and word in SLASHLESS and not (word in BARE_ONLY and rest):
            return word, rest.strip()
    return "", ""


# ---------------------------------------------------------------- commands


def _command(conv: Conv, command: str, args: str, ctx: Context) -> Step:
    state = conv.state
    if command == "cancel":
        return _cancel(conv, ctx)
    if command == "help":
        return _stay(conv, ctx, HELP)
    if command == "status":
        return _stay(conv, ctx, _status_text(ctx))
    if command == "list":
        return _stay(conv, ctx, _list_text(ctx))
    if command == "export":
        return _export(conv, args, ctx)
    if command == "calendar":
        return _calendar(conv, args, ctx)
    if command == "pause":
        return _pause(conv, args, ctx)
    if command == "resume":
        return _resume(conv, ctx)
    if command == "review":
        return _review(conv, ctx)
    if command == "studying":
        return _studying(conv, args, ctx)
    if command not in BUSY_COMMANDS:
        return _stay(conv, ctx, f"I don't know /{command}. /help lists what I can do.")
    if state in (S.ONBOARD_SCHEME, S.ONBOARD_TIMEZONE) and command == "start":
        return _start(conv, ctx)
    if state != S.IDLE:
        return _stay(conv, ctx, f"We're in the middle of {_doing(conv)}. Answer, or /cancel first.")
    if command == "start":
        return _start(conv, ctx)
    if command == "log":
        return _log(conv, args, ctx)
    if command == "undo":
        return _undo(conv, ctx, None)
    if command == "delete":
        return _delete(conv, args, ctx)
    if command == "edit":
        return _edit(conv, args, ctx)
    if command == "reflect":
        return _reflect(conv, args, ctx)
    if command == "plan":
        return _plan(conv, args, ctx)
    if command == "forget":
        return _forget(conv, ctx)
    return _settings(conv, ctx)


def _doing(conv: Conv) -> str:
    draft = conv.data.draft
    if conv.state in LOG_STATES:
        return f"logging '{draft.title}'" if draft and draft.title else "logging an activity"
    if conv.state in (S.EDIT_FIELD, S.EDIT_VALUE):
        return f"editing #{conv.data.target}"
    if conv.state == S.DELETE_CONFIRM:
        return f"deleting #{conv.data.target}"
    if conv.state == S.REFLECT_PENDING:
        return f"reflecting on #{conv.data.target}"
    if conv.state in PLAN_STATES:
        return "changing your plan"
    if conv.state == S.FORGET_CONFIRM:
        return "erasing your data (FORGET or Keep)"
    return "changing your settings"


def _cancel(conv: Conv, ctx: Context) -> Step:
    keep = Data(undo=conv.data.undo)
    if conv.state == S.IDLE:
        return Step(conv, (_say("Nothing to cancel. /help lists what I can do."),))
    if conv.state in (S.ONBOARD_SCHEME, S.ONBOARD_TIMEZONE):
        effects = (UpdatePerson({"onboarded": True}),)
        text = (
            f"OK, I'll use {ctx.scheme.name} and the time zone {ctx.person.timezone} for now; "
            "/settings changes them any time."
        )
        return Step(Conv(S.IDLE, keep), (_say(text),), effects)
    if conv.state in LOG_STATES:
        return Step(Conv(S.IDLE, keep), (_say("Cancelled. Nothing was saved."),))
    if conv.state in (S.EDIT_FIELD, S.EDIT_VALUE):
        text = f"Stopped editing #{conv.data.target}. Changes already confirmed are kept."
        return Step(Conv(S.IDLE, keep), (_say(text),))
    if conv.state in PLAN_STATES:
        text = "Stopped changing your plan. Changes already confirmed are kept."
        return Step(Conv(S.IDLE, keep), (_say(text),))
    if conv.state == S.FORGET_CONFIRM:
        return Step(Conv(S.IDLE, keep), (_say("Cancelled. Nothing was erased."),))
    return Step(Conv(S.IDLE, keep), (_say("Cancelled. Nothing was changed."),))


# ---------------------------------------------------------------- onboarding


def _begin_onboarding(conv: Conv, event: Incoming, ctx: Context) -> Step:
    pending = None
    command, _ = _command_of(conv, event)
    if command not in ("", "start", "cancel", "help") or (not command and event.text.strip()):
        pending = {"kind": str(event.kind), "text": event.text, "command": event.command}
        pending["args"] = event.args
    if event.kind == Kind.CHOICE:
        pending = None
    intro = "Hello! I help you log CPD in under a minute."
    if pending:
        intro += " I'll come back to your message right after two quick questions."
    data = Data(pending=pending)
    return Step(Conv(S.ONBOARD_SCHEME, data), (_say(intro), _scheme_prompt(ctx)))


def _start(conv: Conv, ctx: Context) -> Step:
    text = "Hello! Two quick taps to set you up."
    return Step(
        Conv(S.ONBOARD_SCHEME, Data(undo=conv.data.undo)), (_say(text), _scheme_prompt(ctx))
    )


def _scheme_prompt(ctx: Context) -> Outgoing:
    choices = tuple(Choice(f"scheme:{s.id}", s.name) for s in _ordered_schemes(ctx))
    return Outgoing("Which professional body's CPD scheme do you follow?", choices)


def _ordered_schemes(ctx: Context) -> list[Scheme]:
    schemes = sorted(ctx.schemes.values(), key=lambda s: (s.id == "generic", s.name.lower()))
    return schemes


def _match_scheme(ctx: Context, event: Incoming) -> Scheme | None:
    if event.kind == Kind.CHOICE:
        prefix, _, value = event.choice.partition(":")
        return ctx.schemes.get(value) if prefix == "scheme" else None
    wanted = _norm(event.text)
    for scheme in ctx.schemes.values():
        names = {_norm(scheme.id), _norm(scheme.name), _norm(scheme.body)}
        if wanted in names or any(_norm(part) == wanted for part in scheme.name.split("/")):
            return scheme
    return None


def _onboard_scheme(conv: Conv, event: Incoming, ctx: Context) -> Step:
    scheme = _match_scheme(ctx, event)
    if scheme is None:
        return _stay(conv, ctx, "Please pick one of these schemes.")
    effects = (UpdatePerson({"scheme_id": scheme.id, "status_id": scheme.default_status}),)
    person = replace(ctx.person, scheme_id=scheme.id, status_id=scheme.default_status)
    ctx = _with_person(ctx, person)
    nxt = Conv(S.ONBOARD_TIMEZONE, conv.data)
    return Step(nxt, (_prompt(nxt, ctx),), effects)


def _timezone_prompt(ctx: Context) -> Outgoing:
    zones = list(COMMON_ZONES)
    # The platform's zone for this user (this event's, or the one stored when they first
    # wrote) goes first, so most people confirm it with one tap.
    hint = ctx.snap.timezone_hint or (ctx.person.timezone if ctx.person.timezone != "UTC" else None)
    if hint and _zone(hint):
        zones = [hint] + [z for z in zones if z != hint]
    choices = tuple(Choice(f"tz:{z}", z.replace("_", " ")) for z in zones)
    return Outgoing(
        "Which time zone are you in? Pick one, or type a city or zone (e.g. Europe/Paris).",
        choices,
    )


@cache
def _zone_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for name in sorted(available_timezones()):
        index[name.lower()] = name
        index.setdefault(name.rsplit("/", 1)[-1].replace("_", " ").lower(), name)
    return index


def _zone(text: str) -> str | None:
    key = " ".join(text.strip().replace("_", " ").split()).lower()
    if not key or len(key) > 64:
        return None
    found = _zone_index().get(key) or _zone_index().get(key.replace(" ", "_"))
    if found is None and "/" in key:
        found = _zone_index().get(key.replace(" ", "_"))
    return found


def _onboard_timezone(conv: Conv, event: Incoming, ctx: Context) -> Step:
    value = event.choice.removeprefix("tz:") if event.kind == Kind.CHOICE else event.text
    zone = _zone(value)
    if zone is None:
        return _stay(
            conv,
            ctx,
            f"I don't know the time zone '{_clip(value)}'. Try a city or a zone "
            "like Europe/London.",
        )
    person = replace(ctx.person, timezone=zone, onboarded=True)
    ctx = _with_person(ctx, person)
    effects: tuple[Effect, ...] = (UpdatePerson({"timezone": zone, "onboarded": True}),)
    scheme = ctx.scheme
    target = scheme.target_hours(person.status_id)
    goal = f"a target of {target:g} h a year" if target else "no fixed hours target"
    done = _say(
        f"All set: {scheme.name} ({goal}), time zone {zone}. "
        "Log an activity with /log, or in one line: /log 1.5h webinar on arc-flash safety yesterday"
    )
    pending = conv.data.pending
    if not pending:
        return Step(Conv(S.IDLE, Data(undo=conv.data.undo)), (done,), effects)
    replay = _step(Conv(S.IDLE, Data(undo=conv.data.undo)), _event_from(event, pending), ctx)
    return Step(replay.conv, (done, *replay.replies), effects + replay.effects)


def _event_from(event: Incoming, pending: Mapping[str, str]) -> Incoming:
    return Incoming(
        event.identity,
        Kind(pending.get("kind", "text")),
        text=pending.get("text", ""),
        command=pending.get("command", ""),
        args=pending.get("args", ""),
    )


def _with_person(ctx: Context, person: PersonView) -> Context:
    return Context(replace(ctx.snap, person=person), ctx.schemes)


# ---------------------------------------------------------------- logging


def _log(conv: Conv, args: str, ctx: Context) -> Step:
    draft = Draft(source="chat")
    if not args.strip():
        nxt = Conv(S.LOG_TITLE, Data(draft=draft, undo=conv.data.undo))
        return Step(nxt, (_prompt(nxt, ctx),))
    return _fill_from_line(Conv(S.IDLE, Data(undo=conv.data.undo)), draft, args, ctx, echo=True)


def _fill_from_line(conv: Conv, draft: Draft, line: str, ctx: Context, *, echo: bool) -> Step:
    """Read a one-line entry into the draft, then ask for the first thing still missing."""
    quick = parse_quick(
        line, today=ctx.today, date_order=ctx.date_order, languages=ctx.person.languages
    )
    problems: list[str] = []
    title = quick.title
    if title is not None:
        error = _title_error(title)
        if error:
            problems.append(error)
        else:
            draft.title = title
    if quick.activity_date is not None:
        error = _date_error(quick.activity_date, ctx, quick.date_text)
        if error:
            problems.append(error)
        else:
            draft.activity_date = quick.activity_date
    if quick.minutes is not None:
        error = _minutes_error(quick.minutes, quick.duration_text)
        if error:
            problems.append(error)
        else:
            draft.minutes = quick.minutes
    for hint in quick.category_hints:
        if hint in YES - {"yes", "y", "yep", "yeah", "true"}:
            draft.structured, draft.structured_known = True, True
            continue
        if hint in NO - {"no", "n", "nope", "false"}:
            draft.structured, draft.structured_known = False, True
            continue
        category = _match_category(ctx.scheme, hint)
        if category is None:
            problems.append(f"I don't know the category #{hint} in {ctx.scheme.name}.")
        else:
            _set_category(draft, category)
    replies: list[Outgoing] = []
    if echo:
        understood = _understood(draft, ctx)
        if understood:
            replies.append(_say("Got it: " + understood))
    if problems:
        replies.append(_say(" ".join(problems)))
    return _advance(Conv(conv.state, replace_data(conv.data, draft=draft)), ctx, replies)


def replace_data(data: Data, **changes: Any) -> Data:
    return data.model_copy(update=changes)


def _understood(draft: Draft, ctx: Context) -> str:
    parts: list[str] = []
    if draft.title:
        parts.append(f"'{draft.title}'")
    if draft.activity_date:
        parts.append(fmt.day(draft.activity_date, ctx.today))
    if draft.minutes:
        parts.append(fmt.hours(draft.minutes))
    if draft.category:
        parts.append(fmt.category_label(ctx.scheme, draft.category))
    if draft.structured_known and ctx.scheme.track_structured:
        parts.append(fmt.structured_label(draft.structured))
    return " · ".join(parts)


def _set_category(draft: Draft, category: Category) -> None:
    draft.category = category.id
    if not draft.structured_known and category.structured is not None:
        draft.structured = category.structured
        draft.structured_known = True


def _next_missing(draft: Draft, scheme: Scheme) -> State | None:
    if not draft.title:
        return S.LOG_TITLE
    if draft.activity_date is None:
        return S.LOG_DATE
    if draft.minutes is None:
        return S.LOG_HOURS
    if draft.category is None:
        return S.LOG_CATEGORY
    if scheme.track_structured and not draft.structured_known:
        return S.LOG_STRUCTURED
    if not draft.questions:
        draft.questions = [q.id for q in scheme.asked_questions()]
    if any(q not in draft.answers for q in draft.questions):
        return S.LOG_REFLECT
    return None


def _advance(conv: Conv, ctx: Context, replies: list[Outgoing]) -> Step:
    """Move to the first thing still missing, or save the entry when nothing is."""
    draft = conv.data.draft
    assert draft is not None
    missing = _next_missing(draft, ctx.scheme)
    if missing is None:
        return _save(conv, draft, ctx, replies)
    nxt = Conv(missing, conv.data)
    return Step(nxt, (*replies, _prompt(nxt, ctx)))


def _save(conv: Conv, draft: Draft, ctx: Context, replies: list[Outgoing]) -> Step:
    assert draft.title and draft.activity_date and draft.minutes and draft.category
    number = ctx.person.last_entry_number + 1
    scheme = ctx.scheme
    reflections = tuple(
        ReflectionView(q, _question_text(scheme, q), draft.answers.get(q)) for q in draft.questions
    )
    effect = SaveEntry(
        number=number,
        title=draft.title,
        activity_date=draft.activity_date,
        minutes=draft.minutes,
        category=draft.category,
        structured=draft.structured if scheme.track_structured else None,
        source=draft.source,
        reflections=reflections,
    )
    pending = sum(r.answer is None for r in reflections)
    text = (
        f"Saved #{number}: {draft.title} · {fmt.day(draft.activity_date, ctx.today)} · "
        f"{fmt.hours(draft.minutes)} · {fmt.category_label(scheme, draft.category)}."
    )
    if pending:
        text += f" {pending} reflection{'s' if pending > 1 else ''} left for later: /reflect."
    undo = Undo(kind="saved", number=number, title=draft.title)
    reply = Outgoing(text, (Choice(f"undo:{number}", "Undo"),))
    effects: tuple[Effect, ...] = (effect,)
    if draft.occurrence is not None:
        effects += (DecideOccurrence(draft.occurrence, "logged", entry_number=number),)
    return Step(Conv(S.IDLE, Data(undo=undo)), (*replies, reply), effects)


def _question_text(scheme: Scheme, question_id: str) -> str:
    q = scheme.question(question_id)
    return q.text if q else question_id


def _log_title(conv: Conv, event: Incoming, ctx: Context) -> Step:
    if event.kind != Kind.TEXT or not event.text.strip():
        return _stay(conv, ctx, "Please type what you did, in a few words.")
    draft = (conv.data.draft or Draft()).model_copy()
    quick_like = parse_quick(
        event.text, today=ctx.today, date_order=ctx.date_order, languages=ctx.person.languages
    )
    if quick_like.title is None:
        error = _title_error(event.text.strip())
        if error:
            return _stay(conv, ctx, error)
        draft.title = _tidy(event.text)
        return _advance(Conv(conv.state, replace_data(conv.data, draft=draft)), ctx, [])
    return _fill_from_line(conv, draft, event.text, ctx, echo=quick_like.title != _tidy(event.text))


def _log_date(conv: Conv, event: Incoming, ctx: Context) -> Step:
    draft = _draft(conv)
    if event.kind == Kind.CHOICE:
        prefix, _, value = event.choice.partition(":")
        if prefix != "date":
            return _stale(conv, ctx)
        try:
            picked = date.fromisoformat(value)
        except ValueError:
            return _stale(conv, ctx)
        text = None
    else:
        text = event.text.strip()
        parsed = parse_date(
            text, today=ctx.today, date_order=ctx.date_order, languages=ctx.person.languages
        )
        if parsed is None:
            return _stay(
                conv,
                ctx,
                f"I couldn't read '{_clip(text)}' as a date. Try "
                "'yesterday', 'last Tuesday', '3 March' or '21/11'.",
            )
        picked = parsed
    error = _date_error(picked, ctx, text)
    if error:
        return _stay(conv, ctx, error)
    draft.activity_date = picked
    return _advance(Conv(conv.state, replace_data(conv.data, draft=draft)), ctx, [])


def _log_hours(conv: Conv, event: Incoming, ctx: Context) -> Step:
    draft = _draft(conv)
    if event.kind == Kind.CHOICE:
        prefix, _, value = event.choice.partition(":")
        if prefix != "min" or not value.isdigit():
            return _stale(conv, ctx)
        minutes: int | None = int(value)
        text = None
    else:
        text = event.text.strip()
        minutes = parse_duration(text)
    if minutes is None:
        return _stay(
            conv,
            ctx,
            f"I couldn't read '{_clip(text or '')}' as hours. "
            "Try 1.5h, 90m, 1h30 or '1 hour 30 minutes'.",
        )
    error = _minutes_error(minutes, text)
    if error:
        return _stay(conv, ctx, error)
    draft.minutes = minutes
    return _advance(Conv(conv.state, replace_data(conv.data, draft=draft)), ctx, [])


def _log_category(conv: Conv, event: Incoming, ctx: Context) -> Step:
    category = _category_from(event, ctx.scheme)
    if category is None:
        if event.kind == Kind.CHOICE and not event.choice.startswith("cat:"):
            return _stale(conv, ctx)
        shown = event.choice.removeprefix("cat:") if event.kind == Kind.CHOICE else event.text
        return _stay(
            conv,
            ctx,
            f"'{_clip(shown.strip())}' is not a category in "
            f"{ctx.scheme.name}. Please pick one of these.",
        )
    draft = _draft(conv)
    _set_category(draft, category)
    return _advance(Conv(conv.state, replace_data(conv.data, draft=draft)), ctx, [])


def _category_from(event: Incoming, scheme: Scheme) -> Category | None:
    if event.kind == Kind.CHOICE:
        prefix, _, value = event.choice.partition(":")
        return scheme.category(value) if prefix == "cat" else None
    return _match_category(scheme, event.text)


def _match_category(scheme: Scheme, text: str) -> Category | None:
    wanted = _norm(text.removeprefix("#"))
    if not wanted:
        return None
    for cat in scheme.categories:
        if wanted in (_norm(cat.id), _norm(cat.label)) or wanted in map(_norm, cat.aliases):
            return cat
    starts = [
        c for c in scheme.categories if _norm(c.label).startswith(wanted) and len(wanted) >= 3
    ]
    return starts[0] if len(starts) == 1 else None


def _yes_no(event: Incoming, prefix: str) -> bool | None:
    if event.kind == Kind.CHOICE:
        head, _, value = event.choice.partition(":")
        if head == prefix and value in ("yes", "no"):
            return value == "yes"
        return None
    word = _norm(event.text)
    return True if word in YES else False if word in NO else None


def _log_structured(conv: Conv, event: Incoming, ctx: Context) -> Step:
    answer = _yes_no(event, "struct")
    if answer is None:
        if event.kind == Kind.CHOICE:
            return _stale(conv, ctx)
        return _stay(conv, ctx, "Please answer yes (structured) or no (unstructured).")
    draft = _draft(conv)
    draft.structured, draft.structured_known = answer, True
    return _advance(Conv(conv.state, replace_data(conv.data, draft=draft)), ctx, [])


def _answer(event: Incoming, question: Question | None) -> tuple[str, str | None]:
    """('answer', text) | ('skip', None) | ('later', None) | ('stale', None) | ('bad', msg)."""
    if event.kind == Kind.CHOICE:
        head, _, value = event.choice.partition(":")
        if head == "r" and value in ("skip", "later"):
            return value, None
        if head == "ans" and question and value.isdigit() and int(value) < len(question.choices):
            return "answer", question.choices[int(value)]
        return "stale", None
    if event.kind == Kind.COMMAND:
        return "stale", None
    answer = " ".join(event.text.split())
    word = answer.lower()
    if word in SKIP_WORDS:
        return "skip", None
    if word in LATER_WORDS:
        return "later", None
    if not answer:
        return "bad", "Please type a short answer, or 'skip' / 'later'."
    if len(answer) > REFLECTION_MAX:
        return "bad", (
            f"That answer is {len(answer):,} characters; I keep up to {REFLECTION_MAX:,}. "
            "Please shorten it (nothing was saved yet)."
        )
    return "answer", answer


def _log_reflect(conv: Conv, event: Incoming, ctx: Context) -> Step:
    draft = _draft(conv)
    current = next((q for q in draft.questions if q not in draft.answers), None)
    if current is None:
        return _advance(conv, ctx, [])
    kind, value = _answer(event, ctx.scheme.question(current))
    if kind == "stale":
        return _stale(conv, ctx)
    if kind == "bad":
        return _stay(conv, ctx, value or "")
    if kind == "later":
        for q in draft.questions:
            draft.answers.setdefault(q, None)
    else:
        draft.answers[current] = value
    return _advance(Conv(conv.state, replace_data(conv.data, draft=draft)), ctx, [])


def _draft(conv: Conv) -> Draft:
    return (conv.data.draft or Draft()).model_copy(deep=True)


# ---------------------------------------------------------------- reflect later


def _reflect(conv: Conv, args: str, ctx: Context) -> Step:
    if args.strip() and _entry_number(args) is None:
        return _stay(conv, ctx, "Use /reflect on its own, or /reflect 12 for entry #12.")
    entry = ctx.snap.entry if args.strip() else ctx.snap.oldest_pending
    if entry is None or entry.deleted:
        if args.strip():
            return _stay(conv, ctx, _no_entry(args))
        return _stay(conv, ctx, "No reflections are waiting. Well done!")
    questions = [r.question_id for r in entry.pending] or [r.question_id for r in entry.reflections]
    if not questions:
        questions = [q.id for q in ctx.scheme.asked_questions()]
    draft = Draft(questions=questions)
    nxt = Conv(S.REFLECT_PENDING, Data(draft=draft, target=entry.number, undo=conv.data.undo))
    intro = _say(
        f"Reflecting on #{entry.number}: {entry.title} ({fmt.day(entry.activity_date, ctx.today)})."
    )
    return Step(nxt, (intro, _prompt(nxt, ctx)))


def _reflect_pending(conv: Conv, event: Incoming, ctx: Context) -> Step:
    draft = _draft(conv)
    number = conv.data.target
    current = next((q for q in draft.questions if q not in draft.answers), None)
    if current is None or number is None:
        return Step(Conv(S.IDLE, Data(undo=conv.data.undo)))
    kind, value = _answer(event, ctx.scheme.question(current))
    if kind == "stale":
        return _stale(conv, ctx)
    if kind == "bad":
        return _stay(conv, ctx, value or "")
    if kind == "later":
        return Step(
            Conv(S.IDLE, Data(undo=conv.data.undo)),
            (_say("OK, the rest can wait. /reflect picks it up again."),),
        )
    draft.answers[current] = value
    effects: tuple[Effect, ...] = ()
    if kind == "answer":
        text = _question_text(ctx.scheme, current)
        effects = (UpdateEntry(number, reflections=(ReflectionView(current, text, value),)),)
    nxt = Conv(S.REFLECT_PENDING, replace_data(conv.data, draft=draft))
    if any(q not in draft.answers for q in draft.questions):
        return Step(nxt, (_prompt(nxt, ctx),), effects)
    done = f"Thanks, reflections saved for #{number}."
    return Step(Conv(S.IDLE, Data(undo=conv.data.undo)), (_say(done),), effects)


# ---------------------------------------------------------------- undo / delete


def _undo(conv: Conv, ctx: Context, number: int | None) -> Step:
    undo = conv.data.undo
    if undo is None or (number is not None and undo.number != number):
        text = (
            "There is nothing to undo."
            if number is None
            else (
                f"That Undo button belongs to an earlier action. "
                f"/delete {number} removes #{number}."
            )
        )
        return Step(conv, (_say(text),))
    data = Data()
    if undo.kind == "saved":
        return Step(
            Conv(S.IDLE, data),
            (_say(f"Undone: #{undo.number} '{undo.title}' removed."),),
            (DeleteEntry(undo.number),),
        )
    if undo.kind == "deleted":
        return Step(
            Conv(S.IDLE, data),
            (_say(f"Undone: #{undo.number} '{undo.title}' is back."),),
            (RestoreEntry(undo.number),),
        )
    refl = tuple(
        ReflectionView(q, _question_text(ctx.scheme, q), a)
        for q, a in undo.previous_reflections.items()
    )
    fields = {k: _field_value(k, v) for k, v in undo.previous.items()}
    return Step(
        Conv(S.IDLE, data),
        (_say(f"Undone: #{undo.number} is as it was before the edit."),),
        (UpdateEntry(undo.number, fields, refl),),
    )


def _field_value(key: str, value: Any) -> Any:
    if key == "activity_date" and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def _named_entry(conv: Conv, args: str, ctx: Context, command: str) -> EntryView | Step:
    """The person's live entry that `/command N` names, or the reply saying what is wrong."""
    if _entry_number(args) is None:
        return _stay(
            conv, ctx, f"Which entry? For example /{command} 12 (/list shows the numbers)."
        )
    entry = ctx.snap.entry
    if entry is None or entry.deleted:
        return _stay(conv, ctx, _no_entry(args))
    return entry


def _delete(conv: Conv, args: str, ctx: Context) -> Step:
    entry = _named_entry(conv, args, ctx, "delete")
    if isinstance(entry, Step):
        return entry
    nxt = Conv(S.DELETE_CONFIRM, Data(target=entry.number, undo=conv.data.undo))
    return Step(nxt, (_prompt_delete(entry, ctx),))


def _prompt_delete(entry: EntryView, ctx: Context) -> Outgoing:
    return Outgoing(
        f"Delete {fmt.entry_line(entry, ctx.scheme, ctx.today)}?",
        (Choice(f"del:yes:{entry.number}", "Delete"), Choice("del:no", "Keep")),
    )


def _delete_confirm(conv: Conv, event: Incoming, ctx: Context) -> Step:
    number = conv.data.target
    assert number is not None
    if event.kind == Kind.CHOICE:
        if event.choice == f"del:yes:{number}":
            yes: bool | None = True
        elif event.choice == "del:no":
            yes = False
        else:
            return _stale(conv, ctx)
    else:
        yes = _yes_no(event, "del")
        if _norm(event.text) in ("delete", "keep"):
            yes = _norm(event.text) == "delete"
    if yes is None:
        return _stay(conv, ctx, "Please answer Delete or Keep.")
    if not yes:
        return Step(Conv(S.IDLE, Data(undo=conv.data.undo)), (_say(f"Kept #{number}."),))
    undo = Undo(kind="deleted", number=number, title=f"#{number}")
    return Step(
        Conv(S.IDLE, Data(undo=undo)),
        (Outgoing(f"Deleted #{number}.", (Choice(f"undo:{number}", "Undo"),)),),
        (DeleteEntry(number),),
    )


# ---------------------------------------------------------------- edit


EDIT_FIELDS = {
    "title": "Title",
    "date": "Date",
    "hours": "Hours",
    "category": "Category",
    "structured": "Structured?",
}


def _edit(conv: Conv, args: str, ctx: Context) -> Step:
    entry = _named_entry(conv, args, ctx, "edit")
    if isinstance(entry, Step):
        return entry
    nxt = Conv(S.EDIT_FIELD, Data(target=entry.number, undo=conv.data.undo))
    return Step(nxt, (_prompt(nxt, ctx),))


def _edit_choices(entry: EntryView, scheme: Scheme) -> tuple[Choice, ...]:
    fields = [k for k in EDIT_FIELDS if k != "structured" or scheme.track_structured]
    choices = [Choice(f"field:{k}", EDIT_FIELDS[k]) for k in fields]
    for i, r in enumerate(entry.reflections, 1):
        choices.append(Choice(f"field:r:{r.question_id}", f"Reflection {i}"))
    choices.append(Choice("field:done", "Done"))
    return tuple(choices)


def _edit_field(conv: Conv, event: Incoming, ctx: Context) -> Step:
    entry = ctx.snap.entry
    if entry is None or entry.deleted:
        return Step(
            Conv(S.IDLE, Data(undo=conv.data.undo)), (_say(_no_entry(str(conv.data.target))),)
        )
    if event.kind == Kind.CHOICE:
        head, _, key = event.choice.partition(":")
        if head != "field":
            return _stale(conv, ctx)
    else:
        key = _edit_key(event.text, entry)
    if key == "done":
        return Step(
            Conv(S.IDLE, Data(undo=conv.data.undo)), (_say(f"Done editing #{entry.number}."),)
        )
    valid = {c.id.removeprefix("field:") for c in _edit_choices(entry, ctx.scheme)}
    if key not in valid:
        return _stay(conv, ctx, "Please pick the field to change, or Done.")
    nxt = Conv(S.EDIT_VALUE, replace_data(conv.data, field=key))
    return Step(nxt, (_prompt(nxt, ctx),))


def _edit_key(text: str, entry: EntryView) -> str:
    word = _norm(text)
    aliases = {
        "name": "title",
        "when": "date",
        "day": "date",
        "time": "hours",
        "duration": "hours",
        "minutes": "hours",
        "hour": "hours",
        "structured?": "structured",
        "finished": "done",
        "stop": "done",
    }
    word = aliases.get(word, word)
    match = re.fullmatch(r"reflection ?(\d+)", word)
    if match and 1 <= int(match.group(1)) <= len(entry.reflections):
        return f"r:{entry.reflections[int(match.group(1)) - 1].question_id}"
    return word


def _edit_value(conv: Conv, event: Incoming, ctx: Context) -> Step:
    entry = ctx.snap.entry
    key = conv.data.field or ""
    if entry is None or entry.deleted:
        return Step(
            Conv(S.IDLE, Data(undo=conv.data.undo)), (_say(_no_entry(str(conv.data.target))),)
        )
    back = Conv(S.EDIT_FIELD, replace_data(conv.data, field=None))
    text = event.text.strip()
    fields: dict[str, object] = {}
    previous: dict[str, Any] = {}
    refl: tuple[ReflectionView, ...] = ()
    prev_refl: dict[str, str | None] = {}
    if key.startswith("r:"):
        qid = key[2:]
        kind, value = _answer(event, ctx.scheme.question(qid))
        if kind in ("stale", "bad"):
            return _stay(conv, ctx, value) if kind == "bad" and value else _stale(conv, ctx)
        old = next((r for r in entry.reflections if r.question_id == qid), None)
        refl = (
            ReflectionView(
                qid,
                old.question if old else _question_text(ctx.scheme, qid),
                value if kind == "answer" else None,
            ),
        )
        prev_refl[qid] = old.answer if old else None
        change = "reflection updated" if kind == "answer" else "reflection marked for later"
    elif key == "category":
        category = _category_from(event, ctx.scheme)
        if category is None:
            return _stay(conv, ctx, "That is not one of the categories. Please pick one.")
        fields["category"], previous["category"] = category.id, entry.category
        change = f"category {fmt.category_label(ctx.scheme, entry.category)} → {category.label}"
    elif key == "structured":
        answer = _yes_no(event, "struct")
        if answer is None:
            return _stay(conv, ctx, "Please answer yes (structured) or no (unstructured).")
        fields["structured"], previous["structured"] = answer, entry.structured
        change = f"{fmt.structured_label(entry.structured)} → {fmt.structured_label(answer)}"
    elif event.kind != Kind.TEXT:
        return _stale(conv, ctx)
    elif key == "title":
        error = _title_error(text)
        if error:
            return _stay(conv, ctx, error)
        fields["title"], previous["title"] = _tidy(text), entry.title
        change = f"title → '{_tidy(text)}'"
    elif key == "date":
        parsed = parse_date(
            text, today=ctx.today, date_order=ctx.date_order, languages=ctx.person.languages
        )
        error = (
            f"I couldn't read '{_clip(text)}' as a date."
            if parsed is None
            else _date_error(parsed, ctx, text)
        )
        if error or parsed is None:
            return _stay(conv, ctx, error or "")
        fields["activity_date"] = parsed
        previous["activity_date"] = entry.activity_date.isoformat()
        change = f"date {fmt.day(entry.activity_date, ctx.today)} → {fmt.day(parsed, ctx.today)}"
    else:
        minutes = parse_duration(text)
        error = (
            f"I couldn't read '{_clip(text)}' as hours. Try 1.5h or 90m."
            if minutes is None
            else _minutes_error(minutes, text)
        )
        if error or minutes is None:
            return _stay(conv, ctx, error or "")
        fields["minutes"], previous["minutes"] = minutes, entry.minutes
        change = f"hours {fmt.hours(entry.minutes)} → {fmt.hours(minutes)}"
    undo = Undo(
        kind="edited",
        number=entry.number,
        title=entry.title,
        previous=previous,
        previous_reflections=prev_refl,
    )
    if conv.data.undo and conv.data.undo.kind == "edited" and conv.data.undo.number == entry.number:
        # Several edits in one /edit session undo together, back to the entry as it was.
        earlier = conv.data.undo
        undo = Undo(
            kind="edited",
            number=entry.number,
            title=entry.title,
            previous={**previous, **earlier.previous},
            previous_reflections={**prev_refl, **earlier.previous_reflections},
        )
    nxt = Conv(S.EDIT_FIELD, replace_data(back.data, undo=undo))
    updated = _apply_view(entry, fields, refl)
    reply = _say(f"Updated #{entry.number}: {change}.")
    return Step(
        nxt, (reply, _edit_prompt(updated, ctx)), (UpdateEntry(entry.number, fields, refl),)
    )


def _apply_view(
    entry: EntryView, fields: Mapping[str, object], refl: tuple[ReflectionView, ...]
) -> EntryView:
    changed = replace(entry, **fields)  # type: ignore[arg-type]
    if refl:
        new = {r.question_id: r for r in refl}
        changed = replace(
            changed, reflections=tuple(new.get(r.question_id, r) for r in entry.reflections)
        )
    return changed


def _edit_prompt(entry: EntryView, ctx: Context) -> Outgoing:
    lines = [
        f"#{entry.number} {entry.title}",
        f"Date: {fmt.day(entry.activity_date, ctx.today)} · Hours: {fmt.hours(entry.minutes)} · "
        f"Category: {fmt.category_label(ctx.scheme, entry.category)}"
        + (f" · {fmt.structured_label(entry.structured)}" if ctx.scheme.track_structured else ""),
    ]
    for i, r in enumerate(entry.reflections, 1):
        lines.append(f"Reflection {i}: {r.question}\n  → {r.answer or '(pending)'}")
    lines.append("What would you like to change?")
    return Outgoing("\n".join(lines), _edit_choices(entry, ctx.scheme))


# ---------------------------------------------------------------- settings


SETTINGS = {
    "scheme": "Professional body",
    "status": "Membership status",
    "timezone": "Time zone",
    "date_order": "Date order",
    "studying": "Studying for a degree",
    "nudges": "Monthly nudge",
    "calendar": "Calendar events",
}


def _settings(conv: Conv, ctx: Context) -> Step:
    nxt = Conv(S.SETTINGS_MENU, Data(undo=conv.data.undo))
    return Step(nxt, (_prompt(nxt, ctx),))


def _settings_menu(conv: Conv, event: Incoming, ctx: Context) -> Step:
    if event.kind == Kind.CHOICE:
        head, _, key = event.choice.partition(":")
        if head != "set":
            return _stale(conv, ctx)
    else:
        key = _norm(event.text).replace(" ", "_")
        key = {v.lower().replace(" ", "_"): k for k, v in SETTINGS.items()}.get(key, key)
        key = {
            "body": "scheme",
            "tz": "timezone",
            "time_zone": "timezone",
            "nudge": "nudges",
            "monthly_nudges": "nudges",
            "calendar_event": "calendar",
        }.get(key, key)
    if key == "done":
        return Step(Conv(S.IDLE, Data(undo=conv.data.undo)), (_say("Settings saved."),))
    if key not in SETTINGS:
        return _stay(conv, ctx, "Please pick a setting to change, or Done.")
    nxt = Conv(S.SETTINGS_VALUE, replace_data(conv.data, field=key))
    return Step(nxt, (_prompt(nxt, ctx),))


def _settings_value(conv: Conv, event: Incoming, ctx: Context) -> Step:
    key = conv.data.field or ""
    value = event.choice.partition(":")[2] if event.kind == Kind.CHOICE else event.text.strip()
    if event.kind == Kind.CHOICE and not event.choice.startswith("val:"):
        return _stale(conv, ctx)
    changes: dict[str, object] = {}
    person = ctx.person
    if key == "scheme":
        scheme = _match_scheme(
            ctx, Incoming(event.identity, Kind.CHOICE, choice=f"scheme:{value}")
        ) or _match_scheme(ctx, Incoming(event.identity, Kind.TEXT, text=value))
        if scheme is None:
            return _stay(conv, ctx, "Please pick one of the schemes.")
        changes = {"scheme_id": scheme.id, "status_id": scheme.default_status}
        said = f"Professional body set to {scheme.name}."
    elif key == "status":
        status = next(
            (s for s in ctx.scheme.statuses if _norm(value) in (_norm(s.id), _norm(s.label))), None
        )
        if status is None:
            return _stay(conv, ctx, "Please pick one of the statuses.")
        changes = {"status_id": status.id}
        target = f"{status.hours:g} h a year" if status.hours else "no hours target"
        said = f"Membership status set to {status.label} ({target})."
    elif key == "timezone":
        zone = _zone(value)
        if zone is None:
            return _stay(
                conv,
                ctx,
                f"I don't know the time zone '{_clip(value)}'. "
                "Try a city or a zone like Europe/London.",
            )
        changes = {"timezone": zone}
        said = f"Time zone set to {zone}."
    elif key == "date_order":
        order = value.upper() if value.upper() in DATE_ORDERS else None
        if order is None:
            return _stay(conv, ctx, "Please pick one of the date orders.")
        changes = {"date_order": order}
        said = f"Dates like 3/4 are now read {DATE_ORDERS[order]}."
    elif key == "nudges":
        found = _nudge_changes(value)
        if isinstance(found, str):
            return _stay(conv, ctx, found)
        changes = found
        said = "Monthly nudge: " + _nudge_label(replace(person, **cast(dict[str, Any], changes)))
    elif key == "calendar":
        found = _calendar_filter_changes(value)
        if isinstance(found, str):
            return _stay(conv, ctx, found)
        changes = found
        updated_person = replace(person, **cast(dict[str, Any], changes))
        said = "Calendar events: " + _calendar_filter_label(updated_person) + "."
    else:
        yes = True if _norm(value) in YES else False if _norm(value) in NO else None
        if yes is None:
            return _stay(conv, ctx, "Please answer yes or no.")
        changes = {"studying_he": yes}
        said = (
            "Noted: you are studying for a Masters or other higher-education qualification."
            if yes
            else "Noted: not studying for a higher-education qualification."
        )
    # PersonView mirrors the person's column names, so the same changes apply to both.
    updated = replace(person, **cast(dict[str, Any], changes))
    ctx = _with_person(ctx, updated)
    nxt = Conv(S.SETTINGS_MENU, replace_data(conv.data, field=None))
    return Step(nxt, (_say(said), _prompt(nxt, ctx)), (UpdatePerson(changes),))


def _settings_prompt(ctx: Context) -> Outgoing:
    p = ctx.person
    scheme = ctx.scheme
    status = scheme.status(p.status_id)
    lines = [
        "Your settings:",
        f"Professional body: {scheme.name}",
        f"Membership status: {status.label}"
        + (f" ({status.hours:g} h a year)" if status.hours else " (no hours target)"),
        f"Time zone: {p.timezone}",
        f"Date order: {DATE_ORDERS.get(p.date_order, p.date_order)}",
        f"Studying for a degree: {'yes' if p.studying_he else 'no'}",
        f"Monthly nudge: {_nudge_label(p)}",
        f"Calendar events: {_calendar_filter_label(p)}",
    ]
    if _paused_until(ctx):
        lines.append(f"Paused until {fmt.day(p.paused_until or ctx.today)} (/resume).")
    lines.append("What would you like to change?")
    choices = (
        *(Choice(f"set:{k}", v) for k, v in SETTINGS.items()),
        Choice("set:done", "Done"),
    )
    return Outgoing("\n".join(lines), choices)


def _settings_value_prompt(key: str, ctx: Context) -> Outgoing:
    if key == "scheme":
        return Outgoing(
            "Which professional body?",
            tuple(Choice(f"val:{s.id}", s.name) for s in _ordered_schemes(ctx)),
        )
    if key == "status":
        return Outgoing(
            "Which membership status?",
            tuple(Choice(f"val:{s.id}", s.label) for s in ctx.scheme.statuses),
        )
    if key == "timezone":
        tz = _timezone_prompt(ctx)
        return Outgoing(tz.text, tuple(Choice("val:" + c.id[3:], c.label) for c in tz.choices))
    if key == "date_order":
        return Outgoing(
            "How should I read dates like 3/4?",
            tuple(Choice(f"val:{k}", v) for k, v in DATE_ORDERS.items()),
        )
    if key == "nudges":
        return Outgoing(
            f"Your monthly progress message comes {_nudge_label(ctx.person)}. Type a day of "
            "the month and an hour to move it (e.g. '15 at 8' for the 15th at 08:00, "
            "'31' for the last day), or pick:",
            (
                Choice("val:always", "Every month"),
                Choice("val:behind", "Only when I'm behind"),
                Choice("val:off", "Off"),
            ),
        )
    if key == "calendar":
        return Outgoing(
            f"I ask about calendar events: {_calendar_filter_label(ctx.person)}. Type your "
            "own keywords separated by commas, or pick:",
            (
                Choice("val:keywords", "Learning events (keywords)"),
                Choice("val:all", "All events"),
                Choice("val:default", "Default keywords"),
            ),
        )
    return Outgoing(
        "Are you studying for a Masters or other higher-education qualification?",
        (Choice("val:yes", "Yes"), Choice("val:no", "No")),
    )


# ---------------------------------------------------------------- calendar


def _default_keywords() -> tuple[str, ...]:
    from bot.core.calendar_rules import DEFAULT_KEYWORDS

    return tuple(DEFAULT_KEYWORDS)


def _calendar_filter_label(person: PersonView) -> str:
    if person.calendar_all_events:
        return "all events"
    words = sched.keywords_of(person.calendar_keywords, _default_keywords())
    shown = ", ".join(words[:8]) + (", …" if len(words) > 8 else "")
    mine = "your keywords" if person.calendar_keywords is not None else "keywords"
    return f"learning events ({mine}: {shown}; or #cpd in the event)"


def _calendar_usage(ctx: Context) -> str:
    return (
        "Connect a calendar and I'll ask, soon after a training event ends, whether to log "
        "it — title, date and hours already filled in.\n"
        "/calendar add <ICS address> — e.g. Google Calendar's 'Secret address in iCal "
        "format', or an Outlook published calendar (ICS link)\n"
        "/calendar list — your calendars; /calendar remove 1 — disconnect one\n"
        "/calendar all — ask about every event; /calendar keywords training, course — "
        "only events with these words (or #cpd)\n"
        f"Now: {_calendar_filter_label(ctx.person)}."
    )


def _with_effects(conv: Conv, ctx: Context, text: str, effects: tuple[Effect, ...]) -> Step:
    """Say something (the current question asked again if we are mid-dialogue) and apply
    `effects`; the conversation stays where it was."""
    stayed = _stay(conv, ctx, text)
    return Step(stayed.conv, stayed.replies, effects)


def _calendar(conv: Conv, args: str, ctx: Context) -> Step:
    word, _, rest = args.strip().partition(" ")
    word = word.lower()
    rest = rest.strip()
    if word.startswith(("http://", "https://", "webcal://")):
        word, rest = "add", args.strip()
    if word in ("", "help"):
        return _stay(conv, ctx, _calendar_usage(ctx))
    if word == "add":
        return _calendar_add(conv, rest, ctx)
    if word == "list":
        return _stay(conv, ctx, _calendar_list(ctx))
    if word in ("remove", "delete", "rm"):
        return _calendar_remove(conv, rest, ctx)
    if word in ("all", "keywords", "keyword", "default"):
        value = {"all": "all", "default": "default"}.get(word, rest or "keywords")
        found = _calendar_filter_changes(value)
        if isinstance(found, str):
            return _stay(conv, ctx, found)
        person = replace(ctx.person, **cast(dict[str, Any], found))
        return _with_effects(
            conv,
            ctx,
            f"Calendar events: I'll ask about {_calendar_filter_label(person)}.",
            (UpdatePerson(found),),
        )
    return _stay(conv, ctx, _calendar_usage(ctx))


def _owner_emails(url: str, extra: str) -> tuple[str, ...]:
    """Whose calendar it is (to skip events they declined): an address typed after the URL,
    or the calendar id of a Google secret address (/calendar/ical/<email>/private-…)."""
    from urllib.parse import unquote, urlsplit

    found: list[str] = []
    for word in extra.replace(",", " ").split():
        if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", word):
            found.append(word.lower())
    try:
        parts = urlsplit(url).path.split("/")
    except ValueError:
        parts = []
    if "ical" in parts:
        candidate = unquote(parts[parts.index("ical") + 1]) if parts[-1:] != ["ical"] else ""
        if re.fullmatch(r"[^@\s/]+@[^@\s/]+\.[^@\s/]+", candidate):
            found.append(candidate.lower())
    return tuple(dict.fromkeys(found))


def _calendar_add(conv: Conv, rest: str, ctx: Context) -> Step:
    from bot.core.calendar_rules import FeedError, validate_feed_url

    url, _, extra = rest.partition(" ")
    if not url:
        return _stay(
            conv,
            ctx,
            "Send the calendar's ICS address after /calendar add — in Google Calendar: "
            "Settings → your calendar → 'Secret address in iCal format'.",
        )
    try:
        clean = validate_feed_url(url, allow_private=ctx.snap.allow_private_feeds)
    except FeedError as exc:
        return _stay(conv, ctx, f"I can't use that calendar address: {exc}")
    feeds = ctx.snap.feeds
    same = next((f for f in feeds if f.url == clean), None)
    if same is not None:
        return _stay(conv, ctx, f"That calendar is already connected (number {same.number}).")
    if len(feeds) >= MAX_FEEDS:
        return _stay(
            conv,
            ctx,
            f"You have {len(feeds)} calendars connected, the most I follow. "
            "/calendar remove N first.",
        )
    text = (
        f"Connected calendar {len(feeds) + 1} ({sched.mask_url(clean)}). I'll check it every "
        "few minutes and, soon after an event ends, ask whether to log it — for "
        f"{_calendar_filter_label(ctx.person)}. The address is a secret: I never show it "
        "in full. /calendar list shows your calendars."
    )
    effect = AddFeed(clean, _owner_emails(clean, extra))
    return _with_effects(conv, ctx, text, (effect,))


def _calendar_list(ctx: Context) -> str:
    feeds = ctx.snap.feeds
    if not feeds:
        return "No calendar connected. " + _calendar_usage(ctx)
    lines = ["Your calendars:"]
    for f in feeds:
        if f.failures:
            state = f"can't be read just now ({f.failures} failed attempt(s) in a row)"
        elif f.last_ok_at is not None:
            local = local_now(f.last_ok_at, ctx.person.timezone)
            state = f"last read {fmt.day(local.date(), ctx.today)} {local:%H:%M}"
        else:
            state = "not read yet"
        lines.append(f"{f.number}. {sched.mask_url(f.url)} — {state}")
    lines.append(f"I ask about {_calendar_filter_label(ctx.person)}.")
    lines.append("/calendar remove N disconnects one.")
    return "\n".join(lines)


def _calendar_remove(conv: Conv, rest: str, ctx: Context) -> Step:
    number = _entry_number(rest)
    feeds = ctx.snap.feeds
    feed = next((f for f in feeds if f.number == number), None)
    if feed is None:
        if not feeds:
            return _stay(conv, ctx, "No calendar is connected.")
        return _stay(
            conv, ctx, f"Which one? /calendar remove 1 to {len(feeds)} (/calendar list shows them)."
        )
    text = f"Disconnected calendar {feed.number} ({sched.mask_url(feed.url)})."
    return _with_effects(conv, ctx, text, (RemoveFeed(feed.feed_id),))


def _calendar_filter_changes(value: str) -> dict[str, object] | str:
    word = _norm(value)
    if word in ("all", "all events", "every event"):
        return {"calendar_all_events": True}
    if word in ("keywords", "learning", "learning events", "learning events (keywords)"):
        return {"calendar_all_events": False}
    if word in ("default", "default keywords", "defaults", "reset"):
        return {"calendar_all_events": False, "calendar_keywords": None}
    words = [w.strip().lstrip("#").lower() for w in value.split(",")]
    words = list(dict.fromkeys(" ".join(w.split()) for w in words if w.strip()))
    if not words:
        return "Type keywords separated by commas, e.g. training, course, webinar."
    if len(words) > MAX_KEYWORDS or any(len(w) > KEYWORD_MAX for w in words):
        return (
            f"Up to {MAX_KEYWORDS} keywords of up to {KEYWORD_MAX} characters each, "
            "separated by commas."
        )
    return {"calendar_all_events": False, "calendar_keywords": ", ".join(words)}


def _calendar_choice(conv: Conv, event: Incoming, ctx: Context) -> Step:
    """A button of a calendar prompt: Log it / Not CPD / Later (any state, any time)."""
    action = event.choice.split(":")[1] if event.choice.count(":") == 2 else ""
    occ = ctx.snap.occurrence
    if action not in ("log", "no", "later") or occ is None:
        return _stay(
            conv, ctx, "I no longer have that calendar event (was its calendar disconnected?)."
        )
    title = f"'{occ.title}'"
    if occ.decision == "logged":
        text = f"{title} is already logged as #{occ.entry_number}."
        if action == "no" and occ.entry_number:
            text += f" /delete {occ.entry_number} removes it if it wasn't CPD."
        return _stay(conv, ctx, text)
    if action == "no":
        if occ.decision == "not_cpd":
            return _stay(conv, ctx, f"Already noted: {title} is not CPD.")
        return _with_effects(
            conv,
            ctx,
            f"OK, {title} is not CPD; I won't ask about it again.",
            (DecideOccurrence(occ.id, "not_cpd"),),
        )
    if action == "later":
        if occ.decision == "later":
            return _stay(conv, ctx, f"I'll ask about {title} again later, once.")
        if occ.decision == "reasked":
            return _stay(
                conv, ctx, f"I've asked about {title} again already. /log it whenever you like."
            )
        at = sched.later_time(ctx.person.timezone, ctx.snap.now)
        when = sched.describe_later(ctx.person.timezone, ctx.snap.now, at)
        return _with_effects(
            conv,
            ctx,
            f"OK, I'll ask about {title} again {when}.",
            (DecideOccurrence(occ.id, "later", remind_at=at),),
        )
    if conv.state != S.IDLE:
        return _stay(
            conv,
            ctx,
            f"We're in the middle of {_doing(conv)}. Finish it (or /cancel), then press "
            f"Log it again for {title}.",
        )
    day = min(local_now(occ.start, ctx.person.timezone).date(), ctx.today)
    draft = Draft(
        title=_tidy(occ.title)[:TITLE_MAX] or "Calendar event",
        activity_date=day,
        minutes=occ.minutes,
        source="calendar",
        occurrence=occ.id,
    )
    intro = _say("Logging " + _understood(draft, ctx) + ".")
    return _advance(Conv(S.IDLE, Data(draft=draft, undo=conv.data.undo)), ctx, [intro])


# ---------------------------------------------------------------- pause, nudges


_WEEKDAY_RE = re.compile(
    r"\b(mon|tues?|wed(nes)?|thu(rs?)?|fri|sat(ur)?|sun)(day)?\b", re.IGNORECASE
)


def _paused_until(ctx: Context) -> date | None:
    until = ctx.person.paused_until
    return until if until is not None and until > ctx.today else None


def _future_date(text: str, ctx: Context) -> date | None:
    """A date after today: '5 January' is the next 5 January, 'Friday' the next Friday."""
    kwargs: dict[str, Any] = {"date_order": ctx.date_order, "languages": ctx.person.languages}
    day = parse_date(text, today=ctx.today, **kwargs)
    if day is None or day > ctx.today:
        return day
    ahead = parse_date(text, today=ctx.today + timedelta(days=365), **kwargs)
    if ahead is not None and ahead > ctx.today and (ahead.month, ahead.day) == (day.month, day.day):
        return ahead
    if _WEEKDAY_RE.search(text) and (ctx.today - day).days < 7:
        return day + timedelta(days=7)
    return day


def _pause(conv: Conv, args: str, ctx: Context) -> Step:
    text = re.sub(r"^(until|till|til|to)\b\s*", "", args.strip(), flags=re.IGNORECASE)
    if not text:
        now = _paused_until(ctx)
        state = f"You're paused until {fmt.day(now)}. " if now else ""
        return _stay(
            conv,
            ctx,
            f"{state}Until when? e.g. /pause until 5 January — no monthly nudges, calendar "
            "prompts or reminders before that day. /resume starts them again.",
        )
    until = _future_date(text, ctx)
    if until is None:
        return _stay(
            conv, ctx, f"I couldn't read '{_clip(text)}' as a date. Try /pause until 5 January."
        )
    if until <= ctx.today:
        return _stay(conv, ctx, f"{fmt.day(until)} has passed. Pick a day ahead, e.g. 5 January.")
    if (until - ctx.today).days > PAUSE_MAX_DAYS:
        return _stay(conv, ctx, "I pause for up to a year. Pick a nearer day.")
    text = (
        f"Paused until {fmt.day(until)}: no monthly nudges, calendar prompts or reminders "
        "before then. /resume starts them again sooner."
    )
    return _with_effects(conv, ctx, text, (UpdatePerson({"paused_until": until}),))


def _resume(conv: Conv, ctx: Context) -> Step:
    if _paused_until(ctx) is None:
        return _stay(conv, ctx, "You're not paused: nudges and calendar prompts are on.")
    return _with_effects(
        conv,
        ctx,
        "Welcome back: monthly nudges, calendar prompts and reminders are on again.",
        (UpdatePerson({"paused_until": None}),),
    )


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _nudge_label(person: PersonView) -> str:
    if not person.nudges_enabled:
        return "off"
    day = "the last day" if person.nudge_day >= 31 else f"the {_ordinal(person.nudge_day)}"
    mode = "only when you're behind" if person.nudge_mode == "behind" else "every month"
    return f"{day} at {person.nudge_hour:02d}:00, {mode}"


_HOUR_RE = re.compile(
    r"(?:\bat\s+|\bhour\s+)?\b(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ampm>am|pm)\b"
    r"|\b(?:at|hour)\s+(?P<h2>\d{1,2})(?::(?P<m2>\d{2}))?\b"
    r"|\b(?P<h3>\d{1,2}):(?P<m3>\d{2})\b",
    re.IGNORECASE,
)
_DAY_RE = re.compile(r"\b(?:day\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th)?\b", re.IGNORECASE)


def _nudge_changes(value: str) -> dict[str, object] | str:
    """Monthly nudge settings from a choice (always, behind, off) or text ('15 at 8')."""
    word = _norm(value).replace("’", "'")
    if word in ("off", "never", "stop", "no", "none"):
        return {"nudges_enabled": False}
    if word in ("always", "on", "every month", "monthly", "yes"):
        return {"nudges_enabled": True, "nudge_mode": "always"}
    if "behind" in word:
        return {"nudges_enabled": True, "nudge_mode": "behind"}
    changes: dict[str, object] = {"nudges_enabled": True}
    rest = word
    hour_match = _HOUR_RE.search(word)
    if hour_match:
        h = hour_match.group("h") or hour_match.group("h2") or hour_match.group("h3")
        m = hour_match.group("m") or hour_match.group("m2") or hour_match.group("m3")
        hour = int(h)
        ampm = (hour_match.group("ampm") or "").lower()
        if ampm and not 1 <= hour <= 12:
            return "Hours look like 8, 8am, 18 or 18:00."
        if ampm:
            hour = hour % 12 + (12 if ampm == "pm" else 0)
        if m not in (None, "00"):
            return "I send it on the hour: pick a whole hour such as 08:00."
        if not 0 <= hour <= 23:
            return "The hour is 0 to 23 (e.g. 8 or 18)."
        changes["nudge_hour"] = hour
        rest = word[: hour_match.start()] + " " + word[hour_match.end() :]
    day_match = _DAY_RE.search(rest)
    if day_match:
        day = int(day_match.group("d"))
        if not 1 <= day <= 31:
            return "The day of the month is 1 to 31 (31: the last day of every month)."
        changes["nudge_day"] = day
    if len(changes) == 1:
        return (
            "Type a day of the month and an hour, e.g. '15 at 8' (the 15th at 08:00), "
            "or choose every month, only when behind, or off."
        )
    return changes


# ---------------------------------------------------------------- plan


PLAN_ACTIONS: dict[str, str] = {
    "role": "Set role",
    "resp_add": "Add responsibility",
    "resp_remove": "Remove responsibility",
    "objective": "Add objective",
    "obj_done": "Objective done",
    "obj_remove": "Remove objective",
    "link": "Link entry",
    "tag": "Tag entry",
    "period": "Leave or exemption",
    "gap": "Explain a gap",
    "done": "Done",
}
PLAN_WORDS = {
    "role": "role",
    "responsibility": "resp_add",
    "add responsibility": "resp_add",
    "objective": "objective",
    "add objective": "objective",
    "done objective": "obj_done",
    "objective done": "obj_done",
    "link": "link",
    "tag": "tag",
    "tags": "tag",
    "leave": "period",
    "exemption": "period",
    "period": "period",
    "gap": "gap",
    "finished": "done",
    "stop": "done",
}
ROLE_MAX = 300
RESPONSIBILITY_MAX = 300
MAX_RESPONSIBILITIES = 20
OBJECTIVE_TITLE_MAX = 200
MAX_OBJECTIVES = 50
GAP_TEXT_MAX = 500
MAX_TAGS = 10
PERIOD_YEARS = 5  # a status period or target date at most this many years ahead
_RANGE_SPLIT = re.compile(r"\s+(?:to|until|till|through|-)\s+|\s*[–—]\s*", re.IGNORECASE)
_LINK_RE = re.compile(r"#?(\d{1,9})[\s,]+(?:to\s+)?(?:o|objective\s*)?(\d{1,9})", re.IGNORECASE)
_OBJECTIVE_RE = re.compile(r"(?:o|objective\s*)?(\d{1,9})", re.IGNORECASE)


def _leading_number(text: str) -> int | None:
    match = re.match(r"\s*#?(\d{1,9})\b", text)
    return int(match.group(1)) if match else None


def _plan_of(ctx: Context) -> Plan:
    return ctx.snap.plan or Plan()


def _plan(conv: Conv, args: str, ctx: Context) -> Step:
    """/plan: the plan and its menu; /plan link|unlink|tag|done|role …: one change at once."""
    if ctx.snap.plan is None:
        return _stay(conv, ctx, "I couldn't load your plan just now; please try again.")
    word, _, rest = args.strip().partition(" ")
    word, rest = word.lower(), rest.strip()
    if not word:
        nxt = Conv(S.PLAN_MENU, Data(undo=conv.data.undo))
        return Step(nxt, (_plan_prompt(nxt, ctx),))
    if word in ("link", "unlink"):
        found = _link_change(rest, ctx, link=word == "link")
    elif word in ("tag", "tags"):
        found = _tag_change(rest, ctx)
    elif word == "done":
        found = _objective_change("obj_done", rest, ctx)
    elif word == "role":
        found = _role_change(rest) if rest else "Type your role after /plan role."
    else:
        found = (
            "Use /plan on its own to see and change your plan, or in one line: "
            "/plan link 12 3 (entry #12 serves objective O3), /plan unlink 12 3, "
            "/plan tag 12 A C (UK-SPEC), /plan done 3 (O3 achieved), /plan role <your role>."
        )
    if isinstance(found, str):
        return _stay(conv, ctx, found)
    said, effect = found
    return _with_effects(conv, ctx, said, (effect,))


def _plan_actions(plan: Plan, scheme: Scheme) -> list[str]:
    shown = ["role", "resp_add"]
    if plan.responsibilities:
        shown.append("resp_remove")
    shown.append("objective")
    if any(o.status == "open" for o in plan.objectives):
        shown.append("obj_done")
    if plan.objectives:
        shown += ["obj_remove", "link"]
    shown.append("tag")
    if len(scheme.statuses) > 1:
        shown.append("period")
    return [*shown, "gap", "done"]


def _objective_line(o: ObjectiveView, plan: Plan, today: date) -> str:
    due = f", by {fmt.short_day(o.target_date)}" if o.target_date else ""
    state = "done" if o.status == "done" else ("overdue" if o.overdue(today) else "open")
    linked = sum(1 for _, n in plan.links if n == o.number)
    links = f" · {linked} entr{'y' if linked == 1 else 'ies'}" if linked else ""
    return f"{o.label} {o.title} ({o.area_label}{due}) — {state}{links}"


def _plan_text(plan: Plan, periods: tuple[StatusPeriod, ...], ctx: Context) -> str:
    scheme = ctx.scheme
    lines = ["Your development plan:", f"Role: {plan.role or 'not set'}"]
    checks = scheme.checks
    hint = ""
    if checks.responsibilities is not None:
        low, high = checks.responsibilities
        hint = f" — {scheme.name} asks for {low}–{high}" + (
            f", including {checks.responsibility_required}"
            if checks.responsibility_required
            else ""
        )
    if plan.responsibilities:
        lines.append(f"Key responsibilities ({len(plan.responsibilities)}{hint}):")
        lines += [f"  {i}. {r}" for i, r in enumerate(plan.responsibilities, 1)]
    else:
        lines.append(f"Key responsibilities: none yet{hint}.")
    if plan.objectives:
        lines.append("Objectives:")
        lines += [f"  {_objective_line(o, plan, ctx.today)}" for o in plan.objectives]
    else:
        lines.append("Objectives: none yet.")
    if periods:
        lines.append("Leave and exemptions:")
        lines += [
            f"  {scheme.status(p.status_id).label}: "
            f"{fmt.short_day(p.start)} – {fmt.short_day(p.end)}"
            for p in periods
        ]
    if plan.gap_notes:
        lines.append("Gaps explained:")
        lines += [
            f"  {fmt.short_day(g.start)} – {fmt.short_day(g.end)}: {g.text}" for g in plan.gap_notes
        ]
    return "\n".join(lines)


def _plan_menu_prompt(ctx: Context, plan: Plan, text: str) -> Outgoing:
    choices = tuple(Choice(f"plan:{k}", PLAN_ACTIONS[k]) for k in _plan_actions(plan, ctx.scheme))
    return Outgoing(text, choices)


def _plan_prompt(conv: Conv, ctx: Context) -> Outgoing:
    state, plan = conv.state, _plan_of(ctx)
    draft = conv.data.plan or PlanDraft()
    if state == S.PLAN_MENU:
        text = _plan_text(plan, ctx.snap.periods, ctx) + "\nWhat would you like to change?"
        return _plan_menu_prompt(ctx, plan, text)
    if state == S.PLAN_AREA:
        return Outgoing(
            f"Which area is '{draft.title}' in?",
            tuple(Choice(f"area:{k}", v) for k, v in AREAS.items()),
        )
    if state == S.PLAN_TARGET:
        return Outgoing(
            f"By when do you aim to achieve '{draft.title}'? (e.g. 31 March, 30/6/2027)",
            (Choice("target:none", "No target date"),),
        )
    if state == S.PLAN_STATUS:
        return Outgoing(
            "Which status applies for part of the year? Your target is then worked out pro "
            "rata, day by day.",
            tuple(Choice(f"pstatus:{s.id}", _status_label(s.id, ctx)) for s in _statuses(ctx)),
        )
    if state == S.PLAN_PERIOD:
        label = ctx.scheme.status(draft.status or "").label
        return _say(
            f"From when to when ({label})? e.g. '1 March to 31 August', "
            "'1/3/2026 - 31/8/2026'. Both days are included."
        )
    return _plan_value_prompt(conv.data.field or "", plan, ctx)


def _statuses(ctx: Context) -> list[Any]:
    return [s for s in ctx.scheme.statuses if s.id != ctx.person.status_id]


def _status_label(status_id: str, ctx: Context) -> str:
    status = ctx.scheme.status(status_id)
    if status.hours is None:
        return status.label
    return f"{status.label} ({status.hours:g} h a year)"


def _plan_value_prompt(key: str, plan: Plan, ctx: Context) -> Outgoing:
    if key == "role":
        choices = (Choice("pv:clear", "Clear my role"),) if plan.role else ()
        return Outgoing(
            "What is your role? e.g. 'Protection engineer, distribution network operator'.",
            choices,
        )
    if key == "resp_add":
        return _say(
            "Type a key responsibility, e.g. 'Ethical behaviour' or 'Protection design'. "
            "Several at once: separate them with semicolons."
        )
    if key == "resp_remove":
        return Outgoing(
            "Which responsibility should I remove?",
            tuple(
                Choice(f"pv:{i}", f"{i}. {_clip(r, 30)}")
                for i, r in enumerate(plan.responsibilities, 1)
            ),
        )
    if key == "obj_title":
        return _say(
            "What is the objective? A few words, e.g. 'Learn IEC 61850 substation automation'."
        )
    if key in ("obj_done", "obj_remove"):
        wanted = [o for o in plan.objectives if key == "obj_remove" or o.status == "open"]
        question = (
            "Which objective have you achieved?"
            if key == "obj_done"
            else "Which objective should I remove? Its links go with it; the entries stay."
        )
        return Outgoing(
            question,
            tuple(Choice(f"pv:{o.number}", f"{o.label} {_clip(o.title, 30)}") for o in wanted),
        )
    if key == "link":
        shown = "; ".join(f"{o.label} {_clip(o.title, 40)}" for o in plan.objectives)
        return _say(
            "Which entry serves which objective? e.g. '12 O1' links entry #12 to O1 "
            f"(/list shows entry numbers). Objectives: {shown}."
        )
    if key == "tag":
        legend = "; ".join(f"{k} {v}" for k, v in UKSPEC_TAGS.items())
        return _say(
            "Which entry, and which competences? e.g. '12 A C'. UK-SPEC: "
            f"{legend}. Tags replace the entry's tags; '12 none' clears them."
        )
    return _say(
        "Which days had no CPD, and why? e.g. '1 June to 31 August: sick leave'. "
        "An explained gap no longer counts against you."
    )


def _plan_menu(conv: Conv, event: Incoming, ctx: Context) -> Step:
    if event.kind == Kind.CHOICE:
        head, _, key = event.choice.partition(":")
        if head != "plan":
            return _stale(conv, ctx)
    else:
        typed = _norm(event.text)
        by_label = {_norm(v): k for k, v in PLAN_ACTIONS.items()}
        key = by_label.get(typed) or PLAN_WORDS.get(typed) or typed
    plan = _plan_of(ctx)
    if key == "done":
        return Step(Conv(S.IDLE, Data(undo=conv.data.undo)), (_say("Plan saved."),))
    if key not in _plan_actions(plan, ctx.scheme):
        if event.kind == Kind.CHOICE and key in PLAN_ACTIONS:
            return _stale(conv, ctx)
        return _stay(conv, ctx, "Please pick what to change, or Done.")
    if key == "period":
        nxt = Conv(S.PLAN_STATUS, replace_data(conv.data, plan=PlanDraft()))
        return Step(nxt, (_prompt(nxt, ctx),))
    if key == "objective":
        if len(plan.objectives) >= MAX_OBJECTIVES:
            return _stay(conv, ctx, f"You have {MAX_OBJECTIVES} objectives; remove one first.")
        key = "obj_title"
    if key == "resp_add" and len(plan.responsibilities) >= MAX_RESPONSIBILITIES:
        return _stay(conv, ctx, f"You have {MAX_RESPONSIBILITIES} responsibilities; remove one.")
    nxt = Conv(S.PLAN_VALUE, replace_data(conv.data, field=key, plan=None))
    return Step(nxt, (_prompt(nxt, ctx),))


def _plan_done(
    conv: Conv, ctx: Context, said: str, effects: tuple[Effect, ...], plan: Plan
) -> Step:
    """A change made: say so, and offer the menu again (built from the plan as it is now)."""
    nxt = Conv(S.PLAN_MENU, replace_data(conv.data, field=None, plan=None))
    return Step(
        nxt,
        (_say(said), _plan_menu_prompt(ctx, plan, "Anything else in your plan? (Done to finish)")),
        effects,
    )


def _plan_value(conv: Conv, event: Incoming, ctx: Context) -> Step:
    key = conv.data.field or ""
    plan = _plan_of(ctx)
    if event.kind == Kind.CHOICE:
        head, _, value = event.choice.partition(":")
        numbered = key in ("resp_remove", "obj_done", "obj_remove") and value.isdigit()
        if head != "pv" or not (numbered or (key == "role" and value == "clear")):
            return _stale(conv, ctx)
    else:
        value = " ".join(event.text.split())
    if not value:
        return _stay(conv, ctx, "Please type an answer, or /cancel.")
    if key == "obj_title":
        error = _objective_title_error(value)
        if error:
            return _stay(conv, ctx, error)
        nxt = Conv(S.PLAN_AREA, replace_data(conv.data, field=None, plan=PlanDraft(title=value)))
        return Step(nxt, (_prompt(nxt, ctx),))
    found: tuple[str, Effect] | str
    if key == "role":
        found = _role_change("" if event.choice == "pv:clear" else value)
    elif key == "resp_add":
        return _add_responsibilities(conv, value, ctx)
    elif key == "resp_remove":
        number = _entry_number(value)
        if number is None or not 1 <= number <= len(plan.responsibilities):
            if event.kind == Kind.CHOICE:
                return _stale(conv, ctx)
            found = f"Type a number from 1 to {len(plan.responsibilities)}."
        else:
            text = plan.responsibilities[number - 1]
            found = (f"Removed '{text}'.", RemoveResponsibility(number))
    elif key in ("obj_done", "obj_remove"):
        found = _objective_change(key, value, ctx)
    elif key == "link":
        found = _link_change(value, ctx, link=True)
    elif key == "tag":
        found = _tag_change(value, ctx)
    elif key == "gap":
        found = _gap_change(value, ctx)
    else:  # a field from an older version: back to the menu
        menu = Conv(S.PLAN_MENU, replace_data(conv.data, field=None))
        return Step(menu, (_prompt(menu, ctx),))
    if isinstance(found, str):
        return _stay(conv, ctx, found)
    said, effect = found
    return _plan_done(conv, ctx, said, (effect,), _plan_after(plan, effect))


def _role_change(text: str) -> tuple[str, Effect] | str:
    text = _tidy(text) if text else ""
    if len(text) > ROLE_MAX:
        return f"Please keep your role under {ROLE_MAX} characters."
    return (f"Role set: {text}." if text else "Role cleared."), SetRole(text)


def _add_responsibilities(conv: Conv, value: str, ctx: Context) -> Step:
    plan = _plan_of(ctx)
    items = [_tidy(part) for part in value.split(";")]
    items = [i for i in items if i]
    if not items:
        return _stay(conv, ctx, "Please type a responsibility, e.g. 'Ethical behaviour'.")
    if any(len(i) > RESPONSIBILITY_MAX for i in items):
        return _stay(conv, ctx, f"Please keep each under {RESPONSIBILITY_MAX} characters.")
    known = {_norm(r) for r in plan.responsibilities}
    new = list(dict.fromkeys(i for i in items if _norm(i) not in known))
    if not new:
        return _stay(conv, ctx, "That is already one of your key responsibilities.")
    if len(plan.responsibilities) + len(new) > MAX_RESPONSIBILITIES:
        return _stay(
            conv,
            ctx,
            f"That would make {len(plan.responsibilities) + len(new)}; I keep up to "
            f"{MAX_RESPONSIBILITIES}.",
        )
    effects = tuple(AddResponsibility(i) for i in new)
    after = replace(plan, responsibilities=plan.responsibilities + tuple(new))
    n = len(after.responsibilities)
    said = f"Added: {'; '.join(new)}. You have {n} key responsibilit{'y' if n == 1 else 'ies'}."
    checks = ctx.scheme.checks
    if checks.responsibilities is not None:
        low, high = checks.responsibilities
        if n < low:
            said += f" {ctx.scheme.name} asks for {low}–{high}."
    return _plan_done(conv, ctx, said, effects, after)


def _objective_title_error(title: str) -> str | None:
    if len(title) > OBJECTIVE_TITLE_MAX:
        return f"Please keep the objective under {OBJECTIVE_TITLE_MAX} characters."
    if not _tidy(title):
        return "Please describe the objective in a few words."
    return None


def _find_objective(value: str, plan: Plan) -> ObjectiveView | str:
    match = _OBJECTIVE_RE.fullmatch(value.strip())
    if match is None:
        return "Which objective? Type its number, e.g. O2."
    found = plan.objective(int(match.group(1)))
    if found is None:
        numbers = ", ".join(o.label for o in plan.objectives) or "none yet"
        return f"There is no objective O{match.group(1)} (yours: {numbers})."
    return found


def _objective_change(key: str, value: str, ctx: Context) -> tuple[str, Effect] | str:
    plan = _plan_of(ctx)
    objective = _find_objective(value, plan)
    if isinstance(objective, str):
        return objective
    name = f"{objective.label} '{objective.title}'"
    if key == "obj_remove":
        linked = sum(1 for _, n in plan.links if n == objective.number)
        links = f" and its {linked} link{'s' if linked != 1 else ''}" if linked else ""
        return f"Removed {name}{links}; the entries stay.", DeleteObjective(objective.number)
    if objective.status == "done":
        return f"{name} is already marked done."
    return f"Well done: {name} marked done.", SetObjectiveDone(objective.number)


def _entry_check(number: int, ctx: Context) -> str | None:
    entry = ctx.snap.entry
    if entry is None or entry.deleted or entry.number != number:
        return _no_entry(str(number))
    return None


def _link_change(value: str, ctx: Context, *, link: bool) -> tuple[str, Effect] | str:
    match = _LINK_RE.fullmatch(value.strip())
    if match is None:
        return "Type the entry number and the objective, e.g. '12 O3' (entry #12, objective O3)."
    entry_number, objective_number = int(match.group(1)), int(match.group(2))
    plan = _plan_of(ctx)
    error = _entry_check(entry_number, ctx)
    objective = plan.objective(objective_number)
    if error is None and objective is None:
        numbers = ", ".join(o.label for o in plan.objectives) or "none yet: /plan adds one"
        error = f"There is no objective O{objective_number} (yours: {numbers})."
    if error or objective is None:
        return error or ""
    known = (entry_number, objective_number) in plan.links
    entry = ctx.snap.entry
    title = f"#{entry_number} '{entry.title}'" if entry else f"#{entry_number}"
    if link and known:
        return f"{title} is already linked to {objective.label}."
    if not link and not known:
        return f"{title} is not linked to {objective.label}."
    said = (
        f"Linked {title} to {objective.label} '{objective.title}'. /review shows its progress."
        if link
        else f"Unlinked {title} from {objective.label}."
    )
    return said, LinkEntry(entry_number, objective_number, link=link)


def _tag_change(value: str, ctx: Context) -> tuple[str, Effect] | str:
    match = re.fullmatch(r"#?(\d{1,9})\s*(.*)", value.strip())
    if match is None or not match.group(2).strip():
        return "Type the entry number and its tags, e.g. '12 A C' (or '12 none')."
    number, rest = int(match.group(1)), match.group(2).strip(" :,-")
    error = _entry_check(number, ctx)
    if error:
        return error
    parts = rest.split(",") if "," in rest else rest.split()
    if _norm(rest) in ("none", "clear", "-"):
        parts = []
    try:
        tags = tuple(dict.fromkeys(normalise_tag(p) for p in parts if p.strip()))
    except PlanError as exc:
        return f"Tags: {exc}."
    if len(tags) > MAX_TAGS:
        return f"Up to {MAX_TAGS} tags per entry, please."
    if not tags:
        return f"Tags cleared for #{number}.", SetEntryTags(number, ())
    named = ", ".join(f"{t} ({UKSPEC_TAGS[t]})" if t in UKSPEC_TAGS else t for t in tags)
    return f"#{number} tagged: {named}.", SetEntryTags(number, tags)


def _date_range(text: str, ctx: Context) -> tuple[date, date] | str:
    parts = _RANGE_SPLIT.split(text.strip(), maxsplit=1)
    example = "Type two dates, e.g. '1 March to 31 August'."
    if len(parts) != 2 or not all(p.strip() for p in parts):
        return example
    kwargs: dict[str, Any] = {"date_order": ctx.date_order, "languages": ctx.person.languages}
    days = [parse_date(p, today=ctx.today, **kwargs) for p in parts]
    for written, day in zip(parts, days, strict=True):
        if day is None:
            return f"I couldn't read '{_clip(written)}' as a date. {example}"
    start, end = cast(list[date], days)
    if end < start:
        return f"{fmt.day(end)} is before {fmt.day(start)}: the end comes after the start."
    if start.year < 1950 or end > ctx.today + timedelta(days=366 * PERIOD_YEARS):
        return "Those dates are too far away. " + example
    return start, end


def _gap_change(value: str, ctx: Context) -> tuple[str, Effect] | str:
    dates, sep, why = value.partition(":")
    why = _tidy(why)
    if not sep or not why:
        return "Type the dates, a colon, and the reason, e.g. '1 June to 31 August: sick leave'."
    if len(why) > GAP_TEXT_MAX:
        return f"Please keep the reason under {GAP_TEXT_MAX} characters."
    found = _date_range(dates, ctx)
    if isinstance(found, str):
        return found
    start, end = found
    if start > ctx.today:
        return f"{fmt.day(start)} is still to come: explain a gap once it has happened."
    said = f"Gap explained: {fmt.short_day(start)} – {fmt.short_day(end)}: {why}."
    return said, AddGapNote(start, end, why)


def _plan_area(conv: Conv, event: Incoming, ctx: Context) -> Step:
    if event.kind == Kind.CHOICE:
        head, _, value = event.choice.partition(":")
        if head != "area" or value not in AREAS:
            return _stale(conv, ctx)
        area: str | None = value
    else:
        area = parse_area(event.text)
    if area is None:
        return _stay(conv, ctx, f"Please pick an area: {', '.join(AREAS.values())}.")
    draft = (conv.data.plan or PlanDraft()).model_copy(update={"area": area})
    nxt = Conv(S.PLAN_TARGET, replace_data(conv.data, plan=draft))
    return Step(nxt, (_prompt(nxt, ctx),))


def _plan_target(conv: Conv, event: Incoming, ctx: Context) -> Step:
    draft = conv.data.plan or PlanDraft()
    if not draft.title or not draft.area:
        return Step(Conv(S.PLAN_MENU, replace_data(conv.data, plan=None)), ())
    target: date | None
    if event.kind == Kind.CHOICE:
        if event.choice != "target:none":
            return _stale(conv, ctx)
        target = None
    elif _norm(event.text) in ("none", "no", "skip", "no target", "no target date", "-"):
        target = None
    else:
        text = event.text.strip()
        target = _future_date(text, ctx)
        if target is None:
            return _stay(
                conv, ctx, f"I couldn't read '{_clip(text)}' as a date. Try '31 March 2027'."
            )
        if target < ctx.today:
            return _stay(conv, ctx, f"{fmt.day(target)} has passed. Pick a day ahead, or None.")
        if target > ctx.today + timedelta(days=366 * PERIOD_YEARS):
            return _stay(conv, ctx, f"Pick a target within {PERIOD_YEARS} years.")
    plan = _plan_of(ctx)
    number = max((o.number for o in plan.objectives), default=0) + 1
    view = ObjectiveView(number, _tidy(draft.title), draft.area, target)
    by = f", by {fmt.short_day(target)}" if target else ""
    said = (
        f"Added O{number} '{view.title}' ({view.area_label}{by}). "
        f"/plan link 12 {number} links entry #12 to it."
    )
    after = replace(plan, objectives=(*plan.objectives, view))
    return _plan_done(conv, ctx, said, (AddObjective(view.title, view.area, target),), after)


def _plan_status(conv: Conv, event: Incoming, ctx: Context) -> Step:
    statuses = _statuses(ctx)
    if event.kind == Kind.CHOICE:
        head, _, value = event.choice.partition(":")
        if head != "pstatus":
            return _stale(conv, ctx)
    else:
        value = event.text
    wanted = _norm(value.replace("_", " "))
    status = next(
        (
            s
            for s in statuses
            if wanted in (_norm(s.id.replace("_", " ")), _norm(s.label))
            or (len(wanted) >= 4 and _norm(s.label).startswith(wanted))
        ),
        None,
    )
    if status is None:
        if event.kind == Kind.CHOICE:
            return _stale(conv, ctx)
        return _stay(conv, ctx, "Please pick one of the statuses.")
    nxt = Conv(S.PLAN_PERIOD, replace_data(conv.data, plan=PlanDraft(status=status.id)))
    return Step(nxt, (_prompt(nxt, ctx),))


def _plan_period(conv: Conv, event: Incoming, ctx: Context) -> Step:
    from bot.core.assess import Year, targets

    status_id = (conv.data.plan or PlanDraft()).status
    if event.kind != Kind.TEXT:
        return _stale(conv, ctx)
    if not status_id or ctx.scheme.status(status_id).id != status_id:
        return _stay(conv, ctx, "Please pick the status again: /plan, then Leave or exemption.")
    found = _date_range(event.text, ctx)
    if isinstance(found, str):
        return _stay(conv, ctx, found)
    start, end = found
    period = StatusPeriod(status_id, start, end)
    periods = (*ctx.snap.periods, period)
    scheme = ctx.scheme
    label = scheme.status(status_id).label
    said = f"Noted: {label} from {fmt.short_day(start)} to {fmt.short_day(end)}."
    year_start, year_end = scheme.year_bounds(ctx.today, ctx.person.year_start)
    target, full = targets(Year(ctx.person, scheme, year_start, year_end), periods)
    if full is not None and target is not None:
        now = fmt.hours(target) if target else "no hours"
        said += (
            f" Your target for CPD year {scheme.year_label(year_start)} is now {now}"
            f" (pro rata; {fmt.hours(full)} for a whole year)."
        )
    return _plan_done(conv, ctx, said, (AddStatusPeriod(status_id, start, end),), _plan_of(ctx))


def _plan_after(plan: Plan, effect: Effect) -> Plan:
    """The plan as it is once `effect` is applied (for the menu offered next)."""
    if isinstance(effect, SetRole):
        return replace(plan, role=effect.text)
    if isinstance(effect, RemoveResponsibility):
        items = list(plan.responsibilities)
        del items[effect.position - 1]
        return replace(plan, responsibilities=tuple(items))
    if isinstance(effect, SetObjectiveDone):
        return replace(
            plan,
            objectives=tuple(
                replace(o, status="done") if o.number == effect.number else o
                for o in plan.objectives
            ),
        )
    if isinstance(effect, DeleteObjective):
        return replace(
            plan,
            objectives=tuple(o for o in plan.objectives if o.number != effect.number),
            links=frozenset(link for link in plan.links if link[1] != effect.number),
        )
    if isinstance(effect, LinkEntry):
        pair = (effect.entry_number, effect.objective_number)
        return replace(plan, links=plan.links | {pair} if effect.link else plan.links - {pair})
    if isinstance(effect, AddGapNote):
        note = GapNote(effect.start, effect.end, effect.text)
        return replace(plan, gap_notes=(*plan.gap_notes, note))
    return plan


# ---------------------------------------------------------------- review, studying


def _review(conv: Conv, ctx: Context) -> Step:
    plan = ctx.snap.plan
    if plan is None:
        return _stay(conv, ctx, "I couldn't load your plan just now; please try again.")
    text = review_text(review(plan, ctx.snap.linked), today=ctx.today)
    if plan.objectives:
        text += "\n/plan link 12 1 links entry #12 to O1; /plan done 1 marks O1 achieved."
    return _stay(conv, ctx, text)


def _studying(conv: Conv, args: str, ctx: Context) -> Step:
    word = _norm(args)
    rule = ctx.scheme.balance
    effect_note = ""
    if rule is not None and rule.min_categories_when_studying is not None:
        effect_note = (
            f" {ctx.scheme.name} then asks for {rule.min_categories_when_studying} categories "
            f"instead of {rule.min_categories}."
        )
    if word in YES:
        return _with_effects(
            conv,
            ctx,
            "Noted: you are studying for a Masters or other higher-education qualification."
            + effect_note,
            (UpdatePerson({"studying_he": True}),),
        )
    if word in NO:
        return _with_effects(
            conv,
            ctx,
            "Noted: not studying for a higher-education qualification.",
            (UpdatePerson({"studying_he": False}),),
        )
    now = "You are" if ctx.person.studying_he else "You are not"
    return _stay(
        conv,
        ctx,
        f"{now} recorded as studying for a Masters or other higher-education qualification. "
        f"/studying yes or /studying no changes it.{effect_note}",
    )


# ---------------------------------------------------------------- forget


FORGET_WORD = "FORGET"
_HELD = (  # table -> how a count of its rows reads; tables not named are counted as 'other'
    ("entry", "entry", "entries"),
    ("reflection", "reflection", "reflections"),
    ("role", "role", "roles"),
    ("responsibility", "key responsibility", "key responsibilities"),
    ("objective", "objective", "objectives"),
    ("entryobjective", "link to an objective", "links to objectives"),
    ("entrytag", "tag", "tags"),
    ("status_period", "leave or exemption period", "leave or exemption periods"),
    ("gap_note", "explained gap", "explained gaps"),
    ("calendarfeed", "connected calendar", "connected calendars"),
    ("seenoccurrence", "calendar event seen", "calendar events seen"),
    ("outbox", "scheduled or sent message", "scheduled or sent messages"),
    ("identity", "chat account link", "chat account links"),
)
_NOT_LISTED = {"person", "conversation"}


def _holdings_text(holdings: Mapping[str, int]) -> str:
    parts = []
    for table, one, many in _HELD:
        n = holdings.get(table, 0)
        if n:
            parts.append(f"{n} {one if n == 1 else many}")
    named = {t for t, _, _ in _HELD} | _NOT_LISTED
    other = sum(n for t, n in holdings.items() if t not in named)
    if other:
        parts.append(f"{other} other stored row{'s' if other != 1 else ''}")
    parts.append("your settings and our conversation")
    return ", ".join(parts)


def _forget(conv: Conv, ctx: Context) -> Step:
    nxt = Conv(S.FORGET_CONFIRM, Data(undo=conv.data.undo))
    return Step(nxt, (_forget_prompt(ctx),))


def _forget_prompt(ctx: Context) -> Outgoing:
    return Outgoing(
        f"This erases everything I hold about you — {_holdings_text(ctx.snap.holdings)} — "
        "for good: it cannot be undone. (/export all first if you want a copy.)\n"
        f"Type {FORGET_WORD} or press Erase everything to go ahead; Keep changes nothing.",
        (Choice("forget:yes", "Erase everything"), Choice("forget:no", "Keep")),
    )


def _forget_confirm(conv: Conv, event: Incoming, ctx: Context) -> Step:
    if event.kind == Kind.CHOICE:
        if event.choice not in ("forget:yes", "forget:no"):
            return _stale(conv, ctx)
        erase = event.choice == "forget:yes"
    else:
        typed = event.text.strip()
        if typed.upper() == FORGET_WORD:
            erase = True
        elif _norm(typed) in ("keep", "no", "n", "stop"):
            erase = False
        else:
            return _stay(conv, ctx, f"To erase everything, type {FORGET_WORD} (or press Keep).")
    if not erase:
        return Step(Conv(S.IDLE, Data(undo=conv.data.undo)), (_say("Kept. Nothing was erased."),))
    text = (
        f"Erased: {_holdings_text(ctx.snap.holdings)}. This is permanent — I no longer hold "
        "anything about you, and it cannot be brought back. If you write to me again, "
        "we start afresh."
    )
    return Step(Conv(S.IDLE, Data()), (_say(text),), (ForgetPerson(),))


# ---------------------------------------------------------------- status and list


def _status_text(ctx: Context) -> str:
    summary = ctx.snap.summary
    if summary is None:
        return "I couldn't load your totals just now; please try again."
    scheme = ctx.scheme
    person = ctx.person
    status = scheme.status(person.status_id)
    total = summary.total_minutes
    label = scheme.year_label(summary.start)
    head = f"CPD year {label} ({scheme.name}, {status.label}): {fmt.hours(total)}"
    lines = []
    assessment = ctx.snap.assessment
    target = int(status.hours * 60) if status.hours else None
    if assessment is not None:  # after leave or exemptions: pro rata
        target = assessment.target_minutes or None
    if target:
        share = total / target
        head += f" of {fmt.hours(target)} ({share:.0%})."
        lines.append(head)
        days = (summary.end - summary.start).days
        elapsed = min(max((ctx.today - summary.start).days + 1, 0), days)
        expected = target * elapsed // days
        if total >= target:
            lines.append("Target reached. 🎉")
        elif total >= expected:
            lines.append(f"On pace: {fmt.hours(expected)} expected by today.")
        else:
            lines.append(
                f"Behind pace by {fmt.hours(expected - total)} "
                f"({fmt.hours(expected)} expected by today)."
            )
    else:
        lines.append(head + " (no hours target).")
    if summary.minutes_by_category:
        lines.append("By category:")
        for cat in scheme.categories:
            minutes = summary.minutes_by_category.get(cat.id)
            if minutes:
                lines.append(f"  {cat.label}: {fmt.hours(minutes)}")
        for cat_id, minutes in summary.minutes_by_category.items():
            if scheme.category(cat_id) is None:
                lines.append(f"  {cat_id} (not in {scheme.name}): {fmt.hours(minutes)}")
    entries = f"{summary.entries} entr{'y' if summary.entries == 1 else 'ies'}"
    if summary.pending_entries:
        lines.append(f"{entries}; {summary.pending_entries} with reflections pending — /reflect.")
    else:
        lines.append(
            f"{entries}; all reflections done."
            if summary.entries
            else "No entries yet this year: /log to add one."
        )
    if assessment is not None:
        outstanding = len(assessment.outstanding)
        lines.append(
            f"{scheme.name} requirements: "
            + ("all met or not applicable." if not outstanding else f"{outstanding} not yet met.")
        )
        lines += [_clip(line, STATUS_LINE_MAX) for line in assessment.lines()]
    return "\n".join(lines)


def _list_text(ctx: Context) -> str:
    entries = ctx.snap.recent
    if not entries:
        return "No entries yet. /log records your first one."
    lines = ["Your recent entries:"] + [fmt.entry_line(e, ctx.scheme, ctx.today) for e in entries]
    lines.append("/edit N or /delete N to change one.")
    return "\n".join(lines)


# ---------------------------------------------------------------- export


EXPORT_KINDS = ("csv", "json", "pdf", "md", "all")
EXPORT_ALIASES = {"markdown": "md", "everything": "all", "zip": "all"}


def _export_args(args: str) -> tuple[str | None, int | None]:
    """('csv' | 'json' | 'pdf' | 'md' | 'all' | None for a bad word, year or None)."""
    fmt_name, year = "csv", None
    for word in args.lower().split():
        word = EXPORT_ALIASES.get(word, word)
        if word in EXPORT_KINDS:
            fmt_name = word
        elif word.isdigit() and len(word) == 4:
            year = int(word)
        else:
            return None, None
    if fmt_name == "all" and year is not None:
        return None, None  # everything is every year
    return fmt_name, year


def _export(conv: Conv, args: str, ctx: Context) -> Step:
    from bot.core.export import to_csv, to_json

    kind, _ = _export_args(args)
    if kind is None:
        return _stay(
            conv,
            ctx,
            "Use /export (CSV), /export pdf, /export md, /export json, /export 2025 for "
            "another year, or /export all for everything I hold about you.",
        )
    if kind == "all":
        text = (
            "Everything I hold about you, as a ZIP: data.json (every stored row: settings, "
            "entries including deleted ones, reflections, plan, calendars, messages) and "
            "record.json / record.csv with all your entries, which `cpdbot import` reads back."
        )
        failed = "I couldn't put your data together just now; please try /export all again."
        return Step(conv, (Outgoing(text, file=FileRequest("all", failed)),))
    if kind in ("pdf", "md"):
        report = ctx.snap.report
        if report is None:
            return _stay(conv, ctx, "I couldn't load your record just now; please try again.")
        year = report.record
        n = len(year.entries)
        what = "PDF" if kind == "pdf" else "Markdown"
        text = (
            f"Your CPD record for {year.label} ({what}): {n} entr{'y' if n == 1 else 'ies'}, "
            f"{fmt.hours(year.total_minutes)}, with the assessment, your plan"
            + (" and the progress chart." if kind == "pdf" else ".")
        )
        failed = f"I couldn't make the {what} file just now; please try again."
        return Step(conv, (Outgoing(text, file=FileRequest(kind, failed)),))
    record = ctx.snap.record
    if record is None:
        return _stay(conv, ctx, "I couldn't load your record just now; please try again.")
    data = to_csv(record) if kind == "csv" else to_json(record)
    mime = "text/csv" if kind == "csv" else "application/json"
    name = f"cpd-{record.label.replace('/', '-')}.{kind}"
    n = len(record.entries)
    text = (
        f"Your CPD record for {record.label}: {n} entr{'y' if n == 1 else 'ies'}, "
        f"{fmt.hours(record.total_minutes)}."
    )
    return Step(conv, (Outgoing(text, attachment=Attachment(name, data, mime)),))


# ---------------------------------------------------------------- forms


def entry_form(scheme: Scheme) -> tuple[FormField, ...]:
    """The one-screen entry form (Slack modal) for a scheme: same rules as the dialogue."""
    fields = [
        FormField(
            "title",
            "Activity",
            "text",
            placeholder="Webinar on arc-flash safety",
            max_length=TITLE_MAX,
        ),
        FormField("date", "Date", "date"),
        FormField("hours", "Hours", "hours", placeholder="1.5h, 90m or 1h30", max_length=30),
        FormField(
            "category",
            "Category",
            "select",
            options=tuple(Choice(c.id, c.label) for c in scheme.categories),
        ),
    ]
    if scheme.track_structured:
        fields.append(
            FormField(
                "structured",
                "Structured?",
                "select",
                required=False,
                options=(Choice("yes", "Structured"), Choice("no", "Unstructured")),
            )
        )
    for q in scheme.asked_questions():
        fields.append(
            FormField(
                f"r:{q.id}",
                q.text,
                "longtext",
                required=False,
                placeholder="Leave empty to answer later",
                max_length=REFLECTION_MAX,
            )
        )
    return tuple(fields)


def _form(conv: Conv, event: Incoming, ctx: Context) -> Step:
    """A submitted entry form: every field checked at once, errors per field, or saved."""
    values = {k: (v or "").strip() for k, v in event.form.items()}
    scheme = ctx.scheme
    errors: dict[str, str] = {}
    draft = Draft(source="form")
    title = values.get("title", "")
    error = _title_error(title)
    if error:
        errors["title"] = error
    else:
        draft.title = _tidy(title)
    written = values.get("date", "")
    try:
        day: date | None = date.fromisoformat(written)
    except ValueError:
        day = (
            parse_date(
                written, today=ctx.today, date_order=ctx.date_order, languages=ctx.person.languages
            )
            if written
            else None
        )
    if day is None:
        errors["date"] = "Please pick the date of the activity."
    elif error := _date_error(day, ctx, None):
        errors["date"] = error
    else:
        draft.activity_date = day
    minutes = parse_duration(values.get("hours", ""))
    if minutes is None:
        errors["hours"] = "Hours look like 1.5h, 90m or 1h30."
    elif error := _minutes_error(minutes, values.get("hours")):
        errors["hours"] = error
    else:
        draft.minutes = minutes
    category = scheme.category(values.get("category", "")) or _match_category(
        scheme, values.get("category", "")
    )
    if category is None:
        errors["category"] = "Please choose a category."
    else:
        _set_category(draft, category)
    if scheme.track_structured:
        answer = {"yes": True, "no": False}.get(values.get("structured", ""))
        if answer is not None:
            draft.structured, draft.structured_known = answer, True
        elif not draft.structured_known:
            errors["structured"] = "Please say whether it was structured learning."
    draft.questions = [q.id for q in scheme.asked_questions()]
    for q in draft.questions:
        answer_text = " ".join(values.get(f"r:{q}", "").split())
        if len(answer_text) > REFLECTION_MAX:
            errors[f"r:{q}"] = f"Please keep this under {REFLECTION_MAX:,} characters."
        draft.answers[q] = answer_text or None
    if errors:
        return Step(conv, (Outgoing("Please correct the highlighted fields.", errors=errors),))
    saved = _save(Conv(S.IDLE, conv.data), draft, ctx, [])
    # A form leaves any dialogue in progress where it was; only the undo target moves.
    return Step(
        Conv(conv.state, replace_data(conv.data, undo=saved.conv.data.undo)),
        saved.replies,
        saved.effects,
    )


def home(ctx: Context) -> tuple[Outgoing, ...]:
    """Progress and recent entries, read-only (Slack App Home); needs standing + recent."""
    return (
        _say(_status_text(ctx)),
        Outgoing(
            _list_text(ctx), (Choice("cmd:log", "Log CPD"), Choice("cmd:export", "Export CSV"))
        ),
    )


# ---------------------------------------------------------------- prompts


def _prompt(conv: Conv, ctx: Context) -> Outgoing:
    """The question for the current state (asked again after help, errors or stale taps)."""
    state = conv.state
    draft = conv.data.draft or Draft()
    if state == S.ONBOARD_SCHEME:
        return _scheme_prompt(ctx)
    if state == S.ONBOARD_TIMEZONE:
        return _timezone_prompt(ctx)
    if state == S.LOG_TITLE:
        return _say("What did you do? A few words, e.g. 'Webinar on arc-flash safety'.")
    if state == S.LOG_DATE:
        today = ctx.today
        return Outgoing(
            "When was it? (e.g. yesterday, last Tuesday, 3 March, 21/11)",
            (
                Choice(f"date:{today.isoformat()}", "Today"),
                Choice(f"date:{(today - timedelta(days=1)).isoformat()}", "Yesterday"),
            ),
        )
    if state == S.LOG_HOURS:
        return Outgoing(
            "How long did it take? (e.g. 1.5h, 90m, 1h30)",
            tuple(Choice(f"min:{m}", fmt.hours(m)) for m in HOUR_CHOICES),
        )
    if state == S.LOG_CATEGORY:
        return Outgoing(
            "Which category?", tuple(Choice(f"cat:{c.id}", c.label) for c in ctx.scheme.categories)
        )
    if state == S.LOG_STRUCTURED:
        return Outgoing(
            ctx.scheme.structured_question,
            (Choice("struct:yes", "Structured"), Choice("struct:no", "Unstructured")),
        )
    if state in (S.LOG_REFLECT, S.REFLECT_PENDING):
        pending = [q for q in draft.questions if q not in draft.answers]
        if not pending:
            return _say("All answered.")
        number = len(draft.questions) - len(pending) + 1
        question = ctx.scheme.question(pending[0])
        text = question.text if question else pending[0]
        choices = (
            tuple(Choice(f"ans:{i}", c) for i, c in enumerate(question.choices)) if question else ()
        )
        return Outgoing(
            f"Reflection {number}/{len(draft.questions)}: {text}",
            (*choices, Choice("r:skip", "Skip"), Choice("r:later", "Later")),
        )
    if state == S.DELETE_CONFIRM:
        entry = ctx.snap.entry
        if entry is not None:
            return _prompt_delete(entry, ctx)
        return Outgoing(
            f"Delete #{conv.data.target}?",
            (Choice(f"del:yes:{conv.data.target}", "Delete"), Choice("del:no", "Keep")),
        )
    if state == S.EDIT_FIELD:
        entry = ctx.snap.entry
        return _edit_prompt(entry, ctx) if entry else _say("Pick a field to change.")
    if state == S.EDIT_VALUE:
        return _edit_value_prompt(conv.data.field or "", ctx)
    if state == S.SETTINGS_MENU:
        return _settings_prompt(ctx)
    if state == S.SETTINGS_VALUE:
        return _settings_value_prompt(conv.data.field or "", ctx)
    if state in PLAN_STATES:
        return _plan_prompt(conv, ctx)
    if state == S.FORGET_CONFIRM:
        return _forget_prompt(ctx)
    return _say("What would you like to do? /log records an activity; /help lists the rest.")


def _edit_value_prompt(key: str, ctx: Context) -> Outgoing:
    entry = ctx.snap.entry
    if key == "category":
        return Outgoing(
            "New category?", tuple(Choice(f"cat:{c.id}", c.label) for c in ctx.scheme.categories)
        )
    if key == "structured":
        return Outgoing(
            ctx.scheme.structured_question,
            (Choice("struct:yes", "Structured"), Choice("struct:no", "Unstructured")),
        )
    if key.startswith("r:"):
        refl = (
            next((r for r in entry.reflections if r.question_id == key[2:]), None)
            if entry
            else None
        )
        question = ctx.scheme.question(key[2:])
        text = refl.question if refl else (question.text if question else key[2:])
        choices = (
            tuple(Choice(f"ans:{i}", c) for i, c in enumerate(question.choices)) if question else ()
        )
        return Outgoing(f"{text}\nType your new answer:", (*choices, Choice("r:later", "Later")))
    examples = {
        "title": "the new title",
        "date": "the new date (e.g. 3 March)",
        "hours": "the new hours (e.g. 1.5h)",
    }
    return _say(f"Type {examples.get(key, 'the new value')}.")


# ---------------------------------------------------------------- idle text


def _idle_input(conv: Conv, event: Incoming, ctx: Context) -> Step:
    if event.kind == Kind.CHOICE:
        head, _, value = event.choice.partition(":")
        if head == "undo" and value.isdigit():
            return _undo(conv, ctx, int(value))
        return _stale(conv, ctx)
    quick = parse_quick(
        event.text, today=ctx.today, date_order=ctx.date_order, languages=ctx.person.languages
    )
    if quick.minutes is not None and quick.title:
        return _fill_from_line(conv, Draft(source="chat"), event.text, ctx, echo=True)
    return Step(
        conv,
        (
            _say(
                "To record an activity, send /log (or a line like "
                "'1.5h webinar on arc-flash safety yesterday'). /help lists the rest."
            ),
        ),
    )


# ---------------------------------------------------------------- validation helpers


def _title_error(title: str) -> str | None:
    title = _tidy(title)
    if not title:
        return "Please describe the activity in a few words."
    if len(title) > TITLE_MAX:
        return (
            f"That title is {len(title)} characters; the limit is {TITLE_MAX}. "
            "Please shorten it — you can add detail in the reflections."
        )
    return None


def _date_error(day: date, ctx: Context, written: str | None) -> str | None:
    if day > ctx.today:
        said = f"'{written}' is" if written else "That is"
        return (
            f"{said} {fmt.day(day)}, in the future. CPD is logged once it has happened; "
            "when did it take place?"
        )
    if day.year < 1950:
        return f"{fmt.day(day)} is too far back. When did it take place?"
    return None


def _minutes_error(minutes: int, written: str | None) -> str | None:
    said = f"'{written}'" if written else "That"
    if minutes <= 0:
        return f"{said} is not a positive duration. Hours look like 1.5h, 90m or 1h30."
    if minutes > MAX_DAY_MINUTES:
        return (
            f"{said} is {fmt.hours(minutes)}, more than the 24 hours in a day. "
            "Log a multi-day activity one day at a time, e.g. 7h for each day."
        )
    return None


def _no_entry(args: str) -> str:
    number = _entry_number(args)
    shown = f"#{number}" if number is not None else f"'{_clip(args)}'"
    return f"You have no entry {shown}. /list shows your entries and their numbers."


def _entry_number(args: str) -> int | None:
    match = re.fullmatch(r"#?(\d{1,9})", args.strip())
    return int(match.group(1)) if match else None


def _list_size(args: str) -> int | None:
    number = _entry_number(args)
    return min(number, LIST_MAX) if number else None


def _stay(conv: Conv, ctx: Context, text: str) -> Step:
    """Say something and ask the current question again; nothing changes."""
    if conv.state == S.IDLE:
        return Step(conv, (_say(text),))
    return Step(conv, (_say(text), _prompt(conv, ctx)))


def _stale(conv: Conv, ctx: Context) -> Step:
    return _stay(conv, ctx, "That button is from an earlier message, so I ignored it.")


def _say(text: str) -> Outgoing:
    return Outgoing(text)


def _tidy(text: str) -> str:
    tidy = " ".join(text.split()).strip(" -,;:")
    return tidy[:1].upper() + tidy[1:]


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _clip(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_HANDLERS: dict[State, Callable[[Conv, Incoming, Context], Step]] = {
    S.ONBOARD_SCHEME: _onboard_scheme,
    S.ONBOARD_TIMEZONE: _onboard_timezone,
    S.LOG_TITLE: _log_title,
    S.LOG_DATE: _log_date,
    S.LOG_HOURS: _log_hours,
    S.LOG_CATEGORY: _log_category,
    S.LOG_STRUCTURED: _log_structured,
    S.LOG_REFLECT: _log_reflect,
    S.REFLECT_PENDING: _reflect_pending,
    S.DELETE_CONFIRM: _delete_confirm,
    S.EDIT_FIELD: _edit_field,
    S.EDIT_VALUE: _edit_value,
    S.SETTINGS_MENU: _settings_menu,
    S.SETTINGS_VALUE: _settings_value,
    S.PLAN_MENU: _plan_menu,
    S.PLAN_VALUE: _plan_value,
    S.PLAN_AREA: _plan_area,
    S.PLAN_TARGET: _plan_target,
    S.PLAN_STATUS: _plan_status,
    S.PLAN_PERIOD: _plan_period,
    S.FORGET_CONFIRM: _forget_confirm,
}

"""The conversation's values: its state, the data it remembers (stored as JSON), the context
a step reads and the step it returns. The stored format is the same as ever: `Conv.load`
reads conversations already in a database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal, cast

from pydantic import BaseModel, Field

from bot.core.model import Effect, Outgoing, PersonView
from bot.core.parsing import DateOrder
from bot.core.schemes import Scheme, scheme_for
from bot.core.snapshot import Snapshot
from bot.core.zones import local_today


class State(StrEnum):
    """Every state of every flow (the values are stored: never rename one)."""

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
    LOG_DATE_CONFIRM = "log_date_confirm"  # a date in an earlier CPD year: log it there?
    CALENDAR_PASSWORD = "calendar_password"  # /calendar caldav: the password asked for
    PROFILE_PICK = "profile_pick"  # /profile: the 4-6 activities the statement draws on
    PROFILE_SUMMARY = "profile_summary"  # /profile: the summary of recent work
    PROFILE_STANDARD = "profile_standard"  # /profile: one CPD standard's statement (target)
    PROFILE_GAP = "profile_gap"  # /profile: why a gap of 3+ months (target: which gap)
    EVIDENCE_FILE = "evidence_file"  # /attach N: the file (or link) for #N asked for
    EVIDENCE_REMOVE = "evidence_remove"  # /evidence remove EN: Remove or Keep


DATE_ORDERS: dict[str, str] = {
    "DMY": "day first (21/11)",
    "MDY": "month first (11/21)",
    "YMD": "year first (2026/11/21)",
}


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
    end_date: date | None = None  # last day of a multi-day activity (None: one day)
    category_guessed: bool = False  # the category was inferred from the title (echoed)
    year_confirmed: bool = False  # the person confirmed a date in an earlier CPD year
    # What a one-liner said about its days without naming them ('2 days last week'): the
    # number of days (0: not said) and the first and last day of the period they are in.
    days_named: tuple[int, date, date] | None = None
    per_day: int | None = None  # minutes of one day claimed ('half day' over 14-15 Nov)
    evidence: list[int] = Field(default_factory=list)  # files waiting for it (E-numbers)


class Undo(BaseModel):
    """What /undo (or an Undo button) reverses: the last save, delete or edit."""

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
    parked: list[Draft] = Field(default_factory=list)  # drafts put aside, offered back
    last_seen: datetime | None = None  # UTC time of the last step in a dialogue
    late: str | None = None  # text offered as a late reflection, awaiting a yes
    which: int | None = None  # idle: the E-number "Which entry is this for?" asked about
    filing: str | None = None  # idle: "12 iet", the entry "For IET, is #12 …?" asked about
    # /calendar caldav: {"url": server address, "user": user name}, never the password.
    caldav: dict[str, str] | None = None


def replace_data(data: Data, **changes: Any) -> Data:
    return data.model_copy(update=changes)


@dataclass(frozen=True)
class Conv:
    """A conversation: its state and what it remembers."""

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
    """What a step reads: the loaded snapshot and the schemes."""

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
        return local_today(self.snap.now, self.person.timezone)

    @property
    def date_order(self) -> DateOrder:
        order = self.person.date_order
        return cast(DateOrder, order) if order in DATE_ORDERS else "DMY"


@dataclass(frozen=True)
class Step:
    """The next conversation, the replies and the effects of one step."""

    conv: Conv
    replies: tuple[Outgoing, ...] = ()
    effects: tuple[Effect, ...] = ()

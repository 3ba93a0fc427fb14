"""Settings: /settings, /pause and /resume, the monthly nudge, calendar events, /studying."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.model import UpdatePerson
from bot.core.schemes import Scheme
from bot.dialogue import Data
from tests.dialogue.chat import Case, S, assert_case, press, text

CASES = [
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
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transition(case: Case, schemes: dict[str, Scheme]) -> None:
    assert_case(case, schemes)

"""Settings: /settings, /pause and /resume, the monthly nudge, calendar events, /studying."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.model import UpdatePerson
from bot.core.schemes import Scheme
from bot.dialogue import Conv, Data, step
from tests.dialogue.chat import Case, S, assert_case, make_ctx, press, text

NAME_CASES = [
    Case(
        "/settings name in one line",
        S.IDLE,
        text("/settings name Sam  Patel CEng"),
        S.IDLE,
        "Name saved: Sam Patel CEng.",
        effects=(UpdatePerson,),
    ),
    Case(
        "/settings number in one line",
        S.IDLE,
        text("/settings membership number: 1234567"),
        S.IDLE,
        "Membership number saved: 1234567.",
        effects=(UpdatePerson,),
    ),
    Case(
        "/settings number alone asks for it",
        S.IDLE,
        text("/settings number"),
        S.SETTINGS_VALUE,
        "Your membership number",
    ),
    Case(
        "the menu shows name and number",
        S.IDLE,
        text("/settings"),
        S.SETTINGS_MENU,
        "Name for the record: Sam Patel CEng\nMembership number: 1234567",
        person={"full_name": "Sam Patel CEng", "membership_number": "1234567"},
    ),
    Case(
        "name chosen in the menu",
        S.SETTINGS_MENU,
        press("set:name"),
        S.SETTINGS_VALUE,
        "full name as it should appear",
    ),
    Case(
        "name typed in the menu",
        S.SETTINGS_VALUE,
        text("Dr Jo Müller FCIPS"),
        S.SETTINGS_MENU,
        "Name saved: Dr Jo Müller FCIPS.",
        data=Data(field="name"),
        effects=(UpdatePerson,),
    ),
    Case(
        "a name with a control character is refused",
        S.IDLE,
        text("/settings name Sam\tPatel"),
        S.IDLE,
        "can't contain control characters",
    ),
    Case(
        "a number too long is refused",
        S.IDLE,
        text("/settings number " + "1" * 33),
        S.IDLE,
        "33 characters; I keep up to 32",
    ),
    Case(
        "a name of punctuation is refused",
        S.SETTINGS_VALUE,
        text("..."),
        S.SETTINGS_VALUE,
        "couldn't read '...' as a name",
        data=Data(field="name"),
    ),
    Case(
        "number cleared",
        S.IDLE,
        text("/settings number clear"),
        S.IDLE,
        "Membership number removed",
        effects=(UpdatePerson,),
        person={"membership_number": "1234567"},
    ),
]


CASES = [
    *NAME_CASES,  # name and membership number for the record (issue 13)
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
    Case(
        "/studying alone (IES)",
        S.IDLE,
        text("/studying"),
        S.IDLE,
        "You are not recorded as studying",
        scheme="ies",
    ),
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


def test_one_line_name_saves_exactly_what_is_echoed(schemes: dict[str, Scheme]) -> None:
    case = NAME_CASES[0]
    result = step(Conv(case.state, case.data), case.event, make_ctx(schemes, case))
    assert result.effects == (UpdatePerson({"full_name": "Sam Patel CEng"}),)

"""Surprises in what is read (issue 12, item 9): a pause date in the past, a nudge time
that is not one, a time zone that is not a place, a number taken out of a typed title.
Each is refused with a reply that says what is expected, or read as the person meant it."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.model import UpdatePerson
from bot.core.schemes import Scheme
from bot.core.zones import is_zone
from bot.dialogue import Conv, Data, step
from tests.dialogue.chat import Case, S, assert_case, draft, make_ctx, press, text

# Today is Sunday 22 November 2026 (tests/dialogue/chat.py).
PAUSE = [
    Case("/pause until yesterday", S.IDLE, text("/pause until yesterday"), S.IDLE, "has passed"),
    Case("/pause until 3 days ago", S.IDLE, text("/pause until 3 days ago"), S.IDLE, "has passed"),
    Case(
        "/pause until last Friday", S.IDLE, text("/pause until last Friday"), S.IDLE, "has passed"
    ),
    Case("/pause until today", S.IDLE, text("/pause until today"), S.IDLE, "is today"),
    Case("/pause until the 2026 date", S.IDLE, text("/pause 5 January 2026"), S.IDLE, "has passed"),
    Case(
        "/pause until yesterday, in German",
        S.IDLE,
        text("/pause gestern"),
        S.IDLE,
        "has passed",
        person={"languages": ("de",)},
    ),
    # What already meant a day ahead still does.
    Case(
        "/pause until a day and month: the next one",
        S.IDLE,
        text("/pause until 5 January"),
        S.IDLE,
        "Paused until Tue 5 Jan 2027",
        effects=(UpdatePerson,),
    ),
    Case(
        "/pause until a day and month, in German: the next one",
        S.IDLE,
        text("/pause 5. Januar"),
        S.IDLE,
        "Paused until Tue 5 Jan 2027",
        effects=(UpdatePerson,),
        person={"languages": ("de",)},
    ),
    Case(
        "/pause until 21/11: the next one",
        S.IDLE,
        text("/pause until 21/11"),
        S.IDLE,
        "Paused until Sun 21 Nov 2027",
        effects=(UpdatePerson,),
    ),
    Case(
        "/pause until Sunday (today): next Sunday",
        S.IDLE,
        text("/pause until Sunday"),
        S.IDLE,
        "Paused until Sun 29 Nov",
        effects=(UpdatePerson,),
    ),
    Case(
        "/pause until tomorrow",
        S.IDLE,
        text("/pause until tomorrow"),
        S.IDLE,
        "Paused until Mon 23 Nov",
        effects=(UpdatePerson,),
    ),
    Case(
        "/pause in 2 weeks",
        S.IDLE,
        text("/pause in 2 weeks"),
        S.IDLE,
        "Paused until Sun 6 Dec",
        effects=(UpdatePerson,),
    ),
]

NUDGES = Data(field="nudges")
NUDGE = [
    *[
        Case(f"nudge {typed!r} refused", S.SETTINGS_VALUE, text(typed), S.SETTINGS_VALUE, says,
             data=NUDGES)
        for typed, says in [
            ("-1", "day of the month from 1 to 31"),
            ("1 at 9.5", "whole hour"),
            ("1 at 9,5", "whole hour"),
            ("at -3", "hour from 0 to 23"),
            ("15 8", "day of the month from 1 to 31"),
            ("1.5", "day of the month from 1 to 31"),
            ("15 at", "hour from 0 to 23"),
            ("0", "day of the month is 1 to 31"),
            ("32 at 8", "day of the month is 1 to 31"),
            ("123", "day of the month is 1 to 31"),
            ("15 at 24", "hour is 0 to 23"),
            ("15 at 123", "hour is 0 to 23"),
            ("15 at 13pm", "8am"),
            ("every 2nd tuesday", "day of the month from 1 to 31"),
        ]
    ],
    *[
        Case(f"nudge {typed!r} taken", S.SETTINGS_VALUE, text(typed), S.SETTINGS_MENU, says,
             data=NUDGES, effects=(UpdatePerson,))
        for typed, says in [
            ("15th at 8am", "the 15th at 08:00"),
            ("15", "the 15th at 09:00"),
            ("day 3", "the 3rd at 09:00"),
            ("at 7pm", "the 1st at 19:00"),
            ("on the 2nd at 18:00", "the 2nd at 18:00"),
            ("31 at 0", "the last day at 00:00"),
            ("last day at 18", "the last day at 18:00"),
            ("the 10th of every month, at 6", "the 10th at 06:00"),
        ]
    ],
]  # fmt: skip

ZONE = [
    *[
        Case(f"onboarding zone {typed!r} refused", S.ONBOARD_TIMEZONE, event,
             S.ONBOARD_TIMEZONE, "don't know the time zone")
        for typed, event in [
            ("localtime", text("localtime")),
            ("Factory", text("Factory")),
            ("Factory tapped", press("tz:Factory")),
            ("EST5EDT", text("EST5EDT")),
            ("Etc/GMT+5", text("Etc/GMT+5")),
            ("posixrules", text("posixrules")),
        ]
    ],
    Case("settings zone 'localtime' refused", S.SETTINGS_VALUE, text("localtime"),
         S.SETTINGS_VALUE, "don't know the time zone", data=Data(field="timezone")),
    Case("settings zone 'Factory' refused", S.SETTINGS_VALUE, press("val:Factory"),
         S.SETTINGS_VALUE, "don't know the time zone", data=Data(field="timezone")),
    Case("GMT is UTC", S.ONBOARD_TIMEZONE, text("GMT"), S.IDLE, "time zone UTC",
         effects=(UpdatePerson,)),
    Case("a city that is also an old alias: its region zone", S.ONBOARD_TIMEZONE,
         text("Singapore"), S.IDLE, "time zone Asia/Singapore", effects=(UpdatePerson,)),
    Case("a region zone typed", S.SETTINGS_VALUE, text("america/argentina/buenos aires"),
         S.SETTINGS_MENU, "America/Argentina/Buenos_Aires", data=Data(field="timezone"),
         effects=(UpdatePerson,)),
]  # fmt: skip

CASES = PAUSE + NUDGE + ZONE


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transition(case: Case, schemes: dict[str, Scheme]) -> None:
    assert_case(case, schemes)


@pytest.mark.parametrize(
    ("name", "known"),
    [
        ("Europe/London", True),
        ("America/Indiana/Indianapolis", True),
        ("UTC", True),
        ("localtime", False),
        ("Factory", False),
        ("posixrules", False),
        ("EST5EDT", False),
        ("Etc/GMT+5", False),
        ("US/Eastern", False),
        ("GMT", False),
        ("Europe/London\x00", False),
        ("../../etc/passwd", False),
        ("", False),
        (None, False),
    ],
)
def test_only_region_zones_and_utc_are_zones(name: str | None, known: bool) -> None:
    assert is_zone(name) is known


@pytest.mark.parametrize(
    "typed",
    [
        "Course on the 24h rule",
        "Read BS 7671 chapter 4",
        "site visit yesterday 2h",
        "Seminar 3 March #events",
        "Webinar: 1.5h on arc flash, last Tuesday",
    ],
)
def test_the_title_question_takes_the_whole_text(typed: str, schemes: dict[str, Scheme]) -> None:
    ctx = make_ctx(schemes, Case("title", S.LOG_TITLE, text(typed), S.LOG_DATE))
    result = step(Conv(S.LOG_TITLE, draft()), text(typed), ctx)
    assert result.conv.state == S.LOG_DATE  # next: when was it?
    kept = result.conv.data.draft
    assert kept is not None
    assert kept.title == typed[0].upper() + typed[1:]
    # Issue 13: a kind of activity named in the title (course, read, seminar, webinar) may
    # set the category, shown in the echo; hours and dates are never taken out of it.
    assert (kept.minutes, kept.activity_date) == (None, None)


def test_the_one_line_log_keeps_reading_hours_and_date(schemes: dict[str, Scheme]) -> None:
    case = Case("one line", S.IDLE, text("/log 2h site visit yesterday"), S.LOG_CATEGORY)
    result = step(Conv(S.IDLE), case.event, make_ctx(schemes, case))
    kept = result.conv.data.draft
    assert kept is not None
    assert (kept.title, kept.minutes, kept.activity_date) == (
        "Site visit",
        120,
        date(2026, 11, 21),
    )

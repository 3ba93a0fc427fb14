"""Durations, dates and one-line /log entries are read the way a CPD user means them.

Part of the expectations come from other date libraries' own test suites: the phrases and
expected values in tests/fixtures/dates (see tests/fixtures/SOURCES.md). Every fixture row
is either tested or listed below with the reason it is not.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from dateparser.date import DateDataParser
from dateutil.relativedelta import relativedelta

from bot.core import parsing
from bot.core.parsing import DateOrder, QuickEntry, parse_date, parse_duration, parse_quick, warm_up
from tests.conftest import FIXTURES

DATES = FIXTURES / "dates"
DATE_FIXTURE = DATES / "date_expressions_en_expected.tsv.txt"
DURATION_FIXTURE = DATES / "duration_expressions_en_expected.tsv.txt"

TODAY = date(2026, 11, 22)  # a Sunday

# "Now" behind each upstream suite's expected values (SOURCES.md).
DATEPARSER_NOW = datetime(2014, 9, 1, 10, 30)  # scrapinghub/dateparser test setUp
DUCKLING_NOW = datetime(2013, 2, 12, 4, 30)  # facebook/duckling corpus context (a Tuesday)


def read_fixture(path: Path) -> list[tuple[str, str, str]]:
    """(expression, expected as written upstream, source) rows of a fixture TSV."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t") == ["expression", "expected_as_written_in_source", "source"]
    rows = []
    for line in lines[1:]:
        expression, expected, source = line.split("\t")
        rows.append((expression, expected, source))
    return rows


def minutes_from_seconds(seconds: Fraction) -> int:
    """Whole minutes, halves rounded up, as parse_duration promises."""
    return math.floor(seconds / 60 + Fraction(1, 2))


# --------------------------------------------------------------------------------------
# Date fixture rows
# --------------------------------------------------------------------------------------

# Rows whose upstream expectation is not ours, with what we return instead and why.
DATE_POLICY: dict[str, tuple[date | None, str]] = {
    "the third of march": (
        date(2012, 3, 3),
        "duckling prefers the future (2013-03-03); a CPD log wants the latest past 3 March",
    ),
    "the 2nd of march": (
        date(2012, 3, 2),
        "duckling prefers the future (2013-03-02); a CPD log wants the latest past 2 March",
    ),
    "this past weekend": (None, "a two-day period, not one day: the bot should ask which day"),
}

# Rows that upstream gives no expected value for (chrono, parsedatetime): ours, for TODAY.
DATE_OURS: dict[str, date | None] = {
    "Monday": date(2026, 11, 16),
    "Last Wednesday": date(2026, 11, 18),
    "Next Saturday": date(2026, 11, 28),  # future: the caller refuses it with a reason
    "This Sunday": date(2026, 11, 22),
    "Tuesday of last week": date(2026, 11, 10),  # weeks run Monday to Sunday
    "Friday of next week": date(2026, 11, 27),
    "last weekend": None,  # a period, not a day
    "yesterday afternoon": date(2026, 11, 21),
    "tomorrow morning": date(2026, 11, 23),
    "this afternoon at 3": date(2026, 11, 22),
    "tonight 8pm": date(2026, 11, 22),
    "last week": None,  # a period, not a day ('a week ago' is a day)
    "past week": None,
    "last month": None,
    "2 days ago": date(2026, 11, 20),
    "2 weeks ago": date(2026, 11, 8),
    "31st March, 2016": date(2016, 3, 31),
    "23rd february, 2016": date(2016, 2, 23),
    "12th of July at 19:00": date(2026, 7, 12),
    "Twenty-fourth of May": date(2026, 5, 24),
    "24th October, 9 am": date(2026, 10, 24),
    "Sunday, December 7, 2014": date(2014, 12, 7),
    "1pm next friday": date(2026, 11, 27),
    "22nd August 2008": date(2008, 8, 22),
}

SUB_DAY = (
    "an offset of hours or minutes: its date depends on the time of day, which parse_date "
    "is not given (it only knows `today`)"
)
DATE_EXCLUDED: dict[str, str] = {
    "an hour ago": SUB_DAY,
    "about an hour ago": SUB_DAY,
    "2 hours ago": SUB_DAY,
    "about 23 hours ago": SUB_DAY,
    "now - 30 minutes": SUB_DAY,
    "nine hours ago": SUB_DAY,
    "in an hour": SUB_DAY,
    "in 2 hours": SUB_DAY,
    "5 minutes ago": SUB_DAY,
    "1hr ago": SUB_DAY,
    "15 hours 29 min ago": SUB_DAY,
    "3 min 49 sec ago": SUB_DAY,
    "5 hours before noon": "time-of-day arithmetic; nobody logs CPD this way",
}


def date_expectation(expected: str) -> tuple[date, date] | None:
    """(today, expected date) from an upstream expected value, or None if there is none."""
    if m := re.fullmatch(r"(ago|in_future)=(\{.*\})", expected):
        delta = relativedelta(**json.loads(m.group(2)))
        moment = DATEPARSER_NOW - delta if m.group(1) == "ago" else DATEPARSER_NOW + delta
        return DATEPARSER_NOW.date(), moment.date()
    # duckling: 'datetime (2013, 2, 5, 0, 0, 0) Day' or an interval: take its first day.
    if m := re.match(r"datetime(?:Interval)? \(+(\d+), (\d+), (\d+),", expected):
        year, month, day = (int(g) for g in m.groups())
        return DUCKLING_NOW.date(), date(year, month, day)
    assert expected == "", f"unknown expected value format: {expected!r}"
    return None


def date_fixture_cases() -> Iterator[Any]:
    for expression, expected, source in read_fixture(DATE_FIXTURE):
        if expression in DATE_EXCLUDED:
            continue
        upstream = date_expectation(expected)
        if expression in DATE_POLICY:
            assert upstream is not None
            today, want = upstream[0], DATE_POLICY[expression][0]
        elif expression in DATE_OURS:
            assert upstream is None, f"{expression!r} has an upstream expectation now"
            today, want = TODAY, DATE_OURS[expression]
        elif upstream is not None:
            today, want = upstream
        else:
            continue  # reported by test_every_fixture_row_is_tested_or_excluded
        yield pytest.param(expression, today, want, id=f"{expression} [{source.split()[0]}]")


DATE_FIXTURE_CASES = list(date_fixture_cases())


@pytest.mark.parametrize(("text", "today", "expected"), DATE_FIXTURE_CASES)
def test_fixture_date_phrases(text: str, today: date, expected: date | None) -> None:
    assert parse_date(text, today=today) == expected


# --------------------------------------------------------------------------------------
# Duration fixture rows
# --------------------------------------------------------------------------------------

NOT_CPD_HOURS = (
    "days, weeks, months or years: a 'day' of CPD is a working day, not 24 hours, so "
    "parse_duration returns None and the bot asks for hours"
)
CPD_DAYS = (
    "a day of CPD is a working day of day_minutes (7 h unless the scheme or person says "
    "otherwise), up to 10 days; issue 13"
)
DURATION_POLICY: dict[str, tuple[int | None, str]] = {
    "half a day": (210, CPD_DAYS),
    "30 days": (None, NOT_CPD_HOURS),
    "seven weeks": (None, NOT_CPD_HOURS),
    "a month and a half": (None, NOT_CPD_HOURS),
    "2 years and 3 months": (None, NOT_CPD_HOURS),
    "1w 3d 2h 32m": (None, NOT_CPD_HOURS),
    "1.24 days": (None, NOT_CPD_HOURS),
    "1.5 days": (630, CPD_DAYS),
    "3y 5h 50m": (None, NOT_CPD_HOURS),
    "4:13": (253, "pytimeparse reads mm:ss (253 s); CPD users mean h:mm, as in '1:30'"),
}
DURATION_OURS: dict[str, int] = {"5 hours": 300, "5 hr": 300, "5 min": 5}
DURATION_EXCLUDED: dict[str, str] = {
    "3 sec": "seconds alone are not a CPD duration",
}
SECONDS_PER = {"Second": 1, "Minute": 60, "Hour": 3600}


def duration_expectation(expected: str) -> int | None:
    """Minutes from an upstream expected value, or None if it states none."""
    if m := re.fullmatch(r"DurationData (\d+) (\w+)", expected):
        return minutes_from_seconds(Fraction(int(m.group(1)) * SECONDS_PER[m.group(2)]))
    if m := re.fullmatch(r"(\d+) seconds", expected):
        return minutes_from_seconds(Fraction(int(m.group(1))))
    if m := re.fullmatch(r"ago=(\{.*\})", expected):
        ((unit, amount),) = json.loads(m.group(1)).items()
        per = {"seconds": 1, "minutes": 60, "hours": 3600}[unit]
        return minutes_from_seconds(Fraction(str(amount)) * per)
    assert expected == "", f"unknown expected value format: {expected!r}"
    return None


def duration_fixture_cases() -> Iterator[Any]:
    for expression, expected, source in read_fixture(DURATION_FIXTURE):
        if expression in DURATION_EXCLUDED:
            continue
        if expression in DURATION_POLICY:
            want = DURATION_POLICY[expression][0]
        elif expression in DURATION_OURS:
            want = DURATION_OURS[expression]
        elif expected and not re.search(r"Day|Week|Month|Year|days|weeks", expected):
            want = duration_expectation(expected)
        else:
            continue  # reported by test_every_fixture_row_is_tested_or_excluded
        yield pytest.param(expression, want, id=f"{expression} [{source.split()[0]}]")


DURATION_FIXTURE_CASES = list(duration_fixture_cases())


@pytest.mark.parametrize(("text", "expected"), DURATION_FIXTURE_CASES)
def test_fixture_duration_phrases(text: str, expected: int | None) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("fixture", "tested", "special", "excluded"),
    [
        pytest.param(
            DATE_FIXTURE,
            DATE_FIXTURE_CASES,
            {**DATE_POLICY, **DATE_OURS},
            DATE_EXCLUDED,
            id="dates",
        ),
        pytest.param(
            DURATION_FIXTURE,
            DURATION_FIXTURE_CASES,
            {**DURATION_POLICY, **DURATION_OURS},
            DURATION_EXCLUDED,
            id="durations",
        ),
    ],
)
def test_every_fixture_row_is_tested_or_excluded(
    fixture: Path, tested: list[Any], special: dict[str, object], excluded: dict[str, str]
) -> None:
    expressions = [row[0] for row in read_fixture(fixture)]
    tested_expressions = {case.values[0] for case in tested}
    untested = [e for e in expressions if e not in tested_expressions and e not in excluded]
    assert untested == [], "give these fixture rows an expectation or an exclusion reason"
    stale = sorted((set(special) | set(excluded)) - set(expressions))
    assert stale == [], "these expectations name phrases that are not in the fixture"
    assert not set(excluded) & tested_expressions


def test_enough_real_phrasings_are_tested() -> None:
    # Exclusions must not quietly swallow the fixtures.
    assert len(DATE_FIXTURE_CASES) >= 40
    assert len(DURATION_FIXTURE_CASES) >= 30


# --------------------------------------------------------------------------------------
# parse_duration: our own phrasings and bad input
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.5h", 90),
        ("1.5 h", 90),
        ("1,5h", 90),
        ("90m", 90),
        ("90 min", 90),
        ("1h30", 90),
        ("1h30m", 90),
        ("1h 30m", 90),
        ("1 hour 30 minutes", 90),
        ("1 hr, 30 mins", 90),
        ("2 hours", 120),
        ("2hrs", 120),
        ("2-hour", 120),
        ("two hours", 120),
        ("an hour", 60),
        ("half an hour", 30),
        ("½ hour", 30),
        ("1½ hours", 90),
        ("an hour and a half", 90),
        ("1 and a half hours", 90),
        ("three quarters of an hour", 45),
        ("a quarter of an hour", 15),
        ("1 hour thirty", 90),
        ("1:30", 90),
        ("1:30h", 90),
        ("0:45", 45),
        ("for 2 hours", 120),
        ("about 2h", 120),
        ("  2h  ", 120),
        ("2H", 120),
        ("1.5 CPD hours", 90),
        ("a couple of hours", 120),
        ("1.1h", 66),
        ("0.25h", 15),
    ],
)
def test_duration_phrasings(text: str, expected: int) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2", 120, id="2 is hours"),
        pytest.param("1.5", 90, id="1.5 is hours"),
        pytest.param("1,5", 90, id="decimal comma"),
        pytest.param("24", 24 * 60, id="24 is still hours"),
        pytest.param("25", 25, id="25 is minutes"),
        pytest.param("45", 45, id="45 is minutes"),
        pytest.param("90", 90, id="90 is minutes"),
    ],
)
def test_bare_number_is_hours_up_to_24_then_minutes(text: str, expected: int) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2.5 minutes", 3), ("4.5 min", 5), ("1.2 minutes", 1), ("0.5 min", 1), ("-2.5 min", -3)],
)
def test_durations_round_to_whole_minutes_halves_away_from_zero(text: str, expected: int) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0h", 0), ("0", 0), ("0 minutes", 0), ("-1h", -60), ("-2h", -120), ("-2", -120)],
)
def test_zero_and_negative_durations_come_back_for_the_caller_to_refuse(
    text: str, expected: int
) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "soon",
        "lots",
        "abc h",
        "h",
        "25:99",
        "1:75",
        "a h",
        "yesterday",
        "2 weeks",  # '2 days' is two CPD days since issue 13 (test_parsing_everyday)
        "2h webinar",  # not a duration on its own: parse_quick handles sentences
        "1.2.3h",
        "2 hours ago",
        "- 2h",  # a dash, not a minus
    ],
)
def test_not_a_duration(text: str) -> None:
    assert parse_duration(text) is None


# --------------------------------------------------------------------------------------
# parse_date: our own phrasings, calendar boundaries, date orders, bad input
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yesterday", date(2026, 11, 21)),
        ("Yesterday.", date(2026, 11, 21)),
        ("today", date(2026, 11, 22)),
        ("the day before yesterday", date(2026, 11, 20)),
        ("tomorrow", date(2026, 11, 23)),
        ("last Tuesday", date(2026, 11, 17)),
        ("Tuesday", date(2026, 11, 17)),
        ("on Tuesday", date(2026, 11, 17)),
        ("tue", date(2026, 11, 17)),
        ("Sunday", date(2026, 11, 22)),  # the latest Sunday is today
        ("last Sunday", date(2026, 11, 15)),
        ("Saturday", date(2026, 11, 21)),
        ("this Monday", date(2026, 11, 16)),
        ("next Monday", date(2026, 11, 23)),
        ("3 March", date(2026, 3, 3)),
        ("March 3rd", date(2026, 3, 3)),
        ("3rd of March", date(2026, 3, 3)),
        ("3 Mar 2024", date(2024, 3, 3)),
        ("March 3, 2024", date(2024, 3, 3)),
        ("Dec 25", date(2025, 12, 25)),  # Christmas 2026 has not happened yet on TODAY
        ("22 November", date(2026, 11, 22)),
        ("23 November", date(2025, 11, 23)),
        ("21/11", date(2026, 11, 21)),
        ("21/11/2025", date(2025, 11, 21)),
        ("21.11.2025", date(2025, 11, 21)),
        ("21-11-2025", date(2025, 11, 21)),
        ("21/11/25", date(2025, 11, 21)),
        ("2026-03-03", date(2026, 3, 3)),
        ("3 days ago", date(2026, 11, 19)),
        ("three days ago", date(2026, 11, 19)),
        ("a week ago", date(2026, 11, 15)),
        ("a couple of days ago", date(2026, 11, 20)),
        ("1 month ago", date(2026, 10, 22)),
        ("a year ago", date(2025, 11, 22)),
        ("the 3rd", date(2026, 11, 3)),
        ("the 23rd", date(2026, 10, 23)),
        ("first monday of last month", date(2026, 10, 5)),
        ("last friday of october", date(2026, 10, 30)),
        ("last night", date(2026, 11, 21)),
        ("this morning", date(2026, 11, 22)),
        ("yesterday at 3pm", date(2026, 11, 21)),
        ("3pm yesterday", date(2026, 11, 21)),
    ],
)
def test_date_phrasings(text: str, expected: date) -> None:
    assert parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("today", "text", "expected"),
    [
        # New Year: everything without a year is still in the past.
        (date(2026, 1, 1), "yesterday", date(2025, 12, 31)),
        (date(2026, 1, 1), "3 days ago", date(2025, 12, 29)),
        (date(2026, 1, 1), "a week ago", date(2025, 12, 25)),
        (date(2026, 1, 1), "1 month ago", date(2025, 12, 1)),
        (date(2026, 1, 1), "last Friday", date(2025, 12, 26)),
        (date(2026, 1, 1), "Monday", date(2025, 12, 29)),
        (date(2026, 1, 1), "31 Dec", date(2025, 12, 31)),
        (date(2026, 1, 1), "1/1", date(2026, 1, 1)),
        (date(2026, 1, 1), "2/1", date(2025, 1, 2)),
        (date(2026, 1, 5), "28/12", date(2025, 12, 28)),
        (date(2026, 1, 5), "12/28", None),  # month 28 under DMY
        # Month ends: a month ago is clamped to the shorter month.
        (date(2026, 3, 31), "a month ago", date(2026, 2, 28)),
        (date(2028, 3, 31), "a month ago", date(2028, 2, 29)),
        # 1 March of a leap year (2028) and of a common year (2027).
        (date(2028, 3, 1), "yesterday", date(2028, 2, 29)),
        (date(2028, 3, 1), "29/02", date(2028, 2, 29)),
        (date(2028, 3, 1), "29 Feb", date(2028, 2, 29)),
        (date(2028, 3, 1), "2 days ago", date(2028, 2, 28)),
        (date(2027, 3, 1), "yesterday", date(2027, 2, 28)),
        (date(2027, 3, 1), "29/02", date(2024, 2, 29)),  # the latest 29 February
        (date(2027, 3, 1), "29 February", date(2024, 2, 29)),
        (date(2027, 3, 1), "29/02/2027", None),
        (date(2027, 3, 1), "2028-02-29", date(2028, 2, 29)),
        (date(2027, 3, 1), "last Sunday", date(2027, 2, 28)),
        # 'first Monday of November' before that Monday: last year's.
        (date(2026, 11, 1), "first Monday of November", date(2025, 11, 3)),
        (date(2026, 11, 2), "first Monday of November", date(2026, 11, 2)),
    ],
)
def test_dates_across_year_month_and_leap_boundaries(
    today: date, text: str, expected: date | None
) -> None:
    assert parse_date(text, today=today) == expected


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("21/11", "DMY", date(2026, 11, 21)),
        ("11/21", "DMY", None),
        ("11/21", "MDY", date(2026, 11, 21)),
        ("21/11", "MDY", None),
        ("03/04", "DMY", date(2026, 4, 3)),
        ("03/04", "MDY", date(2026, 3, 4)),
        ("03/04/2025", "DMY", date(2025, 4, 3)),
        ("03/04/2025", "MDY", date(2025, 3, 4)),
        ("2025/04/03", "YMD", date(2025, 4, 3)),
        ("25/04/03", "YMD", date(2025, 4, 3)),
        ("04/03", "YMD", date(2026, 4, 3)),
        ("2025-04-03", "DMY", date(2025, 4, 3)),  # ISO is ISO whatever the order
    ],
)
def test_numeric_dates_follow_the_users_date_order(
    text: str, order: DateOrder, expected: date | None
) -> None:
    assert parse_date(text, today=TODAY, date_order=order) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "soon",
        "lots",
        "abc h",
        "25:99",
        "31/02",
        "31/02/2026",
        "13/13",
        "32/01",
        "0/5",
        "11:30",  # a time, not a day
        "at 3pm",
        "1.5h",  # a duration
        "2 hours",
        "45",  # not the year 1945
        "2026",
        "May",  # a month is not a day
        "March 2026",
        "last week",
        "last month",
    ],
)
def test_not_a_date(text: str) -> None:
    assert parse_date(text, today=TODAY) is None


# Issue 13: third-party phrases that were read as a wrong date. Each is now the right date,
# or None (not read: the bot says it could not read it rather than guessing).
@pytest.mark.parametrize(
    ("text", "date_order", "expected"),
    [
        ("at 8 in the evening", "DMY", None),  # a time alone, like 'at 3pm' (was yesterday)
        ("8 in the evening", "DMY", None),
        ("2 day before yesterday", "DMY", date(2026, 11, 19)),  # was a day off
        ("2 days before yesterday", "DMY", date(2026, 11, 19)),
        ("2 day before today", "DMY", date(2026, 11, 20)),
        ("2 weeks after yesterday", "DMY", date(2026, 12, 5)),
        ("a month before today", "DMY", date(2026, 10, 22)),
        ("3 30", "DMY", None),  # was 1930
        ("3 30", "MDY", None),
        ("12.53%", "DMY", None),  # was a date
        ("Version: 1.10.30", "DMY", None),  # was 1 Oct 1930
        ("v 1.10.30", "MDY", None),
        ("v1.10.30", "DMY", None),
        ("4/13/1", "MDY", None),
        ("4/13/1", "DMY", None),
        ("2200-25", "DMY", None),
        ("2200-25", "YMD", None),
        ("15 / 2", "DMY", date(2026, 2, 15)),  # still read: clearly day and month
        ("yesterday at 8 in the evening", "DMY", date(2026, 11, 21)),
    ],
)
def test_issue_13_phrases_are_the_right_date_or_not_read(
    text: str, date_order: DateOrder, expected: date | None
) -> None:
    assert parse_date(text, today=TODAY, date_order=date_order) == expected


@pytest.mark.parametrize(
    ("text", "title", "when"),
    [
        ("1h upgrade to Version: 1.10.30", "Upgrade to Version: 1.10.30", None),
        ("1h firmware v1.10.30 rollout", "Firmware v1.10.30 rollout", None),
        ("1h release 2.1.25 notes", "Release 2.1.25 notes", None),
        ("1h growth of 12.53% review", "Growth of 12.53% review", None),
        ("1h exam on 1.10.25", "Exam", date(2025, 10, 1)),  # a dotted date is still a date
        ("1h review 2 days before yesterday", "Review", date(2026, 11, 19)),
    ],
)
def test_issue_13_log_lines_keep_version_numbers_in_the_title(
    text: str, title: str, when: date | None
) -> None:
    found = parse_quick(text, today=TODAY)
    assert (found.title, found.activity_date, found.minutes) == (title, when, 60)


@pytest.mark.parametrize(
    ("text", "languages", "expected"),
    [
        ("gestern", ["de"], date(2026, 11, 21)),
        ("vor 3 Tagen", ["de"], date(2026, 11, 19)),
        ("3. März", ["de"], date(2026, 3, 3)),
        ("3. Dezember", ["de"], date(2025, 12, 3)),  # not the coming 3 December
        ("Dienstag", ["de"], date(2026, 11, 17)),
        ("hier", ["fr"], date(2026, 11, 21)),
        ("il y a 3 jours", ["fr"], date(2026, 11, 19)),
        ("21/11", ["de"], date(2026, 11, 21)),
        ("yesterday", ["en", "de"], date(2026, 11, 21)),
        ("gestern", ["en", "de"], date(2026, 11, 21)),
    ],
)
def test_dates_in_the_users_languages(text: str, languages: list[str], expected: date) -> None:
    assert parse_date(text, today=TODAY, languages=languages) == expected


# --------------------------------------------------------------------------------------
# parse_quick
# --------------------------------------------------------------------------------------


def entry(
    title: str | None,
    minutes: int | None = None,
    when: date | None = None,
    hints: tuple[str, ...] = (),
    duration_text: str | None = None,
    date_text: str | None = None,
) -> QuickEntry:
    return QuickEntry(
        title=title,
        minutes=minutes,
        activity_date=when,
        category_hints=hints,
        duration_text=duration_text,
        date_text=date_text,
    )


YESTERDAY = date(2026, 11, 21)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "1.5h webinar on arc-flash safety yesterday",
            entry("Webinar on arc-flash safety", 90, YESTERDAY, (), "1.5h", "yesterday"),
            id="duration first, date last",
        ),
        pytest.param(
            "webinar on arc-flash safety yesterday 1.5h #training",
            entry("Webinar on arc-flash safety", 90, YESTERDAY, ("training",), "1.5h", "yesterday"),
            id="date and duration at the end, with a hint",
        ),
        pytest.param(
            "IEC 61850 course 2h yesterday",
            entry("IEC 61850 course", 120, YESTERDAY, (), "2h", "yesterday"),
            id="standard number stays in the title",
        ),
        pytest.param(
            "ISO 9001 audit training 3h",
            entry("ISO 9001 audit training", 180, None, (), "3h", None),
            id="no date",
        ),
        pytest.param(
            "2h site visit with contractor yesterday",
            entry("Site visit with contractor", 120, YESTERDAY, (), "2h", "yesterday"),
            id="first letter upper-cased",
        ),
        pytest.param(
            "1h30 workshop on 3 March",
            entry("Workshop", 90, date(2026, 3, 3), (), "1h30", "3 March"),
            id="dangling 'on' trimmed",
        ),
        pytest.param(
            "Read BS 7671 chapter 5 90m last tuesday",
            entry("Read BS 7671 chapter 5", 90, date(2026, 11, 17), (), "90m", "last tuesday"),
            id="chapter number kept, minutes, last weekday",
        ),
        pytest.param(
            "what may change in the 18th edition 1h",
            entry("What may change in the 18th edition", 60, None, (), "1h", None),
            id="'may' the verb is not a month",
        ),
        pytest.param(
            "Sat the NEBOSH exam 3h on 3 May",
            entry("Sat the NEBOSH exam", 180, date(2026, 5, 3), (), "3h", "3 May"),
            id="'sat' the verb is not Saturday, '3 May' is a date",
        ),
        pytest.param(
            "Mentoring session, 45 mins, last Friday #mentoring",
            entry(
                "Mentoring session",
                45,
                date(2026, 11, 20),
                ("mentoring",),
                "45 mins",
                "last Friday",
            ),
            id="commas left by removed parts",
        ),
        pytest.param(
            "Attended a 2-hour webinar on earthing 21/11",
            entry("Attended a webinar on earthing", 120, YESTERDAY, (), "2-hour", "21/11"),
            id="hyphenated duration and day-first date",
        ),
        pytest.param(
            "yesterday's IET lecture (1.5h) #lecture #IET",
            entry("IET lecture", 90, YESTERDAY, ("lecture", "iet"), "1.5h", "yesterday's"),
            id="possessive date and bracketed duration",
        ),
        pytest.param(
            "an hour and a half on harmonics Monday",
            entry("Harmonics", 90, date(2026, 11, 16), (), "an hour and a half", "Monday"),
            id="duration in words",
        ),
        pytest.param(
            "Toolbox talk 1 hour 30 minutes the day before yesterday",
            entry(
                "Toolbox talk",
                90,
                date(2026, 11, 20),
                (),
                "1 hour 30 minutes",
                "the day before yesterday",
            ),
            id="long duration and long date",
        ),
        pytest.param(
            "1/2 day course on first aid 3h 2 days ago",
            entry("1/2 day course on first aid", 180, date(2026, 11, 20), (), "3h", "2 days ago"),
            id="'1/2 day' is neither a date nor the duration",
        ),
        pytest.param(
            "24/7 support rota briefing 1h",
            entry("24/7 support rota briefing", 60, None, (), "1h", None),
            id="24/7 is not 24 July",
        ),
        pytest.param(
            "version 2.1 release notes 30 min today",
            entry("Version 2.1 release notes", 30, TODAY, (), "30 min", "today"),
            id="version number is not a date",
        ),
        pytest.param(
            "pages 10-12 of guidance note 3 1h 2026-03-03",
            entry("Pages 10-12 of guidance note 3", 60, date(2026, 3, 3), (), "1h", "2026-03-03"),
            id="page range kept, ISO date",
        ),
        pytest.param(
            "Cable sizing for 50 m runs 2h",
            entry("Cable sizing for 50 m runs", 120, None, (), "2h", None),
            id="'50 m' is metres in a sentence",
        ),
        pytest.param(
            "2h webinar then 30 min Q&A",
            replace(entry("Webinar then Q&A"), duration_conflict=("2h", "30 min")),
            id="two different durations: neither is guessed",
        ),
        pytest.param(
            "webinar 2 hours ago",
            entry("Webinar", None, TODAY, (), None, "2 hours ago"),
            id="'2 hours ago' is when, not how long",
        ),
        pytest.param(
            "Seminar -1h",
            entry("Seminar", -60, None, (), "-1h", None),
            id="negative duration kept for the caller to refuse",
        ),
        pytest.param(
            "Seminar 0h yesterday",
            entry("Seminar", 0, YESTERDAY, (), "0h", "yesterday"),
            id="zero duration kept for the caller to refuse",
        ),
        pytest.param(
            "Hands-on PLC workshop 3h",
            entry("Hands-on PLC workshop", 180, None, (), "3h", None),
            id="hyphenated words survive trimming",
        ),
        pytest.param(
            "Modern C++ and C# course 2h #self-study",
            entry("Modern C++ and C# course", 120, None, ("self-study",), "2h", None),
            id="C# is not a hint, hyphenated hint",
        ),
        pytest.param(
            "Site induction at 9am yesterday 45m",
            entry("Site induction", 45, YESTERDAY, (), "45m", "at 9am yesterday"),
            id="time of day goes with the date",
        ),
        pytest.param(
            "Next Saturday safety course 6h",
            entry("Safety course", 360, date(2026, 11, 28), (), "6h", "Next Saturday"),
            id="future date returned for the caller to refuse",
        ),
        pytest.param(
            "Tuesday of last week: relay protection seminar, 2.5 hrs",
            entry(
                "Relay protection seminar",
                150,
                date(2026, 11, 10),
                (),
                "2.5 hrs",
                "Tuesday of last week",
            ),
            id="date at the start with a colon",
        ),
        pytest.param(
            "Site meeting 11:30 2h",
            entry("Site meeting 11:30", 120, None, (), "2h", None),
            id="a clock time without a unit is not the duration",
        ),
        pytest.param(
            "Workshop 1:30h yesterday",
            entry("Workshop", 90, YESTERDAY, (), "1:30h", "yesterday"),
            id="h:mm with a unit is a duration",
        ),
        pytest.param(
            "Lunch and learn on cyber security yesterday 1h",
            entry("Lunch and learn on cyber security", 60, YESTERDAY, (), "1h", "yesterday"),
            id="'lunch' here is part of the title",
        ),
        pytest.param(
            "Safety briefing yesterday morning 30 min",
            entry("Safety briefing", 30, YESTERDAY, (), "30 min", "yesterday morning"),
            id="part of day goes with the date",
        ),
        pytest.param(
            "Site visit - substation commissioning - 4h - Tue",
            entry(
                "Site visit - substation commissioning", 240, date(2026, 11, 17), (), "4h", "Tue"
            ),
            id="dashes between parts are not minus signs",
        ),
        pytest.param(
            "Webinar: BIM Level 2 - 1 hour - 12th November",
            entry("Webinar: BIM Level 2", 60, date(2026, 11, 12), (), "1 hour", "12th November"),
            id="separators left by removed parts are dropped",
        ),
        pytest.param(
            "Sun safety awareness 1h",
            entry("Sun safety awareness", 60, None, (), "1h", None),
            id="'sun' is not Sunday",
        ),
        pytest.param(
            "Earned 1.5 CPD hours at seminar yesterday",
            entry("Earned at seminar", 90, YESTERDAY, (), "1.5 CPD hours", "yesterday"),
            id="'CPD hours'",
        ),
        pytest.param(
            "Mon-Fri course 35h",
            entry("Mon-Fri course", 35 * 60, None, (), "35h", None),
            id="a weekday range is not one date",
        ),
        pytest.param("", entry(None), id="empty"),
        pytest.param("#cpd", entry(None, hints=("cpd",)), id="hint only"),
        pytest.param(
            "2h yesterday", entry(None, 120, YESTERDAY, (), "2h", "yesterday"), id="no title"
        ),
    ],
)
def test_quick_entries(text: str, expected: QuickEntry) -> None:
    assert parse_quick(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("today", "text", "expected"),
    [
        (
            date(2026, 1, 1),
            "Year-end review 1h 31 Dec",
            entry("Year-end review", 60, date(2025, 12, 31), (), "1h", "31 Dec"),
        ),
        (
            date(2026, 1, 5),
            "Course 28/12 3h",
            entry("Course", 180, date(2025, 12, 28), (), "3h", "28/12"),
        ),
        (
            date(2028, 3, 1),
            "webinar yesterday 1h",
            entry("Webinar", 60, date(2028, 2, 29), (), "1h", "yesterday"),
        ),
        (
            date(2027, 3, 1),
            "Seminar on 29 Feb 2h",
            entry("Seminar", 120, date(2024, 2, 29), (), "2h", "29 Feb"),
        ),
        (
            date(2027, 3, 1),
            "Audit 31/02 2h",
            entry("Audit 31/02", 120, None, (), "2h", None),
        ),
    ],
    ids=["new year", "day-first after new year", "leap day", "29 Feb in a common year", "31/02"],
)
def test_quick_entries_on_boundary_days(today: date, text: str, expected: QuickEntry) -> None:
    assert parse_quick(text, today=today) == expected


def test_quick_entry_follows_the_users_date_order() -> None:
    assert parse_quick("Course 11/21 3h", today=TODAY, date_order="MDY") == entry(
        "Course", 180, YESTERDAY, (), "3h", "11/21"
    )


@pytest.mark.parametrize(
    ("text", "languages", "expected"),
    [
        (
            "Webinar zu Brandschutz gestern 1,5h #schulung",
            ["de"],
            entry("Webinar zu Brandschutz", 90, YESTERDAY, ("schulung",), "1,5h", "gestern"),
        ),
        (
            "Formation habilitation électrique 7h hier",
            ["fr"],
            entry("Formation habilitation électrique", 420, YESTERDAY, (), "7h", "hier"),
        ),
        (
            "Kurs 21/11 2h",
            ["de"],
            entry("Kurs", 120, YESTERDAY, (), "2h", "21/11"),
        ),
    ],
    ids=["german relative day", "french relative day", "numeric date without English"],
)
def test_quick_entries_in_other_languages(
    text: str, languages: list[str], expected: QuickEntry
) -> None:
    assert parse_quick(text, today=TODAY, languages=languages) == expected


# --------------------------------------------------------------------------------------
# Speed: dateparser is slow, so ordinary lines must not reach it
# --------------------------------------------------------------------------------------


@pytest.fixture
def dateparser_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    original = DateDataParser.get_date_data

    def counting(self: DateDataParser, date_string: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(date_string)
        return original(self, date_string, *args, **kwargs)

    monkeypatch.setattr(DateDataParser, "get_date_data", counting)
    parsing._dateparser_date.cache_clear()
    return calls


TYPICAL_LINES = [
    "1.5h webinar on arc-flash safety yesterday",
    "IEC 61850 course 2h yesterday",
    "ISO 9001 audit training 3h",
    "Read BS 7671 chapter 5 90m last tuesday",
    "1h30 workshop on 3 March",
    "Attended a 2-hour webinar on earthing 21/11",
    "what may change in the 18th edition 1h",
    "Sat the NEBOSH exam 3h",
    "Attended 2 day course 14h",
    "Seminar 45 minutes 2 weeks ago #seminar",
]


@pytest.mark.parametrize("text", TYPICAL_LINES)
def test_typical_lines_never_reach_dateparser(dateparser_calls: list[str], text: str) -> None:
    parse_quick(text, today=TODAY)
    assert dateparser_calls == []


def test_typical_answers_to_when_never_reach_dateparser(dateparser_calls: list[str]) -> None:
    for text in ["yesterday", "last Tuesday", "3 March", "21/11", "3 days ago", "Monday"]:
        assert parse_date(text, today=TODAY) is not None
    for text in ["soon", "lots", "no idea", "45", "11:30"]:
        assert parse_date(text, today=TODAY) is None
    assert dateparser_calls == []


def test_a_long_line_calls_dateparser_only_a_few_times(dateparser_calls: list[str]) -> None:
    # Many date-like runs in other-language text: still a bounded number of calls.
    text = " ".join(f"Montag {n}. Mai und Dienstag vor {n} Tagen xx" for n in range(1, 30))
    parse_quick(text, today=TODAY, languages=["de", "fr"])
    assert 1 <= len(dateparser_calls) <= 2


def test_warm_up_can_be_called_again_and_changes_no_results() -> None:
    before = parse_quick("Webinar gestern 2h", today=TODAY, languages=["de"])
    warm_up()
    warm_up(languages=["de"])
    assert parse_quick("Webinar gestern 2h", today=TODAY, languages=["de"]) == before
    assert before.activity_date == YESTERDAY

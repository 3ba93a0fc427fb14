"""One-liners read the way members write them (issue 13): ordinal days, day lengths, time
ranges, several days as one entry, a number of days in a period, and filler words out of
the title; and what only looks like one of these stays in the title."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from dateparser.date import DateDataParser

from bot.core import parsing
from bot.core.parsing import parse_date, parse_date_range, parse_duration, parse_quick

TODAY = date(2026, 12, 4)  # a Friday
YESTERDAY = date(2026, 12, 3)
LAST_WEEK = (date(2026, 11, 23), date(2026, 11, 29))  # Monday to Sunday
THIS_WEEK = (date(2026, 11, 30), TODAY)  # Monday to today


def fields(text: str, today: date = TODAY, **kwargs: Any) -> dict[str, Any]:
    found = parse_quick(text, today=today, **kwargs)
    return {
        "title": found.title,
        "minutes": found.minutes,
        "date": found.activity_date,
        "end": found.end_date,
        "days": found.days,
        "within": found.within,
    }


def want(
    title: str | None,
    minutes: int | None = None,
    when: date | None = None,
    end: date | None = None,
    days: int | None = None,
    within: tuple[date, date] | None = None,
) -> dict[str, Any]:
    return {
        "title": title,
        "minutes": minutes,
        "date": when,
        "end": end,
        "days": days,
        "within": within,
    }


# --------------------------------------------------------------------------------------
# Ordinal days
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Team meeting on the 2nd", want("Team meeting", when=date(2026, 12, 2))),
        ("Site audit on the 25th 3h", want("Site audit", 180, date(2026, 11, 25))),
        ("Toolbox talk the 1st 30 min", want("Toolbox talk", 30, date(2026, 12, 1))),
        ("Relay training on 14th 2h", want("Relay training", 120, date(2026, 11, 14))),
        ("Team meeting on the 2nd of", want("Team meeting", when=date(2026, 12, 2))),
        (
            "Team meeting on the 2nd with Bob 1h",
            want("Team meeting with Bob", 60, date(2026, 12, 2)),
        ),
        ("on the 4th", want(None, when=date(2026, 12, 4))),  # today is still this month's
        ("on the 5th", want(None, when=date(2026, 11, 5))),  # not the coming 5th
        ("Webinar 1h 28th", want("Webinar", 60, date(2026, 11, 28))),  # at the end of the line
        ("Design review on the first 1h", want("Design review", 60, date(2026, 12, 1))),
        ("Audit on the 2nd of this month", want("Audit", when=date(2026, 12, 2))),
    ],
)
def test_ordinal_days_are_read_and_leave_the_title(text: str, expected: dict[str, Any]) -> None:
    assert fields(text) == expected


@pytest.mark.parametrize(
    ("today", "text", "expected"),
    [
        (date(2026, 3, 1), "Audit the 30th 1h", date(2026, 1, 30)),  # February has no 30th
        (date(2026, 3, 1), "on the 31st", date(2026, 1, 31)),
        (date(2026, 3, 1), "on the 29th", date(2026, 1, 29)),  # 2026 is not a leap year
        (date(2028, 3, 1), "on the 29th", date(2028, 2, 29)),
        (date(2026, 3, 1), "on the 1st", date(2026, 3, 1)),
        (date(2027, 1, 2), "on the 31st", date(2026, 12, 31)),  # across the new year
        (date(2026, 4, 30), "the 31st", date(2026, 3, 31)),
    ],
)
def test_ordinal_days_around_month_ends(today: date, text: str, expected: date) -> None:
    assert parse_quick(text, today=today).activity_date == expected


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Read the 2nd edition of the guide 1h", "Read the 2nd edition of the guide"),
        ("2nd edition review 1h", "2nd edition review"),
        ("3rd party audit 2h", "3rd party audit"),
        ("1st aid refresher 3h", "1st aid refresher"),
        ("First aid refresher 3h", "First aid refresher"),
        ("21st century skills webinar 1h", "21st century skills webinar"),
        ("Skills for the 21st century 1h", "Skills for the 21st century"),
        ("Meeting on the 4th floor 1h", "Meeting on the 4th floor"),
        ("4th floor fire drill 30 min", "4th floor fire drill"),
        ("What may change in the 18th edition 1h", "What may change in the 18th edition"),
        ("Read the 2nd of three papers 1h", "Read the 2nd of three papers"),
        (
            "Talk on the first principles of protection 1h",
            "Talk on the first principles of protection",
        ),
        ("Attended the 2nd meeting of the panel 1h", "Attended the 2nd meeting of the panel"),
    ],
)
def test_ordinals_that_are_not_days_stay_in_the_title(text: str, title: str) -> None:
    found = parse_quick(text, today=TODAY)
    assert (found.title, found.activity_date) == (title, None)


# --------------------------------------------------------------------------------------
# Day lengths
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Workshop, full day, yesterday", want("Workshop", 420, YESTERDAY)),
        (
            "Substation visit a full day on Tuesday",
            want("Substation visit", 420, date(2026, 12, 1)),
        ),
        ("Exhibition all day yesterday", want("Exhibition", 420, YESTERDAY)),
        ("Site induction, whole day", want("Site induction", 420)),
        ("Seminar half day yesterday", want("Seminar", 210, YESTERDAY)),
        ("Half a day on site induction yesterday", want("Site induction", 210, YESTERDAY)),
        ("Cable jointing, half-day", want("Cable jointing", 210)),
        ("IET conference 2 full days", want("IET conference", 840, days=2)),
        ("Two days on the HV course", want("HV course", 840, days=2)),
        ("Conference 2 days", want("Conference", 840, days=2)),
        # A number of days naming the activity stays in the title and still counts.
        (
            "Attended a 2-day course on protection",
            want("Attended a 2-day course on protection", 840, days=2),
        ),
        ("Full day workshop on earthing", want("Workshop on earthing", 420)),
        ("Attended a full day seminar yesterday", want("Attended a seminar", 420, YESTERDAY)),
        ("Half-day workshop on Tuesday", want("Workshop", 210, date(2026, 12, 1))),
        # Hours stated win; the days are still counted.
        ("2-day course 12h", want("2-day course", 720, days=2)),
        # Dates, not lengths.
        ("Site visit 2 days ago 3h", want("Site visit", 180, date(2026, 12, 2))),
        ("Review 2 days before yesterday 1h", want("Review", 60, date(2026, 12, 1))),
    ],
)
def test_day_lengths_in_one_liners(text: str, expected: dict[str, Any]) -> None:
    assert fields(text) == expected


def test_a_day_is_the_schemes_day() -> None:
    assert parse_quick("Conference 2 days", today=TODAY, day_minutes=450).minutes == 900
    assert parse_quick("Workshop, half day", today=TODAY, day_minutes=450).minutes == 225
    assert parse_quick("Workshop, full day", today=TODAY, day_minutes=480).minutes == 480


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("full day", 420),
        ("a full day", 420),
        ("all day", 420),
        ("whole day", 420),
        ("a day", 420),
        ("half day", 210),
        ("half a day", 210),
        ("half-day", 210),
        ("2 full days", 840),
        ("two days", 840),
        ("2 days", 840),
        ("1.5 days", 630),
        ("a couple of days", 840),
    ],
)
def test_parse_duration_reads_days_of_the_schemes_length(text: str, expected: int) -> None:
    assert parse_duration(text) == expected
    assert parse_duration(text, day_minutes=480) == expected * 480 // 420


@pytest.mark.parametrize(
    "text", ["2 days ago", "30 days", "1.24 days", "2 weeks", "in 2 days", "1/2 day"]
)
def test_parse_duration_refuses_what_is_not_a_length_of_cpd(text: str) -> None:
    assert parse_duration(text) is None


# --------------------------------------------------------------------------------------
# Time ranges
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("1-2pm", 60),
        ("1–2 pm", 60),
        ("10am-12", 120),
        ("9:30-11", 90),
        ("09:30–11:00", 90),
        ("from 9 to 5", 480),
        ("14:00-15:30", 90),
        ("11-1pm", 120),
        ("12-1pm", 60),
        ("9am to 12:30pm", 210),
        ("9.30-11.00", 90),
        ("between 2 and 4pm", 120),
    ],
)
def test_time_ranges_are_durations(text: str, minutes: int) -> None:
    assert parse_duration(text) == minutes
    line = f"Protection seminar {text} yesterday"
    assert fields(line) == want("Protection seminar", minutes, YESTERDAY)


@pytest.mark.parametrize(
    "text",
    ["2pm-1pm", "14:00-13:00", "9:30-9:00", "2-3 hours", "pages 10-12", "10-12", "1.10-1.12"],
)
def test_not_time_ranges(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Read pages 10-12 of GN3 yesterday", "Read pages 10-12 of GN3"),
        ("Read chapters 1-2 of the guide yesterday", "Read chapters 1-2 of the guide"),
        ("ISO 9001-2015 briefing yesterday", "ISO 9001-2015 briefing"),
        ("Reading 2-3 hours yesterday", "Reading 2-3 hours"),  # vague: the bot asks
        ("Reading 2 to 3 hours yesterday", "Reading 2 to 3 hours"),
        ("Meeting 2pm-1pm yesterday", "Meeting 2pm-1pm"),  # ends before it starts
        ("Upgrade from 2 to 3 engineers yesterday", "Upgrade from 2 to 3 engineers"),
        ("Firmware v1.10-1.12 notes yesterday", "Firmware v1.10-1.12 notes"),
    ],
)
def test_numbers_that_are_not_time_ranges_stay_in_the_title(text: str, title: str) -> None:
    assert fields(text) == want(title, None, YESTERDAY)


def test_a_stated_duration_wins_over_a_time_range() -> None:
    assert fields("Workshop 9:00-17:00 6h yesterday") == want("Workshop", 360, YESTERDAY)


def test_a_time_range_takes_its_at_with_it() -> None:
    assert fields("Lecture at 6-7.30pm with Bob yesterday") == want(
        "Lecture with Bob", 90, YESTERDAY
    )


# --------------------------------------------------------------------------------------
# Several days as one entry
# --------------------------------------------------------------------------------------

NOV_14_15 = want("Conference", when=date(2026, 11, 14), end=date(2026, 11, 15), days=2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Conference 14-15 Nov", NOV_14_15),
        ("Conference 14–15 November", NOV_14_15),
        ("Conference 14 to 15 Nov", NOV_14_15),
        ("Conference on 14th-15th Nov", NOV_14_15),
        ("Conference Nov 14-15", NOV_14_15),
        ("14/11-15/11 conference", NOV_14_15),
        ("Conference 14-15 Nov 2026", NOV_14_15),
        (
            "Conference 30 Nov - 2 Dec",
            want("Conference", None, date(2026, 11, 30), date(2026, 12, 2), 3),
        ),
        (
            "Conference from Monday to Wednesday",
            want("Conference", None, date(2026, 11, 30), date(2026, 12, 2), 3),
        ),
        (
            "Conference Mon-Tue last week",
            want("Conference", None, date(2026, 11, 23), date(2026, 11, 24), 2),
        ),
        (
            "Conference Wed 25 - Fri 27 Nov",
            want("Conference", None, date(2026, 11, 25), date(2026, 11, 27), 3),
        ),
        ("Conference 3-4 Dec", want("Conference", None, date(2026, 12, 3), TODAY, 2)),  # ends today
        ("Conference 14-15 Nov 12h", NOV_14_15 | {"minutes": 720}),
        ("Conference 14-15 Nov 2 full days", NOV_14_15 | {"minutes": 840}),
    ],
)
def test_several_days_are_one_entry(text: str, expected: dict[str, Any]) -> None:
    assert fields(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Conference 1 Oct - 15 Nov",  # longer than 31 days
        "Course 14-13 Nov 2026",  # ends before it starts
    ],
)
def test_ranges_not_to_read_stay_whole_in_the_title(text: str) -> None:
    assert fields(text) == want(text)


def test_a_weekday_range_that_names_a_course_stays() -> None:
    assert fields("Mon-Fri course 35h") == want("Mon-Fri course", 35 * 60)


def test_a_range_across_the_new_year() -> None:
    found = parse_quick("Winter school 30 Dec - 2 Jan", today=date(2027, 1, 10))
    assert (found.activity_date, found.end_date, found.days) == (
        date(2026, 12, 30),
        date(2027, 1, 2),
        4,
    )


def test_numeric_ranges_follow_the_date_order() -> None:
    found = parse_quick("Course 11/14-11/15", today=TODAY, date_order="MDY")
    assert (found.activity_date, found.end_date) == (date(2026, 11, 14), date(2026, 11, 15))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14-15 Nov", (date(2026, 11, 14), date(2026, 11, 15))),
        ("14–15 November", (date(2026, 11, 14), date(2026, 11, 15))),
        ("14 to 15 Nov", (date(2026, 11, 14), date(2026, 11, 15))),
        ("Nov 14-15", (date(2026, 11, 14), date(2026, 11, 15))),
        ("from Monday to Wednesday", (date(2026, 11, 30), date(2026, 12, 2))),
        ("Mon-Tue last week", (date(2026, 11, 23), date(2026, 11, 24))),
        ("30 Nov - 2 Dec", (date(2026, 11, 30), date(2026, 12, 2))),
        ("14/11-15/11", (date(2026, 11, 14), date(2026, 11, 15))),
        ("on 14-15 Nov.", (date(2026, 11, 14), date(2026, 11, 15))),
        ("yesterday", (YESTERDAY, YESTERDAY)),
        ("14 Nov", (date(2026, 11, 14), date(2026, 11, 14))),
        ("the 2nd", (date(2026, 12, 2), date(2026, 12, 2))),
        ("3-5 Dec", (date(2026, 12, 3), date(2026, 12, 5))),  # not over yet: the caller refuses
        ("1 Oct - 15 Nov", None),  # too long
        ("last week", None),  # a period, not the days
        ("no idea", None),
        ("12.53%", None),
    ],
)
def test_parse_date_range_reads_a_whole_answer(
    text: str, expected: tuple[date, date] | None
) -> None:
    assert parse_date_range(text, today=TODAY) == expected


# --------------------------------------------------------------------------------------
# A number of days in a period: the bot asks which days
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "text", "expected"),
    [
        (TODAY, "2 days last week", want(None, 840, days=2, within=LAST_WEEK)),
        (
            TODAY,
            "IET conference 2 days last week",
            want("IET conference", 840, days=2, within=LAST_WEEK),
        ),
        (TODAY, "two days this week", want(None, 840, days=2, within=THIS_WEEK)),
        (
            TODAY,
            "Safety course 3 days in October",
            want("Safety course", 1260, days=3, within=(date(2026, 10, 1), date(2026, 10, 31))),
        ),
        (  # in October itself: up to today
            date(2026, 10, 20),
            "3 days in October",
            want(None, 1260, days=3, within=(date(2026, 10, 1), date(2026, 10, 20))),
        ),
        (  # the latest October
            date(2026, 3, 1),
            "3 days in October",
            want(None, 1260, days=3, within=(date(2025, 10, 1), date(2025, 10, 31))),
        ),
        (
            TODAY,
            "Training 2 days last month",
            want("Training", 840, days=2, within=(date(2026, 11, 1), date(2026, 11, 30))),
        ),
        (TODAY, "2 days of training last week", want("Training", 840, days=2, within=LAST_WEEK)),
    ],
)
def test_days_in_a_period(today: date, text: str, expected: dict[str, Any]) -> None:
    assert fields(text, today) == expected


# --------------------------------------------------------------------------------------
# Filler words out of titles
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("spent 2h on Monday reviewing a colleague's design", "Reviewing a colleague's design"),
        ("I spent 3 hours on the IET webinar yesterday", "IET webinar"),
        ("Spent 1h reading BS 7671 yesterday", "Reading BS 7671"),
        ("spent some time on the safety case 1h", "Safety case"),
        ("did some reading on BS 7671 1h", "Reading on BS 7671"),
        ("I did a course on harmonics 2h", "Course on harmonics"),
        ("A talk on earthing 1h", "A talk on earthing"),  # an article typed first stays
        ("today I read a paper on arc flash 45 min", "Read a paper on arc flash"),
        ("I attended the regional meeting 2h", "Attended the regional meeting"),
        ("I've been reviewing the new standard 2h", "Reviewing the new standard"),
        ("went to the IET lecture 1.5h", "Went to the IET lecture"),
        ("Gave a talk on earthing 1h", "Gave a talk on earthing"),
        ("Read the IEEE paper 1h", "Read the IEEE paper"),
        ("Attended 2h seminar on", "Attended seminar"),
        ("2h risk assessment doing", "Risk assessment"),
        ("Watched a webinar on cyber security 1h", "Watched a webinar on cyber security"),
    ],
)
def test_filler_words_leave_the_title(text: str, title: str) -> None:
    assert parse_quick(text, today=TODAY).title == title


def test_the_issue_13_line_in_full() -> None:
    found = parse_quick("spent 2h on Monday reviewing a colleague's design", today=TODAY)
    assert (found.title, found.minutes, found.activity_date) == (
        "Reviewing a colleague's design",
        120,
        date(2026, 11, 30),  # the latest Monday
    )


# --------------------------------------------------------------------------------------
# Not clearly a date: still not a date
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("1h growth of 12.53% review", "Growth of 12.53% review"),
        ("1h upgrade to Version: 1.10.30", "Upgrade to Version: 1.10.30"),
        ("1h firmware v1.10.30 rollout", "Firmware v1.10.30 rollout"),
    ],
)
def test_numbers_that_only_look_like_dates_stay(text: str, title: str) -> None:
    assert fields(text) == want(title, 60)


@pytest.mark.parametrize("text", ["12.53%", "Version: 1.10.30", "3 30", "the 2nd edition"])
def test_whole_answers_that_only_look_like_dates(text: str) -> None:
    assert parse_date(text, today=TODAY) is None
    assert parse_date_range(text, today=TODAY) is None


# --------------------------------------------------------------------------------------
# Speed: the new forms are read without dateparser
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


EVERYDAY_LINES = [
    "Team meeting on the 2nd",
    "Site audit on the 25th 3h",
    "Workshop, full day, yesterday",
    "Seminar half day yesterday",
    "Protection seminar 1-2pm yesterday",
    "IET conference 2 days last week",
    "Conference 14-15 Nov",
    "spent 2h on Monday reviewing a colleague's design",
]


@pytest.mark.parametrize("text", EVERYDAY_LINES)
def test_everyday_lines_never_reach_dateparser(dateparser_calls: list[str], text: str) -> None:
    parse_quick(text, today=TODAY)
    assert dateparser_calls == []


@pytest.mark.parametrize(
    "text", ["14-15 Nov", "20-23 Nov", "Nov 14-15", "14th to 15th Nov", "14 to 15 November"]
)
def test_a_range_of_days_is_not_read_as_one_day(text: str) -> None:
    # dateparser used to read '14-15 Nov' as 14 Nov 2015 and '20-23 Nov' as 20 Nov 2023
    assert parse_date(text, today=date(2026, 11, 22)) is None


# --------------------------------------------------------------------------------------
# Review of issue 13 (fix round): what a reviewer typed in the console
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 'full day' / 'half day' with a number of days or a range: that much each day
        (
            "full day course 2 days last week",
            want("Course", 840, days=2, within=LAST_WEEK),
        ),
        ("half day course 2 days", want("Course", 420, days=2)),
        (
            "half day workshop on 14-15 Nov",
            want("Workshop", 420, date(2026, 11, 14), date(2026, 11, 15), 2),
        ),
        (  # a time range is a day's hours too
            "Conference 14-15 Nov 9am-5pm",
            NOV_14_15 | {"minutes": 960},
        ),
        ("full day workshop 7h yesterday", want("Workshop", 420, YESTERDAY)),  # the same
    ],
)
def test_a_day_length_with_several_days_counts_each_day(
    text: str, expected: dict[str, Any]
) -> None:
    assert fields(text) == expected


@pytest.mark.parametrize(
    ("text", "title", "conflict"),
    [
        ("1h full day course yesterday", "Course", ("1h", "full day")),
        ("webinar 1h 2h", "Webinar", ("1h", "2h")),
        ("full day workshop 3h", "Workshop", ("full day", "3h")),
        ("Seminar half day 9am-5pm", "Seminar", ("half day", "9am-5pm")),
        ("Workshop 9-10am 2h", "Workshop", ("9-10am", "2h")),  # more than the range
    ],
)
def test_two_different_durations_are_asked_not_guessed(
    text: str, title: str, conflict: tuple[str, ...]
) -> None:
    found = parse_quick(text, today=TODAY)
    assert (found.title, found.minutes, found.duration_text, found.duration_conflict) == (
        title,
        None,
        None,
        conflict,
    )


def test_the_same_duration_twice_is_no_conflict() -> None:
    found = parse_quick("webinar 1h on Tuesday, 1h", today=TODAY)
    assert (found.title, found.minutes, found.duration_conflict) == ("Webinar", 60, ())


@pytest.mark.parametrize("text", ["2-1pm", "3-1pm", "from 2 to 1"])
def test_a_range_that_would_start_before_dawn_is_not_read(text: str) -> None:
    assert parse_duration(text) is None
    assert parse_quick(f"{text} webinar", today=TODAY).minutes is None


@pytest.mark.parametrize(("text", "minutes"), [("11-1pm", 120), ("8-1pm", 300), ("9-5pm", 480)])
def test_a_morning_start_to_an_afternoon_end_is_still_read(text: str, minutes: int) -> None:
    assert parse_duration(text) == minutes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("site visit to the 2nd", want("Site visit", when=date(2026, 12, 2))),
        ("spent the morning on a course on protection", want("Course on protection", 210)),
        ("all afternoon on the relay manual yesterday", want("Relay manual", 210, YESTERDAY)),
        ("webinar last friday 13:00", want("Webinar", when=date(2026, 11, 27))),
        ("webinar 09:30 yesterday", want("Webinar", when=YESTERDAY)),
        ("webinar # yesterday 1h", want("Webinar", 60, YESTERDAY)),
        ("Attended 3-day course on SCADA", want("Attended 3-day course on SCADA", 1260, days=3)),
        ("Course on C# yesterday 1h", want("Course on C#", 60, YESTERDAY)),
        (  # 'in the morning' is when, not half a day
            "webinar in the morning yesterday 1h",
            want("Webinar in the morning", 60, YESTERDAY),
        ),
    ],
)
def test_titles_keep_no_leftovers(text: str, expected: dict[str, Any]) -> None:
    assert fields(text) == expected


def test_an_ambiguous_clock_time_stays_in_the_title() -> None:
    # '1:30' may be a duration typed without its unit: kept where the person sees it
    assert fields("webinar yesterday 1:30") == want("Webinar 1:30", when=YESTERDAY)


NEXT_WEEK = (date(2026, 12, 7), date(2026, 12, 13))


def test_days_next_week_are_a_future_period() -> None:
    assert fields("2 days next week conference") == want(
        "Conference", 840, days=2, within=NEXT_WEEK
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1-5 Dec", (date(2026, 12, 1), date(2026, 12, 5))),  # ends tomorrow
        ("14-15 Nov 2027", (date(2027, 11, 14), date(2027, 11, 15))),
        ("Mon-Wed next week", None),  # not a form that is read
    ],
)
def test_parse_date_range_returns_a_future_range_for_the_caller_to_refuse(
    text: str, expected: tuple[date, date] | None
) -> None:
    assert parse_date_range(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("Conference 1-5 Dec", date(2026, 12, 1), date(2026, 12, 5)),  # ends tomorrow
        ("Conference 3-5 Dec", date(2026, 12, 3), date(2026, 12, 5)),  # still going on
        ("Conference 14-15 Nov 2027", date(2027, 11, 14), date(2027, 11, 15)),
    ],
)
def test_a_one_liner_reads_a_future_range_for_the_bot_to_refuse(
    text: str, first: date, last: date
) -> None:
    days = (last - first).days + 1
    assert fields(text) == want("Conference", None, first, last, days)

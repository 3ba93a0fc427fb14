"""Calendar feeds: URL checks, safe fetching over HTTP, and occurrences from real ICS files."""

from __future__ import annotations

import gzip
import http.server
import random
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypedDict

import httpx
import pytest

from bot.services.calendar import (
    DEFAULT_KEYWORDS,
    MAX_REDIRECTS,
    MAX_URL_LENGTH,
    FeedError,
    FetchResult,
    Occurrence,
    duration_minutes,
    fetch_feed,
    is_learning,
    is_public_address,
    new_client,
    occurrences,
    read_feed,
    resolve_is_public,
    validate_feed_url,
)
from tests.conftest import FIXTURES

ICS = FIXTURES / "ics"
# A public address (example.com's) that the tests route to the local server, never out.
PUBLIC_IP = "93.184.216.34"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def fixture(name: str) -> bytes:
    return (ICS / name).read_bytes()


def between(name: str, start: datetime, end: datetime, default_tz: str = "UTC") -> list[Occurrence]:
    return occurrences(fixture(name), start=start, end=end, default_tz=default_tz)


def starts(found: Sequence[Occurrence]) -> list[str]:
    return [o.start.strftime("%Y-%m-%dT%H:%MZ") for o in found]


def calendar(*events: str, head: str = "") -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + head + "".join(events) + "END:VCALENDAR\r\n"
    ).encode()


def event(
    uid: str,
    start: str = "20260301T100000Z",
    end: str = "20260301T110000Z",
    extra: str = "",
    summary: str | None = None,
) -> str:
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART:{start}\r\nDTEND:{end}\r\n"
        f"SUMMARY:{summary or 'Event ' + uid}\r\n{extra}END:VEVENT\r\n"
    )


class Window(TypedDict):
    start: datetime
    end: datetime


MARCH_1: Window = {"start": utc(2026, 3, 1), "end": utc(2026, 3, 2)}


# --------------------------------------------------------------------------------------
# Real ICS files
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(ICS.glob("*.ics")), ids=lambda p: p.name)
def test_every_fixture_is_read_whole(path: Path) -> None:
    reading = read_feed(
        path.read_bytes(), start=utc(2000, 1, 1), end=utc(2026, 1, 1), default_tz="Europe/London"
    )
    assert reading.skipped == ()
    assert reading.occurrences
    keys = [o.key for o in reading.occurrences]
    assert len(keys) == len(set(keys)), "each occurrence is identified once"
    for o in reading.occurrences:
        assert o.start.tzinfo is UTC and o.end.tzinfo is UTC
        assert o.start <= o.end
        assert o.title == o.title.strip()
    assert [o.start for o in reading.occurrences] == sorted(o.start for o in reading.occurrences)


def test_google_weekly_series_keep_local_time_across_the_us_dst_end() -> None:
    found = between("google_weekly_exdate_dst_chicago.ics", utc(2020, 10, 26), utc(2020, 11, 16))
    event4 = [o for o in found if o.uid == "m4dpn70@google.com"]
    # Fridays 14:15 Chicago: CDT (UTC-5) before 1 November, CST (UTC-6) after;
    # 6 November is an EXDATE.
    assert starts(event4) == ["2020-10-30T19:15Z", "2020-11-13T20:15Z"]
    assert [o.end - o.start for o in event4] == [timedelta(minutes=15)] * 2
    assert [o.recurrence_id for o in event4] == ["2020-10-30T19:15:00Z", "2020-11-13T20:15:00Z"]
    event2 = [o for o in found if o.uid == "p1lc8@google.com"]
    assert starts(event2) == ["2020-10-30T15:15Z", "2020-11-06T16:15Z", "2020-11-13T16:15Z"]


def test_google_series_with_until_and_exdate() -> None:
    found = between("google_weekly_exdate_dst_chicago.ics", utc(2020, 9, 14), utc(2020, 9, 30))
    series = [o for o in found if o.uid == "p1lg@google.com"]
    # Weekdays from 15 September until 23 September 04:59:59Z, 16 September excluded.
    assert starts(series) == [
        "2020-09-15T13:15Z",
        "2020-09-17T13:15Z",
        "2020-09-18T13:15Z",
        "2020-09-21T13:15Z",
        "2020-09-22T13:15Z",
    ]
    assert {o.title for o in series} == {"Event#1"}


def test_nextcloud_exdates_given_in_utc_remove_local_occurrences() -> None:
    found = between("nextcloud_weekly_exdate_utc.ics", utc(2019, 1, 1), utc(2020, 1, 1))
    # COUNT=8 weekly from Monday 4 March 00:30 Berlin; the EXDATEs 2019-03-10T23:30Z and
    # 2019-03-24T23:30Z are the 11 and 25 March occurrences. CEST from 31 March.
    assert starts(found) == [
        "2019-03-03T23:30Z",
        "2019-03-17T23:30Z",
        "2019-03-31T22:30Z",
        "2019-04-07T22:30Z",
        "2019-04-14T22:30Z",
        "2019-04-21T22:30Z",
    ]


def test_google_moved_instance_keeps_its_original_recurrence_id() -> None:
    found = between("google_monthly_moved_instance.ics", utc(2021, 12, 1), utc(2022, 1, 1))
    # The last-Friday-of-the-month instance of 31 December was moved to 17 December.
    assert len(found) == 1
    moved = found[0]
    assert starts(found) == ["2021-12-17T20:30Z"]
    assert moved.recurrence_id == "2021-12-31T20:30:00Z"
    assert moved.uid == "38m812jicsrer5gorh3mlp7qhc@google.com"
    # HTML in Google's DESCRIPTION becomes text.
    assert moved.description == (
        "Jeden letzten Freitag im Monat https://www.instagram.com/p/CWwxmqbKXsC/"
    )
    # The master has DTEND = DTSTART: nothing to prefill.
    assert moved.start == moved.end
    assert duration_minutes(moved) is None


def test_google_monthly_series_follows_berlin_summer_time() -> None:
    found = between("google_monthly_moved_instance.ics", utc(2022, 3, 1), utc(2022, 5, 1))
    assert starts(found) == ["2022-03-25T20:30Z", "2022-04-29T19:30Z"]
    assert [o.recurrence_id for o in found] == ["2022-03-25T20:30:00Z", "2022-04-29T19:30:00Z"]


def test_thunderbird_cancelled_override_is_marked_cancelled() -> None:
    found = between("thunderbird_cancelled_instance.ics", utc(2020, 1, 1), utc(2020, 2, 1))
    assert starts(found) == ["2020-01-28T21:00Z", "2020-01-29T21:00Z", "2020-01-30T21:00Z"]
    assert [o.cancelled for o in found] == [False, True, False]


def test_thunderbird_moved_and_all_day_overrides() -> None:
    found = between(
        "thunderbird_moved_instances_to_allday.ics",
        utc(2019, 3, 7),
        utc(2019, 3, 11),
        default_tz="Europe/Berlin",
    )
    assert [(o.start, o.end, o.all_day, o.recurrence_id) for o in found] == [
        (utc(2019, 3, 7, 1), utc(2019, 3, 7, 2), False, "2019-03-07T01:00:00Z"),
        (utc(2019, 3, 8, 0), utc(2019, 3, 8, 2), False, "2019-03-08T01:00:00Z"),
        (utc(2019, 3, 9, 2), utc(2019, 3, 9, 2, 30), False, "2019-03-09T01:00:00Z"),
        # Turned into an all-day event: midnight to midnight in the reader's zone.
        (utc(2019, 3, 9, 23), utc(2019, 3, 10, 23), True, "2019-03-10T01:00:00Z"),
    ]
    edited = between(
        "thunderbird_moved_instances_to_allday.ics", utc(2019, 3, 19), utc(2019, 3, 20)
    )
    assert [o.title for o in edited] == ["test7 - edited"]


def test_apple_statuses() -> None:
    found = between("apple_macos_status_mix.ics", utc(2022, 7, 1), utc(2022, 7, 8))
    assert [(o.title, o.cancelled) for o in found] == [
        ("Tentative", False),
        ("Confirmed", False),
        ("Cancelled", True),
        ("No Status", False),
    ]
    # TZID=America/Vancouver without a VTIMEZONE is read as the IANA zone (PDT, UTC-7).
    assert starts(found)[1:] == ["2022-07-05T16:00Z", "2022-07-06T20:00Z", "2022-07-07T16:00Z"]
    assert [duration_minutes(o) for o in found] == [50, 60, 60, 60]


def test_outlook_quoted_windows_display_names_without_vtimezone() -> None:
    found = between("outlook_owa_quoted_windows_tzid.ics", utc(2020, 10, 27), utc(2020, 11, 7))
    assert [(o.title, o.start, o.end) for o in found] == [
        # "(GMT+10:00) Canberra, Melbourne, Sydney": AEDT (UTC+11) in October.
        ("TEST Syd", utc(2020, 10, 28, 2, 30), utc(2020, 10, 28, 4)),
        # "(UTC-05:00) Eastern Time (US & Canada)": EDT before 1 November, EST after.
        ("TEST", utc(2020, 10, 28, 17, 30), utc(2020, 10, 28, 19)),
        ("TEST2", utc(2020, 11, 2, 18, 30), utc(2020, 11, 2, 20)),
        ("TEST 3", utc(2020, 11, 2, 18, 30), utc(2020, 11, 2, 20)),
        ("TEST2", utc(2020, 11, 5, 18, 30), utc(2020, 11, 5, 20)),
        ("TEST2", utc(2020, 11, 6, 18, 30), utc(2020, 11, 6, 20)),
    ]
    # No UIDs in this export: stable synthetic ones, one per series.
    again = between("outlook_owa_quoted_windows_tzid.ics", utc(2020, 10, 27), utc(2020, 11, 7))
    assert [o.key for o in again] == [o.key for o in found]
    assert len({o.uid for o in found}) == 4


def test_exchange_all_day_fortnightly_series_with_moved_instances() -> None:
    found = between(
        "exchange_allday_biweekly_windows_tz.ics",
        utc(2020, 4, 1),
        utc(2020, 5, 1),
        default_tz="Europe/London",
    )
    assert [(o.title, o.start, o.recurrence_id) for o in found] == [
        ("Refuse black bin", utc(2020, 4, 1, 23), "2020-04-02"),
        ("Blue Recycle bin", utc(2020, 4, 8, 23), "2020-04-09"),
        # Moved from 16 to 17 April; the override's RECURRENCE-ID is a datetime with the
        # Windows zone "GMT Standard Time" but the series is all-day: its date is used.
        ("Refuse black bin", utc(2020, 4, 16, 23), "2020-04-16"),
        ("Blue Recycle bin", utc(2020, 4, 22, 23), "2020-04-23"),
        ("Refuse black bin", utc(2020, 4, 29, 23), "2020-04-30"),
    ]
    assert all(o.all_day and o.end - o.start == timedelta(days=1) for o in found)
    assert {duration_minutes(o) for o in found} == {None}
    # UNTIL=20200916T230000Z: the last instance is 3 September, moved to the 4th.
    late = between("exchange_allday_biweekly_windows_tz.ics", utc(2020, 9, 1), utc(2020, 10, 1))
    refuse = [o for o in late if o.title == "Refuse black bin"]
    assert [(o.start, o.recurrence_id) for o in refuse] == [(utc(2020, 9, 4), "2020-09-03")]


def test_apple_floating_utc_and_date_only_events() -> None:
    found = between(
        "apple_ical_floating_utc_dateonly.ics",
        utc(2002, 10, 27),
        utc(2002, 10, 30),
        default_tz="Europe/London",
    )
    by_title = {o.title: o for o in found}
    # Floating times are read in the calendar's X-WR-TIMEZONE (US/Pacific, PST).
    assert by_title["No Timezone"].start == utc(2002, 10, 28, 9, 20, 30)
    assert by_title["UTC Timezone"].start == utc(2002, 10, 28, 1, 20, 30)
    assert by_title["Inline Timezone"].start == utc(2002, 10, 28, 6, 20, 30)
    for title in ("Date Only (Explicit)", "Date Only (Implicit)"):
        assert by_title[title].all_day
        assert (by_title[title].start, by_title[title].end) == (
            utc(2002, 10, 28),
            utc(2002, 10, 29),
        )
    assert all(o.recurrence_id == "" for o in found)


@pytest.mark.parametrize(
    ("tzid", "utc_hour"),
    [
        ('"(UTC) Dublin, Edinburgh, Lisbon, London"', 9),  # BST in July
        ('"(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi"', 4.5),
        ('"(UTC-03:00) Brasilia"', 13),
        ('"(UTC-06:00) Central America"', 16),  # no city: the stated offset
        ("GMT Standard Time", 9),  # a Windows zone id
        ("/mozilla.org/20050126_1/Europe/Berlin", 8),
        ("Nowhere/Land", 10),  # unknown: floating, in the reader's zone (UTC)
    ],
)
def test_time_zone_names_without_a_definition(tzid: str, utc_hour: float) -> None:
    local = event("z", "20260701T100000", "20260701T110000")
    local = local.replace("DTSTART:", f"DTSTART;TZID={tzid}:").replace(
        "DTEND:", f"DTEND;TZID={tzid}:"
    )
    [found] = occurrences(calendar(local), start=utc(2026, 7, 1), end=utc(2026, 7, 2))
    assert found.start == utc(2026, 7, 1) + timedelta(hours=utc_hour)


def test_floating_times_without_calendar_zone_use_the_readers_zone() -> None:
    ics = calendar(event("f", "20260301T100000", "20260301T113000"))
    [found] = occurrences(ics, **MARCH_1, default_tz="America/New_York")
    assert (found.start, found.end) == (utc(2026, 3, 1, 15), utc(2026, 3, 1, 16, 30))


def test_google_all_day_instance_moved_over_the_eu_dst_change() -> None:
    found = between(
        "google_allday_moved_over_dst.ics", utc(2024, 10, 26), utc(2024, 11, 1), "Europe/Berlin"
    )
    assert [(o.start, o.end, o.recurrence_id) for o in found] == [
        # 27 October has 25 hours in Berlin.
        (utc(2024, 10, 26, 22), utc(2024, 10, 27, 23), "2024-10-27"),
        (utc(2024, 10, 28, 23), utc(2024, 10, 29, 23), "2024-10-29"),
        (utc(2024, 10, 29, 23), utc(2024, 10, 30, 23), "2024-10-28"),
    ]


def test_exchange_cdo_rule_with_spaces_is_repaired() -> None:
    # RRULE "BYDAY=MO, TU, WE, TH, FR": icalendar keeps it as a broken property and
    # recurring-ical-events cannot expand it. The spaces are removed before parsing.
    reading = read_feed(
        fixture("exchange_cdo_rrule_spaces.ics"), start=utc(2015, 7, 1), end=utc(2015, 8, 1)
    )
    assert reading.skipped == ()
    found = reading.occurrences
    assert len(found) == 14  # weekdays 3 to 22 July
    assert starts(found)[:3] == ["2015-07-03T08:00Z", "2015-07-06T08:00Z", "2015-07-07T08:00Z"]
    assert starts(found)[-1] == "2015-07-22T08:00Z"
    assert {o.end - o.start for o in found} == {timedelta(minutes=30)}


def test_a_series_that_cannot_be_read_is_left_out_and_reported() -> None:
    ics = calendar(
        event("bad", "20260201T100000Z", "20260201T110000Z", "RRULE:FREQ=DAILY;BYDAY=XX\r\n"),
        event("good"),
    )
    reading = read_feed(ics, **MARCH_1)
    assert [o.uid for o in reading.occurrences] == ["good"]
    assert reading.skipped == ("'Event bad' was left out: its repeat rule could not be read.",)


def test_public_google_feed_smoke() -> None:
    begin = time.perf_counter()
    reading = read_feed(
        fixture("google_public_feed_machbar.ics"),
        start=utc(2019, 2, 1),
        end=utc(2019, 3, 1),
        default_tz="Europe/Berlin",
    )
    assert time.perf_counter() - begin < 2
    found = reading.occurrences
    assert len(found) == 20
    assert all(utc(2019, 2, 1) <= o.start < utc(2019, 3, 1) for o in found)
    assert "#TEC - für Jugendliche" in {o.title for o in found}
    # One instance of a fortnightly series moved from the 16th to the 24th.
    moved = [o for o in found if o.recurrence_id == "2019-02-16T10:00:00Z"]
    assert [(o.title, o.start) for o in moved] == [("mB-onTour: repairCafé", utc(2019, 2, 24, 10))]
    assert [o.title for o in found if is_learning(o)] == ["Workshop DiReBio"]


# --------------------------------------------------------------------------------------
# Windows, identity, attendees, text
# --------------------------------------------------------------------------------------


def test_window_is_half_open_and_catches_overlaps() -> None:
    ics = calendar(
        event("before", "20260228T090000Z", "20260301T000000Z"),
        event("overlap", "20260228T230000Z", "20260301T010000Z"),
        event("instant", "20260301T000000Z", "20260301T000000Z"),
        event("inside", "20260301T120000Z", "20260301T130000Z"),
        event("at-end", "20260302T000000Z", "20260302T010000Z"),
    )
    assert [o.uid for o in occurrences(ics, **MARCH_1)] == ["overlap", "instant", "inside"]


def test_moving_an_instance_keeps_its_key() -> None:
    rule = "RRULE:FREQ=WEEKLY;COUNT=4\r\n"
    master = event("weekly", "20260222T100000Z", "20260222T110000Z", rule)
    moved = event(
        "weekly", "20260301T150000Z", "20260301T160000Z", "RECURRENCE-ID:20260301T100000Z\r\n"
    )
    [before] = occurrences(calendar(master), **MARCH_1)
    [after] = occurrences(calendar(master, moved), **MARCH_1)
    assert before.key == after.key == ("weekly", "2026-03-01T10:00:00Z")
    assert (before.start, after.start) == (utc(2026, 3, 1, 10), utc(2026, 3, 1, 15))


def test_this_and_future_and_period_rdates() -> None:
    ics = calendar(
        event("w", "20260302T100000Z", "20260302T110000Z", "RRULE:FREQ=WEEKLY;COUNT=4\r\n"),
        event(
            "w",
            "20260316T140000Z",
            "20260316T150000Z",
            "RECURRENCE-ID;RANGE=THISANDFUTURE:20260316T100000Z\r\n",
            summary="Later",
        ),
        event(
            "p",
            "20260301T080000Z",
            "20260301T090000Z",
            "RDATE;VALUE=PERIOD:20260305T120000Z/PT2H,20260306T120000Z/20260306T123000Z\r\n",
        ),
    )
    found = occurrences(ics, start=utc(2026, 3, 1), end=utc(2026, 4, 1))
    weekly = [(o.title, o.start.hour, o.recurrence_id) for o in found if o.uid == "w"]
    # Every instance from the 16th on is moved to 14:00 and keeps its own original start.
    assert weekly == [
        ("Event w", 10, "2026-03-02T10:00:00Z"),
        ("Event w", 10, "2026-03-09T10:00:00Z"),
        ("Later", 14, "2026-03-16T10:00:00Z"),
        ("Later", 14, "2026-03-23T10:00:00Z"),
    ]
    periods = [(o.start, o.end) for o in found if o.uid == "p"]
    assert periods == [
        (utc(2026, 3, 1, 8), utc(2026, 3, 1, 9)),
        (utc(2026, 3, 5, 12), utc(2026, 3, 5, 14)),
        (utc(2026, 3, 6, 12), utc(2026, 3, 6, 12, 30)),
    ]


def test_stray_lines_and_duplicate_properties_are_tolerated() -> None:
    ics = calendar(
        event("a", extra="this line is not a property\r\nDTSTART:20260301T150000Z\r\n"),
        head="garbage without a colon\r\n",
    )
    [found] = occurrences(ics, **MARCH_1)
    assert found.start == utc(2026, 3, 1, 10)  # the first DTSTART


def test_mutated_fixtures_raise_nothing_but_feed_errors() -> None:
    """A seeded fuzz: damaged real files either read or fail with a FeedError."""
    rng = random.Random(20260301)
    sources = [p.read_bytes() for p in sorted(ICS.glob("*.ics")) if "machbar" not in p.name]
    pieces = [
        b":",
        b";",
        b'"',
        b"=",
        b",",
        b"\\",
        b"\r\n",
        b"\r\n ",
        b"T",
        b"0",
        b"-",
        b"\xff",
        b"BEGIN:VEVENT\r\n",
        b"END:VEVENT\r\n",
        b"TZID=",
        b"VALUE=DATE",
        b"RRULE:FREQ=DAILY;BYDAY=1MO\r\n",
        b"RECURRENCE-ID:20200101\r\n",
        b"DURATION:P99999999999D\r\n",
        b"EXDATE:2020\r\n",
        b"DTSTART:20200230T000000\r\n",
    ]
    outcomes = {"read": 0, "refused": 0}
    for _ in range(150):
        data = bytearray(rng.choice(sources))
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(len(data) + 1)
            if rng.random() < 0.5:
                data[at:at] = rng.choice(pieces)
            else:
                del data[at : at + rng.randint(1, 20)]
        try:
            read_feed(
                bytes(data), start=utc(2019, 1, 1), end=utc(2021, 1, 1), default_tz="Europe/London"
            )
            outcomes["read"] += 1
        except FeedError:
            outcomes["refused"] += 1
    assert outcomes["read"] > 50 and outcomes["refused"] > 5


def test_declined_only_for_the_owners_own_answer() -> None:
    def attendee(email: str, status: str) -> str:
        return f"ATTENDEE;CN=Someone;PARTSTAT={status}:mailto:{email}\r\n"

    ics = calendar(
        event(
            "mine", extra=attendee("Me@Example.com", "DECLINED") + attendee("b@x.org", "ACCEPTED")
        ),
        event(
            "theirs", extra=attendee("me@example.com", "ACCEPTED") + attendee("b@x.org", "DECLINED")
        ),
        event("param", extra='ATTENDEE;PARTSTAT=DECLINED;EMAIL="me@example.com":urn:uuid:1\r\n'),
    )
    found = occurrences(ics, **MARCH_1, owner_emails=["ME@example.com"])
    assert {o.uid: o.declined for o in found} == {"mine": True, "theirs": False, "param": True}
    assert not any(o.declined for o in occurrences(ics, **MARCH_1))


def test_descriptions_become_plain_bounded_text() -> None:
    html = (
        'DESCRIPTION:<b>Join</b> the <a href="https://x.example">webinar</a><br>Line 2 &amp; '
        "more<script>alert(1)</script>\r\n"
    )
    meet = (
        "DESCRIPTION:Agenda: a < b\\, c > d\\n\\n-::~:~::~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~\\n"
        "Join with Google Meet: https://meet.google.com/abc\\n-::~:~::~:~:~:~\r\n"
    )
    long = "DESCRIPTION:" + "word " * 2000 + "\r\n"
    found = {
        o.uid: o
        for o in occurrences(
            calendar(
                event("html", extra=html), event("meet", extra=meet), event("long", extra=long)
            ),
            **MARCH_1,
        )
    }
    assert found["html"].description == "Join the webinar\nLine 2 & more"
    assert found["meet"].description == "Agenda: a < b, c > d"
    assert len(found["long"].description) == 2000
    assert found["long"].description.endswith("…")


def test_window_and_zone_are_checked() -> None:
    ics = calendar(event("a"))
    with pytest.raises(ValueError, match="aware"):
        occurrences(ics, start=datetime(2026, 3, 1), end=utc(2026, 3, 2))
    with pytest.raises(ValueError, match="time zone"):
        occurrences(ics, **MARCH_1, default_tz="Mars/Olympus_Mons")


# --------------------------------------------------------------------------------------
# Malformed and hostile input
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ics", "message"),
    [
        (b"", "not a calendar"),
        (b"<!doctype html><html><body>Sign in</body></html>", "not a calendar"),
        (bytes(range(256)) * 50, "not a calendar"),
        (b"BEGIN:VCARD\r\nFN:x\r\nEND:VCARD\r\n", "not a calendar"),
        (calendar(event("a"))[:-20], "could not be read"),
        (calendar(event("a"))[:-17], "incomplete"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VTODO\r\nEND:VCALENDAR\r\n", "could not be read"),
        (
            b"BEGIN:VCALENDAR\r\n"
            + b"BEGIN:X\r\n" * 50_000
            + b"END:X\r\n" * 50_000
            + b"END:VCALENDAR\r\n",
            "nested",
        ),
    ],
    ids=["empty", "html", "binary", "vcard", "cut-mid-line", "cut-at-end", "mismatched", "deep"],
)
def test_malformed_input_is_a_feed_error(ics: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        occurrences(ics, **MARCH_1)


def test_hostile_repeat_rules_are_left_out_quickly() -> None:
    never = "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30\r\n"  # dateutil would walk to 9999
    ics = calendar(
        *[event(f"never{i}", "19000101T100000Z", "19000101T110000Z", never) for i in range(30)],
        event("secondly", "19700101T000000Z", "19700101T000001Z", "RRULE:FREQ=SECONDLY\r\n"),
        event("ancient", "00010101T100000Z", "00010101T110000Z", "RRULE:FREQ=DAILY\r\n"),
        event(
            "grid",
            "20200101T000000Z",
            "20200101T000001Z",
            "RRULE:FREQ=DAILY;BYHOUR=" + ",".join(map(str, range(24))) + ";BYMINUTE=0,30\r\n",
        ),
        event("ok"),
    )
    begin = time.perf_counter()
    reading = read_feed(ics, **MARCH_1)
    assert time.perf_counter() - begin < 3
    assert [o.uid for o in reading.occurrences] == ["ok"]
    assert len(reading.skipped) == 10  # nine notes and a count of the rest
    assert (
        reading.skipped[0] == "'Event never0' was left out: its repeat rule never produces a date."
    )
    assert reading.skipped[-1] == "24 more events were left out."


def test_hostile_vtimezone_is_ignored_and_its_events_still_read() -> None:
    evil = (
        "BEGIN:VTIMEZONE\r\nTZID:Evil\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n"
        "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=SECONDLY\r\nEND:STANDARD\r\n"
        "END:VTIMEZONE\r\n"
    )
    uses_evil = (
        event("e", "20260301T100000", "20260301T110000")
        .replace("DTSTART:", "DTSTART;TZID=Evil:")
        .replace("DTEND:", "DTEND;TZID=Evil:")
    )
    begin = time.perf_counter()
    [found] = occurrences(calendar(uses_evil, head=evil), **MARCH_1)
    assert time.perf_counter() - begin < 2
    assert found.start == utc(2026, 3, 1, 10)  # read as floating, in the reader's zone (UTC)


def test_one_feeds_time_zone_definition_never_leaks_into_another() -> None:
    # icalendar caches custom VTIMEZONEs process-wide by TZID, first definition wins.
    def feed(offset: str) -> bytes:
        zone = (
            "BEGIN:VTIMEZONE\r\nTZID:Custom Zone\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
            f"TZOFFSETFROM:{offset}\r\nTZOFFSETTO:{offset}\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
        )
        custom = (
            event("c", "20260301T100000", "20260301T110000")
            .replace("DTSTART:", "DTSTART;TZID=Custom Zone:")
            .replace("DTEND:", "DTEND;TZID=Custom Zone:")
        )
        return calendar(custom, head=zone)

    [first] = occurrences(feed("+0500"), **MARCH_1)
    [second] = occurrences(feed("+0100"), **MARCH_1)
    assert (first.start, second.start) == (utc(2026, 3, 1, 5), utc(2026, 3, 1, 9))


def test_event_and_occurrence_caps() -> None:
    many = calendar(*[event(f"m{i}") for i in range(51)])
    with pytest.raises(FeedError, match="too many events to read"):
        read_feed(many, **MARCH_1, max_events=50)
    # Events far from the window are not counted (nor parsed).
    old = calendar(*[event(f"o{i}", "20100101T100000Z", "20100101T110000Z") for i in range(500)])
    assert read_feed(old, **MARCH_1, max_events=50).occurrences == ()
    daily = calendar(event("d", "20260101T100000Z", "20260101T110000Z", "RRULE:FREQ=DAILY\r\n"))
    with pytest.raises(FeedError, match="too many events in the period"):
        read_feed(daily, start=utc(2026, 3, 1), end=utc(2026, 3, 11), max_occurrences=5)
    with pytest.raises(FeedError, match="too complex"):
        read_feed(daily, **MARCH_1, time_limit=0)


# --------------------------------------------------------------------------------------
# Learning keywords and durations
# --------------------------------------------------------------------------------------


def occ(title: str, description: str = "", minutes: int = 60, all_day: bool = False) -> Occurrence:
    start = utc(2026, 3, 1, 10)
    return Occurrence(
        "u",
        "",
        title,
        description,
        start,
        start + timedelta(minutes=minutes),
        all_day,
        False,
        False,
    )


@pytest.mark.parametrize(
    "title",
    [
        "IET webinar: AI safety",
        "WORKSHOP on arc-flash",
        "Two short courses",
        "Masterclasses in Python",
        "Pre-training briefing",
        "Journal club",
        "Lunch & Learn: Kubernetes",
        "CPD-accredited session",
        "Workshop für Führungskräfte",
        "Team sync #CPD",
    ],
)
def test_learning_titles(title: str) -> None:
    assert is_learning(occ(title))


@pytest.mark.parametrize(
    "title",
    [
        "Weekly 1:1",
        "Coursera account admin",
        "Seminary visit",
        "Retrospective",
        "Course of action review",
        "Golf course day",
        "Of course we meet",
        "Talk with John",
    ],
)
def test_not_learning_titles(title: str) -> None:
    assert not is_learning(occ(title))


def test_keywords_in_descriptions_and_custom_lists() -> None:
    assert is_learning(occ("Friday session", "A seminar on welding codes"))
    assert is_learning(occ("Friday session", "Remember to log it #cpd"))
    custom = ["reading group"]
    assert is_learning(occ("Reading  Group: DDIA ch. 3"), custom)
    assert not is_learning(occ("Reading the group mails"), custom)
    assert not is_learning(occ("IET webinar"), custom)
    assert is_learning(occ("Anything #cpd"), [])
    assert "webinar" in DEFAULT_KEYWORDS and "#cpd" not in DEFAULT_KEYWORDS


def test_duration_minutes() -> None:
    assert duration_minutes(occ("x", minutes=90)) == 90
    assert duration_minutes(occ("x", minutes=24 * 60)) == 24 * 60
    assert duration_minutes(occ("x", minutes=24 * 60 + 1)) is None
    assert duration_minutes(occ("x", minutes=0)) is None
    assert duration_minutes(occ("x", minutes=24 * 60, all_day=True)) is None


# --------------------------------------------------------------------------------------
# URL validation and address checks
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        (
            "webcal://calendar.google.com/calendar/ical/a%40group.calendar.google.com/private-x/basic.ics",
            "https://calendar.google.com/calendar/ical/a%40group.calendar.google.com/private-x/basic.ics",
        ),
        (
            "  HTTPS://Outlook.Office365.com/owa/calendar/a@b.com/c/calendar.ics#frag ",
            "https://outlook.office365.com/owa/calendar/a@b.com/c/calendar.ics",
        ),
        ("https://example.com:443/a.ics?x=1", "https://example.com/a.ics?x=1"),
        ("http://example.com:8080/a.ics", "http://example.com:8080/a.ics"),
        ("https://Bücher.example/cal.ics", "https://xn--bcher-kva.example/cal.ics"),
        ("https://8.8.8.8/cal.ics", "https://8.8.8.8/cal.ics"),
        ("https://[2606:4700::1111]/cal.ics", "https://[2606:4700::1111]/cal.ics"),
    ],
)
def test_valid_urls_are_normalised(url: str, normalised: str) -> None:
    assert validate_feed_url(url) == normalised


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "give the calendar's address"),
        ("ftp://example.com/cal.ics", "Only web addresses"),
        ("javascript:alert(1)", "Only web addresses"),
        ("file:///etc/passwd", "Only web addresses"),
        ("example.com/cal.ics", "Only web addresses"),
        ("https:example.com/cal.ics", "not a complete web address"),
        ("https:///cal.ics", "no host name"),
        ("https://", "no host name"),
        ("https://exa mple.com/cal.ics", "spaces"),
        ("https://example.com/my cal.ics", "spaces"),
        ("https://example.com/\ncal.ics", "spaces"),
        ("https://example.com/" + "a" * MAX_URL_LENGTH, "too long"),
        ("https://user:secret@example.com/cal.ics", "user name or password"),
        ("https://user@example.com/cal.ics", "user name or password"),
        ("https://example.com:99999/cal.ics", "invalid port"),
        ("http://127.1/cal.ics", "valid host name"),
        ("http://2130706433/cal.ics", "valid host name"),
        ("http://0x7f000001/cal.ics", "valid host name"),
        ("http://exa!mple.com/cal.ics", "not a valid web address|valid host name"),
        ("http://intranet/cal.ics", "full address"),
        ("http://localhost/cal.ics", "not public"),
        ("http://printer.local/cal.ics", "not public"),
        ("http://10.0.0.1/cal.ics", "not public"),
        ("http://169.254.169.254/latest/meta-data/", "not public"),
        ("http://[::1]/cal.ics", "not public"),
        ("http://[::ffff:10.0.0.1]/cal.ics", "not public"),
        ("http://0.0.0.0/cal.ics", "not public"),
        ("https://xn--a.com/x.ics", "valid host name"),  # invalid punycode
    ],
)
def test_invalid_urls_are_refused_with_a_reason(url: str, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        validate_feed_url(url)


def test_private_networks_allowed_by_the_operator() -> None:
    assert (
        validate_feed_url("http://intranet/cal.ics", allow_private=True)
        == "http://intranet/cal.ics"
    )
    assert validate_feed_url("http://10.0.0.1/c.ics", allow_private=True) == "http://10.0.0.1/c.ics"
    assert (
        validate_feed_url("http://localhost:8080/c", allow_private=True)
        == "http://localhost:8080/c"
    )
    with pytest.raises(FeedError):
        validate_feed_url("ftp://10.0.0.1/c.ics", allow_private=True)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("255.255.255.255", False),
        ("240.0.0.1", False),
        ("192.0.2.1", False),
        ("::1", False),
        ("::", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("fec0::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        ("2002:7f00:1::1", False),  # 6to4 wrapping 127.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 wrapping 10.0.0.1
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
        ("not an address", False),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(address) is public


async def test_resolution_checks_every_address() -> None:
    assert not await resolve_is_public("localhost")
    assert await resolve_is_public("cal.example.org", resolver=FakeResolver([PUBLIC_IP]))
    assert not await resolve_is_public(
        "cal.example.org", resolver=FakeResolver([PUBLIC_IP, "10.0.0.7"])
    )
    assert not await resolve_is_public("cal.example.org", resolver=FakeResolver([]))


# --------------------------------------------------------------------------------------
# Fetching from a feed served on 127.0.0.1
# --------------------------------------------------------------------------------------

FEED = calendar(event("served", summary="Served webinar"))
ETAG = '"v1"'
LAST_MODIFIED = "Sun, 01 Mar 2026 09:00:00 GMT"
BIG = 50_000_000
CHUNK = 64 * 1024


@dataclass
class FeedServer:
    port: int
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    big_sent: int = 0
    big_done: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    @property
    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


def _handler(server: FeedServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def reply(self, status: int, body: bytes = b"", **headers: str) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def stream_big(self, declare: bool) -> None:
            self.send_response(200)
            if declare:
                self.send_header("Content-Length", str(BIG))
            self.end_headers()
            block = b"X" * CHUNK
            try:
                while server.big_sent < BIG:
                    self.wfile.write(block)
                    server.big_sent += len(block)
            except OSError:
                pass
            finally:
                server.big_done.set()

        def do_GET(self) -> None:
            server.requests.append((self.path, dict(self.headers.items())))
            if self.path == "/feed.ics":
                if self.headers.get("If-None-Match") == ETAG:
                    self.reply(304, ETag=ETAG)
                else:
                    self.reply(200, FEED, ETag=ETAG, Last_Modified=LAST_MODIFIED)
            elif self.path == "/lm.ics":
                if self.headers.get("If-Modified-Since") == LAST_MODIFIED:
                    self.reply(304)
                else:
                    self.reply(200, FEED, Last_Modified=LAST_MODIFIED)
            elif self.path == "/gzip.ics":
                self.reply(200, gzip.compress(FEED), Content_Encoding="gzip")
            elif self.path == "/bomb.ics":
                self.reply(200, gzip.compress(b"\0" * BIG), Content_Encoding="gzip")
            elif self.path == "/error":
                self.reply(500, b"oops")
            elif self.path == "/gone":
                self.reply(404, b"no")
            elif self.path == "/big":
                self.stream_big(declare=False)
            elif self.path == "/big-declared":
                self.stream_big(declare=True)
            elif self.path == "/redirect":
                self.reply(302, Location="/feed.ics")
            elif self.path == "/loop":
                self.reply(302, Location="/loop")
            elif self.path == "/to-private":
                self.reply(302, Location=server.url("/feed.ics"))
            elif self.path == "/malformed.ics":
                self.reply(200, b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:2026")
            else:
                self.reply(404)

    return Handler


@pytest.fixture(scope="module")
def httpd() -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def feed_server(httpd: http.server.ThreadingHTTPServer) -> FeedServer:
    """The module's server on 127.0.0.1, with a fresh record of what it was asked."""
    state = FeedServer(httpd.server_address[1])
    httpd.RequestHandlerClass = _handler(state)
    return state


class FakeResolver:
    """Answers with fixed addresses; records the names asked."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


class Router(httpx.AsyncBaseTransport):
    """Real HTTP, except that PUBLIC_IP is served by the local test server."""

    def __init__(self, port: int) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.port = port
        self.hosts: list[str] = []
        self.bytes_read = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.hosts.append(request.url.host)
        if request.url.host == PUBLIC_IP:
            request.url = request.url.copy_with(host="127.0.0.1", port=self.port)
        response = await self.inner.handle_async_request(request)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=Counted(self, response.stream),  # type: ignore[arg-type]
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


class Counted(httpx.AsyncByteStream):
    def __init__(self, router: Router, stream: httpx.AsyncByteStream) -> None:
        self.router = router
        self.stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.stream:
            self.router.bytes_read += len(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self.stream.aclose()


@pytest.fixture
async def router(feed_server: FeedServer) -> AsyncIterator[tuple[Router, httpx.AsyncClient]]:
    transport = Router(feed_server.port)
    async with httpx.AsyncClient(transport=transport) as client:
        yield transport, client


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with new_client() as c:
        yield c


async def test_etag_then_304(feed_server: FeedServer, client: httpx.AsyncClient) -> None:
    url = feed_server.url("/feed.ics")
    first = await fetch_feed(url, client=client, allow_private=True)
    assert first == FetchResult("ok", FEED, ETAG, LAST_MODIFIED)
    again = await fetch_feed(url, client=client, allow_private=True, etag=first.etag)
    assert again == FetchResult("not_modified", None, ETAG, None)
    assert feed_server.requests[1][1]["If-None-Match"] == ETAG
    [found] = occurrences(first.body or b"", **MARCH_1)
    assert found.title == "Served webinar" and is_learning(found)


async def test_last_modified_then_304(feed_server: FeedServer, client: httpx.AsyncClient) -> None:
    url = feed_server.url("/lm.ics")
    first = await fetch_feed(url, client=client, allow_private=True)
    assert (first.status, first.etag, first.last_modified) == ("ok", None, LAST_MODIFIED)
    again = await fetch_feed(url, client=client, allow_private=True, last_modified=LAST_MODIFIED)
    assert again == FetchResult("not_modified", None, None, LAST_MODIFIED)


async def test_gzip_is_decoded(feed_server: FeedServer, client: httpx.AsyncClient) -> None:
    result = await fetch_feed(feed_server.url("/gzip.ics"), client=client, allow_private=True)
    assert result.body == FEED
    assert feed_server.requests[0][1]["Accept-Encoding"] == "gzip"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/error", "The calendar server answered 500"),
        ("/gone", "no calendar at that address \\(404\\)"),
    ],
)
async def test_http_errors(
    feed_server: FeedServer, client: httpx.AsyncClient, path: str, message: str
) -> None:
    with pytest.raises(FeedError, match=message):
        await fetch_feed(feed_server.url(path), client=client, allow_private=True)


async def test_a_server_that_never_answers_times_out(client: httpx.AsyncClient) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections complete in the backlog and are never served
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/feed.ics"
        begin = time.perf_counter()
        with pytest.raises(FeedError, match=r"did not answer within 0\.5 s"):
            await fetch_feed(url, client=client, allow_private=True, timeout=0.5)
        assert time.perf_counter() - begin < 3


async def test_nothing_listening_is_a_connection_error(client: httpx.AsyncClient) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(FeedError, match=r"Could not connect to the calendar server 127\.0\.0\.1"):
        await fetch_feed(f"http://127.0.0.1:{port}/", client=client, allow_private=True)


@pytest.mark.parametrize("path", ["/big", "/big-declared", "/bomb.ics"])
async def test_a_50_mb_body_is_refused_without_reading_it(
    feed_server: FeedServer, router: tuple[Router, httpx.AsyncClient], path: str
) -> None:
    transport, client = router
    cap = 1_000_000
    with pytest.raises(FeedError, match="too large \\(more than 1 MB\\)"):
        await fetch_feed(feed_server.url(path), client=client, allow_private=True, max_bytes=cap)
    assert transport.bytes_read <= cap + 2 * CHUNK
    if path != "/bomb.ics":
        assert feed_server.big_done.wait(10)
        assert feed_server.big_sent < BIG / 2


async def test_malformed_feed_fetches_but_does_not_parse(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    result = await fetch_feed(feed_server.url("/malformed.ics"), client=client, allow_private=True)
    with pytest.raises(FeedError, match="incomplete"):
        occurrences(result.body or b"", **MARCH_1)


async def test_redirects_are_followed_and_bounded(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    result = await fetch_feed(feed_server.url("/redirect"), client=client, allow_private=True)
    assert result.body == FEED
    assert feed_server.paths == ["/redirect", "/feed.ics"]
    with pytest.raises(FeedError, match="redirects too many times"):
        await fetch_feed(feed_server.url("/loop"), client=client, allow_private=True)
    assert feed_server.paths[2:] == ["/loop"] * (MAX_REDIRECTS + 1)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/feed.ics",
        "http://localhost:{port}/feed.ics",
        "http://[::1]:{port}/feed.ics",
        "http://[::ffff:127.0.0.1]:{port}/feed.ics",
        "http://10.0.0.1/feed.ics",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
async def test_private_addresses_are_refused_before_any_request(
    feed_server: FeedServer, client: httpx.AsyncClient, url: str
) -> None:
    with pytest.raises(FeedError, match="not public"):
        await fetch_feed(url.format(port=feed_server.port), client=client, timeout=2)
    assert feed_server.requests == []


async def test_private_addresses_are_allowed_when_configured(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    for host in ("127.0.0.1", "localhost"):
        result = await fetch_feed(
            feed_server.url("/feed.ics", host), client=client, allow_private=True
        )
        assert result.body == FEED
    assert feed_server.paths == ["/feed.ics", "/feed.ics"]


async def test_a_name_resolving_to_a_private_address_is_refused(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    for answer in (["127.0.0.1"], [PUBLIC_IP, "10.0.0.7"], ["::1"]):
        with pytest.raises(FeedError, match="not public"):
            await fetch_feed(
                feed_server.url("/feed.ics", "cal.example.org"),
                client=client,
                resolver=FakeResolver(answer),
            )
    assert feed_server.requests == []


async def test_unknown_host_name(client: httpx.AsyncClient) -> None:
    with pytest.raises(FeedError, match=r"cal\.example\.org could not be found"):
        await fetch_feed("https://cal.example.org/x.ics", client=client, resolver=FakeResolver([]))


async def test_the_request_goes_to_the_vetted_address(
    feed_server: FeedServer, router: tuple[Router, httpx.AsyncClient]
) -> None:
    transport, client = router
    # A rebinding resolver: public on the first answer, loopback afterwards.
    resolver = FakeResolver([PUBLIC_IP], ["127.0.0.1"])
    result = await fetch_feed(
        feed_server.url("/feed.ics", "cal.example.org"), client=client, resolver=resolver
    )
    assert result.body == FEED
    assert resolver.calls == ["cal.example.org"]  # resolved once, never again
    assert transport.hosts == [PUBLIC_IP]
    assert feed_server.requests[0][1]["Host"] == f"cal.example.org:{feed_server.port}"


async def test_a_redirect_to_a_private_address_is_refused(
    feed_server: FeedServer, router: tuple[Router, httpx.AsyncClient]
) -> None:
    _, client = router
    with pytest.raises(
        FeedError, match=r"redirected to an address that cannot be used.*not public"
    ):
        await fetch_feed(
            feed_server.url("/to-private", "cal.example.org"),
            client=client,
            resolver=FakeResolver([PUBLIC_IP]),
        )
    assert feed_server.paths == ["/to-private"]  # the private target was never asked


async def test_https_keeps_the_name_for_sni_and_host() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "2606:2800:220:1::1":
            raise httpx.ConnectError("unreachable", request=request)
        if request.url.path == "/old.ics":
            return httpx.Response(301, headers={"Location": "/new.ics"})
        if request.url.path == "/insecure.ics":
            return httpx.Response(302, headers={"Location": "http://cal.example.org/x.ics"})
        return httpx.Response(200, content=FEED, headers={"ETag": ETAG})

    resolver = FakeResolver(["2606:2800:220:1::1", PUBLIC_IP])
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        result = await fetch_feed(
            "webcal://cal.example.org/old.ics", client=client, resolver=resolver
        )
        assert (result.status, result.body, result.etag) == ("ok", FEED, ETAG)
        # IPv6 first (unreachable), then the IPv4 address; the redirect is resolved again.
        assert [str(r.url) for r in seen] == [
            "https://[2606:2800:220:1::1]/old.ics",
            f"https://{PUBLIC_IP}/old.ics",
            "https://[2606:2800:220:1::1]/new.ics",
            f"https://{PUBLIC_IP}/new.ics",
        ]
        assert {r.headers["Host"] for r in seen} == {"cal.example.org"}
        assert {r.extensions["sni_hostname"] for r in seen} == {"cal.example.org"}
        with pytest.raises(FeedError, match="insecure"):
            await fetch_feed(
                "https://cal.example.org/insecure.ics", client=client, resolver=resolver
            )


# --------------------------------------------------------------------------------------
# Hostile feeds (issue 12): invalid rules, budgets inside a series, unsafe text
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "note"),
    [
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL must be a whole number of at least 1"),
        ("FREQ=WEEKLY;INTERVAL=0;BYDAY=MO,TU", "INTERVAL must be a whole number of at least 1"),
        ("FREQ=DAILY;INTERVAL=-1", "INTERVAL must be a whole number of at least 1"),
        ("FREQ=DAILY;COUNT=0", "COUNT must be a whole number of at least 1"),
        ("FREQ=DAILY;COUNT=-3", "COUNT must be a whole number of at least 1"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY must be from 1 to 31 or -31 to -1"),
        ("FREQ=DAILY;BYHOUR=25", "BYHOUR must be from 0 to 23"),
        ("FREQ=YEARLY;BYSETPOS=0;BYMONTH=1", "BYSETPOS must be from 1 to 366 or -366 to -1"),
        ("FREQ=DAILY;INTERVAL=abc", "could not be read"),
    ],
)
def test_invalid_repeat_rules_are_refused_up_front_with_a_note(rule: str, note: str) -> None:
    ics = calendar(
        event("bad", "20260101T100000Z", "20260101T110000Z", f"RRULE:{rule}\r\n"),
        event("good"),
    )
    begin = time.perf_counter()
    reading = read_feed(ics, **MARCH_1)
    assert time.perf_counter() - begin < 2
    assert [o.uid for o in reading.occurrences] == ["good"]
    (skipped,) = reading.skipped
    assert skipped.startswith("'Event bad' was left out: its repeat rule ")
    assert note in skipped


class SteppingClock:
    """A monotonic clock that moves `step` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.step = step
        self.now = 1000.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        self.now += self.step
        return self.now


def test_a_long_series_is_stopped_by_the_budget_inside_the_series() -> None:
    # Valid and within the step estimate (a daily series from 1900), but every walk of it
    # produces 46,000 dates before the window: the budget is checked while it walks.
    ics = calendar(event("long", "19000101T100000Z", "19000101T110000Z", "RRULE:FREQ=DAILY\r\n"))
    clock = SteppingClock(1.0)
    with pytest.raises(FeedError, match="too complex to read in time"):
        read_feed(ics, **MARCH_1, time_limit=10, clock=clock)
    # Stopped as soon as the budget was spent, not after the series.
    assert clock.reads <= 10 + 2


def test_a_rule_that_slips_past_the_checks_is_cut_off_inside_its_series(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Should the up-front checks ever miss a rule (here: no checks at all), the walk of one
    # series is still capped by count: INTERVAL=0 repeats 1 January forever.
    monkeypatch.setattr("bot.services.calendar.expand._check_rules", lambda event, end: None)
    ics = calendar(
        event("zero", "20260101T100000Z", "20260101T110000Z", "RRULE:FREQ=DAILY;INTERVAL=0\r\n"),
        event("good"),
    )
    begin = time.perf_counter()
    reading = read_feed(ics, **MARCH_1)
    assert time.perf_counter() - begin < 5
    assert [o.uid for o in reading.occurrences] == ["good"]
    assert reading.skipped == ("'Event zero' was left out: it produces too many dates to follow.",)


def test_control_bidi_and_zero_width_characters_never_leave_the_reader() -> None:
    ics = calendar(
        event(
            "a\x00b\u200bc",
            summary="Work\x00shop\u202e on\x1b[31m safety\u200d",
            extra="DESCRIPTION:Line one\x07\\nLine\u2066 two\x00\r\n",
        )
    )
    (found,) = read_feed(ics, **MARCH_1).occurrences
    assert found.title == "Workshop on safety"  # the colour code goes whole
    assert found.description == "Line one\nLine two"
    assert found.uid == "abc"


def test_a_time_zone_whose_rule_has_interval_zero_is_ignored() -> None:
    # Its offsets were looked up by walking INTERVAL=0 from 1601: for ever.
    evil = (
        "BEGIN:VTIMEZONE\r\nTZID:Evil\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\n"
        "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n"
        "RRULE:FREQ=YEARLY;INTERVAL=0;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"
        "BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\n"
        "TZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
        "END:VTIMEZONE\r\n"
    )
    uses_evil = (
        event("e", "20260301T100000", "20260301T110000")
        .replace("DTSTART:", "DTSTART;TZID=Evil:")
        .replace("DTEND:", "DTEND;TZID=Evil:")
    )
    begin = time.perf_counter()
    [found] = occurrences(calendar(uses_evil, head=evil), **MARCH_1)
    assert time.perf_counter() - begin < 2
    assert found.start == utc(2026, 3, 1, 10)  # read as floating, in the reader's zone (UTC)

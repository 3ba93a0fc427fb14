"""Calendars from the wild (issue 13): one bad line or component costs that component at
most, never the feed."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.services.calendar import FeedReading, read_feed

MARCH = {"start": datetime(2026, 3, 1, tzinfo=UTC), "end": datetime(2026, 3, 31, tzinfo=UTC)}


def event(uid: str, start: str, end: str, extra: str = "") -> str:
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART{start}\r\n"
        f"DTEND{end}\r\nSUMMARY:Talk {uid}\r\n{extra}END:VEVENT\r\n"
    )


def calendar(*parts: str, before: str = "") -> bytes:
    body = "".join(parts)
    return (before + "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\n" + body).encode() + (
        b"END:VCALENDAR\r\n"
    )


PLAIN = event("plain", ":20260311T100000Z", ":20260311T110000Z")


def read(ics: bytes) -> FeedReading:
    return read_feed(ics, start=MARCH["start"], end=MARCH["end"])


def seen(reading: FeedReading) -> list[tuple[str, str]]:
    return [(o.title, o.start.strftime("%d %H:%MZ")) for o in reading.occurrences]


def test_an_alarm_with_a_negative_related_trigger_does_not_cost_the_feed() -> None:
    alarm = "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER;RELATED=START:PT-2H\r\nEND:VALARM\r\n"
    ics = calendar(event("alarm", ":20260310T100000Z", ":20260310T110000Z", alarm), PLAIN)
    assert seen(read(ics)) == [("Talk alarm", "10 10:00Z"), ("Talk plain", "11 10:00Z")]


def test_a_time_zone_with_an_impossible_offset_costs_only_its_definition() -> None:
    zone = (
        "BEGIN:VTIMEZONE\r\nTZID:Odd\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
        "TZOFFSETFROM:+5328\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    )
    ics = calendar(
        zone, event("odd", ";TZID=Odd:20260310T100000", ";TZID=Odd:20260310T110000"), PLAIN
    )
    assert [title for title, _ in seen(read(ics))] == ["Talk odd", "Talk plain"]


def test_a_time_zone_with_two_tzid_lines_is_read_by_its_first() -> None:
    zone = (
        "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nTZID:Europe/Paris\r\n"
        "BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
        "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n"
        "BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
        "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
    )
    berlin = event(
        "berlin", ";TZID=Europe/Berlin:20260310T100000", ";TZID=Europe/Berlin:20260310T110000"
    )
    assert seen(read(calendar(zone, berlin, PLAIN))) == [
        ("Talk berlin", "10 09:00Z"),
        ("Talk plain", "11 10:00Z"),
    ]


def test_spaces_and_blank_lines_before_the_calendar_are_ignored() -> None:
    ics = calendar(PLAIN, before="  \r\n\r\n   ")
    assert seen(read(ics)) == [("Talk plain", "11 10:00Z")]


def test_empty_rrule_lines_leave_single_events() -> None:
    """A holiday calendar writes ``RRULE:`` on every event: each is a one-off, not unreadable."""
    holidays = [
        event(
            f"day{day}",
            f";VALUE=DATE:202603{day:02}",
            f";VALUE=DATE:202603{day + 1:02}",
            "RRULE:\r\n",
        )
        for day in (2, 9, 17)
    ]
    reading = read(calendar(*holidays))
    assert seen(reading) == [
        ("Talk day2", "02 00:00Z"),
        ("Talk day9", "09 00:00Z"),
        ("Talk day17", "17 00:00Z"),
    ]
    assert reading.skipped == ()


def test_outlook_display_name_with_and_is_new_york_not_a_fixed_offset() -> None:
    tzid = '"(UTC-05:00) Eastern Time (US and Canada)"'
    ics = calendar(event("ny", f";TZID={tzid}:20260320T100000", f";TZID={tzid}:20260320T110000"))
    assert seen(read(ics)) == [("Talk ny", "20 14:00Z")]  # daylight time: UTC-4


def test_an_unreadable_event_is_left_out_and_named_the_rest_are_kept() -> None:
    broken = "BEGIN:X-THING\r\nTRIGGER:PT-2H\r\nEND:X-THING\r\n"
    events = [
        event(f"e{day}", f":202603{day:02}T100000Z", f":202603{day:02}T110000Z")
        for day in range(2, 9)
    ]
    events.insert(3, event("broken", ":20260310T100000Z", ":20260310T110000Z", broken))
    reading = read(calendar(*events))
    assert [title for title, _ in seen(reading)] == [f"Talk e{day}" for day in range(2, 9)]
    assert reading.skipped == ("'Talk broken' was left out: it could not be read.",)

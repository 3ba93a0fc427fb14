"""CalDAV discovery and reading against a real Radicale (and hostile fakes) on 127.0.0.1.

The fixture calendars (tests/fixtures/ics/caldav/) are dated around a fixed "now",
Wednesday 12 March 2025; the member reads them in Europe/Berlin (UTC+1 in March).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web

from bot.core.calendar_rules import CredentialRejected, FeedError
from bot.services.calendar import Occurrence
from bot.services.calendar.caldav_source import (
    REFUSED,
    CalDavCalendar,
    discover,
    read_caldav,
)
from tests.radicale_server import CALDAV_FIXTURES, RadicaleServer, start_radicale

NOW = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)
START = NOW - timedelta(days=9)  # Monday 3 March, 12:00 UTC
END = NOW + timedelta(days=12)  # Monday 24 March, 12:00 UTC
OWNER = ("Alice@Example.org",)


def _read(server: RadicaleServer, calendar: str) -> dict[tuple[str, str], Occurrence]:
    reading = read_caldav(
        server.calendar_url(calendar),
        server.username,
        server.password,
        start=START,
        end=END,
        default_tz="Europe/Berlin",
        owner_emails=OWNER,
        allow_private=True,
    )
    assert reading.skipped == ()
    return {occurrence.key: occurrence for occurrence in reading.occurrences}


def test_discovery_from_the_root_lists_event_calendars_and_skips_the_task_list(
    radicale: RadicaleServer,
) -> None:
    found = discover(radicale.url, radicale.username, radicale.password, allow_private=True)

    assert sorted(found, key=lambda c: c.name) == [
        CalDavCalendar(radicale.calendar_url("personal"), "Personal"),
        CalDavCalendar(radicale.calendar_url("work"), "Work"),
    ]


def test_a_wrong_password_is_refused_in_plain_words_without_the_password(
    radicale: RadicaleServer,
) -> None:
    wrong = "hunter2-not-the-password"
    with pytest.raises(FeedError) as refused:
        discover(radicale.url, radicale.username, wrong, allow_private=True)

    assert str(refused.value) == REFUSED
    assert "app-specific password" in str(refused.value)
    assert not isinstance(refused.value, CredentialRejected)  # a new sign-in, not a lapse
    assert refused.value.__cause__ is None and refused.value.__context__ is None
    assert wrong not in repr(refused.value)


def test_a_password_that_stops_working_is_a_rejected_credential(
    radicale: RadicaleServer,
) -> None:
    with pytest.raises(CredentialRejected) as rejected:
        read_caldav(
            radicale.calendar_url("work"),
            radicale.username,
            "changed-since",
            start=START,
            end=END,
            default_tz="Europe/Berlin",
            allow_private=True,
        )
    assert str(rejected.value) == REFUSED
    assert "changed-since" not in str(rejected.value)


def test_the_weekly_course_comes_moved_and_without_the_excluded_week(
    radicale: RadicaleServer,
) -> None:
    found = _read(radicale, "work")
    course = sorted(
        (o for o in found.values() if o.uid == "course-clinical-audit@cpdbot.test"),
        key=lambda o: o.start,
    )

    # 3 March as planned (14:00 Berlin), 10 March excluded, 17 March moved to Tuesday 09:00.
    assert [(o.recurrence_id, o.title, o.start, o.end) for o in course] == [
        (
            "2025-03-03T13:00:00Z",
            "Clinical audit course",
            datetime(2025, 3, 3, 13, 0, tzinfo=UTC),
            datetime(2025, 3, 3, 15, 0, tzinfo=UTC),
        ),
        (
            "2025-03-17T13:00:00Z",
            "Clinical audit course (moved)",
            datetime(2025, 3, 18, 8, 0, tzinfo=UTC),
            datetime(2025, 3, 18, 10, 0, tzinfo=UTC),
        ),
    ]
    assert course[0].description == "Weekly module of the clinical audit course."
    assert _read(radicale, "work").keys() == found.keys()  # the same keys on the next poll


def test_cancelled_declined_stand_ups_and_all_day_events_read_as_from_an_ics_feed(
    radicale: RadicaleServer,
) -> None:
    found = _read(radicale, "work")
    club = found[("journal-club@cpdbot.test", "")]
    webinar = found[("leadership-webinar@cpdbot.test", "")]
    conference = found[("conference@cpdbot.test", "")]
    stand_ups = [key for key in found if key[0] == "standup@cpdbot.test"]

    assert club.cancelled and not club.declined
    assert webinar.declined and not webinar.cancelled
    assert conference.all_day and conference.title == "Regional nursing conference"
    # Friday 14 March, midnight to midnight in Berlin.
    assert (conference.start, conference.end) == (
        datetime(2025, 3, 13, 23, 0, tzinfo=UTC),
        datetime(2025, 3, 14, 23, 0, tzinfo=UTC),
    )
    assert not conference.absence
    # Weekdays 4-21 March and Monday 24th (08:00 UTC, inside the window on both ends).
    assert len(stand_ups) == 15
    assert ("standup@cpdbot.test", "2025-03-12T08:00:00Z") in found


def test_an_annual_leave_week_is_an_all_day_absence_in_local_dates(
    radicale: RadicaleServer,
) -> None:
    (leave,) = _read(radicale, "personal").values()

    assert leave.title == "Annual leave" and leave.all_day and leave.absence
    assert (leave.start, leave.end) == (
        datetime(2025, 3, 16, 23, 0, tzinfo=UTC),
        datetime(2025, 3, 21, 23, 0, tzinfo=UTC),
    )


def test_a_private_address_is_refused_unless_allowed() -> None:
    for url in ("http://127.0.0.1:5232/", "https://10.1.2.3/dav/", "https://radicale.local/"):
        with pytest.raises(FeedError, match=r"not public|local network"):
            discover(url, "alice", "secret")
    with pytest.raises(FeedError, match=r"https://"):
        read_caldav(
            "http://caldav.example.com/alice/work/",
            "alice",
            "secret",
            start=START,
            end=END,
            default_tz="UTC",
        )


# --------------------------------------------------------------------------------------
# Servers that are not CalDAV, or are hostile: aiohttp on 127.0.0.1
# --------------------------------------------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _serve(handler: Handler) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        await runner.cleanup()


async def _discover_at(handler: Handler) -> FeedError:
    async for url in _serve(handler):
        with pytest.raises(FeedError) as failed:
            await asyncio.to_thread(discover, url, "alice", "secret", allow_private=True)
        return failed.value
    raise AssertionError("no server")


async def test_a_web_page_is_not_a_caldav_server() -> None:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html><body>Welcome</body></html>", content_type="text/html")

    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404, text="<html>Not found</html>", content_type="text/html")

    assert "does not answer as a CalDAV server" in str(await _discover_at(page))
    assert "no calendar at that address (404)" in str(await _discover_at(missing))


def _multistatus_head() -> bytes:
    return (
        b'<?xml version="1.0" encoding="utf-8"?><multistatus xmlns="DAV:" '
        b'xmlns:C="urn:ietf:params:xml:ns:caldav"><response><href>/a/b.ics</href>'
        b"<propstat><prop><C:calendar-data>BEGIN:VCALENDAR\r\n"
    )


async def _endless(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(status=207, headers={"Content-Type": "text/xml"})
    await response.prepare(request)
    await response.write(_multistatus_head())
    line = b"X-FILLER:" + b"x" * 4000 + b"\r\n"
    try:
        while True:
            await response.write(line)
    except (ConnectionResetError, RuntimeError):
        pass
    return response


async def _read_at(url: str, **bounds: object) -> FeedError:
    with pytest.raises(FeedError) as failed:
        await asyncio.to_thread(
            lambda: read_caldav(
                url + "alice/work/",
                "alice",
                "secret",
                start=START,
                end=END,
                default_tz="UTC",
                allow_private=True,
                **bounds,  # type: ignore[arg-type]
            )
        )
    return failed.value


async def test_an_endless_answer_is_cut_at_the_size_limit() -> None:
    async for url in _serve(_endless):
        error = await _read_at(url, max_bytes=200_000)
        assert "too large (more than 0.2 MB)" in str(error)


async def test_an_answer_that_never_ends_is_cut_at_the_time_limit() -> None:
    ticks = iter(range(1_000_000))  # a clock that moves one second per look

    async for url in _serve(_endless):
        error = await _read_at(url, max_bytes=10**12, timeout=30.0, clock=lambda: next(ticks))
        assert "did not answer within 30 s" in str(error)


async def test_a_server_that_does_not_expand_is_expanded_here() -> None:
    course = (CALDAV_FIXTURES / "course.ics").read_bytes()

    async def unexpanded(request: web.Request) -> web.Response:
        if request.method != "REPORT":
            return web.Response(status=405)
        body = _multistatus_head()[: -len(b"BEGIN:VCALENDAR\r\n")] + course
        body += b"</C:calendar-data></prop><status>HTTP/1.1 200 OK</status></propstat>"
        body += b"</response></multistatus>"
        return web.Response(status=207, body=body, content_type="text/xml")

    async for url in _serve(unexpanded):
        reading = await asyncio.to_thread(
            lambda address=url: read_caldav(
                address + "alice/work/",
                "alice",
                "secret",
                start=START,
                end=END,
                default_tz="Europe/Berlin",
                allow_private=True,
            )
        )
        assert [(o.recurrence_id, o.start) for o in reading.occurrences] == [
            ("2025-03-03T13:00:00Z", datetime(2025, 3, 3, 13, 0, tzinfo=UTC)),
            ("2025-03-17T13:00:00Z", datetime(2025, 3, 18, 8, 0, tzinfo=UTC)),
        ]


def test_stopping_the_fixture_server_leaves_no_process() -> None:
    server = start_radicale()
    assert server.started_in < 20
    server.stop()
    assert server.process.poll() is not None

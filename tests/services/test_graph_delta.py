"""Reading an Outlook calendar through calendarView/delta, against a fake Graph."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.core.calendar_rules import CredentialRejected, FeedBusy, FeedError
from bot.services.calendar.graph_auth import MicrosoftEndpoints
from bot.services.calendar.graph_delta import DeltaState, GraphReading, read_graph
from bot.services.calendar.occurrence import Occurrence
from tests.conftest import NOW
from tests.fake_microsoft import CLIENT_ID, FakeMicrosoft

HOUR = timedelta(hours=1)


class Tokens:
    """The caller's side of the access token: refreshes through the fake on demand."""

    def __init__(self, ms: FakeMicrosoft) -> None:
        self.ms = ms
        self.token, _ = ms.issue()
        self.forced = 0

    async def __call__(self, force: bool) -> str:
        if force:
            self.forced += 1
            self.token, _ = self.ms.issue()
        return self.token


@pytest.fixture
async def ms() -> AsyncIterator[FakeMicrosoft]:
    fake = await FakeMicrosoft().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as http:
        yield http


async def read(
    ms: FakeMicrosoft,
    client: httpx.AsyncClient,
    state: DeltaState | None = None,
    now: datetime = NOW,
    tokens: Tokens | None = None,
    **options: object,
) -> GraphReading:
    ep = MicrosoftEndpoints(client_id=CLIENT_ID, login_url=ms.url, graph_url=ms.url)
    return await read_graph(client, ep, tokens or Tokens(ms), state, now, **options)  # type: ignore[arg-type]


def by_title(reading: GraphReading) -> dict[str, Occurrence]:
    return {o.title: o for o in reading.occurrences}


def week_of_events(ms: FakeMicrosoft) -> dict[str, str]:
    """A member's week: a webinar, a stand-up, a declined seminar, a weekly course."""
    ids = {
        "webinar": ms.add_event(
            "IET webinar: AI safety",
            NOW - 2 * HOUR,
            NOW - HOUR,
            body="<p>Bring questions <b>#cpd</b></p>",
        ),
        "standup": ms.add_event("Stand-up", NOW + HOUR, NOW + 2 * HOUR),
        "seminar": ms.add_event(
            "Safety seminar", NOW + 3 * HOUR, NOW + 4 * HOUR, response="declined"
        ),
    }
    master, occurrences = ms.add_series("Python course", NOW - timedelta(days=7), 2 * HOUR, 3)
    ids["course"], ids["course_this_week"] = master, occurrences[1]
    return ids


async def test_a_first_read_lists_the_window_with_series_stubs_titled_from_their_master(
    ms: FakeMicrosoft, client: httpx.AsyncClient
) -> None:
    ids = week_of_events(ms)
    reading = await read(ms, client)
    found = sorted((o.title, o.start, o.recurrence_id) for o in reading.occurrences)
    # The series started a week ago: that week is outside the two days back.
    assert found == [
        ("IET webinar: AI safety", NOW - 2 * HOUR, ""),
        ("Python course", NOW, "2026-11-22T10:00:00Z"),
        ("Python course", NOW + timedelta(days=7), "2026-11-29T10:00:00Z"),
        ("Safety seminar", NOW + 3 * HOUR, ""),
        ("Stand-up", NOW + HOUR, ""),
    ]
    course = next(o for o in reading.occurrences if o.recurrence_id == "2026-11-22T10:00:00Z")
    assert course.uid == ids["course"] and course.end == NOW + 2 * HOUR
    assert course.start.tzinfo is not None
    webinar = by_title(reading)["IET webinar: AI safety"]
    assert webinar.uid == ids["webinar"] and "#cpd" in webinar.description
    assert "<b>" not in webinar.description
    assert by_title(reading)["Safety seminar"].declined
    assert not webinar.declined and not webinar.cancelled and not webinar.absence
    # The window, the headers, and the master fetched once by id.
    first = ms.graph_requests[0]
    assert first.url.startswith("/v1.0/me/calendarView/delta?startDateTime=2026-11-20T10")
    assert "endDateTime=2026-12-06T10%3A00%3A00Z" in first.url
    assert "odata.maxpagesize=50" in first.prefer and 'outlook.timezone="UTC"' in first.prefer
    masters = [r.url for r in ms.graph_requests if "/me/events/" in r.url]
    assert len(masters) == 1 and "$select=subject" in masters[0]
    assert reading.state.masters[ids["course"]]["subject"] == "Python course"


async def test_masters_in_the_pages_are_used_without_fetching_them(
    ms: FakeMicrosoft, client: httpx.AsyncClient
) -> None:
    ms.masters_in_delta = True
    week_of_events(ms)
    reading = await read(ms, client)
    assert [o.title for o in reading.occurrences].count("Python course") == 2
    assert not [r for r in ms.graph_requests if "/me/events/" in r.url]


async def test_next_links_are_followed_exactly_and_the_delta_link_kept(
    ms: FakeMicrosoft, client: httpx.AsyncClient
) -> None:
    for n in range(120):  # 50 a page: three pages
        ms.add_event(f"Meeting {n}", NOW + n * timedelta(minutes=5), NOW + HOUR)
    reading = await read(ms, client)
    assert len(reading.occurrences) == 120
    delta = [r.url for r in ms.graph_requests if "delta" in r.url]
    assert len(delta) == 3
    assert "$skiptoken=" in delta[1] and "$skiptoken=" in delta[2]
    assert reading.state.delta_link.startswith(f"{ms.url}/v1.0/me/calendarView/delta?$deltatoken=")


async def test_a_later_read_sees_cancelled_removed_and_new_events(
    ms: FakeMicrosoft, client: httpx.AsyncClient
) -> None:
    ids = week_of_events(ms)
    first = await read(ms, client)
    ms.cancel(ids["standup"])
    ms.remove(ids["webinar"])
    ms.remove(ids["course_this_week"])  # one occurrence deleted from the series
    ms.add_event("Journal club", NOW + 5 * HOUR, NOW + 6 * HOUR)
    later = await read(ms, client, first.state, NOW + HOUR)
    assert ms.graph_requests[-1].url.startswith("/v1.0/me/calendarView/delta?$deltatoken=")
    titles = by_title(later)
    assert "IET webinar: AI safety" not in titles
    assert titles["Canceled: Stand-up"].cancelled
    assert titles["Journal club"].start == NOW + 5 * HOUR
    course = [o.recurrence_id for o in later.occurrences if o.title == "Python course"]
    assert course == ["2026-11-29T10:00:00Z"]
    # The stored state is what the caller passed back: the first one is unchanged.
    assert ids["webinar"] in first.state.events


async def test_a_new_round_starts_when_the_round_is_old_with_the_window_moved_on(
    ms: FakeMicrosoft, client: httpx.AsyncClient
) -> None:
    week_of_events(ms)
    first = await read(ms, client)
    tomorrow = NOW + timedelta(days=1)
    # Beyond the first round's window (to NOW + 14 days), inside tomorrow's.
    late = tomorrow + timedelta(days=13, hours=12)
    ms.add_event("Workshop", late, late + HOUR)
    same_round = await read(ms, client, first.state, NOW + HOUR)
    assert "Workshop" not in by_title(same_round)
    sent = len(ms.graph_requests)
    later = await read(ms, client, first.state, tomorrow)
    assert "Workshop" in by_title(later) and "Stand-up" in by_title(later)
    assert ms.graph_requests[sent].url.startswith(
        "/v1.0/me/calendarView/delta?startDateTime=2026-11-21T10%3A00%3A00Z"
    )
    assert later.state.round_start == tomorrow
    assert later.state.window_end == tomorrow + timedelta(days=14)


async def test_a_stored_state_survives_bytes(ms: FakeMicrosoft, client: httpx.AsyncClient) -> None:
    ids = week_of_events(ms)
    first = await read(ms, client)
    restored = DeltaState.from_bytes(first.state.to_bytes())
    assert restored == first.state
    ms.cancel(ids["seminar"])
    later = await read(ms, client, restored, NOW + HOUR)
    assert by_title(later)["Canceled: Safety seminar"].cancelled
    with pytest.raises(ValueError):
        DeltaState.from_bytes(b"not a state")


async def test_gone_restarts_the_round(ms: FakeMicrosoft, client: httpx.AsyncClient) -> None:
    week_of_events(ms)
    first = await read(ms, client)
    ms.expire_delta_tokens()
    ms.add_event("Lecture", NOW + 6 * HOUR, NOW + 7 * HOUR)
    sent = len(ms.graph_requests)
    later = await read(ms, client, first.state, NOW + HOUR)
    assert "Lecture" in by_title(later) and "Stand-up" in by_title(later)
    assert later.state.round_start == NOW + HOUR
    urls = [r.url for r in ms.graph_requests[sent:]]
    assert "$deltatoken=" in urls[0]  # answered 410 Gone
    assert urls[1].startswith("/v1.0/me/calendarView/delta?startDateTime=")


async def test_throttled_gives_retry_after_and_keeps_the_state(
    ms: FakeMicrosoft, client: httpx.AsyncClient
) -> None:
    week_of_events(ms)
    first = await read(ms, client)
    ms.fail_graph(429, retry_after="7")
    with pytest.raises(FeedBusy) as raised:
        await read(ms, client, first.state, NOW + HOUR)
    assert raised.value.retry_after == 7.0
    ms.fail_graph(503)
    with pytest.raises(FeedBusy) as raised:
        await read(ms, client, first.state, NOW + HOUR)
    assert raised.value.retry_after is None
    later = await read(ms, client, first.state, NOW + HOUR)  # the same state still works
    assert ms.graph_requests[-1].url.startswith("/v1.0/me/calendarView/delta?$deltatoken=")
    assert len(later.occurrences) == len(first.occurrences)


async def test_an_expired_access_token_is_refreshed_once(
    ms: FakeMicrosoft, client: httpx.AsyncClient
) -> None:
    week_of_events(ms)
    tokens = Tokens(ms)
    ms.expire_access_tokens()
    reading = await read(ms, client, tokens=tokens)
    assert tokens.forced == 1 and len(reading.occurrences) == 5


async def test_a_token_graph_keeps_refusing_is_a_rejected_credential(
    ms: FakeMicrosoft, client: httpx.AsyncClient
) -> None:
    week_of_events(ms)
    ms.fail_graph(401, times=2, code="InvalidAuthenticationToken")
    tokens = Tokens(ms)
    with pytest.raises(CredentialRejected) as raised:
        await read(ms, client, tokens=tokens)
    assert tokens.forced == 1
    assert "/calendar outlook" in str(raised.value) and tokens.token not in str(raised.value)


async def test_absences_all_day_events_and_out_of_office(
    ms: FakeMicrosoft, client: httpx.AsyncClient
) -> None:
    day = datetime(2026, 11, 23, tzinfo=UTC)
    ms.add_event("Annual leave", day, day + timedelta(days=2), all_day=True, show_as="free")
    ms.add_event("Study day", day, day + timedelta(days=1), all_day=True)
    ms.add_event("Dentist", NOW + HOUR, NOW + 2 * HOUR, show_as="oof")
    ms.add_event("Leave planning", NOW + 2 * HOUR, NOW + 3 * HOUR)
    ms.add_event("Bank holidays", day, day + timedelta(days=1), all_day=True, show_as="free")
    reading = await read(ms, client, default_tz="America/New_York")
    titles = by_title(reading)
    leave = titles["Annual leave"]
    assert leave.all_day and leave.absence
    # Midnight to midnight in the member's zone (New York is five hours behind in November).
    assert leave.start == datetime(2026, 11, 23, 5, tzinfo=UTC)
    assert leave.end == datetime(2026, 11, 25, 5, tzinfo=UTC)
    assert titles["Study day"].all_day and not titles["Study day"].absence
    assert titles["Dentist"].absence and not titles["Dentist"].all_day
    assert titles["Bank holidays"].absence
    assert not titles["Leave planning"].absence  # a meeting about leave is not time away


async def test_a_deleted_series_master_leaves_its_stubs_untitled(
    ms: FakeMicrosoft, client: httpx.AsyncClient
) -> None:
    master, _ = ms.add_series("Python course", NOW, HOUR, 2)
    ms.remove(master)
    reading = await read(ms, client)
    assert [o.title for o in reading.occurrences] == ["", ""]
    assert {o.uid for o in reading.occurrences} == {master}


async def test_links_off_graph_are_not_followed(
    ms: FakeMicrosoft, client: httpx.AsyncClient
) -> None:
    week_of_events(ms)
    ms.link_base = "https://graph.example.net"
    with pytest.raises(FeedError, match="another site"):
        await read(ms, client)
    assert len(ms.graph_requests) == 1


async def test_too_many_events_or_pages_is_an_error_for_the_owner(
    ms: FakeMicrosoft, client: httpx.AsyncClient
) -> None:
    for n in range(120):
        ms.add_event(f"Meeting {n}", NOW, NOW + HOUR)
    with pytest.raises(FeedError, match="too many events"):
        await read(ms, client, max_events=100)
    with pytest.raises(FeedError, match="too many changes"):
        await read(ms, client, max_pages=2)

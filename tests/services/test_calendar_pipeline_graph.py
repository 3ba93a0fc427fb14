"""Outlook calendars in the scheduler: the real poller reads a fake Microsoft Graph on
127.0.0.1 (tests/fake_microsoft.py) through the real identity refresh, over SQLite and
PostgreSQL, with frozen time. Prompts follow the ICS rules; tokens stay encrypted."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from bot.core.schemes import Scheme
from bot.services.calendar.graph_auth import MicrosoftEndpoints
from bot.services.engine import Engine
from bot.services.outbound.jobs import Jobs
from storage import calendar_accounts as accounts
from storage.db import Database
from storage.models import Absence, CalendarFeed, SeenOccurrence
from storage.secrets import SecretBox, new_key
from tests.conftest import NOW, Clock
from tests.fake_microsoft import ACCOUNT, CLIENT_ID, FakeMicrosoft
from tests.scheduling import Recorder, person_of, user

HOUR = timedelta(hours=1)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
async def ms() -> AsyncIterator[FakeMicrosoft]:
    fake = await FakeMicrosoft().start()
    yield fake
    await fake.stop()


class World:
    """A member signed in to Outlook, and scheduler processes over one database."""

    def __init__(self, db: Database, schemes: dict[str, Scheme], ms: FakeMicrosoft) -> None:
        self.db, self.ms = db, ms
        db.secrets = SecretBox(new_key())
        self.clock = Clock(NOW - timedelta(days=1))
        engine = Engine(db, schemes, self.clock)
        user(engine, "ada")
        self.person_id = int(person_of(db, "ada").id or 0)
        self.ep = MicrosoftEndpoints(client_id=CLIENT_ID, login_url=ms.url, graph_url=ms.url)
        self.recorder = Recorder()
        self.schemes = schemes
        self.access, self.refresh = ms.issue()
        with db.transaction() as s:
            feed = accounts.add_account_feed(
                s,
                db.secrets,
                self.person_id,
                kind="graph",
                url=ms.url,
                account=ACCOUNT,
                secret=self.refresh,
                now=self.clock.now,
            )
            self.feed_id = int(feed.id or 0)
            accounts.set_tokens(s, db.secrets, self.feed_id, None, self.access, NOW + HOUR)

    def jobs(self) -> Jobs:
        return Jobs(
            self.db,
            self.schemes,
            self.clock,
            senders={"console": self.recorder},
            microsoft=self.ep,
        )

    async def tick(self, at: datetime, jobs: Jobs | None = None) -> list[str]:
        """Poll (and send) at `at`; the texts sent to the member."""
        self.clock.now = at
        before = len(self.recorder.sent)
        await (jobs or self.jobs()).tick(at)
        return [reply.text for _, reply in self.recorder.sent[before:]]

    def feed(self) -> CalendarFeed:
        with self.db.transaction() as s:
            row = s.exec(select(CalendarFeed).where(CalendarFeed.id == self.feed_id)).one()
            s.expunge(row)
            return row


@pytest.fixture
def world(db: Database, schemes: dict[str, Scheme], ms: FakeMicrosoft) -> World:
    return World(db, schemes, ms)


def week(ms: FakeMicrosoft) -> dict[str, str]:
    """A workshop and a stand-up that ended, a cancelled and a declined course, a weekly
    course whose occurrences Graph sends as stubs (this week's ended an hour ago)."""
    ids = {
        "workshop": ms.add_event("Safety workshop", NOW - 3 * HOUR, NOW - 2 * HOUR),
        "standup": ms.add_event("Stand-up", NOW - 90 * timedelta(minutes=1), NOW - HOUR),
        "cancelled": ms.add_event(
            "Training: pumps", NOW - 4 * HOUR, NOW - 3 * HOUR, cancelled=True
        ),
        "declined": ms.add_event(
            "Seminar on valves", NOW - 5 * HOUR, NOW - 4 * HOUR, response="declined"
        ),
    }
    _, occurrences = ms.add_series("Python course", NOW - timedelta(days=7) - 3 * HOUR, 2 * HOUR, 3)
    ids["course"] = occurrences[1]
    return ids


def prompts(texts: list[str]) -> list[str]:
    return sorted(t for t in texts if "log it as CPD?" in t)


async def test_training_prompts_once_across_two_schedulers_and_tokens_stay_encrypted(
    world: World, ms: FakeMicrosoft, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    week(ms)
    first, second = world.jobs(), world.jobs()
    world.clock.now = NOW
    polled = await asyncio.gather(first.poll_calendars(NOW), second.poll_calendars(NOW))
    assert sorted(p for p, _ in polled) == [0, 1]  # one process took the feed
    texts = await world.tick(NOW, first)
    assert prompts(texts) == [
        "'Python course' (2 h, today 07:00) has ended — log it as CPD?",
        "'Safety workshop' (1 h, today 07:00) has ended — log it as CPD?",
    ]
    # Later polls, by either process, prompt nothing again.
    assert prompts(await world.tick(NOW + timedelta(minutes=20), second)) == []
    assert prompts(await world.tick(NOW + timedelta(minutes=40), first)) == []
    # The access token was still good: no refresh, the stored tokens unchanged.
    assert not [f for f in ms.token_forms if f.get("grant_type") == "refresh_token"]
    row = world.feed()
    assert row.secret is not None and world.refresh.encode() not in row.secret
    assert world.db.secrets.decrypt(row.secret) == world.refresh
    logged = caplog.text
    assert world.refresh not in logged and world.access not in logged
    assert "Safety workshop" not in logged


async def test_expired_access_token_is_refreshed_and_the_rotated_tokens_stored_encrypted(
    world: World, ms: FakeMicrosoft, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    week(ms)
    ms.expire_access_tokens()  # the stored access token now answers 401
    texts = await world.tick(NOW)
    assert len(prompts(texts)) == 2
    refreshes = [f for f in ms.token_forms if f.get("grant_type") == "refresh_token"]
    assert [f["refresh_token"] for f in refreshes] == [world.refresh]
    row = world.feed()
    assert row.secret is not None and row.access_secret is not None
    new_refresh = world.db.secrets.decrypt(row.secret)
    new_access = world.db.secrets.decrypt(row.access_secret)
    assert new_refresh != world.refresh and new_refresh in ms.refresh_tokens
    assert new_access in ms.access_tokens
    assert new_refresh.encode() not in row.secret and new_access.encode() not in row.access_secret
    # The stored access token is used next time (no second refresh).
    await world.tick(NOW + timedelta(minutes=20))
    assert len([f for f in ms.token_forms if f.get("grant_type") == "refresh_token"]) == 1
    for secret in (world.refresh, new_refresh, new_access):
        assert secret not in caplog.text


async def test_an_access_token_past_its_expiry_is_refreshed_before_use(
    world: World, ms: FakeMicrosoft
) -> None:
    week(ms)
    texts = await world.tick(NOW + 2 * HOUR)  # the stored one expired at NOW + 1 h
    assert len(prompts(texts)) == 2
    assert [f.get("grant_type") for f in ms.token_forms] == ["refresh_token"]
    unused = [r for r in ms.graph_requests if world.access in r.authorization]
    assert unused == []


async def test_a_revoked_sign_in_is_told_once_and_the_feed_is_left_alone(
    world: World, ms: FakeMicrosoft
) -> None:
    week(ms)
    ms.expire_access_tokens()
    ms.revoke()
    texts = await world.tick(NOW)
    (told,) = texts
    assert "I can no longer read your calendar (ada.lovelace@contoso.example)" in told
    assert "/calendar outlook" in told
    calls = len(ms.graph_requests) + len(ms.token_forms)
    for minutes in (20, 60, 600, 6000):
        assert await world.tick(NOW + timedelta(minutes=minutes)) == []
    assert len(ms.graph_requests) + len(ms.token_forms) == calls  # never asked again
    # Signing in again (a new refresh token stored) starts the polling again.
    access, refresh = ms.issue()
    with world.db.transaction() as s:
        accounts.set_tokens(s, world.db.secrets, world.feed_id, refresh, access, NOW + 9 * HOUR)
    ms.add_event("IET webinar", NOW + 5 * HOUR, NOW + 6 * HOUR)
    texts = await world.tick(NOW + 6 * HOUR)
    assert "'IET webinar' (1 h, today 15:00) has ended — log it as CPD?" in prompts(texts)


async def test_429_retry_after_is_honoured_without_a_failure(
    world: World, ms: FakeMicrosoft
) -> None:
    week(ms)
    ms.fail_graph(429, retry_after="3600")
    assert await world.tick(NOW) == []
    row = world.feed()
    assert row.failures == 0 and row.retry_at == NOW + HOUR
    calls = len(ms.graph_requests)
    assert await world.tick(NOW + timedelta(minutes=30)) == []  # a normal poll would run
    assert len(ms.graph_requests) == calls
    texts = await world.tick(NOW + HOUR)
    assert len(prompts(texts)) == 2
    assert not [t for t in texts if "failed" in t or "couldn't" in t]


async def test_an_event_cancelled_or_removed_in_a_later_round_never_prompts(
    world: World, ms: FakeMicrosoft
) -> None:
    later = ms.add_event("Training: hydraulics", NOW + HOUR, NOW + 2 * HOUR)
    gone = ms.add_event("Course: welding", NOW + HOUR, NOW + 2 * HOUR)
    kept = ms.add_event("Course: safety", NOW + HOUR, NOW + 2 * HOUR)
    assert await world.tick(NOW) == []  # a first round: nothing has ended yet
    ms.cancel(later)
    ms.remove(gone)
    texts = await world.tick(NOW + 3 * HOUR)  # the delta round brings the changes
    assert prompts(texts) == ["'Course: safety' (1 h, today 11:00) has ended — log it as CPD?"]
    assert kept


async def test_an_out_of_office_week_is_recorded_told_once_and_holds_prompts(
    world: World, ms: FakeMicrosoft
) -> None:
    # Mon 30 Nov - Fri 4 Dec 2026, all day, shown as out of office; NOW is Sun 22 Nov.
    start = datetime(2026, 11, 30, tzinfo=NOW.tzinfo)
    leave = ms.add_event("Away", start, start + timedelta(days=5), all_day=True, show_as="oof")
    ms.add_event("Training: pumps", start + 24 * HOUR + 9 * HOUR, start + 24 * HOUR + 10 * HOUR)
    texts = await world.tick(NOW)
    assert texts == [
        "Your calendar says you're away Mon 30 Nov – Fri 4 Dec: "
        "I won't ask about calendar events while you're away, and nudges or reminders due "
        "meanwhile will come on your first day back."
    ]
    assert await world.tick(NOW + timedelta(minutes=20)) == []  # told once
    with world.db.transaction() as s:
        (absence,) = s.exec(select(Absence)).all()
        assert (absence.person_id, absence.told) == (world.person_id, True)
    # The training during the leave never prompts, polled every hour of that day.
    day = start + 24 * HOUR
    for hour in range(0, 24, 2):
        assert prompts(await world.tick(day + timedelta(hours=hour))) == []
    with world.db.transaction() as s:
        assert s.exec(select(SeenOccurrence)).all() == []  # held, as by a pause
    # Cancelled: the hold is released.
    ms.remove(leave)
    await world.tick(day + 25 * HOUR)
    with world.db.transaction() as s:
        assert s.exec(select(Absence)).all() == []

"""CalDAV calendars in the scheduler: the real poller reads a real Radicale on 127.0.0.1
(tests/radicale_server.py, fixture events around Wednesday 12 March 2025), over SQLite and
PostgreSQL, with frozen time. The member reads them in Europe/Berlin."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.core.schemes import Scheme
from bot.services.engine import Engine
from bot.services.outbound.jobs import Jobs
from storage import calendar_accounts as accounts
from storage.db import Database
from storage.models import Absence, CalendarFeed, SeenOccurrence
from storage.secrets import SecretBox, new_key
from tests.conftest import Clock
from tests.radicale_server import RadicaleServer
from tests.scheduling import Recorder, person_of, user


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


class World:
    def __init__(self, db: Database, schemes: dict[str, Scheme], radicale: RadicaleServer) -> None:
        self.db, self.schemes, self.radicale = db, schemes, radicale
        db.secrets = SecretBox(new_key())
        self.clock = Clock(utc(2025, 3, 1, 12))
        user(Engine(db, schemes, self.clock), "alice", zone="Europe/Berlin")
        self.person_id = int(person_of(db, "alice").id or 0)
        self.recorder = Recorder()

    def connect(self, calendar: str, password: str | None = None) -> int:
        with self.db.transaction() as s:
            feed = accounts.add_account_feed(
                s,
                self.db.secrets,
                self.person_id,
                kind="caldav",
                url=self.radicale.calendar_url(calendar),
                account=self.radicale.username,
                secret=password or self.radicale.password,
                now=self.clock.now,
                owner_emails=("alice@example.org",),
            )
            return int(feed.id or 0)

    def jobs(self) -> Jobs:
        return Jobs(
            self.db,
            self.schemes,
            self.clock,
            senders={"console": self.recorder},
            allow_private_feeds=True,
        )

    def tick(self, at: datetime, jobs: Jobs | None = None) -> list[str]:
        self.clock.now = at
        before = len(self.recorder.sent)
        asyncio.run((jobs or self.jobs()).tick(at))
        return [reply.text for _, reply in self.recorder.sent[before:]]


@pytest.fixture
def world(db: Database, schemes: dict[str, Scheme], radicale: RadicaleServer) -> World:
    return World(db, schemes, radicale)


def prompts(texts: list[str]) -> list[str]:
    return [t for t in texts if "log it as CPD?" in t]


def test_the_course_prompts_once_across_two_schedulers_not_stand_ups_cancelled_or_declined(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    world.connect("work")
    first, second = world.jobs(), world.jobs()
    at = utc(2025, 3, 3, 15, 30)  # the Monday course (14:00-16:00 Berlin) ended at 16:00
    world.clock.now = at

    async def both() -> list[tuple[int, int]]:
        return list(await asyncio.gather(first.poll_calendars(at), second.poll_calendars(at)))

    assert sorted(p for p, _ in asyncio.run(both())) == [0, 1]
    texts = world.tick(at, first)
    assert texts == ["'Clinical audit course' (2 h, today 14:00) has ended — log it as CPD?"]
    # The cancelled journal club (Wed 5th), the declined webinar (Tue 11th) and the daily
    # stand-ups never prompt; the course is never asked twice.
    for day in range(3, 12):
        for jobs in (first, second):
            later = utc(2025, 3, day, 17) + (
                timedelta(minutes=30) if jobs is second else timedelta()
            )
            assert prompts(world.tick(later, jobs)) == []
    with world.db.transaction() as s:
        titles = [o.title for o in s.exec(select(SeenOccurrence)).all()]
    assert titles == ["Clinical audit course"]
    assert world.radicale.password not in caplog.text


def test_annual_leave_is_told_once_and_holds_the_moved_course_that_ends_during_it(
    world: World,
) -> None:
    world.connect("work")
    world.connect("personal")
    texts = world.tick(utc(2025, 3, 12, 12))
    assert texts == [
        "Your calendar says you're away Mon 17 – Fri 21 Mar: "
        "I won't ask about calendar events while you're away, and nudges or reminders due "
        "meanwhile will come on your first day back."
    ]
    assert world.tick(utc(2025, 3, 12, 13)) == []
    with world.db.transaction() as s:
        (absence,) = s.exec(select(Absence)).all()
    assert absence.told and absence.starts_at == utc(2025, 3, 16, 23)  # midnight in Berlin
    # The course moved to Tue 18th 09:00-11:00 Berlin: it ends during the leave.
    for hour in range(8, 24, 2):
        assert prompts(world.tick(utc(2025, 3, 18, hour))) == []
    with world.db.transaction() as s:
        assert s.exec(select(SeenOccurrence)).all() == []


def test_a_password_that_stops_working_is_told_once_and_the_calendar_left_alone(
    world: World,
) -> None:
    feed_id = world.connect("work")
    assert prompts(world.tick(utc(2025, 3, 3, 15, 30))) != []
    with world.db.transaction() as s:  # the password was changed on the server
        accounts.set_tokens(s, world.db.secrets, feed_id, None, None, None)
        s.get(CalendarFeed, feed_id)
        row = s.exec(select(CalendarFeed).where(CalendarFeed.id == feed_id)).one()
        row.secret = world.db.secrets.encrypt("an-old-password")
        s.add(row)
    (told,) = world.tick(utc(2025, 3, 3, 16))
    assert "I can no longer read your calendar (alice)" in told
    assert f"/calendar caldav {world.radicale.calendar_url('work')} alice" in told
    assert "an-old-password" not in told and world.radicale.password not in told
    for day in range(4, 12):
        assert world.tick(utc(2025, 3, day, 17)) == []
    with world.db.transaction() as s:
        row = s.exec(select(CalendarFeed).where(CalendarFeed.id == feed_id)).one()
        assert row.secret is not None and b"an-old-password" not in row.secret

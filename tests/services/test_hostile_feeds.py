"""Hostile calendars against the scheduler (issue 12): a feed costs at most its time
budget, other people's messages keep going out meanwhile, one event's text never blocks
a feed, and a feed whose events cannot be stored is reported as failed. Feeds are served
on 127.0.0.1; time is a clock that moves only when read, never a sleep."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from bot.core.schemes import Scheme
from bot.services.outbound.sending import TickReport
from storage.db import Database
from storage.models import CalendarFeed, Entry, SeenOccurrence
from tests.scheduling import run_tick, tick, user
from tests.services import test_calendar_flow as flow
from tests.services.test_calendar_flow import FeedServer, Route, connect, prompts, setup, show, utc

# The calendar host on 127.0.0.1 of tests/services/test_calendar_flow.py, as a fixture here too.
feeds = flow.feeds

NOW = utc(2026, 3, 2, 12)
# Every walk of this series produces 46,000 dates before the window: valid, but slow.
HEAVY = "RRULE:FREQ=DAILY"
ZERO = "RRULE:FREQ=DAILY;INTERVAL=0"  # ran for ever and grew memory without limit


def ics(*events: str) -> bytes:
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + "".join(events) + "END:VCALENDAR\r\n").encode()


def vevent(uid: str, summary: str, start: datetime, minutes: int = 60, extra: str = "") -> str:
    end = start + timedelta(minutes=minutes)
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART:{start:%Y%m%dT%H%M%SZ}\r\n"
        f"DTEND:{end:%Y%m%dT%H%M%SZ}\r\nSUMMARY:{summary}\r\n{extra}END:VEVENT\r\n"
    )


def hostile() -> bytes:
    return ics(
        vevent("zero", "Training zero", utc(2026, 1, 1, 10), extra=ZERO + "\r\n"),
        *[
            vevent(f"heavy{i}", f"Training {i}", utc(1900, 1, 1, 10), extra=HEAVY + "\r\n")
            for i in range(20)
        ],
    )


def webinar() -> bytes:
    return ics(vevent("w1", "Webinar on pumps", NOW - timedelta(hours=2)))


class ReadClock:
    """The monotonic clock of feed reading: moves `step` seconds each time it is read.

    `gate_at`: on that read, say so (`inside`) and wait for `release`: the reading of a
    feed is then held in the middle of one series' walk for as long as the test wants.
    """

    def __init__(self, step: float, gate_at: int | None = None) -> None:
        self.step = step
        self.now = 0.0
        self.reads = 0
        self.gate_at = gate_at
        self.inside = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> float:
        self.reads += 1
        if self.reads == self.gate_at:
            self.inside.set()
            assert self.release.wait(30), "the test never let the reading go on"
        self.now += self.step
        return self.now


def feed_row(db: Database, url: str) -> CalendarFeed:
    with db.transaction() as s:
        row = s.exec(select(CalendarFeed).where(CalendarFeed.url == url)).one()
        s.expunge(row)
        return row


def test_a_hostile_feed_costs_its_budget_and_the_tick_still_serves_everyone(
    db: Database, schemes: dict[str, Scheme], feeds: FeedServer
) -> None:
    clock, engine, jobs = setup(db, schemes, NOW - timedelta(days=1))
    bob, eve = user(engine, "bob"), user(engine, "eve")
    connect(bob, feeds.base + "/bob.ics")
    connect(eve, feeds.base + "/eve.ics")
    feeds.routes["/bob.ics"] = Route(webinar())
    feeds.routes["/eve.ics"] = Route(hostile())
    budget = ReadClock(step=0.01)
    jobs.polling.read_clock = budget
    jobs.polling.read_time_limit = 1.0  # 100 reads of the clock

    done: list[object] = []
    worker = threading.Thread(target=lambda: done.append(run_tick(jobs, clock, NOW)), daemon=True)
    worker.start()
    worker.join(120)  # a guard only: the tick takes well under a second
    assert done, "the tick never finished: one feed stopped the scheduler"
    sent = done[0].sent  # type: ignore[attr-defined]
    # Bob's prompt went out; Eve hears that her calendar could not be read.
    assert prompts(sent) == ["'Webinar on pumps' (1 h, today 10:00) has ended — log it as CPD?"]
    (failure,) = [m for m in sent if m.kind == "feedfail"]
    assert failure.recipient.user_id == "eve"
    assert "too complex to read in time" in failure.reply.text
    # Eve's feed cost at most its budget: 100 reads, plus bob's few and the first.
    assert budget.reads <= 100 + 10
    assert feed_row(db, feeds.base + "/eve.ics").failures == 1
    assert feed_row(db, feeds.base + "/bob.ics").failures == 0


def test_sending_goes_on_while_a_hostile_feed_is_being_read(
    db: Database, schemes: dict[str, Scheme], feeds: FeedServer
) -> None:
    clock, engine, jobs = setup(db, schemes, NOW - timedelta(days=1))
    bob, eve = user(engine, "bob"), user(engine, "eve")
    connect(bob, feeds.base + "/bob.ics")  # polled first: its prompt is queued first
    connect(eve, feeds.base + "/eve.ics")
    feeds.routes["/bob.ics"] = Route(webinar())
    feeds.routes["/eve.ics"] = Route(hostile())
    # Read 40 is inside a walk of heavy0 (bob's feed takes 3 reads, eve's 25 before it).
    reading = ReadClock(step=0.01, gate_at=40)
    jobs.polling.read_clock = reading
    jobs.polling.read_time_limit = 1.0
    clock.now = NOW

    async def planning_and_sending() -> tuple[TickReport, tuple[int, int]]:
        planning = asyncio.create_task(jobs.poll_calendars(NOW))  # cpdbot run's plan job
        assert await asyncio.to_thread(reading.inside.wait, 60), "eve's feed was never read"
        assert not planning.done()  # eve's feed is being read, in the middle of a series
        meanwhile = await jobs.send_due(NOW)  # cpdbot run's send job, on the same loop
        reading.release.set()
        return meanwhile, await planning

    meanwhile, (polled, enqueued) = asyncio.run(planning_and_sending())
    assert [(m.recipient.user_id, m.kind) for m in meanwhile.sent] == [("bob", "calendar")]
    assert (polled, enqueued) == (2, 2)  # bob's prompt, then eve's failure notice
    (later,) = tick(jobs, clock, NOW)
    assert (later.recipient.user_id, later.kind) == ("eve", "feedfail")
    assert reading.reads <= 100 + 10


def test_a_nul_in_one_events_title_neither_blocks_the_feed_nor_reaches_a_message(
    db: Database, schemes: dict[str, Scheme], feeds: FeedServer
) -> None:
    clock, engine, jobs = setup(db, schemes, NOW - timedelta(days=1))
    ann = user(engine, "ann")
    connect(ann, feeds.base + "/ann.ics")
    feeds.routes["/ann.ics"] = Route(
        ics(
            vevent("n1", "Webinar\x00 on\u202e safety\u200b", NOW - timedelta(hours=3)),
            vevent("n2", "Course on pumps", NOW - timedelta(hours=2)),
        )
    )
    sent = tick(jobs, clock, NOW)
    assert prompts(sent) == [
        "'Webinar on safety' (1 h, today 09:00) has ended — log it as CPD?",
        "'Course on pumps' (1 h, today 10:00) has ended — log it as CPD?",
    ]
    assert feed_row(db, feeds.base + "/ann.ics").failures == 0
    show(ann, sent[0])
    ann.press("Log it")
    assert "Logging 'Webinar on safety' · today · 1 h · Events and seminars." in ann.text
    ann.say("skip")
    ann.say("skip")
    assert "Saved #1: Webinar on safety" in ann.text
    with db.transaction() as s:
        assert [e.title for e in s.exec(select(Entry)).all()] == ["Webinar on safety"]
        titles = sorted(o.title for o in s.exec(select(SeenOccurrence)).all())
        assert titles == ["Course on pumps", "Webinar on safety"]


def test_a_feed_whose_events_cannot_be_stored_is_reported_as_failed(
    db: Database, schemes: dict[str, Scheme], feeds: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, engine, jobs = setup(db, schemes, NOW - timedelta(days=1))
    ann = user(engine, "ann")
    connect(ann, feeds.base + "/ann.ics")
    feeds.routes["/ann.ics"] = Route(webinar())

    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("the database refused the row")

    monkeypatch.setattr("storage.feeds.add_seen", broken)
    sent = tick(jobs, clock, NOW)
    (failure,) = sent
    assert (failure.recipient.user_id, failure.kind) == ("ann", "feedfail")
    assert failure.reply.text.startswith(
        "I couldn't read the calendar you added (127.0.0.1/…): its events could not be saved"
    )
    assert "the database refused" not in failure.reply.text
    row = feed_row(db, feeds.base + "/ann.ics")
    assert (row.failures, row.last_ok_at) == (1, None)
    # Once storing works again, the event is prompted for (nothing was lost).
    monkeypatch.undo()
    clock.now = NOW + timedelta(hours=1)
    sent = tick(jobs, clock, clock.now)
    assert prompts(sent) == ["'Webinar on pumps' (1 h, today 10:00) has ended — log it as CPD?"]


@pytest.mark.parametrize(
    "url", ["https://xn--a.com/x.ics", "https://xn--ls8h.xn--a.example/cal.ics", "webcal://xn--/c"]
)
def test_an_address_with_invalid_punycode_gets_a_clear_reply(
    db: Database, schemes: dict[str, Scheme], url: str
) -> None:
    _, engine, _ = setup(db, schemes, NOW)
    ann = user(engine, "ann")
    ann.say(f"/calendar add {url}")
    assert "can't use that calendar address" in ann.text
    assert "does not have a valid host name" in ann.text
    ann.say("/calendar list")
    assert "No calendar connected" in ann.text


def test_a_reader_that_breaks_on_a_feed_fails_that_feed_and_tells_its_owner(
    db: Database, schemes: dict[str, Scheme], feeds: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, engine, jobs = setup(db, schemes, NOW - timedelta(days=1))
    ann, bob = user(engine, "ann"), user(engine, "bob")
    connect(ann, feeds.base + "/ann.ics")
    connect(bob, feeds.base + "/bob.ics")
    feeds.routes["/ann.ics"] = Route(
        ics(vevent("x", "Course on <secret>", NOW - timedelta(hours=2)))
    )
    feeds.routes["/bob.ics"] = Route(webinar())
    from bot.services import calendar as cal

    real = cal.read_feed

    def breaks_on_anns(body: bytes, **kwargs: object) -> object:
        if b"secret" in body:
            raise RecursionError("Course on <secret>")  # a library failing on this feed
        return real(body, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cal, "read_feed", breaks_on_anns)
    sent = tick(jobs, clock, NOW)
    assert sorted((m.recipient.user_id, m.kind) for m in sent) == [
        ("ann", "feedfail"),
        ("bob", "calendar"),
    ]
    (failure,) = [m for m in sent if m.kind == "feedfail"]
    assert "secret" not in failure.reply.text
    assert feed_row(db, feeds.base + "/ann.ics").failures == 1

"""Absences hold the nudges (issue 15): an out-of-office stretch read from a calendar holds
the monthly nudge, reminders, prompts and the year-end record until the first day back,
at the nudge hour, then sends each once; a /pause still drops them. The absence is stored
with `record_absences` as the calendar poller stores it (reading calendars is tested
elsewhere), and the real planner and send loop run against SQLite and PostgreSQL with
frozen time and a recording sender. Calendar polling is left out of these ticks: no
calendar here is real.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from bot.core import agenda
from bot.core.schemes import Scheme
from bot.services.engine import Engine
from bot.services.outbound.jobs import Jobs
from bot.services.outbound.sending import AWAY_NOTE, Sent
from storage import calendar_accounts, feeds
from storage.db import Database
from tests.conftest import Clock
from tests.scheduling import (
    add_entry,
    make_jobs,
    outbox_rows,
    person_of,
    sent_to,
    set_person,
    user,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def tick(jobs: Jobs, clock: Clock, at: datetime) -> list[Sent]:
    """Plan and send once as if at `at` (no calendar polling: see the module docstring)."""
    clock.now = at
    jobs.plan(at)
    return asyncio.run(jobs.send_due(at)).sent


def away(db: Database, name: str, start: datetime, end: datetime, uid: str = "oof") -> int:
    """Record an absence of `name` from `start` to `end`, as a poll of their calendar
    would (the feed's id, for releasing it later)."""
    pid = person_of(db, name).id
    assert pid is not None
    with db.transaction() as s:
        feed = feeds.add_feed(s, pid, "https://cal.example.org/a.ics", owner_emails=(), now=start)
        fid = int(feed.id or 0)
        window = (start - timedelta(days=2), end + timedelta(days=14))
        calendar_accounts.record_absences(s, fid, pid, [(uid, start, end)], window=window)
    return fid


def hour_by_hour(
    jobs: Jobs, clock: Clock, start: datetime, hours: int
) -> list[tuple[Sent, datetime]]:
    """Tick every hour from `start`; each message sent with when it went."""
    sent: list[tuple[Sent, datetime]] = []
    for h in range(hours):
        at = start + timedelta(hours=h)
        sent += [(m, at) for m in tick(jobs, clock, at)]
    return sent


# ---------------------------------------------------------------- pure: when back


def test_back_is_the_nudge_hour_of_the_first_day_back_in_local_time() -> None:
    london = "Europe/London"
    # A week off ends at local midnight: back at 09:00 that day, not at midnight.
    assert agenda.back_at(london, 9, utc(2026, 12, 7, 0)) == utc(2026, 12, 7, 9)
    # Out of office until 17:00: the next morning.
    assert agenda.back_at(london, 9, utc(2026, 12, 4, 17)) == utc(2026, 12, 5, 9)
    # Midnight BST after the clocks went back on 25 October: 09:00 GMT.
    assert agenda.back_at(london, 9, utc(2026, 10, 25, 23)) == utc(2026, 10, 26, 9)
    # Back on the day clocks go forward (29 March 2026): 09:00 BST is 08:00 UTC.
    assert agenda.back_at(london, 9, utc(2026, 3, 29, 0)) == utc(2026, 3, 29, 8)
    assert agenda.back_at("America/New_York", 8, utc(2026, 3, 9, 4)) == utc(2026, 3, 9, 12)


# ---------------------------------------------------------------- the monthly nudge


def test_an_out_of_office_week_holds_the_monthly_nudge_until_the_first_day_back(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(utc(2026, 11, 20, 12))
    user(Engine(db, schemes, clock), "ola")
    # Off from Mon 30 Nov to Sun 6 Dec (all day, London: UTC in winter); due Tue 1 Dec 09:00.
    away(db, "ola", utc(2026, 11, 30), utc(2026, 12, 7))
    jobs, recorder = make_jobs(db, schemes, clock)
    sent = hour_by_hour(jobs, clock, utc(2026, 11, 30), 9 * 24)
    assert [(sent_to([m]), at) for m, at in sent] == [
        ([("ola", "nudge", "2026-12")], utc(2026, 12, 7, 9))
    ]
    assert "Your monthly CPD check-in" in sent[0][0].reply.text
    # One decision, one send: no skipped row beside it; a second scheduler sends nothing.
    assert [(r.key, r.state) for r in outbox_rows(db, "nudge")] == [("2026-12", "sent")]
    other, _ = make_jobs(db, schemes, clock)
    assert tick(other, clock, utc(2026, 12, 7, 9)) == []
    assert tick(jobs, clock, utc(2026, 12, 7, 9, 1)) == []
    assert len(recorder.sent) == 1


def test_a_held_nudge_goes_at_the_local_nudge_hour_across_a_dst_change(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(utc(2026, 10, 10, 12))
    user(Engine(db, schemes, clock), "nye", "America/New_York")
    set_person(db, "nye", nudge_day=30, nudge_hour=8)
    # Away from 28 Oct to the end of 2 Nov, New York time (EDT until 1 Nov, then EST).
    away(db, "nye", utc(2026, 10, 28, 4), utc(2026, 11, 3, 5))
    jobs, _ = make_jobs(db, schemes, clock)
    sent = hour_by_hour(jobs, clock, utc(2026, 10, 28), 8 * 24)
    # Due Fri 30 Oct 08:00 EDT (12:00 UTC); sent Tue 3 Nov 08:00 EST (13:00 UTC).
    assert [(sent_to([m]), at) for m, at in sent] == [
        ([("nye", "nudge", "2026-10")], utc(2026, 11, 3, 13))
    ]


def test_an_absence_cancelled_before_the_nudge_time_lets_the_nudge_go_on_time(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(utc(2026, 11, 20, 12))
    user(Engine(db, schemes, clock), "cal")
    start, end = utc(2026, 11, 30), utc(2026, 12, 7)
    fid = away(db, "cal", start, end)
    jobs, _ = make_jobs(db, schemes, clock)
    assert tick(jobs, clock, utc(2026, 11, 30, 12)) == []
    # The next poll no longer finds the holiday (cancelled in the calendar): released.
    pid = person_of(db, "cal").id
    assert pid is not None
    with db.transaction() as s:
        window = (start - timedelta(days=2), end + timedelta(days=14))
        released = calendar_accounts.record_absences(s, fid, pid, [], window=window)
        assert released.released == 1
    assert tick(jobs, clock, utc(2026, 12, 1, 8, 59)) == []
    assert sent_to(tick(jobs, clock, utc(2026, 12, 1, 9))) == [("cal", "nudge", "2026-12")]
    assert hour_by_hour(jobs, clock, utc(2026, 12, 1, 10), 8 * 24) == []


def test_a_long_leave_sends_one_nudge_after_it_not_one_per_month(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(utc(2026, 11, 1, 12))
    user(Engine(db, schemes, clock), "pip")
    away(db, "pip", utc(2026, 11, 16), utc(2027, 3, 10), uid="parental-leave")
    jobs, _ = make_jobs(db, schemes, clock)
    sent: list[tuple[Sent, datetime]] = []
    day = utc(2026, 11, 16, 9)
    while day < utc(2027, 4, 1):
        for hour in (0, 1, 2):  # 09:00-11:00 local each day (London: UTC in winter)
            at = day + timedelta(hours=hour)
            sent += [(m, at) for m in tick(jobs, clock, at)]
        day += timedelta(days=1)
    # December, January and February fell in the leave: one nudge, March's, on the
    # first day back; none for the months before it, none twice.
    assert [(sent_to([m]), at) for m, at in sent] == [
        ([("pip", "nudge", "2027-03")], utc(2027, 3, 10, 9))
    ]
    rows = {r.key: (r.state, r.last_error) for r in outbox_rows(db, "nudge")}
    assert rows["2027-03"] == ("sent", None)
    assert {rows[k] for k in ("2026-12", "2027-01", "2027-02")} == {
        ("skipped", "away until the next nudge")
    }


def test_a_pause_still_drops_the_nudge_an_absence_would_hold(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(utc(2026, 11, 20, 12))
    chat = user(Engine(db, schemes, clock), "pam")
    chat.say("/pause until 3 December")
    away(db, "pam", utc(2026, 11, 30), utc(2026, 12, 7))
    jobs, _ = make_jobs(db, schemes, clock)
    assert hour_by_hour(jobs, clock, utc(2026, 11, 30), 10 * 24) == []
    assert [(r.state, r.last_error) for r in outbox_rows(db, "nudge")] == [("skipped", "paused")]


# ---------------------------------------------------------------- queued messages


def test_a_queued_reminder_due_in_an_absence_waits_until_the_first_day_back(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(utc(2026, 11, 10, 10))
    user(Engine(db, schemes, clock), "rem")
    add_entry(db, "rem", day=date(2026, 11, 9), minutes=60, pending=True, created_at=clock.now)
    queue_only, _ = make_jobs(db, schemes, clock, senders={})
    assert tick(queue_only, clock, utc(2026, 11, 12, 10)) == []  # decided, not yet sent
    (row,) = outbox_rows(db, "reflect")
    assert (row.state, row.due_at) == ("pending", utc(2026, 11, 12, 10))
    # An out-of-office afternoon and day, recorded after the reminder was queued.
    away(db, "rem", utc(2026, 11, 12, 10, 30), utc(2026, 11, 13, 18))
    jobs, recorder = make_jobs(db, schemes, clock)
    assert tick(jobs, clock, utc(2026, 11, 12, 11)) == []
    (row,) = outbox_rows(db, "reflect")
    assert (row.state, row.due_at, row.last_error) == ("pending", utc(2026, 11, 14, 9), AWAY_NOTE)
    sent = hour_by_hour(jobs, clock, utc(2026, 11, 12, 12), 3 * 24)
    assert [(sent_to([m]), at) for m, at in sent] == [
        ([("rem", "reflect", "1")], utc(2026, 11, 14, 9))
    ]
    assert "reflections to write for #1" in sent[0][0].reply.text
    assert len(recorder.sent) == 1
    assert [r.state for r in outbox_rows(db, "reflect")] == ["sent"]


def test_no_reminder_is_decided_while_away_and_one_comes_once_back(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(utc(2026, 11, 10, 10))
    user(Engine(db, schemes, clock), "rex")
    add_entry(db, "rex", day=date(2026, 11, 9), minutes=60, pending=True, created_at=clock.now)
    away(db, "rex", utc(2026, 11, 11), utc(2026, 11, 16))
    jobs, _ = make_jobs(db, schemes, clock)
    sent = hour_by_hour(jobs, clock, utc(2026, 11, 11), 6 * 24)
    assert [(sent_to([m]), at) for m, at in sent] == [
        ([("rex", "reflect", "1")], utc(2026, 11, 16, 9))
    ]


# ---------------------------------------------------------------- the year-end record


def test_an_absence_delays_the_year_end_record_to_the_first_day_back(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    # Not a pausable kind: like a pause, an absence delays it (docs/scheduler.md).
    clock = Clock(utc(2026, 12, 20, 12))
    user(Engine(db, schemes, clock), "yen")
    add_entry(db, "yen", day=date(2026, 3, 2), minutes=60, created_at=clock.now)
    away(db, "yen", utc(2026, 12, 24), utc(2027, 1, 4), uid="christmas-holiday")
    jobs, _ = make_jobs(db, schemes, clock)
    sent = hour_by_hour(jobs, clock, utc(2026, 12, 31, 12), 5 * 24)
    yearend = [(m.key, at) for m, at in sent if m.kind == "yearend"]
    back = utc(2027, 1, 4, 9)
    assert yearend == [
        ("2026-01-01", back),
        ("2026-01-01:chart", back),
        ("2026-01-01:json", back),
    ]
    # The January nudge fell in the holiday too: it goes on the first day back as well.
    assert [(m.key, at) for m, at in sent if m.kind == "nudge"] == [("2027-01", back)]

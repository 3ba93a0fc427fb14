"""Hostile calendar feeds: what one costs, and whether the scheduler keeps sending meanwhile.

    python bench/hostile_feed.py [--people 50] [--heavy 300] [--budget 10]

1. Reading: `read_feed` with the real clock and the real budget (`--budget` seconds) on
   feeds written to hang or exhaust the reader: INTERVAL=0 in an event and in a time zone
   (before issue 12: for ever, 1.8 GB and growing), every invalid rule part, a rule that
   slips past the up-front checks (they are switched off for that one), and HEAVY valid
   series that each walk 46,000 dates before the window. Prints the time each took, what
   came of it, and the process's peak memory.
2. The scheduler, as `cpdbot run` drives it: the planning job polls Eve's feed (the HEAVY
   series, served on 127.0.0.1) while the send job, on the same event loop, sends PEOPLE
   other people's messages through a Sender that takes 20 ms a message. Prints how long
   the poll took against the budget, what Eve was told, when the others' messages went
   out, and the longest wait between two sends.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core import agenda
from bot.core.model import IdentityKey, Outgoing
from bot.core.schemes import default_schemes
from bot.services.calendar import FeedError, read_feed
from bot.services.calendar import expand as expand_module
from bot.services.outbound.jobs import Jobs
from bot.services.outbound.planner import queued
from storage import feeds as feed_store
from storage import outbox, repo
from storage.db import Database

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
WINDOW = {"start": NOW - timedelta(days=1), "end": NOW}


def vevent(uid: str, start: str, rule: str = "") -> str:
    rrule = f"RRULE:{rule}\r\n" if rule else ""
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART:{start}\r\nDURATION:PT1H\r\n"
        f"SUMMARY:Training {uid}\r\n{rrule}END:VEVENT\r\n"
    )


def ics(*parts: str) -> bytes:
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + "".join(parts) + "END:VCALENDAR\r\n").encode()


def heavy(count: int) -> bytes:
    return ics(*[vevent(f"h{i}", "19000101T100000Z", "FREQ=DAILY") for i in range(count)])


ZONE_ZERO = (
    "BEGIN:VTIMEZONE\r\nTZID:Evil\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;INTERVAL=0;BYMONTH=10;"
    "BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
)
INVALID = (
    "FREQ=DAILY;INTERVAL=0",
    "FREQ=DAILY;INTERVAL=-1",
    "FREQ=DAILY;COUNT=0",
    "FREQ=MONTHLY;BYMONTHDAY=0",
    "FREQ=DAILY;BYHOUR=25",
    "FREQ=YEARLY;BYSETPOS=0;BYMONTH=1",
)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(name: str, body: bytes, budget: float) -> None:
    begin = time.perf_counter()
    try:
        reading = read_feed(body, **WINDOW, time_limit=budget)  # type: ignore[arg-type]
        outcome = f"{len(reading.occurrences)} occurrences, {len(reading.skipped)} left out"
        if reading.skipped:
            outcome += f" ({reading.skipped[0]})"
    except FeedError as exc:
        outcome = f"FeedError: {exc}"
    elapsed = time.perf_counter() - begin
    print(f"  {name:<34} {elapsed:7.2f} s  peak {peak_mb():6.0f} MB  {outcome}")


def reading(heavy_count: int, budget: float) -> None:
    print(f"1. read_feed, real clock, budget {budget:g} s")
    zero = vevent("zero", "20260101T100000Z", "FREQ=DAILY;INTERVAL=0")
    timed("INTERVAL=0 in an event", ics(zero, vevent("ok", "20260302T090000Z")), budget)
    in_zone = vevent("z", "20260302T090000").replace("DTSTART:", "DTSTART;TZID=Evil:")
    timed("INTERVAL=0 in a time zone", ics(ZONE_ZERO, in_zone), budget)
    invalid = [vevent(f"bad{i}", "20260101T100000Z", rule) for i, rule in enumerate(INVALID)]
    timed(f"{len(INVALID)} invalid rules", ics(*invalid, vevent("ok", "20260302T090000Z")), budget)
    saved = expand_module._check_rules
    expand_module._check_rules = lambda event, end: None  # type: ignore[assignment]
    try:
        timed("INTERVAL=0, up-front checks off", ics(zero), budget)
    finally:
        expand_module._check_rules = saved
    timed("1 heavy series", heavy(1), budget)
    timed(f"{heavy_count} heavy series", heavy(heavy_count), budget)


class SlowSender:
    """A Sender taking 20 ms a message; records when each was sent."""

    def __init__(self, start: Callable[[], float]) -> None:
        self.start = start
        self.sent: list[tuple[float, str]] = []

    async def send(self, identity: IdentityKey, chat_id: str | None, reply: Outgoing) -> None:
        await asyncio.sleep(0.02)
        self.sent.append((self.start(), identity.user_id))


def serve(body: bytes) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/eve.ics"


def populate(db: Database, people: int, url: str) -> None:
    with db.transaction() as s:
        messages = []
        for i in range(people + 1):
            name = "eve" if i == people else f"p{i}"
            identity, person, _ = repo.get_or_create_identity(
                s, IdentityKey("console", name), now=NOW - timedelta(days=30)
            )
            assert person.id is not None and identity.id is not None
            repo.update_person(s, person.id, {"onboarded": True})
            if name == "eve":
                feed_store.add_feed(s, person.id, url, owner_emails=(), now=NOW)
                continue
            msg = agenda.Message(kind="nudge", key=f"bench:{i}", text="Your CPD update", due_at=NOW)
            messages.append(queued(person.id, identity.id, msg))
        outbox.enqueue(s, messages, now=NOW)


async def both_jobs(jobs: Jobs, sender: SlowSender) -> tuple[float, list[float]]:
    """The planning job (the poll) and the send job, as `cpdbot run` runs them."""
    begin = time.perf_counter()
    planning = asyncio.create_task(jobs.poll_calendars(NOW))
    rounds: list[float] = []
    while not planning.done():
        round_start = time.perf_counter()
        await jobs.send_due(NOW)
        rounds.append(time.perf_counter() - round_start)
        await asyncio.sleep(0.25)
    await planning
    return time.perf_counter() - begin, rounds


def scheduler(people: int, heavy_count: int, budget: float) -> None:
    print(f"2. one poll of Eve's {heavy_count} heavy series; {people} other people's messages due")
    server, url = serve(heavy(heavy_count))
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{folder}/bench.db")
        db.create_all()
        populate(db, people, url)
        origin = time.perf_counter()
        sender = SlowSender(lambda: time.perf_counter() - origin)
        jobs = Jobs(
            db,
            dict(default_schemes()),
            lambda: NOW,
            senders={"console": sender},
            allow_private_feeds=True,
        )
        jobs.polling.read_time_limit = budget
        elapsed, rounds = asyncio.run(both_jobs(jobs, sender))
        with db.transaction() as s:
            row: Any = feed_store.feeds_to_consider(s)[0]
            error = s.exec(_last_error(row.feed_id)).one()
        db.dispose()
    server.shutdown()
    others = [at for at, who in sender.sent if who != "eve"]
    gaps = [b - a for a, b in itertools.pairwise(others)]
    print(f"  the poll took {elapsed:.2f} s (budget {budget:g} s); Eve's feed: {error}")
    print(
        f"  {len(others)}/{people} other messages sent while it ran, the last at "
        f"{max(others, default=0):.2f} s; longest wait between two sends "
        f"{max(gaps, default=0):.3f} s; {len(rounds)} send rounds meanwhile"
    )


def _last_error(feed_id: int) -> Any:
    from sqlmodel import select

    from storage.models import CalendarFeed

    return select(CalendarFeed.last_error).where(CalendarFeed.id == feed_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--heavy", type=int, default=300)
    parser.add_argument("--budget", type=float, default=10.0)
    args = parser.parse_args()
    reading(args.heavy, args.budget)
    scheduler(args.people, args.heavy, args.budget)


if __name__ == "__main__":
    main()

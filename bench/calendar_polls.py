"""Polling 1,000 connected calendars within one poll interval (CALENDAR_POLL_MINUTES, 10).

    python bench/calendar_polls.py [--ics 600] [--graph 300] [--caldav 100] [--events 20]
                             [--db postgresql://user@host/db]

The real `CalendarPoller` (the scheduler's) polls every calendar once, as at start-up
when all are due, then again ten minutes later (the steady state), on a SQLite file in a
temporary folder (or, with --db, a scratch schema of that PostgreSQL database). Each
person has one calendar; each calendar holds --events events over the coming days, a few
of them training events that just ended (so prompts are enqueued) and one all-day leave
(an absence). The other side runs on 127.0.0.1, outside this process so that the
poller's CPU is its own:

- ICS: an aiohttp server (child process) serving one feed per calendar, with ETags, so
  the second poll gets `304 Not Modified`;
- Outlook: tests/fake_microsoft.py (same child process): calendarView/delta rounds with
  an access token per calendar; the second poll follows the delta link;
- CalDAV: a real Radicale (tests/radicale_server.py, its own process), one calendar
  collection per connected calendar, read with a time-range REPORT each poll.

Printed: calendars per second, the time per calendar (fetch + recording, p50/p95 per
kind), the wall time of each poll against the 10-minute interval, and the CPU of this
process, of the fakes and of Radicale.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pgscratch

NOW = datetime(2026, 11, 24, 10, 5, tzinfo=UTC)  # a Tuesday morning
KEY = "OnQPHixGLtihF5N25svYBjI-As5tmrYvOZrdukmbqvg="  # a bench-only Fernet key
CLIENT_ID = "22222222-3333-4444-8555-666666666666"
INTERVAL = timedelta(minutes=10)


def plan_events(n: int, events: int) -> list[tuple[str, str, datetime, datetime, bool]]:
    """Calendar n's events: (uid, title, start, end, all day). Two training events that
    ended in the last ten minutes, stand-ups, meetings and one day of annual leave."""
    found: list[tuple[str, str, datetime, datetime, bool]] = [
        (f"c{n}-course", "Training: arc-flash safety course", NOW - timedelta(hours=2),
         NOW - timedelta(minutes=3), False),
        (f"c{n}-webinar", "IET webinar: AI safety", NOW - timedelta(hours=1),
         NOW - timedelta(minutes=8), False),
        (f"c{n}-leave", "Annual leave", datetime(2026, 12, 1, tzinfo=UTC),
         datetime(2026, 12, 2, tzinfo=UTC), True),
    ]  # fmt: skip
    for i in range(max(0, events - len(found))):
        start = NOW.replace(hour=9, minute=0) + timedelta(days=i // 4, hours=2 * (i % 4))
        title = "Stand-up" if i % 2 else f"Project meeting {i}"
        found.append((f"c{n}-e{i}", title, start, start + timedelta(minutes=45), False))
    return found


def ics_event(uid: str, title: str, start: datetime, end: datetime, all_day: bool) -> str:
    if all_day:
        when = f"DTSTART;VALUE=DATE:{start:%Y%m%d}\r\nDTEND;VALUE=DATE:{end:%Y%m%d}"
    else:
        when = f"DTSTART:{start:%Y%m%dT%H%M%SZ}\r\nDTEND:{end:%Y%m%dT%H%M%SZ}"
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\n{when}\r\n"
        f"SUMMARY:{title}\r\nEND:VEVENT\r\n"
    )


def ics_calendar(body: str) -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//cpdbot bench//EN\r\n"
        + body
        + "END:VCALENDAR\r\n"
    ).encode()


# ---------------------------------------------------------------- the fakes' process


async def serve_fakes(ics: int, graph: int, events: int) -> None:
    """ICS feeds and the fake Microsoft on free ports (printed as JSON) until stdin closes."""
    from aiohttp import web

    from tests.fake_microsoft import FakeMicrosoft

    feeds = {
        n: ics_calendar("".join(ics_event(*e) for e in plan_events(n, events))) for n in range(ics)
    }

    async def feed(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        etag = f'"v1-{n}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=feeds[n], content_type="text/calendar", charset="utf-8", headers={"ETag": etag}
        )

    app = web.Application()
    app.router.add_get("/cal/{n}.ics", feed)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    ics_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    microsoft = await FakeMicrosoft().start()
    for _uid, title, start, end, all_day in plan_events(0, events):
        microsoft.add_event(
            title, start, end, all_day=all_day, show_as="oof" if all_day else "busy"
        )
    tokens = []
    for n in range(graph):
        tokens.append(microsoft.issue(f"user{n}@contoso.example"))
    print(json.dumps({"ics": f"http://127.0.0.1:{ics_port}", "graph": microsoft.url,
                      "tokens": tokens}), flush=True)  # fmt: skip
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await microsoft.stop()
    await runner.cleanup()


# ---------------------------------------------------------------- CPU of other processes


def cpu_of(pid: int) -> float:
    """Seconds of CPU (user + system) process `pid` has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Timings:
    fetch: dict[int, float] = field(default_factory=dict)
    record: dict[int, float] = field(default_factory=dict)


def timed_poller(poller: Any, timings: Timings) -> None:
    """Time each calendar's fetch (the network part, without waiting for the concurrency
    gate) and its recording (parsing and the transaction), around the real poller."""
    make_sources = poller.sources

    def sources(client: Any) -> dict[str, Any]:
        return {kind: _Timed(source, timings) for kind, source in make_sources(client).items()}

    after_fetch = poller._after_fetch

    def timed_after(source: Any, feed: Any, fetched: Any, now: datetime) -> int:
        began = time.perf_counter()
        try:
            return int(after_fetch(source, feed, fetched, now))
        finally:
            timings.record[feed.feed_id] = time.perf_counter() - began

    poller.sources = sources
    poller._after_fetch = timed_after


class _Timed:
    def __init__(self, source: Any, timings: Timings) -> None:
        self.source, self.timings = source, timings

    async def fetch(self, feed: Any, now: datetime, start: datetime) -> Any:
        began = time.perf_counter()
        try:
            return await self.source.fetch(feed, now, start)
        finally:
            self.timings.fetch[feed.feed_id] = time.perf_counter() - began

    def read(self, feed: Any, fetched: Any, now: datetime, start: datetime) -> Any:
        return self.source.read(feed, fetched, now, start)


# ---------------------------------------------------------------- set-up


def load_caldav(server: Any, count: int, events: int) -> list[str]:
    """One calendar collection per CalDAV calendar, its events PUT one by one."""
    from tests.radicale_server import _mkcalendar_body

    urls = []
    with server.client() as client:
        for n in range(count):
            url = server.calendar_url(f"bench{n}")
            client.request("MKCALENDAR", url, content=_mkcalendar_body(f"B{n}", "VEVENT"))
            for event in plan_events(10_000 + n, events):
                put = client.put(
                    f"{url}{event[0]}.ics",
                    content=ics_calendar(ics_event(*event)),
                    headers={"Content-Type": "text/calendar; charset=utf-8"},
                )
                put.raise_for_status()
            urls.append(url)
    return urls


def connect(
    db: Any, fakes: dict[str, Any], caldav: list[str], server: Any, ics: int
) -> dict[int, str]:
    """One onboarded person per calendar, and the calendar: feed id -> kind."""
    from bot.core.model import IdentityKey
    from storage import calendar_accounts, feeds, repo

    kinds: dict[int, str] = {}
    n = 0
    with db.transaction() as s:

        def person() -> int:
            nonlocal n
            n += 1
            ident, _, _ = repo.get_or_create_identity(s, IdentityKey("console", f"u{n}"), now=NOW)
            repo.update_person(s, ident.person_id, {"onboarded": True, "timezone": "Europe/London"})
            return ident.person_id

        for i in range(ics):
            feed = feeds.add_feed(
                s, person(), f"{fakes['ics']}/cal/{i}.ics", owner_emails=(), now=NOW
            )
            kinds[int(feed.id or 0)] = "ics"
        for i, (access, refresh) in enumerate(fakes["tokens"]):
            feed = calendar_accounts.add_account_feed(
                s, db.secrets, person(), kind="graph", url=fakes["graph"],
                account=f"user{i}@contoso.example", secret=refresh, now=NOW,
            )  # fmt: skip
            fid = int(feed.id or 0)
            calendar_accounts.set_tokens(s, db.secrets, fid, None, access, NOW + timedelta(hours=1))
            kinds[fid] = "graph"
        for url in caldav:
            feed = calendar_accounts.add_account_feed(
                s, db.secrets, person(), kind="caldav", url=url, account=server.username,
                secret=server.password, now=NOW,
            )  # fmt: skip
            kinds[int(feed.id or 0)] = "caldav"
    return kinds


# ---------------------------------------------------------------- the run


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def poll_once(poller: Any, now: datetime) -> tuple[int, int, float, float]:
    cpu, began = time.process_time(), time.perf_counter()
    polled, enqueued = await poller.poll_calendars(now)
    return polled, enqueued, time.perf_counter() - began, time.process_time() - cpu


def report(
    name: str,
    kinds: dict[int, str],
    timings: Timings,
    result: tuple[int, int, float, float],
    others: dict[str, float],
) -> None:
    polled, enqueued, wall, cpu = result
    print(f"\n{name}: {polled} calendars polled, {enqueued} prompts enqueued")
    print(f"  wall {wall:.1f} s = {wall / INTERVAL.total_seconds():.1%} of the 10-minute interval; "
          f"{polled / wall:.1f} calendars/s")  # fmt: skip
    print(f"  CPU: poller {cpu:.1f} s; " + "; ".join(f"{k} {v:.1f} s" for k, v in others.items()))
    print("  per calendar (fetch + record), ms:   p50     p95     max")
    for kind in ("ics", "graph", "caldav"):
        ids = [fid for fid, k in kinds.items() if k == kind and fid in timings.fetch]
        total = [1000 * (timings.fetch[i] + timings.record.get(i, 0.0)) for i in ids]
        fetch = [1000 * timings.fetch[i] for i in ids]
        if total:
            print(f"  {kind:7} {len(ids):5} calendars        {pct(total, 0.5):7.1f} "
                  f"{pct(total, 0.95):7.1f} {max(total):7.1f}   (fetch p50 "
                  f"{statistics.median(fetch):.1f})")  # fmt: skip


async def run(args: argparse.Namespace, url: str) -> None:
    from sqlalchemy import func, select
    from sqlmodel import col

    from bot.services.calendar.graph_auth import MicrosoftEndpoints
    from bot.services.outbound.calendar_polls import CalendarPoller
    from storage.db import Database
    from storage.models import CalendarFeed
    from storage.secrets import SecretBox
    from tests.radicale_server import start_radicale

    sizes = [str(args.ics), str(args.graph), str(args.events)]
    child = subprocess.Popen(  # noqa: ASYNC220 (started once, before anything is measured)
        [sys.executable, __file__, "--serve-fakes", *sizes],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stdout is not None and child.stdin is not None
    server = start_radicale() if args.caldav else None
    try:
        fakes = json.loads(child.stdout.readline())
        began = time.perf_counter()
        caldav = load_caldav(server, args.caldav, args.events) if server else []
        db = Database(url, secrets=SecretBox(KEY))
        db.create_all()
        kinds = connect(db, fakes, caldav, server, args.ics)
        print(f"set-up: {len(kinds)} calendars, {args.events} events each "
              f"({time.perf_counter() - began:.1f} s, not measured)")  # fmt: skip
        import httpx

        async with httpx.AsyncClient(timeout=15.0, trust_env=False) as http:
            poller = CalendarPoller(
                db, http=http, allow_private_feeds=True,
                microsoft=MicrosoftEndpoints(CLIENT_ID, login_url=fakes["graph"],
                                             graph_url=fakes["graph"]),
                secrets=db.secrets,
            )  # fmt: skip
            for name, now in (("first poll (all due)", NOW), ("steady poll", NOW + INTERVAL)):
                timings = Timings()
                timed_poller(poller, timings)
                before = {"fakes": cpu_of(child.pid)}
                if server:
                    before["radicale"] = cpu_of(server.process.pid)
                result = await poll_once(poller, now)
                others = {k: cpu_of(child.pid if k == "fakes" else server.process.pid) - v  # type: ignore[union-attr]
                          for k, v in before.items()}  # fmt: skip
                report(name, kinds, timings, result, others)
                poller = CalendarPoller(
                    db, http=http, allow_private_feeds=True, microsoft=poller.microsoft,
                    secrets=db.secrets,
                )  # fmt: skip
        with db.transaction() as s:
            failing = select(func.count()).where(col(CalendarFeed.failures) > 0)
            failures = s.execute(failing).scalar_one()
        print(f"\nfeeds failing after both polls: {failures}")
        db.engine.dispose()
    finally:
        child.stdin.close()
        child.wait(timeout=30)
        if server:
            server.stop()


@contextmanager
def database(url: str | None) -> Iterator[str]:
    if pgscratch.is_postgres(url):
        assert url is not None
        with pgscratch.scratch_schema(url, "bench_calendar") as scratch:
            yield scratch
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{tmp}/bench.db"


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--serve-fakes":
        asyncio.run(serve_fakes(*(int(a) for a in sys.argv[2:])))
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ics", type=int, default=600)
    p.add_argument("--graph", type=int, default=300)
    p.add_argument("--caldav", type=int, default=100)
    p.add_argument("--events", type=int, default=20)
    p.add_argument("--db", help="postgresql://user@host/db (default: a SQLite file)")
    args = p.parse_args()
    if args.db and not pgscratch.is_postgres(args.db):
        p.error("--db takes a postgresql:// URL (without it, a SQLite file is used)")
    where = f"PostgreSQL {pgscratch.shown(args.db)}" if args.db else "a SQLite file"
    print(f"{os.cpu_count()} CPUs; {args.ics} ICS + {args.graph} Outlook + {args.caldav} CalDAV "
          f"calendars; {where}")  # fmt: skip
    with database(args.db) as url:
        asyncio.run(run(args, url))


if __name__ == "__main__":
    main()

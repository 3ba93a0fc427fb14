"""Scheduler benchmark: the monthly nudge for many people, and the send loop's pace.

    python bench/nudges.py [--users 100000] [--entries 500000] [--messages 900] [--rate 30]
                           [--db postgresql://user@host/db]

1. Decide and enqueue: a SQLite file with USERS onboarded people (six time zones, five
   schemes) and ENTRIES entries (a tenth with a reflection pending) is generated in
   bulk; then `Jobs.plan_monthly` runs at 2 December 12:00 UTC, when every one of them
   is inside the grace window of their 1 December 09:00 local nudge. Prints the time to
   decide and enqueue them all (target: under 30 s), the same run again (nothing new),
   and a run at an instant when nothing is due (what each minute costs).
2. Send: MESSAGES outbox rows for as many Telegram chats, sent by `Jobs.send_due`
   through a fake Sender that takes 40 ms per call and counts sends per sliding second
   (limit: RATE messages/s). Prints the throughput against the limit (target: within 5 %),
   the busiest second, and whether any message was lost or sent twice.

With --db postgresql://user@host/db both run on PostgreSQL instead, each in a scratch
schema of that database (bench_nudges, bench_send; dropped at the end), the data loaded
with COPY and then VACUUM ANALYZE; the figures printed are the same.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import tempfile
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pgscratch

from bot.core.model import IdentityKey, Outgoing
from bot.core.schemes import default_schemes
from bot.services.outbound.jobs import Jobs
from bot.services.outbound.rate_limits import RateLimit
from storage import outbox
from storage.db import Database

ZONES = (
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "Europe/Berlin",
    "Asia/Singapore",
    "America/Los_Angeles",
)
SCHEMES = ("iet", "ies", "generic", "ipem", "step")
DUE_FOR_ALL = datetime(2026, 12, 2, 12, tzinfo=UTC)  # every zone past 1 Dec 09:00, < 3 days
QUIET = datetime(2026, 12, 12, 12, tzinfo=UTC)  # nobody's nudge is due


def _ts(moment: datetime) -> str:
    """A datetime as SQLAlchemy stores it in SQLite (naive UTC)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


PERSON_COLUMNS = (
    "id", "display_name", "timezone", "scheme_id", "status_id", "date_order", "languages",
    "studying_he", "nudge_day", "nudge_hour", "nudges_enabled", "nudge_mode",
    "calendar_all_events", "last_entry_number", "onboarded", "created_at",
)  # fmt: skip
IDENTITY_COLUMNS = ("id", "person_id", "platform", "workspace", "user_id", "unreachable")
ENTRY_COLUMNS = (
    "id", "person_id", "number", "title", "activity_date", "minutes", "category", "source",
    "created_at", "updated_at",
)  # fmt: skip
REFLECTION_COLUMNS = ("id", "entry_id", "question_id", "question", "answer", "answered_at")


def _insert(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({','.join('?' * len(columns))})"


def _person(i: int, created: object, flag: Callable[[int], object]) -> tuple[object, ...]:
    """Person i's row (PERSON_COLUMNS); `flag` makes a boolean (0/1 on SQLite)."""
    scheme = SCHEMES[i % len(SCHEMES)]
    status = default_schemes()[scheme].default_status
    return (i, f"user{i}", ZONES[i % len(ZONES)], scheme, status, "DMY", "en",
            flag(0), 1, 9, flag(1), "always" if i % 4 else "behind", flag(0), 0, flag(1),
            created)  # fmt: skip


def _entries(
    users: int, entries: int, created: object
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], Counter[int]]:
    """Entry rows, reflection rows (a tenth pending) and each person's entry count."""
    schemes = default_schemes()
    categories = {s: [c.id for c in schemes[s].categories] for s in SCHEMES}
    rng = random.Random(7)
    numbers: Counter[int] = Counter()
    entry_rows = []
    reflection_rows = []
    start = date(2026, 1, 1)
    for e in range(1, entries + 1):
        pid = rng.randint(1, users)
        numbers[pid] += 1
        scheme = SCHEMES[pid % len(SCHEMES)]
        day = start + timedelta(days=rng.randint(0, 329))
        entry_rows.append(
            (e, pid, numbers[pid], "Webinar", day.isoformat(), rng.choice((30, 60, 90, 120)),
             rng.choice(categories[scheme]), "chat", created, created)
        )  # fmt: skip
        pending = rng.random() < 0.1
        reflection_rows.append(
            (e, e, "key_points", "Key points?", None if pending else "Useful", None)
        )
    return entry_rows, reflection_rows, numbers


def generate(path: Path, users: int, entries: int) -> None:
    """Bulk-insert people, identities, entries and reflections with plain sqlite3."""
    created = _ts(datetime(2026, 1, 2, tzinfo=UTC))
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.executemany(
        _insert("person", PERSON_COLUMNS), [_person(i, created, int) for i in range(1, users + 1)]
    )
    con.executemany(
        _insert("identity", (*IDENTITY_COLUMNS, "created_at")),
        ((i, i, "console", "", f"user{i}", 0, created) for i in range(1, users + 1)),
    )
    entry_rows, reflection_rows, numbers = _entries(users, entries, created)
    con.executemany(_insert("entry", ENTRY_COLUMNS), entry_rows)
    con.executemany(_insert("reflection", REFLECTION_COLUMNS), reflection_rows)
    con.executemany(
        "UPDATE person SET last_entry_number = ? WHERE id = ?",
        ((n, pid) for pid, n in numbers.items()),
    )
    con.commit()
    con.execute("ANALYZE")
    con.close()


def generate_postgres(db: Database, users: int, entries: int) -> str:
    """The same rows on PostgreSQL with COPY (booleans as booleans, timestamps aware),
    each person loaded with their final last_entry_number; then VACUUM ANALYZE."""
    created = datetime(2026, 1, 2, tzinfo=UTC)
    entry_rows, reflection_rows, numbers = _entries(users, entries, created)
    times = {}
    with pgscratch.loading(db) as conn:
        times["person"] = pgscratch.copy(
            conn,
            "person",
            PERSON_COLUMNS,
            ((*row[:13], numbers[i], *row[14:])
             for i in range(1, users + 1) for row in [_person(i, created, bool)]),
        )  # fmt: skip
        times["identity"] = pgscratch.copy(
            conn,
            "identity",
            (*IDENTITY_COLUMNS, "created_at"),
            ((i, i, "console", "", f"user{i}", False, created) for i in range(1, users + 1)),
        )
        times["entry"] = pgscratch.copy(conn, "entry", ENTRY_COLUMNS, entry_rows)
        times["reflection"] = pgscratch.copy(
            conn, "reflection", REFLECTION_COLUMNS, reflection_rows
        )
    vacuum = pgscratch.after_load(db, ("person", "identity", "entry", "reflection"))
    return ", ".join(f"COPY {t} {s:.1f} s" for t, s in times.items()) + (
        f", VACUUM ANALYZE {vacuum:.1f} s"
    )


def bench_plan(users: int, entries: int, folder: Path, url: str | None = None) -> None:
    """Decide and enqueue on a SQLite file in `folder`, or on PostgreSQL at `url`."""
    postgres = url is not None
    path = folder / "nudges.db"
    db = Database(url or f"sqlite:///{path}")
    db.create_all()
    t0 = time.perf_counter()
    steps = generate_postgres(db, users, entries) if postgres else generate(path, users, entries)
    print(
        f"generated {users:,} people, {entries:,} entries in {time.perf_counter() - t0:.1f} s"
        + (f" ({steps})" if steps else "")
    )
    jobs = Jobs(db, default_schemes(), lambda: DUE_FOR_ALL, senders={})
    held: list[float] = []
    plain = db.transaction

    @contextmanager
    def timed() -> Iterator[Any]:
        start = time.perf_counter()
        with plain() as session:
            yield session
        held.append(time.perf_counter() - start)

    db.transaction = timed  # type: ignore[method-assign]
    t0 = time.perf_counter()
    new = jobs.plan_monthly(DUE_FOR_ALL)
    first = time.perf_counter() - t0
    longest = max(held)
    t0 = time.perf_counter()
    again = jobs.plan_monthly(DUE_FOR_ALL)
    second = time.perf_counter() - t0
    t0 = time.perf_counter()
    quiet = jobs.plan_monthly(QUIET)
    idle = time.perf_counter() - t0
    with db.transaction() as s:
        rows = outbox.counts(s)
    behind_mode = users // 4
    print(
        f"monthly nudge, all {users:,} due at once: {first:.1f} s to decide and enqueue "
        f"{new:,} messages; {rows.get('skipped', 0):,} of the {behind_mode:,} in 'only when "
        "behind' mode are on pace (decision recorded, nothing to send)"
    )
    if postgres:
        print(
            f"longest transaction: {longest:.2f} s, of {len(held)} (PostgreSQL: row locks "
            "only, no database-wide write lock for chat messages to wait for)"
        )
    else:
        print(
            f"longest transaction (SQLite write lock held): {longest:.2f} s, of {len(held)} "
            f"(chat messages wait at most this long)"
        )
    print(f"same instant again: {second:.1f} s, {again} new (target: 0)")
    print(f"an instant when nothing is due: {idle:.1f} s, {quiet} new")
    db.dispose()


class PacedFake:
    """A Telegram-like Sender: 40 ms a call; counts what it receives."""

    platform = "telegram"

    def __init__(self) -> None:
        self.times: list[float] = []
        self.received: Counter[str] = Counter()

    async def send(self, identity: IdentityKey, chat_id: str | None, reply: Outgoing) -> None:
        self.times.append(time.monotonic())
        self.received[reply.text] += 1
        await asyncio.sleep(0.04)


def busiest_second(times: list[float]) -> int:
    times = sorted(times)
    return max(bisect_left(times, t + 1.0) - i for i, t in enumerate(times))


def _send_people(path: Path, messages: int, now: datetime) -> None:
    con = sqlite3.connect(path)
    created = _ts(now)
    con.executemany(
        "INSERT INTO person (id, display_name, timezone, scheme_id, status_id, date_order, "
        "languages, studying_he, nudge_day, nudge_hour, nudges_enabled, nudge_mode, "
        "calendar_all_events, last_entry_number, onboarded, created_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        ((i, "", "UTC", "iet", "active", "DMY", "en", 0, 1, 9, 1, "always", 0, 0, 1, created)
         for i in range(1, messages + 1)),
    )  # fmt: skip
    con.executemany(
        "INSERT INTO identity (id, person_id, platform, workspace, user_id, chat_id, "
        "unreachable, created_at) VALUES (?,?,?,?,?,?,?,?)",
        ((i, i, "telegram", "", str(1000 + i), str(1000 + i), 0, created)
         for i in range(1, messages + 1)),
    )  # fmt: skip
    con.commit()
    con.close()


def bench_send(messages: int, rate: float, folder: Path, url: str | None = None) -> None:
    """The send loop on a SQLite file in `folder`, or on PostgreSQL at `url`."""
    db = Database(url or f"sqlite:///{folder / 'send.db'}")
    db.create_all()
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    if url is not None:
        with pgscratch.loading(db) as conn:
            pgscratch.copy(
                conn,
                "person",
                PERSON_COLUMNS,
                ((i, "", "UTC", "iet", "active", "DMY", "en", False, 1, 9, True, "always",
                  False, 0, True, now) for i in range(1, messages + 1)),
            )  # fmt: skip
            pgscratch.copy(
                conn,
                "identity",
                (*IDENTITY_COLUMNS, "chat_id", "created_at"),
                ((i, i, "telegram", "", str(1000 + i), False, str(1000 + i), now)
                 for i in range(1, messages + 1)),
            )  # fmt: skip
        pgscratch.after_load(db, ("person", "identity"))
    else:
        _send_people(folder / "send.db", messages, now)
    with db.transaction() as s:
        outbox.enqueue(
            s,
            [
                outbox.NewMessage(i, i, "nudge", "2026-12", {"text": f"m{i}"}, now)
                for i in range(1, messages + 1)
            ],
            now=now,
        )
    fake = PacedFake()
    jobs = Jobs(
        db,
        default_schemes(),
        lambda: now,
        senders={"telegram": fake},
        limits={"telegram": RateLimit(per_second=rate, per_recipient=1.0)},
    )
    t0 = time.monotonic()
    report = asyncio.run(jobs.send_due(now))
    elapsed = time.monotonic() - t0
    span = fake.times[-1] - fake.times[0] if len(fake.times) > 1 else 0.0
    throughput = (len(fake.times) - 1) / span if span else 0.0
    with db.transaction() as s:
        states = outbox.counts(s)
    lost = messages - len(fake.received)
    doubled = sum(1 for n in fake.received.values() if n > 1)
    print(
        f"send loop: {len(report.sent):,} messages in {elapsed:.1f} s; "
        f"{throughput:.2f} messages/s against a limit of {rate:g}/s "
        f"({(throughput - rate) / rate:+.1%}); busiest second: {busiest_second(fake.times)}"
    )
    print(f"lost: {lost}, sent twice: {doubled}, outbox states: {dict(states)}")
    db.dispose()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--users", type=int, default=100_000)
    p.add_argument("--entries", type=int, default=500_000)
    p.add_argument("--messages", type=int, default=900)
    p.add_argument("--rate", type=float, default=30.0)
    p.add_argument("--skip-plan", action="store_true")
    p.add_argument("--skip-send", action="store_true")
    p.add_argument(
        "--db",
        help="postgresql://user@host/db: run on PostgreSQL, in scratch schemas bench_nudges "
        "and bench_send of that database (dropped at the end), instead of SQLite files",
    )
    args = p.parse_args()
    if pgscratch.is_postgres(args.db):
        if not args.skip_plan:
            with pgscratch.scratch_schema(args.db, "bench_nudges") as url:
                bench_plan(args.users, args.entries, Path(), url)
        if not args.skip_send:
            with pgscratch.scratch_schema(args.db, "bench_send") as url:
                bench_send(args.messages, args.rate, Path(), url)
        return
    if args.db:
        p.error("--db takes a postgresql:// URL (without it, SQLite files are used)")
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_plan:
            bench_plan(args.users, args.entries, Path(tmp))
        if not args.skip_send:
            bench_send(args.messages, args.rate, Path(tmp))


if __name__ == "__main__":
    main()

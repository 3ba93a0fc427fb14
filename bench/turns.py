"""Turn latency: N scripted conversations through the engine on a SQLite file on disk
(or on PostgreSQL with --db postgresql://...).

    python bench/turns.py [--users 200] [--db sqlite:///path | postgresql://user@host/db]

Prints median and p99 latency per turn and turns per second. Each conversation
onboards, logs one entry in one line, one guided, then asks for /status and /list.
With --db it also prints the SQL statements and transactions per turn and how much of
a turn this process spent on its own CPU (the rest is waiting: on PostgreSQL, for the
server and the network round trips).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pgscratch import StatementCounter, is_postgres, scratch_schema, server_version

from bot.core.model import IdentityKey, Incoming, Kind
from bot.core.parsing import warm_up
from bot.core.schemes import default_schemes
from bot.services.engine import Engine
from storage.db import Database

SCRIPT: list[tuple[str, str]] = [
    ("text", "/start"),
    ("choice", "scheme:iet"),
    ("choice", "tz:Europe/London"),
    ("text", "/log 1.5h webinar on arc-flash safety yesterday #events"),
    ("text", "Arc-flash boundaries and PPE categories"),
    ("text", "I will check panel labels before isolating"),
    ("text", "/log"),
    ("text", "Wiring regulations amendment"),  # no category word: the guided path asks it
    ("text", "last tuesday"),
    ("text", "90m"),
    ("choice", "cat:self_study"),
    ("text", "Changes to RCD requirements"),
    ("choice", "r:later"),
    ("text", "/status"),
    ("text", "/list"),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument(
        "--db",
        default=None,
        help="sqlite:///path, or postgresql://user@host/db (the run uses a scratch schema, "
        "bench_turns, dropped at the end)",
    )
    args = parser.parse_args()
    if is_postgres(args.db):
        with scratch_schema(args.db, "bench_turns") as url:
            run(args.users, url, args.db)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            run(args.users, args.db or f"sqlite:///{tmp}/bench.db", args.db)


def run(users: int, url: str, given: str | None) -> None:
    db = Database(url)
    db.create_all()
    engine = Engine(db, default_schemes())
    started = time.perf_counter()
    warm_up()
    print(f"dateparser warm-up: {(time.perf_counter() - started) * 1000:.0f} ms (once, at start)")
    counter = StatementCounter(db)
    latencies: list[float] = []
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    for n in range(users):
        me = IdentityKey("bench", f"user{n}")
        for kind, value in SCRIPT:
            event = (
                Incoming(me, Kind.CHOICE, choice=value)
                if kind == "choice"
                else Incoming.text_of(me, value)
            )
            t = time.perf_counter()
            replies = engine.handle_sync(event)
            latencies.append((time.perf_counter() - t) * 1000)
            assert replies, (kind, value)
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    backend = (
        f"PostgreSQL {server_version(db)}"
        if is_postgres(url)
        else f"SQLite {sqlite3.sqlite_version}"
    )
    db.dispose()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"backend: {'sqlite file' if given is None else given.split(':')[0]}")
    print(f"conversations: {users}, turns: {len(latencies)}")
    print(f"median turn: {statistics.median(latencies):.2f} ms")
    print(f"p99 turn:    {p99:.2f} ms")
    print(f"max turn:    {latencies[-1]:.2f} ms")
    print(f"throughput:  {len(latencies) / elapsed:.0f} turns/s (one process, sequential)")
    if given is None:
        return
    turns = len(latencies)
    print(
        f"per turn: {counter.statements / turns:.1f} SQL statements in "
        f"{counter.transactions / turns:.2f} transactions; this process's CPU "
        f"{cpu * 1000 / turns:.2f} ms of {elapsed * 1000 / turns:.2f} ms wall ({backend})"
    )


if __name__ == "__main__":
    main()

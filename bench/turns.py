"""Turn latency: N scripted conversations through the engine on a SQLite file on disk.

    python bench/turns.py [--users 200] [--db sqlite:///path]

Prints median and p99 latency per turn and turns per second. Each conversation
onboards, logs one entry in one line, one guided, then asks for /status and /list.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.engine import Engine
from bot.model import IdentityKey, Incoming, Kind
from bot.parsing import warm_up
from bot.schemes import default_schemes
from storage.db import Database

SCRIPT: list[tuple[str, str]] = [
    ("text", "/start"),
    ("choice", "scheme:iet"),
    ("choice", "tz:Europe/London"),
    ("text", "/log 1.5h webinar on arc-flash safety yesterday #events"),
    ("text", "Arc-flash boundaries and PPE categories"),
    ("text", "I will check panel labels before isolating"),
    ("text", "/log"),
    ("text", "Read the wiring regulations amendment"),
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
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(args.db or f"sqlite:///{tmp}/bench.db")
        db.create_all()
        engine = Engine(db, default_schemes())
        started = time.perf_counter()
        warm_up()
        print(
            f"dateparser warm-up: {(time.perf_counter() - started) * 1000:.0f} ms (once, at start)"
        )
        latencies: list[float] = []
        t0 = time.perf_counter()
        for n in range(args.users):
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
        db.dispose()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"backend: {'sqlite file' if args.db is None else args.db.split(':')[0]}")
    print(f"conversations: {args.users}, turns: {len(latencies)}")
    print(f"median turn: {statistics.median(latencies):.2f} ms")
    print(f"p99 turn:    {p99:.2f} ms")
    print(f"max turn:    {latencies[-1]:.2f} ms")
    print(f"throughput:  {len(latencies) / elapsed:.0f} turns/s (one process, sequential)")


if __name__ == "__main__":
    main()

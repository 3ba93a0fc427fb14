"""The progress chart on scheduled messages: what drawing it at send time costs.

    python bench/charts.py [--people 100] [--entries 60] [--processes 2]

Deciding the monthly nudge draws nothing (the outbox row points at the chart; see
bench/nudges.py for deciding 100,000 of them). The send loop draws each chart when it
sends the row. This builds a SQLite file with PEOPLE people of ENTRIES activities each
this CPD year, decides their 1 March nudges, then sends them all through `Jobs.send_due`
with a Sender that takes no time and no rate limit, so the figure is the cost of making
the messages: load the year, assess the target after leave or exemptions, draw the PNG.
`--processes` is CHART_PROCESSES: charts drawn in that many worker processes (the
default, 2), or 0 for in the sending process, one at a time. The bot process's own CPU
per message is printed too: it is what a wave of nudges takes from the chat replies.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.model import IdentityKey, Outgoing
from bot.core.schemes import default_schemes
from bot.services.outbound.jobs import Jobs
from bot.services.outbound.rate_limits import RateLimit
from storage import entry_store, repo
from storage.db import Database

DUE = datetime(2026, 11, 1, 9, tzinfo=UTC)  # 09:00 in London, GMT again by then


class Instant:
    """A Sender that takes no time; records what the send loop made."""

    platform = "console"

    def __init__(self) -> None:
        self.made: list[tuple[float, Outgoing]] = []

    async def send(self, identity: IdentityKey, chat_id: str | None, reply: Outgoing) -> None:
        self.made.append((time.perf_counter(), reply))


def build(db: Database, people: int, entries: int) -> None:
    schemes = default_schemes()
    rng = random.Random(3)
    created = datetime(2026, 1, 2, tzinfo=UTC)
    with db.transaction() as s:
        for i in range(people):
            scheme = schemes[("iet", "ies", "generic")[i % 3]]
            _, person, _ = repo.get_or_create_identity(
                s, IdentityKey("console", f"p{i}"), now=created
            )
            fields = {"scheme_id": scheme.id, "status_id": scheme.default_status}
            repo.update_person(
                s, person.id, {**fields, "onboarded": True, "timezone": "Europe/London"}
            )
            cats = [c.id for c in scheme.categories]
            for n in range(1, entries + 1):
                entry_store.create_entry(
                    s,
                    person.id,
                    number=n,
                    title=f"Activity {n}",
                    activity_date=date(2026, 1, 1) + timedelta(days=rng.randint(0, 300)),
                    minutes=rng.choice((30, 60, 90, 120)),
                    category=rng.choice(cats),
                    structured=None,
                    source="chat",
                    reflections=(),
                    now=created,
                )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--people", type=int, default=100)
    p.add_argument("--entries", type=int, default=60)
    p.add_argument("--processes", type=int, default=2, help="CHART_PROCESSES")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'charts.db'}")
        db.create_all()
        build(db, args.people, args.entries)
        sender = Instant()
        jobs = Jobs(
            db,
            default_schemes(),
            lambda: DUE,
            senders={"console": sender},
            limits={"console": RateLimit()},
            chart_processes=args.processes,
        )
        t0 = time.perf_counter()
        enqueued = jobs.plan_monthly(DUE)
        decided = time.perf_counter() - t0
        t0, cpu = time.perf_counter(), time.process_time()
        report = asyncio.run(jobs.send_due(DUE))
        sent, cpu = time.perf_counter() - t0, time.process_time() - cpu
        jobs.close()
        charts = [
            r for _, r in sender.made if r.attachment and r.attachment.mime_type == "image/png"
        ]
        gaps = [b - a for (a, _), (b, _) in zip(sender.made, sender.made[1:], strict=False)]
        size = statistics.median(len(r.attachment.content) for r in charts if r.attachment)
        print(
            f"{args.people} people with {args.entries} activities each: {enqueued} nudges "
            f"decided in {decided * 1000:.0f} ms (no chart drawn)"
        )
        print(
            f"sent {len(report.sent)} with {len(charts)} charts ({size / 1000:.0f} kB each) in "
            f"{sent:.1f} s: {len(report.sent) / sent:.1f} messages/s; median "
            f"{statistics.median(gaps) * 1000:.0f} ms between messages (the first pays "
            "for importing matplotlib)"
        )
        where = f"{args.processes} chart process(es)" if args.processes else "this process"
        print(
            f"charts drawn in {where}; the sending process's CPU: "
            f"{cpu / max(1, len(report.sent)) * 1000:.0f} ms a message"
        )
        db.dispose()


if __name__ == "__main__":
    main()

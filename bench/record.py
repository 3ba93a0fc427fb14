"""/status and a full-year PDF export for a person with 2,000 entries among 1,000,000.

    python bench/record.py [--entries 1000000] [--person-entries 2000] [--db PATH]

Builds a SQLite database (999 other people share the rest; every entry has two
reflections, one in ten still pending) with plain `executemany`, then times:

- /status through `Engine.process` (identity, conversation, year summary, reply, commit)
  and `repo.year_summary` alone;
- the PDF export as `cpdbot export --format pdf` does it: load the record, plan and
  status periods, assess, draw the chart, lay out the PDF. All of the person's entries
  fall in the current CPD year, the heaviest case: a 2,000-activity record.

Targets: /status < 20 ms, PDF < 2 s.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot import records
from bot.engine import Engine
from bot.model import IdentityKey, Incoming
from bot.schemes import default_schemes
from storage import repo
from storage.db import Database
from storage.models import Identity, Person

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
USER = "bench-person"
CATEGORIES = [
    "training_courses",
    "work_experience",
    "academic_study",
    "volunteering",
    "events_and_seminars",
    "self_study",
]
TITLES = [
    "IET webinar: arc-flash risk assessment",
    "Read BS 7671 amendment – RCD changes",
    "Course: protection coordination",
    "Site visit: switchroom commissioning",
    "Mentoring a graduate engineer",
    "Conference: Future Networks (day 1)",
]
ANSWER = (
    "Incident energy depends on clearing time as much as fault level, so labels must be "
    "redone after any protection change; I will check settings when we relabel."
)
Q1 = ("key_points", "What were the key points that you remember and were relevant to you?")
Q2 = ("change", "How will you change what you do or how you behave as a result of this activity?")


def build(path: Path, total: int, mine: int) -> None:
    db = Database(f"sqlite:///{path}")
    db.create_all()
    others = 999
    people = others + 1
    with db.transaction() as session:  # people and identities through the ORM (defaults)
        for pid in range(1, people + 1):
            session.add(
                Person(
                    id=pid,
                    display_name=f"Person {pid}",
                    timezone="Europe/London",
                    scheme_id="iet",
                    status_id="active",
                    onboarded=True,
                    last_entry_number=mine if pid == 1 else total // people,
                    created_at=NOW,
                )
            )
        session.flush()
        for pid in range(1, people + 1):
            user = USER if pid == 1 else f"user-{pid}"
            session.add(Identity(person_id=pid, platform="console", user_id=user, created_at=NOW))
    db.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    stamp = "2026-01-01 00:00:00.000000"
    rng = random.Random(6)
    year_start = date(2026, 1, 1)
    span = (NOW.date() - year_start).days
    entry_id = 0
    batch: list[tuple[object, ...]] = []
    refl: list[tuple[object, ...]] = []

    def flush() -> None:
        con.executemany(
            "INSERT INTO entry (id, person_id, number, title, activity_date, minutes, category,"
            " structured, source, created_at, updated_at) VALUES (?,?,?,?,?,?,?,NULL,'chat',?,?)",
            batch,
        )
        con.executemany(
            "INSERT INTO reflection (entry_id, question_id, question, answer) VALUES (?,?,?,?)",
            refl,
        )
        batch.clear()
        refl.clear()

    per_other = (total - mine) // others
    for pid in range(1, people + 1):
        count = mine if pid == 1 else per_other + (1 if pid - 2 < (total - mine) % others else 0)
        for number in range(1, count + 1):
            entry_id += 1
            if pid == 1:
                day = year_start + timedelta(days=rng.randrange(span))
            else:  # others: spread over 2020-2026
                day = date(2020, 1, 1) + timedelta(days=rng.randrange(2500))
            batch.append(
                (
                    entry_id,
                    pid,
                    number,
                    TITLES[number % len(TITLES)],
                    day.isoformat(),
                    rng.choice((30, 45, 60, 90, 120, 180)),
                    CATEGORIES[rng.randrange(len(CATEGORIES))],
                    stamp,
                    stamp,
                )
            )
            refl.append((entry_id, *Q1, ANSWER))
            refl.append((entry_id, *Q2, None if number % 10 == 0 else ANSWER))
        if len(batch) > 50_000:
            flush()
    flush()
    con.commit()
    con.execute("ANALYZE")
    con.close()


def timed(fn: object, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--person-entries", type=int, default=2000)
    parser.add_argument("--db", help="reuse (or create) this SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "bench.db"
        if not path.exists():
            t0 = time.perf_counter()
            build(path, args.entries, args.person_entries)
            print(f"built {args.entries:,} entries in {time.perf_counter() - t0:.1f} s ({path})")
        db = Database(f"sqlite:///{path}")
        with db.transaction() as s:
            n = s.connection().exec_driver_sql("SELECT count(*) FROM entry").scalar()
        print(f"database: {n:,} entries; person has {args.person_entries:,} this CPD year")
        engine = Engine(db, default_schemes(), clock=lambda: NOW)
        key = IdentityKey("console", USER)
        status = Incoming.text_of(key, "/status")
        reply = engine.process(status).replies[0].text  # warm: imports, caches
        print("/status reply:\n  " + reply.replace("\n", "\n  "))

        lat = timed(lambda: engine.process(status), 50)
        print(
            f"/status via Engine.process: median {statistics.median(lat):.1f} ms, "
            f"p95 {sorted(lat)[int(len(lat) * 0.95) - 1]:.1f} ms, max {max(lat):.1f} ms "
            "(target < 20 ms)"
        )

        def summary() -> None:
            with db.transaction() as s:
                repo.year_summary(s, 1, date(2026, 1, 1), date(2027, 1, 1))

        lat = timed(summary, 50)
        print(f"repo.year_summary alone: median {statistics.median(lat):.1f} ms")

        def pdf() -> int:
            report = records.report_for(engine, key)
            assert report is not None
            _, data, _ = records.render(report, "pdf")
            return len(data)

        t0 = time.perf_counter()
        size = pdf()
        cold = time.perf_counter() - t0
        warm = timed(pdf, 3)
        report = records.report_for(engine, key)
        assert report is not None
        steps = {}
        t0 = time.perf_counter()
        report = records.report_for(engine, key)
        steps["load record + plan"] = time.perf_counter() - t0
        assert report is not None
        t0 = time.perf_counter()
        assessment = report.assessment
        steps["assess"] = time.perf_counter() - t0
        from bot.chart import progress_png
        from bot.report import to_pdf

        t0 = time.perf_counter()
        png = progress_png(report.record, assessment.target_minutes, today=report.today)
        steps["chart"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        to_pdf(report.record, assessment, report.plan, png)
        steps["PDF layout"] = time.perf_counter() - t0
        print(
            f"full-year PDF ({len(report.record.entries):,} activities, {size / 1e6:.1f} MB): "
            f"first {cold:.2f} s (imports matplotlib and fpdf2), then median "
            f"{statistics.median(warm) / 1000:.2f} s (target < 2 s)"
        )
        print("  " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in steps.items()))
        db.dispose()


if __name__ == "__main__":
    main()

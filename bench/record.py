"""/status and a full-year PDF export for a person with 2,000 entries among 1,000,000.

    python bench/record.py [--entries 1000000] [--person-entries 2000] [--db PATH]
    python bench/record.py --db postgresql://user@host/db [--keep]

Builds a SQLite database (999 other people share the rest; every entry has two
reflections, one in ten still pending) with plain `executemany`, or the same data in a
scratch schema of a PostgreSQL database with COPY (then VACUUM ANALYZE), and times:

- /status through `Engine.process` (identity, conversation, the year counted and assessed
  by `records.standing`, reply, commit), `records.standing` alone and `tally.year_summaries`
  alone;
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
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pgscratch
from sqlmodel import SQLModel

from bot.core.model import IdentityKey, Incoming
from bot.core.schemes import default_schemes
from bot.services import records
from bot.services.engine import Engine
from storage import repo, tally
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


def people(db: Database, total: int, mine: int) -> None:
    """1,000 people and their identities through the ORM (defaults); person 1 is USER."""
    others = 999
    with db.transaction() as session:
        for pid in range(1, others + 2):
            session.add(
                Person(
                    id=pid,
                    display_name=f"Person {pid}",
                    timezone="Europe/London",
                    scheme_id="iet",
                    status_id="active",
                    onboarded=True,
                    last_entry_number=mine if pid == 1 else total // (others + 1),
                    created_at=NOW,
                )
            )
        session.flush()
        for pid in range(1, others + 2):
            user = USER if pid == 1 else f"user-{pid}"
            session.add(Identity(person_id=pid, platform="console", user_id=user, created_at=NOW))


def counts(total: int, mine: int) -> Iterator[tuple[int, int]]:
    """(person id, how many entries) for the 1,000 people, person 1 having `mine`."""
    others = 999
    per_other = (total - mine) // others
    for pid in range(1, others + 2):
        yield pid, mine if pid == 1 else per_other + (1 if pid - 2 < (total - mine) % others else 0)


def entries(total: int, mine: int) -> Iterator[tuple[int, int, int, str, date, int, str]]:
    """(id, person id, number, title, activity date, minutes, category) of every entry."""
    rng = random.Random(6)
    year_start = date(2026, 1, 1)
    span = (NOW.date() - year_start).days
    entry_id = 0
    for pid, count in counts(total, mine):
        for number in range(1, count + 1):
            entry_id += 1
            if pid == 1:
                day = year_start + timedelta(days=rng.randrange(span))
            else:  # others: spread over 2020-2026
                day = date(2020, 1, 1) + timedelta(days=rng.randrange(2500))
            minutes = rng.choice((30, 45, 60, 90, 120, 180))
            category = CATEGORIES[rng.randrange(len(CATEGORIES))]
            yield entry_id, pid, number, TITLES[number % len(TITLES)], day, minutes, category


def reflections(entry_id: int, number: int) -> list[tuple[int, str, str, str | None]]:
    """An entry's two reflections: (entry id, question id, question, answer or None)."""
    return [(entry_id, *Q1, ANSWER), (entry_id, *Q2, None if number % 10 == 0 else ANSWER)]


def build(path: Path, total: int, mine: int) -> None:
    db = Database(f"sqlite:///{path}")
    db.create_all()
    people(db, total, mine)
    db.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    stamp = "2026-01-01 00:00:00.000000"
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

    for entry_id, pid, number, title, day, minutes, category in entries(total, mine):
        batch.append(
            (entry_id, pid, number, title, day.isoformat(), minutes, category, stamp, stamp)
        )
        refl.extend(reflections(entry_id, number))
        if len(batch) > 50_000:
            flush()
    flush()
    con.commit()
    con.execute("ANALYZE")
    con.close()


def build_postgres(url: str, total: int, mine: int) -> str:
    """The same data on PostgreSQL, entries and reflections loaded with COPY."""
    db = Database(url)
    SQLModel.metadata.drop_all(db.engine)  # a kept schema may hold a half-finished load
    db.create_all()
    people(db, total, mine)
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    with pgscratch.loading(db) as conn:
        t_entries = pgscratch.copy(
            conn,
            "entry",
            ("id", "person_id", "number", "title", "activity_date", "minutes", "category",
             "source", "created_at", "updated_at"),
            ((*row, "chat", stamp, stamp) for row in entries(total, mine)),
        )  # fmt: skip

        def all_reflections() -> Iterator[tuple[int, str, str, str | None]]:
            entry_id = 0
            for _, count in counts(total, mine):
                for number in range(1, count + 1):
                    entry_id += 1
                    yield from reflections(entry_id, number)

        t_reflections = pgscratch.copy(
            conn, "reflection", ("entry_id", "question_id", "question", "answer"), all_reflections()
        )
        t0 = time.perf_counter()
    t_commit = time.perf_counter() - t0
    t_vacuum = pgscratch.after_load(db, ("person", "identity", "entry", "reflection"))
    db.dispose()
    return (
        f"COPY entry {t_entries:.1f} s, COPY reflection {t_reflections:.1f} s, "
        f"commit {t_commit:.1f} s, VACUUM ANALYZE {t_vacuum:.1f} s"
    )


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
    parser.add_argument(
        "--db",
        help="reuse (or create) this SQLite file; or postgresql://user@host/db: load it into "
        "a scratch schema, bench_record, dropped at the end (unless --keep)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="PostgreSQL: keep the bench_record schema at the end, and reuse it if loaded",
    )
    args = parser.parse_args()
    if pgscratch.is_postgres(args.db):
        with pgscratch.scratch_schema(args.db, "bench_record", keep=args.keep) as url:
            if not loaded(url):
                t0 = time.perf_counter()
                steps = build_postgres(url, args.entries, args.person_entries)
                print(
                    f"built {args.entries:,} entries in {time.perf_counter() - t0:.1f} s "
                    f"({steps}; schema bench_record of {pgscratch.shown(args.db)})"
                )
            measure(url, args.person_entries)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "bench.db"
        if not path.exists():
            t0 = time.perf_counter()
            build(path, args.entries, args.person_entries)
            print(f"built {args.entries:,} entries in {time.perf_counter() - t0:.1f} s ({path})")
        measure(f"sqlite:///{path}", args.person_entries)


def loaded(url: str) -> bool:
    """Whether the schema `url` points at already holds entries (a kept PostgreSQL run)."""
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            if conn.exec_driver_sql("SELECT to_regclass('entry')").scalar() is None:
                return False
            return bool(conn.exec_driver_sql("SELECT EXISTS (SELECT 1 FROM entry)").scalar())
    finally:
        db.dispose()


def measure(url: str, person_entries: int) -> None:
    """Time /status, tally.year_summaries and the PDF export on the loaded database."""
    db = Database(url)
    with db.transaction() as s:
        n = s.connection().exec_driver_sql("SELECT count(*) FROM entry").scalar()
    print(f"database: {n:,} entries; person has {person_entries:,} this CPD year")
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
            tally.year_summaries(s, {1: (date(2026, 1, 1), date(2027, 1, 1))})

    lat = timed(summary, 50)
    print(f"tally.year_summaries alone: median {statistics.median(lat):.1f} ms")

    def standing() -> None:
        with db.transaction() as s:
            person = s.get(Person, 1)
            assert person is not None
            view = repo.person_view(person)
            records.standing(s, 1, view, engine.schemes[view.scheme_id], NOW.date())

    lat = timed(standing, 50)
    print(
        "records.standing alone (the year counted and assessed, as /status does): "
        f"median {statistics.median(lat):.1f} ms"
    )

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
    from bot.services.chart import progress_png
    from bot.services.printable import to_pdf

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

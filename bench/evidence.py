"""Evidence: attach 500 files (5 MB in all) to a person's entries, then build the ZIPs.

    python bench/evidence.py [--files 500] [--total-mb 5] [--people 1] [--db PATH]
    python bench/evidence.py --db postgresql://user@host/db

Real engine on a SQLite file (or a scratch schema, bench_evidence, of a PostgreSQL
database): each person gets 50 entries (set up directly, not timed), then each file is
sent as a member sends one, a Kind.FILE event captioned '/attach N' through
`Engine.process` (type read from the content, quota, stored in the database with its
link in the event's transaction, the reply). Four in five files are PDF certificates,
one in five PNG photos, each unique, ~10 KB. Then times, per person:

- the `/export all` ZIP (`records.export_all`: data.json, the record, every file named by
  its E-number, index.md), and its size;
- `/export evidence` through the engine (the CPD year's files and index.md, made after
  the turn's commit as a member gets it).
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import tempfile
import time
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pgscratch
from fpdf import FPDF
from PIL import Image

from bot.core.model import IdentityKey, Incoming, IncomingFile, Kind
from bot.core.schemes import default_schemes
from bot.services import records
from bot.services.engine import Engine
from storage import entry_store, repo
from storage.db import Database

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
ENTRIES = 50


def pdf_file(rng: random.Random, size: int) -> bytes:
    """A real one-page PDF certificate of about `size` bytes (random text, unique)."""
    doc = FPDF()
    doc.set_compression(False)
    doc.add_page()
    doc.set_font("Helvetica", size=8)
    doc.text(20, 20, "Certificate of attendance")
    y = 30.0
    while len(doc.pages[1].contents) < size - 1200:
        doc.text(20, y, "".join(rng.choices("abcdef0123456789", k=90)))
        y = y + 4 if y < 280 else 30.0
    return bytes(doc.output())


def png_file(rng: random.Random, size: int) -> bytes:
    """A PNG photo of noise of about `size` bytes (noise does not compress)."""
    side = max(8, int((size / 3) ** 0.5))
    image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def files(seed: int, count: int, total: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    each = total // count
    return [
        (f"photo-{i}.png", png_file(rng, each))
        if i % 5 == 4
        else (f"certificate-{i}.pdf", pdf_file(rng, each))
        for i in range(count)
    ]


def setup(engine: Engine, key: IdentityKey) -> None:
    """The person (IET, onboarded) and their 50 entries this CPD year."""
    with engine.db.transaction() as session:
        _, person, _ = repo.get_or_create_identity(session, key, now=NOW)
        assert person.id is not None
        repo.update_person(
            session,
            person.id,
            {"scheme_id": "iet", "onboarded": True, "timezone": "Europe/London"},
        )
        number = entry_store.lock_numbering(session, person.id)
        for n in range(number + 1, number + ENTRIES + 1):
            entry_store.create_entry(
                session,
                person.id,
                number=n,
                title=f"IET webinar {n}",
                activity_date=date(2026, 1, 5) + timedelta(days=n * 6),
                end_date=None,
                minutes=90,
                category="events_and_seminars",
                structured=None,
                source="bench",
                reflections=(),
                now=NOW,
            )


def attach_all(engine: Engine, key: IdentityKey, made: list[tuple[str, bytes]]) -> list[float]:
    """Send each file captioned '/attach N' through the engine; per-file times (ms)."""
    times = []
    for i, (name, content) in enumerate(made):
        event = Incoming(
            key,
            Kind.FILE,
            text=f"/attach {i % ENTRIES + 1}",
            file=IncomingFile(name, content, len(content)),
            dedupe_key=f"{key.user_id}-{i}",
        )
        t0 = time.perf_counter()
        replies = engine.handle_sync(event)
        times.append((time.perf_counter() - t0) * 1000)
        if i == 0 and not any(f"E{1}" in r.text for r in replies):
            raise SystemExit(f"the first file was not kept: {replies[0].text!r}")
    return times


def measure(url: str, count: int, total: int, people: int) -> None:
    db = Database(url)
    db.create_all()
    engine = Engine(db, default_schemes(), lambda: NOW)
    engine.evidence = type(engine.evidence)(quota_bytes=max(total * 2, 200 * 1024 * 1024))
    for p in range(people):
        key = IdentityKey("console", f"bench-{p}")
        setup(engine, key)
        made = files(p, count, total)
        size = sum(len(c) for _, c in made)
        t0 = time.perf_counter()
        times = attach_all(engine, key, made)
        wall = time.perf_counter() - t0
        print(
            f"person {p + 1}: attached {count} files ({size / 1e6:.2f} MB) in {wall:.2f} s: "
            f"{count / wall:.0f} files/s; per file p50 {statistics.median(times):.1f} ms, "
            f"p95 {statistics.quantiles(times, n=20)[-1]:.1f} ms"
        )
        t0 = time.perf_counter()
        data = records.export_all(db, key, engine.schemes, now=NOW, evidence=engine.evidence)
        built = time.perf_counter() - t0
        assert data is not None
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            kept = [n for n in archive.namelist() if n.startswith("evidence/E")]
        print(
            f"  /export all ZIP: {built:.2f} s, {len(data) / 1e6:.2f} MB, "
            f"{len(kept)} evidence files"
        )
        t0 = time.perf_counter()
        replies = engine.handle_sync(Incoming.text_of(key, "/export evidence"))
        made_in = time.perf_counter() - t0
        attachment = next(r.attachment for r in replies if r.attachment is not None)
        print(
            f"  /export evidence (through the engine): {made_in:.2f} s, "
            f"{len(attachment.content) / 1e6:.2f} MB"
        )
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--total-mb", type=float, default=5.0)
    parser.add_argument("--people", type=int, default=1)
    parser.add_argument(
        "--db",
        help="a new SQLite file; or postgresql://user@host/db: a scratch schema, "
        "bench_evidence, dropped at the end",
    )
    args = parser.parse_args()
    total = int(args.total_mb * 1024 * 1024)
    if pgscratch.is_postgres(args.db):
        with pgscratch.scratch_schema(args.db, "bench_evidence") as url:
            print(f"PostgreSQL {pgscratch.shown(args.db)} (schema bench_evidence)")
            measure(url, args.files, total, args.people)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "evidence.db"
        print(f"SQLite {path}")
        measure(f"sqlite:///{path}", args.files, total, args.people)


if __name__ == "__main__":
    main()

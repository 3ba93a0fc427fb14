"""Issue 16: where evidence bytes are kept. Content-addressed blobs written with their link,
one blob for the same content, gone with their last link and on /forget (database and
directory store, no byte left), the directory sweep, and `cpdbot db backup` with them."""

from __future__ import annotations

import os
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlmodel import SQLModel

from bot.core.model import IdentityKey, IncomingFile
from bot.services import evidence
from bot.services.engine import Engine
from bot.services.evidence import EvidenceSettings
from cpdbot import cli
from storage import evidence as store
from storage import rights
from storage.db import Database
from storage.models import Entry, EvidenceBlob, Person
from tests.conftest import NOW, Chat, Clock, new_sqlite

MARKER = b"Zq9EvidenceMarker"


def pdf(extra: bytes = b"") -> bytes:
    return b"%PDF-1.7\n1 0 obj << /Title (" + MARKER + extra + b") >> endobj\n%%EOF\n"


def person_with_entries(db: Database, clock: Clock, name: str, entries: int = 2) -> int:
    with db.transaction() as s:
        person = Person(display_name=name, created_at=clock.now)
        s.add(person)
        s.flush()
        assert person.id is not None
        for n in range(1, entries + 1):
            s.add(
                Entry(
                    person_id=person.id,
                    number=n,
                    title=f"Course {n}",
                    activity_date=clock.now.date(),
                    minutes=60,
                    category="training",
                    created_at=clock.now,
                    updated_at=clock.now,
                )
            )
        return person.id


def entry_id(db: Database, person_id: int, number: int) -> int:
    with db.transaction() as s:
        found = s.execute(
            select(Entry.id).where(Entry.person_id == person_id, Entry.number == number)  # type: ignore[arg-type]
        ).scalar_one()
        return int(found)


def attach(
    db: Database, settings: EvidenceSettings, person: int, entry: int | None, content: bytes
) -> int:
    with db.transaction() as s:
        got = evidence.store_file(
            s, settings, person, entry, IncomingFile("cert.pdf", content, len(content)), NOW
        )
        return got.number


def blobs(db: Database) -> list[tuple[str, int, bool]]:
    with db.transaction() as s:
        rows = s.execute(
            select(EvidenceBlob.sha256, EvidenceBlob.size, EvidenceBlob.content)  # type: ignore[call-overload]
        ).all()
        return sorted((r[0], r[1], r[2] is not None) for r in rows)


def raw_values_holding(db: Database, needle: bytes) -> list[str]:
    """Every table, every raw value: where `needle` still is (text or bytes)."""
    found = []
    with db.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in conn.execute(text(f"SELECT * FROM {table.name}")):
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        hit = needle in bytes(value)
                    else:
                        hit = isinstance(value, str) and needle.decode() in value
                    if hit:
                        found.append(table.name)
    return found


def sqlite_bytes(db: Database) -> bytes:
    path = Path(db.engine.url.database or "")
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


# ---------------------------------------------------------------- content-addressed blobs


def test_same_content_on_two_entries_is_one_blob_in_the_database(
    db: Database, clock: Clock
) -> None:
    alice = person_with_entries(db, clock, "Alice")
    settings = EvidenceSettings()
    first = attach(db, settings, alice, entry_id(db, alice, 1), pdf())
    second = attach(db, settings, alice, entry_id(db, alice, 2), pdf())
    assert (first, second) == (1, 2)
    sha = store.sha256_of(pdf())
    assert blobs(db) == [(sha, len(pdf()), True)]
    with db.transaction() as s:
        assert evidence.content(s, settings, alice, 2) == pdf()
        # The first link goes: the blob stays for the second; with the last, it goes.
        assert evidence.remove(s, settings, alice, 1)
    assert len(blobs(db)) == 1
    with db.transaction() as s:
        assert evidence.remove(s, settings, alice, 2)
        assert not evidence.remove(s, settings, alice, 2)
    assert blobs(db) == []


def test_directory_store_keeps_files_named_by_hash_and_removes_them_with_the_last_link(
    db: Database, clock: Clock, tmp_path: Path
) -> None:
    folder = tmp_path / "evidence"
    settings = EvidenceSettings(directory=folder)
    alice = person_with_entries(db, clock, "Alice")
    attach(db, settings, alice, entry_id(db, alice, 1), pdf())
    sha = store.sha256_of(pdf())
    assert [p.name for p in folder.iterdir()] == [sha]
    assert (folder / sha).read_bytes() == pdf()
    assert blobs(db) == [(sha, len(pdf()), False)]  # no bytes in the database
    assert raw_values_holding(db, MARKER) == []
    with db.transaction() as s:
        assert evidence.content(s, settings, alice, 1) == pdf()
        # Without EVIDENCE_DIR the bytes cannot be found: said, not guessed.
        with pytest.raises(LookupError):
            evidence.content(s, EvidenceSettings(), alice, 1)
    with db.transaction() as s:
        evidence.remove(s, settings, alice, 1)
        assert (folder / sha).exists()  # not before the deletion has committed
    assert list(folder.iterdir()) == []


def test_a_rolled_back_store_leaves_no_row_and_the_sweep_removes_its_file(
    db: Database, clock: Clock, tmp_path: Path
) -> None:
    folder = tmp_path / "evidence"
    settings = EvidenceSettings(directory=folder)
    alice = person_with_entries(db, clock, "Alice")
    kept = attach(db, settings, alice, entry_id(db, alice, 1), pdf(b"kept"))
    with pytest.raises(RuntimeError), db.transaction() as s:
        evidence.store_file(
            s, settings, alice, None, IncomingFile("x.pdf", pdf(b"lost"), 50), clock.now
        )
        raise RuntimeError("the worker died before the commit")
    orphan = store.sha256_of(pdf(b"lost"))
    assert (folder / orphan).exists() and len(blobs(db)) == 1
    with db.transaction() as s:
        assert s.execute(select(func.count()).select_from(store._EVIDENCE)).scalar_one() == 1
        assert store.sweep_directory(s, folder) == []  # too young: may be about to commit
        later = (clock.now + timedelta(hours=2)).timestamp()
        os.utime(folder / orphan, (later - 7200, later - 7200))
        assert store.sweep_directory(s, folder, now=later) == [orphan]
        assert evidence.content(s, settings, alice, kept) == pdf(b"kept")


# ---------------------------------------------------------------- /forget


def _forget_through_chat(db: Database, tmp_path: Path, clock: Clock) -> tuple[Chat, Path]:
    from bot.core.schemes import default_schemes

    folder = tmp_path / "evidence"
    engine = Engine(db, default_schemes(), clock, evidence=EvidenceSettings(directory=folder))
    chat = Chat(engine, IdentityKey("console", "ada"))
    chat.onboard()
    return chat, folder


@pytest.mark.parametrize("where", ["database", "directory"])
def test_forget_leaves_no_evidence_byte_in_any_table_nor_in_the_directory(
    db: Database, clock: Clock, tmp_path: Path, where: str
) -> None:
    chat, folder = _forget_through_chat(db, tmp_path, clock)
    settings = EvidenceSettings(directory=folder if where == "directory" else None)
    with db.transaction() as s:
        ada = s.execute(select(Person.id)).scalar_one()  # type: ignore[call-overload]
        s.add(
            Entry(
                person_id=ada,
                number=1,
                title="Radiation safety",
                activity_date=clock.now.date(),
                minutes=120,
                category="training",
                created_at=clock.now,
                updated_at=clock.now,
            )
        )
    bob = person_with_entries(db, clock, "Bob", entries=1)
    attach(db, settings, ada, entry_id(db, ada, 1), pdf(b"ada-only"))
    attach(db, settings, ada, None, pdf(b"shared"))
    attach(db, settings, bob, entry_id(db, bob, 1), pdf(b"shared"))
    if where == "database":
        assert raw_values_holding(db, MARKER + b"ada-only") == ["evidence_blob"]
    else:
        assert len(list(folder.iterdir())) == 2
    chat.say("/forget")
    chat.press("Erase everything")
    assert "no longer hold anything" in chat.text
    assert raw_values_holding(db, MARKER + b"ada-only") == []
    assert not folder.exists() or [p.read_bytes() for p in folder.iterdir()] == [pdf(b"shared")]
    if db.is_sqlite:
        assert MARKER + b"ada-only" not in sqlite_bytes(db)
    with db.transaction() as s:  # Bob's copy of the same content is his, and still there
        assert evidence.content(s, settings, bob, 1) == pdf(b"shared")
        assert s.execute(select(func.count()).select_from(store._EVIDENCE)).scalar_one() == 1


def test_forget_counts_the_evidence_it_erased(db: Database, clock: Clock) -> None:
    alice = person_with_entries(db, clock, "Alice")
    attach(db, EvidenceSettings(), alice, entry_id(db, alice, 1), pdf())
    with db.transaction() as s:
        counts = rights.forget_person(s, alice)
    assert counts["evidence"] == 1 and counts["evidence_blob"] == 1
    assert blobs(db) == []


# ---------------------------------------------------------------- backup and sweep commands


def test_db_backup_copies_the_blobs_and_the_directory_store(
    tmp_path: Path,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = new_sqlite(tmp_path / "cpd.db")
    folder = tmp_path / "evidence"
    alice = person_with_entries(db, clock, "Alice")
    attach(db, EvidenceSettings(), alice, entry_id(db, alice, 1), pdf(b"in-db"))
    attach(db, EvidenceSettings(directory=folder), alice, entry_id(db, alice, 2), pdf(b"in-dir"))
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("EVIDENCE_DIR", str(folder))
    target = tmp_path / "backups" / "cpd.db"
    assert cli.main(["db", "backup", str(target)]) == 0
    assert "copied to" in capsys.readouterr().out
    copy = sqlite3.connect(target)
    held = [bytes(r[0]) for r in copy.execute("SELECT content FROM evidence_blob") if r[0]]
    copy.close()
    assert held == [pdf(b"in-db")]
    copied = target.with_name("cpd.db.evidence") / store.sha256_of(pdf(b"in-dir"))
    assert copied.read_bytes() == pdf(b"in-dir")
    db.dispose()


def test_evidence_sweep_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = new_sqlite(tmp_path / "cpd.db")
    folder = tmp_path / "evidence"
    folder.mkdir()
    stray = folder / store.sha256_of(b"stray")
    stray.write_bytes(b"stray")
    os.utime(stray, (1_000_000, 1_000_000))
    (folder / "notes.txt").write_bytes(b"not ours")
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("EVIDENCE_DIR", str(folder))
    assert cli.main(["db", "evidence-sweep"]) == 0
    assert "Removed 1 file" in capsys.readouterr().out
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    db.dispose()

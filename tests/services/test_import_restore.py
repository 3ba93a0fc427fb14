"""`cpdbot import` of an `/export all` ZIP keeps the record as it was (member's-seat review
of issue 16): into a new record every entry keeps its number, and the other bodies, the
filings in them, the explained gaps and the HCPC profile come back; into a record that has
entries the moved numbers are said and everything that names an entry follows it; a
second import adds nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.core.model import IdentityKey
from bot.core.plan import GapNote
from bot.core.schemes import Scheme
from bot.services import evidence as evidence_service
from bot.services import records
from bot.services.engine import Engine
from cpdbot.cli import main
from storage import bodies, entry_store, profile_store, repo
from storage import evidence as evidence_store
from storage import plan_store as plan_repo
from storage.db import Database
from storage.models import CpdProfile, EntryCategory, GapNoteRow, Person, PersonScheme
from tests.conftest import Chat, Clock, new_sqlite

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
KEY = IdentityKey("console", "alex")
RESTORED = (PersonScheme, EntryCategory, GapNoteRow, CpdProfile)
STATEMENTS = ("Kept up to date, see #1.", "A mix: #1 and #3.", "Better work (#3)", "", "")
LINK = "https://example.org/arc-flash-notes"


@pytest.fixture
def zip_file(tmp_path: Path, schemes: dict[str, Scheme]) -> Path:
    """Alex's `/export all`: #1 the latest activity, #3 the earliest (numbers not in date
    order), two other bodies with a filing each, a gap note, the HCPC profile naming #1
    and #3 in its text, and a link on #1."""
    source = new_sqlite(tmp_path / "source.db")
    chat = Chat(Engine(source, schemes, Clock(NOW)), KEY)
    chat.onboard()
    for line, *answers in (
        ("/log 1.5h webinar on arc-flash safety yesterday #events", "PPE", "Labels"),
        ("/log 2h substation visit 3 nov #work", "Earthing", "later"),
        ("/log 30m reading on cable sizing 1 nov #selfstudy", "Derating", "skip"),
    ):
        for text in (line, *answers):
            chat.say(text)
    with source.transaction() as s:
        found = repo.find_person(s, KEY)
        assert found is not None
        pid = found[0]
        bodies.set_bodies(s, pid, ["ipem", "step"], now=NOW)
        assert bodies.file_category(s, pid, 1, "step", "webinar")
        assert bodies.file_category(s, pid, 3, "ipem", "work_based")
        plan_repo.add_gap_note(s, pid, GapNote(date(2026, 2, 1), date(2026, 6, 30), "Sick"))
        profile_store.save_profile(
            s,
            pid,
            entry_numbers=(1, 3),
            summary="I design substations.",
            standards=STATEMENTS,
            now=NOW,
        )
        first = entry_store.get_entry(s, pid, 1)
        assert first is not None and first.id is not None
        evidence_service.store_link(s, pid, first.id, LINK, NOW)
    data = records.export_all(source, KEY, schemes, now=NOW)
    source.dispose()
    assert data is not None
    path = tmp_path / "everything.zip"
    path.write_bytes(data)
    return path


def counts(db: Database) -> dict[str, int]:
    with db.transaction() as s:
        return {
            t.__tablename__: s.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()  # type: ignore[attr-defined]
            for t in RESTORED
        }


def entries(db: Database) -> list[tuple[int, str]]:
    with db.transaction() as s:
        found = repo.find_person(s, KEY)
        assert found is not None
        views = entry_store.entries_between(s, found[0], date.min, date.max)
    return sorted((e.number, e.title) for e in views)


def kept(db: Database) -> tuple[object, ...]:
    """The profile, the filings (entry number, body, category) and the link's entry."""
    with db.transaction() as s:
        found = repo.find_person(s, KEY)
        assert found is not None
        pid = found[0]
        filed = sorted(
            (n, scheme, c)
            for scheme in ("ipem", "step")
            for n, c in bodies.chosen(s, pid, scheme).items()
        )
        numbers = [e.number for e in entry_store.entries_between(s, pid, date.min, date.max)]
        held = evidence_store.by_entry_number(s, pid, numbers)
        links = sorted(n for n, views in held.items() if any(LINK in ev.url for ev in views))
        return profile_store.load_profile(s, pid), filed, links


def run_import(db: Database, path: Path) -> int:
    return main(["import", "--db", db.url, "--user", "alex", str(path)])


def test_restoring_into_a_new_record_keeps_every_number_and_the_rest_of_the_record(
    zip_file: Path, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_import(db, zip_file) == 0
    out = capsys.readouterr().out
    assert "Imported 3 entries for alex" in out
    assert " is now #" not in out  # no entry moved
    assert "Restored 2 other bodies, 2 filings, 1 gap note, the HCPC profile." in out
    assert entries(db) == [
        (1, "Webinar on arc-flash safety"),
        (2, "Substation visit"),
        (3, "Reading on cable sizing"),
    ]
    assert counts(db) == {"person_scheme": 2, "entry_category": 2, "gap_note": 1, "cpd_profile": 1}
    profile, filed, links = kept(db)
    assert profile == ((1, 3), "I design substations.", STATEMENTS)
    assert filed == [(1, "step", "webinar"), (3, "ipem", "work_based")]
    assert links == [1]
    with db.transaction() as s:
        assert s.execute(sa.select(Person.last_entry_number)).scalar_one() == 3


def test_restoring_into_a_record_with_entries_says_each_moved_number_and_names_follow(
    zip_file: Path, db: Database, schemes: dict[str, Scheme], capsys: pytest.CaptureFixture[str]
) -> None:
    chat = Chat(Engine(db, schemes, Clock(NOW)), KEY)
    chat.onboard()
    for line in ("/log 1h toolbox talk 10 nov #work", "/log 1h site induction 12 nov #work"):
        chat.say(line)
        chat.say("skip")
        chat.say("skip")
    assert [n for n, _ in entries(db)] == [1, 2]
    assert run_import(db, zip_file) == 0
    out = capsys.readouterr().out
    # By date: #3 (1 Nov) takes #3, #2 (3 Nov) #4, #1 (21 Nov) #5.
    assert "#1 is now #5.\n#2 is now #4.\n" in out
    assert "#3 is now" not in out
    assert (5, "Webinar on arc-flash safety") in entries(db)
    profile, filed, links = kept(db)
    assert profile == (
        (5, 3),
        "I design substations.",
        ("Kept up to date, see #5.", "A mix: #5 and #3.", "Better work (#3)", "", ""),
    )
    assert filed == [(3, "ipem", "work_based"), (5, "step", "webinar")]
    assert links == [5]


def test_importing_the_zip_twice_adds_nothing_the_second_time(
    zip_file: Path, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_import(db, zip_file) == 0
    first = (entries(db), counts(db), kept(db))
    assert first[1] == {"person_scheme": 2, "entry_category": 2, "gap_note": 1, "cpd_profile": 1}
    capsys.readouterr()
    assert run_import(db, zip_file) == 0
    out = capsys.readouterr().out
    assert "Imported 0 entries for alex; skipped 3 already recorded." in out
    assert "Restored" not in out and " is now #" not in out
    assert (entries(db), counts(db), kept(db)) == first

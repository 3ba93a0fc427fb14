"""Data rights: export, re-import without duplicates (`cpdbot import`), everything held,
and forgetting a person for real."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from bot.core.model import EntryView, IdentityKey, ReflectionView
from bot.core.plan import GapNote, StatusPeriod
from bot.core.schemes import Scheme
from bot.services import records
from bot.services.engine import Engine
from cpdbot.cli import main
from storage import plan_store as plan_repo
from storage import repo, rights
from storage.db import Database
from storage.models import Person
from tests.conftest import Chat

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
SECRET = "Zed7731"  # in everything the forgotten person writes, and nowhere else


def log(chat: Chat, line: str, *answers: str) -> None:
    chat.say(line)
    for answer in answers:
        chat.say(answer)


def alice_year(chat: Chat) -> None:
    log(
        chat,
        "/log 1.5h webinar on arc-flash safety yesterday #events",
        "PPE categories",
        "Check labels",
    )
    log(chat, "/log 2h Café visit – substation é 3 nov #work", "Earthing", "later")
    log(chat, "/log 30m reading on cable sizing 1 nov #selfstudy", "Derating", "skip")


def views(engine: Engine, user: str) -> list[tuple[Any, ...]]:
    record = engine.record(IdentityKey.parse(user), 2026)
    assert record is not None
    return [
        (
            e.activity_date,
            e.title,
            e.minutes,
            e.category,
            e.structured,
            tuple((r.question_id, r.answer) for r in e.reflections),
        )
        for e in record.entries
    ]


@pytest.mark.parametrize("kind", ["json", "csv"])
def test_export_then_import_restores_entries_and_a_second_import_adds_nothing(
    kind: str,
    chat: Chat,
    engine: Engine,
    db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    alice_year(chat)
    original = views(engine, "alice")
    assert len(original) == 3
    out = tmp_path / f"cpd.{kind}"
    assert (
        main(
            [
                "export",
                "--db",
                db.url,
                "--user",
                "alice",
                "--year",
                "2026",
                "--format",
                kind,
                "--out",
                str(out),
            ]
        )
        == 0
    )
    elsewhere = f"sqlite:///{tmp_path / 'restored.db'}"
    assert main(["import", "--db", elsewhere, "--user", "alice", "--scheme", "iet", str(out)]) == 0
    assert "Imported 3 entries for alice; skipped 0 already recorded." in capsys.readouterr().out
    restored_db = Database(elsewhere)
    restored = Engine(restored_db, engine.schemes, engine.clock)
    assert views(restored, "alice") == original
    # The restored person can use the bot straight away, with the same scheme.
    record = restored.record(IdentityKey("console", "alice"), 2026)
    assert record is not None and record.scheme.id == "iet" and record.person.onboarded
    # Importing the same file again, or into the database it came from, adds nothing.
    assert main(["import", "--db", elsewhere, "--user", "alice", str(out)]) == 0
    assert "Imported 0 entries for alice; skipped 3 already recorded." in capsys.readouterr().out
    assert main(["import", "--db", db.url, "--user", "alice", str(out)]) == 0
    assert "skipped 3 already recorded" in capsys.readouterr().out
    assert len(views(restored, "alice")) == 3 and len(views(engine, "alice")) == 3
    restored_db.dispose()


def test_import_adds_only_what_is_new_with_new_numbers(
    chat: Chat, engine: Engine, db: Database
) -> None:
    alice_year(chat)
    key = IdentityKey("console", "alice")
    record = engine.record(key, 2026)
    assert record is not None
    old = list(record.entries)
    chat.say("/delete 3")
    chat.press("Delete")
    same_day = EntryView(
        9,
        "Site walk",
        date(2026, 10, 5),
        60,
        "work_experience",
        None,
        "chat",
        False,
        (ReflectionView("key_points", "Key points?", "Walk the route"),),
    )
    incoming = [*old, same_day, same_day]  # two identical activities stay two
    assert records.import_entries(db, key, incoming, now=NOW) == (3, 2)
    record = engine.record(key, 2026)
    assert record is not None
    numbers = sorted((e.number, e.title) for e in record.entries)
    # #3 was deleted, so it came back as a new entry; the two walks are #4 and #5.
    assert [n for n, _ in numbers] == [1, 2, 4, 5, 6]
    assert sum(1 for _, t in numbers if t == "Site walk") == 2
    walk = next(e for e in record.entries if e.title == "Site walk")
    assert walk.reflections == same_day.reflections
    assert records.import_entries(db, key, incoming, now=NOW) == (0, 5)


def test_import_of_json_sets_up_a_new_person_from_the_file(
    schemes: dict[str, Scheme], db: Database
) -> None:
    payload = {
        "format": "cpdbot-record",
        "version": 1,
        "person": {
            "name": "Pat",
            "timezone": "Europe/Paris",
            "scheme": "ies",
            "status": "parental_leave",
        },
        "entries": [
            {
                "number": 4,
                "title": "Site visit",
                "activity_date": "2026-02-03",
                "minutes": 90,
                "category": "work_based",
                "structured": None,
                "source": "chat",
                "reflections": [],
            }
        ],
    }
    key = IdentityKey("telegram", "42")
    added = records.import_file(db, key, json.dumps(payload).encode(), schemes, now=NOW)
    assert added == (1, 0)
    with db.transaction() as s:
        ident = repo.find_identity(s, key)
        assert ident is not None
        person = s.get(Person, ident.person_id)
        assert person is not None
        assert (person.scheme_id, person.status_id, person.timezone, person.display_name) == (
            "ies",
            "parental_leave",
            "Europe/Paris",
            "Pat",
        )
        # A new record keeps the file's numbers (#4 stays #4).
        assert person.onboarded and person.last_entry_number == 4


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"hello,world\n1,2\n", "not a cpdbot CSV"),
        (b'{"format": "something-else"}', "not a cpdbot record"),
        (b'{"format": "cpdbot-record", "entries": [{"title": "x"}]}', "missing or bad field"),
    ],
)
def test_import_refuses_files_that_are_not_exports(
    tmp_path: Path, content: bytes, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert main(["import", "--db", url, "--user", "sam", str(bad)]) == 1
    assert message in capsys.readouterr().err
    assert main(["import", "--db", url, "--user", "sam", str(tmp_path / "none.json")]) == 1
    assert "Cannot read" in capsys.readouterr().err


# ---------------------------------------------------------------- everything held, forget


def owned(table: sa.Table, seen: frozenset[str] = frozenset()) -> bool:
    """Whether rows of `table` can belong to a person (a foreign-key path to `person`)."""
    if table.name == "person":
        return True
    return any(
        fk.column.table.name not in seen and owned(fk.column.table, seen | {table.name})  # type: ignore[arg-type]
        for fk in table.foreign_keys
        if fk.column.table is not table
    )


def value(column: sa.Column[Any], who: str, n: int) -> Any:
    kind = column.type
    if isinstance(kind, sa.types.TypeDecorator):  # UTCDateTime, SQLModel's AutoString
        kind = kind.impl_instance
    if isinstance(kind, sa.DateTime):
        return NOW
    if isinstance(kind, sa.Date):
        return date(2026, 6, 1)
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 900_000 + n
    if isinstance(kind, sa.Float | sa.Numeric):
        return 1.5
    if isinstance(kind, sa.JSON):
        return {"who": f"{who}-{SECRET}" if who == "alice" else who}
    if isinstance(kind, sa.LargeBinary):
        return f"{who}-{SECRET}".encode() if who == "alice" else who.encode()
    if isinstance(kind, sa.String):
        text = f"{who}-{SECRET}-{n}" if who == "alice" else f"{who}-{n}"
        return text[: kind.length] if kind.length else text
    return None


def fill_every_table(session: Session, who: str, person_id: int) -> None:
    """One row for the person in every table that can hold one and has none of theirs yet.

    Covers tables added later (feeds, outbox, ...) without naming them here.
    """
    mine: dict[str, int] = {"person": person_id}
    for table in SQLModel.metadata.sorted_tables:
        if table.name == "person" or not owned(table):
            continue
        pk = next(iter(table.primary_key.columns))
        existing = (
            session.execute(
                select(pk).where(
                    *(
                        fk.parent == mine[fk.column.table.name]
                        for fk in table.foreign_keys
                        if fk.column.table.name in mine
                    )
                )
            ).first()
            if any(fk.column.table.name in mine for fk in table.foreign_keys)
            else None
        )
        if existing is not None:
            mine[table.name] = existing[0]
            continue
        row: dict[str, Any] = {}
        for n, column in enumerate(table.columns):
            if column.primary_key:
                continue
            fks = list(column.foreign_keys)
            if fks:
                row[column.name] = mine.get(fks[0].column.table.name)
                continue
            row[column.name] = value(column, who, n)
        result = session.execute(sa.insert(table).values(**row).returning(pk))
        mine[table.name] = result.scalar_one()


@pytest.fixture
def two_people(engine: Engine, db: Database) -> Iterator[tuple[Chat, Chat, int, int]]:
    alice = Chat(engine, IdentityKey("console", "alice"))
    alice.onboard(scheme="IES")
    bob = Chat(engine, IdentityKey("slack", "U2", "T1"))
    bob.onboard()
    for chat, who in ((alice, "alice"), (bob, "bob")):
        marker = f" {SECRET}" if who == "alice" else ""
        log(chat, f"/log 2h site visit{marker} yesterday #work", f"Value{marker}", "later")
        log(chat, f"/log 1h reading{marker} 3 nov #read", f"Read{marker}", f"Use{marker}")
    ids = {}
    with db.transaction() as s:
        for chat, who in ((alice, "alice"), (bob, "bob")):
            ident = repo.find_identity(s, chat.identity)
            assert ident is not None
            pid = ident.person_id
            ids[who] = pid
            marker = f" {SECRET}" if who == "alice" else ""
            plan_repo.set_role(s, pid, f"Ecologist{marker}", now=NOW)
            plan_repo.set_responsibilities(s, pid, [f"Surveys{marker}", "Ethical behaviour"])
            o = plan_repo.add_objective(
                s, pid, title=f"Bats{marker}", area="technical", target_date=None, now=NOW
            )
            plan_repo.link_entry(s, pid, 1, o.number)
            plan_repo.set_entry_tags(s, pid, 1, ["A"])
            plan_repo.add_status_period(
                s, pid, StatusPeriod("parental_leave", date(2026, 3, 1), date(2026, 4, 1))
            )
            plan_repo.add_gap_note(
                s, pid, GapNote(date(2026, 3, 1), date(2026, 4, 1), f"Leave{marker}")
            )
            fill_every_table(s, who, pid)
    yield alice, bob, ids["alice"], ids["bob"]


def rows_of(session: Session, person_id: int) -> dict[str, set[Any]]:
    """Primary keys, per table, of rows with a direct person_id column for this person."""
    found: dict[str, set[Any]] = {"person": {person_id}}
    for table in SQLModel.metadata.sorted_tables:
        if "person_id" in table.c:
            pk = next(iter(table.primary_key.columns))
            found[table.name] = set(
                session.execute(select(pk).where(table.c.person_id == person_id)).scalars()
            )
    return found


def test_person_data_holds_every_table_of_theirs(
    two_people: tuple[Chat, Chat, int, int], db: Database
) -> None:
    _, _, alice_id, _ = two_people
    with db.transaction() as s:
        data = rights.person_data(s, alice_id)
    expected = {t.name for t in SQLModel.metadata.sorted_tables if owned(t)}
    assert set(data) == expected
    assert len(data["entry"]) == 2 and len(data["reflection"]) == 4
    assert data["person"][0]["id"] == alice_id
    json.dumps(data)  # JSON-ready: dates, datetimes and bytes converted


def test_forget_erases_every_row_of_one_person_and_keeps_the_other(
    two_people: tuple[Chat, Chat, int, int], engine: Engine, db: Database
) -> None:
    alice, bob, alice_id, bob_id = two_people
    with db.transaction() as s:
        before_alice = rows_of(s, alice_id)
        bob_before = rights.person_data(s, bob_id)
        totals_before = {
            t.name: s.execute(select(sa.func.count()).select_from(t)).scalar_one()
            for t in SQLModel.metadata.sorted_tables
        }
    assert all(before_alice[t] for t in before_alice), "every person table has a row of hers"
    with db.transaction() as s:
        person = s.get(Person, alice_id)  # loaded in the session, as the engine would
        assert person is not None
        counts = rights.forget_person(s, alice_id)
    assert counts["person"] == 1 and counts["entry"] == 2 and counts["reflection"] == 4
    assert counts["conversation"] == 1 and counts["identity"] == 1

    with db.transaction() as s:
        # 1. No row points at anything of hers, through any foreign key, in any table.
        for table in SQLModel.metadata.sorted_tables:
            for fk in table.foreign_keys:
                gone = before_alice.get(fk.column.table.name, set())
                if not gone:
                    continue
                hits = s.execute(select(fk.parent).where(fk.parent.in_(gone))).all()
                assert not hits, f"{table.name}.{fk.parent.name} still references her rows"
            if "person_id" in table.c:
                assert not s.execute(select(table).where(table.c.person_id == alice_id)).all()
        assert s.get(Person, alice_id) is None
        # 2. Nothing she wrote survives anywhere, in any text, JSON or binary column.
        for table in SQLModel.metadata.sorted_tables:
            for row in s.execute(select(table)).all():
                assert SECRET not in repr(tuple(row)), f"{table.name} still holds her data"
        # 3. Bob's data is all there, unchanged.
        assert rights.person_data(s, bob_id) == bob_before
        totals_after = {
            t.name: s.execute(select(sa.func.count()).select_from(t)).scalar_one()
            for t in SQLModel.metadata.sorted_tables
        }
    removed = {t: totals_before[t] - totals_after[t] for t in totals_before}
    assert {t: n for t, n in removed.items() if n} == counts
    assert len(views(engine, "slack:T1:U2")) == 2
    # 4. She can start again from nothing.
    alice.say("/start")
    assert "Which professional body" in alice.text
    assert engine.record(alice.identity, 2026) is not None
    assert views(engine, "alice") == []
    bob.say("/status")
    assert "2 entries" in bob.text


def test_export_all_is_a_zip_of_everything_and_its_record_reimports(
    two_people: tuple[Chat, Chat, int, int],
    engine: Engine,
    db: Database,
    schemes: dict[str, Scheme],
) -> None:
    alice, _, _, _ = two_people
    data = records.export_all(db, alice.identity, schemes, now=NOW)
    assert data is not None
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == [
            "README.txt",
            "data.json",
            "evidence/index.md",  # the evidence row every table was filled with
            "record.csv",
            "record.json",
        ]
        everything = json.loads(archive.read("data.json"))
        record_json = archive.read("record.json")
    assert everything["format"] == "cpdbot-everything"
    assert {
        "person",
        "identity",
        "entry",
        "reflection",
        "objective",
        "status_period",
        "gap_note",
        "conversation",
    } <= set(everything["tables"])
    assert SECRET in json.dumps(everything)
    assert "bob" not in json.dumps(everything["tables"])
    fresh = IdentityKey("console", "alice-copy")
    assert records.import_file(db, fresh, record_json, schemes, now=NOW) == (2, 0)
    assert records.export_all(db, IdentityKey("console", "nobody"), schemes, now=NOW) is None

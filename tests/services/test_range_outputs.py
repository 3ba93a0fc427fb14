"""A multi-day entry in every file made from a record (issue 13): the CSV's end_date column,
the JSON's end_date, '14–15 Nov 2026' in the Markdown and PDF record, and an export that
imports back to the same entries. Entries of one day look exactly as before."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader

from bot.core.assess import assess
from bot.core.export import ExportError, read_csv, read_json, to_csv, to_json
from bot.core.model import EntryView, IdentityKey, PersonView, ReflectionView
from bot.core.plan import Plan
from bot.core.record import Record
from bot.core.schemes import Scheme
from bot.services import records
from bot.services.engine import Engine
from bot.services.printable import to_markdown, to_pdf
from storage import entry_store, repo
from storage.db import Database
from tests.conftest import Chat

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def entry(number: int, start: str, end: str | None, minutes: int, title: str) -> EntryView:
    return EntryView(
        number,
        title,
        date.fromisoformat(start),
        minutes,
        "events_and_seminars",
        True,
        "chat",
        False,
        (ReflectionView("key_points", "What were the key points?", "Protection settings"),),
        None if end is None else date.fromisoformat(end),
    )


def record(schemes: dict[str, Scheme], scheme_id: str = "iet") -> Record:
    person = PersonView("Ada", "Europe/London", scheme_id, "", "DMY", ("en",), True, 3)
    scheme = schemes[scheme_id]
    entries = (
        entry(1, "2026-10-30", None, 90, "Arc-flash webinar"),
        entry(2, "2026-11-14", "2026-11-15", 14 * 60, "IET conference"),
        entry(3, "2026-10-31", "2026-11-02", 18 * 60, "Protection course"),
    )
    start, end = scheme.year_bounds(date(2026, 11, 22))
    return Record(person, scheme, start, end, entries)


def rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_has_an_end_date_column_after_the_date(schemes: dict[str, Scheme]) -> None:
    table = rows(to_csv(record(schemes)))
    assert table[0][:5] == ["number", "date", "end_date", "title", "hours"]
    assert table[1][:5] == ["1", "2026-10-30", "", "Arc-flash webinar", "1.5"]
    assert table[2][:5] == ["2", "2026-11-14", "2026-11-15", "IET conference", "14"]
    # The year's total counts each entry's hours once, whatever its days.
    total = next(r for r in table if len(r) > 3 and r[3].startswith("Total CPD year"))
    assert total[4] == "33.5"


def test_json_has_end_date_null_or_a_date(schemes: dict[str, Scheme]) -> None:
    entries = json.loads(to_json(record(schemes)))["entries"]
    assert [e["end_date"] for e in entries] == [None, "2026-11-15", "2026-11-02"]


def test_csv_and_json_read_back_the_same_entries(schemes: dict[str, Scheme]) -> None:
    rec = record(schemes)
    assert read_csv(to_csv(rec), rec.scheme) == list(rec.entries)
    assert read_json(to_json(rec), rec.scheme) == list(rec.entries)


def test_a_csv_written_before_end_dates_still_reads(schemes: dict[str, Scheme]) -> None:
    old = (
        "\ufeffnumber,date,title,hours,category,structured,source,"
        "What were the key points? [key_points]\r\n"
        "1,2026-10-30,Arc-flash webinar,1.5,Events and seminars,structured,chat,PPE\r\n"
        "\r\n,,Total CPD year 2026,1.5\r\n"
    ).encode()
    (only,) = read_csv(old, schemes["iet"])
    assert (only.title, only.activity_date, only.end_date, only.minutes) == (
        "Arc-flash webinar",
        date(2026, 10, 30),
        None,
        90,
    )


@pytest.mark.parametrize(
    ("end", "hours", "problem"),
    [
        ("2026-11-13", "14", "end_date 2026-11-13 is not after the date 2026-11-14"),
        ("2026-12-20", "14", "a multi-day activity spans at most 31 days"),
        ("2027-01-02", "14", "end_date 2027-01-02 is in the future"),
        ("15/11/2026", "14", "end_date must be a date like 2026-02-03"),
        ("2026-11-15", "49", "at most 48 for 2 days"),
        ("", "25", "at most 24"),
    ],
)
def test_bad_end_dates_are_named(
    schemes: dict[str, Scheme], end: str, hours: str, problem: str
) -> None:
    data = (
        "number,date,end_date,title,hours,category,structured,source\r\n"
        f"2,2026-11-14,{end},IET conference,{hours},Events and seminars,structured,chat\r\n"
    ).encode()
    with pytest.raises(ExportError, match="line 2: .*" + problem.replace("(", r"\(")):
        read_csv(data, schemes["iet"], today=date(2026, 12, 31))


def test_a_two_day_entry_may_hold_up_to_48_hours(schemes: dict[str, Scheme]) -> None:
    data = (
        b"number,date,end_date,title,hours,category,structured,source\r\n"
        b"2,2026-11-14,2026-11-15,IET conference,30,Events and seminars,structured,chat\r\n"
    )
    (read,) = read_csv(data, schemes["iet"], today=date(2026, 11, 22))
    assert (read.minutes, read.end_date) == (30 * 60, date(2026, 11, 15))


def test_markdown_and_pdf_show_the_days(schemes: dict[str, Scheme]) -> None:
    rec = record(schemes)
    assessment = assess(rec, today=date(2026, 12, 3), plan=Plan())
    md = to_markdown(rec, assessment, Plan()).decode()
    assert "*14–15 Nov 2026 · 14 h · Events and seminars" in md
    assert "*31 Oct – 2 Nov 2026 · 18 h · Events and seminars" in md
    assert "*Fri 30 Oct 2026 · 1 h 30 · Events and seminars" in md  # one day: as before
    pages = PdfReader(io.BytesIO(to_pdf(rec, assessment, Plan(), None))).pages
    pdf = " ".join(" ".join((p.extract_text() or "").split()) for p in pages)
    assert "14–15 Nov 2026 · 14 h" in pdf and "31 Oct – 2 Nov 2026 · 18 h" in pdf
    assert "Fri 30 Oct 2026 · 1 h 30" in pdf


def _store(db: Database, key: IdentityKey, *entries: EntryView) -> None:
    with db.transaction() as session:
        found = repo.find_person(session, key)
        assert found is not None
        for e in entries:
            entry_store.create_entry(
                session,
                found[0],
                number=e.number,
                title=e.title,
                activity_date=e.activity_date,
                end_date=e.end_date,
                minutes=e.minutes,
                category=e.category,
                structured=e.structured,
                source=e.source,
                reflections=e.reflections,
                now=NOW,
            )


def _entries(db: Database, key: IdentityKey) -> list[tuple[object, ...]]:
    with db.transaction() as session:
        found = repo.find_person(session, key)
        assert found is not None
        views = entry_store.entries_between(session, found[0], date.min, date.max)
    return [(e.title, e.activity_date, e.end_date, e.minutes, e.reflections) for e in views]


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_export_then_import_gives_the_same_entries(
    engine: Engine, chat: Chat, db: Database, schemes: dict[str, Scheme], kind: str
) -> None:
    _store(db, chat.identity, *record(schemes).entries)
    report = records.report_for(engine, chat.identity)
    assert report is not None
    data = records.render(report, kind, chart=False)[1]
    other = IdentityKey("console", "restored")
    records.import_file(db, other, data, schemes, now=NOW, scheme_id="iet")
    assert _entries(db, other) == _entries(db, chat.identity)
    # Importing the same file again adds nothing: the range entries are recognised.
    assert records.import_file(db, other, data, schemes, now=NOW) == (0, 3)


def test_export_all_keeps_the_days_and_the_persons_day_length(
    engine: Engine, chat: Chat, db: Database, schemes: dict[str, Scheme]
) -> None:
    _store(db, chat.identity, entry(1, "2026-11-14", "2026-11-15", 14 * 60, "IET conference"))
    with db.transaction() as session:
        found = repo.find_person(session, chat.identity)
        assert found is not None
        repo.update_person(session, found[0], {"day_minutes": 450})
    zipped = records.export_all(db, chat.identity, schemes, now=NOW)
    assert zipped is not None
    archive = zipfile.ZipFile(io.BytesIO(zipped))
    table = rows(archive.read("record.csv"))
    assert table[1][:4] == ["1", "2026-11-14", "2026-11-15", "IET conference"]
    saved = json.loads(archive.read("record.json"))
    assert saved["person"]["day_minutes"] == 450
    other = IdentityKey("console", "moved")
    records.import_file(db, other, archive.read("record.json"), schemes, now=NOW)
    with db.transaction() as session:
        moved = repo.find_person(session, other)
    assert moved is not None and moved[1].day_minutes == 450
    assert _entries(db, other) == _entries(db, chat.identity)


def test_list_shows_the_days_of_a_range_entry(engine: Engine, chat: Chat, db: Database) -> None:
    _store(
        db,
        chat.identity,
        entry(1, "2026-10-30", None, 90, "Arc-flash webinar"),
        entry(2, "2026-11-14", "2026-11-15", 14 * 60, "IET conference"),
    )
    chat.say("/list")
    assert "#2 · Sat 14 – Sun 15 Nov · 14 h · Events and seminars · IET conference" in chat.text
    assert "#1 · Fri 30 Oct · 1 h 30 · Events and seminars · Arc-flash webinar" in chat.text

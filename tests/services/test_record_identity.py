"""The name and membership number for the record (issue 13): set in one line from
/settings, they head the PDF and Markdown record, fill the STEP cover sheet and survive a
JSON export and re-import."""

from __future__ import annotations

import io

from pypdf import PdfReader

from bot.core.model import IdentityKey
from bot.core.schemes import Scheme
from bot.services import records
from bot.services.engine import Engine
from storage import repo
from storage.db import Database
from tests.conftest import Chat


def pdf_text(data: bytes) -> str:
    return " ".join(
        " ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(data)).pages
    )


def named(chat: Chat) -> None:
    chat.say("/settings name Sam Patel CEng MIET")
    assert "Name saved: Sam Patel CEng MIET" in chat.text
    chat.say("/settings number 1234567")
    assert "Membership number saved: 1234567" in chat.text
    chat.say("/log 1.5h webinar on protection yesterday #events")


def render(engine: Engine, chat: Chat, kind: str) -> bytes:
    report = records.report_for(engine, chat.identity)
    assert report is not None
    return records.render(report, kind, chart=False)[1]


def test_name_and_number_head_the_pdf_and_markdown(engine: Engine, chat: Chat) -> None:
    named(chat)
    md = render(engine, chat, "md").decode()
    assert md.startswith("# CPD record 2026 — Sam Patel CEng MIET\n")
    assert "- **Membership number:** 1234567" in md
    assert "(no name given)" not in md
    text = pdf_text(render(engine, chat, "pdf"))
    assert "Sam Patel CEng MIET" in text and "Membership number 1234567" in text
    assert "(no name given)" not in text


def test_step_cover_sheet_is_filled(engine: Engine, schemes: dict[str, Scheme]) -> None:
    chat = Chat(engine, IdentityKey("console", "jo"))
    chat.onboard(scheme=schemes["step"].name)
    named(chat)
    md = render(engine, chat, "md").decode()
    cover = md[md.index("## CPD cover sheet") :]
    assert "- Name: Sam Patel CEng MIET" in cover and "- Membership number: 1234567" in cover
    text = pdf_text(render(engine, chat, "pdf"))
    cover = text[text.index("CPD cover sheet") :]
    assert "Name Sam Patel CEng MIET" in cover and "Membership number 1234567" in cover


def test_json_round_trip_keeps_name_and_number(
    engine: Engine, chat: Chat, db: Database, schemes: dict[str, Scheme]
) -> None:
    named(chat)
    data = render(engine, chat, "json")
    other = IdentityKey("console", "restored")
    records.import_file(db, other, data, schemes, now=engine.clock())
    with db.transaction() as session:
        found = repo.find_person(session, other)
    assert found is not None
    assert (found[1].full_name, found[1].membership_number) == ("Sam Patel CEng MIET", "1234567")


def test_settings_menu_and_refusals(engine: Engine, chat: Chat) -> None:
    chat.say("/settings")
    assert "Name for the record: not set" in chat.text
    chat.press("Done")
    chat.say("/settings number " + "9" * 40)
    assert "I keep up to 32" in chat.text
    chat.say("/settings")
    assert "Membership number: not set" in chat.text

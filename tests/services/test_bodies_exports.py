"""Several bodies, one record (issue 16): `/export pdf|md|docx IET [YEAR]` gives the record
as another body followed counts it (its categories, CPD year, requirements and reflection
checks) from the one set of entries; the main body's record says where the member stands
with each other body (real chat and engine, SQLite and PostgreSQL)."""

from __future__ import annotations

import io

import pytest
from docx import Document
from pypdf import PdfReader

from bot.core.model import IdentityKey, Incoming, Kind, Outgoing
from bot.services.engine import Engine
from tests.conftest import Chat


def log(chat: Chat, line: str) -> None:
    chat.say(line)
    chat.say("later")


@pytest.fixture
def ipem(engine: Engine) -> Chat:
    """An IPEM member who follows IET too, with two entries in November 2026."""
    c = Chat(engine, IdentityKey("console", "ines"))
    c.onboard("IPEM / HCPC")
    c.say("/settings bodies IET")
    log(c, "/log 1h peer review of plans 3 nov #peerreview")
    log(c, "/log 1.5h journal article on dosimetry 10 nov #reading")
    return c


def file_reply(chat: Chat, line: str) -> Outgoing:
    replies = [r for r in chat.say(line) if r.attachment is not None]
    assert len(replies) == 1, chat.text
    return replies[0]


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)


def docx_of(data: bytes) -> tuple[list[str], list[list[list[str]]]]:
    doc = Document(io.BytesIO(data))
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    return [p.text for p in doc.paragraphs], tables


def test_export_md_iet_counts_the_same_entries_in_iets_categories_and_requirements(
    ipem: Chat,
) -> None:
    reply = file_reply(ipem, "/export md IET")
    assert reply.text.startswith(
        "Your CPD record as IET counts it, CPD year 2026 (Thu 1 Jan 2026 to Thu 31 Dec 2026, "
        "Markdown): 2 entries, 2 h 30, in IET's categories"
    )
    assert reply.attachment is not None
    md = reply.attachment.content.decode()
    assert "- **Professional body:** The Institution of Engineering and Technology (IET)" in md
    assert "- **Membership status:** Professionally active" in md
    assert "- **CPD year:** 2026 (1 Jan 2026 – 31 Dec 2026)" in md
    assert "- **Total hours:** 2 h 30 (target: 30 h)" in md
    # IET's categories, mapped from IPEM's: the same two entries, logged once.
    assert "| Work experience | 1 h | 40% |\n| Self-study | 1 h 30 | 60% |" in md
    assert "Work-based learning" not in md and "Self-directed learning" not in md
    # IET's requirements and its reflection check, saying which IPEM answers count.
    assert "| Not yet | Hours | 2 h 30 of 30 h; target 30 h a year (Professionally active)" in md
    assert "| Not yet | Reflection on each activity |" in md
    assert "application to practice count for IET" in md
    assert "A mixture of learning methods" not in md  # IPEM's requirement, not IET's
    assert "Also followed" not in md


def test_each_body_exports_its_own_cpd_year(engine: Engine) -> None:
    iet = Chat(engine, IdentityKey("console", "ian"))
    iet.onboard("IET")
    iet.say("/settings bodies STEP")
    log(iet, "/log 2h webinar on arc-flash safety 20 march #webinar")  # STEP: 2025/26
    webinar = iet.choice("Webinar")  # "For STEP, is #1 … Conference or Webinar?", left
    log(iet, "/log 1h reading on trusts 10 april #reading")  # STEP: 2026/27
    iet.press("Reading")
    now = file_reply(iet, "/export md STEP")
    assert "CPD year 2026/27 (Wed 1 Apr 2026 to Wed 31 Mar 2027, Markdown): 1 entry, 1 h" in (
        now.text
    )
    assert now.attachment is not None
    md = now.attachment.content.decode()
    assert "- **CPD year:** 2026/27 (1 Apr 2026 – 31 Mar 2027)" in md
    assert "| Reading | 1 h |" in md and "Webinar" not in md
    before = file_reply(iet, "/export md step 2025")
    assert "CPD year 2025/26 (Tue 1 Apr 2025 to Tue 31 Mar 2026, Markdown)" in before.text
    assert before.attachment is not None
    md = before.attachment.content.decode()
    assert "- **CPD year:** 2025/26 (1 Apr 2025 – 31 Mar 2026)" in md
    assert "Webinar on arc-flash safety" in md and "Reading on trusts" not in md
    # Not filed in STEP yet (the question was left): said so; filed, in its category.
    assert "| Not yet filed | 2 h | 100% |" in md
    iet.send(Incoming(iet.identity, Kind.CHOICE, choice=webinar.id))
    assert iet.text.startswith("Filed #1 under Webinar for STEP.")
    filed = file_reply(iet, "/export md STEP 2025")
    assert filed.attachment is not None
    assert "| Webinar | 2 h | 100% |" in filed.attachment.content.decode()


def test_export_docx_iet_has_the_iet_columns(ipem: Chat) -> None:
    reply = file_reply(ipem, "/export docx IET")
    assert reply.attachment is not None
    paragraphs, tables = docx_of(reply.attachment.content)
    assert "The Institution of Engineering and Technology" in "\n".join(paragraphs)
    activities, totals = tables
    assert activities[0] == ["Date", "Activity", "Type of CPD", "Hours", "Reflection", "Evidence"]
    assert [row[2] for row in activities[1:]] == ["Work experience", "Self-study"]
    assert totals[1:] == [["Work experience", "1 h"], ["Self-study", "1 h 30"], ["Total", "2 h 30"]]
    main = file_reply(ipem, "/export docx")
    assert main.attachment is not None
    _, (activities, _) = docx_of(main.attachment.content)
    assert [row[2] for row in activities[1:]] == ["Work-based learning", "Self-directed learning"]


def test_the_main_record_says_where_the_member_stands_with_iet(ipem: Chat) -> None:
    reply = file_reply(ipem, "/export pdf")
    assert "where you stand with each other body you follow" in reply.text
    assert reply.attachment is not None
    text = pdf_text(reply.attachment.content)
    assert "IPEM / HCPC · Registrant" in text
    assert "Also followed: IET — 2 h 30 of 30 h in 2026; see /export pdf IET" in text
    md = file_reply(ipem, "/export md")
    assert md.attachment is not None
    assert "- Also followed: IET — 2 h 30 of 30 h in 2026; see /export md IET" in (
        md.attachment.content.decode()
    )


def test_the_main_record_without_other_bodies_is_unchanged(engine: Engine) -> None:
    alone = Chat(engine, IdentityKey("console", "ida"))
    alone.onboard("IPEM / HCPC")
    log(alone, "/log 1h peer review of plans 3 nov #peerreview")
    reply = file_reply(alone, "/export pdf")
    assert reply.attachment is not None
    assert "Also followed" not in pdf_text(reply.attachment.content)
    assert "other body" not in reply.text


def test_a_body_not_followed_or_unknown_is_said(ipem: Chat) -> None:
    ipem.say("/export pdf IES")
    assert ipem.text == "You don't follow IES: /settings bodies adds it."
    ipem.say("/export pdf IETT 2026")
    assert ipem.text.startswith("I don't know the body 'IETT'. Did you mean IET? Use /export")
    assert "/export pdf IET 2026 for another body you follow" in ipem.text
    ipem.say("/export iet")
    assert ipem.text.startswith("For IET's record: /export pdf IET, /export md IET or")
    ipem.say("/export pdf IET 2031")
    assert "2031" in ipem.text and all(r.attachment is None for r in ipem.replies)
    main = file_reply(ipem, "/export pdf IPEM")  # the main body named: its record
    assert main.text.startswith("Your CPD record for 2026 (PDF): 2 entries, 2 h 30")


def test_export_help_names_the_body_form(ipem: Chat) -> None:
    ipem.say("/help export")
    assert "/export pdf IET 2026: another body you follow" in ipem.text

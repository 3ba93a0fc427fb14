"""The HCPC CPD profile as the auditor reads it (issue 16 review): the member's name,
HCPC registration number and period at the top, the files that go with it named by their
number (not a bot command), types in words; and `/export hcpc` telling the member what
is missing and which files to send with it. Through the real engine on SQLite and
PostgreSQL, and the layout itself for the evidence."""

from __future__ import annotations

import io
from datetime import date

from docx import Document

from bot.core.model import IdentityKey
from bot.core.schemes import Scheme
from bot.dialogue import State
from bot.dialogue.conversation import Conv
from bot.dialogue.kernel import step
from bot.services.engine import Engine
from bot.services.printable import docx_packs
from tests.conftest import Chat
from tests.dialogue.chat import Case, make_ctx, text
from tests.services.test_audit_packs import _entry, _evidence, _pack, _png


def _paragraphs(data: bytes) -> list[str]:
    return [p.text for p in Document(io.BytesIO(data)).paragraphs]


def _ipem(engine: Engine) -> Chat:
    chat = Chat(engine, IdentityKey("console", "ines"))
    chat.onboard("IPEM / HCPC")
    for line in ("/log 2h radiotherapy QA workshop 10 feb 2026", "/log 1h journal club 3 jul 2026"):
        chat.say(line)
        chat.say("Learnt")
        chat.say("Used it")
    return chat


def test_the_profile_names_the_member_and_export_says_how_to_set_it(engine: Engine) -> None:
    chat = _ipem(engine)
    reply = chat.say("/export hcpc")[0]
    assert "Your name is not on it: send /settings name" in reply.text
    assert "Your HCPC registration number is not on it: send /settings number" in reply.text
    assert reply.attachment is not None  # the file is still made
    top = _paragraphs(reply.attachment.content)[1:4]
    assert top[0].startswith("Name: ___") and top[1].startswith("HCPC registration number: ___")
    assert top[2] == "HCPC CPD audit: two-year period 23 Nov 2024 – 22 Nov 2026"
    chat.say("/settings name Ines Ray")
    chat.say("/settings number CS12345")
    reply = chat.say("/export hcpc")[0]
    assert "/settings" not in reply.text
    assert reply.attachment is not None
    assert _paragraphs(reply.attachment.content)[1:3] == [
        "Name: Ines Ray",
        "HCPC registration number: CS12345",
    ]


def test_part_4_encloses_files_by_number_with_types_in_words(schemes: dict[str, Scheme]) -> None:
    entries = (
        _entry(1, date(2025, 1, 10), (_evidence(1, 1, "application/pdf", "cert.pdf", 9),)),
        _entry(2, date(2025, 2, 10), (_evidence(2, 2, "image/png", "photo.png", 9),)),
        _entry(3, date(2025, 3, 10), (_evidence(3, 3, "application/msword", "notes.doc", 9),)),
        _entry(4, date(2025, 4, 10)),
    )
    (data,) = docx_packs.hcpc_profile(_pack(schemes, entries), lambda n: _png(100, n))
    said = _paragraphs(data)
    assert not [p for p in said if "/export" in p or "/profile" in p]  # no bot commands
    assert "Enclosed separately, as files named by their number:" in said
    assert (
        "E1-cert.pdf (PDF, entry #1)" in said and "E3-notes.doc (Word document, entry #3)" in said
    )
    index = [[c.text for c in row.cells] for row in Document(io.BytesIO(data)).tables[-1].rows]
    assert [row[3] for row in index[1:]] == ["PDF", "PNG image", "Word document"]


def test_export_hcpc_tells_the_member_which_files_to_send(schemes: dict[str, Scheme]) -> None:
    entries = (
        _entry(1, date(2025, 1, 10), (_evidence(1, 1, "application/pdf", "cert.pdf", 9),)),
        _entry(2, date(2025, 2, 10), (_evidence(2, 2, "image/png", "photo.png", 9),)),
    )
    profile = _pack(schemes, entries).profile
    case = Case(
        "export",
        State.IDLE,
        text("/export hcpc"),
        State.IDLE,
        scheme="ipem",
        snap={"profile": profile},
        person={"full_name": "Ines Ray", "membership_number": "CS12345"},
    )
    result = step(Conv(), case.event, make_ctx(schemes, case))
    said = result.replies[0].text
    assert "Part 4 lists 1 file as enclosed separately (E1-cert.pdf)" in said
    assert "send /export evidence for them" in said
    assert "/settings" not in said

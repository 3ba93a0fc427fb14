"""Audit packs (issue 16) opened with python-docx: the HCPC CPD profile's four parts, its
exact word counts, gaps flagged with their explanations, evidence numbers, the split into
email-sized files, and the IET record as Word with the columns of its CPD record. The
packs are made through the real engine on SQLite and PostgreSQL (`/export hcpc`,
`/export docx`) and, for the evidence and the split, by the layout itself."""

from __future__ import annotations

import io
import random
import re
import struct
import zlib
from datetime import UTC, date, datetime

import pytest
from docx import Document

from bot.core import hcpc
from bot.core.model import EntryView, EvidenceView, IdentityKey, ProfileView, ReflectionView
from bot.core.schemes import Scheme
from bot.services import audit_packs
from bot.services.engine import Engine
from bot.services.printable import docx_packs
from tests.conftest import Chat


def _paragraphs(data: bytes) -> list[str]:
    return [p.text for p in Document(io.BytesIO(data)).paragraphs]


def _tables(data: bytes) -> list[list[list[str]]]:
    doc = Document(io.BytesIO(data))
    return [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]


def _pictures(data: bytes) -> int:
    return len(Document(io.BytesIO(data)).inline_shapes)


def _png(size: int, seed: int) -> bytes:
    """A valid PNG of about `size` bytes that does not compress (noise)."""
    side = int((size / 3) ** 0.5) + 1
    noise = random.Random(seed).randbytes(side * side * 3)
    raw = b"".join(b"\0" + noise[y * side * 3 : (y + 1) * side * 3] for y in range(side))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    head = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", head)
        + chunk(b"IDAT", zlib.compress(raw, 0))
        + chunk(b"IEND", b"")
    )


RECEIVED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _evidence(number: int, entry: int, mime: str, name: str, size: int) -> EvidenceView:
    return EvidenceView(number, entry, "file", name, mime, size, f"{number:064x}", RECEIVED)


def _entry(number: int, day: date, evidence: tuple[EvidenceView, ...] = ()) -> EntryView:
    return EntryView(
        number=number,
        title=f"Activity {number}",
        activity_date=day,
        minutes=60,
        category="formal_educational",
        structured=None,
        source="chat",
        deleted=False,
        reflections=(ReflectionView("outcomes", "What were the learning outcomes?", "Learnt"),),
        evidence=evidence,
    )


def _pack(schemes: dict[str, Scheme], entries: tuple[EntryView, ...]) -> docx_packs.HcpcInput:
    profile = ProfileView(
        entry_numbers=(1, 2, 3, 4),
        summary="one two three",
        standards=("a b", "c", "d e f", "", "g"),
        start=date(2024, 11, 23),
        end=date(2026, 11, 22),
        entries=entries,
        gaps=((date(2025, 4, 1), date(2025, 9, 1), "Parental leave"),),
    )
    return docx_packs.HcpcInput("Ines Ray", "IPEM123", schemes["ipem"], profile, date(2026, 11, 22))


def test_evidence_images_are_embedded_numbered_and_split_at_the_limit(
    schemes: dict[str, Scheme],
) -> None:
    images = {n: _png(60_000, n) for n in (1, 3, 4, 5, 6)}
    entries = (
        _entry(1, date(2025, 1, 10), (_evidence(1, 1, "image/png", "cert.png", 60_000),)),
        _entry(2, date(2025, 2, 10), (_evidence(2, 2, "application/pdf", "slides.pdf", 9),)),
        _entry(3, date(2025, 3, 10), (_evidence(3, 3, "image/png", "photo.png", 60_000),)),
        _entry(
            4,
            date(2026, 1, 10),
            tuple(_evidence(n, 4, "image/png", f"p{n}.png", 60_000) for n in (4, 5, 6)),
        ),
    )
    pack = _pack(schemes, entries)
    whole = docx_packs.hcpc_profile(pack, images.__getitem__)
    assert len(whole) == 1 and _pictures(whole[0]) == 5
    # Each image is 61 kB that does not compress; a file without images is about 40 kB:
    # two images fit in each file under 175 kB, so five need three files.
    limit = 175_000
    parts = docx_packs.hcpc_profile(pack, images.__getitem__, limit=limit)
    assert all(len(p) < limit for p in parts)
    assert [_pictures(p) for p in parts] == [2, 2, 1]
    total = len(parts)
    for k, part in enumerate(parts, start=1):
        assert f"part {k} of {total}" in _paragraphs(part)[0]
    first = _paragraphs(parts[0])
    # Part 4: every piece numbered, in order, with its entry; the PDF listed, not embedded.
    index = _tables(parts[0])[-1]
    assert [row[0] for row in index] == ["No.", "E1", "E2", "E3", "E4", "E5", "E6"]
    assert index[2][1:4] == ["#2", "slides.pdf", "PDF"]
    assert "E2-slides.pdf (PDF, entry #2)" in first
    headings = [p for part in parts for p in _paragraphs(part) if re.match(r"E\d+: ", p)]
    assert headings == [
        "E1: cert.png (entry #1)",
        "E3: photo.png (entry #3)",
        "E4: p4.png (entry #4)",
        "E5: p5.png (entry #4)",
        "E6: p6.png (entry #4)",
    ]


def test_the_four_parts_word_counts_and_gaps(schemes: dict[str, Scheme]) -> None:
    entries = (*(_entry(n, date(2025, n, 10)) for n in (1, 2, 3)), _entry(4, date(2025, 10, 1)))
    (data,) = docx_packs.hcpc_profile(_pack(schemes, entries), lambda n: b"")
    text = _paragraphs(data)
    for heading in (
        "Part 1: Summary of recent work",
        "Part 2: Statement of how I have met the standards",
        "Part 3: CPD activities in the two-year period",
        "Part 4: Evidence",
    ):
        assert heading in text
    assert "Word count: 3 words of 500 (497 left)" in text
    assert "Word count: 7 words of 1,500 (1,493 left)" in text
    for i, standard in enumerate(hcpc.STANDARDS, start=1):
        assert f"Standard {i}: {standard}" in text
    assert "(not written yet)" in text  # standard 4 left empty
    activities = _tables(data)[0]
    assert activities[0] == ["Date", "Activity", "Type", "Hours", "Evidence"]
    dates = [row[0] for row in activities[1:]]
    assert dates == [
        "10 Jan 2025",
        "10 Feb 2025",
        "10 Mar 2025",
        "1 Apr – 1 Sep 2025",
        "1 Oct 2025",
    ]
    assert activities[4][1:3] == ["GAP: no CPD for 154 days", "Explanation: Parental leave"]


def test_an_unexplained_gap_and_an_over_long_summary_are_flagged(
    schemes: dict[str, Scheme],
) -> None:
    pack = _pack(schemes, (_entry(1, date(2025, 1, 10)),))
    profile = pack.profile.__class__(
        **{
            **pack.profile.__dict__,
            "summary": "w " * 501,
            "gaps": ((date(2025, 2, 1), date(2025, 6, 1), ""),),
        }
    )
    (data,) = docx_packs.hcpc_profile(
        docx_packs.HcpcInput("I", "", pack.scheme, profile, pack.today), bytes
    )
    assert "Word count: 501 words: 1 over the 500-word limit" in _paragraphs(data)
    assert _tables(data)[0][2][2] == "NOT EXPLAINED"


def _log(chat: Chat, line: str, *answers: str) -> None:
    chat.say(line)
    for answer in answers:
        chat.say(answer)


def test_export_hcpc_through_the_engine(engine: Engine) -> None:
    chat = Chat(engine, IdentityKey("console", "ines"))
    chat.onboard("IPEM / HCPC")
    _log(chat, "/log 2h radiotherapy QA workshop 10 feb 2025", "yes", "TG-142", "Safer QA")
    _log(chat, "/log 1h journal club 3 jul 2026 #work", "Dosimetry", "Better plans")
    replies = chat.say("/export hcpc")
    assert "Still to do in /profile: pick 4 to 6 activities, the summary" in replies[0].text
    attachment = replies[0].attachment
    assert attachment is not None and attachment.filename == "hcpc-cpd-profile-2026-11-22.docx"
    assert attachment.mime_type == docx_packs.DOCX_MIME
    rows = _tables(attachment.content)[0]
    assert [r[1] for r in rows[1:]] == [
        "Radiotherapy QA workshop",
        "GAP: no CPD for 507 days",
        "Journal club",
        "GAP: no CPD for 142 days",
    ]
    assert rows[2][2] == "NOT EXPLAINED"


def test_export_docx_has_the_iet_record_columns(chat: Chat) -> None:
    _log(chat, "/log 1.5h webinar on arc-flash safety yesterday #events", "PPE", "Labels")
    _log(chat, "/log 2h site visit 3 nov #work", "Earthing", "later")
    replies = chat.say("/export docx")
    attachment = replies[0].attachment
    assert attachment is not None and attachment.filename.endswith(".docx")
    text = _paragraphs(attachment.content)
    assert "Total CPD hours: 3 h 30" in text
    activities, totals = _tables(attachment.content)
    assert activities[0] == list(docx_packs.RECORD_COLUMNS)
    assert [r[1] for r in activities[1:]] == ["Site visit", "Webinar on arc-flash safety"]
    assert activities[2][2:4] == ["Events and seminars", "1 h 30"]
    assert "PPE" in activities[2][4]
    assert totals[-1] == ["Total", "3 h 30"]
    assert ["Work experience", "2 h"] in totals


@pytest.mark.parametrize("words", ["/export hcpc 2025", "/export hcpc please"])
def test_export_hcpc_with_a_year_is_refused(chat: Chat, words: str) -> None:
    assert "Use /export" in chat.say(words)[0].text


def test_a_failed_pack_gets_a_clear_reply(chat: Chat, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kw: object) -> bytes:
        raise RuntimeError("layout failed")

    monkeypatch.setattr(docx_packs, "record_docx", broken)
    replies = chat.say("/export docx")
    assert replies[-1].attachment is None
    assert "couldn't make the Word" in replies[-1].text
    assert {"hcpc", "docx"} == audit_packs.KINDS

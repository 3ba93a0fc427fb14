"""Issue 16: the evidence rules. Type from content (an executable renamed .pdf, a ZIP
renamed .docx refused), size and quota limits, names cleaned, E-numbers never reused, a
duplicate on one entry refused, someone else's entry or evidence out of reach, links, and
the record's entries carrying their evidence. Every refusal leaves nothing stored."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.core.model import IncomingFile
from bot.core.schemes import Scheme
from bot.services import evidence, records
from bot.services.evidence import MB, EvidenceRefused, EvidenceSettings
from bot.services.evidence_types import DOCX, ODT, XLSX, clean_name, detect
from cpdbot.config import Settings
from storage import repo
from storage.db import Database
from storage.models import Evidence, EvidenceBlob, Person
from tests.conftest import NOW, Clock
from tests.storage.test_evidence_store import entry_id, pdf, person_with_entries

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 20
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20
GIF = b"GIF89a" + b"\x00" * 20
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 20
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 20
AVIF = b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00mif1avif" + b"\x00" * 20
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"This program cannot be run in DOS mode." + b"\x00" * 40
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 40


def office(main: str | None, parts: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if main is not None:
            archive.writestr(
                "[Content_Types].xml",
                '<?xml version="1.0"?><Types><Override PartName="/word/document.xml" '
                f'ContentType="{main}"/></Types>',
            )
        for name, body in parts.items():
            archive.writestr(name, body)
    return buffer.getvalue()


WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCX_BYTES = office(WORD_MAIN, {"word/document.xml": "<w:document/>"})
DOCM_BYTES = office(
    "application/vnd.ms-word.document.macroEnabled.main+xml", {"word/document.xml": "<w/>"}
)
PLAIN_ZIP = office(None, {"word/document.xml": "<w/>", "run.exe": "MZ"})


def file(content: bytes, name: str = "certificate.pdf", size: int | None = None) -> IncomingFile:
    return IncomingFile(name, content, len(content) if size is None else size)


def stored(db: Database) -> tuple[int, int, list[int]]:
    """(evidence rows, blobs, each person's last evidence number)."""
    with db.transaction() as s:
        rows = s.execute(select(func.count()).select_from(Evidence)).scalar_one()
        blobs = s.execute(select(func.count()).select_from(EvidenceBlob)).scalar_one()
        last = list(
            s.execute(select(Person.last_evidence_number).order_by(Person.id)).scalars()  # type: ignore[arg-type]
        )
        return rows, blobs, last


@pytest.fixture
def alice(db: Database, clock: Clock) -> int:
    return person_with_entries(db, clock, "Alice", entries=3)


def store(db: Database, person: int, entry: int | None, f: IncomingFile, **limits: int) -> str:
    with db.transaction() as s:
        return evidence.store_file(s, EvidenceSettings(**limits), person, entry, f, NOW).label


def refused(db: Database, person: int, entry: int | None, f: IncomingFile, **limits: int) -> str:
    with pytest.raises(EvidenceRefused) as caught, db.transaction() as s:
        evidence.store_file(s, EvidenceSettings(**limits), person, entry, f, NOW)
    return str(caught.value)


# ---------------------------------------------------------------- types from the content


@pytest.mark.parametrize(
    ("content", "mime"),
    [
        (pdf(), "application/pdf"),
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (GIF, "image/gif"),
        (WEBP, "image/webp"),
        (HEIC, "image/heic"),
        (DOCX_BYTES, DOCX),
        (office(None, {"mimetype": ODT, "content.xml": "<x/>"}), ODT),
        (
            office(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                {"xl/workbook.xml": "<w/>"},
            ),
            XLSX,
        ),
        ("Notes from the day: dose limits…\n".encode(), "text/plain"),
        (EXE, None),
        (ELF, None),
        (PLAIN_ZIP, None),
        (DOCM_BYTES, None),
        (AVIF, None),
        (b"PK\x03\x04 broken zip", None),
        (b"<svg onload='alert(1)'>\x00", None),
        (b"\x00\x01\x02binary", None),
        (b"", None),
    ],
)
def test_types_are_read_from_the_content(content: bytes, mime: str | None) -> None:
    assert detect(content) == mime


def test_an_executable_renamed_pdf_is_refused_and_nothing_is_stored(
    db: Database, alice: int
) -> None:
    entry = entry_id(db, alice, 1)
    for bad in (EXE, PLAIN_ZIP, DOCM_BYTES):
        message = refused(
            db, alice, entry, IncomingFile("certificate.pdf", bad, len(bad), "application/pdf")
        )
        assert "can't keep that kind of file" in message and "PDF" in message
    assert stored(db) == (0, 0, [0])
    assert store(db, alice, entry, file(DOCX_BYTES, "reflection.pdf")) == "E1"


@pytest.mark.parametrize(
    ("sent", "kept", "content"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf", pdf()),
        ("C:\\Users\\ada\\Cert\u202eexe.pdf", "Certexe.pdf", pdf()),
        ("report.exe", "report.pdf", pdf()),
        ("photo", "photo.jpg", JPEG),
        ("IMG_0001.HEIC", "IMG_0001.heic", HEIC),
        ("notes v1.2", "notes v1.2.txt", b"plain"),
        ("....", "evidence.pdf", pdf()),
        ("\x00\x07\n", "evidence.pdf", pdf()),
        ("a" * 300 + ".pdf", "a" * 116 + ".pdf", pdf()),
    ],
)
def test_names_are_cleaned_and_end_with_the_detected_type(
    sent: str, kept: str, content: bytes
) -> None:
    mime = detect(content)
    assert mime is not None
    assert clean_name(sent, mime) == kept
    assert len(clean_name(sent, mime)) <= 120


# ---------------------------------------------------------------- limits


def test_a_file_over_the_size_limit_is_refused_declared_or_downloaded(
    db: Database, alice: int
) -> None:
    entry = entry_id(db, alice, 1)
    declared = refused(db, alice, entry, file(b"", size=14 * MB + MB // 5))
    assert declared.startswith("That file is 14 MB; I keep files up to 10 MB")
    big = pdf(b"x" * (2 * MB))
    assert "up to 1.0 MB" in refused(db, alice, entry, file(big), max_bytes=MB)
    assert "empty" in refused(db, alice, entry, file(b""))
    assert stored(db) == (0, 0, [0])
    assert store(db, alice, entry, file(big), max_bytes=3 * MB) == "E1"


def test_the_quota_counts_each_content_once_and_refuses_when_full(db: Database, alice: int) -> None:
    a, b = pdf(b"a" * 600), pdf(b"b" * 600)
    quota = len(a) + 100
    assert store(db, alice, entry_id(db, alice, 1), file(a), quota_bytes=quota) == "E1"
    # The same content on another entry takes no more room.
    assert store(db, alice, entry_id(db, alice, 2), file(a), quota_bytes=quota) == "E2"
    message = refused(db, alice, entry_id(db, alice, 3), file(b), quota_bytes=quota)
    assert message.startswith("Your evidence space is full") and "/evidence" in message
    assert stored(db) == (2, 1, [2])


# ---------------------------------------------------------------- numbers, duplicates, owners


def test_numbers_follow_arrival_and_are_never_reused(db: Database, alice: int) -> None:
    entry = entry_id(db, alice, 1)
    assert store(db, alice, entry, file(pdf(b"1"))) == "E1"
    assert store(db, alice, entry, file(PNG)) == "E2"
    with db.transaction() as s:
        assert evidence.remove(s, EvidenceSettings(), alice, 2)
    assert store(db, alice, entry, file(JPEG)) == "E3"
    with db.transaction() as s:
        shown = evidence.of_entries(s, alice, [entry])[entry]
    assert [(v.label, v.entry_number, v.mime) for v in shown] == [
        ("E1", 1, "application/pdf"),
        ("E3", 1, "image/jpeg"),
    ]


def test_a_duplicate_on_one_entry_is_refused_on_another_it_shares_the_blob(
    db: Database, alice: int
) -> None:
    first, second = entry_id(db, alice, 1), entry_id(db, alice, 2)
    store(db, alice, first, file(PNG))
    store(db, alice, first, file(pdf()))
    assert refused(db, alice, first, file(pdf(), "again.pdf")) == (
        "That file is already attached as E2."
    )
    assert stored(db) == (2, 2, [2])
    assert store(db, alice, second, file(pdf())) == "E3"
    assert stored(db) == (3, 2, [3])


def test_someone_elses_entry_and_evidence_are_out_of_reach(
    db: Database, alice: int, clock: Clock
) -> None:
    bob = person_with_entries(db, clock, "Bob", entries=1)
    bobs_entry = entry_id(db, bob, 1)
    store(db, bob, bobs_entry, file(pdf(b"bob")))
    message = refused(db, alice, bobs_entry, file(pdf()))
    assert message == "I can't find that entry among yours, so nothing was attached."
    with db.transaction() as s:
        with pytest.raises(EvidenceRefused):
            evidence.store_link(s, alice, bobs_entry, "https://example.org/cert", NOW)
        with pytest.raises(LookupError):
            evidence.content(s, EvidenceSettings(), alice, 1)
        assert evidence.of_entries(s, alice, [bobs_entry]) == {}
        assert not evidence.remove(s, EvidenceSettings(), alice, 1)
    assert stored(db) == (1, 1, [0, 1])


def test_a_deleted_entry_takes_no_evidence(db: Database, alice: int) -> None:
    entry = entry_id(db, alice, 1)
    with db.transaction() as s:
        from storage.models import Entry

        row = s.get(Entry, entry)
        assert row is not None
        row.deleted_at = NOW
    assert "can't find that entry" in refused(db, alice, entry, file(pdf()))


def test_a_file_waits_for_an_entry_then_is_filed_with_it(db: Database, alice: int) -> None:
    assert store(db, alice, None, file(pdf())) == "E1"
    assert (
        refused(db, alice, None, file(pdf())) == "That file is already waiting for an entry as E1."
    )
    entry = entry_id(db, alice, 2)
    with db.transaction() as s:
        assert [v.label for v in evidence.waiting(s, alice)] == ["E1"]
        filed = evidence.file_with_entry(s, alice, 1, entry)
        assert (filed.label, filed.entry_number) == ("E1", 2)
        assert evidence.waiting(s, alice) == []
    with db.transaction() as s:
        with pytest.raises(EvidenceRefused, match="already filed with #2"):
            evidence.file_with_entry(s, alice, 1, entry_id(db, alice, 1))
        with pytest.raises(EvidenceRefused, match="You have no E7"):
            evidence.file_with_entry(s, alice, 7, entry)


def test_filing_a_waiting_duplicate_is_refused(db: Database, alice: int) -> None:
    entry = entry_id(db, alice, 1)
    store(db, alice, entry, file(pdf()))
    store(db, alice, None, file(pdf()))
    with pytest.raises(EvidenceRefused, match="already attached as E1"), db.transaction() as s:
        evidence.file_with_entry(s, alice, 2, entry)


# ---------------------------------------------------------------- links


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://example.org/cert.pdf",
        "file:///etc/passwd",
        "https://",
        "https://exa mple.org",
        "https://example.org/\u202ecert",
        "",
        "https://example.org/" + "a" * 2000,
    ],
)
def test_a_link_that_is_not_a_web_address_is_refused(db: Database, alice: int, url: str) -> None:
    with pytest.raises(EvidenceRefused), db.transaction() as s:
        evidence.store_link(s, alice, entry_id(db, alice, 1), url, NOW)
    assert stored(db) == (0, 0, [0])


def test_links_are_kept_numbered_with_files_and_not_twice(db: Database, alice: int) -> None:
    entry = entry_id(db, alice, 1)
    store(db, alice, entry, file(pdf()))
    url = "https://learn.example.org/certificates/" + "x" * 150
    with db.transaction() as s:
        link = evidence.store_link(s, alice, entry, url, NOW)
    assert (link.label, link.kind, link.size, link.sha256) == ("E2", "link", 0, "")
    assert len(link.name) == 120 and link.name.endswith("…")
    with pytest.raises(EvidenceRefused, match="already attached as E2"), db.transaction() as s:
        evidence.store_link(s, alice, entry, url, NOW)
    with db.transaction() as s, pytest.raises(LookupError):
        evidence.content(s, EvidenceSettings(), alice, 2)


# ---------------------------------------------------------------- the record, the settings


def test_the_years_record_lists_each_entrys_evidence(
    db: Database, alice: int, schemes: dict[str, Scheme], clock: Clock
) -> None:
    store(db, alice, entry_id(db, alice, 2), file(pdf()))
    store(db, alice, entry_id(db, alice, 1), file(PNG, "slide.png"))
    store(db, alice, entry_id(db, alice, 2), file(JPEG))
    store(db, alice, None, file(GIF))  # waiting: in no entry
    with db.transaction() as s:
        row = s.get(Person, alice)
        assert row is not None
        person = repo.person_view(row)
        record = records.year_record(s, alice, person, schemes["iet"], today=clock.now.date())
    shown = {e.number: [(v.label, v.name) for v in e.evidence] for e in record.entries}
    assert shown == {
        1: [("E2", "slide.png")],
        2: [("E1", "certificate.pdf"), ("E3", "certificate.jpg")],
        3: [],
    }
    assert record.entries[1].evidence[0].received_at == NOW


def test_settings_give_the_engine_its_limits_and_directory(tmp_path: Path) -> None:
    default = Settings(_env_file=None).evidence()  # type: ignore[call-arg]
    assert default == EvidenceSettings(10 * MB, 200 * MB, None)
    chosen = Settings(  # type: ignore[call-arg]
        _env_file=None, evidence_max_mb=2.5, evidence_quota_mb=50, evidence_dir=tmp_path
    ).evidence()
    assert chosen == EvidenceSettings(int(2.5 * MB), 50 * MB, tmp_path)
    # EVIDENCE_DIR= as .env.example has it: the database, not the current folder.
    empty = Settings(_env_file=None, evidence_dir="  ").evidence()  # type: ignore[call-arg]
    assert empty.directory is None

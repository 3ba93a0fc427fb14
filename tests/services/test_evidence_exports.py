"""Evidence in the record and its exports (issue 16): the PDF and Markdown list each
entry's evidence as E1, E2, … (name, type, date received, SHA-256) with an evidence index
at the end; the CSV has an `evidence` column and the JSON the metadata (never the
content); the `/export all` ZIP and `/export evidence` hold the files named by their
numbers; `cpdbot import` of the ZIP restores entries and evidence, once.

Evidence is stored through the real service (`bot.services.evidence`) on the real
databases; the files are made through the real chat and engine.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fpdf import FPDF
from PIL import Image
from pypdf import PdfReader

from bot.core.model import IdentityKey, IncomingFile, Outgoing
from bot.core.schemes import Scheme
from bot.services import evidence, records
from bot.services.engine import Engine
from cpdbot.cli import main
from storage import entry_store, repo
from storage.db import Database
from tests.conftest import Chat

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
LINK = "https://learning.theiet.org/certificates/7731"


def pdf_file(text: str) -> bytes:
    doc = FPDF()
    doc.add_page()
    doc.set_font("Helvetica", size=14)
    doc.text(20, 20, text)
    return bytes(doc.output())


def png_file(colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "PNG")
    return out.getvalue()


CERT = pdf_file("Certificate of attendance: IET webinar on arc-flash safety")
PHOTO = png_file()


def person_id(db: Database, key: IdentityKey) -> int:
    with db.transaction() as s:
        found = repo.find_person(s, key)
        assert found is not None
        return found[0]


def attach(
    engine: Engine, key: IdentityKey, number: int | None, name: str, content: bytes, at: datetime
) -> int:
    """File `content` with entry #`number` (None: waiting) through the evidence service."""
    pid = person_id(engine.db, key)
    with engine.db.transaction() as s:
        entry = None if number is None else entry_store.get_entry(s, pid, number)
        entry_id = None if entry is None else entry.id
        file = IncomingFile(name, content, len(content))
        return evidence.store_file(s, engine.evidence, pid, entry_id, file, at).number


def add_link(engine: Engine, key: IdentityKey, number: int, url: str, at: datetime) -> int:
    pid = person_id(engine.db, key)
    with engine.db.transaction() as s:
        entry = entry_store.get_entry(s, pid, number)
        assert entry is not None and entry.id is not None
        return evidence.store_link(s, pid, entry.id, url, at).number


@pytest.fixture
def kept(chat: Chat, engine: Engine) -> Chat:
    """Two entries: #1 with a certificate PDF (E1) and a link (E4), #2 with a photo (E2);
    E3 was removed (numbers are never reused), E5 waits for an entry."""
    for line in (
        "/log 1.5h IET webinar on arc-flash safety yesterday #events",
        "/log 3h substation site visit 3 nov #work",
    ):
        chat.say(line)
        chat.say("skip")  # the two reflection questions
        chat.say("skip")
    key = chat.identity
    assert attach(engine, key, 1, "IET certificate (arc flash).pdf", CERT, NOW) == 1
    assert (
        attach(engine, key, 2, "site photo.png", PHOTO, datetime(2026, 11, 4, 9, tzinfo=UTC)) == 2
    )
    assert attach(engine, key, 2, "notes.txt", b"notes from the visit\n", NOW) == 3
    with engine.db.transaction() as s:
        assert evidence.remove(s, engine.evidence, person_id(engine.db, key), 3)
    assert add_link(engine, key, 1, LINK, NOW) == 4
    assert attach(engine, key, None, "later.pdf", pdf_file("not filed yet"), NOW) == 5
    return chat


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def file_reply(chat: Chat, line: str) -> Outgoing:
    replies = [r for r in chat.say(line) if r.attachment is not None]
    assert len(replies) == 1, chat.text
    return replies[0]


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)


def test_the_pdf_record_lists_each_entrys_evidence_and_ends_with_the_index(kept: Chat) -> None:
    reply = file_reply(kept, "/export pdf")
    assert reply.attachment is not None
    text = pdf_text(reply.attachment.content)
    activities, index = text.split("Evidence index")
    # Under each activity: number, name, type, size, day received, fingerprint.
    # Activities by date: the site visit (#2, 3 Nov), then the webinar (#1, 21 Nov).
    visit = activities[activities.index("#2 Substation") : activities.index("#1 IET webinar")]
    webinar = activities[activities.index("#1 IET webinar") :]
    assert "E1 IET certificate (arc flash).pdf" in webinar
    assert "PDF · " in webinar and "received 22 Nov 2026" in webinar
    assert f"SHA-256 {sha(CERT)}" in webinar
    assert f"E4 {LINK}" in webinar and "Link · received 22 Nov 2026" in webinar
    assert "E2 site photo.png" in visit and "PNG image" in visit
    assert "received 4 Nov 2026" in visit and sha(PHOTO) in visit
    # The index: by number, each with its entry; nothing removed or not yet filed.
    assert index.index("E1 entry #1") < index.index("E2 entry #2") < index.index("E4 entry #1")
    assert sha(CERT) in index and sha(PHOTO) in index and LINK in index
    assert "E3" not in text and "E5" not in text and "later.pdf" not in text


def test_the_markdown_record_lists_the_evidence_and_the_index(kept: Chat) -> None:
    reply = file_reply(kept, "/export md")
    assert reply.attachment is not None
    md = reply.attachment.content.decode()
    activities, index = md.split("## Evidence index")
    webinar = activities[activities.index("### #1 IET webinar") :]
    assert (
        "  - **E1** IET certificate (arc flash).pdf — PDF · 1,021 bytes · received 22 Nov 2026 · "
        f"SHA-256 `{sha(CERT)}`"
    ) in webinar
    assert f"  - **E4** {LINK} — Link · received 22 Nov 2026" in webinar
    visit = activities[activities.index("### #2") : activities.index("### #1")]
    assert "**E2** site photo.png — PNG image · 101 bytes · received 4 Nov 2026" in visit
    assert f"`{sha(PHOTO)}`" in visit
    rows = [line for line in index.splitlines() if line.startswith("| E") and "#" in line]
    assert [r.split(" | ")[0:2] for r in rows] == [["| E1", "#1"], ["| E2", "#2"], ["| E4", "#1"]]
    assert sha(CERT) in rows[0] and "PNG image" in rows[1] and "Link" in rows[2]


def test_csv_and_json_carry_the_numbers_and_metadata_never_the_content(
    kept: Chat, engine: Engine
) -> None:
    report = records.report_for(engine, kept.identity, 2026)
    assert report is not None
    lines = records.render(report, "csv")[1].decode("utf-8-sig").splitlines()
    assert lines[0].startswith(
        "number,date,end_date,title,hours,category,structured,source,evidence,"
    )
    evidence_column = {line.split(",")[0]: line.split(",")[8] for line in lines[1:3]}
    assert evidence_column == {"1": "E1 E4", "2": "E2"}
    payload = json.loads(records.render(report, "json")[1])
    by_number = {e["number"]: e["evidence"] for e in payload["entries"]}
    assert [(ev["label"], ev["kind"], ev["sha256"]) for ev in by_number[1]] == [
        ("E1", "file", sha(CERT)),
        ("E4", "link", ""),
    ]
    assert by_number[2][0]["name"] == "site photo.png" and by_number[2][0]["size"] == len(PHOTO)
    assert "Certificate of attendance" not in json.dumps(payload)  # the PDF's text: no content


def zip_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_export_all_holds_every_file_named_by_its_number_with_the_index(
    kept: Chat, engine: Engine
) -> None:
    reply = file_reply(kept, "/export all")
    assert reply.attachment is not None
    members = zip_of(reply.attachment.content)
    files = {n: b for n, b in members.items() if n.startswith("evidence/")}
    waiting = files.pop("evidence/E5-later.pdf")  # not filed with an entry yet: kept too
    index = files.pop("evidence/index.md").decode()
    assert b'"label": "E5"' in files.pop("evidence/waiting.json")  # for `cpdbot import`
    assert files == {
        "evidence/E1-IET-certificate-arc-flash.pdf": CERT,
        "evidence/E2-site-photo.png": PHOTO,
    }
    assert waiting.startswith(b"%PDF-")
    assert "| E1 | #1 | IET certificate (arc flash).pdf |" in index
    assert "evidence/E2-site-photo.png |" in index and f"`{sha(PHOTO)}`" in index
    assert f"| E4 | #1 | {LINK} | Link |" in index and "| E5 | – | later.pdf |" in index
    assert "E3" not in index  # removed: no number, no file


def test_export_evidence_sends_the_years_files_and_index(kept: Chat) -> None:
    reply = file_reply(kept, "/export evidence")
    assert reply.text.startswith("Your evidence for 2026 as a ZIP: 2 files (")
    assert "(with 1 link)" in reply.text
    assert reply.attachment is not None
    assert reply.attachment.filename == "cpd-evidence-2026.zip"
    members = zip_of(reply.attachment.content)
    assert sorted(members) == [
        "evidence/E1-IET-certificate-arc-flash.pdf",
        "evidence/E2-site-photo.png",
        "evidence/index.md",
    ]
    assert members["evidence/E1-IET-certificate-arc-flash.pdf"] == CERT
    assert members["evidence/E2-site-photo.png"] == PHOTO
    kept.say("/export evidence 2025")
    assert "No evidence is kept with your 2025 entries yet" in kept.text
    assert all(r.attachment is None and r.file is None for r in kept.replies)


def held(engine: Engine, key: IdentityKey) -> list[tuple[int, str, str, str, bytes]]:
    """(E-number, entry title, name, received, bytes or the link) of the person's evidence."""
    with engine.db.transaction() as s:
        found = repo.find_person(s, key)
        assert found is not None
        pid, view = found
        record = records.year_record(s, pid, view, engine.schemes["iet"], today=NOW.date())
        return sorted(
            (
                ev.number,
                e.title,
                ev.name,
                ev.received_at.isoformat(),
                evidence.content(s, engine.evidence, pid, ev.number)
                if ev.kind == "file"
                else ev.name.encode(),
            )
            for e in record.entries
            for ev in e.evidence
        )


def test_importing_the_zip_twice_restores_entries_and_evidence_once(
    kept: Chat, engine: Engine, db: Database, schemes: dict[str, Scheme]
) -> None:
    data = records.export_all(db, kept.identity, schemes, now=NOW, evidence=engine.evidence)
    assert data is not None
    copy = IdentityKey("console", "alice-copy")
    first = records.import_report(db, copy, data, schemes, now=NOW, evidence=engine.evidence)
    assert (first.added, first.skipped, first.bad) == (2, 0, ())
    assert (first.evidence.added, first.evidence.renumbered) == (4, [])  # E5 waits again
    assert held(engine, copy) == held(engine, kept.identity)  # numbers, names, dates, bytes
    assert [n for n, *_ in held(engine, copy)] == [1, 2, 4]  # E3 stays unused, as printed
    again = records.import_report(db, copy, data, schemes, now=NOW, evidence=engine.evidence)
    assert (again.added, again.skipped, again.evidence.added, again.evidence.skipped) == (
        0,
        2,
        0,
        4,
    )
    assert held(engine, copy) == held(engine, kept.identity)
    # A piece attached afterwards takes the next number after the restored ones.
    assert attach(engine, copy, 1, "more.png", png_file((0, 90, 0)), NOW) == 6


def test_cpdbot_import_of_the_zip_into_a_new_database(
    kept: Chat, engine: Engine, db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "everything.zip"
    args = ["export", "--db", db.url, "--user", "alice", "--format", "all", "--out", str(out)]
    assert main(args) == 0
    elsewhere = f"sqlite:///{tmp_path / 'restored.db'}"
    assert main(["import", "--db", elsewhere, "--user", "alice", str(out)]) == 0
    said = capsys.readouterr().out
    assert "Imported 2 entries for alice; skipped 0 already recorded." in said
    assert "Evidence: 4 pieces kept; skipped 0 already there." in said
    assert main(["import", "--db", elsewhere, "--user", "alice", str(out)]) == 0
    assert "Evidence: 0 pieces kept; skipped 4 already there." in capsys.readouterr().out
    restored_db = Database(elsewhere)
    try:
        restored = Engine(restored_db, engine.schemes, engine.clock)
        assert held(restored, kept.identity) == held(engine, kept.identity)
    finally:
        restored_db.dispose()


def test_importing_beside_evidence_already_held_gives_new_numbers_and_says_so(
    kept: Chat, engine: Engine, db: Database, schemes: dict[str, Scheme]
) -> None:
    data = records.export_all(db, kept.identity, schemes, now=NOW, evidence=engine.evidence)
    assert data is not None
    bob = Chat(engine, IdentityKey("console", "bob"))
    bob.onboard()
    bob.say("/log 1h reading on earthing 2 nov #selfstudy")
    bob.say("skip")
    bob.say("skip")
    own = pdf_file("Bob's own certificate")
    assert attach(engine, bob.identity, 1, "bob.pdf", own, NOW) == 1  # his E1
    done = records.import_report(db, bob.identity, data, schemes, now=NOW, evidence=engine.evidence)
    assert done.added == 2 and done.evidence.added == 4  # the waiting E5 too
    # E1 was his: the certificate became E2, so the photo (E2) became E3; E4 was free.
    assert done.evidence.renumbered == [(1, 2), (2, 3)]
    numbers = {name: n for n, _, name, _, _ in held(engine, bob.identity)}
    assert numbers == {
        "bob.pdf": 1,
        "IET certificate (arc flash).pdf": 2,
        "site photo.png": 3,
        LINK: 4,
    }


def test_a_zip_whose_file_was_changed_imports_nothing(
    kept: Chat, engine: Engine, db: Database, schemes: dict[str, Scheme]
) -> None:
    data = records.export_all(db, kept.identity, schemes, now=NOW, evidence=engine.evidence)
    assert data is not None
    members = zip_of(data)
    members["evidence/E2-site-photo.png"] = png_file()[:-1] + b"\x00"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    copy = IdentityKey("console", "alice-copy")
    with pytest.raises(records.RecordImportError) as raised:
        records.import_report(db, copy, out.getvalue(), schemes, now=NOW, evidence=engine.evidence)
    assert raised.value.problems == (
        "E2 (site photo.png): evidence/E2-site-photo.png does not match the SHA-256 in record.json",
    )
    assert engine.record(copy, 2026) is None  # nothing at all: not even the person


def test_a_json_export_restores_links_and_says_the_files_need_the_zip(
    kept: Chat, engine: Engine, db: Database, schemes: dict[str, Scheme]
) -> None:
    report = records.report_for(engine, kept.identity, 2026)
    assert report is not None
    data = records.render(report, "json")[1]
    copy = IdentityKey("console", "alice-copy")
    done = records.import_report(db, copy, data, schemes, now=NOW, evidence=engine.evidence)
    assert (done.added, done.evidence.added, done.evidence.without_file) == (2, 1, 2)
    assert [(n, name) for n, _, name, _, _ in held(engine, copy)] == [(4, LINK)]


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("sha256", "abc", "evidence E1: sha256 must be 64 lower-case hex digits"),
        ("kind", "exe", "evidence E1: kind must be 'file' or 'link', not 'exe'"),
        ("received_at", "yesterday", "evidence E1: received_at must be a date and time"),
        ("number", -1, "evidence number must be a whole number, not -1"),
    ],
)
def test_bad_evidence_metadata_is_named_and_imports_nothing(
    kept: Chat,
    engine: Engine,
    db: Database,
    schemes: dict[str, Scheme],
    field: str,
    value: object,
    problem: str,
) -> None:
    report = records.report_for(engine, kept.identity, 2026)
    assert report is not None
    payload = json.loads(records.render(report, "json")[1])
    webinar = next(e for e in payload["entries"] if e["number"] == 1)
    webinar["evidence"][0][field] = value
    copy = IdentityKey("console", "alice-copy")
    with pytest.raises(records.RecordImportError) as raised:
        records.import_report(
            db, copy, json.dumps(payload).encode(), schemes, now=NOW, evidence=engine.evidence
        )
    assert len(raised.value.problems) == 1 and problem in raised.value.problems[0]
    assert engine.record(copy, 2026) is None

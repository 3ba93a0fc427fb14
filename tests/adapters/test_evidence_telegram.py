"""Evidence over Telegram: photos and documents a member sends, fetched through the real
adapter from the fake Bot API (getFile, then /file/bot<token>/<file_path>), with limits.

The engine is the real one; `Recording` only notes the events the adapter hands it, to
check what was downloaded (the bytes never reach the inbox).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlmodel import select

from adapters.downloads import FETCH_FAILED
from bot.core.model import IdentityKey, Incoming, Kind
from bot.core.schemes import Scheme
from bot.services.engine import Engine, Handled
from bot.services.evidence import EvidenceSettings
from storage.db import Database
from storage.models import Evidence, EvidenceBlob, InboxUpdate
from tests.adapters.test_telegram import fake, handled, onboard, running  # noqa: F401
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram, TelegramUser

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after:telegram.warnings.PTBDeprecationWarning"
)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(300)
LIMIT = 64 * 1024  # EVIDENCE_MAX_MB for these tests: small, so "too big" is cheap to send


class Recording(Engine):
    """The real engine, noting each event it is given (what the adapter produced)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.events: list[Incoming] = []

    def process(self, event: Incoming, *, make_files: bool = True) -> Handled:
        self.events.append(event)
        return super().process(event, make_files=make_files)

    def files(self) -> list[Incoming]:
        return [e for e in self.events if e.kind == Kind.FILE]


@pytest.fixture
def recording(db: Database, schemes: dict[str, Scheme], clock: Clock) -> Recording:
    return Recording(db, schemes, clock, evidence=EvidenceSettings(max_bytes=LIMIT))


def stored_payloads(db: Database) -> list[str]:
    with db.transaction() as session:
        return [row.payload for row in session.exec(select(InboxUpdate)).all()]


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_pdf_and_a_photo_reach_the_engine_downloaded_after_the_update_is_kept(
    fake: FakeTelegram,  # noqa: F811
    recording: Recording,
    db: Database,
    mode: str,
) -> None:
    alice = fake.user()
    document = alice.document(PDF, "IET certificate.pdf", "application/pdf", caption="for #1")
    photo = alice.photo(JPEG)
    async with running(recording, fake, mode):
        await onboard(alice)
        gate = fake.download_gate = asyncio.Event()
        await alice.send(document)
        await fake.wait_for(lambda: fake.downloads)
        # Recorded before the download: Telegram's update (the file id), never the bytes.
        (kept,) = [p for p in stored_payloads(db) if p]
        assert document["message"]["document"]["file_id"] in kept and "%PDF" not in kept
        gate.set()
        await handled(db, document)
        await alice.send(photo)
        await handled(db, photo)

    pdf, jpeg = recording.files()
    assert pdf.file is not None and jpeg.file is not None
    assert (pdf.file.name, pdf.file.content, pdf.file.size) == (
        "IET certificate.pdf",
        PDF,
        len(PDF),
    )
    assert pdf.file.mime_hint == "application/pdf" and pdf.text == "for #1"
    assert pdf.chat_id == str(alice.id) and pdf.dedupe_key == str(document["update_id"])
    # The photo's largest size, not its thumbnail; named after the message.
    assert jpeg.file.content == JPEG and jpeg.file.name.endswith(".jpg") and jpeg.text == ""
    assert len(fake.called("getFile")) == 2 and len(fake.downloads) == 2


async def test_a_file_declared_over_the_limit_is_not_downloaded(
    fake: FakeTelegram,  # noqa: F811
    recording: Recording,
    db: Database,
) -> None:
    alice = fake.user()
    big = alice.document(PDF + bytes(LIMIT), "slides.pdf", "application/pdf")
    async with running(recording, fake, "webhook"):
        await onboard(alice)
        await alice.send(big)
        await handled(db, big)
    (event,) = recording.files()
    assert event.file is not None
    assert (event.file.content, event.file.size) == (b"", len(PDF) + LIMIT)
    assert fake.called("getFile") == [] and fake.downloads == []


async def test_a_download_longer_than_declared_is_cut_off_at_the_limit(
    fake: FakeTelegram,  # noqa: F811
    recording: Recording,
    db: Database,
) -> None:
    alice = fake.user()
    # Declared 1 KB (in the message and by getFile), served chunked: 4 MB.
    liar = alice.document(PDF + bytes(4 * 1024 * 1024), "a.pdf", "application/pdf", declared=1024)
    async with running(recording, fake, "webhook"):
        await onboard(alice)
        await alice.send(liar)
        await handled(db, liar)
    (event,) = recording.files()
    assert event.file is not None and event.file.content == b"" and event.file.size > LIMIT
    assert len(fake.downloads) == 1


async def test_a_file_telegram_will_not_hand_over_gets_a_notice_and_reaches_nobody(
    fake: FakeTelegram,  # noqa: F811
    recording: Recording,
    db: Database,
) -> None:
    alice = fake.user()
    document = alice.document(PDF, "c.pdf", "application/pdf")
    fake.fail("getFile", status=400, description="Bad Request: wrong file_id")
    async with running(recording, fake, "webhook"):
        await onboard(alice)
        await alice.send(document, until="could not fetch that file")
        await handled(db, document)
    assert recording.files() == []
    assert fake.texts(alice.id)[-1] == FETCH_FAILED.format(platform="Telegram")
    assert fake.downloads == []


# ---------------------------------------------------------------- through the dialogue


def evidence_rows(db: Database) -> tuple[int, int]:
    """(evidence rows, stored blobs): what a refusal must leave as it was."""
    with db.transaction() as session:
        return (
            len(session.exec(select(Evidence)).all()),
            len(session.exec(select(EvidenceBlob)).all()),
        )


async def log_one(user: TelegramUser, title: str, saved: str) -> None:
    await user.say(f"/log 1h {title} yesterday", until="Reflection 1/2")
    await user.tap("Later", until=saved)


async def test_files_sent_after_logging_are_filed_and_refusals_keep_nothing(
    fake: FakeTelegram,  # noqa: F811
    recording: Recording,
    db: Database,
) -> None:
    alice, bob = fake.user(), fake.user(4242, "Bob")
    async with running(recording, fake, "webhook"):
        await onboard(bob)
        await log_one(bob, "webinar on cables", "Saved #1")
        await log_one(bob, "seminar on relays", "Saved #2")
        await onboard(alice)
        await log_one(alice, "webinar on earthing", "Saved #1")
        await alice.send(alice.document(PDF, "certificate.pdf", "application/pdf"), "E1")
        photo = alice.photo(JPEG)
        await alice.send(photo, "as E2")
        assert (
            "Filed with #1 'Webinar on earthing' as E1 (certificate.pdf" in fake.texts(alice.id)[-2]
        )
        held = evidence_rows(db)
        assert held == (2, 2)
        downloads = len(fake.downloads)

        await alice.send(alice.document(PDF, "again.pdf", "application/pdf"), "already")
        assert fake.texts(alice.id)[-1] == "That file is already attached as E1."
        exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(200)  # a Windows program
        await alice.send(alice.document(exe, "cert.pdf", "application/pdf"), "can't keep")
        assert "the type is read from the file itself" in fake.texts(alice.id)[-1]
        big = alice.document(PDF + bytes(LIMIT), "slides.pdf", "application/pdf")
        await alice.send(big, "I keep files up to")
        assert len(fake.downloads) == downloads + 2  # the big one was never downloaded
        # Bob has an entry #2; Alice does not: her caption names none of hers.
        other = alice.document(PDF + b"%2", "bobs.pdf", "application/pdf", caption="/attach 2")
        await alice.send(other, "You have no entry #2")
        assert evidence_rows(db) == held  # nothing half-stored by any refusal
        # /evidence sends them back, as documents.
        sent = len(fake.called("sendDocument"))
        await alice.say("/evidence 1", until="E2: photo-")
        back = [c.files["document"] for c in fake.called("sendDocument")[sent:]]
        assert back == [
            ("certificate.pdf", PDF),
            (f"photo-{photo['message']['message_id']}.jpg", JPEG),
        ]

    record = recording.record(IdentityKey("telegram", str(alice.id)))
    assert record is not None
    (entry,) = record.entries
    assert [(e.label, e.name, e.mime) for e in entry.evidence] == [
        ("E1", "certificate.pdf", "application/pdf"),
        ("E2", f"photo-{photo['message']['message_id']}.jpg", "image/jpeg"),
    ]
    bobs = recording.record(IdentityKey("telegram", str(bob.id)))
    assert bobs is not None and all(e.evidence == () for e in bobs.entries)

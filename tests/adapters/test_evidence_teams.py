"""Evidence over Teams: a file (`file.download.info`, a pre-authorised OneDrive URL) or an
image pasted in the personal chat (`contentUrl` on the connector, with the bot's token),
fetched through the real adapter from tests/fake_teams.py, with limits.

The engine is the real one; `Recording` only notes the events the adapter hands it.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlmodel import select

from adapters.downloads import FETCH_FAILED
from adapters.teams import TeamsBot, TeamsSettings
from bot.core.model import Incoming, Kind
from bot.core.schemes import Scheme
from bot.services.engine import Engine, Handled
from bot.services.evidence import EvidenceSettings
from storage.db import Database
from storage.models import Evidence, EvidenceBlob, InboxUpdate
from tests.adapters.test_teams import Person, Teams
from tests.conftest import Clock
from tests.fake_teams import APP_ID, APP_PASSWORD, TENANT_ID, FakeTeams

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(300)
LIMIT = 64 * 1024


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


@pytest.fixture
async def fake() -> AsyncIterator[FakeTeams]:
    server = await FakeTeams().start()
    yield server
    await server.stop()


@pytest.fixture
async def teams(recording: Recording, fake: FakeTeams) -> AsyncIterator[Teams]:
    settings = TeamsSettings(
        app_id=APP_ID,
        app_password=APP_PASSWORD,
        tenant_id=TENANT_ID,
        openid_metadata_url=fake.openid_url,
        token_url=fake.token_url(),
    )
    bot = TeamsBot(recording, settings)
    runner, port = await bot.start_http("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as http:
            yield Teams(bot, fake, http, f"http://127.0.0.1:{port}/api/messages")
    finally:
        await runner.cleanup()
        await bot.close()


def payloads(db: Database) -> list[str]:
    with db.transaction() as session:
        rows = session.exec(select(InboxUpdate).where(InboxUpdate.platform == "teams")).all()
        return [row.payload for row in rows]


async def test_a_file_and_a_pasted_image_reach_the_engine_downloaded(
    teams: Teams, fake: FakeTeams, recording: Recording
) -> None:
    alice = Person(teams, "alice")
    await alice.onboard()
    pdf = fake.file_attachment(PDF, "IET certificate.pdf")
    image = fake.image_attachment(PNG)
    html = {"contentType": "text/html", "content": "<p>for #1</p>"}  # Teams adds this
    await alice.send(alice.activity("for #1", attachments=[pdf, html, image]))

    first, second = recording.files()
    assert first.file is not None and second.file is not None
    assert (first.file.name, first.file.content, first.file.size) == (
        "IET certificate.pdf",
        PDF,
        len(PDF),
    )
    assert second.file.content == PNG and second.file.name.endswith(".jpg")
    assert first.text == "for #1" and second.text == ""
    assert first.dedupe_key != second.dedupe_key
    # OneDrive's URL is pre-authorised: no token goes there; the connector's image gets it.
    (drive, connector) = fake.fetches
    assert drive == (pdf["content"]["uniqueId"], None)
    assert connector[1] is not None and connector[1].startswith("Bearer fake-access-token-")


async def test_the_bot_token_goes_only_to_the_connector(
    teams: Teams, fake: FakeTeams, recording: Recording
) -> None:
    alice = Person(teams, "alice")
    await alice.onboard()
    image = fake.image_attachment(PNG)
    # The same image named on another origin (localhost instead of 127.0.0.1): fetched, if
    # at all, without the token, which the connector then refuses.
    image["contentUrl"] = image["contentUrl"].replace("127.0.0.1", "localhost")
    posted = await alice.send(alice.activity("", attachments=[image]))
    assert recording.files() == []
    assert posted == [FETCH_FAILED.format(platform="Teams")]
    assert [auth for _, auth in fake.fetches] == [None]


async def test_a_file_longer_than_the_limit_is_cut_off_while_streaming(
    teams: Teams, fake: FakeTeams, recording: Recording
) -> None:
    alice = Person(teams, "alice")
    await alice.onboard()
    big = fake.file_attachment(PDF + bytes(4 * 1024 * 1024), "slides.pdf", chunked=True)
    sized = fake.file_attachment(PDF + bytes(LIMIT), "notes.pdf")  # Content-Length says so
    await alice.send(alice.activity("", attachments=[big, sized]))
    first, second = recording.files()
    assert first.file is not None and first.file.content == b"" and first.file.size > LIMIT
    assert second.file is not None and second.file.content == b""
    assert second.file.size == len(PDF) + LIMIT


async def test_only_https_or_loopback_urls_are_fetched(
    teams: Teams, fake: FakeTeams, recording: Recording
) -> None:
    alice = Person(teams, "alice")
    await alice.onboard()
    plain = fake.file_attachment(PDF, "c.pdf")
    plain["content"]["downloadUrl"] = "http://example.org/c.pdf"
    posted = await alice.send(alice.activity("", attachments=[plain]))
    assert recording.files() == [] and fake.fetches == []
    assert posted == [FETCH_FAILED.format(platform="Teams")]


async def test_the_inbox_keeps_the_activity_and_the_file_is_fetched_after_the_200(
    teams: Teams, fake: FakeTeams, recording: Recording, db: Database
) -> None:
    alice = Person(teams, "alice")
    await alice.onboard()
    pdf = fake.file_attachment(PDF, "c.pdf")
    gate = fake.download_gate = asyncio.Event()
    assert await teams.post(alice.activity("", attachments=[pdf]), wait=False) == 200
    await fake.wait_for_fetch()
    # Recorded before the download: Teams' activity (the download URL), never the bytes.
    (kept,) = [p for p in payloads(db) if p]
    assert pdf["content"]["uniqueId"] in kept and "%PDF" not in kept
    gate.set()
    await asyncio.wait_for(teams.bot.idle(), 20)
    assert len(recording.files()) == 1


# ---------------------------------------------------------------- through the dialogue


def evidence_rows(db: Database) -> tuple[int, int]:
    """(evidence rows, stored blobs): what a refusal must leave as it was."""
    with db.transaction() as session:
        return (
            len(session.exec(select(Evidence)).all()),
            len(session.exec(select(EvidenceBlob)).all()),
        )


async def log_one(person: Person, title: str) -> list[str]:
    await person.say(f"log 1h {title} yesterday")
    return await person.press("Later")


async def test_files_sent_after_logging_are_filed_and_refusals_keep_nothing(
    teams: Teams, fake: FakeTeams, recording: Recording, db: Database
) -> None:
    alice, bob = Person(teams, "alice"), Person(teams, "bob")
    await bob.onboard()
    await log_one(bob, "webinar on cables")
    assert any(r.startswith("Saved #2") for r in await log_one(bob, "seminar on relays"))
    await alice.onboard()
    assert any(r.startswith("Saved #1") for r in await log_one(alice, "webinar on earthing"))

    pdf = fake.file_attachment(PDF, "certificate.pdf")
    image = fake.image_attachment(PNG, "image/png")
    posted = await alice.send(alice.activity("", attachments=[pdf, image]))
    assert posted[0].startswith("Filed with #1 'Webinar on earthing' as E1 (certificate.pdf")
    assert posted[-1].startswith("Filed with #1 'Webinar on earthing' as E2 (image-2.png")
    held = evidence_rows(db)
    assert held == (2, 2)

    again = fake.file_attachment(PDF, "again.pdf")
    assert await alice.send(alice.activity("", attachments=[again])) == [
        "That file is already attached as E1."
    ]
    exe = fake.file_attachment(b"MZ\x90\x00\x03" + bytes(200), "cert.pdf")
    (refused,) = await alice.send(alice.activity("", attachments=[exe]))
    assert "the type is read from the file itself" in refused
    big = fake.file_attachment(PDF + bytes(LIMIT), "slides.pdf", chunked=True)
    (too_big,) = await alice.send(alice.activity("", attachments=[big]))
    assert "I keep files up to" in too_big
    # Bob has an entry #2; Alice does not: her caption names none of hers.
    bobs = fake.file_attachment(PDF + b"%2", "bobs.pdf")
    (named,) = await alice.send(alice.activity("/attach 2", attachments=[bobs]))
    assert "You have no entry #2" in named
    assert evidence_rows(db) == held  # nothing half-stored by any refusal
    # /evidence sends them back: the PDF through a file consent card, the image inline.
    before = len(teams.posts(alice.conversation))
    await alice.say("/evidence 1")
    kinds = [
        a["contentType"]
        for s in teams.posts(alice.conversation)[before:]
        for a in s.body.get("attachments") or []
    ]
    assert "application/vnd.microsoft.teams.card.file.consent" in kinds
    inline = [
        a["contentUrl"]
        for s in teams.posts(alice.conversation)[before:]
        for a in s.body.get("attachments") or []
        if a["contentType"] == "image/png"
    ]
    assert inline == ["data:image/png;base64," + base64.b64encode(PNG).decode()]

    record = recording.record(alice.key)
    assert record is not None
    (entry,) = record.entries
    assert [(e.label, e.name) for e in entry.evidence] == [
        ("E1", "certificate.pdf"),
        ("E2", "image-2.png"),
    ]
    bobs_record = recording.record(bob.key)
    assert bobs_record is not None and all(e.evidence == () for e in bobs_record.entries)

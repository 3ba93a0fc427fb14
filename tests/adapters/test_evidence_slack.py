"""Evidence over Slack: files a member shares in the DM, fetched through the real bolt app
from the fake Web API (`files.info`, then `url_private_download` with the bot token).

The engine is the real one; `Recording` only notes the events the adapter hands it.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import select

from adapters.downloads import FETCH_FAILED
from bot.core.model import Incoming, Kind
from bot.core.schemes import Scheme
from bot.services.engine import Engine, Handled
from bot.services.evidence import EvidenceSettings
from storage.db import Database
from storage.models import Evidence, EvidenceBlob, InboxUpdate
from tests.adapters.test_slack import T1, TOKEN, Person, Slack, message_im, serving
from tests.conftest import Clock
from tests.fake_slack import FakeSlack

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(300)
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
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack().start()
    yield server
    await server.stop()


@pytest.fixture
async def slack(recording: Recording, fake: FakeSlack) -> AsyncIterator[Slack]:
    async with serving(recording, fake) as running:
        yield running


def file_share(person: Person, files: list[dict[str, Any]], text: str = "") -> dict[str, Any]:
    """A `message` event with subtype `file_share` in the DM, as Slack sends it when a file
    is shared there (docs.slack.dev/reference/events/message/file_share): the message's
    `files` (file objects) and any text typed with them."""
    body = message_im(person.team, person.user, person.dm, text)
    event = body["event"]
    event.update(subtype="file_share", files=copy.deepcopy(files), upload=False)
    event["display_as_bot"] = False
    return body


async def share(person: Person, files: list[dict[str, Any]], text: str = "") -> list[str]:
    before = len(person.slack.fake.posts(person.dm))
    status, _ = await person.slack.event(file_share(person, files, text))
    assert status == 200
    return [m["text"] for m in person.slack.fake.posts(person.dm)[before:]]


def payloads(db: Database) -> list[str]:
    with db.transaction() as session:
        rows = session.exec(select(InboxUpdate).where(InboxUpdate.platform == "slack")).all()
        return [row.payload for row in rows]


async def test_a_pdf_and_a_photo_reach_the_engine_downloaded_with_the_bot_token(
    slack: Slack, recording: Recording, db: Database
) -> None:
    alice = Person(slack, T1, "U0ALICE001")
    await alice.onboard()
    pdf = slack.fake.share_file(PDF, "IET certificate.pdf", "application/pdf", token=TOKEN)
    photo = slack.fake.share_file(JPEG, "IMG_0042.jpg", "image/jpeg", token=TOKEN)
    gate = slack.fake.download_gate = asyncio.Event()
    status, _ = await slack.event(file_share(alice, [pdf, photo], "for the webinar"), wait=False)
    assert status == 200  # acked before any download
    await slack.fake.wait_for(lambda: bool(slack.fake.downloads))
    # Recorded before the download: Slack's event (the file ids), never the bytes.
    (kept,) = [p for p in payloads(db) if p]
    assert pdf["id"] in kept and "%PDF" not in kept
    gate.set()
    await slack.idle()

    first, second = recording.files()
    assert first.file is not None and second.file is not None
    assert (first.file.name, first.file.content, first.file.mime_hint) == (
        "IET certificate.pdf",
        PDF,
        "application/pdf",
    )
    assert (second.file.name, second.file.content) == ("IMG_0042.jpg", JPEG)
    assert first.text == "for the webinar" and second.text == ""  # the caption goes once
    assert first.dedupe_key != second.dedupe_key and first.chat_id == alice.dm
    assert [c["file"] for c in slack.fake.called("files.info")] == [pdf["id"], photo["id"]]
    assert slack.fake.downloads == [pdf["id"], photo["id"]]


async def test_a_file_declared_over_the_limit_is_not_downloaded(
    slack: Slack, recording: Recording
) -> None:
    alice = Person(slack, T1, "U0ALICE001")
    await alice.onboard()
    big = slack.fake.share_file(PDF + bytes(LIMIT), "slides.pdf", "application/pdf", token=TOKEN)
    await share(alice, [big])
    (event,) = recording.files()
    assert event.file is not None
    assert (event.file.content, event.file.size) == (b"", len(PDF) + LIMIT)
    assert slack.fake.downloads == []


async def test_a_download_longer_than_declared_is_cut_off_at_the_limit(
    slack: Slack, recording: Recording
) -> None:
    alice = Person(slack, T1, "U0ALICE001")
    await alice.onboard()
    content = PDF + bytes(4 * 1024 * 1024)
    liar = slack.fake.share_file(content, "a.pdf", "application/pdf", token=TOKEN, declared=900)
    await share(alice, [liar])
    (event,) = recording.files()
    assert event.file is not None and event.file.content == b"" and event.file.size > LIMIT


async def test_without_the_bot_token_the_download_is_refused_and_the_member_told(
    slack: Slack, recording: Recording
) -> None:
    alice = Person(slack, T1, "U0ALICE001")
    await alice.onboard()
    other = slack.fake.share_file(PDF, "c.pdf", "application/pdf", token="xoxb-another-app")
    posted = await share(alice, [other])
    assert recording.files() == []
    assert posted == [FETCH_FAILED.format(platform="Slack")]
    (refused,) = [c for c in slack.fake.calls if c.method == "download"]
    assert refused.status == 401 and refused.error == "not_authed"


async def test_a_file_slack_no_longer_has_gets_the_notice(
    slack: Slack, recording: Recording
) -> None:
    alice = Person(slack, T1, "U0ALICE001")
    await alice.onboard()
    gone = {"id": "F0GONE0001", "name": "x.pdf", "mimetype": "application/pdf", "size": 10}
    posted = await share(alice, [gone])
    assert recording.files() == []
    assert posted == [FETCH_FAILED.format(platform="Slack")]


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


async def test_files_shared_after_logging_are_filed_and_refusals_keep_nothing(
    slack: Slack, recording: Recording, db: Database
) -> None:
    fake = slack.fake
    alice, bob = Person(slack, T1, "U0ALICE001"), Person(slack, T1, "U0BOB00001")
    await bob.onboard()
    await log_one(bob, "webinar on cables")
    assert any(r.startswith("Saved #2") for r in await log_one(bob, "seminar on relays"))
    await alice.onboard()
    assert any(r.startswith("Saved #1") for r in await log_one(alice, "webinar on earthing"))

    pdf = fake.share_file(PDF, "certificate.pdf", "application/pdf", token=TOKEN)
    photo = fake.share_file(JPEG, "IMG_0042.jpg", "image/jpeg", token=TOKEN)
    posted = await share(alice, [pdf, photo])
    assert posted[0].startswith("Filed with #1 'Webinar on earthing' as E1 (certificate.pdf")
    assert posted[1].startswith("Filed with #1 'Webinar on earthing' as E2 (IMG_0042.jpg")
    held = evidence_rows(db)
    assert held == (2, 2)

    again = fake.share_file(PDF, "again.pdf", "application/pdf", token=TOKEN)
    assert await share(alice, [again]) == ["That file is already attached as E1."]
    exe = fake.share_file(
        b"MZ\x90\x00\x03" + bytes(200), "cert.pdf", "application/pdf", token=TOKEN
    )
    (refused,) = await share(alice, [exe])
    assert "the type is read from the file itself" in refused
    big = fake.share_file(PDF + bytes(LIMIT), "slides.pdf", "application/pdf", token=TOKEN)
    (too_big,) = await share(alice, [big])
    assert "I keep files up to" in too_big and big["id"] not in fake.downloads
    # Bob has an entry #2; Alice does not: her caption names none of hers.
    bobs = fake.share_file(PDF + b"%2", "bobs.pdf", "application/pdf", token=TOKEN)
    (named,) = await share(alice, [bobs], text="2")  # the entry's number as the caption
    assert "You have no entry #2" in named
    assert evidence_rows(db) == held  # nothing half-stored by any refusal

    record = alice.record(recording)
    (entry,) = record.entries
    assert [(e.label, e.name) for e in entry.evidence] == [
        ("E1", "certificate.pdf"),
        ("E2", "IMG_0042.jpg"),
    ]
    assert all(e.evidence == () for e in bob.record(recording).entries)

"""Files in Teams, end to end: an export is offered by a file consent card, and uploaded
to the person's OneDrive when they press Allow; a chart goes in the message.

The real endpoint and engine run against tests/fake_teams.py, which also plays the
OneDrive upload session (`PUT /upload/{session}`). The invoke is shaped as Microsoft
Learn, "Send and receive files using bot" (Teams bot APIs, personal chat) shows it:
`type` invoke, `name` fileConsent/invoke, `value` {type fileUpload, action accept |
decline, context (the card's acceptContext / declineContext), uploadInfo {name,
uploadUrl, contentUrl, uniqueId, fileType}}, `replyToId` the consent card.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from adapters.teams import TeamsBot, TeamsSettings, cards
from adapters.teams.files import CONSENT_TYPE, INFO_TYPE, INLINE_MAX, Shelf, Taken
from bot.core.export import to_csv
from bot.core.model import Attachment, IdentityKey, Outgoing
from bot.services.engine import Engine
from tests.adapters import test_teams as base
from tests.adapters import test_teams_proactive as proactive
from tests.adapters.test_teams import Person, Teams, shown
from tests.conftest import Clock
from tests.fake_teams import APP_ID, APP_PASSWORD, TENANT_ID, FakeTeams, Sent

fake = base.fake
teams = base.teams
scheduler = proactive.scheduler

EXPIRED = "That file has expired (I keep files ready for 15 minutes); send /export again."
DECLINED = "OK, I didn't send it. /export again whenever you want it."
ONEDRIVE = "https://contoso-my.sharepoint.com/personal/x/Documents/Applications"
UPLOAD_FAILED = "The upload to your OneDrive failed; nothing was changed. Try /export again."


def attachments(sent: Sent, content_type: str) -> list[dict[str, Any]]:
    return [a for a in sent.body.get("attachments") or [] if a["contentType"] == content_type]


def consent_cards(teams: Teams, person: Person) -> list[Sent]:
    return [s for s in teams.posts(person.conversation) if attachments(s, CONSENT_TYPE)]


def info_cards(teams: Teams, person: Person) -> list[Sent]:
    return [s for s in teams.posts(person.conversation) if attachments(s, INFO_TYPE)]


def texts(teams: Teams, person: Person) -> list[str]:
    return [shown(s) for s in teams.posts(person.conversation)]


def answer(
    person: Person,
    card: Sent,
    action: str,
    *,
    upload_url: str | None = None,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The invoke Teams sends when `person` presses Allow (accept) or Decline on `card`."""
    (consent,) = attachments(card, CONSENT_TYPE)
    name = consent["name"]
    value: dict[str, Any] = {
        "type": "fileUpload",
        "action": action,
        "context": context
        if context is not None
        else consent["content"]["acceptContext" if action == "accept" else "declineContext"],
    }
    if action == "accept":
        value["uploadInfo"] = {
            "contentUrl": f"{ONEDRIVE}/{name}",
            "name": name,
            "uploadUrl": upload_url or person.teams.fake.upload_url(uuid.uuid4().hex),
            "uniqueId": str(uuid.uuid4()).upper(),
            "fileType": name.rsplit(".", 1)[-1],
        }
    activity = person.activity(type="invoke", name="fileConsent/invoke", value=value)
    activity["replyToId"] = card.id
    activity.pop("textFormat", None)
    return activity


async def with_an_entry_and_export(person: Person, command: str = "/export") -> Sent:
    """Onboard, log one entry, ask for an export: the consent card posted."""
    await person.onboard()
    await person.say("log 1h talk on welding yesterday")
    await person.say("Self-study")
    replies = await person.say("later")
    assert any(r.startswith("Saved #1") for r in replies), replies
    before = len(consent_cards(person.teams, person))
    await person.say(command)
    cards_now = consent_cards(person.teams, person)
    assert len(cards_now) == before + 1
    return cards_now[-1]


# ---------------------------------------------------------------- Allow


async def test_export_is_offered_by_a_consent_card_and_uploaded_when_allowed(
    teams: Teams, engine: Engine
) -> None:
    alice = Person(teams, "Alice")
    card = await with_an_entry_and_export(alice)
    expected = to_csv(engine.record(alice.key))  # type: ignore[arg-type]
    # The reply's text, then the card with the file's name and exact size.
    assert texts(teams, alice)[-2] == "Your CPD record for 2026: 1 entry, 1 h."
    (consent,) = attachments(card, CONSENT_TYPE)
    assert consent["name"] == "cpd-2026.csv"
    assert consent["content"]["sizeInBytes"] == len(expected)
    assert "cpd-2026.csv" in consent["content"]["description"]
    assert "not attached" not in str(teams.fake.sent)
    assert teams.fake.uploads == []  # nothing leaves before she allows it

    session = uuid.uuid4().hex
    allow = answer(alice, card, "accept", upload_url=teams.fake.upload_url(session))
    assert await teams.post(allow) == 200

    (upload,) = teams.fake.uploads
    assert upload.session == session
    assert upload.body == expected
    assert upload.body.startswith(b"\xef\xbb\xbfnumber,date,")  # the CSV, with its BOM
    assert b"talk on welding" in upload.body.lower()
    n = len(expected)
    assert upload.content_range == f"bytes 0-{n - 1}/{n}"
    assert upload.content_length == str(n)
    assert upload.authorization is None  # the upload URL is pre-authorised: no token sent
    (info,) = info_cards(teams, alice)
    (file_card,) = attachments(info, INFO_TYPE)
    upload_info = allow["value"]["uploadInfo"]
    assert file_card["contentUrl"] == upload_info["contentUrl"]
    assert file_card["name"] == "cpd-2026.csv"
    assert file_card["content"] == {
        "uniqueId": upload_info["uniqueId"],
        "fileType": "csv",
    }
    # The consent card is replaced by a line of text: nothing left to press.
    (update,) = [u for u in teams.updates() if u.activity_id == card.id]
    assert update.body.get("attachments") is None
    assert update.body["text"] == "✓ Sent cpd-2026.csv"


async def test_a_pdf_export_is_uploaded_whole(teams: Teams) -> None:
    bob = Person(teams, "Bob")
    card = await with_an_entry_and_export(bob, "/export pdf")
    (consent,) = attachments(card, CONSENT_TYPE)
    assert consent["name"] == "cpd-2026.pdf"
    assert await teams.post(answer(bob, card, "accept")) == 200
    (upload,) = teams.fake.uploads
    assert upload.body.startswith(b"%PDF") and upload.body.rstrip().endswith(b"%%EOF")
    assert len(upload.body) == consent["content"]["sizeInBytes"]
    assert len(info_cards(teams, bob)) == 1


async def test_a_repeated_allow_uploads_once(teams: Teams) -> None:
    carol = Person(teams, "Carol")
    card = await with_an_entry_and_export(carol)
    allow = answer(carol, card, "accept")
    assert await teams.post(allow) == 200
    posted = len(teams.posts(carol.conversation))
    assert await teams.post(allow) == 200  # the connector retried the invoke
    again = dict(allow, id=f"17{uuid.uuid4().int % 10**11:011d}")  # a second click
    assert await teams.post(again) == 200
    assert len(teams.fake.uploads) == 1
    assert len(info_cards(teams, carol)) == 1
    assert len(teams.posts(carol.conversation)) == posted  # no "expired", nothing more


# ---------------------------------------------------------------- Decline, expiry, restart


async def test_decline_uploads_nothing_and_says_so(teams: Teams) -> None:
    dave = Person(teams, "Dave")
    card = await with_an_entry_and_export(dave)
    assert await teams.post(answer(dave, card, "decline")) == 200
    assert teams.fake.uploads == []
    assert info_cards(teams, dave) == []
    assert texts(teams, dave)[-1] == DECLINED
    (update,) = [u for u in teams.updates() if u.activity_id == card.id]
    assert update.body["text"] == "Not sent"
    # An Allow on the same card afterwards sends nothing either.
    assert await teams.post(answer(dave, card, "accept")) == 200
    assert teams.fake.uploads == []


async def test_allow_after_fifteen_minutes_says_the_file_expired(
    teams: Teams, clock: Clock
) -> None:
    erin = Person(teams, "Erin")
    card = await with_an_entry_and_export(erin)
    clock.now += timedelta(minutes=15, seconds=1)
    assert await teams.post(answer(erin, card, "accept")) == 200
    assert teams.fake.uploads == []
    assert info_cards(teams, erin) == []
    assert texts(teams, erin)[-1] == EXPIRED
    (update,) = [u for u in teams.updates() if u.activity_id == card.id]
    assert "Sent" not in update.body["text"]


async def test_allow_within_fifteen_minutes_is_sent(teams: Teams, clock: Clock) -> None:
    fay = Person(teams, "Fay")
    card = await with_an_entry_and_export(fay)
    clock.now += timedelta(minutes=14, seconds=59)
    assert await teams.post(answer(fay, card, "accept")) == 200
    assert len(teams.fake.uploads) == 1


@asynccontextmanager
async def restarted(engine: Engine, fake: FakeTeams) -> AsyncIterator[str]:
    """Another TeamsBot on the same database and fake: the process after a restart."""
    settings = TeamsSettings(
        app_id=APP_ID,
        app_password=APP_PASSWORD,
        tenant_id=TENANT_ID,
        openid_metadata_url=fake.openid_url,
        token_url=fake.token_url(),
    )
    bot = TeamsBot(engine, settings)
    await bot.replay()
    runner, port = await bot.start_http("127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{port}/api/messages"
        await bot.idle()
    finally:
        await runner.cleanup()
        await bot.close()


async def test_allow_after_a_restart_says_the_file_expired(teams: Teams, engine: Engine) -> None:
    gus = Person(teams, "Gus")
    card = await with_an_entry_and_export(gus)
    allow = answer(gus, card, "accept")
    async with restarted(engine, teams.fake) as url, aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {teams.fake.sign(now=engine.clock())}"}
        async with http.post(url, json=allow, headers=headers) as response:
            assert response.status == 200
    assert teams.fake.uploads == []
    assert texts(teams, gus)[-1] == EXPIRED


# ---------------------------------------------------------------- refused


async def test_someone_elses_allow_is_refused_and_the_file_stays_hers(teams: Teams) -> None:
    hana, ivan = Person(teams, "Hana"), Person(teams, "Ivan")
    card = await with_an_entry_and_export(hana)
    await ivan.onboard()
    stolen = answer(ivan, card, "accept")  # her card's token, from his chat
    (consent,) = attachments(card, CONSENT_TYPE)
    assert stolen["value"]["context"] == consent["content"]["acceptContext"]
    posted = len(teams.posts(ivan.conversation))
    assert await teams.post(stolen) == 200
    assert teams.fake.uploads == []
    assert len(teams.posts(ivan.conversation)) == posted
    assert teams.updates()[-1].activity_id != card.id  # her card is left as it was
    # She can still have it.
    assert await teams.post(answer(hana, card, "accept")) == 200
    assert len(teams.fake.uploads) == 1
    assert len(info_cards(teams, hana)) == 1


async def test_an_allow_without_a_valid_token_gets_401_and_uploads_nothing(
    teams: Teams,
) -> None:
    jo = Person(teams, "Jo")
    card = await with_an_entry_and_export(jo)
    allow = answer(jo, card, "accept")
    posted = len(teams.posts(jo.conversation))
    assert await teams.post(allow, token=None) == 401
    assert await teams.post(allow, token=teams.fake.sign(now=base.NOW, aud="another-bot")) == 401
    assert teams.fake.uploads == []
    assert len(teams.posts(jo.conversation)) == posted


async def test_an_upload_url_that_is_not_https_is_refused(teams: Teams) -> None:
    kim = Person(teams, "Kim")
    card = await with_an_entry_and_export(kim)
    allow = answer(kim, card, "accept", upload_url="http://files.example.org/upload/1")
    assert await teams.post(allow) == 200
    assert teams.fake.uploads == []
    assert info_cards(teams, kim) == []
    assert texts(teams, kim)[-1] == UPLOAD_FAILED


async def test_a_failed_upload_says_so_and_never_sent(teams: Teams) -> None:
    lee = Person(teams, "Lee")
    card = await with_an_entry_and_export(lee)
    teams.fake.upload_status = 500
    assert await teams.post(answer(lee, card, "accept")) == 200
    assert len(teams.fake.uploads) == 1  # tried once
    assert info_cards(teams, lee) == []
    assert texts(teams, lee)[-1] == UPLOAD_FAILED
    (update,) = [u for u in teams.updates() if u.activity_id == card.id]
    assert update.body["text"] == "Not sent"
    assert not any("Sent cpd" in t for t in texts(teams, lee))


# ---------------------------------------------------------------- charts inline


async def test_a_nudge_carries_its_chart_inline(
    teams: Teams, scheduler: Callable[[proactive.Sleep], Any]
) -> None:
    mo = Person(teams, "Mo")
    await mo.onboard()
    before = len(teams.fake.sent)
    async with scheduler(proactive.no_wait) as jobs:
        report = await jobs.tick(proactive.DEC_NUDGE)
    assert [s.kind for s in report.sent] == ["nudge"]
    (nudge,) = teams.fake.sent[before:]
    assert shown(nudge).startswith("Your monthly CPD check-in")
    (image,) = attachments(nudge, "image/png")
    prefix = "data:image/png;base64,"
    assert image["contentUrl"].startswith(prefix)
    png = base64.b64decode(image["contentUrl"].removeprefix(prefix))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) <= INLINE_MAX
    assert image["name"].endswith(".png")
    assert consent_cards(teams, mo) == []


@pytest.mark.parametrize("name", ["cpd-2026.csv", "cpd-everything-2026-11-22.zip"])
def test_a_started_message_says_how_to_get_its_file(name: str) -> None:
    file = Attachment(name, b"Date,Title\n", "text/csv")
    text = cards.message(Outgoing("Your CPD year 2026 ended.", attachment=file))["text"]
    assert text.startswith("Your CPD year 2026 ended.")
    assert "/export" in text and "Allow" in text and "not attached" not in text


def test_the_files_waiting_are_bounded_per_person_and_in_all(clock: Clock) -> None:
    shelf = Shelf(clock, person_max=10, total_max=15)
    ann, ben = IdentityKey("teams", "ann", TENANT_ID), IdentityKey("teams", "ben", TENANT_ID)

    def file(n: int) -> Attachment:
        return Attachment(f"cpd-{n}.csv", b"x" * n, "text/csv")

    assert shelf.put(ann, file(11)) is None  # more than one person may have waiting
    first, second = shelf.put(ann, file(6)), shelf.put(ann, file(4))
    third = shelf.put(ann, file(5))  # 15 bytes for her: her oldest makes room
    assert first and second and third
    assert shelf.take(first, ann) == (Taken.GONE, None)
    assert shelf.bytes_held == 9
    bens = shelf.put(ben, file(8))  # 17 in all: the oldest anyone has makes room
    assert bens is not None and shelf.bytes_held == 13
    assert shelf.take(second, ann) == (Taken.GONE, None)
    assert shelf.take(third, ann) == (Taken.HELD, file(5))
    assert shelf.take(bens, ann) == (Taken.NOT_YOURS, None)
    assert shelf.take(bens, ben) == (Taken.HELD, file(8))
    assert shelf.take(bens, ben) == (Taken.USED, None)
    assert shelf.bytes_held == 0

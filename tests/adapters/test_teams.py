"""The Teams adapter end to end: the real endpoint (POST /api/messages) on 127.0.0.1, and
Microsoft's side played by tests/fake_teams.py (OpenID metadata and keys, the token
endpoint, the Bot Connector that records what the bot sends).

Activities are shaped like the ones Teams sends: Microsoft Learn, "Conversation basics"
(https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/conversation-basics,
its "Teams channel data" and message examples) and the Bot Framework Activity schema
(https://github.com/microsoft/botframework-sdk/blob/main/specs/botframework-activity/botframework-activity.md);
a card press (Action.Submit) is a message activity with `value` and `replyToId`
(Microsoft Learn, "Universal Actions for Adaptive Cards / Action.Submit" in bots).

After each request the test waits for the bot's work after the 200 (`TeamsBot.idle()`).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import aiohttp
import pytest
from sqlmodel import select

from adapters.teams import TeamsBot, TeamsSettings
from adapters.teams.cards import escape
from bot.core.model import IdentityKey
from bot.services.engine import Engine
from cpdbot.app import check
from cpdbot.config import ConfigError, Settings
from cpdbot.platform_settings import teams_settings
from storage.db import Database
from storage.models import InboxUpdate
from tests.conftest import NOW
from tests.fake_teams import APP_ID, APP_PASSWORD, TENANT_ID, FakeTeams, Sent, new_key

_ids = itertools.count(1)
BOT_ID = f"28:{APP_ID}"


def unescape(text: str) -> str:
    """What a person reads of the bot's Markdown text."""
    text = re.sub(r"\\([\\`*_\[\]~|#>+\-.])", r"\1", text)
    return text.replace("&lt;", "<").replace("&amp;", "&")


class Person:
    """Someone in the test tenant, in their personal chat with the bot."""

    def __init__(self, teams: Teams, name: str, zone: str = "Europe/London") -> None:
        self.teams, self.name, self.zone = teams, name, zone
        self.aad = str(uuid.uuid4())
        self.conversation = f"a:1{uuid.uuid4().hex}{uuid.uuid4().hex}-personal-{name}"
        self.key = IdentityKey("teams", self.aad, TENANT_ID)

    def activity(self, text: str | None = None, **extra: Any) -> dict[str, Any]:
        """A message activity in this person's personal chat, as Teams sends it."""
        n = next(_ids)
        stamp = (NOW - timedelta(minutes=30) + timedelta(seconds=n)).isoformat()
        body: dict[str, Any] = {
            "type": "message",
            "id": f"17{n:011d}",
            "timestamp": stamp.replace("+00:00", "Z"),
            "localTimestamp": stamp,
            "serviceUrl": self.teams.fake.service_url,
            "channelId": "msteams",
            "from": {"id": f"29:1{self.name}", "name": self.name, "aadObjectId": self.aad},
            "conversation": {
                "conversationType": "personal",
                "tenantId": TENANT_ID,
                "id": self.conversation,
            },
            "recipient": {"id": BOT_ID, "name": "cpdbot"},
            "textFormat": "plain",
            "locale": "en-GB",
            "localTimezone": self.zone,
            "entities": [{"type": "clientInfo", "locale": "en-GB", "timezone": self.zone}],
            "channelData": {"tenant": {"id": TENANT_ID}},
        }
        if text is not None:
            body["text"] = text
        body.update(extra)
        return body

    def _count(self) -> int:
        return len(self.teams.posts(self.conversation))

    def _since(self, before: int) -> list[str]:
        return [shown(s) for s in self.teams.posts(self.conversation)[before:]]

    async def send(self, activity: dict[str, Any]) -> list[str]:
        before = self._count()
        assert await self.teams.post(activity) == 200
        return self._since(before)

    async def say(self, text: str) -> list[str]:
        return await self.send(self.activity(text))

    def card(self, label: str) -> tuple[Sent, dict[str, Any]]:
        """The newest card in the chat with a button `label`, and that button."""
        for sent in reversed(self.teams.posts(self.conversation)):
            for button in buttons(sent):
                if button["title"] == label:
                    return sent, button
        raise AssertionError(f"no button {label!r}")

    def press_activity(self, label: str) -> dict[str, Any]:
        sent, button = self.card(label)
        return self.activity(
            value=dict(button["data"]),
            replyToId=sent.id,
            channelData={"tenant": {"id": TENANT_ID}, "source": {"name": "message"}},
        )

    async def press(self, label: str) -> list[str]:
        return await self.send(self.press_activity(label))

    async def onboard(self) -> None:
        await self.say("hello")
        await self.press("IET")
        await self.press(self.zone)


def card_of(sent: Sent) -> dict[str, Any] | None:
    for attachment in sent.body.get("attachments") or []:
        if attachment["contentType"] == "application/vnd.microsoft.card.adaptive":
            return dict(attachment["content"])
    return None


def buttons(sent: Sent) -> list[dict[str, Any]]:
    card = card_of(sent)
    if card is None:
        return []
    return [a for b in card["body"] if b["type"] == "ActionSet" for a in b["actions"]]


def shown(sent: Sent) -> str:
    """What a person reads: the message text, or a card's text blocks."""
    card = card_of(sent)
    if card is None:
        return unescape(str(sent.body.get("text") or ""))
    return "\n".join(unescape(b["text"]) for b in card["body"] if b["type"] == "TextBlock")


class Teams:
    def __init__(self, bot: TeamsBot, fake: FakeTeams, http: aiohttp.ClientSession, url: str):
        self.bot, self.fake, self.http, self.url = bot, fake, http, url

    def posts(self, conversation: str) -> list[Sent]:
        return [
            s for s in self.fake.sent if s.method == "POST" and s.conversation_id == conversation
        ]

    def updates(self) -> list[Sent]:
        return [s for s in self.fake.sent if s.method == "PUT"]

    async def post(
        self, activity: dict[str, Any], *, token: str | None = "", wait: bool = True
    ) -> int:
        if token == "":
            token = self.fake.sign(now=NOW)
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        async with self.http.post(self.url, json=activity, headers=headers) as response:
            status = response.status
        if wait:
            await asyncio.wait_for(self.bot.idle(), 20)
        return status


@pytest.fixture
async def fake() -> AsyncIterator[FakeTeams]:
    server = await FakeTeams().start()
    yield server
    await server.stop()


@pytest.fixture
async def teams(engine: Engine, fake: FakeTeams) -> AsyncIterator[Teams]:
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
        async with aiohttp.ClientSession() as http:
            yield Teams(bot, fake, http, f"http://127.0.0.1:{port}/api/messages")
    finally:
        await runner.cleanup()
        await bot.close()


def inbox_rows(db: Database) -> list[InboxUpdate]:
    with db.transaction() as session:
        return list(session.exec(select(InboxUpdate).where(InboxUpdate.platform == "teams")).all())


# ---------------------------------------------------------------- a full entry


async def test_a_member_onboards_and_logs_a_full_entry_with_card_presses(
    teams: Teams, engine: Engine
) -> None:
    alice = Person(teams, "Alice", zone="Asia/Kolkata")
    replies = await alice.say("hello")
    assert "Which professional body's CPD scheme do you follow?" in replies
    scheme_card, iet = alice.card("IET")
    assert card_of(scheme_card)["version"] == "1.5"  # type: ignore[index]
    assert iet["type"] == "Action.Submit"
    assert iet["data"]["cpd"] != "IET"  # the choice id, not the label, is what counts
    replies = await alice.press("IET")
    assert replies[-1].startswith("Which time zone are you in?")
    _, first_zone = alice.card("Asia/Kolkata")  # her Teams time zone is offered
    assert first_zone["data"]["cpd"] == "tz:Asia/Kolkata"
    replies = await alice.press("Asia/Kolkata")
    assert any("All set: IET" in r for r in replies)

    replies = await alice.say("log 1.5h arc-flash briefing yesterday")
    assert replies[-1] == "Which category?"
    replies = await alice.press("Events and seminars")
    assert replies == [
        "Got it: 'Arc-flash briefing' · yesterday · 1 h 30 · Events and seminars.",
        "Reflection 1/2: What were the key points that you remember and were relevant to you?",
    ]
    await alice.say("Arc-flash boundaries and PPE categories")
    replies = await alice.say("I will check panel labels before isolating")
    assert any(r.startswith("Saved #1") for r in replies), replies

    record = engine.record(alice.key)
    assert record is not None
    (entry,) = record.entries
    assert (entry.title, entry.minutes, entry.category) == (
        "Arc-flash briefing",
        90,
        "events_and_seminars",
    )
    assert entry.activity_date == date(2026, 11, 21)  # 'yesterday' in Kolkata
    assert [r.answer for r in entry.reflections if r.answer] == [
        "Arc-flash boundaries and PPE categories",
        "I will check panel labels before isolating",
    ]
    assert record.person.timezone == "Asia/Kolkata"
    assert record.person.display_name == "Alice"

    # Each pressed card was replaced (PUT) by its text and the choice, without buttons.
    updates = teams.updates()
    assert [shown(u).splitlines()[-1] for u in updates] == [
        "✓ IET",
        "✓ Asia/Kolkata",
        "✓ Events and seminars",
    ]
    assert all(buttons(u) == [] for u in updates)
    assert shown(updates[-1]).startswith("Which category?")
    category_card, _ = alice.card("Events and seminars")
    assert updates[-1].activity_id == category_card.id
    # Everything went to her personal chat, with the bot's own token from the fake.
    assert {s.conversation_id for s in teams.fake.sent} == {alice.conversation}
    assert {s.authorization for s in teams.fake.sent} == {"Bearer fake-access-token-1"}
    assert len(teams.fake.token_forms) == 1  # one token, cached for every reply


async def test_commands_work_with_and_without_the_slash_and_from_the_menu(teams: Teams) -> None:
    bob = Person(teams, "Bob")
    await bob.onboard()
    for typed in ("/status", "status", "Status"):  # "Status": picked from the app's menu
        replies = await bob.say(typed)
        assert replies and replies[0].startswith("CPD year 2026"), (typed, replies)
    replies = await bob.say("/help")
    assert replies and "log" in replies[0].lower()


# ---------------------------------------------------------------- security


def _bad_tokens(fake: FakeTeams) -> dict[str, str | None]:
    other = new_key("key-1")  # the same key id, another key: not the one published
    return {
        "none": None,
        "other key": fake.sign(key=other, now=NOW),
        "wrong audience": fake.sign(now=NOW, aud=str(uuid.uuid4())),
        "expired": fake.sign(now=NOW - timedelta(hours=2), lifetime=3600),
        "wrong service url": fake.sign(now=NOW, serviceurl="https://smba.evil.example/teams/"),
    }


async def test_bad_tokens_get_401_and_change_nothing(
    teams: Teams, engine: Engine, db: Database
) -> None:
    carol = Person(teams, "Carol")
    for case, token in _bad_tokens(teams.fake).items():
        status = await teams.post(carol.activity("log 2h confidential training"), token=token)
        assert status == 401, case
    # A genuine token for another service URL than the activity's is refused too.
    forged = carol.activity("log 2h confidential training", serviceUrl="http://127.0.0.1:9/x/")
    assert await teams.post(forged) == 401
    assert teams.fake.sent == []
    assert teams.fake.token_forms == []
    assert inbox_rows(db) == []
    assert engine.record(carol.key) is None


# ---------------------------------------------------------------- once, privately, politely


async def test_a_repeated_activity_id_is_handled_once(teams: Teams, db: Database) -> None:
    dave = Person(teams, "Dave")
    await dave.onboard()
    activity = dave.activity("status")
    before = len(teams.posts(dave.conversation))
    assert await teams.post(activity) == 200
    assert await teams.post(activity) == 200  # the connector retried it
    again = dave.activity("list")
    results = await asyncio.gather(teams.post(again, wait=False), teams.post(again, wait=False))
    assert list(results) == [200, 200]
    await teams.bot.idle()
    texts = [shown(s) for s in teams.posts(dave.conversation)[before:]]
    assert len(texts) == 2, texts
    assert texts[0].startswith("CPD year 2026")
    await teams.bot.inbox.flush()  # finishing a row is written in the background
    rows = inbox_rows(db)
    assert all(r.done_at is not None for r in rows)
    assert {r.sender for r in rows} == {f"teams:{TENANT_ID}:{dave.aad}"}


async def test_a_channel_message_gets_a_pointer_and_stores_nothing(
    teams: Teams, engine: Engine, db: Database
) -> None:
    erin = Person(teams, "Erin")
    channel = "19:c2a3f1b0d3f94c1b8e0e9d6b2c9a0e11@thread.tacv2;messageid=1712345678901"
    activity = erin.activity(
        "<at>cpdbot</at> log 3h confidential disciplinary training yesterday",
        conversation={
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": TENANT_ID,
            "id": channel,
        },
        channelData={
            "teamsChannelId": channel.split(";")[0],
            "teamsTeamId": "19:team0000000000000000000000000000@thread.tacv2",
            "channel": {"id": channel.split(";")[0]},
            "team": {"id": "19:team0000000000000000000000000000@thread.tacv2"},
            "tenant": {"id": TENANT_ID},
        },
    )
    assert await teams.post(activity) == 200
    (pointer,) = teams.fake.sent
    assert pointer.conversation_id == channel
    assert "chat with me" in shown(pointer)
    assert "confidential" not in str(pointer.body)
    assert inbox_rows(db) == []
    assert engine.record(erin.key) is None

    group = erin.activity(
        "status",
        conversation={
            "isGroup": True,
            "conversationType": "groupChat",
            "tenantId": TENANT_ID,
            "id": "19:meeting_group0001@thread.v2",
        },
    )
    assert await teams.post(group) == 200
    assert len(teams.fake.sent) == 2
    assert inbox_rows(db) == []
    assert engine.record(erin.key) is None


async def test_a_stale_press_gets_the_polite_reply_and_changes_nothing(
    teams: Teams, engine: Engine
) -> None:
    fay = Person(teams, "Fay")
    await fay.onboard()
    replies = await fay.say("log 1h talk on welding yesterday")
    assert replies[-1] == "Which category?"
    stale = fay.press_activity("Training courses")  # the card, before it is answered
    await fay.say("Self-study")  # typed instead of pressed
    replies = await fay.send(stale)
    assert replies and "earlier message" in replies[0], replies
    replies = await fay.say("later")
    assert any(r.startswith("Saved #1") for r in replies), replies
    record = engine.record(fay.key)
    assert record is not None
    (entry,) = record.entries
    assert entry.category == "self_study"
    # The same card pressed twice (a double click): the second press does nothing.
    replies = await fay.say("log 1h talk on earthing yesterday")
    assert replies[-1] == "Which category?"
    press = fay.press_activity("Training courses")
    posted = len(teams.posts(fay.conversation))
    await fay.send(press)
    after_first = len(teams.posts(fay.conversation))
    assert after_first > posted
    press["id"] = f"17{next(_ids):011d}"  # a new activity for the same card
    assert await fay.send(press) == []


# ---------------------------------------------------------------- rendering and settings


def test_markdown_in_replies_is_shown_as_typed() -> None:
    text = "Saved *draft* [link](x) <b> & c_d\n- not a bullet\n1. not a list\n# not a heading"
    assert unescape(escape(text)) == text
    escaped = escape(text)
    assert "*draft*" not in escaped and "<b>" not in escaped
    assert "\n- " not in escaped and "\n1. " not in escaped and "\n# " not in escaped


def test_teams_settings_come_from_the_configuration() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        teams_app_id=APP_ID,
        teams_app_password=APP_PASSWORD,
        teams_tenant_id=TENANT_ID,
    )
    assert settings.teams_enabled
    mine = teams_settings(settings)
    assert (mine.host, mine.port) == ("127.0.0.1", 3978)
    assert mine.outbound_token_url == (
        f"https://login.microsoftonline.com/{TENANT_ID}/oauth2/v2.0/token"
    )
    assert mine.metadata_url.startswith("https://login.botframework.com/")
    check(settings)
    assert not Settings(_env_file=None, teams_app_id=APP_ID).teams_enabled  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="TEAMS_APP_ID"):
        check(Settings(_env_file=None, teams_app_password=APP_PASSWORD))  # type: ignore[call-arg]

"""The Slack app end to end: the real bolt app in HTTP mode on 127.0.0.1, signed requests
shaped like Slack's own (fixtures in tests/fixtures/slack), and its Web API client
pointed at a fake Web API (tests/fake_slack.py) that records every call.

After each request the test waits for the bot's work after the ack (`SlackBot.idle()`);
nothing sleeps to wait for something to happen.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from sqlmodel import select

from adapters.slack import SlackBot, SlackSender, blocks, serve
from adapters.slack.sender import make_client
from adapters.slack.server import SlackConfigError
from bot.core.model import Attachment, IdentityKey, Outgoing, Unreachable
from bot.services.engine import Engine
from cpdbot.config import Settings
from cpdbot.platform_settings import slack_settings
from storage.db import Database
from storage.models import InboxUpdate
from storage.writers import WriterTurns as Turns
from tests.conftest import FIXTURES, NOW
from tests.fake_slack import APP_ID, BOT_USER, FakeSlack

SLACK = FIXTURES / "slack"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-1234-5678-cpdbot-test"
T1, T2 = "T0TEAM0001", "T0TEAM0002"
CHANNEL = "C0GENERAL1"
_ids = itertools.count(1)


def fixture(name: str) -> Any:
    text = (SLACK / name).read_text()
    return json.loads(text) if name.endswith(".json") else text.rstrip("\n")


def sign(body: str, timestamp: int, secret: str = SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def unique(prefix: str) -> str:
    return f"{prefix}{next(_ids):06d}"


# ---------------------------------------------------------------- payloads, from the fixtures


def message_im(team: str, user: str, channel: str, text: str) -> dict[str, Any]:
    body = copy.deepcopy(fixture("event_callback_message_im.json"))
    ts = f"{int(NOW.timestamp()) - 3600 + next(_ids)}.260129"  # sent just before the test clock
    body.update(team_id=team, context_team_id=team, event_id=unique("Ev0"))
    body["authorizations"][0].update(team_id=team, user_id=BOT_USER)
    body["event"].update(
        user=user, team=team, channel=channel, text=text, ts=ts, event_ts=ts, blocks=[]
    )
    return body


def app_mention(team: str, user: str, channel: str, text: str) -> dict[str, Any]:
    body = copy.deepcopy(fixture("event_callback_app_mention.json"))
    body.update(team_id=team, event_id=unique("Ev0"))
    body["authorizations"][0].update(team_id=team, user_id=BOT_USER)
    body["event"].update(user=user, team=team, channel=channel, text=text, blocks=[])
    return body


def home_opened(team: str, user: str, tab: str = "home") -> dict[str, Any]:
    body = copy.deepcopy(fixture("event_callback_app_home_opened_home_tab.json"))
    body.update(team_id=team, event_id=unique("Ev0"))
    body["event"].update(user=user, channel=f"D{user}", tab=tab)
    return body


def slash(team: str, user: str, text: str, channel: str, response_url: str) -> dict[str, str]:
    fields = dict(fixture("slash_command_fields.json"))
    fields.update(
        team_id=team,
        user_id=user,
        command="/cpd",
        text=text,
        channel_id=channel,
        channel_name="directmessage" if channel.startswith("D") else "general",
        api_app_id=APP_ID,
        response_url=response_url,
        trigger_id=unique("10520020890661.10229338706656."),
    )
    return fields


def button_press(
    team: str, user: str, channel: str, message: Mapping[str, Any], button: Mapping[str, Any]
) -> dict[str, Any]:
    body = copy.deepcopy(fixture("block_actions_button.json"))
    body["user"].update(id=user, team_id=team)
    body["team"]["id"] = team
    body["api_app_id"] = APP_ID
    body["container"] = {
        "type": "message",
        "message_ts": message["ts"],
        "channel_id": channel,
        "is_ephemeral": False,
    }
    body["channel"] = {"id": channel, "name": "directmessage"}
    body["message"] = copy.deepcopy(dict(message))
    body["trigger_id"] = unique("10215325802133.3901254001572.")
    body["actions"] = [
        {
            "type": "button",
            "block_id": button["block_id"],
            "action_id": button["action_id"],
            "text": button["text"],
            "value": button["value"],
            "action_ts": f"{time.time():.6f}",
        }
    ]
    return body


def home_press(team: str, user: str, view: Mapping[str, Any], value: str) -> dict[str, Any]:
    buttons_ = [
        {**element, "block_id": block["block_id"]}
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    (button,) = [b for b in buttons_ if b["value"] == value]
    body = button_press(team, user, "", {"ts": "0"}, button)
    body["container"] = {"type": "view", "view_id": view["id"]}
    del body["channel"], body["message"]
    body["view"] = dict(view)
    return body


def view_submission(
    team: str, user: str, view: Mapping[str, Any], answers: Mapping[str, str]
) -> dict[str, Any]:
    """Fill the opened modal as a person would: typed text, a picked date, a chosen option."""
    body = copy.deepcopy(fixture("view_submission.json"))
    body["team"]["id"] = team
    body["user"].update(id=user, team_id=team)
    body["trigger_id"] = unique("10508000345735.10229338706656.")
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        element = block["element"]
        answer = answers.get(block["block_id"])
        state: dict[str, Any] = {"type": element["type"]}
        if element["type"] == "datepicker":
            state["selected_date"] = answer or element.get("initial_date")
        elif element["type"] == "static_select":
            chosen = [o for o in element["options"] if o["value"] == answer]
            state["selected_option"] = chosen[0] if chosen else None
        else:
            state["value"] = answer or None
        values[block["block_id"]] = {element["action_id"]: state}
    body["view"] = {
        **body["view"],
        **view,
        "team_id": team,
        "app_installed_team_id": team,
        "state": {"values": values},
        "private_metadata": "",
    }
    return body


# ---------------------------------------------------------------- the harness


class Slack:
    """Signed requests to the bolt app; each waits for the work the request started."""

    def __init__(self, bot: SlackBot, fake: FakeSlack, http: aiohttp.ClientSession, url: str):
        self.bot, self.fake, self.http, self.url = bot, fake, http, url

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        secret: str = SECRET,
        headers: Mapping[str, str] | None = None,
        wait: bool = True,
    ) -> tuple[int, str]:
        ts = int(time.time()) if timestamp is None else timestamp
        sent = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sign(body, ts, secret),
            **(headers or {}),
        }
        async with self.http.post(self.url, data=body.encode(), headers=sent) as response:
            status, text = response.status, await response.text()
        if wait:
            await self.idle()
        return status, text

    async def idle(self) -> None:
        await asyncio.wait_for(self.bot.idle(), 20)

    async def event(self, body: Mapping[str, Any], **kwargs: Any) -> tuple[int, str]:
        return await self.post(json.dumps(body), "application/json", **kwargs)

    async def interaction(self, payload: Mapping[str, Any], **kwargs: Any) -> tuple[int, str]:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded", **kwargs)

    async def form(self, fields: Mapping[str, str], **kwargs: Any) -> tuple[int, str]:
        return await self.post(urlencode(fields), "application/x-www-form-urlencoded", **kwargs)


class Person:
    """Someone in a workspace, talking to the bot in their DM; returns what the bot posted."""

    def __init__(
        self, slack: Slack, team: str, user: str, *, tz: str = "Europe/London", dm: str = ""
    ) -> None:
        self.slack, self.team, self.user = slack, team, user
        self.dm = dm or f"D{user}"  # the fake's conversations.open answers D<user id>
        self.key = IdentityKey("slack", user, team)
        slack.fake.users[user] = {
            "name": user.lower(),
            "real_name": f"Person {user}",
            "tz": tz,
            "profile": {"display_name": f"person-{user.lower()}"},
        }

    def _posted(self) -> int:
        return len(self.slack.fake.posts(self.dm))

    def _since(self, before: int) -> list[str]:
        return [m["text"] for m in self.slack.fake.posts(self.dm)[before:]]

    async def say(self, text: str) -> list[str]:
        before = self._posted()
        status, _ = await self.slack.event(message_im(self.team, self.user, self.dm, text))
        assert status == 200
        return self._since(before)

    def button(self, label: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The newest message in the DM with a button labelled `label`, and that button."""
        for message in reversed(self.slack.fake.posts(self.dm)):
            for block in message["blocks"]:
                for element in block.get("elements", []) if block["type"] == "actions" else []:
                    if element["text"]["text"] == label:
                        return message, {**element, "block_id": block["block_id"]}
        raise AssertionError(f"no button {label!r} in {self.dm}")

    async def press(self, label: str) -> list[str]:
        message, button = self.button(label)
        before = self._posted()
        payload = button_press(self.team, self.user, self.dm, message, button)
        status, _ = await self.slack.interaction(payload)
        assert status == 200
        return self._since(before)

    async def command(self, text: str, channel: str = CHANNEL) -> tuple[int, str, list[str]]:
        before = self._posted()
        fields = slash(self.team, self.user, text, channel, self.slack.fake.response_url())
        status, body = await self.slack.form(fields)
        return status, body, self._since(before)

    async def onboard(self, scheme: str = "IET", zone: str = "Europe/London") -> None:
        await self.say("/start")  # typed in a DM, '/start' is just text to the dialogue
        await self.press(scheme)
        await self.press(zone)

    def record(self, engine: Engine) -> Any:
        return engine.record(self.key)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack().start()
    yield server
    await server.stop()


@asynccontextmanager
async def serving(
    engine: Engine, fake: FakeSlack, bot_class: type[SlackBot] = SlackBot
) -> AsyncIterator[Slack]:
    """The bot in HTTP mode, started as `serve()` starts it (the inbox replayed first)."""
    bot = bot_class(engine, token=TOKEN, signing_secret=SECRET, api_url=fake.api_url)
    await bot.replay()
    runner, port = await bot.start_http("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as http:
            yield Slack(bot, fake, http, f"http://127.0.0.1:{port}/slack/events")
    finally:
        await runner.cleanup()
        await bot.close()


@pytest.fixture
async def slack(engine: Engine, fake: FakeSlack) -> AsyncIterator[Slack]:
    async with serving(engine, fake) as running:
        yield running


def inbox_rows(db: Database) -> dict[str, InboxUpdate]:
    """The Slack inbox, by row name (`event:<event_id>`, `command:<trigger>`...)."""
    with db.transaction() as session:
        rows = session.exec(select(InboxUpdate).where(InboxUpdate.platform == "slack")).all()
        return {row.key: row for row in rows}


def modal_of(fake: FakeSlack) -> dict[str, Any]:
    opened = fake.called("views.open")
    assert opened, "no modal was opened"
    return dict(opened[-1]["view"], id="V0MODAL0001")


# ---------------------------------------------------------------- the two ways to log an entry


async def test_a_person_logs_a_full_entry_by_dm_with_buttons(slack: Slack, engine: Engine) -> None:
    alice = Person(slack, T1, "U0ALICE001", tz="Asia/Kolkata")

    replies = await alice.say("hello")
    assert "Which professional body's CPD scheme do you follow?" in replies
    replies = await alice.press("IET")
    assert replies[-1].startswith("Which time zone are you in?")
    # Her Slack time zone (users.info) is offered first.
    _, first_zone = alice.button("Asia/Kolkata")
    assert first_zone["action_id"] == "choice:0"
    assert first_zone["value"] == "tz:Asia/Kolkata"
    replies = await alice.press("Asia/Kolkata")
    assert any("All set: IET" in r for r in replies)

    replies = await alice.say("log 1.5h arc-flash briefing yesterday")  # no category word
    assert replies[-1] == "Which category?"
    replies = await alice.press("Events and seminars")
    assert replies == [  # what was understood, then the first reflection question
        "Got it: 'Arc-flash briefing' · yesterday · 1 h 30 · Events and seminars.",
        "Reflection 1/2: What were the key points that you remember and were relevant to you?",
    ]
    replies = await alice.say("Arc-flash boundaries and PPE categories")
    replies = await alice.say("I will check panel labels before isolating")
    assert any(r.startswith("Saved #1") for r in replies), replies

    record = alice.record(engine)
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
    assert record.person.display_name == "person-u0alice001"

    # Each pressed message was updated: its buttons replaced by what was chosen.
    updates = slack.fake.called("chat.update")
    assert [u["blocks"][-1]["elements"][0]["text"] for u in updates] == [
        "✓ IET",
        "✓ Asia/Kolkata",
        "✓ Events and seminars",
    ]
    for message in slack.fake.posts(alice.dm):
        if message["text"] == "Which category?":
            assert all(b["type"] != "actions" for b in message["blocks"])
    # Every reply went to her DM; nothing to a channel.
    assert {p["channel"] for p in slack.fake.called("chat.postMessage")} == {alice.dm}


async def test_a_person_logs_an_entry_with_the_modal(slack: Slack, engine: Engine) -> None:
    bob = Person(slack, T2, "U0BOB00001", tz="America/Chicago")
    status, body, _ = await bob.command("")
    assert (status, body) == (200, "")
    view = modal_of(slack.fake)
    assert view["callback_id"] == "cpd_entry"
    by_id = {b["block_id"]: b for b in view["blocks"]}
    assert list(by_id)[:4] == ["title", "date", "hours", "category"]
    assert by_id["date"]["element"]["type"] == "datepicker"
    assert by_id["date"]["element"]["initial_date"] == "2026-11-22"  # today in Chicago
    assert by_id["category"]["element"]["type"] == "static_select"
    reflections = [b for b in by_id if b.startswith("r:")]
    assert reflections and all(by_id[r]["optional"] for r in reflections)
    category = by_id["category"]["element"]["options"][1]["value"]

    answers = {
        "title": "Site visit with the contractor",
        "date": "2026-11-20",
        "hours": "2h",
        "category": category,
        reflections[0]: "How temporary works are signed off",
    }
    status, body = await slack.interaction(view_submission(T2, "U0BOB00001", view, answers))
    assert (status, body) == (200, "")  # an empty ack closes the modal

    record = bob.record(engine)
    (entry,) = record.entries
    assert (entry.title, entry.minutes, entry.category, entry.source) == (
        "Site visit with the contractor",
        120,
        category,
        "form",
    )
    assert entry.activity_date == date(2026, 11, 20)
    assert entry.reflections[0].answer == "How temporary works are signed off"
    assert record.person.timezone == "America/Chicago"
    # The confirmation went to his DM, and App Home was refreshed.
    assert any(t.startswith("Saved #1") for t in [m["text"] for m in slack.fake.posts(bob.dm)])
    assert slack.fake.called("views.publish")[-1]["user_id"] == "U0BOB00001"
    # Neither request needed an inbox row: `/cpd` alone only opened the form, and the
    # submission's engine step committed before its ack.
    assert inbox_rows(engine.db) == {}


async def test_modal_validation_errors_are_shown_on_their_fields(
    slack: Slack, engine: Engine
) -> None:
    carol = Person(slack, T1, "U0CAROL001")
    await carol.command("")
    view = modal_of(slack.fake)
    category = view["blocks"][3]["element"]["options"][0]["value"]
    answers = {"title": "Reading", "date": "2027-01-05", "hours": "lots", "category": category}
    status, body = await slack.interaction(view_submission(T1, carol.user, view, answers))
    assert status == 200
    response = json.loads(body)
    assert response["response_action"] == "errors"
    assert set(response["errors"]) == {"date", "hours"}  # the blocks' ids
    assert "1.5h" in response["errors"]["hours"]
    assert carol.record(engine).entries == ()
    assert slack.fake.posts(carol.dm) == []  # nothing said in the DM either


# ---------------------------------------------------------------- requests that change nothing


async def test_healthz_in_http_mode(slack: Slack) -> None:
    async with slack.http.get(slack.url.replace("/slack/events", "/healthz")) as response:
        answer = await response.json()
        assert answer["database"]["ok"] is True
        # (the scheduler's part depends on whether one runs in this process)
        assert response.status == (200 if answer["ok"] else 503)
    assert slack.fake.calls == []  # not a Slack request: no signature, no Web API calls


async def test_url_verification_challenge(slack: Slack) -> None:
    status, body = await slack.event(fixture("url_verification.json"))
    assert status == 200
    assert json.loads(body) == {"challenge": "valid_challenge_token"}


async def test_bad_signature_gets_401_and_changes_nothing(slack: Slack, engine: Engine) -> None:
    body = message_im(T1, "U0MALLORY1", "DU0MALLORY1", "log 5h forged training yesterday")
    status, _ = await slack.event(body, secret="not-the-signing-secret")
    assert status == 401
    status, _ = await slack.interaction(fixture("block_actions_button.json"), secret="")
    assert status == 401
    assert slack.fake.calls == []
    assert engine.record(IdentityKey("slack", "U0MALLORY1", T1)) is None


async def test_stale_timestamp_gets_401_and_changes_nothing(slack: Slack, engine: Engine) -> None:
    body = message_im(T1, "U0MALLORY1", "DU0MALLORY1", "log 5h replayed training yesterday")
    status, _ = await slack.event(body, timestamp=int(time.time()) - 6 * 60)
    assert status == 401
    assert slack.fake.calls == []
    assert engine.record(IdentityKey("slack", "U0MALLORY1", T1)) is None


async def test_a_retried_or_repeated_event_is_processed_once(slack: Slack) -> None:
    dave = Person(slack, T1, "U0DAVE0001")
    await dave.onboard()
    event = message_im(T1, dave.user, dave.dm, "status")
    before = len(slack.fake.posts(dave.dm))
    assert (await slack.event(event))[0] == 200
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert (await slack.event(event, headers=retry))[0] == 200
    # ...and the same delivery twice at once.
    again = message_im(T1, dave.user, dave.dm, "list")
    results = await asyncio.gather(slack.event(again, wait=False), slack.event(again, wait=False))
    assert [status for status, _ in results] == [200, 200]
    await slack.idle()
    texts = [m["text"] for m in slack.fake.posts(dave.dm)[before:]]
    assert len(texts) == 2, texts
    assert texts[0].startswith("CPD year 2026")


async def test_a_second_press_on_the_same_message_does_nothing(slack: Slack) -> None:
    erin = Person(slack, T1, "U0ERIN0001")
    await erin.say("hello")
    message, button = erin.button("IET")
    press = button_press(T1, erin.user, erin.dm, message, button)
    await slack.interaction(press)
    posted = len(slack.fake.posts(erin.dm))
    await slack.interaction(press)  # a double click delivered before the update landed
    assert len(slack.fake.posts(erin.dm)) == posted
    assert len(slack.fake.called("chat.update")) == 1
    with pytest.raises(AssertionError, match="no button 'IET'"):
        erin.button("IET")  # the message no longer has buttons


async def test_the_same_user_id_in_two_workspaces_is_two_people(
    slack: Slack, engine: Engine
) -> None:
    first = Person(slack, T1, "U0SAME0001", dm="D0SAMEONE1")
    second = Person(slack, T2, "U0SAME0001", dm="D0SAMETWO1")
    await first.onboard("IET")
    replies = await first.say("log 2h training course on protection relays yesterday")
    assert replies[0] == (
        "Got it: 'Training course on protection relays' · yesterday · 2 h · Training courses."
    )
    await first.say("later")
    assert len(first.record(engine).entries) == 1

    replies = await second.say("list")
    assert "Which professional body's CPD scheme do you follow?" in replies  # a new person
    await second.press("IES")
    await second.press("Europe/London")
    assert second.record(engine).entries == ()
    assert second.record(engine).person.scheme_id == "ies"
    assert first.record(engine).person.scheme_id == "iet"


async def test_a_message_in_a_channel_gets_a_private_pointer_and_stores_nothing(
    slack: Slack, engine: Engine
) -> None:
    frank = Person(slack, T1, "U0FRANK001")
    text = f"<@{BOT_USER}> log 3h confidential disciplinary training yesterday"
    status, _ = await slack.event(app_mention(T1, frank.user, CHANNEL, text))
    assert status == 200
    (pointer,) = slack.fake.called("chat.postEphemeral")
    assert (pointer["channel"], pointer["user"]) == (CHANNEL, frank.user)
    assert "direct message" in pointer["text"]
    assert "confidential" not in json.dumps(pointer)
    assert slack.fake.called("chat.postMessage") == []
    record = frank.record(engine)
    assert record is None or record.entries == ()

    # Plain channel chatter (if message.channels were subscribed) is not for the bot at all.
    chatter = message_im(T1, frank.user, CHANNEL, "log 1h chatting")
    chatter["event"]["channel_type"] = "channel"
    calls = len(slack.fake.calls)
    assert (await slack.event(chatter))[0] == 200
    assert len(slack.fake.calls) == calls


async def test_edits_and_bot_messages_are_ignored(slack: Slack) -> None:
    edited = message_im(T1, "U0GINA0001", "DU0GINA0001", "ignored")
    edited["event"]["subtype"] = "message_changed"
    from_bot = message_im(T1, BOT_USER, "DU0GINA0001", "my own reply")
    from_bot["event"]["bot_id"] = "B0OTHER001"
    for body in (edited, from_bot):
        assert (await slack.event(body))[0] == 200
    assert [c.method for c in slack.fake.calls if c.method != "auth.test"] == []


# ---------------------------------------------------------------- nothing acked is lost


class DiesAfterRecording(SlackBot):
    def _start(self, name: str, job: dict[str, Any]) -> None:
        """The process dies here: the request is in the inbox and acked, nothing else ran."""


RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


async def test_an_event_recorded_before_a_crash_is_handled_once_on_restart(
    engine: Engine, fake: FakeSlack, db: Database
) -> None:
    async with serving(engine, fake, DiesAfterRecording) as crashed:
        alice = Person(crashed, T1, "U0ALICE002")
        event = message_im(T1, alice.user, alice.dm, "hello")
        assert (await crashed.event(event))[0] == 200  # Slack will not send it again
        row = inbox_rows(db)[f"event:{event['event_id']}"]
        assert row.done_at is None
        assert json.loads(row.payload)["body"]["event"]["text"] == "hello"
    assert fake.posts(alice.dm) == []  # acked, never answered

    async with serving(engine, fake) as slack:  # the restart replays the inbox
        await slack.idle()
        texts = [m["text"] for m in fake.posts(alice.dm)]
        assert texts[-1] == "Which professional body's CPD scheme do you follow?"
        # The same event delivered again after the restart (a retry, a second delivery).
        assert (await slack.event(event, headers=RETRY))[0] == 200
        assert (await slack.event(event))[0] == 200
        assert [m["text"] for m in fake.posts(alice.dm)] == texts  # processed once
        await slack.bot.inbox.flush()
        assert inbox_rows(db)[f"event:{event['event_id']}"].done_at is not None

    restarted = SlackBot(engine, token=TOKEN, signing_secret=SECRET, api_url=fake.api_url)
    try:
        assert await restarted.replay() == 0  # nothing left to replay
    finally:
        await restarted.close()


async def test_presses_and_commands_recorded_before_a_crash_are_replayed_in_order(
    engine: Engine, fake: FakeSlack, db: Database
) -> None:
    async with serving(engine, fake) as slack:
        bea = Person(slack, T1, "U0BEA00001")
        await bea.onboard()
        # No category word in the title: the category is asked, with buttons.
        assert (await bea.say("log 1.5h arc-flash briefing yesterday"))[-1] == "Which category?"
    before = len(fake.posts(bea.dm))

    async with serving(engine, fake, DiesAfterRecording) as crashed:
        bea.slack = crashed
        message, button = bea.button("Events and seminars")
        press = button_press(T1, bea.user, bea.dm, message, button)
        assert (await crashed.interaction(press))[0] == 200
        status, body, _ = await bea.command("status")  # typed in a channel
        assert (status, body) == (200, "")
        waiting = [name for name, row in inbox_rows(db).items() if row.done_at is None]
        assert sorted(name.split(":")[0] for name in waiting) == ["action", "command"]
    assert len(fake.posts(bea.dm)) == before

    async with serving(engine, fake) as slack:
        await slack.idle()
        # Oldest first: the press (its message now shows the choice, and the next question
        # is asked), then the status, with the pointer where the command was typed.
        assert fake.called("chat.update")[-1]["blocks"][-1]["elements"][0]["text"] == (
            "✓ Events and seminars"
        )
        texts = [m["text"] for m in fake.posts(bea.dm)[before:]]
        assert not texts[0].startswith("CPD year")
        assert any(t.startswith("CPD year 2026") for t in texts[1:]), texts
        assert "direct messages" in fake.responses[-1]["text"]
        # The same press delivered again after the restart changes nothing.
        assert (await slack.interaction(press))[0] == 200
        assert len(fake.posts(bea.dm)) == before + len(texts)

        bea.slack = slack
        await bea.say("later")
        (entry,) = bea.record(engine).entries
        assert (entry.title, entry.category) == ("Arc-flash briefing", "events_and_seminars")
        await slack.bot.inbox.flush()
        assert all(row.done_at is not None for row in inbox_rows(db).values())


async def test_a_request_that_cannot_be_recorded_is_not_acked(
    slack: Slack, monkeypatch: pytest.MonkeyPatch
) -> None:
    def database_down(*_: object) -> list[str]:
        raise RuntimeError("database is down")

    cora = Person(slack, T1, "U0CORA0001")
    event = message_im(T1, cora.user, cora.dm, "hello")
    monkeypatch.setattr(slack.bot.inbox, "_write", database_down)
    assert (await slack.event(event))[0] == 500  # so Slack tries again later
    assert slack.fake.posts(cora.dm) == []
    monkeypatch.undo()
    assert (await slack.event(event, headers=RETRY))[0] == 200
    assert slack.fake.posts(cora.dm)


async def test_on_sqlite_the_inbox_takes_the_next_turn_between_engine_transactions(
    sqlite_db: Database,
) -> None:
    """An inbox write waiting goes before a waiting engine transaction (instead of SQLite's
    polling, which it kept losing), and work after a transaction holds no turn."""
    turns = Turns(sqlite_db.engine)
    threads = ThreadPoolExecutor(2, initializer=turns.enlist)
    order: list[str] = []
    a_began, a_may_commit, b_committed, b_may_return = (threading.Event() for _ in range(4))

    def engine_a() -> None:
        with sqlite_db.transaction() as session:
            session.exec(select(InboxUpdate)).all()  # BEGIN: the turn, then SQLite's lock
            order.append("A")
            a_began.set()
            assert a_may_commit.wait(5)

    def engine_b() -> None:
        with sqlite_db.transaction() as session:
            session.exec(select(InboxUpdate)).all()
            order.append("B")
        b_committed.set()
        assert b_may_return.wait(5)  # still busy, outside its transaction (a PDF, say)

    async def inbox_write(name: str) -> None:
        async with turns.first():
            with sqlite_db.transaction() as session:
                session.exec(select(InboxUpdate)).all()
            order.append(name)

    loop = asyncio.get_running_loop()
    try:
        a = loop.run_in_executor(threads, engine_a)
        assert await asyncio.to_thread(a_began.wait, 5)
        waiting = asyncio.create_task(inbox_write("inbox"))
        await asyncio.sleep(0)  # it now waits for A's turn to end, without blocking the loop
        b = loop.run_in_executor(threads, engine_b)
        a_may_commit.set()
        await asyncio.wait_for(asyncio.gather(a, waiting), 5)
        assert await asyncio.to_thread(b_committed.wait, 5)
        assert order == ["A", "inbox", "B"]
        await asyncio.wait_for(inbox_write("inbox, while B works on"), 5)
        b_may_return.set()
        await b
    finally:
        a_may_commit.set()
        b_may_return.set()
        threads.shutdown(wait=True)
        turns.close()


# ---------------------------------------------------------------- rate limits and the Sender


async def test_a_429_from_chat_post_message_is_retried_without_holding_up_others(
    slack: Slack,
) -> None:
    hana = Person(slack, T1, "U0HANA0001")
    ivan = Person(slack, T1, "U0IVAN0001")
    slack.fake.fail(
        "chat.postMessage", status=429, retry_after=1, when=lambda a: a["channel"] == hana.dm
    )
    started = time.monotonic()
    await asyncio.gather(
        slack.event(message_im(T1, hana.user, hana.dm, "help"), wait=False),
        slack.event(message_im(T1, ivan.user, ivan.dm, "help"), wait=False),
    )
    await slack.idle()
    posts = [c for c in slack.fake.calls if c.method == "chat.postMessage"]
    hana_posts = [c for c in posts if c.args["channel"] == hana.dm]
    assert hana_posts[0].status == 429
    assert hana_posts[-1].ok  # delivered after Retry-After
    assert time.monotonic() - started >= 1.0
    # Ivan's first message went out while Hana's was waiting.
    ivan_first = next(i for i, c in enumerate(posts) if c.args["channel"] == ivan.dm)
    assert ivan_first < posts.index(hana_posts[-1])
    assert slack.fake.posts(hana.dm) and slack.fake.posts(ivan.dm)


async def test_sender_posts_to_the_dm_never_to_a_channel(fake: FakeSlack) -> None:
    async with aiohttp.ClientSession() as session:
        sender = SlackSender(make_client(TOKEN, fake.api_url, session))
        me = IdentityKey("slack", "U0JOY00001", T1)
        await sender.send(me, "C0PUBLIC01", Outgoing("Monthly CPD summary"))
        await sender.send(
            me,
            None,
            Outgoing(
                "Your record",
                attachment=Attachment("cpd-2026.csv", b"number,title\n1,Webinar\n", "text/csv"),
            ),
        )
    assert [c["users"] for c in fake.called("conversations.open")] == ["U0JOY00001"]
    (post,) = fake.called("chat.postMessage")
    assert post["channel"] == "DU0JOY00001"
    (done,) = fake.called("files.completeUploadExternal")
    assert done["channel_id"] == "DU0JOY00001"
    assert list(fake.uploads.values()) == [b"number,title\n1,Webinar\n"]


@pytest.mark.parametrize(
    ("method", "error"),
    [
        ("conversations.open", "user_not_found"),
        ("conversations.open", "user_disabled"),
        ("chat.postMessage", "account_inactive"),
        ("chat.postMessage", "cannot_dm_bot"),
    ],
)
async def test_sender_raises_unreachable_when_a_person_cannot_be_reached(
    fake: FakeSlack, method: str, error: str
) -> None:
    fake.fail(method, error=error)
    async with aiohttp.ClientSession() as session:
        sender = SlackSender(make_client(TOKEN, fake.api_url, session))
        with pytest.raises(Unreachable, match=error):
            await sender.send(IdentityKey("slack", "U0GONE0001", T1), None, Outgoing("Hi"))


async def test_sender_retries_a_429_and_lets_token_errors_through(fake: FakeSlack) -> None:
    from slack_sdk.errors import SlackApiError

    fake.fail("chat.postMessage", status=429, retry_after=1)
    async with aiohttp.ClientSession() as session:
        sender = SlackSender(make_client(TOKEN, fake.api_url, session))
        me = IdentityKey("slack", "U0KIM00001", T1)
        await sender.send(me, None, Outgoing("Nudge"))
        assert [c.status for c in fake.calls if c.method == "chat.postMessage"] == [429, 200]
        fake.fail("chat.postMessage", error="invalid_auth")
        with pytest.raises(SlackApiError):  # the app's problem, not the person's
            await sender.send(me, None, Outgoing("Nudge"))


# ---------------------------------------------------------------- /cpd and App Home


async def test_slash_command_quick_logs_privately_from_a_channel(
    slack: Slack, engine: Engine
) -> None:
    liam = Person(slack, T1, "U0LIAM0001")
    await liam.onboard()
    status, body, replies = await liam.command("1.5h webinar yesterday")
    assert (status, body) == (200, "")
    # Echoed and asked in the DM, with buttons.
    assert replies[-2] == "Got it: 'Webinar' · yesterday · 1 h 30 · Events and seminars."
    assert replies[-1].startswith("Reflection 1/2")
    liam.button("Later")
    assert slack.fake.responses[-1]["response_type"] == "ephemeral"
    assert "direct messages" in slack.fake.responses[-1]["text"]
    await liam.press("Later")
    (entry,) = liam.record(engine).entries
    assert (entry.title, entry.minutes, entry.category) == ("Webinar", 90, "events_and_seminars")

    _, _, replies = await liam.command("status")
    assert replies[-1].startswith("CPD year 2026 (IET")
    responses = len(slack.fake.responses)
    _, _, replies = await liam.command("list", channel=liam.dm)  # used in the DM itself
    assert "#1" in replies[-1]
    assert len(slack.fake.responses) == responses  # no pointer needed there


async def test_app_home_shows_progress_and_its_buttons_work(slack: Slack) -> None:
    mia = Person(slack, T1, "U0MIA00001")
    await mia.onboard()
    await slack.event(home_opened(T1, mia.user, tab="messages"))
    assert slack.fake.called("views.publish") == []
    await slack.event(home_opened(T1, mia.user))
    (published,) = slack.fake.called("views.publish")
    assert published["user_id"] == mia.user
    view = dict(published["view"], id="V0HOME0001")
    assert view["type"] == "home"
    shown = json.dumps(view)
    assert "0 min of 30 h" in shown
    values = [e["value"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert values == ["cmd:log", "cmd:export"]

    await slack.interaction(home_press(T1, mia.user, view, "cmd:export"))
    (done,) = slack.fake.called("files.completeUploadExternal")
    assert done["channel_id"] == mia.dm
    (content,) = slack.fake.uploads.values()
    assert content.decode("utf-8-sig").startswith("number,date,end_date,title,hours,category")
    assert len(slack.fake.called("views.publish")) == 2  # refreshed after the press

    await slack.interaction(home_press(T1, mia.user, view, "cmd:log"))
    assert modal_of(slack.fake)["callback_id"] == "cpd_entry"


async def test_acks_do_not_wait_for_the_web_api(slack: Slack) -> None:
    gate = slack.fake.hold("users.info")  # Slack is slow to answer
    noor = Person(slack, T1, "U0NOOR0001")
    status, _ = await slack.event(message_im(T1, noor.user, noor.dm, "hello"), wait=False)
    assert status == 200  # acked while the work is still waiting on users.info
    assert slack.fake.posts(noor.dm) == []
    gate.set()
    await slack.idle()
    assert slack.fake.posts(noor.dm)


async def test_real_fixture_payloads_are_accepted(slack: Slack) -> None:
    """Slack's own recorded requests, signed as Slack would: all acknowledged with 200."""
    status, _ = await slack.event(fixture("event_callback_message_im.json"))
    assert status == 200
    assert slack.fake.posts("D0ACX51K95H")  # the onboarding greeting, in that DM
    status, _ = await slack.event(fixture("event_callback_app_home_opened_home_tab.json"))
    assert status == 200
    assert slack.fake.called("views.publish")[-1]["user_id"] == "U061F7AUR"
    status, _ = await slack.event(fixture("event_callback_app_home_opened_messages_tab.json"))
    assert status == 200
    status, _ = await slack.event(fixture("event_callback_app_mention.json"))
    assert status == 200
    assert slack.fake.called("chat.postEphemeral")[-1]["channel"] == "C00FAKECHAN1"
    urlencoded = "application/x-www-form-urlencoded"
    status, body = await slack.post(fixture("slash_command.form-urlencoded.txt"), urlencoded)
    assert (status, body) == (200, "")
    assert slack.fake.called("views.open")[-1]["trigger_id"].startswith("2093168434705.")
    # Buttons and forms this bot did not make are acked and ignored.
    calls = len(slack.fake.calls)
    status, _ = await slack.post(fixture("block_actions_button.form-urlencoded.txt"), urlencoded)
    assert status == 200
    status, _ = await slack.interaction(fixture("block_actions_button.json"))
    assert status == 200
    status, _ = await slack.interaction(fixture("view_submission.json"))
    assert status == 200
    assert len(slack.fake.calls) == calls


# ---------------------------------------------------------------- serve()


async def test_serve_runs_http_mode_until_cancelled(engine: Engine, fake: FakeSlack) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_http_host="127.0.0.1",
        slack_http_port=0,
        slack_api_url=fake.api_url,
    )
    task = asyncio.create_task(serve(engine, slack_settings(settings)))
    await fake.wait_for(lambda: bool(fake.called("auth.test")))
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_serve_runs_socket_mode_when_an_app_token_is_set(
    engine: Engine, fake: FakeSlack
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token=TOKEN,
        slack_app_token="xapp-1-A0CPDBOT01-1234-abcd",
        slack_api_url=fake.api_url,  # also where apps.connections.open is asked
    )
    task = asyncio.create_task(serve(engine, slack_settings(settings)))
    try:
        await fake.wait_for(lambda: fake.socket_connected)
        body = message_im(T1, "U0OLGA0001", "DU0OLGA0001", "hello")
        envelope = await fake.push("events_api", body)
        await fake.wait_for(lambda: any(a["envelope_id"] == envelope for a in fake.socket_acks))
        await fake.wait_for(lambda: bool(fake.posts("DU0OLGA0001")))
        fields = slash(T1, "U0OLGA0001", "", CHANNEL, fake.response_url())
        command = await fake.push("slash_commands", fields)
        await fake.wait_for(lambda: bool(fake.called("views.open")))
        assert any(a["envelope_id"] == command for a in fake.socket_acks)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert fake.called("apps.connections.open")


async def test_serve_stops_at_once_on_a_rejected_token(engine: Engine, fake: FakeSlack) -> None:
    fake.fail("apps.connections.open", error="invalid_auth")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token=TOKEN,
        slack_app_token="xapp-1-revoked",
        slack_api_url=fake.api_url,
    )
    with pytest.raises(SlackConfigError, match="SLACK_APP_TOKEN"):
        await serve(engine, slack_settings(settings))
    fake.fail("auth.test", error="invalid_auth")
    with pytest.raises(SlackConfigError, match="SLACK_BOT_TOKEN"):
        await serve(engine, slack_settings(settings))


async def test_serve_refuses_http_mode_without_a_signing_secret(engine: Engine) -> None:
    settings = Settings(_env_file=None, slack_bot_token=TOKEN)  # type: ignore[call-arg]
    with pytest.raises(SlackConfigError, match="SLACK_SIGNING_SECRET"):
        await serve(engine, slack_settings(settings))


# ---------------------------------------------------------------- the manifest


def test_the_manifest_subscribes_to_what_the_app_handles() -> None:
    text = (Path(__file__).resolve().parents[2] / "manifest.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\s+- ([\w.:/]+)", text, flags=re.MULTILINE))
    assert {"app_home_opened", "app_mention", "message.im"} <= listed  # bot_events
    needed = {"chat:write", "commands", "im:history", "im:write", "users:read", "files:write"}
    needed |= {"files:read"}  # evidence shared in the DM: files.info and the download
    assert needed | {"app_mentions:read"} <= listed  # bot scopes
    assert "- command: /cpd" in text
    assert re.search(r"home_tab_enabled: true\s+messages_tab_enabled: true", text)
    assert re.search(r"interactivity:\s+is_enabled: true", text)
    assert "socket_mode_enabled: true" in text


# ---------------------------------------------------------------- rendering


def test_slack_text_is_decoded_and_reply_text_escaped() -> None:
    assert blocks.plain("&lt;b&gt; &amp; <https://x.org|x.org> <#C1|general>") == (
        "<b> & x.org #general"
    )
    assert blocks.plain(f"<@{BOT_USER}> log 1h", drop_user=BOT_USER) == "log 1h"
    assert blocks.plain("ping <@U1> <!here>") == "ping @U1 @here"
    text, rendered = blocks.message(Outgoing("Saved <!channel> & co"))
    assert text == "Saved <!channel> & co"
    assert rendered[0]["text"]["text"] == "Saved &lt;!channel&gt; &amp; co"


def test_many_choices_and_long_text_fit_slack_limits() -> None:
    from bot.core.model import Choice

    choices = tuple(Choice(f"c:{i}", f"Option {i}") for i in range(30))
    _, rendered = blocks.message(Outgoing("x" * 7000, choices))
    sections = [b for b in rendered if b["type"] == "section"]
    actions = [b for b in rendered if b["type"] == "actions"]
    assert all(len(s["text"]["text"]) <= 3000 for s in sections)
    assert "".join(s["text"]["text"] for s in sections) == "x" * 7000
    assert [len(a["elements"]) for a in actions] == [25, 5]
    ids = [e["action_id"] for a in actions for e in a["elements"]]
    assert len(set(ids)) == 30 and all(blocks.CHOICE_ACTION_RE.match(i) for i in ids)


def test_a_dm_is_read_as_of_its_timestamp_and_a_bad_one_is_ignored() -> None:
    from adapters.slack.translate import sent_at

    assert sent_at("1771442483.260129") == datetime(2026, 2, 18, 19, 21, 23, 260129, tzinfo=UTC)
    for bad in (None, "", "soon", "nan", "inf", "1e400", 12 * 10**20):
        assert sent_at(bad) is None, bad

"""Teams: the local-development mode (TEAMS_DEV_NO_AUTH), the welcome when the app is
installed, and Teams identities typed in the CLI ("teams:TENANT:AAD").

The real endpoint on 127.0.0.1 against tests/fake_teams.py, as tests/adapters/test_teams.py.
The install activity is a `conversationUpdate` whose `membersAdded` names the bot, as
Microsoft Learn shows it ("Conversation events in your Teams bot", "Members added").

The Microsoft 365 Agents Playground in its anonymous mode: no `Authorization` header on
what it sends (microsoft.github.io/teams-sdk, "Microsoft 365 Agents Playground": "The
Playground sends requests without a Bot Framework JWT") and none wanted on the replies,
which go to its own connector, the activity's `serviceUrl`: `http://localhost:56150/_connector`
by default (port 56150, TEAMSAPPTESTER_PORT). `playground_activity` is a message from its
default context, as Microsoft Learn lists it ("Debug bot using Agents Playground",
*Default configuration*: tenant, bot `00000000-0000-0000-0000-00000000000011` "Test Bot",
user `user-id-0` "Alex Wilber", personal chat), in the Teams message shape it sends with
`-c msteams`; `Playground` stands in for its connector on 127.0.0.1.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.teams import TeamsBot, TeamsSettings
from adapters.teams.proactive import open_sender
from adapters.teams.sender import ConnectorError
from bot.core.model import ConversationRef, IdentityKey, Outgoing
from bot.services.engine import Engine
from cpdbot.app import check
from cpdbot.config import ConfigError, Settings
from tests.adapters.test_teams import BOT_ID, Person, Teams, shown
from tests.fake_teams import APP_ID, APP_PASSWORD, TENANT_ID, FakeTeams


def settings_with(**extra: Any) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, teams_app_id=APP_ID, teams_app_password=APP_PASSWORD, **extra
    )


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.org"])
def test_dev_mode_refuses_to_start_off_loopback(host: str) -> None:
    with pytest.raises(ConfigError, match=r"TEAMS_DEV_NO_AUTH.*loopback"):
        check(settings_with(teams_dev_no_auth=True, teams_host=host))


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.53", "::1", "localhost"])
def test_dev_mode_starts_on_loopback(host: str) -> None:
    check(settings_with(teams_dev_no_auth=True, teams_host=host))


def test_dev_mode_is_off_by_default_and_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert settings_with().teams_dev_no_auth is False
    monkeypatch.setenv("TEAMS_DEV_NO_AUTH", "true")
    assert settings_with().teams_dev_no_auth is True


@pytest.fixture
async def fake() -> AsyncIterator[FakeTeams]:
    server = await FakeTeams().start()
    yield server
    await server.stop()


async def start(engine: Engine, fake: FakeTeams, *, dev: bool) -> AsyncIterator[Teams]:
    settings = TeamsSettings(
        app_id=APP_ID,
        app_password=APP_PASSWORD,
        tenant_id=TENANT_ID,
        openid_metadata_url=fake.openid_url,
        token_url=fake.token_url(),
        dev_no_auth=dev,
    )
    bot = TeamsBot(engine, settings)
    runner, port = await bot.start_http("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as http:
            yield Teams(bot, fake, http, f"http://127.0.0.1:{port}/api/messages")
    finally:
        await runner.cleanup()
        await bot.close()


@pytest.fixture
async def teams(engine: Engine, fake: FakeTeams) -> AsyncIterator[Teams]:
    async for t in start(engine, fake, dev=False):
        yield t


@pytest.fixture
async def dev_teams(
    engine: Engine, fake: FakeTeams, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Teams]:
    with caplog.at_level(logging.WARNING, logger="cpdbot.teams"):
        async for t in start(engine, fake, dev=True):
            yield t


async def test_dev_mode_answers_a_request_without_a_token_and_warns(
    dev_teams: Teams, caplog: pytest.LogCaptureFixture
) -> None:
    assert any(
        r.levelno == logging.WARNING and "token validation is OFF" in r.getMessage()
        for r in caplog.get_records("setup")
    )
    ada = Person(dev_teams, "ada")
    assert await dev_teams.post(ada.activity("hello"), token=None) == 200
    replies = [shown(s) for s in dev_teams.posts(ada.conversation)]
    assert replies and "Hello" in replies[0]


async def test_without_dev_mode_a_request_without_a_token_is_refused(
    teams: Teams, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    ada = Person(teams, "ada")
    assert await teams.post(ada.activity("hello"), token=None) == 401
    assert teams.posts(ada.conversation) == []
    assert engine.record(ada.key) is None
    assert not any("token validation is OFF" in r.getMessage() for r in caplog.records)


def installed(person: Person, *, personal: bool = True) -> dict[str, Any]:
    """The app added to a chat: Teams' `conversationUpdate` naming the bot in membersAdded."""
    body = person.activity(type="conversationUpdate", membersAdded=[{"id": BOT_ID}])
    body.pop("textFormat", None)
    if not personal:
        body["conversation"] = {
            "conversationType": "groupChat",
            "tenantId": TENANT_ID,
            "id": f"19:group-{person.name}@thread.v2",
            "isGroup": True,
        }
    return body


async def test_installing_the_app_in_a_personal_chat_greets_once(teams: Teams) -> None:
    ada = Person(teams, "ada")
    update = installed(ada)
    assert await teams.post(update) == 200
    greeting = [shown(s) for s in teams.posts(ada.conversation)]
    assert "Hello! I help you log CPD" in greeting[0]
    assert "scheme" in greeting[-1]
    assert await teams.post(update) == 200  # Teams sent it again: one welcome
    assert len(teams.posts(ada.conversation)) == len(greeting)
    # The person goes on from the welcome: choosing a scheme works.
    assert await ada.press("IET")
    assert await ada.press(ada.zone)
    assert any("log" in line.lower() for line in await ada.say("help"))


async def test_someone_else_joining_is_not_a_welcome(teams: Teams) -> None:
    ada = Person(teams, "ada")
    other = ada.activity(type="conversationUpdate", membersAdded=[{"id": "29:1someone"}])
    assert await teams.post(other) == 200
    assert teams.posts(ada.conversation) == []


async def test_the_app_added_to_a_group_chat_says_nothing_and_stores_nobody(
    teams: Teams, engine: Engine
) -> None:
    ada = Person(teams, "ada")
    update = installed(ada, personal=False)
    assert await teams.post(update) == 200
    assert teams.fake.sent == []
    assert engine.record(ada.key) is None
    # Nobody was created: the person's first personal message still starts onboarding.
    first = await ada.say("hello")
    assert first and "Hello! I help you log CPD" in first[0]


def test_a_teams_identity_typed_in_the_cli_is_the_adapters_key() -> None:
    assert IdentityKey.parse(f"teams:{TENANT_ID}:aad-1") == IdentityKey("teams", "aad-1", TENANT_ID)
    assert IdentityKey.parse("slack:T1:U1") == IdentityKey("slack", "U1", "T1")
    assert IdentityKey.parse("teams:only-one-part").platform == "console"
    assert IdentityKey.parse("teams::aad").platform == "console"


# ---------------------------------------------------------------- the Agents Playground

PLAYGROUND_TENANT = "00000000-0000-0000-0000-0000000000001"
PLAYGROUND_BOT = "00000000-0000-0000-0000-00000000000011"
PLAYGROUND_USER = "00000000-0000-0000-0000-0000000000020"  # Alex Wilber's aadObjectId


@dataclass
class Received:
    conversation: str
    authorization: str | None
    body: dict[str, Any]


class Playground:
    """The Playground's connector (`/_connector/v3/conversations/{id}/activities`), which
    shows what the bot sends; reached as `localhost`, as the Playground names itself."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.runner: web.AppRunner | None = None
        self.service_url = ""

    async def start(self) -> Playground:
        app = web.Application()
        app.router.add_post("/_connector/v3/conversations/{id}/activities", self._post)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.service_url = f"http://localhost:{port}/_connector"
        return self

    async def _post(self, request: web.Request) -> web.Response:
        conversation = request.match_info["id"]
        authorization = request.headers.get("Authorization")
        self.received.append(Received(conversation, authorization, await request.json()))
        return web.json_response({"id": str(uuid.uuid4())})


@pytest.fixture
async def playground() -> AsyncIterator[Playground]:
    server = await Playground().start()
    yield server
    assert server.runner is not None
    await server.runner.cleanup()


def playground_activity(service_url: str, text: str, conversation: str) -> dict[str, Any]:
    return {
        "type": "message",
        "text": text,
        "id": str(uuid.uuid4()),
        "channelId": "msteams",
        "from": {"id": "user-id-0", "name": "Alex Wilber", "aadObjectId": PLAYGROUND_USER},
        "timestamp": "2026-11-22T09:59:00.000Z",
        "localTimestamp": "2026-11-22T09:59:00.000+00:00",
        "localTimezone": "Europe/London",
        "serviceUrl": service_url,
        "conversation": {
            "conversationType": "personal",
            "tenantId": PLAYGROUND_TENANT,
            "id": conversation,
        },
        "recipient": {"id": PLAYGROUND_BOT, "name": "Test Bot"},
        "textFormat": "plain",
        "locale": "en-US",
        "entities": [
            {
                "type": "clientInfo",
                "locale": "en-US",
                "country": "US",
                "platform": "Web",
                "timezone": "Europe/London",
            }
        ],
        "channelData": {"tenant": {"id": PLAYGROUND_TENANT}},
    }


@pytest.fixture
async def anonymous(
    engine: Engine, fake: FakeTeams, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Teams]:
    """The bot as `TEAMS_DEV_NO_AUTH=true` alone starts it: no app id, password or
    certificate (the token URL is the fake's, so a token request would be seen)."""
    settings = TeamsSettings(
        dev_no_auth=True, openid_metadata_url=fake.openid_url, token_url=fake.token_url()
    )
    with caplog.at_level(logging.INFO):
        bot = TeamsBot(engine, settings)
        runner, port = await bot.start_http("127.0.0.1", 0)
        try:
            async with aiohttp.ClientSession() as http:
                yield Teams(bot, fake, http, f"http://127.0.0.1:{port}/api/messages")
        finally:
            await runner.cleanup()
            await bot.close()


def test_dev_mode_alone_turns_teams_on_for_the_playground() -> None:
    alone = Settings(_env_file=None, teams_dev_no_auth=True)  # type: ignore[call-arg]
    assert alone.teams_enabled
    check(alone)
    with pytest.raises(ConfigError, match="loopback"):
        check(Settings(_env_file=None, teams_dev_no_auth=True, teams_host="0.0.0.0"))  # type: ignore[call-arg]
    assert not Settings(_env_file=None).teams_enabled  # type: ignore[call-arg]


async def test_a_playground_message_is_answered_on_its_connector_without_a_token(
    anonymous: Teams, playground: Playground, fake: FakeTeams
) -> None:
    said = playground_activity(playground.service_url, "hello", "personal-chat-id")
    assert await anonymous.post(said, token=None) == 200
    assert playground.received, "no reply reached the Playground"
    assert {r.conversation for r in playground.received} == {"personal-chat-id"}
    assert {r.authorization for r in playground.received} == {None}
    assert "Hello! I help you log CPD" in str(playground.received[0].body.get("text"))
    assert fake.token_forms == []  # no token was asked for


async def test_without_credentials_nothing_goes_to_a_service_url_off_loopback(
    anonymous: Teams,
    playground: Playground,
    fake: FakeTeams,
    caplog: pytest.LogCaptureFixture,
) -> None:
    away = playground_activity("https://connector.invalid/teams/", "hello", "chat-away")
    assert await anonymous.post(away, token=None) == 200
    assert playground.received == [] and fake.token_forms == []
    assert "not sending off loopback" in caplog.text
    # The bot serves on: a message from the Playground itself is answered.
    here = playground_activity(playground.service_url, "hello", "chat-here")
    assert await anonymous.post(here, token=None) == 200
    assert {r.conversation for r in playground.received} == {"chat-here"}


async def test_without_credentials_a_scheduled_message_goes_to_loopback_only(
    playground: Playground, fake: FakeTeams
) -> None:
    refs = {
        "here": ConversationRef(
            playground.service_url, "personal-chat-id", PLAYGROUND_TENANT, PLAYGROUND_BOT, "msteams"
        ),
        "away": ConversationRef(
            "http://198.51.100.7/teams/", "chat-away", PLAYGROUND_TENANT, PLAYGROUND_BOT, "msteams"
        ),
    }

    async def lookup(identity: IdentityKey) -> ConversationRef | None:
        return refs[identity.user_id]

    settings = TeamsSettings(dev_no_auth=True, token_url=fake.token_url())
    async with open_sender(settings, lookup) as sender:
        await sender.send(IdentityKey("teams", "here", PLAYGROUND_TENANT), None, Outgoing("Hi"))
        with pytest.raises(ConnectorError, match="not a loopback service URL"):
            await sender.send(IdentityKey("teams", "away", PLAYGROUND_TENANT), None, Outgoing("Hi"))
    assert [(r.conversation, r.authorization) for r in playground.received] == [
        ("personal-chat-id", None)
    ]
    assert fake.token_forms == []

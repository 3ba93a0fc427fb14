"""Teams: the local-development mode (TEAMS_DEV_NO_AUTH), the welcome when the app is
installed, and Teams identities typed in the CLI ("teams:TENANT:AAD").

The real endpoint on 127.0.0.1 against tests/fake_teams.py, as tests/adapters/test_teams.py.
The install activity is a `conversationUpdate` whose `membersAdded` names the bot, as
Microsoft Learn shows it ("Conversation events in your Teams bot", "Members added").
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from adapters.teams import TeamsBot, TeamsSettings
from bot.core.model import IdentityKey
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

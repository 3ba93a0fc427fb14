"""The Bot Connector client (adapters/teams/sender.py) against tests/fake_teams.py on
127.0.0.1: the bot's own Bearer token, one fresh token after a 401, the status and
`Retry-After` of a refusal, no answer or a stalled answer as status 0, nothing secret
or said in an error, and the session closed when the bot stops."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
import httpx
import pytest

from adapters.teams import TeamsBot, TeamsSettings
from adapters.teams import sender as sender_module
from adapters.teams.sender import Connector, ConnectorError, connector_session
from adapters.teams.tokens import BOT_FRAMEWORK_SCOPE, ClientCredentials
from bot.services.engine import Engine
from tests.adapters import test_teams as base
from tests.conftest import Clock
from tests.fake_teams import APP_ID, APP_PASSWORD, TENANT_ID, FakeTeams

fake = base.fake

CONVERSATION = "a:1personal-chat"
SAID = {"type": "message", "text": "My secret reflection on the audit"}


@pytest.fixture
async def connector(fake: FakeTeams, clock: Clock) -> AsyncIterator[Connector]:
    async with httpx.AsyncClient(timeout=5) as http, connector_session() as session:
        credentials = ClientCredentials(
            fake.token_url(),
            APP_ID,
            APP_PASSWORD,
            BOT_FRAMEWORK_SCOPE,
            http,
            clock,
            tenant_id=TENANT_ID,
        )
        yield Connector(session, credentials)


async def test_a_reply_carries_the_bots_token_and_gives_back_the_posted_id(
    connector: Connector, fake: FakeTeams
) -> None:
    posted = await connector.post(fake.service_url, CONVERSATION, SAID)
    [sent] = fake.sent
    assert posted == sent.id != ""
    assert sent.method == "POST" and sent.conversation_id == CONVERSATION
    assert sent.body == SAID
    assert sent.authorization == f"Bearer {fake.tokens_issued[0]}"


async def test_a_card_update_replaces_the_named_activity(
    connector: Connector, fake: FakeTeams
) -> None:
    await connector.update(fake.service_url, CONVERSATION, "1:42", SAID)
    [sent] = fake.sent
    assert (sent.method, sent.activity_id, sent.body) == ("PUT", "1:42", SAID)


async def test_a_refused_token_is_renewed_once_and_the_reply_still_goes(
    connector: Connector, fake: FakeTeams
) -> None:
    fake.fail_send(CONVERSATION, 401)
    await connector.post(fake.service_url, CONVERSATION, SAID)
    first, fresh = fake.tokens_issued
    assert [r.authorization for r in fake.refused] == [f"Bearer {first}"]
    assert [s.authorization for s in fake.sent] == [f"Bearer {fresh}"]


async def test_a_second_401_is_an_error_not_a_loop(connector: Connector, fake: FakeTeams) -> None:
    fake.fail_send(CONVERSATION, 401, times=3)
    with pytest.raises(ConnectorError) as caught:
        await connector.post(fake.service_url, CONVERSATION, SAID)
    assert caught.value.status == 401
    assert len(fake.refused) == 2 and not fake.sent


async def test_a_429_gives_its_status_and_retry_after(
    connector: Connector, fake: FakeTeams
) -> None:
    fake.fail_send(CONVERSATION, 429, retry_after="7")
    with pytest.raises(ConnectorError) as caught:
        await connector.update(fake.service_url, CONVERSATION, "1:42", SAID)
    assert (caught.value.status, caught.value.retry_after) == (429, 7.0)
    fake.fail_send(CONVERSATION, 503)
    with pytest.raises(ConnectorError) as caught:
        await connector.post(fake.service_url, CONVERSATION, SAID)
    assert (caught.value.status, caught.value.retry_after) == (503, None)


def secret_free(text: str, fake: FakeTeams) -> bool:
    secrets = [APP_PASSWORD, SAID["text"], *fake.tokens_issued]
    return not any(secret in text for secret in secrets)


async def test_no_answer_is_status_0_and_names_nothing_secret(
    connector: Connector, fake: FakeTeams, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await connector.post(fake.service_url, CONVERSATION, SAID)  # a token is held
    closed = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = closed.sockets[0].getsockname()[1]
    closed.close()
    await closed.wait_closed()
    with pytest.raises(ConnectorError) as caught:
        await connector.post(f"http://127.0.0.1:{port}/teams/", CONVERSATION, SAID)
    assert caught.value.status == 0
    assert str(caught.value).startswith("POST to the connector: ")
    assert secret_free(repr(caught.value), fake) and secret_free(caplog.text, fake)


async def test_a_stalled_answer_times_out_as_status_0(
    connector: Connector, fake: FakeTeams, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up
        writer.close()

    stalled = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = stalled.sockets[0].getsockname()[1]
    short = aiohttp.ClientTimeout(sock_connect=1.0, connect=1.0, sock_read=0.2)
    monkeypatch.setattr(sender_module, "CONNECTOR_TIMEOUT", short)
    try:
        async with connector_session() as session:
            quick = Connector(session, connector.credentials)
            with pytest.raises(ConnectorError) as caught:
                await asyncio.wait_for(
                    quick.post(f"http://127.0.0.1:{port}/teams/", CONVERSATION, SAID), 5
                )
    finally:
        stalled.close()
    assert caught.value.status == 0
    assert secret_free(repr(caught.value), fake)


async def test_the_bot_closes_its_connector_session_when_it_stops(
    engine: Engine, fake: FakeTeams
) -> None:
    settings = TeamsSettings(
        app_id=APP_ID,
        app_password=APP_PASSWORD,
        tenant_id=TENANT_ID,
        openid_metadata_url=fake.openid_url,
        token_url=fake.token_url(),
    )
    bot = TeamsBot(engine, settings)
    session = bot.work.connector.session
    assert not session.closed
    await bot.close()
    assert session.closed

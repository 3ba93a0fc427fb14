"""The Teams connector calls and the environment (adapters/teams/sender.py): the proxy that
HTTP_PROXY / HTTPS_PROXY name is used (read once, not on a thread at every call), and a
~/.netrc naming the connector's host does not break the replies. Against the local fake.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from adapters.teams.sender import Connector, connector_session
from adapters.teams.tokens import BOT_FRAMEWORK_SCOPE, ClientCredentials
from tests.adapters import test_teams as base
from tests.conftest import Clock
from tests.fake_teams import APP_ID, APP_PASSWORD, TENANT_ID, FakeTeams

fake = base.fake

CONVERSATION = "a:1personal-chat"
SAID = {"type": "message", "text": "hello"}


@pytest.fixture
async def connector(fake: FakeTeams, clock: Clock) -> AsyncIterator[Connector]:
    async with httpx.AsyncClient(timeout=5, trust_env=False) as http, connector_session() as s:
        credentials = ClientCredentials(
            fake.token_url(),
            APP_ID,
            APP_PASSWORD,
            BOT_FRAMEWORK_SCOPE,
            http,
            clock,
            tenant_id=TENANT_ID,
        )
        yield Connector(s, credentials)


async def test_a_netrc_naming_the_connectors_host_does_not_break_replies(
    connector: Connector, fake: FakeTeams, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password elsewhere\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    await connector.post(fake.service_url, CONVERSATION, SAID)
    await connector.post(fake.service_url, CONVERSATION, SAID)
    assert [s.body for s in fake.sent] == [SAID, SAID]
    assert all(s.authorization == f"Bearer {fake.tokens_issued[0]}" for s in fake.sent)


async def test_replies_go_through_the_proxy_the_environment_names(
    connector: Connector, fake: FakeTeams, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fake answers as a proxy would for plain HTTP (the request names the whole URL):
    # a service URL whose host does not resolve is reached only through it.
    monkeypatch.setenv("HTTP_PROXY", fake.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    service_url = "http://connector.invalid/teams/"
    await connector.post(service_url, CONVERSATION, SAID)
    await connector.post(service_url, CONVERSATION, SAID)
    assert [s.body for s in fake.sent] == [SAID, SAID]

"""The Teams security layer against a local fake of Microsoft's side (tests/fake_teams.py).

Inbound: every request's bearer token is checked (adapters/teams/auth.py) against the keys
the fake's OpenID metadata publishes; anything wrong is refused. Outbound: the bot's own
token comes from the fake's token endpoint (adapters/teams/tokens.py). Time is a frozen
clock the tests move; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from adapters.teams.auth import KeysUnavailable, TeamsAuth, Unauthorized
from adapters.teams.tokens import BOT_FRAMEWORK_SCOPE, ClientCredentials, TokenError
from tests.fake_teams import APP_ID, APP_PASSWORD, TENANT_ID, FakeTeams, new_key

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTeams]:
    server = await FakeTeams().start()
    yield server
    await server.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


@pytest.fixture
def auth(fake: FakeTeams, http: httpx.AsyncClient, clock: Clock) -> TeamsAuth:
    return TeamsAuth(APP_ID, fake.openid_url, http, clock)


async def check(auth: TeamsAuth, fake: FakeTeams, token: str, channel: str = "msteams") -> object:
    return await auth.check(f"Bearer {token}", service_url=fake.service_url, channel_id=channel)


async def refused(auth: TeamsAuth, fake: FakeTeams, token: str, reason: str) -> None:
    with pytest.raises(Unauthorized) as caught:
        await check(auth, fake, token)
    assert reason in caught.value.reason
    assert token not in str(caught.value) and token not in caught.value.reason


# ---------------------------------------------------------------- inbound: the token check


async def test_a_token_from_the_connector_passes(auth: TeamsAuth, fake: FakeTeams) -> None:
    claims = await auth.check(
        f"Bearer {fake.sign(now=NOW)}",
        service_url=fake.service_url.rstrip("/"),  # one trailing slash either way is the same
        channel_id="msteams",
    )
    assert claims.app_id == APP_ID
    assert claims.issuer == "https://api.botframework.com"
    assert claims.raw["serviceurl"] == fake.service_url
    assert claims.expires == NOW + timedelta(seconds=3600)
    assert (fake.metadata_gets, fake.key_gets) == (1, 1)
    await check(auth, fake, fake.sign(now=NOW))
    assert (fake.metadata_gets, fake.key_gets) == (1, 1)  # cached


@pytest.mark.parametrize("header", [None, "", "   "])
async def test_no_token_is_refused(auth: TeamsAuth, fake: FakeTeams, header: str | None) -> None:
    with pytest.raises(Unauthorized, match="no Authorization"):
        await auth.check(header, service_url=fake.service_url, channel_id="msteams")
    assert fake.key_gets == 0  # nothing fetched for a request without a token


@pytest.mark.parametrize("scheme", ["Basic {}", "Token {}", "Bearer", "Bearer  ", "{}"])
async def test_a_header_that_is_not_bearer_is_refused(
    auth: TeamsAuth, fake: FakeTeams, scheme: str
) -> None:
    header = scheme.format(fake.sign(now=NOW))
    with pytest.raises(Unauthorized, match="not a Bearer"):
        await auth.check(header, service_url=fake.service_url, channel_id="msteams")


async def test_a_token_signed_by_another_key_under_a_published_kid_is_refused(
    auth: TeamsAuth, fake: FakeTeams
) -> None:
    impostor = new_key("key-1")  # same kid as the published key, different key
    await refused(auth, fake, fake.sign(key=impostor, now=NOW), "bad signature")


async def test_a_token_signed_by_an_unknown_key_is_refused(
    auth: TeamsAuth, fake: FakeTeams
) -> None:
    await refused(auth, fake, fake.sign(key=new_key("mallory"), now=NOW), "unknown signing key")


async def test_wrong_audience_is_refused(auth: TeamsAuth, fake: FakeTeams) -> None:
    await refused(auth, fake, fake.sign(now=NOW, aud="another-bots-app-id"), "wrong audience")
    await refused(auth, fake, fake.sign(now=NOW, drop=("aud",)), "'aud'")


async def test_wrong_issuer_is_refused(auth: TeamsAuth, fake: FakeTeams) -> None:
    forged = fake.sign(now=NOW, iss="https://sts.windows.net/attacker/")
    await refused(auth, fake, forged, "wrong issuer")
    await refused(auth, fake, fake.sign(now=NOW, drop=("iss",)), "'iss'")


async def test_expired_beyond_the_leeway_is_refused_within_it_passes(
    auth: TeamsAuth, fake: FakeTeams, clock: Clock
) -> None:
    token = fake.sign(now=NOW, lifetime=600)
    clock.advance(600 + 299)
    await check(auth, fake, token)
    clock.advance(2)
    await refused(auth, fake, token, "expired")
    await refused(auth, fake, fake.sign(now=NOW, drop=("exp",)), "'exp'")


async def test_not_yet_valid_is_refused(auth: TeamsAuth, fake: FakeTeams) -> None:
    at = NOW.timestamp()
    await check(auth, fake, fake.sign(now=NOW, nbf=int(at) + 299))
    await refused(auth, fake, fake.sign(now=NOW, nbf=int(at) + 301), "not yet valid")
    await check(auth, fake, fake.sign(now=NOW, drop=("nbf",)))  # nbf is optional


async def test_symmetric_and_unsigned_tokens_are_refused(auth: TeamsAuth, fake: FakeTeams) -> None:
    await check(auth, fake, fake.sign(now=NOW))  # keys are cached
    public_pem = (
        fake.keys[0]
        .private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    hs256 = fake.sign(now=NOW, algorithm="HS256", secret=public_pem)
    await refused(auth, fake, hs256, "'HS256' not allowed")
    await refused(auth, fake, fake.sign(now=NOW, algorithm="none"), "'none' not allowed")
    await refused(auth, fake, fake.sign(now=NOW, algorithm="RS512"), "'RS512' not allowed")
    await refused(auth, fake, "not.a.token", "malformed")


async def test_a_key_not_endorsed_for_teams_is_refused(auth: TeamsAuth, fake: FakeTeams) -> None:
    fake.keys[0].endorsements = ["skype", "webchat"]
    await refused(auth, fake, fake.sign(now=NOW), "not endorsed")


async def test_an_activity_from_another_channel_is_refused(
    auth: TeamsAuth, fake: FakeTeams
) -> None:
    with pytest.raises(Unauthorized, match="not endorsed"):
        await check(auth, fake, fake.sign(now=NOW), channel="webchat")


async def test_a_service_url_mismatch_is_refused(auth: TeamsAuth, fake: FakeTeams) -> None:
    elsewhere = fake.sign(now=NOW, serviceurl="https://smba.trafficmanager.net/emea/")
    await refused(auth, fake, elsewhere, "serviceurl")
    await refused(auth, fake, fake.sign(now=NOW, drop=("serviceurl",)), "serviceurl")
    longer = fake.sign(now=NOW, serviceurl=fake.service_url + "evil/")
    await refused(auth, fake, longer, "serviceurl")


async def test_a_new_key_published_later_is_fetched_once(
    auth: TeamsAuth, fake: FakeTeams, clock: Clock
) -> None:
    await check(auth, fake, fake.sign(now=NOW))
    rotated = new_key("key-2")
    fake.publish(rotated)
    clock.advance(5)
    for _ in range(3):
        await check(auth, fake, fake.sign(key=rotated, now=NOW))
    assert fake.key_gets == 2


async def test_a_flood_of_unknown_kids_reads_the_keys_at_most_once_a_minute(
    auth: TeamsAuth, fake: FakeTeams, clock: Clock
) -> None:
    await check(auth, fake, fake.sign(now=NOW))
    tokens = [fake.sign(key=new_key("k"), kid=f"forged-{i}", now=NOW) for i in range(3)]
    for _ in range(20):
        for token in tokens:
            with pytest.raises(Unauthorized, match="unknown signing key"):
                await check(auth, fake, token)
    assert fake.key_gets == 2
    clock.advance(59)
    with pytest.raises(Unauthorized):
        await check(auth, fake, tokens[0])
    assert fake.key_gets == 2
    clock.advance(1)
    with pytest.raises(Unauthorized):
        await asyncio.gather(*(check(auth, fake, t) for t in tokens))
    assert fake.key_gets == 3
    await check(auth, fake, fake.sign(now=NOW))  # real tokens still pass


async def test_the_metadata_is_read_again_after_a_day(
    auth: TeamsAuth, fake: FakeTeams, clock: Clock
) -> None:
    await check(auth, fake, fake.sign(now=NOW))
    clock.advance(24 * 3600 - 1)
    await check(auth, fake, fake.sign(now=clock.now))
    assert fake.metadata_gets == 1
    clock.advance(1)
    await check(auth, fake, fake.sign(now=clock.now))
    assert (fake.metadata_gets, fake.key_gets) == (2, 2)


async def test_keys_are_kept_when_microsoft_cannot_be_reached(
    auth: TeamsAuth, fake: FakeTeams, clock: Clock
) -> None:
    fake.metadata_status = 500
    with pytest.raises(KeysUnavailable):
        await check(auth, fake, fake.sign(now=NOW))
    with pytest.raises(KeysUnavailable):
        await check(auth, fake, fake.sign(now=NOW))
    assert fake.metadata_gets == 1  # not retried within the minute
    clock.advance(60)
    fake.metadata_status = 200
    await check(auth, fake, fake.sign(now=clock.now))
    clock.advance(25 * 3600)
    fake.metadata_status = 500
    await check(auth, fake, fake.sign(now=clock.now))  # the keys read before still serve
    assert fake.metadata_gets == 3


# ---------------------------------------------------------------- outbound: the bot's token


@pytest.fixture
def provider(fake: FakeTeams, http: httpx.AsyncClient, clock: Clock) -> ClientCredentials:
    return ClientCredentials(
        fake.token_url(),
        APP_ID,
        APP_PASSWORD,
        BOT_FRAMEWORK_SCOPE,
        http,
        clock,
        tenant_id=TENANT_ID,
    )


async def get(provider: ClientCredentials, force: bool = False) -> str:
    return await provider.get_access_token(
        "https://api.botframework.com", [BOT_FRAMEWORK_SCOPE], force_refresh=force
    )


async def test_the_token_is_asked_for_once_and_cached(
    provider: ClientCredentials, fake: FakeTeams
) -> None:
    first = await get(provider)
    assert first == "fake-access-token-1"
    assert await get(provider) == first
    assert await provider.get_access_token("https://smba.trafficmanager.net/", []) == first
    assert fake.token_forms == [
        {
            "grant_type": "client_credentials",
            "client_id": APP_ID,
            "client_secret": APP_PASSWORD,
            "scope": BOT_FRAMEWORK_SCOPE,
        }
    ]


async def test_the_token_is_renewed_five_minutes_before_it_expires(
    provider: ClientCredentials, fake: FakeTeams, clock: Clock
) -> None:
    first = await get(provider)
    clock.advance(3599 - 301)
    assert await get(provider) == first
    clock.advance(2)
    second = await get(provider)
    assert second != first
    assert len(fake.token_forms) == 2
    assert await get(provider, force=True) != second  # the SDK may insist
    assert len(fake.token_forms) == 3


async def test_callers_at_the_same_time_share_one_request(
    provider: ClientCredentials, fake: FakeTeams
) -> None:
    gate = fake.hold_token()
    callers = [asyncio.create_task(get(provider)) for _ in range(10)]
    await asyncio.wait_for(fake.token_requested.wait(), 5)
    gate.set()
    tokens = await asyncio.gather(*callers)
    assert set(tokens) == {"fake-access-token-1"}
    assert len(fake.token_forms) == 1


async def test_a_refused_token_request_says_why_without_the_secret(
    fake: FakeTeams, http: httpx.AsyncClient, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = ClientCredentials(
        fake.token_url(), APP_ID, "wrong-password-123", BOT_FRAMEWORK_SCOPE, http, clock
    )
    with pytest.raises(TokenError) as caught:
        await get(wrong)
    message = str(caught.value)
    assert "HTTP 401" in message and "invalid_client" in message and "AADSTS7000215" in message
    assert "wrong-password-123" not in message and "wrong-password-123" not in repr(wrong)
    assert "wrong-password-123" not in caplog.text


async def test_a_failing_token_endpoint_raises_and_the_next_call_retries(
    provider: ClientCredentials, fake: FakeTeams, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.fail_token(503, {"error": "temporarily_unavailable", "error_description": APP_PASSWORD})
    with pytest.raises(TokenError, match="HTTP 503") as caught:
        await get(provider)
    assert APP_PASSWORD not in str(caught.value)
    token = await get(provider)
    assert token == "fake-access-token-1"
    assert APP_PASSWORD not in caplog.text and token not in caplog.text


async def test_an_unreachable_token_endpoint_raises_without_the_secret(
    http: httpx.AsyncClient, clock: Clock
) -> None:
    nowhere = ClientCredentials(
        "http://127.0.0.1:9/t/oauth2/v2.0/token",
        APP_ID,
        APP_PASSWORD,
        BOT_FRAMEWORK_SCOPE,
        http,
        clock,
    )
    with pytest.raises(TokenError, match="ConnectError") as caught:
        await get(nowhere)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert APP_PASSWORD not in str(caught.value)


async def test_a_token_for_another_scope_is_refused(provider: ClientCredentials) -> None:
    with pytest.raises(TokenError, match="set up only for"):
        await provider.get_access_token("x", ["api://other-app/.default"])


async def test_the_provider_has_the_sdks_token_provider_shape(
    provider: ClientCredentials, fake: FakeTeams
) -> None:
    from azure.core.credentials import AccessToken
    from microsoft_agents.hosting.core import AgentAuthConfiguration
    from microsoft_agents.hosting.core.authorization.access_token_provider_base import (
        AccessTokenProviderBase,
    )

    wanted = [n for n, v in vars(AccessTokenProviderBase).items() if not n.startswith("_")]
    for name in wanted:
        ours = getattr(type(provider), name)
        theirs = getattr(AccessTokenProviderBase, name)
        if isinstance(theirs, property):
            assert isinstance(ours, property), name
        else:
            assert inspect.iscoroutinefunction(ours) == inspect.iscoroutinefunction(theirs), name
            assert list(inspect.signature(ours).parameters) == list(
                inspect.signature(theirs).parameters
            ), name
    config = provider.configuration
    assert isinstance(config, AgentAuthConfiguration)
    assert (config.CLIENT_ID, config.TENANT_ID, config.CLIENT_SECRET) == (APP_ID, TENANT_ID, None)
    credential = provider.get_token_credential()
    access = await credential.get_token(BOT_FRAMEWORK_SCOPE)
    assert isinstance(access, AccessToken)
    assert access.token == "fake-access-token-1"
    assert access.expires_on == int((NOW + timedelta(seconds=3599)).timestamp())


def test_importing_the_security_layer_loads_no_microsoft_library() -> None:
    probe = (
        "import sys, adapters.teams, adapters.teams.auth, adapters.teams.tokens\n"
        "print(sorted(m for m in sys.modules if m.startswith(('microsoft_agents', 'azure'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"

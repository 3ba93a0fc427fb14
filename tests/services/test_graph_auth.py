"""Signing in to Outlook by device code, and refreshing, against a fake identity platform."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from bot.core.calendar_rules import CredentialRejected, FeedBusy, FeedError
from bot.services.calendar.graph_auth import (
    DeviceCode,
    MicrosoftEndpoints,
    Pending,
    SignInEnded,
    Tokens,
    poll_device_code,
    refresh,
    start_device_code,
)
from tests.conftest import NOW
from tests.fake_microsoft import ACCOUNT, CLIENT_ID, VERIFICATION_URI, FakeMicrosoft


@pytest.fixture
async def ms() -> AsyncIterator[FakeMicrosoft]:
    fake = await FakeMicrosoft().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as http:
        yield http


def endpoints(ms: FakeMicrosoft, client_id: str = CLIENT_ID) -> MicrosoftEndpoints:
    return MicrosoftEndpoints(client_id=client_id, login_url=ms.url, graph_url=ms.url)


async def started(ms: FakeMicrosoft, client: httpx.AsyncClient) -> DeviceCode:
    return await start_device_code(client, endpoints(ms), NOW)


async def test_sign_in_shows_code_waits_then_gives_tokens_naming_the_member(
    ms: FakeMicrosoft, client: httpx.AsyncClient
) -> None:
    code = await started(ms, client)
    assert code.verification_uri == VERIFICATION_URI
    assert code.user_code in code.message and VERIFICATION_URI in code.message
    assert code.expires_at == NOW + timedelta(seconds=900)
    assert code.interval == 5
    # Form-encoded, our public client, read-only calendars plus a refresh token.
    assert ms.token_content_types == ["application/x-www-form-urlencoded"]
    form = ms.token_forms[0]
    assert form["client_id"] == CLIENT_ID
    assert form["scope"] == f"{ms.url}/Calendars.Read offline_access"

    ep = endpoints(ms)
    assert await poll_device_code(client, ep, code.device_code, 5, NOW) == Pending(5)
    ms.approve(code.user_code)
    tokens = await poll_device_code(client, ep, code.device_code, 5, NOW)
    assert isinstance(tokens, Tokens)
    assert tokens.account == ACCOUNT
    assert tokens.expires_at == NOW + timedelta(seconds=3599)
    assert tokens.access_token in ms.access_tokens
    assert tokens.refresh_token in ms.refresh_tokens
    poll = ms.token_forms[-1]
    assert poll["grant_type"] == "urn:ietf:params:oauth:grant-type:device_code"
    assert poll["device_code"] == code.device_code
    # Neither token nor the device code shows in a repr (logs, tracebacks).
    assert tokens.access_token not in repr(tokens) and tokens.refresh_token not in repr(tokens)
    assert code.device_code not in repr(code)


async def test_slow_down_asks_for_five_more_seconds(
    ms: FakeMicrosoft, client: httpx.AsyncClient
) -> None:
    code = await started(ms, client)
    ms.slow_down(code.user_code)
    assert await poll_device_code(client, endpoints(ms), code.device_code, 5, NOW) == Pending(10)


@pytest.mark.parametrize(
    ("act", "reason"),
    [("decline", "declined"), ("expire", "expired")],
)
async def test_a_declined_or_expired_sign_in_ends_and_says_which(
    ms: FakeMicrosoft, client: httpx.AsyncClient, act: str, reason: str
) -> None:
    code = await started(ms, client)
    getattr(ms, act)(code.user_code)
    ended = await poll_device_code(client, endpoints(ms), code.device_code, 5, NOW)
    assert ended == SignInEnded(reason)  # type: ignore[arg-type]


async def test_an_unknown_or_used_device_code_fails(
    ms: FakeMicrosoft, client: httpx.AsyncClient
) -> None:
    ep = endpoints(ms)
    assert await poll_device_code(client, ep, "not-a-code", 5, NOW) == SignInEnded("failed")
    code = await started(ms, client)
    ms.approve(code.user_code)
    assert isinstance(await poll_device_code(client, ep, code.device_code, 5, NOW), Tokens)
    assert await poll_device_code(client, ep, code.device_code, 5, NOW) == SignInEnded("failed")


async def test_an_unknown_app_cannot_start_a_sign_in(
    ms: FakeMicrosoft, client: httpx.AsyncClient
) -> None:
    with pytest.raises(FeedError) as raised:
        await start_device_code(client, endpoints(ms, "00000000-0000-0000-0000-000000000000"), NOW)
    assert "unauthorized_client" in str(raised.value)
    assert "AADSTS" not in str(raised.value)  # no trace ids for the member


async def test_refresh_rotates_the_refresh_token_and_the_new_one_works(
    ms: FakeMicrosoft, client: httpx.AsyncClient
) -> None:
    _, first = ms.issue()
    later = NOW + timedelta(hours=2)
    tokens = await refresh(client, endpoints(ms), first, later)
    assert ms.token_forms[-1]["grant_type"] == "refresh_token"
    assert ms.token_forms[-1]["refresh_token"] == first
    assert tokens.refresh_token != first and tokens.refresh_token in ms.refresh_tokens
    assert tokens.access_token in ms.access_tokens
    assert tokens.expires_at == later + timedelta(seconds=3599)
    assert tokens.account == ACCOUNT
    again = await refresh(client, endpoints(ms), tokens.refresh_token, later)
    assert again.refresh_token not in (first, tokens.refresh_token)


async def test_refresh_without_a_new_refresh_token_keeps_the_old_one(
    ms: FakeMicrosoft, client: httpx.AsyncClient
) -> None:
    _, first = ms.issue()
    ms.rotate = False
    tokens = await refresh(client, endpoints(ms), first, NOW)
    assert tokens.refresh_token == first
    assert tokens.access_token in ms.access_tokens


@pytest.mark.parametrize("how", ["revoked", "unknown", "mfa"])
async def test_a_refresh_token_that_stopped_working_asks_the_member_to_sign_in_again(
    ms: FakeMicrosoft, client: httpx.AsyncClient, how: str
) -> None:
    _, token = ms.issue()
    if how == "revoked":
        ms.revoke()
    elif how == "unknown":
        token = "1.AXkA-never-issued"
    else:
        ms.require_interaction = True
    with pytest.raises(CredentialRejected) as raised:
        await refresh(client, endpoints(ms), token, NOW)
    assert "/calendar outlook" in str(raised.value)
    assert token not in str(raised.value)


@pytest.mark.parametrize(("status", "header", "wait"), [(429, "7", 7.0), (503, None, None)])
async def test_a_busy_identity_platform_is_retried_later(
    ms: FakeMicrosoft, client: httpx.AsyncClient, status: int, header: str | None, wait: float
) -> None:
    _, token = ms.issue()
    ms.fail_identity(status, retry_after=header)
    with pytest.raises(FeedBusy) as raised:
        await refresh(client, endpoints(ms), token, NOW)
    assert raised.value.retry_after == wait
    assert token in ms.refresh_tokens  # nothing lost: the same token works next time
    assert (await refresh(client, endpoints(ms), token, NOW)).access_token in ms.access_tokens


async def test_an_unreachable_identity_platform_is_busy_not_a_lost_sign_in(
    client: httpx.AsyncClient,
) -> None:
    fake = await FakeMicrosoft().start()
    ep = endpoints(fake)
    await fake.stop()
    with pytest.raises(FeedBusy):
        await refresh(client, ep, "1.AXkA-anything", NOW)

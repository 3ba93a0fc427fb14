"""A Teams token verified once is not verified again (adapters/teams/auth.py), while every
request is still checked: the key still published and endorsing the channel, the times,
the service URL. Against the local fake of Microsoft's side; the clock is frozen.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from adapters.teams import auth as auth_module
from adapters.teams.auth import TeamsAuth, Unauthorized
from tests.fake_teams import APP_ID, FakeTeams, new_key

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def fake() -> AsyncIterator[FakeTeams]:
    server = await FakeTeams().start()
    yield server
    await server.stop()


@pytest.fixture
async def auth(fake: FakeTeams) -> AsyncIterator[tuple[TeamsAuth, Clock]]:
    clock = Clock()
    async with httpx.AsyncClient(timeout=5) as http:
        yield TeamsAuth(APP_ID, fake.openid_url, http, clock), clock


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each RS256 verification PyJWT makes (the real one runs)."""
    made: list[str] = []
    real = jwt.decode

    def counted(token: str, *args: Any, **kwargs: Any) -> Any:
        made.append(token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(auth_module.jwt, "decode", counted)
    return made


async def check(auth: TeamsAuth, token: str, service_url: str, channel: str = "msteams") -> Any:
    return await auth.check(f"Bearer {token}", service_url=service_url, channel_id=channel)


async def test_a_token_sent_with_many_activities_is_verified_once(
    fake: FakeTeams, auth: tuple[TeamsAuth, Clock], verifications: list[str]
) -> None:
    checker, _ = auth
    token = fake.sign(now=NOW)
    for _ in range(5):
        claims = await check(checker, token, fake.service_url)
        assert claims.app_id == APP_ID
    assert len(verifications) == 1
    other = fake.sign(now=NOW, jti="another")
    await check(checker, other, fake.service_url)
    assert len(verifications) == 2  # another token: verified in its turn


async def test_a_verified_token_still_must_name_the_activitys_service_url(
    fake: FakeTeams, auth: tuple[TeamsAuth, Clock]
) -> None:
    checker, _ = auth
    token = fake.sign(now=NOW)
    await check(checker, token, fake.service_url)
    with pytest.raises(Unauthorized, match="serviceurl"):
        await check(checker, token, "https://attacker.example/teams/")
    await check(checker, token, fake.service_url)  # and its own still passes


async def test_a_verified_token_still_must_come_on_an_endorsed_channel(
    fake: FakeTeams, auth: tuple[TeamsAuth, Clock]
) -> None:
    checker, _ = auth
    token = fake.sign(now=NOW)
    await check(checker, token, fake.service_url)
    with pytest.raises(Unauthorized, match="not endorsed"):
        await check(checker, token, fake.service_url, channel="webchat")


async def test_a_verified_token_is_refused_once_it_has_expired(
    fake: FakeTeams, auth: tuple[TeamsAuth, Clock]
) -> None:
    checker, clock = auth
    token = fake.sign(now=NOW, lifetime=3600)
    await check(checker, token, fake.service_url)
    clock.now = NOW + timedelta(hours=1, minutes=4)  # within the five minutes' leeway
    await check(checker, token, fake.service_url)
    clock.now = NOW + timedelta(hours=1, minutes=6)
    with pytest.raises(Unauthorized, match="expired"):
        await check(checker, token, fake.service_url)


async def test_a_verified_token_is_refused_once_its_key_is_withdrawn(
    fake: FakeTeams, auth: tuple[TeamsAuth, Clock], verifications: list[str]
) -> None:
    checker, clock = auth
    token = fake.sign(now=NOW, lifetime=3 * 86_400)
    await check(checker, token, fake.service_url)
    fake.keys = [new_key("key-2")]  # key-1 rotated out; read again after a day
    clock.now = NOW + timedelta(days=1, minutes=1)
    with pytest.raises(Unauthorized, match="unknown signing key"):
        await check(checker, token, fake.service_url)


async def test_a_key_read_again_verifies_a_held_token_afresh(
    fake: FakeTeams, auth: tuple[TeamsAuth, Clock], verifications: list[str]
) -> None:
    checker, clock = auth
    token = fake.sign(now=NOW, lifetime=3 * 86_400)
    await check(checker, token, fake.service_url)
    clock.now = NOW + timedelta(days=1, minutes=1)  # the same keys, read again
    await check(checker, token, fake.service_url)
    await check(checker, token, fake.service_url)
    assert len(verifications) == 2


async def test_held_tokens_are_bounded(
    fake: FakeTeams,
    auth: tuple[TeamsAuth, Clock],
    monkeypatch: pytest.MonkeyPatch,
    verifications: list[str],
) -> None:
    monkeypatch.setattr(auth_module, "VERIFIED_MAX", 3)
    checker, _ = auth
    tokens = [fake.sign(now=NOW, jti=f"t{n}") for n in range(5)]
    for token in tokens:
        await check(checker, token, fake.service_url)
    await check(checker, tokens[-1], fake.service_url)  # still held
    assert len(verifications) == 5
    await check(checker, tokens[0], fake.service_url)  # the oldest went: verified again
    assert len(verifications) == 6

"""Teams with a certificate instead of a password (TEAMS_APP_CERTIFICATE).

The real endpoint and sender against tests/fake_teams.py, whose token endpoint checks a
client assertion as Entra does (Microsoft identity platform, "certificate credentials":
signature by a certificate registered on the app, named by its thumbprint, aud = the
token URL, iss = sub = the app id, within its time range, jti used once) and answers
401 `invalid_client` otherwise. Certificates are made here, self-signed, around the
frozen `NOW`; the settings errors go through `cpdbot.app.check`, as `cpdbot run` does.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from adapters.teams import TeamsBot, TeamsSettings
from adapters.teams.proactive import open_sender
from adapters.teams.server import TeamsConfigError, check_settings
from adapters.teams.tokens import BOT_FRAMEWORK_SCOPE, ClientCredentials, load_certificate
from bot.core.model import Outgoing
from bot.services.engine import Engine
from cpdbot.app import check
from cpdbot.config import ConfigError, Settings
from cpdbot.delivery import teams_lookup
from cpdbot.platform_settings import teams_settings
from tests.adapters.test_teams import Person, Teams, shown
from tests.conftest import NOW, Clock
from tests.fake_teams import APP_ID, APP_PASSWORD, JWT_BEARER, TENANT_ID, FakeTeams

Key = rsa.RSAPrivateKey


def new_certificate(
    key: Any = None, *, start: datetime = NOW - timedelta(days=30), days: int = 365 * 3
) -> tuple[Any, x509.Certificate]:
    """A self-signed certificate (as `New-SelfSignedCertificate` or openssl would make)."""
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cpdbot-teams")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def key_pem(key: Any, password: bytes | None = None) -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def cert_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def write(path: Path, *parts: bytes) -> str:
    path.write_bytes(b"".join(parts))
    return str(path)


@pytest.fixture
def registered(tmp_path: Path) -> tuple[str, x509.Certificate]:
    """The PEM file the bot reads (key and certificate) and the certificate on the app."""
    key, certificate = new_certificate()
    return write(tmp_path / "bot.pem", key_pem(key), cert_pem(certificate)), certificate


@pytest.fixture
async def fake(registered: tuple[str, x509.Certificate]) -> AsyncIterator[FakeTeams]:
    server = await FakeTeams().start()
    server.certificates.append(registered[1])
    server.clock = NOW.timestamp  # Entra's clock agrees with the bot's
    yield server
    await server.stop()


def settings_for(fake: FakeTeams, certificate: str) -> TeamsSettings:
    return TeamsSettings(
        app_id=APP_ID,
        app_certificate=certificate,
        tenant_id=TENANT_ID,
        openid_metadata_url=fake.openid_url,
        token_url=fake.token_url(),
    )


@pytest.fixture
async def teams(
    engine: Engine, fake: FakeTeams, registered: tuple[str, x509.Certificate]
) -> AsyncIterator[Teams]:
    bot = TeamsBot(engine, settings_for(fake, registered[0]))
    runner, port = await bot.start_http("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as http:
            yield Teams(bot, fake, http, f"http://127.0.0.1:{port}/api/messages")
    finally:
        await runner.cleanup()
        await bot.close()


# ---------------------------------------------------------------- the bot signs in


async def test_a_members_message_gets_a_reply_when_the_bot_uses_a_certificate(
    teams: Teams, fake: FakeTeams, registered: tuple[str, x509.Certificate]
) -> None:
    ada = Person(teams, "ada")
    replies = await ada.say("hello")
    assert replies and "Hello! I help you log CPD" in replies[0]
    [form] = fake.token_forms
    assert "client_secret" not in form
    assert form["client_assertion_type"] == JWT_BEARER
    header = jwt.get_unverified_header(form["client_assertion"])
    assert header["alg"] == "PS256"
    assert header["x5t#S256"] == load_certificate(registered[0]).x5t_s256
    claims = jwt.decode(form["client_assertion"], options={"verify_signature": False})
    assert claims["aud"] == fake.token_url()
    assert claims["iss"] == claims["sub"] == APP_ID
    assert claims["nbf"] == claims["iat"] == int(NOW.timestamp())
    assert 0 < claims["exp"] - claims["nbf"] <= 600
    assert {s.authorization for s in teams.posts(ada.conversation)} == {
        f"Bearer {fake.tokens_issued[0]}"
    }


async def test_a_proactive_send_works_with_a_certificate(
    teams: Teams, fake: FakeTeams, engine: Engine, registered: tuple[str, x509.Certificate]
) -> None:
    ada = Person(teams, "ada")
    await ada.onboard()  # her personal chat's reference is held
    before = len(teams.posts(ada.conversation))
    settings = settings_for(fake, registered[0])
    async with open_sender(settings, teams_lookup(engine.db), clock=Clock()) as sender:
        await sender.send(ada.key, None, Outgoing("Your CPD summary for November"))
    [nudge] = teams.posts(ada.conversation)[before:]
    assert shown(nudge) == "Your CPD summary for November"
    assert nudge.authorization == f"Bearer {fake.tokens_issued[-1]}"
    assert "client_assertion" in fake.token_forms[-1]


async def test_each_token_request_carries_a_fresh_assertion(
    fake: FakeTeams, registered: tuple[str, x509.Certificate]
) -> None:
    clock = Clock()
    fake.clock = lambda: clock.now.timestamp()
    async with httpx.AsyncClient() as http:
        provider = ClientCredentials(
            fake.token_url(),
            APP_ID,
            load_certificate(registered[0]),
            BOT_FRAMEWORK_SCOPE,
            http,
            clock,
            tenant_id=TENANT_ID,
        )
        first = await provider.get_access_token("", [])
        second = await provider.get_access_token("", [], force_refresh=True)
        clock.now += timedelta(hours=2)  # the token and any old assertion have expired
        third = await provider.get_access_token("", [])
    assert len({first, second, third}) == 3  # the fake refuses a jti seen before
    assert len(fake.assertion_ids) == 3


# ---------------------------------------------------------------- a wrong certificate


async def test_a_wrong_certificate_fails_the_reply_logs_no_secret_and_the_bot_serves_on(
    teams: Teams,
    fake: FakeTeams,
    registered: tuple[str, x509.Certificate],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.certificates = [new_certificate()[1]]  # the app registration holds another one
    ada = Person(teams, "ada")
    with caplog.at_level(logging.INFO):
        assert await ada.say("hello") == []
    assert "AADSTS700027" in caplog.text and "invalid_client" in caplog.text
    [form] = fake.token_forms
    secret = key_pem(load_certificate(registered[0]).key).decode()
    assert form["client_assertion"] not in caplog.text
    assert "PRIVATE KEY" not in caplog.text and secret[40:120] not in caplog.text
    # The admin uploads the right certificate: the next message is answered.
    fake.certificates.append(registered[1])
    replies = await Person(teams, "bea").say("hello")
    assert replies and "Hello! I help you log CPD" in replies[0]


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"aud": "https://login.microsoftonline.com/other/oauth2/v2.0/token"}, "AADSTS700027"),
        ({"iss": "someone-else"}, "AADSTS700027"),
        ({"sub": "someone-else"}, "AADSTS700021"),
        ({"exp": int(NOW.timestamp()) - 1}, "AADSTS700024"),
        ({"nbf": int(NOW.timestamp()) + 60}, "AADSTS700024"),
        ({"jti": "used"}, "AADSTS700025"),
        ({"key": "another"}, "AADSTS700027"),
        ({"x5t#S256": "bm90LXJlZ2lzdGVyZWQ"}, "AADSTS700027"),
    ],
)
async def test_the_fake_token_endpoint_refuses_what_entra_refuses(
    fake: FakeTeams, registered: tuple[str, x509.Certificate], change: dict[str, Any], said: str
) -> None:
    """The fake is as strict as Entra, so the tests above prove the bot's assertion."""
    mine = load_certificate(registered[0])
    claims = jwt.decode(
        mine.assertion(fake.token_url(), APP_ID, NOW), options={"verify_signature": False}
    )
    header = {"typ": "JWT", "x5t#S256": change.pop("x5t#S256", mine.x5t_s256)}
    key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if change.pop("key", None)
        else mine.key
    )
    fake.assertion_ids.add("used")
    claims.update(change)
    form = {
        "grant_type": "client_credentials",
        "client_id": APP_ID,
        "client_assertion_type": JWT_BEARER,
        "client_assertion": jwt.encode(claims, key, algorithm="PS256", headers=header),
        "scope": BOT_FRAMEWORK_SCOPE,
    }
    async with httpx.AsyncClient() as http:
        answer = await http.post(fake.token_url(), data=form)
        assert answer.status_code == 401
        assert answer.json()["error"] == "invalid_client"
        assert said in answer.json()["error_description"]
        form["client_assertion"] = mine.assertion(fake.token_url(), APP_ID, NOW)
        assert (await http.post(fake.token_url(), data=form)).status_code == 200


# ---------------------------------------------------------------- settings, at start


def settings(**extra: Any) -> Settings:
    return Settings(_env_file=None, teams_app_id=APP_ID, **extra)  # type: ignore[call-arg]


def test_a_certificate_alone_turns_teams_on(registered: tuple[str, x509.Certificate]) -> None:
    mine = settings(teams_app_certificate=registered[0])
    assert mine.teams_enabled
    check(mine)
    assert teams_settings(mine).app_certificate == registered[0]
    assert "PRIVATE" not in repr(load_certificate(registered[0]))


def test_the_key_may_be_in_its_own_file(tmp_path: Path) -> None:
    key, certificate = new_certificate()
    cert = write(tmp_path / "cert.pem", cert_pem(certificate))
    check(
        settings(
            teams_app_certificate=cert,
            teams_app_certificate_key=write(tmp_path / "key.pem", key_pem(key)),
        )
    )
    with pytest.raises(ConfigError, match=r"cert\.pem holds no PEM private key"):
        check(settings(teams_app_certificate=cert))


def bad_settings(tmp_path: Path, case: str) -> Settings:
    key, certificate = new_certificate()
    pem = tmp_path / "bot.pem"
    if case == "both":
        return settings(
            teams_app_password=APP_PASSWORD,
            teams_app_certificate=write(pem, key_pem(key), cert_pem(certificate)),
        )
    files = {
        "missing": None,
        "key only": [key_pem(key)],
        "not the key": [key_pem(new_certificate()[0]), cert_pem(certificate)],
        "encrypted": [key_pem(key, b"pass"), cert_pem(certificate)],
        "not RSA": [key_pem(ec.generate_private_key(ec.SECP256R1())), cert_pem(certificate)],
        "no app id": [key_pem(key), cert_pem(certificate)],
    }
    parts = files[case]
    path = write(pem, *parts) if parts is not None else str(tmp_path / "absent.pem")
    extra: dict[str, Any] = {"teams_app_certificate": path}
    if case == "no app id":
        return Settings(_env_file=None, **extra)  # type: ignore[call-arg]
    return settings(**extra)


@pytest.mark.parametrize(
    ("case", "said"),
    [
        ("both", "TEAMS_APP_PASSWORD and TEAMS_APP_CERTIFICATE are both set"),
        ("missing", r"TEAMS_APP_CERTIFICATE: cannot read .*absent\.pem"),
        ("key only", r"holds no PEM certificate"),
        ("not the key", "the private key does not belong to the certificate"),
        ("encrypted", "is encrypted"),
        ("not RSA", "is not an RSA key"),
        ("no app id", "TEAMS_APP_ID is required"),
    ],
)
def test_settings_that_cannot_work_stop_the_start_in_one_line(
    tmp_path: Path, case: str, said: str
) -> None:
    with pytest.raises(ConfigError, match=said) as refused:
        check(bad_settings(tmp_path, case))
    assert "\n" not in str(refused.value)
    assert "MII" not in str(refused.value)  # no PEM body (a DER key or certificate)


async def test_an_expired_certificate_is_refused_and_one_about_to_expire_warned_of(
    tmp_path: Path, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    key, _ = new_certificate()
    old = new_certificate(key, start=NOW - timedelta(days=400), days=365)[1]
    expired = TeamsSettings(
        app_id=APP_ID, app_certificate=write(tmp_path / "old.pem", key_pem(key), cert_pem(old))
    )
    with pytest.raises(TeamsConfigError, match=r"expired on 2026-10-\d\d .*upload a new one"):
        TeamsBot(engine, expired)
    with pytest.raises(ValueError, match="expired"):
        async with open_sender(expired, teams_lookup(engine.db), clock=Clock()):
            pass
    soon = new_certificate(key, start=NOW - timedelta(days=355), days=365)[1]
    path = write(tmp_path / "soon.pem", key_pem(key), cert_pem(soon))
    with caplog.at_level(logging.WARNING):
        check_settings(TeamsSettings(app_id=APP_ID, app_certificate=path), NOW)
    assert f"expires on {NOW + timedelta(days=10):%Y-%m-%d}" in caplog.text

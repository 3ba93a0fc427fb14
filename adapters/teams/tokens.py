"""The bot's own access token for what it sends to Teams (OAuth 2.0 client credentials).

`ClientCredentials` posts the app id and either the password (TEAMS_APP_PASSWORD) or a
client assertion signed with the app's certificate (TEAMS_APP_CERTIFICATE, see
`Certificate`) to `TEAMS_TOKEN_URL`
(`https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token` by default) and keeps
the token until five minutes before it expires; callers who ask at the same time share
one request. It has the shape of the Agents SDK's `AccessTokenProviderBase` (hosting-core
1.9), so the adapter can hand it to the SDK's `CloudAdapter` through a `Connections`
object: the SDK's own MSAL provider refuses a token URL that is not https, which rules
out the local fake the tests use. The SDK is imported only where one of its types must be
returned, so importing this module loads no Microsoft library. Neither the secret nor a
token is ever logged or put in an error, nor is the private key or an assertion.

The assertion follows Microsoft's "certificate credentials" page (Microsoft identity
platform, learn.microsoft.com/entra/identity-platform/certificate-credentials): a JWT
signed PS256 by the certificate's private key, its header naming the certificate by
`x5t#S256` (the base64url SHA-256 thumbprint of the DER certificate; the older RS256 with
a SHA-1 `x5t` is still accepted by Entra, this is the form the page now gives), claims
`aud` = the token URL, `iss` = `sub` = the app id, a fresh `jti`, `nbf`/`iat` now and
`exp` ten minutes on; posted as `client_assertion` with `client_assertion_type`
`urn:ietf:params:oauth:client-assertion-type:jwt-bearer`.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

log = logging.getLogger(__name__)

BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
REFRESH_BEFORE = timedelta(minutes=5)
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = timedelta(minutes=10)  # Microsoft's libraries use ten minutes
EXPIRY_WARNING = timedelta(days=30)


def token_url_for(tenant_id: str | None) -> str:
    """Microsoft's token endpoint for a single-tenant bot (or the Bot Framework's)."""
    tenant = tenant_id or "botframework.com"
    return f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"


class TokenError(Exception):
    """The bot could not get its access token. The message never holds the secret."""


class CertificateError(ValueError):
    """TEAMS_APP_CERTIFICATE (or its key) cannot be used; the message says why, in one line."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Certificate:
    """The app's certificate and its private key (never shown: `repr` names the file)."""

    path: str
    key: rsa.RSAPrivateKey = field(repr=False)
    certificate: x509.Certificate = field(repr=False)

    @property
    def x5t_s256(self) -> str:
        """The base64url SHA-256 thumbprint of the DER certificate (header `x5t#S256`)."""
        return _b64url(self.certificate.fingerprint(hashes.SHA256()))

    @property
    def not_after(self) -> datetime:
        return self.certificate.not_valid_after_utc

    def check_dates(self, now: datetime) -> None:
        """`CertificateError` once expired (Entra refuses it); a warning 30 days before."""
        if now >= self.not_after:
            raise CertificateError(
                f"TEAMS_APP_CERTIFICATE: the certificate in {self.path} expired on "
                f"{self.not_after:%Y-%m-%d %H:%M} UTC: upload a new one to the app "
                f"registration and point TEAMS_APP_CERTIFICATE at it"
            )
        if now >= self.not_after - EXPIRY_WARNING:
            log.warning(
                "teams: the certificate in %s expires on %s UTC: renew it",
                self.path,
                f"{self.not_after:%Y-%m-%d}",
            )

    def assertion(self, token_url: str, client_id: str, now: datetime) -> str:
        """A signed client assertion for one token request at `token_url`."""
        claims = {
            "aud": token_url,
            "iss": client_id,
            "sub": client_id,
            "jti": str(uuid.uuid4()),
            "nbf": int(now.timestamp()),
            "iat": int(now.timestamp()),
            "exp": int((now + ASSERTION_LIFETIME).timestamp()),
        }
        headers = {"typ": "JWT", "x5t#S256": self.x5t_s256}
        return jwt.encode(claims, self.key, algorithm="PS256", headers=headers)


def _read(path: str, setting: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CertificateError(
            f"{setting}: cannot read {path}: {exc.strerror or type(exc).__name__}"
        ) from None


def _private_key(data: bytes, path: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:  # cryptography: "Password was not given but private key is encrypted"
        raise CertificateError(
            f"the private key in {path} is encrypted: cpdbot reads an unencrypted PEM key "
            f"(openssl pkey -in {path} -out key.pem), kept readable by the bot only"
        ) from None
    except ValueError:
        raise CertificateError(
            f"{path} holds no PEM private key (-----BEGIN PRIVATE KEY-----): put the key in "
            f"the same file as the certificate, or set TEAMS_APP_CERTIFICATE_KEY"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CertificateError(
            f"the private key in {path} is not an RSA key: Entra's certificate credentials "
            f"are RSA (PS256/RS256)"
        )
    return key


def load_certificate(path: str, key_path: str | None = None) -> Certificate:
    """The certificate in the PEM file `path` (the one matching the key, if it holds a
    chain) and its private key, from the same file or from `key_path`."""
    data = _read(path, "TEAMS_APP_CERTIFICATE")
    key_data = _read(key_path, "TEAMS_APP_CERTIFICATE_KEY") if key_path else data
    key = _private_key(key_data, key_path or path)
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        certificates = []
    if not certificates:
        raise CertificateError(
            f"TEAMS_APP_CERTIFICATE: {path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
        )
    public = key.public_key().public_numbers()
    for certificate in certificates:
        mine = certificate.public_key()
        if isinstance(mine, rsa.RSAPublicKey) and mine.public_numbers() == public:
            return Certificate(path, key, certificate)
    raise CertificateError(
        f"TEAMS_APP_CERTIFICATE: the private key does not belong to the certificate in {path}"
    )


@dataclass(frozen=True)
class _Token:
    value: str
    expires: datetime
    refresh_at: datetime


class ClientCredentials:
    """A token provider for the Agents SDK that gets tokens by client credentials."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        credential: str | Certificate,
        scope: str,
        http: httpx.AsyncClient,
        clock: Callable[[], datetime],
        *,
        tenant_id: str | None = None,
    ) -> None:
        """`credential`: the client secret, or the app's `Certificate`."""
        if not client_id or not credential:
            raise ValueError("ClientCredentials needs the app id and a password or certificate")
        self.token_url = token_url
        self.client_id = client_id
        self._credential = credential
        self.scope = scope
        self.tenant_id = tenant_id
        self.http = http
        self.clock = clock
        self._token: _Token | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"ClientCredentials(token_url={self.token_url!r}, client_id={self.client_id!r})"

    # ------------------------------------------------------------ the SDK's protocol

    async def get_access_token(
        self, resource_url: str, scopes: list[str], force_refresh: bool = False
    ) -> str:
        """A valid token for `self.scope`; `scopes` may name only that scope."""
        wanted = [s for s in scopes if s]
        if wanted and wanted != [self.scope]:
            raise TokenError(
                f"asked for a token for {wanted!r}; this bot is set up only for {self.scope!r}"
            )
        return (await self._current(force_refresh)).value

    @property
    def configuration(self) -> Any:
        """The SDK's `AgentAuthConfiguration` for this connection (no secret in it)."""
        from microsoft_agents.hosting.core import AgentAuthConfiguration

        return AgentAuthConfiguration(
            client_id=self.client_id, tenant_id=self.tenant_id, scopes=[self.scope]
        )

    def get_token_credential(self) -> Any:
        """An azure-core `AsyncTokenCredential` over the same cached token."""
        from azure.core.credentials import AccessToken

        provider = self

        class _Credential:
            async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
                await provider.get_access_token("", list(scopes))
                token = provider._token
                assert token is not None
                return AccessToken(token.value, int(token.expires.timestamp()))

            async def close(self) -> None:
                return None

            async def __aenter__(self) -> _Credential:
                return self

            async def __aexit__(self, *exc: object) -> None:
                return None

        return _Credential()

    async def acquire_token_on_behalf_of(self, scopes: list[str], user_assertion: str) -> str:
        raise NotImplementedError("cpdbot does not sign in on behalf of users")

    async def get_agentic_application_token(
        self, tenant_id: str, agent_app_instance_id: str
    ) -> str | None:
        raise NotImplementedError("cpdbot is not an agentic application")

    async def get_agentic_instance_token(
        self, tenant_id: str, agent_app_instance_id: str
    ) -> tuple[str, str]:
        raise NotImplementedError("cpdbot is not an agentic application")

    async def get_agentic_user_token(
        self, tenant_id: str, agent_app_instance_id: str, agentic_user_id: str, scopes: list[str]
    ) -> str | None:
        raise NotImplementedError("cpdbot is not an agentic application")

    # ------------------------------------------------------------ the token

    async def _current(self, force_refresh: bool) -> _Token:
        seen = self._token
        async with self._lock:
            token = self._token
            if token is not None and token is not seen and force_refresh:
                return token  # someone else refreshed it while we waited
            if token is not None and not force_refresh and self.clock() < token.refresh_at:
                return token
            self._token = await self._request()
            return self._token

    async def _request(self) -> _Token:
        form = {"grant_type": "client_credentials", "client_id": self.client_id}
        if isinstance(self._credential, Certificate):
            form["client_assertion_type"] = JWT_BEARER
            form["client_assertion"] = self._credential.assertion(
                self.token_url, self.client_id, self.clock()
            )
        else:
            form["client_secret"] = self._credential
        form["scope"] = self.scope
        try:
            response = await self.http.post(self.token_url, data=form)
        except httpx.HTTPError as exc:
            # `from None`: the chained exception's request holds the secret in its body.
            raise TokenError(
                f"token request to {self.token_url} failed: {type(exc).__name__}"
            ) from None
        if response.status_code >= 400:
            raise TokenError(
                f"token request to {self.token_url} failed: HTTP {response.status_code}"
                f"{self._explain(response)}"
            )
        return self._read(response)

    def _read(self, response: httpx.Response) -> _Token:
        try:
            body = response.json()
            value = body["access_token"]
            lifetime = timedelta(seconds=int(body["expires_in"]))
        except (ValueError, KeyError, TypeError):
            raise TokenError(
                f"token response from {self.token_url} has no access_token and expires_in"
            ) from None
        if not isinstance(value, str) or not value or lifetime <= timedelta(0):
            raise TokenError(f"token response from {self.token_url} is not a usable token")
        now = self.clock()
        early = min(REFRESH_BEFORE, lifetime / 2)
        log.info("teams: got an access token valid for %d s", lifetime.total_seconds())
        return _Token(value, now + lifetime, now + lifetime - early)

    def _explain(self, response: httpx.Response) -> str:
        """Microsoft's error code and the first line of its description, without secrets."""
        try:
            body = response.json()
        except ValueError:
            return ""
        if not isinstance(body, dict):
            return ""
        code = str(body.get("error") or "")[:60]
        description = str(body.get("error_description") or "").splitlines()[:1]
        text = ": ".join([code, *(d[:200] for d in description)]).strip(": ")
        if isinstance(self._credential, str):
            text = text.replace(self._credential, "***")
        return f" ({text})" if text else ""

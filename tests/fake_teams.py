"""A small fake of Microsoft's side of a Teams bot on 127.0.0.1 that records every call.

It plays three parts, at the paths Microsoft uses:

- the Bot Framework's OpenID metadata (`GET /v1/.well-known/openidconfiguration`) and
  signing keys (`GET /v1/.well-known/keys`), shaped like
  https://login.botframework.com/v1/.well-known/openidconfiguration and its `jwks_uri`
  (RSA keys with `kid`, `use` and `endorsements`);
- the Entra token endpoint (`POST /<tenant>/oauth2/v2.0/token`, client credentials), which
  records each form and can be made to fail or held;
- the Bot Connector (`POST /teams/v3/conversations/{id}/activities[/{activity id}]` and
  `PUT .../activities/{activity id}`), which records what the bot sent; the activities'
  `serviceUrl` is `service_url`. `fail_send` queues answers per conversation instead
  (429 with `Retry-After`, 403 when the app was removed, 404, 5xx).

`sign()` makes the token the connector would send with an activity, signed by one of the
published keys, another key, or with chosen claims and header.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

APP_ID = "00000000-0000-4000-8000-00000000c0d0"
APP_PASSWORD = "fake-app-password-Qx7~not-a-real-secret"
TENANT_ID = "11111111-2222-4333-8444-555555555555"
ISSUER = "https://api.botframework.com"


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey
    endorsements: list[str] = field(default_factory=lambda: ["msteams"])

    def jwk(self) -> dict[str, Any]:
        public: dict[str, Any] = dict(RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True))
        public.update(kid=self.kid, use="sig", endorsements=list(self.endorsements))
        return public


def new_key(kid: str, endorsements: list[str] | None = None) -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return SigningKey(kid, private, ["msteams"] if endorsements is None else endorsements)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256(body: dict[str, Any], headers: dict[str, str], secret: str | bytes) -> str:
    head = _b64(json.dumps({"alg": "HS256", **headers}).encode())
    signed = f"{head}.{_b64(json.dumps(body).encode())}"
    key = secret.encode() if isinstance(secret, str) else secret
    return f"{signed}.{_b64(hmac.new(key, signed.encode(), hashlib.sha256).digest())}"


@dataclass
class Sent:
    """One call the bot made to the connector."""

    method: str
    conversation_id: str
    activity_id: str | None
    body: dict[str, Any]
    authorization: str | None
    id: str = ""  # the activity id the fake answered with (what a press's replyToId names)


@dataclass
class SendFailure:
    """What the connector answers, once, instead of posting (429, 403, 404, 5xx)."""

    status: int
    retry_after: str | None = None


@dataclass
class TokenFailure:
    status: int
    body: dict[str, Any]


class FakeTeams:
    def __init__(self, app_id: str = APP_ID, app_password: str = APP_PASSWORD) -> None:
        self.app_id = app_id
        self.app_password = app_password
        self.keys: list[SigningKey] = [new_key("key-1")]  # what /keys publishes
        self.issuer = ISSUER
        self.metadata_gets = 0
        self.key_gets = 0
        self.token_forms: list[dict[str, str]] = []  # each POSTed token request, as sent
        self.tokens_issued: list[str] = []
        self.sent: list[Sent] = []
        self.token_lifetime = 3599
        self.metadata_status = 200  # set to 500 to make the metadata fail
        self.token_requested = asyncio.Event()  # set when a token request arrives
        self._token_failures: list[TokenFailure] = []
        self._send_failures: dict[str, list[SendFailure]] = {}  # conversation id -> queue
        self.refused: list[Sent] = []  # calls answered with a queued failure
        self._posted = asyncio.Condition()
        self._token_gate: asyncio.Event | None = None
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> FakeTeams:
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/v1/.well-known/keys", self._keys)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        conversation = "/teams/v3/conversations/{conversation}/activities"
        app.router.add_post(conversation, self._activity)
        app.router.add_post(conversation + "/{activity}", self._activity)
        app.router.add_put(conversation + "/{activity}", self._activity)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def openid_url(self) -> str:
        return f"{self.url}/v1/.well-known/openidconfiguration"

    @property
    def service_url(self) -> str:
        """The `serviceUrl` of the activities this fake connector sends (with its slash)."""
        return f"{self.url}/teams/"

    def token_url(self, tenant: str = TENANT_ID) -> str:
        return f"{self.url}/{tenant}/oauth2/v2.0/token"

    # ------------------------------------------------------------ test controls

    def publish(self, key: SigningKey) -> None:
        """Publish another signing key (as in a key rotation)."""
        self.keys.append(key)

    def fail_token(self, status: int, body: dict[str, Any] | None = None, times: int = 1) -> None:
        failure = TokenFailure(status, body if body is not None else {"error": "temporarily"})
        self._token_failures.extend([failure] * times)

    def fail_send(
        self, conversation_id: str, status: int, *, retry_after: str | None = None, times: int = 1
    ) -> None:
        """Answer the next `times` calls to this conversation with `status` (and a
        `Retry-After` header when given) instead of posting; they go to `refused`."""
        queue = self._send_failures.setdefault(conversation_id, [])
        queue.extend([SendFailure(status, retry_after)] * times)

    async def wait_for_post(self, test: Callable[[Sent], bool]) -> None:
        """Return once an activity passing `test` has been posted."""
        async with self._posted:
            await self._posted.wait_for(lambda: any(test(s) for s in self.sent))

    def hold_token(self) -> asyncio.Event:
        """Hold every token request until the returned event is set."""
        self._token_gate = asyncio.Event()
        return self._token_gate

    def sign(
        self,
        *,
        key: SigningKey | None = None,
        kid: str | None = None,
        now: datetime | float | None = None,
        lifetime: int = 3600,
        algorithm: str = "RS256",
        secret: str | bytes | None = None,
        drop: tuple[str, ...] = (),
        **claims: Any,
    ) -> str:
        """A connector token for this bot, valid from `now` for `lifetime` seconds.

        `key` signs (default: the first published key) and `kid` overrides the header's
        key id; `claims` override or add claims; `drop` removes claims; `algorithm` and
        `secret` sign another way (HS256 with any secret, even the public key, or "none").
        """
        key = key or self.keys[0]
        at = now.timestamp() if isinstance(now, datetime) else (now or time.time())
        body: dict[str, Any] = {
            "serviceurl": self.service_url,
            "nbf": int(at) - 60,
            "exp": int(at) + lifetime,
            "iss": self.issuer,
            "aud": self.app_id,
        }
        body.update(claims)
        for name in drop:
            body.pop(name, None)
        headers = {"kid": kid or key.kid, "typ": "JWT"}
        if algorithm == "HS256":
            # By hand: PyJWT refuses a PEM key as an HMAC secret, which is the attack.
            return _hs256(body, headers, secret if secret is not None else "a shared secret")
        signing: Any = None if algorithm == "none" else key.private
        return jwt.encode(body, signing, algorithm=algorithm, headers=headers)

    # ------------------------------------------------------------ handlers

    async def _metadata(self, request: web.Request) -> web.Response:
        self.metadata_gets += 1
        if self.metadata_status != 200:
            return web.json_response({"error": "unavailable"}, status=self.metadata_status)
        return web.json_response(
            {
                "issuer": self.issuer,
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": f"{self.url}/v1/.well-known/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        self.key_gets += 1
        return web.json_response({"keys": [key.jwk() for key in self.keys]})

    async def _token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.token_forms.append(form)
        self.token_requested.set()
        if self._token_gate is not None:
            await self._token_gate.wait()
        if self._token_failures:
            failure = self._token_failures.pop(0)
            return web.json_response(failure.body, status=failure.status)
        if (
            form.get("client_id") != self.app_id
            or form.get("client_secret") != self.app_password
            or form.get("grant_type") != "client_credentials"
        ):
            described = "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 0"
            body = {"error": "invalid_client", "error_description": described}
            return web.json_response(body, status=401)
        token = f"fake-access-token-{next(self._ids)}"
        self.tokens_issued.append(token)
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
                "ext_expires_in": self.token_lifetime,
                "access_token": token,
            }
        )

    async def _activity(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        conversation = request.match_info["conversation"]
        activity = request.match_info.get("activity")
        sent = Sent(
            request.method, conversation, activity, body, request.headers.get("Authorization")
        )
        failures = self._send_failures.get(conversation)
        if failures:
            failure = failures.pop(0)
            self.refused.append(sent)
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else None
            error = {"error": {"code": f"HTTP{failure.status}", "message": "refused by the fake"}}
            return web.json_response(error, status=failure.status, headers=headers)
        sent.id = activity or f"1:{next(self._ids)}"
        self.sent.append(sent)
        async with self._posted:
            self._posted.notify_all()
        return web.json_response({"id": sent.id})

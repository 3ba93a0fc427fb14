"""A small fake of Microsoft's side of a Teams bot on 127.0.0.1 that records every call.

It plays these parts, at the paths Microsoft uses (the upload session at one of its own):

- the Bot Framework's OpenID metadata (`GET /v1/.well-known/openidconfiguration`) and
  signing keys (`GET /v1/.well-known/keys`), shaped like
  https://login.botframework.com/v1/.well-known/openidconfiguration and its `jwks_uri`
  (RSA keys with `kid`, `use` and `endorsements`);
- the Entra token endpoint (`POST /<tenant>/oauth2/v2.0/token`, client credentials), which
  records each form and can be made to fail or held;
- the Bot Connector (`POST /teams/v3/conversations/{id}/activities[/{activity id}]` and
  `PUT .../activities/{activity id}`), which records what the bot sent; the activities'
  `serviceUrl` is `service_url`. `fail_send` queues answers per conversation instead
  (429 with `Retry-After`, 403 when the app was removed, 404, 5xx);
- an upload session in a person's OneDrive (`PUT /upload/{session}`, `upload_url()`), the
  `uploadUrl` a file consent card's Allow brings: it records the bytes and headers
  (`uploads`) and answers 201, or `upload_status`.

`sign()` makes the token the connector would send with an activity, signed by one of the
published keys, another key, or with chosen claims and header.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
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
from cryptography import x509
from cryptography.hazmat.primitives import hashes
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


JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _names(header: dict[str, Any], certificate: x509.Certificate) -> bool:
    """The assertion's header names this certificate (SHA-256 or SHA-1 thumbprint)."""
    sha256 = _b64(certificate.fingerprint(hashes.SHA256()))
    sha1 = _b64(certificate.fingerprint(hashes.SHA1()))
    return header.get("x5t#S256") == sha256 or header.get("x5t") == sha1


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
class Upload:
    """One PUT to an upload session (`PUT /upload/{id}`), as OneDrive would receive it."""

    session: str
    body: bytes
    content_range: str | None
    content_length: str | None
    authorization: str | None


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
        # Certificates registered on the app: a client assertion signed by one's key gets a
        # token, checked as Entra does (`_client_refusal`) against `clock` (epoch seconds).
        self.certificates: list[x509.Certificate] = []
        self.clock: Callable[[], float] = time.time
        self.assertion_ids: set[str] = set()  # each assertion's jti, used once
        self._send_failures: dict[str, list[SendFailure]] = {}  # conversation id -> queue
        self.refused: list[Sent] = []  # calls answered with a queued failure
        self.uploads: list[Upload] = []  # PUTs to upload sessions (a file the person allowed)
        self.upload_status = 201  # what an upload session answers (set 500 to fail them)
        # Files people send: images pasted in a message, kept by the connector (fetched
        # with the bot's token), and files from their OneDrive (a pre-authorised URL).
        self.images: dict[str, bytes] = {}
        self.drive_files: dict[str, bytes] = {}
        self.chunked: set[str] = set()  # served with no Content-Length
        self.fetches: list[tuple[str, str | None]] = []  # (id, Authorization) per GET
        self.download_gate: asyncio.Event | None = None  # set: OneDrive downloads wait
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
        app.router.add_put("/upload/{session}", self._upload)
        app.router.add_get("/teams/v3/attachments/{id}/views/original", self._image)
        app.router.add_get("/personal/download/{id}", self._drive_download)
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

    def upload_url(self, session: str) -> str:
        """An upload session's URL, as a `fileConsent/invoke`'s `uploadInfo.uploadUrl`."""
        return f"{self.url}/upload/{session}"

    async def wait_for_fetch(self, within: float = 10.0) -> None:
        """Until the bot has asked for a file or image."""
        async with asyncio.timeout(within), self._posted:
            await self._posted.wait_for(lambda: bool(self.fetches))

    def image_attachment(self, content: bytes, content_type: str = "image/*") -> dict[str, Any]:
        """An image pasted into a personal chat: the attachment Teams sends, whose
        `contentUrl` is on the connector and wants the bot's token (Microsoft Learn, "Send
        and receive files using bot": "Receive inline images")."""
        image_id = f"0-weu-d1-{next(self._ids):032x}"
        self.images[image_id] = content
        url = f"{self.service_url}v3/attachments/{image_id}/views/original"
        return {"contentType": content_type, "contentUrl": url}

    def file_attachment(
        self, content: bytes, name: str, *, chunked: bool = False
    ) -> dict[str, Any]:
        """A file sent in a personal chat: `application/vnd.microsoft.teams.file.download.info`
        with a pre-authorised `content.downloadUrl` (no token), as Microsoft Learn, "Send and
        receive files using bot" shows it. `chunked`: served with no Content-Length."""
        file_id = f"{next(self._ids):08d}"
        self.drive_files[file_id] = content
        if chunked:
            self.chunked.add(file_id)
        file_type = name.rsplit(".", 1)[-1] if "." in name else ""
        return {
            "contentType": "application/vnd.microsoft.teams.file.download.info",
            "contentUrl": f"{self.url}/personal/Documents/{name}",
            "name": name,
            "content": {
                "downloadUrl": f"{self.url}/personal/download/{file_id}?tempauth=v1.fake",
                "uniqueId": file_id,
                "fileType": file_type,
            },
        }

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
        refusal = self._client_refusal(form, str(request.url))
        if refusal is not None:
            body = {"error": "invalid_client", "error_description": f"{refusal}\r\nTrace ID: 0"}
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

    def _client_refusal(self, form: dict[str, str], token_url: str) -> str | None:
        """Why Entra would refuse this client (AADSTS-style), or None: the password, or a
        client assertion (Microsoft, "certificate credentials"): signed RS256/PS256 by a
        registered certificate named by `x5t#S256` or `x5t`, aud = this token URL, iss =
        sub = the app id, within nbf..exp, a jti not seen before."""
        if form.get("client_id") != self.app_id or form.get("grant_type") != "client_credentials":
            return "AADSTS700016: Application not found in the directory."
        if "client_secret" in form:
            if form["client_secret"] != self.app_password:
                return "AADSTS7000215: Invalid client secret provided."
            return None
        assertion = form.get("client_assertion", "")
        if form.get("client_assertion_type") != JWT_BEARER or not assertion:
            return "AADSTS7000216: 'client_assertion' or 'client_secret' is required."
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.InvalidTokenError:
            return "AADSTS50027: JWT token is invalid or malformed."
        certificate = next((c for c in self.certificates if _names(header, c)), None)
        if certificate is None:
            return "AADSTS700027: The certificate used to sign the assertion is not registered."
        try:
            claims = jwt.decode(
                assertion,
                certificate.public_key(),  # type: ignore[arg-type]
                algorithms=["RS256", "PS256"],
                audience=token_url,
                issuer=self.app_id,
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.InvalidTokenError as exc:
            return f"AADSTS700027: Client assertion failed validation ({type(exc).__name__})."
        now = self.clock()
        if not (int(claims.get("nbf", now + 1)) <= now < int(claims.get("exp", 0))):
            return "AADSTS700024: Client assertion is not within its valid time range."
        if claims.get("sub") != self.app_id:
            return "AADSTS700021: Client assertion application identifier doesn't match."
        jti = str(claims.get("jti") or "")
        if not jti or jti in self.assertion_ids:
            return "AADSTS700025: Client assertion jti is missing or was used before."
        self.assertion_ids.add(jti)
        return None

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

    async def _image(self, request: web.Request) -> web.Response:
        """An inline image on the connector: for a token this fake issued (401 otherwise)."""
        image_id = request.match_info["id"]
        authorization = request.headers.get("Authorization")
        self.fetches.append((image_id, authorization))
        issued = {f"Bearer {t}" for t in self.tokens_issued}
        if authorization not in issued:
            return web.json_response({"error": {"code": "Unauthorized"}}, status=401)
        content = self.images.get(image_id)
        if content is None:
            return web.Response(status=404)
        return web.Response(body=content, content_type="image/png")

    async def _drive_download(self, request: web.Request) -> web.StreamResponse:
        """A OneDrive file's pre-authorised download URL (the URL is the authority)."""
        file_id = request.match_info["id"]
        self.fetches.append((file_id, request.headers.get("Authorization")))
        async with self._posted:
            self._posted.notify_all()
        if self.download_gate is not None:
            await self.download_gate.wait()
        content = self.drive_files.get(file_id)
        if content is None or request.query.get("tempauth") != "v1.fake":
            return web.Response(status=404)
        if file_id not in self.chunked:
            return web.Response(body=content, content_type="application/octet-stream")
        response = web.StreamResponse()
        await response.prepare(request)
        with contextlib.suppress(ConnectionError):  # the bot hangs up once it has enough
            for start in range(0, len(content), 64 * 1024):
                await response.write(content[start : start + 64 * 1024])
            await response.write_eof()
        return response

    async def _upload(self, request: web.Request) -> web.Response:
        """An upload session: records the bytes; 201 and the drive item, as OneDrive
        answers the last range of a file, or `upload_status`."""
        body = await request.read()
        self.uploads.append(
            Upload(
                request.match_info["session"],
                body,
                request.headers.get("Content-Range"),
                request.headers.get("Content-Length"),
                request.headers.get("Authorization"),
            )
        )
        if self.upload_status not in (200, 201):
            error = {"error": {"code": "generalException"}}
            return web.json_response(error, status=self.upload_status)
        item = {"id": request.match_info["session"], "size": len(body)}
        return web.json_response(item, status=201)

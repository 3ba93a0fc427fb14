"""The check of every incoming Teams request's bearer token (Bot Connector authentication).

Microsoft's rules: the token is an RS256 JWT signed by a key that the OpenID metadata
(`TEAMS_OPENID_METADATA_URL`) names through its `jwks_uri`; its issuer is the metadata's
(`https://api.botframework.com`); its audience is the bot's app id; it has not expired
(five minutes of clock skew allowed either way); the signing key's `endorsements` include
the activity's channel (`msteams`); and its `serviceurl` claim is the activity's
`serviceUrl`. The SDK's own check (1.9) hard-codes where it fetches keys, skips the issuer
and the endorsements and only warns on a service-URL mismatch, so cpdbot does it here.

Keys are cached by `kid`. The metadata and keys are read again after a day; a token
naming a key we do not know makes one re-read, at most once a minute, so tokens with
made-up key ids cannot make cpdbot hammer Microsoft. `Unauthorized.reason` is for the
logs and never holds the token.

The connector sends one token with many activities, so a token whose signature, issuer
and audience checked out is held (by its exact string: the same bytes carry the same
signature) with the key that verified it, and its next requests skip the RS256
verification: everything else (the key still published, its endorsement of the
activity's channel, the times against the clock, the `serviceurl` claim against the
activity) is checked at every request. At most `VERIFIED_MAX` tokens are held, each until
it expires or its key is no longer the one published.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import jwt

log = logging.getLogger(__name__)

DEFAULT_OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
DEFAULT_ISSUER = "https://api.botframework.com"
ALGORITHMS = ["RS256"]
LEEWAY = timedelta(minutes=5)
METADATA_MAX_AGE = timedelta(hours=24)
UNKNOWN_KID_REFETCH = timedelta(minutes=1)
VERIFIED_MAX = 256  # tokens held as verified (the connector uses a few at a time)


class Unauthorized(Exception):
    """The request is refused (401). `reason` is for the logs; it never holds the token."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeysUnavailable(Unauthorized):
    """The signing keys could not be read, so nothing can be checked: refused as well, but
    the adapter may answer 503 so that the connector tries again."""


@dataclass(frozen=True)
class Claims:
    """What a valid token said: its app id (audience), service URL and every claim."""

    app_id: str
    service_url: str
    issuer: str
    expires: datetime
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class _Key:
    key: jwt.PyJWK
    endorsements: frozenset[str]


@dataclass(frozen=True)
class _Verified:
    """A token whose signature, issuer and audience were verified, by `key` (named `kid`)."""

    kid: str
    key: _Key
    claims: dict[str, Any]


def _strip_slash(url: str) -> str:
    return url[:-1] if url.endswith("/") else url


def _bearer(authorization: str | None) -> str:
    if not authorization or not authorization.strip():
        raise Unauthorized("no Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization is not a Bearer token")
    return token.strip()


def _a_minute_since(then: datetime | None, now: datetime) -> bool:
    return then is None or now - then >= UNKNOWN_KID_REFETCH


def _parse_keys(jwks: Any) -> dict[str, _Key]:
    keys: dict[str, _Key] = {}
    entries = jwks.get("keys") if isinstance(jwks, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("kty") != "RSA" or entry.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(entry, algorithm="RS256")
        except jwt.PyJWTError:
            log.warning("teams: skipped an unreadable signing key (kid %s)", entry["kid"])
            continue
        endorsements = entry.get("endorsements")
        named = endorsements if isinstance(endorsements, list) else []
        keys[entry["kid"]] = _Key(key, frozenset(e for e in named if isinstance(e, str)))
    return keys


class TeamsAuth:
    """Checks the bearer token of each request the Bot Connector sends to the bot."""

    def __init__(
        self,
        app_id: str,
        openid_metadata_url: str,
        http: httpx.AsyncClient,
        clock: Callable[[], datetime],
    ) -> None:
        if not app_id:
            raise ValueError("TeamsAuth needs the bot's app id")
        self.app_id = app_id
        self.openid_metadata_url = openid_metadata_url
        self.http = http
        self.clock = clock
        self.issuer = DEFAULT_ISSUER
        self._keys: dict[str, _Key] = {}
        self._read_at: datetime | None = None  # when the metadata and keys were last read
        self._tried_at: datetime | None = None  # the last attempt, successful or not
        self._unknown_at: datetime | None = None  # the last re-read for an unknown key id
        self._lock = asyncio.Lock()
        self._verified: dict[str, _Verified] = {}  # token -> what verified it

    async def check(
        self, authorization: str | None, *, service_url: str, channel_id: str
    ) -> Claims:
        """The token's claims if the request may be handled; otherwise `Unauthorized`."""
        token = _bearer(authorization)
        held = self._verified.get(token)
        if held is not None and await self._key(held.kid) is held.key:
            return self._checked(held.key, held.claims, service_url, channel_id)
        verified = await self._verify(token)
        claims = self._checked(verified.key, verified.claims, service_url, channel_id)
        self._hold(token, verified)
        return claims

    async def _verify(self, token: str) -> _Verified:
        """The token's signature, issuer and audience checked against the published key
        its header names; `Unauthorized` if any is wrong."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("malformed token") from None
        if header.get("alg") not in ALGORITHMS:
            raise Unauthorized(f"token algorithm {str(header.get('alg'))[:20]!r} not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("token names no signing key")
        key = await self._key(kid)
        return _Verified(kid, key, self._decode(token, key))

    def _checked(
        self, key: _Key, claims: dict[str, Any], service_url: str, channel_id: str
    ) -> Claims:
        """What is checked at every request, the token verified or not: the key endorses
        the activity's channel, the times hold and the service URL is the token's."""
        if not channel_id or channel_id not in key.endorsements:
            raise Unauthorized(f"signing key is not endorsed for channel {channel_id[:40]!r}")
        expires = self._check_times(claims)
        claimed = claims.get("serviceurl")
        if not isinstance(claimed, str) or _strip_slash(claimed) != _strip_slash(service_url):
            raise Unauthorized("serviceurl claim does not match the activity's serviceUrl")
        return Claims(self.app_id, service_url, claims["iss"], expires, claims)

    def _hold(self, token: str, verified: _Verified) -> None:
        if len(self._verified) >= VERIFIED_MAX:
            now = self.clock()
            for name, held in list(self._verified.items()):
                if now > datetime.fromtimestamp(int(held.claims["exp"]), now.tzinfo) + LEEWAY:
                    del self._verified[name]
            while len(self._verified) >= VERIFIED_MAX:
                del self._verified[next(iter(self._verified))]  # the oldest
        self._verified[token] = verified

    def _decode(self, token: str, key: _Key) -> dict[str, Any]:
        options: Any = {
            "require": ["exp", "iss", "aud"],
            "verify_exp": False,  # checked against the injected clock in _check_times
            "verify_nbf": False,
            "verify_iat": False,
        }
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=self.app_id,
                issuer=self.issuer,
                options=options,
            )
        except jwt.InvalidSignatureError:
            raise Unauthorized("bad signature") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized("wrong audience") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized("wrong issuer") from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthorized(f"token has no {exc.claim!r} claim") from None
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token ({type(exc).__name__})") from None
        return claims

    def _check_times(self, claims: dict[str, Any]) -> datetime:
        now = self.clock()
        try:
            expires = datetime.fromtimestamp(int(claims["exp"]), now.tzinfo)
            nbf = claims.get("nbf")
            not_before = None if nbf is None else datetime.fromtimestamp(int(nbf), now.tzinfo)
        except (TypeError, ValueError, OverflowError, OSError):
            raise Unauthorized("token times are not numbers") from None
        if now > expires + LEEWAY:
            raise Unauthorized("token expired")
        if not_before is not None and now < not_before - LEEWAY:
            raise Unauthorized("token not yet valid")
        return expires

    # ------------------------------------------------------------ keys

    async def _key(self, kid: str) -> _Key:
        async with self._lock:
            now = self.clock()
            if self._read_at is None or now - self._read_at >= METADATA_MAX_AGE:
                if _a_minute_since(self._tried_at, now):
                    await self._refresh(now)
            elif kid not in self._keys and _a_minute_since(self._unknown_at, now):
                log.info("teams: a token names an unknown signing key; reading the keys again")
                self._unknown_at = now
                await self._refresh(now)
            if not self._keys:
                raise KeysUnavailable("no signing keys could be read")
            key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("unknown signing key")
        return key

    async def _refresh(self, now: datetime) -> None:
        """Read the metadata and keys; if that fails, keep the keys we had."""
        self._tried_at = now
        try:
            metadata = await self._get_json(self.openid_metadata_url)
            jwks_uri = metadata.get("jwks_uri")
            if not isinstance(jwks_uri, str) or not jwks_uri:
                raise ValueError("OpenID metadata has no jwks_uri")
            keys = _parse_keys(await self._get_json(jwks_uri))
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("teams: could not read the signing keys: %s", type(exc).__name__)
            return
        issuer = metadata.get("issuer")
        self.issuer = issuer if isinstance(issuer, str) and issuer else DEFAULT_ISSUER
        self._keys = keys
        self._read_at = now
        log.info("teams: read %d signing keys", len(keys))

    async def _get_json(self, url: str) -> dict[str, Any]:
        response = await self.http.get(url)
        response.raise_for_status()
        body = response.json()
        if not isinstance(body, dict):
            raise ValueError(f"{url} did not answer a JSON object")
        return body

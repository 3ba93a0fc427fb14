"""Signing in to Microsoft 365 for Outlook calendars: the OAuth 2.0 device-code grant.

The member opens ``verification_uri`` anywhere (phone, laptop), types ``user_code`` and
signs in; meanwhile the scheduler polls the token endpoint with ``poll_device_code`` no
faster than ``interval`` seconds (the caller does the waiting: nothing here sleeps), and
later keeps the access token fresh with ``refresh``. The protocol, as Microsoft documents
it (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code, and
RFC 8628 for ``slow_down``):

- ``POST {login_url}/{tenant}/oauth2/v2.0/devicecode`` (form: ``client_id``, ``scope``)
  gives ``device_code``, ``user_code``, ``verification_uri``, ``expires_in``, ``interval``
  and ``message``;
- ``POST {login_url}/{tenant}/oauth2/v2.0/token`` (form: ``grant_type=
  urn:ietf:params:oauth:grant-type:device_code``, ``client_id``, ``device_code``) answers
  400 with ``authorization_pending`` (ask again after ``interval``), ``slow_down`` (and
  wait 5 s longer from now on), ``authorization_declined``, ``expired_token`` or
  ``bad_verification_code``, until it gives the tokens;
- the same endpoint with ``grant_type=refresh_token`` gives a new access token and a new
  refresh token (kept every time: the old one may stop working); ``invalid_grant``
  (AADSTS70008 expired, AADSTS50173 revoked) or ``interaction_required`` mean the member
  must sign in again: ``CredentialRejected``.

Plain form posts through an injected ``httpx.AsyncClient`` rather than MSAL: MSAL refuses
an authority that is not https, so it could not talk to the tests' fake identity platform
on 127.0.0.1, and these are a handful of documented requests.

The permission asked for is delegated and read-only: ``Calendars.Read`` (not
``Calendars.ReadBasic``, which leaves out the body, so ``#cpd`` in an event's description
could not work) and ``offline_access`` (for the refresh token). The app registration is a
public client (no secret); the tenant is ``organizations`` unless configured.

Tokens, device codes and answers' bodies are never logged, and ``repr`` leaves them out.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Final, Literal

import httpx

from bot.core.calendar_rules import CredentialRejected, FeedBusy, FeedError
from bot.services.calendar.bounds import GRAPH_AUTH_TIMEOUT, GRAPH_MAX_AUTH_BYTES

DEVICE_CODE_GRANT: Final = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_STEP: Final = 5  # seconds added to the interval on ``slow_down`` (RFC 8628 3.5)
_MAX_ACCOUNT: Final = 200


@dataclass(frozen=True)
class MicrosoftEndpoints:
    """Where the identity platform and Graph are (settings; tests point them at fakes)."""

    client_id: str
    login_url: str = "https://login.microsoftonline.com"
    graph_url: str = "https://graph.microsoft.com"
    tenant: str = "organizations"

    @property
    def scopes(self) -> str:
        """The delegated permissions asked for: read calendars, and stay signed in."""
        return f"{self.graph_url.rstrip('/')}/Calendars.Read offline_access"

    def endpoint(self, name: Literal["devicecode", "token"]) -> str:
        return f"{self.login_url.rstrip('/')}/{self.tenant}/oauth2/v2.0/{name}"


@dataclass(frozen=True)
class DeviceCode:
    """A started sign-in: show ``message`` (or the URI and code) to the member."""

    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    expires_at: datetime
    interval: int
    message: str


@dataclass(frozen=True)
class Tokens:
    """A signed-in member's tokens. ``account`` is their sign-in name, for display only."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    account: str


@dataclass(frozen=True)
class Pending:
    """Not signed in yet: poll again after ``interval`` seconds (grown on ``slow_down``)."""

    interval: int


@dataclass(frozen=True)
class SignInEnded:
    """The sign-in is over without tokens: the member declined, it expired, or it failed."""

    reason: Literal["declined", "expired", "failed"]


def _unverified_claims(token: str) -> dict[str, Any]:
    """A JWT's claims, read WITHOUT checking its signature: for showing a name only."""
    parts = token.split(".")
    if len(parts) != 3 or len(parts[1]) > 20_000:
        return {}
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (binascii.Error, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _account(answer: dict[str, Any]) -> str:
    """The signed-in user's name from the id token, else the access token, else ''."""
    for name in ("id_token", "access_token"):
        token = answer.get(name)
        if not isinstance(token, str):
            continue
        claims = _unverified_claims(token)
        for claim in ("preferred_username", "upn", "unique_name", "email"):
            value = claims.get(claim)
            if isinstance(value, str) and value.strip():
                return " ".join(value.split())[:_MAX_ACCOUNT]
    return ""


async def _post_form(
    client: httpx.AsyncClient,
    url: str,
    form: dict[str, str],
    timeout: float,  # noqa: ASYNC109
) -> tuple[int, dict[str, Any]]:
    """POST a form; the status and the JSON object answered (``{}`` when not JSON)."""
    try:
        response = await client.post(
            url, data=form, headers={"Accept": "application/json"}, timeout=timeout
        )
    except httpx.TimeoutException:
        raise FeedBusy("Microsoft's sign-in service did not answer in time.") from None
    except httpx.HTTPError:
        raise FeedBusy("Could not reach Microsoft's sign-in service.") from None
    if response.status_code == 429 or response.status_code >= 500:
        raise FeedBusy(
            f"Microsoft's sign-in service is busy ({response.status_code}); "
            "it will be tried later.",
            retry_after(response.headers.get("retry-after")),
        )
    if len(response.content) > GRAPH_MAX_AUTH_BYTES:
        raise FeedError("Microsoft's sign-in service sent an answer that is too large.")
    try:
        body = response.json()
    except ValueError:
        body = {}
    return response.status_code, body if isinstance(body, dict) else {}


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: a number of seconds, or an HTTP
    date (counted from ``now``); None when absent, unreadable or over a day."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if now is None or when.tzinfo is None:
            return None
        seconds = max(0.0, (when - now).total_seconds())
    return seconds if 0 <= seconds < 86_400 else None


def _error(body: dict[str, Any]) -> str:
    error = body.get("error")
    return error if isinstance(error, str) else ""


def _tokens(
    body: dict[str, Any], now: datetime, *, old_refresh: str | None = None, account: str = ""
) -> Tokens:
    access = body.get("access_token")
    refresh = body.get("refresh_token") or old_refresh
    if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh:
        raise FeedError(
            "Microsoft's sign-in service answered without the tokens it should have sent."
        )
    expires_in = body.get("expires_in")
    try:
        seconds = int(expires_in) if expires_in is not None else 3600
    except (TypeError, ValueError):
        seconds = 3600
    seconds = max(0, min(seconds, 86_400))
    return Tokens(access, refresh, now + timedelta(seconds=seconds), _account(body) or account)


def _refused(body: dict[str, Any], status: int) -> FeedError:
    code = _error(body) or str(status)
    return FeedError(
        f"Microsoft refused the sign-in request ({code[:60]}). The bot's app registration "
        "may need an administrator's attention."
    )


async def start_device_code(
    client: httpx.AsyncClient,
    ep: MicrosoftEndpoints,
    now: datetime,
    *,
    timeout: float = GRAPH_AUTH_TIMEOUT,  # noqa: ASYNC109
) -> DeviceCode:
    """Start a device-code sign-in; ``FeedError`` (or ``FeedBusy``) if Microsoft refuses."""
    status, body = await _post_form(
        client,
        ep.endpoint("devicecode"),
        {"client_id": ep.client_id, "scope": ep.scopes},
        timeout,
    )
    device_code, user_code = body.get("device_code"), body.get("user_code")
    uri = body.get("verification_uri")
    if status != 200 or not all(isinstance(v, str) and v for v in (device_code, user_code, uri)):
        raise _refused(body, status)
    assert isinstance(device_code, str) and isinstance(user_code, str) and isinstance(uri, str)
    expires_in = _int(body.get("expires_in"), 900, 60, 3600)
    interval = _int(body.get("interval"), 5, 1, 60)
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        message = f"To sign in, open {uri} and enter the code {user_code}."
    return DeviceCode(
        device_code,
        user_code,
        uri,
        now + timedelta(seconds=expires_in),
        interval,
        " ".join(message.split())[:500],
    )


def _int(value: Any, default: int, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return max(low, min(number, high))


async def poll_device_code(
    client: httpx.AsyncClient,
    ep: MicrosoftEndpoints,
    device_code: str,
    interval: int,
    now: datetime,
    *,
    timeout: float = GRAPH_AUTH_TIMEOUT,  # noqa: ASYNC109
) -> Tokens | Pending | SignInEnded:
    """Ask once whether the member has signed in.

    ``Pending(interval)`` means ask again no sooner than ``interval`` seconds from now
    (``interval`` + 5 after ``slow_down``); ``SignInEnded`` ends the sign-in. Busy or
    unreachable servers raise ``FeedBusy``: keep polling until the code expires.
    """
    status, body = await _post_form(
        client,
        ep.endpoint("token"),
        {"grant_type": DEVICE_CODE_GRANT, "client_id": ep.client_id, "device_code": device_code},
        timeout,
    )
    if status == 200:
        return _tokens(body, now)
    error = _error(body)
    if error == "authorization_pending":
        return Pending(interval)
    if error == "slow_down":
        return Pending(interval + SLOW_DOWN_STEP)
    if error in ("authorization_declined", "access_denied"):
        return SignInEnded("declined")
    if error in ("expired_token", "code_expired"):
        return SignInEnded("expired")
    return SignInEnded("failed")


async def refresh(
    client: httpx.AsyncClient,
    ep: MicrosoftEndpoints,
    refresh_token: str,
    now: datetime,
    *,
    account: str = "",
    timeout: float = GRAPH_AUTH_TIMEOUT,  # noqa: ASYNC109
) -> Tokens:
    """New tokens from a refresh token: store the returned ``refresh_token`` every time.

    When the answer carries no new refresh token the old one is kept. A refresh token
    that no longer works (expired, revoked, or a sign-in policy asks the member to sign
    in again) raises ``CredentialRejected``; a busy or unreachable service ``FeedBusy``.
    ``account`` is kept when the new tokens do not name the member.
    """
    status, body = await _post_form(
        client,
        ep.endpoint("token"),
        {
            "grant_type": "refresh_token",
            "client_id": ep.client_id,
            "refresh_token": refresh_token,
            "scope": ep.scopes,
        },
        timeout,
    )
    if status == 200:
        return _tokens(body, now, old_refresh=refresh_token, account=account)
    if _error(body) in ("invalid_grant", "interaction_required", "consent_required"):
        raise CredentialRejected(
            "The Outlook sign-in stopped working (it expired or was revoked). "
            "Type /calendar outlook to sign in again."
        )
    raise _refused(body, status)

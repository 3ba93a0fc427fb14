"""A fake Microsoft identity platform and Microsoft Graph calendar on 127.0.0.1.

Shaped after Microsoft's documented examples:

- device code and token endpoints, ``POST /{tenant}/oauth2/v2.0/devicecode`` and
  ``/token`` (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code):
  form-encoded requests, the device authorization response (``device_code``,
  ``user_code``, ``verification_uri``, ``expires_in``, ``interval``, ``message``), errors
  as 400 ``{"error": "authorization_pending", "error_description": "AADSTS70016: ...",
  "error_codes": [70016], ...}``; ``slow_down`` as RFC 8628 section 3.5 has it;
- refresh (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
  #refresh-the-access-token): every answer carries a new refresh token (``rotate``), and
  a revoked grant answers ``invalid_grant`` with AADSTS50173 (AADSTS70008 for one never
  issued or expired);
- Graph ``GET /v1.0/me/calendarView/delta`` (https://learn.microsoft.com/graph/api/
  event-delta, https://learn.microsoft.com/graph/delta-query-events): pages of
  ``Prefer: odata.maxpagesize`` events with ``@odata.nextLink`` (``$skiptoken``) and a
  last ``@odata.deltaLink`` (``$deltatoken``); the next round lists only what changed,
  removed events as ``{"id": .., "@removed": {"reason": "deleted"}}``. Occurrences of a
  weekly series come as stubs without a subject; the series master is served by
  ``GET /v1.0/me/events/{id}`` (honouring ``$select``) and not in the delta pages unless
  ``masters_in_delta``. Errors are Graph's JSON error objects
  (https://learn.microsoft.com/graph/errors): 401 InvalidAuthenticationToken for an
  expired access token, 410 for an expired delta token, 429 with ``Retry-After``
  (https://learn.microsoft.com/graph/throttling).

The test edits the calendar (``add_event``, ``add_series``, ``update``, ``cancel``,
``remove``) and approves or declines sign-ins by user code; every request is recorded.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

CLIENT_ID = "22222222-3333-4444-8555-666666666666"
ACCOUNT = "ada.lovelace@contoso.example"
VERIFICATION_URI = "https://microsoft.com/devicelogin"
_TRACE = (
    "\r\nTrace ID: 0f6e4b5a-0000-4000-8000-000000000000\r\nCorrelation ID: 1"
    "\r\nTimestamp: 2026-11-22 10:00:00Z"
)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _jwt_shaped(claims: dict[str, Any]) -> str:
    """A token shaped like Entra's (header.claims.signature), signed by nobody."""
    return f"{_b64({'typ': 'JWT', 'alg': 'RS256'})}.{_b64(claims)}.ZmFrZS1zaWduYXR1cmU"


def _aad_error(error: str, code: int, text: str) -> dict[str, Any]:
    return {
        "error": error,
        "error_description": f"AADSTS{code}: {text}{_TRACE}",
        "error_codes": [code],
        "timestamp": "2026-11-22 10:00:00Z",
        "trace_id": "0f6e4b5a-0000-4000-8000-000000000000",
        "correlation_id": "1",
    }


def _graph_error(code: str, message: str) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": "2026-11-22T10:00:00",
                "request-id": "1",
                "client-request-id": "1",
            },
        }
    }


def graph_time(value: datetime) -> dict[str, str]:
    """A ``dateTimeTimeZone`` as Graph writes it with ``Prefer: outlook.timezone="UTC"``."""
    return {
        "dateTime": value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000"),
        "timeZone": "UTC",
    }


@dataclass
class SignIn:
    device_code: str
    user_code: str
    state: str = "pending"  # pending, approved, declined, expired, redeemed
    account: str = ACCOUNT
    slow_downs: int = 0


@dataclass
class Failure:
    status: int
    body: dict[str, Any]
    retry_after: str | None = None


@dataclass
class GraphRequest:
    """One request the code under test made to Graph."""

    url: str  # path and query, as sent
    authorization: str
    prefer: list[str]


@dataclass
class _Round:
    start: datetime
    end: datetime
    seen: dict[str, int]  # event id -> version at the end of the round


@dataclass
class _Pages:
    items: list[dict[str, Any]]
    after: _Round


@dataclass
class FakeMicrosoft:
    client_id: str = CLIENT_ID
    masters_in_delta: bool = False  # also list series masters in the delta pages
    rotate: bool = True  # answer refreshes with a new refresh token
    url: str = ""
    sign_ins: dict[str, SignIn] = field(default_factory=dict)  # by user code
    token_forms: list[dict[str, str]] = field(default_factory=list)
    token_content_types: list[str] = field(default_factory=list)
    graph_requests: list[GraphRequest] = field(default_factory=list)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # valid token -> account
    access_tokens: dict[str, str] = field(default_factory=dict)  # valid token -> account
    revoked: set[str] = field(default_factory=set)  # refresh tokens revoked
    events: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> full JSON
    versions: dict[str, int] = field(default_factory=dict)
    require_interaction: bool = False
    link_base: str = ""  # where next and delta links point ("" = this fake)
    _identity_failures: list[Failure] = field(default_factory=list)
    _graph_failures: list[Failure] = field(default_factory=list)
    _rounds: dict[str, _Round] = field(default_factory=dict)  # delta token -> round
    _pages: dict[str, _Pages] = field(default_factory=dict)  # skip token -> the rest
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> FakeMicrosoft:
        app = web.Application()
        app.router.add_post("/{tenant}/oauth2/v2.0/devicecode", self._devicecode)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_get("/v1.0/me/calendarView/delta", self._delta)
        app.router.add_get("/v1.0/me/events/{id}", self._event)
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

    # ------------------------------------------------------------ sign-in controls

    def approve(self, user_code: str, account: str = ACCOUNT) -> None:
        self.sign_ins[user_code].state = "approved"
        self.sign_ins[user_code].account = account

    def decline(self, user_code: str) -> None:
        self.sign_ins[user_code].state = "declined"

    def expire(self, user_code: str) -> None:
        self.sign_ins[user_code].state = "expired"

    def slow_down(self, user_code: str, times: int = 1) -> None:
        self.sign_ins[user_code].slow_downs += times

    def revoke(self, account: str = ACCOUNT) -> None:
        """Revoke the account's grants (as "revoke sessions" in Entra does)."""
        for token, owner in list(self.refresh_tokens.items()):
            if owner == account:
                del self.refresh_tokens[token]
                self.revoked.add(token)

    def expire_access_tokens(self) -> None:
        self.access_tokens.clear()

    def issue(self, account: str = ACCOUNT) -> tuple[str, str]:
        """An access and a refresh token for ``account``, as after a sign-in."""
        access = _jwt_shaped(
            {
                "aud": "https://graph.microsoft.com",
                "upn": account,
                "unique_name": account,
                "scp": "Calendars.Read",
                "n": next(self._ids),
            }
        )
        refresh = f"1.AXkA-fake-refresh-{secrets.token_urlsafe(12)}"
        self.access_tokens[access] = account
        self.refresh_tokens[refresh] = account
        return access, refresh

    # ------------------------------------------------------------ calendar controls

    def fail_graph(
        self, status: int, *, retry_after: str | None = None, times: int = 1, code: str = ""
    ) -> None:
        """Answer the next ``times`` Graph requests with ``status`` instead."""
        codes = {429: "TooManyRequests", 503: "ServiceUnavailable", 410: "SyncStateNotFound"}
        body = _graph_error(code or codes.get(status, "UnknownError"), "Injected by the test.")
        self._graph_failures.extend([Failure(status, body, retry_after)] * times)

    def fail_identity(self, status: int, *, retry_after: str | None = None) -> None:
        """Answer the next device-code or token request with ``status`` instead."""
        body = _aad_error("temporarily_unavailable", 90033, "A transient error has occurred.")
        self._identity_failures.append(Failure(status, body, retry_after))

    def _identity_failure(self) -> web.Response | None:
        if not self._identity_failures:
            return None
        failure = self._identity_failures.pop(0)
        headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
        return web.json_response(failure.body, status=failure.status, headers=headers)

    def expire_delta_tokens(self) -> None:
        """Every delta and skip token given so far now answers 410 Gone."""
        self._rounds.clear()
        self._pages.clear()

    def add_event(
        self,
        subject: str,
        start: datetime,
        end: datetime,
        *,
        event_id: str | None = None,
        all_day: bool = False,
        body: str = "",
        show_as: str = "busy",
        response: str = "organizer",
        cancelled: bool = False,
    ) -> str:
        event_id = event_id or f"AAMkAGI2TG93AAA{next(self._ids)}="
        self.events[event_id] = {
            "@odata.type": "#microsoft.graph.event",
            "id": event_id,
            "subject": subject,
            "bodyPreview": body[:255],
            "body": {"contentType": "html", "content": f"<html><body>{body}</body></html>"},
            "start": graph_time(start),
            "end": graph_time(end),
            "isAllDay": all_day,
            "isCancelled": cancelled,
            "showAs": show_as,
            "type": "singleInstance",
            "seriesMasterId": None,
            "originalStart": None,
            "responseStatus": {"response": response, "time": "0001-01-01T00:00:00Z"},
            "organizer": {"emailAddress": {"name": "Ada", "address": ACCOUNT}},
            "attendees": [],
        }
        self._touch(event_id)
        return event_id

    def add_series(
        self, subject: str, first: datetime, length: timedelta, weeks: int, *, body: str = ""
    ) -> tuple[str, list[str]]:
        """A weekly series: its master and ``weeks`` occurrences; returns their ids."""
        master = self.add_event(subject, first, first + length, body=body)
        self.events[master].update(
            type="seriesMaster",
            recurrence={
                "pattern": {
                    "type": "weekly",
                    "interval": 1,
                    "daysOfWeek": [first.strftime("%A").lower()],
                },
                "range": {
                    "type": "numbered",
                    "startDate": first.date().isoformat(),
                    "numberOfOccurrences": weeks,
                },
            },
        )
        ids = []
        for week in range(weeks):
            start = first + timedelta(weeks=week)
            occ = self.add_event(
                subject, start, start + length, event_id=f"{master[:-1]}_OCC{week}="
            )
            self.events[occ].update(
                type="occurrence",
                seriesMasterId=master,
                originalStart=start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
            ids.append(occ)
        return master, ids

    def update(self, event_id: str, **changes: Any) -> None:
        self.events[event_id].update(changes)
        self._touch(event_id)

    def cancel(self, event_id: str) -> None:
        """The organiser cancelled it: attendees' copies say so (Outlook adds "Canceled:")."""
        event = self.events[event_id]
        subject = event["subject"]
        self.update(event_id, isCancelled=True, subject=f"Canceled: {subject}")

    def remove(self, event_id: str) -> None:
        del self.events[event_id]
        self.versions.pop(event_id, None)

    def _touch(self, event_id: str) -> None:
        self.versions[event_id] = next(self._ids)

    # ------------------------------------------------------------ identity platform

    async def _devicecode(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.token_forms.append(form)
        self.token_content_types.append(request.content_type)
        if (failure := self._identity_failure()) is not None:
            return failure
        if form.get("client_id") != self.client_id:
            return web.json_response(
                _aad_error(
                    "unauthorized_client", 700016, "Application not found in the directory."
                ),
                status=400,
            )
        device_code = f"DAQABAAEAAAD--DLA3VO7QrddgJg7Wevr{secrets.token_urlsafe(24)}"
        user_code = secrets.token_hex(4).upper()
        self.sign_ins[user_code] = SignIn(device_code, user_code)
        return web.json_response(
            {
                "user_code": user_code,
                "device_code": device_code,
                "verification_uri": VERIFICATION_URI,
                "expires_in": 900,
                "interval": 5,
                "message": f"To sign in, use a web browser to open the page {VERIFICATION_URI} "
                f"and enter the code {user_code} to authenticate.",
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.token_forms.append(form)
        self.token_content_types.append(request.content_type)
        if (failure := self._identity_failure()) is not None:
            return failure
        if form.get("client_id") != self.client_id:
            error = _aad_error("invalid_client", 700016, "Application not found in the directory.")
            return web.json_response(error, status=400)
        if form.get("grant_type") == "urn:ietf:params:oauth:grant-type:device_code":
            return self._device_token(form.get("device_code", ""))
        if form.get("grant_type") == "refresh_token":
            return self._refresh(form.get("refresh_token", ""))
        error = _aad_error(
            "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
        )
        return web.json_response(error, status=400)

    def _device_token(self, device_code: str) -> web.Response:
        sign_in = next((s for s in self.sign_ins.values() if s.device_code == device_code), None)
        if sign_in is None:
            error = _aad_error(
                "bad_verification_code",
                70000,
                "The provided value for the input parameter 'device_code' is not valid.",
            )
            return web.json_response(error, status=400)
        if sign_in.slow_downs:
            sign_in.slow_downs -= 1
            return web.json_response(
                _aad_error("slow_down", 70016, "Polling too fast."), status=400
            )
        errors = {
            "pending": (
                "authorization_pending",
                70016,
                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            ),
            "declined": (
                "authorization_declined",
                70000,
                "The user declined to authorize the request.",
            ),
            "expired": ("expired_token", 70019, "Verification code expired."),
            "redeemed": ("invalid_grant", 54005, "OAuth2 Authorization code was already redeemed."),
        }
        if sign_in.state in errors:
            return web.json_response(_aad_error(*errors[sign_in.state]), status=400)
        sign_in.state = "redeemed"
        access, refresh = self.issue(sign_in.account)
        return web.json_response(self._token_answer(access, refresh))

    def _refresh(self, token: str) -> web.Response:
        if token in self.revoked:
            error = _aad_error(
                "invalid_grant",
                50173,
                "The provided grant has expired due to it being revoked, "
                "a fresh auth token is needed.",
            )
            return web.json_response(error, status=400)
        account = self.refresh_tokens.get(token)
        if account is None:
            error = _aad_error(
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token has expired due to inactivity.",
            )
            return web.json_response(error, status=400)
        if self.require_interaction:
            error = _aad_error(
                "interaction_required",
                50076,
                "Due to a configuration change made by your administrator, "
                "you must use multi-factor authentication.",
            )
            return web.json_response(error, status=400)
        access, refresh = self.issue(account)
        if not self.rotate:
            del self.refresh_tokens[refresh]
            return web.json_response(self._token_answer(access, None))
        return web.json_response(self._token_answer(access, refresh))

    @staticmethod
    def _token_answer(access: str, refresh: str | None) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": "https://graph.microsoft.com/Calendars.Read",
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": access,
        }
        if refresh is not None:
            answer["refresh_token"] = refresh
        return answer

    # ------------------------------------------------------------ Graph

    def _graph_refusal(self, request: web.Request) -> web.Response | None:
        authorization = request.headers.get("Authorization", "")
        self.graph_requests.append(
            GraphRequest(request.path_qs, authorization, request.headers.getall("Prefer", []))
        )
        if self._graph_failures:
            failure = self._graph_failures.pop(0)
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            return web.json_response(failure.body, status=failure.status, headers=headers)
        if authorization.removeprefix("Bearer ") not in self.access_tokens:
            body = _graph_error(
                "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired."
            )
            return web.json_response(body, status=401)
        return None

    def _page_size(self, request: web.Request) -> int:
        for value in request.headers.getall("Prefer", []):
            for part in value.split(","):
                name, _, number = part.strip().partition("=")
                if name == "odata.maxpagesize" and number.isdigit():
                    return max(1, int(number))
        return 10

    def _visible(self, start: datetime, end: datetime) -> dict[str, int]:
        """Ids and versions of the events a calendar view of the window lists."""
        seen = {}
        for event_id, event in self.events.items():
            if event["type"] == "seriesMaster" and not self.masters_in_delta:
                continue
            begin = datetime.fromisoformat(event["start"]["dateTime"][:19]).replace(tzinfo=UTC)
            finish = datetime.fromisoformat(event["end"]["dateTime"][:19]).replace(tzinfo=UTC)
            if event["type"] == "seriesMaster" or (begin < end and finish > start):
                seen[event_id] = self.versions[event_id]
        return seen

    def _render(self, event_id: str) -> dict[str, Any]:
        event = self.events[event_id]
        shown = {"@odata.etag": f'W/"{self.versions[event_id]}"', **event}
        if event["type"] == "occurrence":  # a stub: no subject, body or status
            keep = (
                "@odata.type",
                "@odata.etag",
                "id",
                "type",
                "seriesMasterId",
                "originalStart",
                "start",
                "end",
            )
            shown = {k: shown[k] for k in keep}
        return shown

    async def _delta(self, request: web.Request) -> web.Response:
        refusal = self._graph_refusal(request)
        if refusal is not None:
            return refusal
        query = request.query
        if "$skiptoken" in query:
            pages = self._pages.pop(query["$skiptoken"], None)
            if pages is None:
                return self._gone()
            return self._page(pages, self._page_size(request))
        if "$deltatoken" in query:
            before = self._rounds.get(query["$deltatoken"])
            if before is None:
                return self._gone()
        else:
            start = datetime.fromisoformat(query["startDateTime"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(query["endDateTime"].replace("Z", "+00:00"))
            before = _Round(start, end, {})
        now = self._visible(before.start, before.end)
        items: list[dict[str, Any]] = [
            {
                "@odata.type": "#microsoft.graph.event",
                "id": event_id,
                "@removed": {"reason": "deleted"},
            }
            for event_id in before.seen
            if event_id not in now
        ]
        items += [self._render(i) for i, version in now.items() if before.seen.get(i) != version]
        return self._page(
            _Pages(items, _Round(before.start, before.end, now)), self._page_size(request)
        )

    def _page(self, pages: _Pages, size: int) -> web.Response:
        body: dict[str, Any] = {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(event)",
            "value": pages.items[:size],
        }
        rest = pages.items[size:]
        token = secrets.token_urlsafe(16)
        base = self.link_base or self.url
        if rest:
            self._pages[token] = _Pages(rest, pages.after)
            body["@odata.nextLink"] = f"{base}/v1.0/me/calendarView/delta?$skiptoken={token}"
        else:
            self._rounds[token] = pages.after
            body["@odata.deltaLink"] = f"{base}/v1.0/me/calendarView/delta?$deltatoken={token}"
        return web.json_response(body)

    @staticmethod
    def _gone() -> web.Response:
        body = _graph_error("SyncStateNotFound", "The sync state generation is not found.")
        return web.json_response(body, status=410)

    async def _event(self, request: web.Request) -> web.Response:
        refusal = self._graph_refusal(request)
        if refusal is not None:
            return refusal
        event = self.events.get(request.match_info["id"])
        if event is None:
            body = _graph_error(
                "ErrorItemNotFound", "The specified object was not found in the store."
            )
            return web.json_response(body, status=404)
        selected = request.query.get("$select")
        shown = self._render(event["id"])
        if selected:
            names = {"id", "@odata.etag", *selected.split(",")}
            shown = {k: v for k, v in shown.items() if k in names}
        context = "https://graph.microsoft.com/v1.0/$metadata#users('me')/events/$entity"
        return web.json_response({"@odata.context": context, **shown})

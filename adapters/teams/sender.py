"""Sending to Teams: the Bot Connector REST API over one shared httpx client.

`POST {serviceUrl}v3/conversations/{id}/activities` posts an activity and `PUT
.../activities/{activity id}` replaces one (a card after a press), each with the bot's
own `Bearer` token (`ClientCredentials`, cached). Plain httpx rather than the SDK's
`ConnectorClient`: the token check and the token provider already share this client's
connection pool, so a reply costs no session set-up, and the SDK's client closes the
aiohttp session it is given. The service URL is the one the activity's token vouched for.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx

from adapters.teams.tokens import ClientCredentials

log = logging.getLogger("cpdbot.teams")


class ConnectorError(Exception):
    """The connector refused or failed a call (`status` 0: no answer at all).

    `retry_after`: the seconds a 429's `Retry-After` asked for (None when absent)."""

    def __init__(self, status: int, what: str, retry_after: float | None = None) -> None:
        super().__init__(f"{what}: HTTP {status}" if status else what)
        self.status = status
        self.retry_after = retry_after


class Connector:
    def __init__(self, http: httpx.AsyncClient, credentials: ClientCredentials) -> None:
        self.http = http
        self.credentials = credentials

    async def post(self, service_url: str, conversation_id: str, activity: dict[str, Any]) -> str:
        """Post an activity to a conversation; returns its id ("" if none came back)."""
        response = await self._call("POST", _activities(service_url, conversation_id), activity)
        try:
            return str(response.json().get("id") or "")
        except (ValueError, AttributeError):
            return ""

    async def update(
        self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]
    ) -> None:
        url = f"{_activities(service_url, conversation_id)}/{quote(activity_id, safe='')}"
        await self._call("PUT", url, activity)

    async def _call(self, method: str, url: str, body: dict[str, Any]) -> httpx.Response:
        for attempt in (1, 2):
            token = await self.credentials.get_access_token("", [], force_refresh=attempt > 1)
            try:
                response = await self.http.request(
                    method, url, json=body, headers={"Authorization": f"Bearer {token}"}
                )
            except httpx.HTTPError as exc:
                raise ConnectorError(
                    0, f"{method} to the connector: {type(exc).__name__}"
                ) from None
            if response.status_code == 401 and attempt == 1:
                continue  # the token may have been revoked early: one fresh try
            if response.status_code >= 400:
                raise ConnectorError(
                    response.status_code,
                    f"{method} to the connector",
                    retry_after(response.headers.get("Retry-After")),
                )
            return response
        raise AssertionError("unreachable")


def retry_after(value: str | None) -> float | None:
    """A `Retry-After` header's delay in seconds (the delta form; None if absent or odd)."""
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds < 86_400 else None


def _activities(service_url: str, conversation_id: str) -> str:
    base = service_url if service_url.endswith("/") else service_url + "/"
    return f"{base}v3/conversations/{quote(conversation_id, safe='')}/activities"

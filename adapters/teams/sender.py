"""Sending to Teams: the Bot Connector REST API over one long-lived aiohttp session.

`POST {serviceUrl}v3/conversations/{id}/activities` posts an activity and `PUT
.../activities/{activity id}` replaces one (a card after a press), each with the bot's
own `Bearer` token (`ClientCredentials`, cached). Plain aiohttp rather than the SDK's
`ConnectorClient` (which closes the session it is given): one session, opened with
`connector_session()` and closed by its owner, keeps the connections to the connector
alive, so a reply costs no set-up. aiohttp rather than httpx here because every reply and
card update goes this way and httpx cost about half the event loop's CPU under load
(bench/teams.py); the token check and the token provider, rare calls, keep httpx. The
service URL is the one the activity's token vouched for (TEAMS_DEV_NO_AUTH without
credentials: no token either way, and loopback service URLs only).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from adapters.teams.options import is_loopback_url
from adapters.teams.tokens import ClientCredentials

log = logging.getLogger("cpdbot.teams")

# As httpx.Timeout(10.0, connect=5.0) was: 5 s to connect, 10 s for a free connection
# from the pool (and the connect), 10 s between reads of the answer.
CONNECTOR_TIMEOUT = aiohttp.ClientTimeout(sock_connect=5.0, connect=10.0, sock_read=10.0)
CONNECTIONS = 100  # open at once, as httpx's default pool


def connector_session() -> aiohttp.ClientSession:
    """The session a `Connector` sends with (call in a running event loop; the caller
    closes it). The environment's proxy settings are honoured, as httpx did, by the
    `Connector` (read once per origin) rather than by `trust_env`, which reads them and
    ~/.netrc on a thread at every call (two thread hops a reply, bench/teams.py) and fails
    every call when ~/.netrc names the connector's host (its password next to our token)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=CONNECTIONS),
        timeout=CONNECTOR_TIMEOUT,
        trust_env=False,
    )


class ConnectorError(Exception):
    """The connector refused or failed a call (`status` 0: no answer at all).

    `retry_after`: the seconds a 429's `Retry-After` asked for (None when absent)."""

    def __init__(self, status: int, what: str, retry_after: float | None = None) -> None:
        super().__init__(f"{what}: HTTP {status}" if status else what)
        self.status = status
        self.retry_after = retry_after


class Connector:
    """`credentials` None: TEAMS_DEV_NO_AUTH with no password or certificate (the Agents
    Playground's anonymous mode). Calls then carry no `Authorization` header and go only
    to a loopback service URL; any other is refused (`ConnectorError`, logged)."""

    def __init__(
        self, session: aiohttp.ClientSession, credentials: ClientCredentials | None
    ) -> None:
        self.session = session
        self.credentials = credentials
        self._proxies: dict[str, tuple[URL | None, aiohttp.BasicAuth | None]] = {}

    async def post(self, service_url: str, conversation_id: str, activity: dict[str, Any]) -> str:
        """Post an activity to a conversation; returns its id ("" if none came back)."""
        body = await self._call("POST", _activities(service_url, conversation_id), activity)
        try:
            return str(json.loads(body).get("id") or "")
        except (ValueError, AttributeError):
            return ""

    async def update(
        self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]
    ) -> None:
        url = f"{_activities(service_url, conversation_id)}/{quote(activity_id, safe='')}"
        await self._call("PUT", url, activity)

    async def _call(self, method: str, url: str, body: dict[str, Any]) -> bytes:
        """The answer's body; `ConnectorError` for an error status or no answer."""
        if self.credentials is None and not is_loopback_url(url):
            log.warning("teams: no credentials (TEAMS_DEV_NO_AUTH): not sending off loopback")
            raise ConnectorError(0, f"{method} to the connector: not a loopback service URL")
        proxy, proxy_auth = await self._proxy(url)
        for attempt in (1, 2):
            headers = await self._authorization(force_refresh=attempt > 1)
            try:
                async with self.session.request(
                    method, url, json=body, headers=headers, proxy=proxy, proxy_auth=proxy_auth
                ) as response:
                    status = response.status
                    if status == 401 and attempt == 1 and headers:
                        continue  # the token may have been revoked early: one fresh try
                    if status >= 400:
                        raise ConnectorError(
                            status,
                            f"{method} to the connector",
                            retry_after(response.headers.get("Retry-After")),
                        )
                    return await response.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise ConnectorError(
                    0, f"{method} to the connector: {type(exc).__name__}"
                ) from None
        raise AssertionError("unreachable")

    async def _proxy(self, url: str) -> tuple[URL | None, aiohttp.BasicAuth | None]:
        """The proxy HTTPS_PROXY / HTTP_PROXY name for `url` (NO_PROXY honoured), or None:
        read from the environment the first time an origin is called."""
        target = URL(url)
        origin = str(target.origin())
        found = self._proxies.get(origin)
        if found is None:
            try:
                found = await asyncio.to_thread(get_env_proxy_for_url, target)
            except LookupError:
                found = (None, None)
            if len(self._proxies) >= 64:  # service URLs are few; never grow without end
                self._proxies.clear()
            self._proxies[origin] = found
        return found

    async def bearer(self, url: str, service_url: str) -> dict[str, str]:
        """The bot's `Authorization` header for fetching `url` (an image a person pasted,
        kept by the connector), given only when `url` is on the activity's service URL's
        origin: the token never goes anywhere else. Empty otherwise, or without
        credentials (TEAMS_DEV_NO_AUTH)."""
        if URL(url).origin() != URL(service_url).origin():
            return {}
        return await self._authorization(force_refresh=False)

    async def _authorization(self, force_refresh: bool) -> dict[str, str]:
        if self.credentials is None:
            return {}
        token = await self.credentials.get_access_token("", [], force_refresh=force_refresh)
        return {"Authorization": f"Bearer {token}"}


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

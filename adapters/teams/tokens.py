"""The bot's own access token for what it sends to Teams (OAuth 2.0 client credentials).

`ClientCredentials` posts the app id and password to `TEAMS_TOKEN_URL`
(`https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token` by default) and keeps
the token until five minutes before it expires; callers who ask at the same time share
one request. It has the shape of the Agents SDK's `AccessTokenProviderBase` (hosting-core
1.9), so the adapter can hand it to the SDK's `CloudAdapter` through a `Connections`
object: the SDK's own MSAL provider refuses a token URL that is not https, which rules
out the local fake the tests use. The SDK is imported only where one of its types must be
returned, so importing this module loads no Microsoft library. Neither the secret nor a
token is ever logged or put in an error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

log = logging.getLogger(__name__)

BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
REFRESH_BEFORE = timedelta(minutes=5)


def token_url_for(tenant_id: str | None) -> str:
    """Microsoft's token endpoint for a single-tenant bot (or the Bot Framework's)."""
    tenant = tenant_id or "botframework.com"
    return f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"


class TokenError(Exception):
    """The bot could not get its access token. The message never holds the secret."""


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
        client_secret: str,
        scope: str,
        http: httpx.AsyncClient,
        clock: Callable[[], datetime],
        *,
        tenant_id: str | None = None,
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError("ClientCredentials needs the app id and password")
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
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
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._secret,
            "scope": self.scope,
        }
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
        text = text.replace(self._secret, "***")
        return f" ({text})" if text else ""

"""The Teams adapter's own settings (built by the app from its configuration)."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.teams.auth import DEFAULT_OPENID_METADATA_URL
from adapters.teams.tokens import token_url_for


@dataclass(frozen=True)
class TeamsSettings:
    """TEAMS_APP_ID, TEAMS_APP_PASSWORD, TEAMS_TENANT_ID, TEAMS_HOST/TEAMS_PORT,
    TEAMS_OPENID_METADATA_URL, TEAMS_TOKEN_URL and TEAMS_DEV_NO_AUTH.

    The listen address defaults to loopback, as Telegram's webhook does: the Bot Connector
    only calls https endpoints, so a TLS-terminating proxy sits in front of this plain-HTTP
    listener (set TEAMS_HOST=0.0.0.0 when the proxy is on another host).
    """

    app_id: str | None = None
    app_password: str | None = None
    tenant_id: str | None = None
    host: str = "127.0.0.1"
    port: int = 3978
    openid_metadata_url: str | None = None
    token_url: str | None = None
    # TEAMS_DEV_NO_AUTH: incoming tokens are not checked (the Agents Playground sends none).
    # Local development only: refused unless `host` is a loopback address.
    dev_no_auth: bool = False

    @property
    def metadata_url(self) -> str:
        return self.openid_metadata_url or DEFAULT_OPENID_METADATA_URL

    @property
    def outbound_token_url(self) -> str:
        return self.token_url or token_url_for(self.tenant_id)

"""The Teams adapter's own settings (built by the app from its configuration)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from adapters.teams.auth import DEFAULT_OPENID_METADATA_URL
from adapters.teams.tokens import Certificate, load_certificate, token_url_for


@dataclass(frozen=True)
class TeamsSettings:
    """TEAMS_APP_ID, TEAMS_APP_PASSWORD or TEAMS_APP_CERTIFICATE (and
    TEAMS_APP_CERTIFICATE_KEY), TEAMS_TENANT_ID, TEAMS_HOST/TEAMS_PORT,
    TEAMS_OPENID_METADATA_URL, TEAMS_TOKEN_URL and TEAMS_DEV_NO_AUTH.

    The listen address defaults to loopback, as Telegram's webhook does: the Bot Connector
    only calls https endpoints, so a TLS-terminating proxy sits in front of this plain-HTTP
    listener (set TEAMS_HOST=0.0.0.0 when the proxy is on another host).
    """

    app_id: str | None = None
    app_password: str | None = None
    # A PEM file with the app's certificate and its private key (the certificate, or its
    # public part, uploaded to the app registration); the key may be in its own file.
    app_certificate: str | None = None
    app_certificate_key: str | None = None
    tenant_id: str | None = None
    host: str = "127.0.0.1"
    port: int = 3978
    openid_metadata_url: str | None = None
    token_url: str | None = None
    # TEAMS_DEV_NO_AUTH: incoming tokens are not checked (the Agents Playground sends none).
    # Local development only: refused unless `host` is a loopback address. Without a
    # password or certificate, replies go out with no token, to loopback service URLs only.
    dev_no_auth: bool = False

    @property
    def metadata_url(self) -> str:
        return self.openid_metadata_url or DEFAULT_OPENID_METADATA_URL

    @property
    def outbound_token_url(self) -> str:
        return self.token_url or token_url_for(self.tenant_id)

    @property
    def anonymous(self) -> bool:
        """Dev mode with no password or certificate: nothing signs what the bot sends."""
        return self.dev_no_auth and not (self.app_password or self.app_certificate)


def credential_of(settings: TeamsSettings, now: datetime) -> str | Certificate | None:
    """What the bot proves itself with when it gets its token: the password, the loaded
    certificate, or None (TEAMS_DEV_NO_AUTH without either). `ValueError` (one line)
    when the settings cannot work: both set, an unreadable or unusable certificate file,
    an expired certificate, no app id."""
    password, certificate = settings.app_password, settings.app_certificate
    if password and certificate:
        raise ValueError(
            "TEAMS_APP_PASSWORD and TEAMS_APP_CERTIFICATE are both set: keep the one the app "
            "registration uses and remove the other."
        )
    if settings.app_certificate_key and not certificate:
        raise ValueError("TEAMS_APP_CERTIFICATE_KEY is set without TEAMS_APP_CERTIFICATE.")
    if not password and not certificate:
        if settings.dev_no_auth:
            return None
        raise ValueError("TEAMS_APP_PASSWORD or TEAMS_APP_CERTIFICATE is not set.")
    if not settings.app_id:
        raise ValueError(
            "TEAMS_APP_ID is required when TEAMS_APP_PASSWORD or TEAMS_APP_CERTIFICATE is set."
        )
    if password:
        return password
    assert certificate is not None
    loaded = load_certificate(certificate, settings.app_certificate_key)
    loaded.check_dates(now)
    return loaded


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: reachable only from this machine."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    """An http(s) URL whose host is a loopback address (see `is_loopback`)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and is_loopback(parts.hostname or "")

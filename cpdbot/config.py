"""Settings from the environment and `.env` (see .env.example)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(ValueError):
    """Settings a configured platform cannot run with (the message says which and why)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_file_encoding="utf-8")

    database_url: str | None = None
    cpdbot_schemes_dir: Path | None = None
    log_level: str = "WARNING"
    log_format: str = "text"  # text (key=value) or json: one line per handled event
    scheduler_enabled: bool = True

    telegram_bot_token: str | None = None
    telegram_base_url: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_webhook_port: int = 8443
    # Address the webhook endpoint binds to (plain HTTP, behind a TLS-terminating proxy).
    telegram_webhook_listen: str = "127.0.0.1"

    slack_bot_token: str | None = None
    slack_app_token: str | None = None
    slack_signing_secret: str | None = None
    slack_http_port: int = Field(default=3000)
    slack_http_host: str = "0.0.0.0"
    slack_api_url: str | None = None

    # The bot's Microsoft Entra app id (a GUID): `cpdbot teams package` puts it in the
    # Teams app package (manifest/teams/README.md).
    teams_app_id: str | None = None
    # Set with TEAMS_APP_ID, `cpdbot run` serves Teams at /api/messages (docs: issue 14).
    teams_app_password: str | None = None
    teams_tenant_id: str | None = None  # single-tenant registration: the organisation's
    # Plain HTTP behind a TLS-terminating proxy (the connector calls https only).
    teams_host: str = "127.0.0.1"
    teams_port: int = 3978
    teams_openid_metadata_url: str | None = None  # default: the Bot Framework's
    teams_token_url: str | None = None  # default: login.microsoftonline.com/<tenant>
    # Local development only (docs/teams.md): incoming tokens are not checked; refused
    # unless TEAMS_HOST is a loopback address.
    teams_dev_no_auth: bool = False

    # Calendar feeds on private, loopback or link-local addresses (self-hosting, tests).
    calendar_allow_private_networks: bool = False
    # How often each connected calendar is read (minutes).
    calendar_poll_minutes: int = Field(default=10, ge=1)
    # Progress charts on scheduled messages are drawn in this many worker processes, off
    # the process that answers chats (0: in a thread of the bot's own process).
    chart_processes: int = Field(default=2, ge=0)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token)

    @property
    def teams_enabled(self) -> bool:
        """TEAMS_APP_PASSWORD set (TEAMS_APP_ID alone only builds the app package)."""
        return bool(self.teams_app_password)

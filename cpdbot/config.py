"""Settings from the environment and `.env` (see .env.example)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from bot.services.calendar.graph_auth import MicrosoftEndpoints
    from bot.services.evidence import EvidenceSettings


class ConfigError(ValueError):
    """Settings a configured platform cannot run with (the message says which and why)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_file_encoding="utf-8")

    database_url: str | None = None
    cpdbot_schemes_dir: Path | None = None
    # Encrypts calendar sign-ins and passwords at rest: a Fernet key (`cpdbot secret-key`),
    # or several separated by commas, newest first (key rotation). Never printed.
    cpdbot_secret_key: SecretStr | None = None
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
    # Or, instead of the password: a PEM file with the certificate uploaded to the app
    # registration and its private key (the key may be in its own file, _KEY).
    teams_app_certificate: str | None = None
    teams_app_certificate_key: str | None = None
    teams_tenant_id: str | None = None  # single-tenant registration: the organisation's
    # Plain HTTP behind a TLS-terminating proxy (the connector calls https only).
    teams_host: str = "127.0.0.1"
    teams_port: int = 3978
    teams_openid_metadata_url: str | None = None  # default: the Bot Framework's
    teams_token_url: str | None = None  # default: login.microsoftonline.com/<tenant>
    # Local development only (docs/teams.md): incoming tokens are not checked; refused
    # unless TEAMS_HOST is a loopback address. Alone (no password or certificate) it runs
    # Teams for the Agents Playground: replies unsigned, to loopback service URLs only.
    teams_dev_no_auth: bool = False

    # Calendar feeds on private, loopback or link-local addresses (self-hosting, tests).
    calendar_allow_private_networks: bool = False
    # How often each connected calendar is read (minutes).
    calendar_poll_minutes: int = Field(default=10, ge=1)
    # Comma-separated words that make an all-day event time away ("annual leave, holiday");
    # empty: the built-in list (learning.ABSENCE_WORDS). Read with `absence_words()`.
    calendar_absence_words: str = ""
    # Outlook calendars through Microsoft Graph (issue 15): the public client app
    # registration's id (none: /calendar outlook is off), the tenant, and where the
    # identity platform and Graph are (tests and national clouds change them).
    microsoft_client_id: str | None = None
    microsoft_tenant: str = "organizations"
    microsoft_login_url: str = "https://login.microsoftonline.com"
    graph_url: str = "https://graph.microsoft.com"
    # Progress charts on scheduled messages are drawn in this many worker processes, off
    # the process that answers chats (0: in a thread of the bot's own process).
    chart_processes: int = Field(default=2, ge=0)
    # Evidence files members send (issue 16, docs/evidence.md): the largest file kept, each
    # member's total, and where the bytes go (unset: in the database, which every worker
    # shares; a folder: files named by their SHA-256 there, for one machine).
    evidence_max_mb: float = Field(default=10, gt=0, le=1024)
    evidence_quota_mb: float = Field(default=200, gt=0)
    evidence_dir: Path | None = None

    @field_validator("evidence_dir", mode="before")
    @classmethod
    def _no_empty_dir(cls, value: object) -> object:
        """EVIDENCE_DIR= (empty, as in .env.example) is unset, not the current folder."""
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def secret_key(self) -> SecretStr | None:
        """CPDBOT_SECRET_KEY (the field has the prefix so that a SECRET_KEY meant for
        something else in the environment is not taken for it)."""
        return self.cpdbot_secret_key

    def absence_words(self) -> tuple[str, ...]:
        """CALENDAR_ABSENCE_WORDS as words (the defaults when empty); a malformed value
        is a `ConfigError` naming the setting and the bad item, in one line."""
        from bot.services.calendar.learning import parse_absence_words

        try:
            return parse_absence_words(self.calendar_absence_words)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    def evidence(self) -> EvidenceSettings:
        """EVIDENCE_MAX_MB, EVIDENCE_QUOTA_MB and EVIDENCE_DIR for the engine."""
        from bot.services.evidence import MB, EvidenceSettings

        directory = self.evidence_dir.expanduser() if self.evidence_dir else None
        return EvidenceSettings(
            max_bytes=int(self.evidence_max_mb * MB),
            quota_bytes=int(self.evidence_quota_mb * MB),
            directory=directory,
        )

    def microsoft_endpoints(self) -> MicrosoftEndpoints | None:
        """Where Outlook sign-ins and calendars are read; None without MICROSOFT_CLIENT_ID."""
        if not self.microsoft_client_id:
            return None
        from bot.services.calendar.graph_auth import MicrosoftEndpoints

        return MicrosoftEndpoints(
            client_id=self.microsoft_client_id,
            login_url=self.microsoft_login_url,
            graph_url=self.graph_url,
            tenant=self.microsoft_tenant,
        )

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token)

    @property
    def teams_enabled(self) -> bool:
        """TEAMS_APP_PASSWORD or TEAMS_APP_CERTIFICATE set, or TEAMS_DEV_NO_AUTH (TEAMS_APP_ID
        alone only builds the app package)."""
        return bool(self.teams_app_password or self.teams_app_certificate or self.teams_dev_no_auth)

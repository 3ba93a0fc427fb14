"""The Slack adapter's own settings (built by the app from its configuration)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SlackSettings:
    """SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SLACK_SIGNING_SECRET, SLACK_HTTP_* and SLACK_API_URL."""

    bot_token: str | None = None
    app_token: str | None = None  # set: Socket Mode; unset: HTTP mode
    signing_secret: str | None = None
    http_host: str = "0.0.0.0"
    http_port: int = 3000
    api_url: str | None = None  # another Web API base URL (a fake one in tests)

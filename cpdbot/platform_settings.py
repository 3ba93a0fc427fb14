"""Each adapter's own settings, taken from the app's configuration (`cpdbot.config.Settings`).

The adapters do not read the configuration themselves: `cpdbot run` (and `cpdbot tick`,
for the senders) hands each one the values it needs. The adapter modules are imported
only when a platform is configured, so building these costs nothing otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters.slack.options import SlackSettings
    from adapters.teams.options import TeamsSettings
    from adapters.telegram.options import TelegramSettings
    from cpdbot.config import Settings


def telegram_settings(settings: Settings) -> TelegramSettings:
    from adapters.telegram.options import TelegramSettings

    return TelegramSettings(
        bot_token=settings.telegram_bot_token,
        base_url=settings.telegram_base_url,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=settings.telegram_webhook_secret,
        webhook_listen=settings.telegram_webhook_listen,
        webhook_port=settings.telegram_webhook_port,
    )


def slack_settings(settings: Settings) -> SlackSettings:
    from adapters.slack.options import SlackSettings

    return SlackSettings(
        bot_token=settings.slack_bot_token,
        app_token=settings.slack_app_token,
        signing_secret=settings.slack_signing_secret,
        http_host=settings.slack_http_host,
        http_port=settings.slack_http_port,
        api_url=settings.slack_api_url,
    )


def teams_settings(settings: Settings) -> TeamsSettings:
    from adapters.teams.options import TeamsSettings

    return TeamsSettings(
        app_id=settings.teams_app_id,
        app_password=settings.teams_app_password,
        app_certificate=settings.teams_app_certificate,
        app_certificate_key=settings.teams_app_certificate_key,
        tenant_id=settings.teams_tenant_id,
        host=settings.teams_host,
        port=settings.teams_port,
        openid_metadata_url=settings.teams_openid_metadata_url,
        token_url=settings.teams_token_url,
        dev_no_auth=settings.teams_dev_no_auth,
    )

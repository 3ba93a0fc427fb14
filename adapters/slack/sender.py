"""Posting to a person's DM with the bot: replies, scheduler messages, file uploads."""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blocks
from bot.core.model import IdentityKey, Outgoing, Unreachable

log = logging.getLogger("cpdbot.slack")

DEFAULT_API_URL = "https://slack.com/api/"
RATE_LIMIT_RETRIES = 3

# Web API errors that mean this person can never be reached here (left, deactivated, or
# DMs with the bot are not allowed): the scheduler stops trying. Errors about the app's
# own token (invalid_auth, token_revoked...) are not about the person: they propagate.
UNREACHABLE_ERRORS = frozenset(
    {
        "account_inactive",
        "cannot_dm_bot",
        "channel_not_found",
        "is_archived",
        "messages_tab_disabled",
        "not_in_channel",
        "restricted_action",
        "team_access_not_granted",
        "user_disabled",
        "user_not_found",
        "user_not_visible",
        "users_not_found",
    }
)


def make_client(
    token: str, api_url: str | None = None, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """A Web API client (base URL overridable: SLACK_API_URL) that honours 429 Retry-After.

    The retry is an asyncio sleep inside that one call, so other people's work carries on.
    """
    client = AsyncWebClient(
        token=token, base_url=api_url or DEFAULT_API_URL, session=session, logger=log
    )
    client.retry_handlers.append(
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)
    )
    return client


def slack_error(exc: SlackApiError) -> str:
    data = exc.response.data if exc.response is not None else None
    return str(data.get("error", "")) if isinstance(data, dict) else ""


class SlackSender:
    """Sends to a person's DM with the bot (never to a channel), within Slack's limits.

    Rate limits: the Web API client retries a 429 after its `Retry-After` (an asyncio sleep
    for that one call), so other people's messages keep flowing meanwhile.
    """

    platform = "slack"

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._dms: dict[IdentityKey, str] = {}

    async def send(self, identity: IdentityKey, chat_id: str | None, reply: Outgoing) -> None:
        """`Sender` for the scheduler: open the DM and post; `Unreachable` if it never will."""
        # `chat_id` is not trusted for where to post: the DM is always looked up (and
        # remembered), so a record can never land in a channel.
        try:
            channel = await self.dm_channel(identity)
            await self.post(channel, reply)
        except SlackApiError as exc:
            error = slack_error(exc)
            if error in UNREACHABLE_ERRORS:
                self._dms.pop(identity, None)
                raise Unreachable(
                    f"slack {identity.workspace}/{identity.user_id}: {error}"
                ) from exc
            raise

    async def dm_channel(self, identity: IdentityKey, known: str | None = None) -> str:
        """The person's DM channel with the bot (`conversations.open`, remembered).

        `known`: the channel of a message.im event from this person, which is that DM.
        """
        channel = known or self._dms.get(identity)
        if channel is None:
            response = await self.client.conversations_open(users=identity.user_id)
            channel = str((response.get("channel") or {})["id"])
        self._dms[identity] = channel
        return channel

    async def post(self, channel: str, reply: Outgoing) -> str | None:
        """Post one reply (uploading its attachment, if any); returns the message ts."""
        if reply.attachment is not None:
            await self.client.files_upload_v2(
                channel=channel,
                content=reply.attachment.content,
                filename=reply.attachment.filename,
                title=reply.attachment.filename,
                initial_comment=reply.text,
            )
            return None
        text, rendered = blocks.message(reply)
        response = await self.client.chat_postMessage(
            channel=channel, text=text, blocks=rendered, unfurl_links=False, unfurl_media=False
        )
        ts = response.get("ts")
        return str(ts) if ts else None

"""The Slack work after the ack: run the engine on a request, post its replies, refresh views.

`SlackBot` (adapters/slack/bolt_app.py) records a request and acks it; the methods here are what
then runs in the person's queue, the same way on a replay after a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.downloads import FETCH_FAILED, FetchFailed, clean_name, fetch, log_failure
from adapters.slack import blocks, translate
from adapters.slack.profiles import Profiles
from adapters.slack.sender import SlackSender, slack_error
from bot.core.model import IdentityKey, Incoming, IncomingFile, Outgoing
from bot.core.zones import local_today, zone_of
from bot.services.db_work import EngineAndInbox
from bot.services.engine import Engine

log = logging.getLogger("cpdbot.slack")

SORRY = (
    "Sorry, something went wrong on my side and nothing was changed. Please try again in a moment."
)
ANSWERED_IN_DM = "I've answered in our direct messages, where your CPD record stays private."


class SlackWork:
    """One workspace's work after the ack (engine steps on `lanes`' engine threads)."""

    def __init__(
        self,
        engine: Engine,
        client: AsyncWebClient,
        session: aiohttp.ClientSession,
        lanes: EngineAndInbox,
    ) -> None:
        self.engine = engine
        self.client = client
        self.session = session
        self.sender = SlackSender(client)
        self.profiles = Profiles(client)
        self._lanes = lanes

    async def step(self, event: Incoming) -> tuple[list[Outgoing], bool]:
        """Run the engine (off the loop): the replies, and whether it was a repeat."""
        handled = await self._lanes.engine(self.engine.process, event)
        return list(handled.replies), handled.duplicate

    async def deliver(
        self, channel: str, replies: Sequence[Outgoing], event: Incoming | None = None
    ) -> None:
        """Post the replies; then the engine stops keeping `event`'s for a replay."""
        for reply in replies:
            await self.sender.post(channel, reply)
        if replies and event is not None and event.dedupe_key:
            await self._lanes.engine(self.engine.delivered, event)

    async def step_and_deliver(self, event: Incoming, channel: str) -> bool:
        """Handle an event whose replies go to the person's DM; True if it was a repeat
        (which has no replies)."""
        try:
            replies, duplicate = await self.step(event)
        except Exception:
            log.exception("slack: the engine failed on a %s event", event.kind)
            replies, duplicate = [Outgoing(SORRY)], False
        await self.deliver(channel, replies, event)
        return duplicate

    async def respond(self, response_url: str, text: str) -> None:
        """An ephemeral note (only the person sees it) where they used the slash command."""
        webhook = AsyncWebhookClient(response_url, session=self.session, logger=log)
        await webhook.send(text=text, response_type="ephemeral", replace_original=False)

    def today(self, zone: str | None) -> date:
        return local_today(self.engine.clock(), zone_of(zone or "UTC"))

    async def open_modal(self, key: IdentityKey, trigger_id: str) -> None:
        profile = await self.profiles.get(key)
        fields = await self._lanes.engine(self.engine.entry_form, key, profile.tz)
        view = blocks.entry_modal(fields, self.today(profile.tz))
        await self.client.views_open(trigger_id=trigger_id, view=view)

    async def open_secret(self, trigger_id: str, field_id: str, label: str, title: str) -> None:
        """The modal a secret is typed in (its button was pressed)."""
        view = blocks.secret_modal(field_id, label, title)
        await self.client.views_open(trigger_id=trigger_id, view=view)

    async def secret_submitted(
        self, key: IdentityKey, view: Mapping[str, Any], trigger: object
    ) -> None:
        """The secret's modal sent: a form {field: value} for the engine, answered in the DM."""
        profile = await self.profiles.get(key)
        dm = await self.sender.dm_channel(key)
        incoming = translate.form(view, key, profile, str(trigger) if trigger else None)
        await self.step_and_deliver(replace(incoming, chat_id=dm), dm)

    async def publish_home(self, key: IdentityKey) -> None:
        profile = await self.profiles.get(key)
        replies = await self._lanes.engine(self.engine.home, key, profile.tz)
        await self.client.views_publish(user_id=key.user_id, view=blocks.home_view(replies))

    async def direct_message(self, key: IdentityKey, body: Mapping[str, Any]) -> None:
        event = body["event"]
        channel = await self.sender.dm_channel(key, str(event["channel"]))
        profile = await self.profiles.get(key)
        incoming = translate.direct_message(event, key, profile, body.get("event_id"))
        await self.step_and_deliver(incoming, channel)

    async def files_shared(self, key: IdentityKey, body: Mapping[str, Any]) -> None:
        """Files shared in the DM: each fetched (`files.info`, then its private download
        URL with the bot token) and handed to the engine as its own event."""
        event = body["event"]
        channel = await self.sender.dm_channel(key, str(event["channel"]))
        profile = await self.profiles.get(key)
        for index, file_id in enumerate(translate.shared_files(event)):
            incoming = translate.file_share(event, key, profile, body.get("event_id"), index)
            file = await self.fetch_file(file_id)
            if file is None:
                await self.deliver(channel, [Outgoing(FETCH_FAILED.format(platform="Slack"))])
                continue
            await self.step_and_deliver(replace(incoming, file=file), channel)

    async def fetch_file(self, file_id: str) -> IncomingFile | None:
        """A shared file, at most EVIDENCE_MAX_MB of it (None: Slack would not hand it over).

        `files.info` gives the size (checked before any download) and `url_private_download`,
        which needs the bot token (the files:read scope)."""
        limit = self.engine.evidence.max_bytes
        try:
            response = await self.client.files_info(file=file_id)
            info = response.get("file") or {}
            name = clean_name(info.get("name") or info.get("title"), f"{file_id}.bin")
            url = str(info.get("url_private_download") or info.get("url_private") or "")
            return await fetch(
                self.session,
                url,
                name=name,
                limit=limit,
                declared=int(info.get("size") or 0),
                mime_hint=str(info.get("mimetype") or ""),
                headers={"Authorization": f"Bearer {self.client.token}"},
            )
        except SlackApiError as exc:  # its text would quote the whole answer: the code only
            log_failure(translate.PLATFORM, FetchFailed(f"files.info: {slack_error(exc)}"))
        except (FetchFailed, ValueError, TypeError) as exc:
            log_failure(translate.PLATFORM, exc)
        return None

    async def mention(
        self, key: IdentityKey, body: Mapping[str, Any], bot_user_id: str | None
    ) -> None:
        event = body["event"]
        profile = await self.profiles.get(key)
        incoming = translate.mention(event, key, profile, body.get("event_id"), bot_user_id)
        replies, _ = await self.step(incoming)
        # Not private: the dialogue only points to the DM. Shown to this person alone.
        for reply in replies:
            text, rendered = blocks.message(Outgoing(reply.text))
            await self.client.chat_postEphemeral(
                channel=str(event["channel"]),
                user=key.user_id,
                text=text,
                blocks=rendered,
                thread_ts=event.get("thread_ts"),
            )
        if replies and incoming.dedupe_key:
            await self._lanes.engine(self.engine.delivered, incoming)

    async def command(self, key: IdentityKey, body: Mapping[str, Any]) -> None:
        incoming = translate.slash_command(body, key, await self.profiles.get(key))
        if incoming is None:
            return
        dm = await self.sender.dm_channel(key)
        if await self.step_and_deliver(replace(incoming, chat_id=dm), dm):
            return  # done before a restart: so was the pointer below
        response_url = body.get("response_url")
        if body.get("channel_id") != dm and response_url:
            await self.respond(str(response_url), ANSWERED_IN_DM)

    async def press(
        self, key: IdentityKey, body: Mapping[str, Any], action: Mapping[str, Any]
    ) -> None:
        container = body.get("container") or {}
        in_view = container.get("type") == "view"
        # Where the reply goes comes from who pressed (their DM, opened for them), never
        # from the channel the payload names: that could be someone else's DM.
        dm = await self.sender.dm_channel(key)
        in_dm = container.get("type") == "message" and container.get("channel_id") == dm
        dedupe = translate.press_key(body, key.workspace)
        value = str(action.get("value") or "")
        incoming = translate.choice(value, key, await self.profiles.get(key), dedupe, dm)
        try:
            handled = await self._lanes.engine(self.engine.process, incoming)
        except Exception:
            log.exception("slack: the engine failed on a button press")
            await self.deliver(dm, [Outgoing(SORRY)])
            return
        replies = list(handled.replies)
        if handled.duplicate and not replies:
            return  # this message's buttons were already pressed (and answered)
        if in_dm and not handled.stale_press:  # only the presser's own message, if taken
            await self.mark_pressed(body, action)
        await self.deliver(dm, replies, incoming)
        if in_view:
            await self.publish_home(key)

    async def mark_pressed(self, body: Mapping[str, Any], action: Mapping[str, Any]) -> None:
        """Replace the message's buttons by the choice made, so they cannot be pressed again."""
        container = body.get("container") or {}
        message = body.get("message") or {}
        label = str((action.get("text") or {}).get("text") or action.get("value") or "")
        try:
            await self.client.chat_update(
                channel=str(container.get("channel_id")),
                ts=str(container.get("message_ts")),
                text=str(message.get("text") or label),
                blocks=blocks.pressed(message.get("blocks") or [], label),
            )
        except SlackApiError as exc:
            log.info("slack: chat.update after a press failed: %s", exc)

    async def submitted(
        self, key: IdentityKey, replies: Sequence[Outgoing], event: Incoming | None = None
    ) -> None:
        """After a form's ack: its replies in the DM, and App Home refreshed."""
        await self.deliver(await self.sender.dm_channel(key), replies, event)
        await self.publish_home(key)

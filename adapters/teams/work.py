"""The Teams work after the 200: run the engine on an activity, post its replies.

`TeamsBot` (adapters/teams/server.py) checks, records and answers a request; these run
next in the person's queue, the same way on a replay after a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from adapters.downloads import FETCH_FAILED, FetchFailed, clean_name, fetch, log_failure
from adapters.teams import cards, files, translate
from adapters.teams.files import Files
from adapters.teams.sender import Connector, ConnectorError
from adapters.teams.tokens import TokenError
from adapters.teams.translate import FileLink, Where
from bot.core.model import IdentityKey, Incoming, IncomingFile, Kind, Outgoing
from bot.core.zones import is_zone, local_today, zone_of
from bot.services.db_work import EngineAndInbox
from bot.services.engine import Engine, Handled

log = logging.getLogger("cpdbot.teams")

SORRY = (
    "Sorry, something went wrong on my side and nothing was changed. Please try again in a moment."
)
PERSONAL_ONLY = (
    "I keep CPD records private, so I don't log or show anything here. "
    "Open a chat with me (select my name, then Chat) to log an activity or see your progress."
)


class TeamsWork:
    def __init__(self, engine: Engine, connector: Connector, lanes: EngineAndInbox) -> None:
        self.engine = engine
        self.connector = connector
        self._lanes = lanes
        self.files = Files(connector, engine.clock)

    async def step(self, event: Incoming) -> tuple[list[Outgoing], bool]:
        """Run the engine (off the loop): the replies, and whether it was a repeat."""
        handled = await self.run(event)
        return list(handled.replies), handled.duplicate

    async def run(self, event: Incoming) -> Handled:
        handled: Handled = await self._lanes.engine(self.engine.process, event)
        return handled

    async def personal(self, activity: Mapping[str, Any]) -> str | None:
        """A message or card press in a person's personal chat with the bot: the dedupe
        key of the event whose replies were sent, if any, for the caller to confirm with
        its inbox write (`Inbox.finish(delivered=...)`)."""
        place = translate.where(activity)
        if place.identity is None:
            return None
        if translate.asks_for_form(activity):
            await self.send_form(activity, place.identity)
            return None
        links = translate.file_links(activity)
        if links and activity.get("value") is None:
            return await self.files_sent(activity, place.identity, links)
        event = translate.incoming(activity, place.identity)
        if event.kind == Kind.TEXT and not event.text:
            return None  # an empty message (e.g. only an image): nothing to answer
        if translate.secret_field(activity) is not None:
            await self.secret_taken(activity)  # the input leaves the chat at once
        try:
            handled = await self.run(event)
        except Exception:
            log.exception("teams: the engine failed on a %s activity", event.kind)
            await self.deliver(activity, [Outgoing(SORRY)])
            return None
        replies = list(handled.replies)
        if handled.duplicate and not replies and event.kind in (Kind.CHOICE, Kind.FORM):
            return None  # this card was pressed (or this form saved) before, and answered
        if event.kind == Kind.FORM and translate.secret_field(activity) is None:
            return await self.form_submitted(activity, event, replies)
        if event.kind == Kind.CHOICE and not handled.stale_press:
            await self.mark_pressed(activity)  # a stale press leaves its card as it was
        return await self.deliver(activity, replies, event)

    async def files_sent(
        self, activity: Mapping[str, Any], key: IdentityKey, links: Sequence[FileLink]
    ) -> str | None:
        """Files or pasted images: each fetched with limits and given to the engine as an
        event of its own; the last one's dedupe key, as `personal` returns."""
        place = translate.where(activity)
        delivered = None
        for index, link in enumerate(links):
            event = translate.file_event(activity, key, index)
            file = await self.fetch_file(link, place.service_url)
            if file is None:
                await self.deliver(activity, [Outgoing(FETCH_FAILED.format(platform="Teams"))])
                continue
            try:
                handled = await self.run(replace(event, file=file))
            except Exception:
                log.exception("teams: the engine failed on a file")
                await self.deliver(activity, [Outgoing(SORRY)])
                continue
            delivered = await self.deliver(activity, list(handled.replies), event) or delivered
        return delivered

    async def fetch_file(self, link: FileLink, service_url: str) -> IncomingFile | None:
        """A file a person sent, at most EVIDENCE_MAX_MB of it (None: not to be had).

        Teams states no size for either kind: the download is bounded while it streams."""
        try:
            headers = await self.connector.bearer(link.url, service_url) if link.needs_token else {}
            return await fetch(
                self.connector.session,
                link.url,
                name=clean_name(link.name, "file"),
                limit=self.engine.evidence.max_bytes,
                mime_hint=link.mime_hint,
                headers=headers,
            )
        except (FetchFailed, TokenError) as exc:
            log_failure(translate.PLATFORM, exc)
            return None

    async def deliver(
        self,
        activity: Mapping[str, Any],
        replies: Sequence[Outgoing],
        event: Incoming | None = None,
    ) -> str | None:
        """Post the replies in the activity's conversation; returns `event`'s dedupe key
        once they are sent (None: nothing to confirm), so the engine stops keeping them
        for a replay when the caller's inbox write confirms it."""
        place = translate.where(activity)
        for reply in replies:
            await self.send(place, reply)
        if replies and event is not None and event.dedupe_key:
            return event.dedupe_key
        return None

    async def send(self, place: Where, reply: Outgoing) -> None:
        """Post one reply; a file that cannot go in the message (an export) follows as a
        consent card (adapters/teams/files.py), the reply's text alone before it."""
        file = reply.attachment
        if file is None or files.inline(file):
            await self.connector.post(
                place.service_url, place.conversation_id, cards.message(reply)
            )
            return
        if reply.text or reply.choices:
            text = cards.message(replace(reply, attachment=None))
            await self.connector.post(place.service_url, place.conversation_id, text)
        await self.files.offer(place, file)

    async def file_answered(self, activity: Mapping[str, Any]) -> None:
        """A file consent card's Allow or Decline (a `fileConsent/invoke`)."""
        await self.files.answered(activity)

    async def mark_pressed(self, activity: Mapping[str, Any]) -> None:
        """Replace the pressed card by its text and the choice made (no buttons left)."""
        card_id = activity.get("replyToId")
        if not card_id:
            return
        place = translate.where(activity)
        update = cards.pressed(
            str(card_id), translate.pressed_text(activity), translate.pressed_label(activity)
        )
        try:
            await self.connector.update(
                place.service_url, place.conversation_id, str(card_id), update
            )
        except ConnectorError as exc:
            log.info("teams: updating a pressed card failed: %s", exc)

    async def secret_taken(self, activity: Mapping[str, Any]) -> None:
        """Replace a submitted secret's card: its password input is gone from the chat."""
        card_id = str(activity.get("replyToId") or "")
        label = str((activity.get("value") or {}).get("label") or "")
        update = cards.secret_received(card_id, label)
        await self.replace(translate.where(activity), card_id, update)

    # ------------------------------------------------------------ the quick form

    def today(self, activity: Mapping[str, Any]) -> str:
        zone = str(activity.get("localTimezone") or "")
        return local_today(
            self.engine.clock(), zone_of(zone if is_zone(zone) else "UTC")
        ).isoformat()

    async def form_card(
        self,
        activity: Mapping[str, Any],
        key: IdentityKey,
        values: Mapping[str, str] | None = None,
        errors: Mapping[str, str] | None = None,
        note: str = "",
    ) -> dict[str, Any]:
        """The entry form for this person's scheme, drawn once more than the one submitted."""
        zone = str(activity.get("localTimezone") or "") or None
        fields = await self._lanes.engine(self.engine.entry_form, key, zone)
        drawn = (translate.form_round(activity) or 0) + 1
        return cards.form_message(
            fields, self.today(activity), values=values, errors=errors, note=note, drawn=drawn
        )

    async def send_form(self, activity: Mapping[str, Any], key: IdentityKey) -> None:
        """'form' typed: the quick form as a card (nothing is changed until it is saved)."""
        place = translate.where(activity)
        card = await self.form_card(activity, key)
        await self.connector.post(place.service_url, place.conversation_id, card)

    async def form_submitted(
        self, activity: Mapping[str, Any], event: Incoming, replies: Sequence[Outgoing]
    ) -> str | None:
        """A saved form's card becomes the first reply (Saved ...); a form with errors is
        drawn again over itself with what was typed and each error under its field. The
        dedupe key to confirm delivered, as `deliver`."""
        place = translate.where(activity)
        card_id = str(activity.get("replyToId") or "")
        failed = next((r for r in replies if r.errors), None)
        if failed is not None:
            card = await self.form_card(
                activity, event.identity, event.form, failed.errors, failed.text
            )
            if not await self.replace(place, card_id, card):  # a new card then: nothing lost
                await self.connector.post(place.service_url, place.conversation_id, card)
            return event.dedupe_key
        rest = list(replies)
        if rest and await self.replace(place, card_id, cards.replaced(card_id, rest[0])):
            rest.pop(0)
        await self.deliver(activity, rest, event)
        return event.dedupe_key

    async def replace(self, place: Where, card_id: str, update: dict[str, Any]) -> bool:
        """PUT `update` over the card `card_id`: whether it was done."""
        if not card_id:
            return False
        update = {**update, "id": card_id}
        try:
            await self.connector.update(place.service_url, place.conversation_id, card_id, update)
        except ConnectorError as exc:
            log.info("teams: updating a form card failed: %s", exc)
            return False
        return True

    async def pointer(self, activity: Mapping[str, Any]) -> None:
        """A message in a group chat or channel: a short pointer to the personal chat."""
        place = translate.where(activity)
        reply = dict(cards.message(Outgoing(PERSONAL_ONLY)))
        if activity.get("id"):
            reply["replyToId"] = str(activity["id"])
        await self.connector.post(place.service_url, place.conversation_id, reply)

"""The Teams work after the 200: run the engine on an activity, post its replies.

`TeamsBot` (adapters/teams/server.py) checks, records and answers a request; these run
next in the person's queue, the same way on a replay after a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from adapters.teams import cards, translate
from adapters.teams.sender import Connector, ConnectorError
from bot.core.model import Incoming, Kind, Outgoing
from bot.services.db_work import EngineAndInbox
from bot.services.engine import Engine

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

    async def step(self, event: Incoming) -> tuple[list[Outgoing], bool]:
        """Run the engine (off the loop): the replies, and whether it was a repeat."""
        handled = await self._lanes.engine(self.engine.process, event)
        return list(handled.replies), handled.duplicate

    async def personal(self, activity: Mapping[str, Any]) -> None:
        """A message or card press in a person's personal chat with the bot."""
        place = translate.where(activity)
        if place.identity is None:
            return
        event = translate.incoming(activity, place.identity)
        if event.kind == Kind.TEXT and not event.text:
            return  # an empty message (e.g. only an image): nothing to answer
        try:
            replies, duplicate = await self.step(event)
        except Exception:
            log.exception("teams: the engine failed on a %s activity", event.kind)
            await self.deliver(activity, [Outgoing(SORRY)])
            return
        if event.kind == Kind.CHOICE:
            if duplicate and not replies:
                return  # this card was pressed before (and answered)
            await self.mark_pressed(activity)
        await self.deliver(activity, replies, event)

    async def deliver(
        self,
        activity: Mapping[str, Any],
        replies: Sequence[Outgoing],
        event: Incoming | None = None,
    ) -> None:
        """Post the replies in the activity's conversation; then the engine stops keeping
        `event`'s for a replay."""
        place = translate.where(activity)
        for reply in replies:
            await self.connector.post(
                place.service_url, place.conversation_id, cards.message(reply)
            )
        if replies and event is not None and event.dedupe_key:
            await self._lanes.engine(self.engine.delivered, event)

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

    async def pointer(self, activity: Mapping[str, Any]) -> None:
        """A message in a group chat or channel: a short pointer to the personal chat."""
        place = translate.where(activity)
        reply = dict(cards.message(Outgoing(PERSONAL_ONLY)))
        if activity.get("id"):
            reply["replyToId"] = str(activity["id"])
        await self.connector.post(place.service_url, place.conversation_id, reply)

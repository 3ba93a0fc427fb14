"""Messages the bot starts on Teams (nudges, summaries, calendar prompts): the `Sender`.

Teams has no "open a chat with this user" call a bot can rely on: it writes through the
conversation reference the person's last personal message brought (adapters/teams/
server.py stores it, `bot.services.references`). Outcomes, as the send loop
(`bot/services/outbound/sending.py`) expects them of every platform:

- no reference held: `Unreachable`, as an unknown chat is on Telegram ("chat not found")
  and Slack (`channel_not_found`); the person's next personal message stores one and
  makes them reachable again;
- 403 or 404 (the app was removed, or the user or conversation is gone): `Unreachable`,
  and the loop marks the identity;
- 429: waited out for this one send (`Retry-After` seconds, an asyncio sleep, so other
  people's sends carry on), at most `RATE_LIMIT_RETRIES` times and never longer than
  `RETRY_AFTER_MAX` at once; beyond that the error goes to the loop, which tries the
  message again later;
- anything else (5xx, no answer, the bot's own token refused): the error propagates and
  the loop retries later, as for the other platforms.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx

from adapters.teams import cards
from adapters.teams.options import TeamsSettings, credential_of
from adapters.teams.sender import Connector, ConnectorError, connector_session
from adapters.teams.tokens import BOT_FRAMEWORK_SCOPE, ClientCredentials
from adapters.teams.translate import PLATFORM
from bot.core.model import ConversationRef, IdentityKey, Outgoing, Unreachable

log = logging.getLogger("cpdbot.teams")

RATE_LIMIT_RETRIES = 3
RETRY_AFTER_DEFAULT = 1.0  # seconds, when a 429 names no Retry-After
RETRY_AFTER_MAX = 60.0  # a longer wait goes back to the send loop's own retry
GONE = frozenset({403, 404})
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)  # the token provider's client

Lookup = Callable[[IdentityKey], Awaitable[ConversationRef | None]]


class TeamsSender:
    """`bot.core.model.Sender` for Teams: posts to the stored personal conversation."""

    platform = PLATFORM

    def __init__(
        self,
        connector: Connector,
        lookup: Lookup,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.connector = connector
        self.lookup = lookup
        self.sleep = sleep  # the 429 waits (tests pass their own)

    async def send(self, identity: IdentityKey, chat_id: str | None, reply: Outgoing) -> None:
        if identity.platform != PLATFORM:
            raise ValueError(f"not a Teams identity: {identity.platform}")
        ref = await self.lookup(identity)
        if ref is None:
            raise Unreachable("teams: no conversation reference held (no personal message yet)")
        activity = cards.message(reply)
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            try:
                await self.connector.post(ref.service_url, ref.conversation_id, activity)
                return
            except ConnectorError as exc:
                if exc.status in GONE:
                    raise Unreachable(f"teams: the connector answered HTTP {exc.status}") from exc
                delay = exc.retry_after if exc.retry_after is not None else RETRY_AFTER_DEFAULT
                if exc.status != 429 or attempt == RATE_LIMIT_RETRIES or delay > RETRY_AFTER_MAX:
                    raise
                log.info("teams: 429 on a scheduled message, retrying in %.1f s", delay)
                await self.sleep(delay)


@asynccontextmanager
async def open_sender(
    settings: TeamsSettings,
    lookup: Lookup,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncIterator[TeamsSender]:
    """A Sender with its own HTTP clients and token, for the scheduler (`cpdbot run`/`tick`).

    `lookup`: the reference held for an identity (`bot.services.references.reference_for`
    run off the event loop; the app builds it, as adapters do not reach the database)."""
    credential = credential_of(settings, clock())  # ValueError: as `cpdbot run` refuses
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http, connector_session() as session:
        credentials = None  # TEAMS_DEV_NO_AUTH without credentials: loopback, unsigned
        if credential is not None:
            credentials = ClientCredentials(
                settings.outbound_token_url,
                settings.app_id or "",
                credential,
                BOT_FRAMEWORK_SCOPE,
                http,
                clock,
                tenant_id=settings.tenant_id,
            )
        yield TeamsSender(Connector(session, credentials), lookup, sleep=sleep)

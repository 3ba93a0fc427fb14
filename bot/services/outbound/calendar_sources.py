"""Calendar sources: how each kind of feed is read, all giving the same `Occurrence`s.

A source has two steps. `fetch(feed, now, start)` does the network part (run
concurrently for all due feeds, never raises `FeedError`: a failure comes back in the
reading); `read(feed, fetched, now, start)` turns what was fetched into a
`SourceReading` (synchronous, run in a thread, one feed after another: the prompts of a
feed go out before the next is parsed). The prompt rules (keywords, cancelled and
declined, once per occurrence, the prompt window, absences) are the poller's and are
the same for every kind (calendar_polls.py).

- ``ics``: a secret address (fetch_feed + read_feed);
- ``graph``: Outlook through Microsoft Graph's calendarView/delta; the access token is
  decrypted from the feed or, expired, refreshed with the stored refresh token; new
  tokens and the delta state come back in the reading, to be stored (encrypted) in the
  transaction that records the poll;
- ``caldav``: a CalDAV calendar collection read with the decrypted password.

Every reading (ICS, Graph, CalDAV) reaches ``ABSENCE_AHEAD`` into the coming days, so an absence is
seen before the nudge it holds; the words that make an all-day event an absence are the
operator's (CALENDAR_ABSENCE_WORDS, each source's ``absence_words``). Secrets are
decrypted only here, only for the request, and never logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from bot.core import zones
from bot.core.calendar_rules import CredentialRejected, FeedBusy, FeedError
from bot.services.calendar.learning import ABSENCE_WORDS
from bot.services.calendar.occurrence import Occurrence
from storage import calendar_accounts as accounts
from storage.feeds import FeedToPoll
from storage.secrets import SecretBox, SecretError

if TYPE_CHECKING:
    import httpx

    from bot.services.calendar.graph_auth import MicrosoftEndpoints, Tokens

log = logging.getLogger("cpdbot.jobs")

ABSENCE_AHEAD = timedelta(days=14)
# An access token this close to its expiry is refreshed before use.
ACCESS_MARGIN = timedelta(minutes=2)
UNREADABLE = "The calendar could not be read (the bot could not make sense of it)."
OUTLOOK_RECONNECT = "/calendar outlook"
_NOT_SET_UP = "Outlook calendars are not set up on this bot (no MICROSOFT_CLIENT_ID)."


@dataclass(frozen=True)
class SourceReading:
    """What one poll of one feed found.

    `error`: the read failed (a `FeedBusy`, a `CredentialRejected` or another
    `FeedError`); `tokens` may still be new and must be stored. `fetched` is the ICS
    fetch result (validators and the body to keep). `absence_window`: the span whose
    absences the occurrences list completely (None: absences were not read). `state`:
    the Graph delta state to keep.
    """

    occurrences: tuple[Occurrence, ...] = ()
    skipped: tuple[str, ...] = ()
    error: FeedError | None = None
    fetched: Any = None
    absence_window: tuple[datetime, datetime] | None = None
    state: bytes | None = None
    tokens: Tokens | None = None


class CalendarSource(Protocol):
    """One kind of feed (``FeedToPoll.kind``)."""

    async def fetch(self, feed: FeedToPoll, now: datetime, start: datetime) -> SourceReading: ...

    def read(
        self, feed: FeedToPoll, fetched: SourceReading, now: datetime, start: datetime
    ) -> SourceReading: ...


def _rejected(error: SecretError) -> CredentialRejected:
    """A stored secret no key reads (or no key at all): the credential stopped working."""
    log.warning("a calendar secret could not be read (%s)", type(error).__name__)
    return CredentialRejected("The bot can no longer read the stored sign-in or password.")


@dataclass
class IcsSource:
    """A secret ICS address: a conditional GET, then read_feed on the body."""

    client: httpx.AsyncClient
    allow_private: bool
    time_limit: float
    clock: Callable[[], float]
    absence_words: tuple[str, ...] = ABSENCE_WORDS

    async def fetch(self, feed: FeedToPoll, now: datetime, start: datetime) -> SourceReading:
        from bot.services import calendar as cal

        have_body = feed.body is not None
        try:
            result = await cal.fetch_feed(
                feed.url,
                client=self.client,
                etag=feed.etag if have_body else None,
                last_modified=feed.last_modified if have_body else None,
                allow_private=self.allow_private,
            )
        except FeedError as exc:
            return SourceReading(error=exc)
        return SourceReading(fetched=result)

    def read(
        self, feed: FeedToPoll, fetched: SourceReading, now: datetime, start: datetime
    ) -> SourceReading:
        from bot.services import calendar as cal

        result = fetched.fetched
        body = result.body if result.status == "ok" else feed.body
        if not body:
            return fetched
        try:
            end = now + ABSENCE_AHEAD  # the coming days too: absences are seen ahead
            reading = cal.read_feed(
                body,
                start=start,
                end=end,
                default_tz=zones.zone_of(feed.timezone).key,
                owner_emails=feed.owner_emails,
                time_limit=self.time_limit,
                clock=self.clock,
                absence_words=self.absence_words,
            )
        except FeedError as exc:
            return SourceReading(error=exc, fetched=result)
        except Exception as exc:  # a library failing on this feed: it fails, not the poll
            # The type only: the message can quote the feed's text.
            log.error("reading feed %s failed (%s)", feed.feed_id, type(exc).__name__)
            return SourceReading(error=FeedError(UNREADABLE), fetched=result)
        return SourceReading(
            reading.occurrences, reading.skipped, fetched=result, absence_window=(start, end)
        )


@dataclass
class GraphSource:
    """Outlook through Microsoft Graph (calendarView/delta rounds)."""

    client: httpx.AsyncClient
    endpoints: MicrosoftEndpoints | None
    box: SecretBox
    absence_words: tuple[str, ...] = ABSENCE_WORDS

    async def fetch(self, feed: FeedToPoll, now: datetime, start: datetime) -> SourceReading:
        from bot.services.calendar.graph_auth import refresh
        from bot.services.calendar.graph_delta import DeltaState, read_graph

        ep = self.endpoints
        if ep is None:
            return SourceReading(error=FeedError(_NOT_SET_UP))
        fresh: list[Tokens] = []

        async def access_token(force: bool) -> str:
            if not force and fresh:
                return fresh[-1].access_token
            expires = feed.access_expires_at or now
            if not force and feed.access_secret and expires > now + ACCESS_MARGIN:
                return accounts.read_secret(self.box, feed.access_secret)
            current = fresh[-1].refresh_token if fresh else self._refresh_token(feed)
            tokens = await refresh(self.client, ep, current, now, account=feed.account or "")
            fresh.append(tokens)
            return tokens.access_token

        state = None
        if feed.body:
            try:
                state = DeltaState.from_bytes(feed.body)
            except ValueError:
                state = None  # unreadable: a new round
        try:
            reading = await read_graph(
                self.client,
                ep,
                access_token,
                state,
                now,
                default_tz=zones.zone_of(feed.timezone).key,
                window_ahead=ABSENCE_AHEAD,
                absence_words=self.absence_words,
            )
        except SecretError as exc:
            return SourceReading(error=_rejected(exc), tokens=fresh[-1] if fresh else None)
        except FeedError as exc:
            return SourceReading(error=exc, tokens=fresh[-1] if fresh else None)
        window = (reading.state.window_start, reading.state.window_end)
        return SourceReading(
            reading.occurrences,
            absence_window=window,
            state=reading.state.to_bytes(),
            tokens=fresh[-1] if fresh else None,
        )

    def _refresh_token(self, feed: FeedToPoll) -> str:
        if not feed.secret:
            raise CredentialRejected("The Outlook sign-in is missing.")
        return accounts.read_secret(self.box, feed.secret)

    def read(
        self, feed: FeedToPoll, fetched: SourceReading, now: datetime, start: datetime
    ) -> SourceReading:
        return fetched


@dataclass
class CalDavSource:
    """A CalDAV calendar collection (iCloud, Fastmail, Nextcloud, Radicale)."""

    box: SecretBox
    allow_private: bool
    absence_words: tuple[str, ...] = ABSENCE_WORDS

    async def fetch(self, feed: FeedToPoll, now: datetime, start: datetime) -> SourceReading:
        from bot.services.calendar.caldav_source import read_caldav

        try:
            if not feed.secret:
                raise CredentialRejected("The CalDAV password is missing.")
            password = accounts.read_secret(self.box, feed.secret)
        except SecretError as exc:
            return SourceReading(error=_rejected(exc))
        except FeedError as exc:
            return SourceReading(error=exc)
        end = now + ABSENCE_AHEAD
        try:
            reading = await asyncio.to_thread(
                read_caldav,
                feed.url,
                feed.account or "",
                password,
                start=start,
                end=end,
                default_tz=zones.zone_of(feed.timezone).key,
                owner_emails=feed.owner_emails,
                allow_private=self.allow_private,
                absence_words=self.absence_words,
            )
        except FeedError as exc:
            return SourceReading(error=exc)
        return SourceReading(reading.occurrences, reading.skipped, absence_window=(start, end))

    def read(
        self, feed: FeedToPoll, fetched: SourceReading, now: datetime, start: datetime
    ) -> SourceReading:
        return fetched


def reconnect_hint(feed: FeedToPoll) -> str:
    """The command that connects this feed again."""
    if feed.kind == "graph":
        return OUTLOOK_RECONNECT
    return f"/calendar caldav {feed.url} {feed.account or 'USER'}"


__all__ = [
    "ABSENCE_AHEAD",
    "CalDavSource",
    "CalendarSource",
    "FeedBusy",
    "GraphSource",
    "IcsSource",
    "SourceReading",
    "reconnect_hint",
]

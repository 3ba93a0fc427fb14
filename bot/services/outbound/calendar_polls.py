"""Calendar polling: reads the feeds that are due, each through the source of its kind
(calendar_sources.py: ICS address, Outlook through Graph, CalDAV), records each poll, and
enqueues a prompt for each learning event that has just ended. The prompt rules are the
same for every kind: keywords, never cancelled or declined events, once per occurrence,
the prompt window, nothing held by a pause or an absence."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.core import agenda, notices
from bot.core.calendar_rules import CredentialRejected, FeedBusy, FeedError
from bot.services.calendar.learning import ABSENCE_WORDS
from bot.services.calendar.occurrence import Occurrence
from bot.services.outbound.calendar_sources import (
    CalDavSource,
    CalendarSource,
    GraphSource,
    IcsSource,
    SourceReading,
    reconnect_hint,
)
from storage import calendar_accounts as accounts
from storage import feeds as feed_store
from storage import outbox
from storage.db import Database
from storage.outbox import queued
from storage.secrets import SecretBox

if TYPE_CHECKING:
    import httpx
    from sqlmodel import Session

    from bot.services.calendar.graph_auth import MicrosoftEndpoints, Tokens

log = logging.getLogger("cpdbot.jobs")

POLL_EVERY = timedelta(minutes=10)
POLL_BACKOFF_CAP = timedelta(hours=6)
FETCH_CONCURRENCY = 8
# Seconds of reading (parsing aside) one feed may take per poll: past it the poll of that
# feed stops and counts as failed. The fetch has its own limit (fetch_feed's timeout).
READ_BUDGET = 10.0
_NOT_SAVED = (
    "its events could not be saved just now (a problem on the bot's side, not with your calendar)."
)


class CalendarPoller:
    """Polls every person's calendar feeds against one database.

    `microsoft`: where Outlook's identity platform and Graph are (None: Outlook feeds
    fail with a plain message); `secrets`: the box their tokens and CalDAV passwords are
    encrypted with (default: the database's); `absence_words`: what an all-day event's
    title says to be time away (CALENDAR_ABSENCE_WORDS), for every kind of feed.
    """

    def __init__(
        self,
        db: Database,
        *,
        http: httpx.AsyncClient | None = None,
        allow_private_feeds: bool = False,
        poll_every: timedelta = POLL_EVERY,
        microsoft: MicrosoftEndpoints | None = None,
        secrets: SecretBox | None = None,
        absence_words: Sequence[str] = ABSENCE_WORDS,
    ) -> None:
        self.db = db
        self.http = http
        self.allow_private_feeds = allow_private_feeds
        self.poll_every = poll_every
        self.microsoft = microsoft
        self.secrets = secrets if secrets is not None else db.secrets
        self.absence_words = tuple(absence_words)
        # The budget of each feed's reading, on this monotonic clock (tests move it).
        self.read_time_limit = READ_BUDGET
        self.read_clock: Callable[[], float] = time.monotonic

    def sources(self, client: httpx.AsyncClient) -> dict[str, CalendarSource]:
        """The source of each kind of feed, for one poll."""
        return {
            "ics": IcsSource(
                client,
                self.allow_private_feeds,
                self.read_time_limit,
                self.read_clock,
                self.absence_words,
            ),
            "graph": GraphSource(client, self.microsoft, self.secrets, self.absence_words),
            "caldav": CalDavSource(self.secrets, self.allow_private_feeds, self.absence_words),
        }

    async def poll_calendars(self, now: datetime) -> tuple[int, int]:
        """Poll the feeds that are due; returns (feeds polled, messages enqueued)."""
        claimed = await asyncio.to_thread(self._claim_feeds, now)
        if not claimed:
            return 0, 0
        from bot.services import calendar as cal

        own_client = self.http is None
        client = self.http or cal.new_client()
        sources = self.sources(client)
        gate = asyncio.Semaphore(FETCH_CONCURRENCY)

        async def fetch(feed: feed_store.FeedToPoll) -> SourceReading:
            source = sources.get(feed.kind)
            if source is None:
                return SourceReading(error=FeedError(f"unknown kind of calendar ({feed.kind})"))
            async with gate:
                try:
                    return await source.fetch(feed, now, self._window_start(feed, now))
                except Exception as exc:  # a bug or an unexpected transport error
                    log.exception("fetching feed %s failed", feed.feed_id)
                    return SourceReading(
                        error=FeedError(f"unexpected error ({type(exc).__name__})")
                    )

        try:
            results = await asyncio.gather(*(fetch(f) for f in claimed))
        finally:
            if own_client:
                await client.aclose()
        enqueued = 0
        for feed, fetched in zip(claimed, results, strict=True):
            source = sources.get(feed.kind)
            try:
                enqueued += await asyncio.to_thread(self._after_fetch, source, feed, fetched, now)
            except Exception:
                log.exception("recording the poll of feed %s failed", feed.feed_id)
        return len(claimed), enqueued

    def _window_start(self, feed: feed_store.FeedToPoll, now: datetime) -> datetime:
        return agenda.prompt_window(
            last_ok_at=feed.last_ok_at,
            paused_until=feed.paused_until,
            timezone=feed.timezone,
            now=now,
        )

    def _poll_due(self, feed: feed_store.FeedToPoll, now: datetime) -> bool:
        if feed.last_polled_at is None:
            return True
        wait = min(self.poll_every * (1 << min(feed.failures, 10)), POLL_BACKOFF_CAP)
        wait = max(wait, self.poll_every)
        return feed.last_polled_at <= now - wait

    def _claim_feeds(self, now: datetime) -> list[feed_store.FeedToPoll]:
        with self.db.transaction() as session:
            claimed = []
            # Not those a server asked to leave alone, nor those whose sign-in stopped.
            for feed in feed_store.feeds_to_consider(session, now=now):
                if agenda.pause_holds(feed.paused_until, feed.timezone, now):
                    continue  # paused: not polled, nothing prompts
                if not self._poll_due(feed, now):
                    continue
                taken = feed_store.claim_poll(session, feed, now=now)
                if taken is not None:
                    claimed.append(taken)
            return claimed

    def _after_fetch(
        self,
        source: CalendarSource | None,
        feed: feed_store.FeedToPoll,
        fetched: SourceReading,
        now: datetime,
    ) -> int:
        start = self._window_start(feed, now)
        reading = fetched
        if source is not None and fetched.error is None:
            reading = source.read(feed, fetched, now, start)
        if reading.error is not None:
            return self._read_failed(feed, reading, now)
        if reading.skipped:  # the notes name events: only their number is logged
            log.info("feed %s: %d note(s) on series left out", feed.feed_id, len(reading.skipped))
        try:
            return self._record_ok(feed, reading, start, now)
        except Exception as exc:  # nothing of it was kept: the feed failed, its owner hears
            # The type only: a database error's message can carry the events' text.
            log.error("storing the poll of feed %s failed (%s)", feed.feed_id, type(exc).__name__)
            return self._feed_failed(feed, _NOT_SAVED, now, reading.tokens)

    def _wanted(
        self,
        feed: feed_store.FeedToPoll,
        events: Sequence[Occurrence],
        start: datetime,
        now: datetime,
        held: Sequence[tuple[datetime, datetime]],
    ) -> list[Occurrence]:
        """The occurrences to prompt for: learning events that ended in the window, not
        cancelled or declined, not absences, not ending during an absence."""
        from bot.services import calendar as cal

        keywords = agenda.keywords_of(feed.keywords, cal.DEFAULT_KEYWORDS)
        return [
            e
            for e in events
            if not e.cancelled
            and not e.declined
            and not e.absence
            and start < e.end <= now
            and not any(a < e.end <= b for a, b in held)
            and (feed.all_events or cal.is_learning(e, keywords))
        ]

    def _store_tokens(self, session: Session, feed_id: int, tokens: Tokens | None) -> None:
        """New tokens from a refresh: stored encrypted, both (the old refresh token may
        already have stopped working)."""
        if tokens is not None:
            accounts.set_tokens(
                session,
                self.secrets,
                feed_id,
                tokens.refresh_token,
                tokens.access_token,
                tokens.expires_at,
            )

    def _record_ok(
        self, feed: feed_store.FeedToPoll, reading: SourceReading, start: datetime, now: datetime
    ) -> int:
        """Record a successful poll, its absences, and prompt for each wanted event not
        seen before."""
        from bot.services import calendar as cal

        result = reading.fetched
        ok = result is not None and result.status == "ok"
        with self.db.transaction() as session:
            feed_store.record_ok(
                session,
                feed.feed_id,
                now=now,
                etag=result.etag if ok else feed.etag,
                last_modified=result.last_modified if ok else feed.last_modified,
                body=result.body if ok else None,
            )
            self._store_tokens(session, feed.feed_id, reading.tokens)
            if reading.state is not None:
                accounts.set_delta_state(session, feed.feed_id, reading.state)
            identity = outbox.preferred_identities(session, [feed.person_id]).get(feed.person_id)
            messages = self._absences(session, feed, reading, identity, now)
            held = accounts.absences_between(session, feed.person_id, start, now)
            wanted = self._wanted(feed, reading.occurrences, start, now, held)
            for e in sorted(wanted, key=lambda e: (e.end, e.uid)):
                minutes = cal.duration_minutes(e)
                seen = feed_store.add_seen(
                    session,
                    feed.feed_id,
                    uid=e.uid,
                    recurrence_id=e.recurrence_id,
                    title=" ".join((e.title or "").split()) or "(untitled event)",
                    start=e.start,
                    end=e.end,
                    minutes=minutes,
                    now=now,
                )
                if seen is None or identity is None:
                    continue
                facts = notices.EventFacts(seen, e.title, e.start, e.end, minutes, e.all_day)
                msg = notices.calendar_prompt(facts, feed.timezone, now)
                messages.append(queued(feed.person_id, identity, msg))
            return outbox.enqueue(session, messages, now=now) if messages else 0

    def _absences(
        self,
        session: Session,
        feed: feed_store.FeedToPoll,
        reading: SourceReading,
        identity: int | None,
        now: datetime,
    ) -> list[outbox.NewMessage]:
        """Make the feed's absences those read, and tell the member of each new one once."""
        if reading.absence_window is None:
            return []
        found = [
            (f"{o.uid}#{o.recurrence_id}" if o.recurrence_id else o.uid, o.start, o.end)
            for o in reading.occurrences
            if o.absence and not o.cancelled and not o.declined
        ]
        accounts.record_absences(
            session, feed.feed_id, feed.person_id, found, window=reading.absence_window
        )
        if identity is None:
            return []
        messages = []
        for absence in accounts.untold_absences_of_feed(session, feed.feed_id, now=now):
            if not accounts.mark_told(session, absence.id):
                continue  # another worker told it
            msg = notices.absence_notice(
                absence_id=absence.id,
                starts_at=absence.starts_at,
                ends_at=absence.ends_at,
                timezone=feed.timezone,
                now=now,
            )
            messages.append(queued(feed.person_id, identity, msg))
        return messages

    def _read_failed(
        self, feed: feed_store.FeedToPoll, reading: SourceReading, now: datetime
    ) -> int:
        """A read that failed: a busy server waits, a dead credential stops, else a failure."""
        error = reading.error
        assert error is not None
        if isinstance(error, FeedBusy) and error.retry_after is not None:
            wait = min(timedelta(seconds=max(error.retry_after, 0.0)), POLL_BACKOFF_CAP)
            log.info("feed %s: the server asked to wait %ds", feed.feed_id, wait.total_seconds())
            with self.db.transaction() as session:
                self._store_tokens(session, feed.feed_id, reading.tokens)
                feed_store.set_retry_at(session, feed.feed_id, now + wait)
            return 0
        if isinstance(error, CredentialRejected):
            return self._credential_stopped(feed, str(error), now, reading.tokens)
        return self._feed_failed(feed, str(error), now, reading.tokens)

    def _number(self, session: Session, feed: feed_store.FeedToPoll) -> int:
        views = feed_store.feed_views(session, feed.person_id)
        return next((v.number for v in views if v.feed_id == feed.feed_id), 1)

    def _credential_stopped(
        self, feed: feed_store.FeedToPoll, error: str, now: datetime, tokens: Tokens | None
    ) -> int:
        """Stop polling the feed and tell its owner once how to connect it again."""
        log.info("feed %s: its sign-in or password stopped working", feed.feed_id)
        with self.db.transaction() as session:
            self._store_tokens(session, feed.feed_id, tokens)
            accounts.stop_feed(session, feed.feed_id, error=error)
            identity = outbox.preferred_identities(session, [feed.person_id]).get(feed.person_id)
            if identity is None:
                return 0
            msg = notices.credential_stopped(
                feed_id=feed.feed_id,
                number=self._number(session, feed),
                account=feed.account or "",
                error=error,
                reconnect=reconnect_hint(feed),
                last_ok_at=feed.last_ok_at,
                now=now,
            )
            return outbox.enqueue(session, [queued(feed.person_id, identity, msg)], now=now)

    def _feed_failed(
        self,
        feed: feed_store.FeedToPoll,
        error: str,
        now: datetime,
        tokens: Tokens | None = None,
    ) -> int:
        failures = feed.failures + 1
        log.info("feed %s failed (%d in a row): %s", feed.feed_id, failures, error)
        with self.db.transaction() as session:
            self._store_tokens(session, feed.feed_id, tokens)
            feed_store.record_failure(session, feed.feed_id, error=error)
            if not agenda.should_report_failure(
                failures, ever_ok=feed.last_ok_at is not None, reported=feed.failure_reported
            ):
                return 0
            identity = outbox.preferred_identities(session, [feed.person_id]).get(feed.person_id)
            if identity is None:
                return 0
            msg = notices.feed_failure(
                feed_id=feed.feed_id,
                number=self._number(session, feed),
                url=feed.url,
                error=error,
                last_ok_at=feed.last_ok_at,
                now=now,
            )
            feed_store.mark_failure_reported(session, feed.feed_id)
            return outbox.enqueue(session, [queued(feed.person_id, identity, msg)], now=now)

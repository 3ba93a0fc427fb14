"""Calendar polling: fetches the feeds that are due (through `bot.services.calendar`),
records each poll, and enqueues a prompt for each learning event that has just ended."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.core import agenda, notices, zones
from bot.services.outbound.planner import queued
from storage import feeds as feed_store
from storage import outbox
from storage.db import Database

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("cpdbot.jobs")

POLL_EVERY = timedelta(minutes=10)
POLL_BACKOFF_CAP = timedelta(hours=6)
FETCH_CONCURRENCY = 8
# Seconds of reading (parsing aside) one feed may take per poll: past it the poll of that
# feed stops and counts as failed. The fetch has its own limit (fetch_feed's timeout).
READ_BUDGET = 10.0
_UNREADABLE = "The calendar could not be read (the bot could not make sense of it)."
_NOT_SAVED = (
    "its events could not be saved just now (a problem on the bot's side, not with your calendar)."
)


class CalendarPoller:
    """Polls every person's calendar feeds against one database."""

    def __init__(
        self,
        db: Database,
        *,
        http: httpx.AsyncClient | None = None,
        allow_private_feeds: bool = False,
        poll_every: timedelta = POLL_EVERY,
    ) -> None:
        self.db = db
        self.http = http
        self.allow_private_feeds = allow_private_feeds
        self.poll_every = poll_every
        # The budget of each feed's reading, on this monotonic clock (tests move it).
        self.read_time_limit = READ_BUDGET
        self.read_clock: Callable[[], float] = time.monotonic

    async def poll_calendars(self, now: datetime) -> tuple[int, int]:
        """Poll the feeds that are due; returns (feeds polled, messages enqueued)."""
        claimed = await asyncio.to_thread(self._claim_feeds, now)
        if not claimed:
            return 0, 0
        from bot.services import calendar as cal

        own_client = self.http is None
        client = self.http or cal.new_client()
        gate = asyncio.Semaphore(FETCH_CONCURRENCY)

        async def fetch(feed: feed_store.FeedToPoll) -> Any:
            async with gate:
                have_body = feed.body is not None
                try:
                    return await cal.fetch_feed(
                        feed.url,
                        client=client,
                        etag=feed.etag if have_body else None,
                        last_modified=feed.last_modified if have_body else None,
                        allow_private=self.allow_private_feeds,
                    )
                except cal.FeedError as exc:
                    return exc
                except Exception as exc:  # a bug or an unexpected transport error
                    log.exception("fetching feed %s failed", feed.feed_id)
                    return cal.FeedError(f"unexpected error ({type(exc).__name__})")

        try:
            results = await asyncio.gather(*(fetch(f) for f in claimed))
        finally:
            if own_client:
                await client.aclose()
        enqueued = 0
        for feed, result in zip(claimed, results, strict=True):
            try:
                enqueued += await asyncio.to_thread(self._after_fetch, feed, result, now)
            except Exception:
                log.exception("recording the poll of feed %s failed", feed.feed_id)
        return len(claimed), enqueued

    def _poll_due(self, feed: feed_store.FeedToPoll, now: datetime) -> bool:
        if feed.last_polled_at is None:
            return True
        wait = min(self.poll_every * (1 << min(feed.failures, 10)), POLL_BACKOFF_CAP)
        wait = max(wait, self.poll_every)
        return feed.last_polled_at <= now - wait

    def _claim_feeds(self, now: datetime) -> list[feed_store.FeedToPoll]:
        with self.db.transaction() as session:
            claimed = []
            for feed in feed_store.feeds_to_consider(session):
                if agenda.pause_holds(feed.paused_until, feed.timezone, now):
                    continue  # paused: not polled, nothing prompts
                if not self._poll_due(feed, now):
                    continue
                taken = feed_store.claim_poll(session, feed, now=now)
                if taken is not None:
                    claimed.append(taken)
            return claimed

    def _after_fetch(self, feed: feed_store.FeedToPoll, result: Any, now: datetime) -> int:
        from bot.services import calendar as cal

        if isinstance(result, cal.FeedError):
            return self._feed_failed(feed, str(result), now)
        body = result.body if result.status == "ok" else feed.body
        start = agenda.prompt_window(
            last_ok_at=feed.last_ok_at,
            paused_until=feed.paused_until,
            timezone=feed.timezone,
            now=now,
        )
        events: Sequence[Any] = ()
        if body:
            try:
                reading = cal.read_feed(
                    body,
                    start=start,
                    end=now,
                    default_tz=zones.zone_of(feed.timezone).key,
                    owner_emails=feed.owner_emails,
                    time_limit=self.read_time_limit,
                    clock=self.read_clock,
                )
            except cal.FeedError as exc:
                return self._feed_failed(feed, str(exc), now)
            except Exception as exc:  # a library failing on this feed: it fails, not the poll
                # The type only: the message can quote the feed's text.
                log.error("reading feed %s failed (%s)", feed.feed_id, type(exc).__name__)
                return self._feed_failed(feed, _UNREADABLE, now)
            events = reading.occurrences
            if reading.skipped:  # the notes name events: only their number is logged
                log.info(
                    "feed %s: %d note(s) on series left out", feed.feed_id, len(reading.skipped)
                )
        keywords = agenda.keywords_of(feed.keywords, cal.DEFAULT_KEYWORDS)
        wanted = [
            e
            for e in events
            if not e.cancelled
            and not e.declined
            and start < e.end <= now
            and (feed.all_events or cal.is_learning(e, keywords))
        ]
        try:
            return self._record_ok(feed, result, wanted, now)
        except Exception as exc:  # nothing of it was kept: the feed failed, its owner hears
            # The type only: a database error's message can carry the events' text.
            log.error("storing the poll of feed %s failed (%s)", feed.feed_id, type(exc).__name__)
            return self._feed_failed(feed, _NOT_SAVED, now)

    def _record_ok(
        self, feed: feed_store.FeedToPoll, result: Any, wanted: Sequence[Any], now: datetime
    ) -> int:
        """Record a successful poll and prompt for each wanted event not seen before."""
        from bot.services import calendar as cal

        ok = result.status == "ok"
        with self.db.transaction() as session:
            feed_store.record_ok(
                session,
                feed.feed_id,
                now=now,
                etag=result.etag if ok else feed.etag,
                last_modified=result.last_modified if ok else feed.last_modified,
                body=result.body if ok else None,
            )
            if not wanted:
                return 0
            identity = outbox.preferred_identities(session, [feed.person_id]).get(feed.person_id)
            messages = []
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
            return outbox.enqueue(session, messages, now=now)

    def _feed_failed(self, feed: feed_store.FeedToPoll, error: str, now: datetime) -> int:
        failures = feed.failures + 1
        log.info("feed %s failed (%d in a row): %s", feed.feed_id, failures, error)
        with self.db.transaction() as session:
            feed_store.record_failure(session, feed.feed_id, error=error)
            if not agenda.should_report_failure(
                failures, ever_ok=feed.last_ok_at is not None, reported=feed.failure_reported
            ):
                return 0
            identity = outbox.preferred_identities(session, [feed.person_id]).get(feed.person_id)
            if identity is None:
                return 0
            views = feed_store.feed_views(session, feed.person_id)
            number = next((v.number for v in views if v.feed_id == feed.feed_id), 1)
            msg = notices.feed_failure(
                feed_id=feed.feed_id,
                number=number,
                url=feed.url,
                error=error,
                last_ok_at=feed.last_ok_at,
                now=now,
            )
            feed_store.mark_failure_reported(session, feed.feed_id)
            return outbox.enqueue(session, [queued(feed.person_id, identity, msg)], now=now)

"""The scheduler's jobs: poll calendars, decide what is due, enqueue it, send the outbox.

Decisions are the pure functions of `bot.core.agenda`; this module loads their inputs,
writes their outputs to the outbox (one unique key per message) and sends due rows
through each platform's `Sender`. `Jobs.tick(now)` runs everything once as if at `now`
(`cpdbot tick`); `start_scheduler` runs it every minute under APScheduler (`cpdbot run`).

Exactly once: a message is an outbox row with a unique (person, kind, key), so deciding
twice enqueues once; rows are claimed with a conditional UPDATE before sending, so two
workers never both send one; a row is marked sent right after its send succeeds. A worker
that dies between claim and send leaves a claim that goes stale after `CLAIM_TIMEOUT`
and is then sent by the next run. The one window left is a crash after the platform
accepted a message but before `sent` is written: that message is sent again
(at-least-once at the transport, exactly once in the record).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import threading
import time as _time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, cast, exists, func, select, tuple_
from sqlmodel import Session, col

from bot.core import agenda, zones
from bot.core.export import Record, to_csv, to_json
from bot.core.model import (
    Attachment,
    IdentityKey,
    Outgoing,
    PersonView,
    Sender,
    Unreachable,
    YearSummary,
)
from bot.core.schemes import Scheme, scheme_for
from storage import conversations, outbox, repo
from storage import feeds as feed_store
from storage.db import Database
from storage.models import Entry, Outbox, Person, Reflection

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("cpdbot.jobs")

Clock = Callable[[], datetime]
CLAIM_TIMEOUT = timedelta(minutes=5)  # a claim older than this is taken over
MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(minutes=1)  # 1, 2, 4, 8 minutes ... capped
RETRY_CAP = timedelta(hours=1)
POLL_EVERY = timedelta(minutes=10)
POLL_BACKOFF_CAP = timedelta(hours=6)
FETCH_CONCURRENCY = 8
SEND_CONCURRENCY = 32
CLAIM_SECONDS = 60  # claim about this many seconds of sending per batch (per platform)
CLAIM_MAX = 500
# People decided per transaction: on SQLite a transaction holds the write lock, so a busy
# month start is cut into short transactions and chat messages never wait long.
PLAN_CHUNK = 2000
# Retention. A dedupe key must outlive every redelivery of its update (Telegram re-sends
# for up to 24 h, the adapters' inbox replays for 2 days, Slack retries for minutes); an
# outbox key guards against a second send only while its grace window is open (a month
# at most), after which the row is a record of what was sent, kept a year and a bit.
KEEP_PROCESSED = timedelta(days=30)
KEEP_OUTBOX = timedelta(days=400)
PRUNE_EVERY = timedelta(hours=1)
PRUNE_BATCH = 5000  # rows per transaction, so a backlog never holds the write lock long
PRUNE_BATCHES = 20  # per run; a larger backlog goes on the next run
_CHART_LOCK = threading.Lock()


# ---------------------------------------------------------------- rate limits


@dataclass(frozen=True)
class RateLimit:
    """How fast the send loop may send on one platform.

    per_second: messages per second overall (None: unlimited); per_recipient: seconds
    between two messages to the same chat.
    """

    per_second: float | None = None
    per_recipient: float = 0.0


# Telegram: ~30 messages/s overall, 1/s per chat. Slack: chat.postMessage allows ~1/s per
# channel, and conversations.open (first message to a person) is Tier 3 (~50/min), so
# overall we keep to 1/s. The senders also honour 429 Retry-After themselves.
DEFAULT_LIMITS: Mapping[str, RateLimit] = {
    "telegram": RateLimit(per_second=30, per_recipient=1.0),
    "slack": RateLimit(per_second=1, per_recipient=1.0),
    "console": RateLimit(),
}


class RateLimiter:
    """Spaces sends: each platform's at least 1/rate apart (no bursts), measured between
    the moments the waits end, so no one-second window ever holds more than `rate`
    sends; and each recipient's at least `per_recipient` apart. Monotonic time: pacing
    is real time even when the jobs run "as if" at another instant."""

    def __init__(
        self,
        limits: Mapping[str, RateLimit],
        clock: Callable[[], float] = _time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limits = dict(limits)
        self.clock = clock
        self.sleep = sleep
        self._next: dict[str, float] = defaultdict(float)
        self._next_recipient: dict[tuple[str, str], float] = {}
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._recipient_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def wait(self, platform: str, recipient: str) -> None:
        limit = self.limits.get(platform, RateLimit())
        if limit.per_recipient:
            async with self._recipient_locks[platform]:
                now = self.clock()
                slot = max(now, self._next_recipient.get((platform, recipient), 0.0))
                self._next_recipient[(platform, recipient)] = slot + limit.per_recipient
                if len(self._next_recipient) > 100_000:
                    self._prune(now)
            await self._sleep_until(slot)
        if limit.per_second:
            # Waiting under the lock: the next sender's slot counts from when this one
            # actually goes, so a late wake-up can never squeeze two sends together.
            async with self._locks[platform]:
                await self._sleep_until(self._next[platform])
                self._next[platform] = self.clock() + 1 / limit.per_second

    def _prune(self, now: float) -> None:
        self._next_recipient = {k: v for k, v in self._next_recipient.items() if v > now}

    async def _sleep_until(self, when: float) -> None:
        delay = when - self.clock()
        if delay > 0:
            await self.sleep(delay)


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Sent:
    """A message the send loop delivered (for `cpdbot tick`'s printout and logs)."""

    outbox_id: int
    kind: str
    key: str
    recipient: IdentityKey
    reply: Outgoing


@dataclass
class TickReport:
    enqueued: int = 0
    polled: int = 0
    sent: list[Sent] = field(default_factory=list)
    failed: int = 0
    retried: int = 0


# ---------------------------------------------------------------- the jobs


class Jobs:
    """Every scheduled job, against one database, with injected time and senders."""

    def __init__(
        self,
        db: Database,
        schemes: Mapping[str, Scheme],
        clock: Clock,
        *,
        senders: Mapping[str, Sender] | None = None,
        http: httpx.AsyncClient | None = None,
        allow_private_feeds: bool = False,
        poll_every: timedelta = POLL_EVERY,
        limits: Mapping[str, RateLimit] | None = None,
        worker: str | None = None,
        chart_processes: int = 0,
    ) -> None:
        self.db = db
        self.schemes = schemes
        self.clock = clock
        self.senders: dict[str, Sender] = dict(senders or {})
        self.http = http
        self.allow_private_feeds = allow_private_feeds
        self.poll_every = poll_every
        self.limiter = RateLimiter(limits if limits is not None else DEFAULT_LIMITS)
        self.worker = worker or f"worker-{uuid.uuid4().hex[:12]}"
        self._pruned_at: datetime | None = None
        # Charts are drawn in this many worker processes (0: in a thread of this one).
        self.chart_processes = chart_processes
        self._chart_pool: ProcessPoolExecutor | None = None

    def close(self) -> None:
        """Stop the chart processes, if any were started."""
        if self._chart_pool is not None:
            self._chart_pool.shutdown(wait=True, cancel_futures=True)
            self._chart_pool = None

    def _scheme(self, scheme_id: str) -> Scheme:
        return scheme_for(self.schemes, scheme_id)

    # ------------------------------------------------------------ entry points

    async def tick(self, now: datetime | None = None) -> TickReport:
        """Run every job once as if at `now`: poll, plan, send what is due."""
        now = now or self.clock()
        report = TickReport()
        report.polled, polled_enqueued = await self.poll_calendars(now)
        report.enqueued = polled_enqueued + await asyncio.to_thread(self.plan, now)
        await self.send_due(now, report)
        return report

    async def run_planning(self) -> None:
        """APScheduler job: poll calendars and enqueue what is due now."""
        now = self.clock()
        await self.poll_calendars(now)
        await asyncio.to_thread(self.plan, now)

    async def run_sending(self) -> None:
        """APScheduler job: send what is due now."""
        await self.send_due(self.clock())

    # ------------------------------------------------------------ planning

    def plan(self, now: datetime) -> int:
        """Decide and enqueue every time-based message due at `now`; returns how many
        rows were new. Each kind runs in its own short transaction."""
        total = 0
        for job in (
            self.plan_monthly,
            self.plan_year_end,
            self.plan_reminders,
            self.plan_reasks,
        ):
            try:
                total += job(now)
            except Exception:  # one broken job must not stop the others
                log.exception("job %s failed", job.__name__)
        with self.db.transaction() as session:
            outbox.expire(
                session, now=now, stale_before=now - CLAIM_TIMEOUT, max_attempts=MAX_ATTEMPTS
            )
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = now
            try:
                self.prune(now)
            except Exception:
                log.exception("pruning old rows failed")
        return total

    def prune(self, now: datetime) -> tuple[int, int]:
        """Forget dedupe keys older than KEEP_PROCESSED and finished outbox rows older than
        KEEP_OUTBOX, in short transactions; returns (keys, rows) deleted."""
        keys = _in_batches(
            self.db,
            lambda session: conversations.prune_processed(
                session, before=now - KEEP_PROCESSED, limit=PRUNE_BATCH
            ),
        )
        rows = _in_batches(
            self.db,
            lambda session: outbox.prune(session, due_before=now - KEEP_OUTBOX, limit=PRUNE_BATCH),
        )
        if keys or rows:
            log.info("pruned %d old dedupe key(s) and %d old outbox row(s)", keys, rows)
        return keys, rows

    def plan_monthly(self, now: datetime) -> int:
        """Monthly nudges due now. Due times are worked out once per (zone, day, hour)
        group, not per person; then only the people of due groups who have no row for
        that month yet are loaded (the outbox key doubles as "already decided")."""
        with self.db.transaction() as session:
            group = tuple_(col(Person.timezone), col(Person.nudge_day), col(Person.nudge_hour))
            enabled = col(Person.nudges_enabled).is_(True)
            by_period: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
            for tz, day, hour in session.execute(
                select(col(Person.timezone), col(Person.nudge_day), col(Person.nudge_hour))
                .where(col(Person.onboarded).is_(True), enabled)
                .distinct()
            ).all():
                found = agenda.monthly_due_at(tz, day, hour, now)
                if found is not None:
                    by_period[found[0]].append((tz, day, hour))
            todo = [
                _ids(session, group.in_(members), enabled, ~_has_row(agenda.NUDGE, period))
                for period, members in by_period.items()
            ]
        return self._in_chunks(todo, self._nudges, now)

    def _in_chunks(
        self,
        id_lists: Iterable[Sequence[int]],
        decide: Callable[[Session, Mapping[int, PersonView], datetime], list[outbox.NewMessage]],
        now: datetime,
    ) -> int:
        """Decide and enqueue for these people, PLAN_CHUNK per transaction."""
        total = 0
        for ids in id_lists:
            for i in range(0, len(ids), PLAN_CHUNK):
                with self.db.transaction() as session:
                    people = _people(session, col(Person.id).in_(ids[i : i + PLAN_CHUNK]))
                    total += outbox.enqueue(session, decide(session, people, now), now=now)
        return total

    def _nudges(
        self, session: Session, people: Mapping[int, PersonView], now: datetime
    ) -> list[outbox.NewMessage]:
        identities = outbox.preferred_identities(session, people)
        due = {pid: found for pid, p in people.items() if (found := agenda.monthly_due(p, now))}
        bounds = {pid: self._bounds(people[pid], now) for pid in due}
        summaries = _summaries(session, bounds)
        messages: list[outbox.NewMessage] = []
        for pid, (period, due_at) in due.items():
            person = people[pid]
            identity = identities.get(pid)
            message = None
            note = _held_back(person, identity, due_at)
            if note is None:
                message = agenda.monthly_nudge(
                    person,
                    self._scheme(person.scheme_id),
                    summaries[pid],
                    period=period,
                    due=due_at,
                    now=now,
                )
                note = "on pace (only when behind)"
            if message is not None and identity is not None:
                messages.append(_new(pid, identity, message))
            else:
                messages.append(_skip(pid, identity, agenda.NUDGE, period, now, note))
        return messages

    def _bounds(self, person: PersonView, now: datetime) -> tuple[date, date]:
        today = zones.local_today(now, zones.zone_of(person.timezone))
        return agenda.year_bounds(self._scheme(person.scheme_id), person, today)

    def plan_year_end(self, now: datetime) -> int:
        """Six-weeks-left warnings and year-end summaries due now: decided per group of
        people sharing zone, hour, scheme, status and year start; then only the people
        of due groups without a row for that year yet."""
        columns = (
            col(Person.timezone),
            col(Person.nudge_hour),
            col(Person.scheme_id),
            col(Person.status_id),
            func.coalesce(col(Person.year_start_month), 0),
            func.coalesce(col(Person.year_start_day), 0),
            col(Person.nudges_enabled),
        )
        with self.db.transaction() as session:
            warn: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
            summary: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
            for row in session.execute(
                select(*columns).where(col(Person.onboarded).is_(True)).distinct()
            ).all():
                tz, hour, scheme_id, status_id, month, day, enabled = row
                model = PersonView(
                    display_name="",
                    timezone=tz,
                    scheme_id=scheme_id,
                    status_id=status_id,
                    date_order="DMY",
                    languages=("en",),
                    onboarded=True,
                    last_entry_number=0,
                    year_start=(month, day) if month and day else None,
                    nudge_hour=hour,
                    nudges_enabled=enabled,
                )
                scheme = self._scheme(scheme_id)
                if (found := agenda.warning_due(model, scheme, now)) is not None:
                    warn[found[0].isoformat()].append(tuple(row))
                if (found := agenda.summary_due(model, scheme, now)) is not None:
                    summary[found[0].isoformat()].append(tuple(row))
            warn_ids = [
                _ids(session, tuple_(*columns).in_(m), ~_has_row(agenda.YEAR_WARNING, key))
                for key, m in warn.items()
            ]
            summary_ids = [
                _ids(session, tuple_(*columns).in_(m), ~_has_row(agenda.YEAR_END, key))
                for key, m in summary.items()
            ]
        return self._in_chunks(warn_ids, self._warnings, now) + self._in_chunks(
            summary_ids, self._summaries_due, now
        )

    def _warnings(
        self, session: Session, people: Mapping[int, PersonView], now: datetime
    ) -> list[outbox.NewMessage]:
        identities = outbox.preferred_identities(session, people)
        due = {
            pid: found
            for pid, p in people.items()
            if (found := agenda.warning_due(p, self._scheme(p.scheme_id), now))
        }
        sums = _summaries(session, {pid: (start, end) for pid, (start, end, _) in due.items()})
        messages: list[outbox.NewMessage] = []
        for pid, (start, _, due_at) in due.items():
            person, identity, msg = people[pid], identities.get(pid), None
            note = _held_back(person, identity, due_at)
            if note is None:
                scheme = self._scheme(person.scheme_id)
                msg = agenda.year_end_warning(person, scheme, sums[pid], due=due_at, now=now)
                note = "on target"
            if msg is not None and identity is not None:
                messages.append(_new(pid, identity, msg))
            else:
                key = start.isoformat()
                messages.append(_skip(pid, identity, agenda.YEAR_WARNING, key, now, note))
        return messages

    def _summaries_due(
        self, session: Session, people: Mapping[int, PersonView], now: datetime
    ) -> list[outbox.NewMessage]:
        identities = outbox.preferred_identities(session, people)
        due = {
            pid: found
            for pid, p in people.items()
            if (found := agenda.summary_due(p, self._scheme(p.scheme_id), now))  # not paused
        }
        sums = _summaries(session, {pid: (start, end) for pid, (start, end, _) in due.items()})
        messages: list[outbox.NewMessage] = []
        for pid, (start, _, due_at) in due.items():
            person, identity = people[pid], identities.get(pid)
            note = _held_back(person, identity, due_at, pausable=False)
            ready: list[agenda.Message] = []
            if note is None:
                scheme = self._scheme(person.scheme_id)
                ready = agenda.year_end_summary(person, scheme, sums[pid], due=due_at)
            if ready and identity is not None:
                messages += [_new(pid, identity, m) for m in ready]
            else:
                note = note or "no entries"
                key = start.isoformat()
                messages.append(_skip(pid, identity, agenda.YEAR_END, key, now, note))
        return messages

    def plan_reminders(self, now: datetime) -> int:
        """One reflection reminder a day at most per person, for entries pending two days
        or more and never reminded (both checked in SQL: the outbox keys are the record)."""
        with self.db.transaction() as session:
            reminded = exists().where(
                col(Outbox.person_id) == col(Entry.person_id),
                col(Outbox.kind) == agenda.REFLECT,
                col(Outbox.key) == cast(col(Entry.number), String),
            )
            today = exists().where(
                col(Outbox.person_id) == col(Entry.person_id),
                col(Outbox.kind) == agenda.REFLECT,
                col(Outbox.created_at) > now - timedelta(hours=20),
            )
            rows = session.execute(
                select(Entry)
                .join(Reflection, col(Reflection.entry_id) == col(Entry.id))
                .join(Person, col(Person.id) == col(Entry.person_id))
                .where(
                    col(Person.onboarded).is_(True),
                    col(Person.nudges_enabled).is_(True),
                    col(Entry.deleted_at).is_(None),
                    col(Reflection.answer).is_(None),
                    col(Entry.created_at) <= now - agenda.REMINDER_AFTER,
                    col(Entry.created_at) >= now - agenda.REMINDER_MAX_AGE,
                    ~reminded,
                    ~today,
                )
                .group_by(col(Entry.id))
                .order_by(col(Entry.created_at), col(Entry.id))
            ).scalars()
            oldest: dict[int, Entry] = {}
            for entry in rows:
                oldest.setdefault(entry.person_id, entry)
            if not oldest:
                return 0
            people = _people(session, col(Person.id).in_(sorted(oldest)))
            identities = outbox.preferred_identities(session, oldest)
            pending_totals = _pending_counts(session, oldest)
            views = dict(zip(oldest, repo.entry_views(session, list(oldest.values())), strict=True))
            messages: list[outbox.NewMessage] = []
            for pid, entry in oldest.items():
                person, view = people.get(pid), views[pid]
                if person is None or pid not in identities:
                    continue
                msg = agenda.reflection_reminder(
                    person,
                    self._scheme(person.scheme_id),
                    [agenda.PendingEntry(view, entry.created_at)],
                    pending_total=pending_totals.get(pid, 0),
                    now=now,
                )
                if msg is not None:
                    messages.append(_new(pid, identities[pid], msg))
            return outbox.enqueue(session, messages, now=now)

    def plan_reasks(self, now: datetime) -> int:
        with self.db.transaction() as session:
            due = feed_store.due_reasks(session, now=now)
            if not due:
                return 0
            identities = outbox.preferred_identities(session, {r.person_id for r in due})
            messages: list[outbox.NewMessage] = []
            for item in due:
                if not feed_store.mark_reasked(session, item.occurrence.id):
                    continue  # another worker took it
                zone = zones.zone_of(item.timezone)
                end = agenda.pause_end(item.paused_until, zone)
                if (end is not None and now < end) or item.person_id not in identities:
                    continue  # paused (or unreachable): the one re-ask is dropped
                occ = item.occurrence
                facts = agenda.EventFacts(occ.id, occ.title, occ.start, occ.end, occ.minutes)
                remind_at = now
                msg = agenda.reask(facts, item.timezone, due=remind_at, now=now)
                messages.append(_new(item.person_id, identities[item.person_id], msg))
            return outbox.enqueue(session, messages, now=now)

    # ------------------------------------------------------------ calendars

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
                zone = zones.zone_of(feed.timezone)
                end = agenda.pause_end(feed.paused_until, zone)
                if end is not None and now < end:
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
                )
            except cal.FeedError as exc:
                return self._feed_failed(feed, str(exc), now)
            events = reading.occurrences
            for note in reading.skipped:
                log.info("feed %s: %s", feed.feed_id, note)
        keywords = agenda.keywords_of(feed.keywords, cal.DEFAULT_KEYWORDS)
        wanted = [
            e
            for e in events
            if not e.cancelled
            and not e.declined
            and start < e.end <= now
            and (feed.all_events or cal.is_learning(e, keywords))
        ]
        with self.db.transaction() as session:
            feed_store.record_ok(
                session,
                feed.feed_id,
                now=now,
                etag=result.etag if result.status == "ok" else feed.etag,
                last_modified=(
                    result.last_modified if result.status == "ok" else feed.last_modified
                ),
                body=result.body if result.status == "ok" else None,
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
                facts = agenda.EventFacts(seen, e.title, e.start, e.end, minutes, e.all_day)
                msg = agenda.calendar_prompt(facts, feed.timezone, now)
                messages.append(_new(feed.person_id, identity, msg))
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
            msg = agenda.feed_failure(
                feed_id=feed.feed_id,
                number=number,
                url=feed.url,
                error=error,
                last_ok_at=feed.last_ok_at,
                now=now,
            )
            feed_store.mark_failure_reported(session, feed.feed_id)
            return outbox.enqueue(session, [_new(feed.person_id, identity, msg)], now=now)

    # ------------------------------------------------------------ sending

    async def send_due(self, now: datetime, report: TickReport | None = None) -> TickReport:
        """Claim and send every due row for the platforms we have senders for."""
        report = report or TickReport()
        for platform in sorted(self.senders):
            limit = self.limiter.limits.get(platform, RateLimit())
            batch = CLAIM_MAX
            if limit.per_second:
                batch = max(1, min(CLAIM_MAX, int(limit.per_second * CLAIM_SECONDS)))
            for _ in range(10_000):
                rows = await asyncio.to_thread(self._claim, platform, now, batch)
                if not rows:
                    break
                await self._send_batch(rows, now, report)
                if len(rows) < batch:
                    break
        return report

    def _claim(self, platform: str, now: datetime, limit: int) -> list[outbox.Claimed]:
        with self.db.transaction() as session:
            return outbox.claim(
                session,
                worker=self.worker,
                now=now,
                stale_before=now - CLAIM_TIMEOUT,
                platforms=[platform],
                limit=limit,
                max_attempts=MAX_ATTEMPTS,
            )

    async def _send_batch(
        self, rows: Sequence[outbox.Claimed], now: datetime, report: TickReport
    ) -> None:
        # One task per recipient, their messages in order; recipients concurrently.
        by_recipient: dict[int, list[outbox.Claimed]] = defaultdict(list)
        for row in rows:
            by_recipient[row.identity_id].append(row)
        gate = asyncio.Semaphore(SEND_CONCURRENCY)

        async def deliver(group: list[outbox.Claimed]) -> None:
            async with gate:
                for row in group:
                    await self._send_one(row, now, report)

        await asyncio.gather(*(deliver(g) for g in by_recipient.values()))

    async def _send_one(self, row: outbox.Claimed, now: datetime, report: TickReport) -> None:
        identity = IdentityKey(row.platform, row.user_id, row.workspace)
        sender = self.senders[row.platform]
        end = agenda.pause_end(row.paused_until, zones.zone_of(row.timezone))
        if row.kind in agenda.PAUSABLE and end is not None and now < end:
            await asyncio.to_thread(self._finish, row, "paused", "paused", now)
            return
        try:
            reply = await self._render(row, now)
            await self.limiter.wait(row.platform, f"{row.workspace}:{row.user_id}")
            await sender.send(identity, row.chat_id, reply)
        except Unreachable as exc:
            log.info("outbox %s: %s unreachable: %s", row.id, identity, exc)
            await asyncio.to_thread(self._finish, row, "unreachable", str(exc), now)
            report.failed += 1
            return
        except Exception as exc:
            log.warning("outbox %s to %s failed: %s", row.id, identity, exc)
            state = await asyncio.to_thread(
                self._finish, row, "error", f"{type(exc).__name__}: {exc}", now
            )
            if state == "failed":
                report.failed += 1
            else:
                report.retried += 1
            return
        await asyncio.to_thread(self._finish, row, "sent", "", now)
        report.sent.append(Sent(row.id, row.kind, row.key, identity, reply))

    async def _render(self, row: outbox.Claimed, now: datetime) -> Outgoing:
        """The message of an outbox row, its attachment made now from the pointer stored."""
        reply = agenda.outgoing(row.payload)
        pointer = row.payload.get("attachment")
        if isinstance(pointer, dict) and "chart" in pointer:
            start = date.fromisoformat(str(pointer["chart"]))
            chart = await self._chart(row, start, now)
            return Outgoing(reply.text, reply.choices, attachment=chart)
        if not isinstance(pointer, dict) or "record" not in pointer:
            return reply
        return await asyncio.to_thread(self._record_file, row, reply, pointer)

    def _record_file(
        self, row: outbox.Claimed, reply: Outgoing, pointer: Mapping[str, Any]
    ) -> Outgoing:
        record = self._record(row.person_id, date.fromisoformat(str(pointer["record"])))
        kind = str(pointer.get("format", "csv"))
        data = to_json(record) if kind == "json" else to_csv(record)
        mime = "application/json" if kind == "json" else "text/csv"
        name = f"cpd-{record.label.replace('/', '-')}.{kind}"
        return Outgoing(reply.text, reply.choices, attachment=Attachment(name, data, mime))

    def _record(self, person_id: int, start: date) -> Record:
        with self.db.transaction() as session:
            return self._record_in(session, person_id, start)

    def _record_in(self, session: Session, person_id: int, start: date) -> Record:
        person = session.get(Person, person_id)
        if person is None:
            raise LookupError(f"person {person_id} is gone")
        view = repo.person_view(person)
        scheme = self._scheme(view.scheme_id)
        first, end = scheme.year_bounds(start, view.year_start)
        entries = repo.entries_between(session, person_id, first, end)
        return Record(view, scheme, first, end, tuple(entries))

    async def _chart(self, row: outbox.Claimed, start: date, now: datetime) -> Attachment | None:
        """The progress chart of the CPD year starting on `start`, drawn now (only for rows
        being sent: deciding 100,000 nudges draws nothing). The target line is the year's
        after leave or exemptions. A chart that cannot be drawn leaves the text to go alone."""
        try:
            record, target, today = await asyncio.to_thread(self._chart_data, row, start, now)
            png = await self._draw(record, target, today)
        except LookupError:
            raise  # the person is gone: nothing to send
        except Exception:
            log.exception("outbox %s: drawing the chart failed; sending the text alone", row.id)
            return None
        return Attachment(f"cpd-progress-{record.label.replace('/', '-')}.png", png, "image/png")

    def _chart_data(
        self, row: outbox.Claimed, start: date, now: datetime
    ) -> tuple[Record, int | None, date]:
        from bot.services.records import load_report

        with self.db.transaction() as session:
            record = self._record_in(session, row.person_id, start)
            today = zones.local_today(now, zones.zone_of(record.person.timezone))
            report = load_report(session, row.person_id, record, today)
        return record, report.assessment.target_minutes, today

    async def _draw(self, record: Record, target: int | None, today: date) -> bytes:
        """Draw a chart: in the chart processes if there are any, else in a thread here.

        A chart is 0.1-0.2 s of CPU under the GIL: drawn in this process, a wave of
        monthly nudges slows the bot's replies and is drawn one chart at a time.
        """
        from bot.services.chart import progress_png

        draw = functools.partial(progress_png, record, target, today=today)
        if self.chart_processes <= 0:
            return await asyncio.to_thread(_draw_here, draw)
        if self._chart_pool is None:
            # Workers start from a clean process (forkserver; spawn where there is none),
            # not from a fork of this threaded one.
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context(
                "forkserver" if "forkserver" in methods else "spawn"
            )
            self._chart_pool = ProcessPoolExecutor(self.chart_processes, mp_context=context)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._chart_pool, draw)
        except BrokenProcessPool:
            self._chart_pool = None  # a worker died: start afresh for the next chart
            raise

    def _finish(self, row: outbox.Claimed, outcome: str, error: str, now: datetime) -> str:
        """Write what became of a claimed row; returns its new state."""
        with self.db.transaction() as session:
            if outcome == "sent":
                if not outbox.mark_sent(session, row.id, worker=self.worker, now=now):
                    log.warning("outbox %s: claim was taken over before it was marked", row.id)
                return outbox.SENT
            if outcome == "paused":
                outbox.mark_skipped(session, row.id, worker=self.worker, note=error)
                return outbox.SKIPPED
            if outcome == "unreachable":
                outbox.mark_unreachable(session, row.identity_id)
                outbox.mark_failed(session, row.id, worker=self.worker, error=error)
                return outbox.FAILED
            if row.attempts >= MAX_ATTEMPTS:
                outbox.mark_failed(session, row.id, worker=self.worker, error=error)
                return outbox.FAILED
            wait = min(RETRY_BASE * (1 << max(row.attempts - 1, 0)), RETRY_CAP)
            outbox.mark_retry(session, row.id, worker=self.worker, retry_at=now + wait, error=error)
            return outbox.PENDING


def _draw_here(draw: Callable[[], bytes]) -> bytes:
    with _CHART_LOCK:  # matplotlib is not thread-safe; it holds the GIL anyway
        return draw()


def _in_batches(db: Database, delete: Callable[[Session], int]) -> int:
    """Run `delete` (at most PRUNE_BATCH rows) in one transaction after another until it
    deletes less than a batch, at most PRUNE_BATCHES times; returns the total."""
    total = 0
    for _ in range(PRUNE_BATCHES):
        with db.transaction() as session:
            deleted = delete(session)
        total += deleted
        if deleted < PRUNE_BATCH:
            break
    return total


def _new(person_id: int, identity_id: int, msg: agenda.Message) -> outbox.NewMessage:
    return outbox.NewMessage(
        person_id=person_id,
        identity_id=identity_id,
        kind=msg.kind,
        key=msg.key,
        payload=msg.payload(),
        due_at=msg.due_at,
        expires_at=msg.expires_at,
    )


# ---------------------------------------------------------------- bulk loading


_PERSON_COLUMNS: tuple[Any, ...] = tuple(
    col(c)
    for c in (
        Person.id,
        Person.display_name,
        Person.timezone,
        Person.scheme_id,
        Person.status_id,
        Person.date_order,
        Person.languages,
        Person.onboarded,
        Person.last_entry_number,
        Person.studying_he,
        Person.year_start_month,
        Person.year_start_day,
        Person.nudge_day,
        Person.nudge_hour,
        Person.nudges_enabled,
        Person.nudge_mode,
        Person.paused_until,
        Person.calendar_keywords,
        Person.calendar_all_events,
        Person.created_at,
    )
)


def _people(session: Session, *conditions: Any) -> dict[int, PersonView]:
    """Onboarded people matching `conditions`, as PersonViews by id, read as plain
    columns (fast enough for 100,000 people)."""
    query = select(*_PERSON_COLUMNS).where(col(Person.onboarded).is_(True), *conditions)
    people: dict[int, PersonView] = {}
    for r in session.execute(query).all():
        people[int(r[0])] = PersonView(
            display_name=r[1],
            timezone=r[2],
            scheme_id=r[3],
            status_id=r[4],
            date_order=r[5],
            languages=tuple(x for x in r[6].split(",") if x) or ("en",),
            onboarded=r[7],
            last_entry_number=r[8],
            studying_he=r[9],
            year_start=(r[10], r[11]) if r[10] and r[11] else None,
            nudge_day=r[12],
            nudge_hour=r[13],
            nudges_enabled=r[14],
            nudge_mode=r[15],
            paused_until=r[16],
            calendar_keywords=r[17],
            calendar_all_events=r[18],
            joined=r[19],
        )
    return people


def _ids(session: Session, *conditions: Any) -> list[int]:
    """Ids of the onboarded people matching `conditions`."""
    query = select(col(Person.id)).where(col(Person.onboarded).is_(True), *conditions)
    return [int(i) for (i,) in session.execute(query.order_by(col(Person.id))).all()]


def _has_row(kind: str, key: str) -> Any:
    """EXISTS an outbox row of this kind and key for the person (sent, pending, skipped)."""
    return exists().where(
        col(Outbox.person_id) == col(Person.id), col(Outbox.kind) == kind, col(Outbox.key) == key
    )


def _held_back(
    person: PersonView, identity_id: int | None, due_at: datetime, *, pausable: bool = True
) -> str | None:
    """Why a message due at `due_at` is not sent (recorded as skipped), or None to decide it."""
    if identity_id is None:
        return "no reachable identity"
    if agenda.before_joining(person, due_at):
        return "due before the person joined"
    if pausable and agenda.in_pause(person, due_at):
        return "paused"
    return None


def _skip(
    person_id: int, identity_id: int | None, kind: str, key: str, now: datetime, note: str
) -> outbox.NewMessage:
    """The decision "nothing to send" recorded under the message's key."""
    return outbox.NewMessage(
        person_id=person_id,
        identity_id=identity_id,
        kind=kind,
        key=key,
        payload={},
        due_at=now,
        state=outbox.SKIPPED,
        note=note,
    )


def _summaries(session: Session, bounds: Mapping[int, tuple[date, date]]) -> dict[int, YearSummary]:
    """YearSummary for each person over their own (start, end): one grouped query per
    distinct year, over all people when many share it (a scan beats 100,000 lookups)."""
    groups: dict[tuple[date, date], set[int]] = defaultdict(set)
    for pid, b in bounds.items():
        groups[b].add(pid)
    minutes: dict[int, dict[str, int]] = defaultdict(dict)
    counts: dict[int, int] = defaultdict(int)
    pending: dict[int, int] = defaultdict(int)
    for (start, end), pids in groups.items():
        live: list[Any] = [
            col(Entry.deleted_at).is_(None),
            col(Entry.activity_date) >= start,
            col(Entry.activity_date) < end,
        ]
        if len(pids) <= 5000:
            live.append(col(Entry.person_id).in_(sorted(pids)))
        for pid, cat, total, n in session.execute(
            select(col(Entry.person_id), col(Entry.category), func.sum(Entry.minutes), func.count())
            .where(*live)
            .group_by(col(Entry.person_id), col(Entry.category))
        ).all():
            if pid in pids:
                minutes[pid][cat] = int(total or 0)
                counts[pid] += int(n)
        for pid, n in session.execute(
            select(col(Entry.person_id), func.count(func.distinct(Entry.id)))
            .join(Reflection, col(Reflection.entry_id) == col(Entry.id))
            .where(*live, col(Reflection.answer).is_(None))
            .group_by(col(Entry.person_id))
        ).all():
            if pid in pids:
                pending[pid] = int(n)
    return {
        pid: YearSummary(
            start=start,
            end=end,
            minutes_by_category=minutes.get(pid, {}),
            entries=counts.get(pid, 0),
            pending_entries=pending.get(pid, 0),
        )
        for pid, (start, end) in bounds.items()
    }


def _pending_counts(session: Session, person_ids: Iterable[int]) -> dict[int, int]:
    ids = sorted(set(person_ids))
    rows = session.execute(
        select(col(Entry.person_id), func.count(func.distinct(Entry.id)))
        .join(Reflection, col(Reflection.entry_id) == col(Entry.id))
        .where(
            col(Entry.deleted_at).is_(None),
            col(Reflection.answer).is_(None),
            col(Entry.person_id).in_(ids),
        )
        .group_by(col(Entry.person_id))
    ).all()
    return {int(p): int(n) for p, n in rows}


# ---------------------------------------------------------------- APScheduler


def start_scheduler(jobs: Jobs, *, plan_every: timedelta = timedelta(minutes=1),
                    send_every: timedelta = timedelta(seconds=10)) -> Any:  # fmt: skip
    """Run the jobs under APScheduler's AsyncIOScheduler (in UTC) on the running loop.

    coalesce + max_instances=1: a run that is late (the loop was busy, the machine slept)
    happens once, never once per missed interval, and never overlaps itself. The first
    run is immediately, so whatever fell due while the bot was down goes out on start.
    Returns the scheduler; call `shutdown(wait=False)` to stop it.
    """
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    scheduler = AsyncIOScheduler(timezone=UTC)
    start = datetime.now(UTC)
    common: dict[str, Any] = {
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": None,
        "replace_existing": True,
    }
    scheduler.add_job(
        jobs.run_planning,
        IntervalTrigger(seconds=plan_every.total_seconds(), timezone=UTC),
        id="plan",
        next_run_time=start,
        **common,
    )
    scheduler.add_job(
        jobs.run_sending,
        IntervalTrigger(seconds=send_every.total_seconds(), timezone=UTC),
        id="send",
        next_run_time=start + timedelta(seconds=2),
        **common,
    )
    scheduler.start()
    return scheduler

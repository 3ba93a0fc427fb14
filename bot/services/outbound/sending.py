"""The send loop: claims due outbox rows and sends them through each platform's `Sender`,
paced by the rate limits, recording what became of each (sent, retried, failed).

Two schedulers never send one row: rows are claimed in small batches on the database's
clock; while a batch is being sent a heartbeat renews the claims still held, so a slow
batch or a hung send is not taken over; and just before each send the row's claim is
renewed under its token, atomically, so a row whose claim was lost (the process hung past
the timeout and another scheduler took it) is skipped, never sent.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core import agenda
from bot.core.model import IdentityKey, Outgoing, Sender, Unreachable
from bot.services.outbound.attachments import Attachments
from bot.services.outbound.rate_limits import DEFAULT_LIMITS, RateLimit, RateLimiter
from storage import calendar_accounts, outbox, recipients
from storage.db import Database

log = logging.getLogger("cpdbot.jobs")

# On the database's clock: a claim not renewed for this long is taken over (its worker
# died or hung). The heartbeat renews a worker's claims well inside it.
CLAIM_TIMEOUT = timedelta(minutes=5)
RENEW_EVERY = 60.0  # seconds between two renewals of the claims a batch still holds
MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(minutes=1)  # 1, 2, 4, 8 minutes ... capped
RETRY_CAP = timedelta(hours=1)
SEND_CONCURRENCY = 32
CLAIM_SECONDS = 5  # claim about this many seconds of sending per batch (per platform)
CLAIM_MAX = 100
AWAY_NOTE = "held: away (out of office)"


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


@dataclass
class _Run:
    """One platform's send run: the claims not yet finished (row id -> attempt), a lock per
    recipient (their messages go in order), the concurrency gate and the send tasks."""

    held: dict[int, int] = field(default_factory=dict)
    order: defaultdict[int, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))
    gate: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(SEND_CONCURRENCY))
    changed: asyncio.Event = field(default_factory=asyncio.Event)  # a claim was finished
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    away: dict[int, datetime] = field(default_factory=dict)  # person id -> back at


class SendLoop:
    """Sends due outbox rows for the platforms in `senders` (a dict that may be changed)."""

    def __init__(
        self,
        db: Database,
        attachments: Attachments,
        *,
        senders: dict[str, Sender],
        limits: Mapping[str, RateLimit] | None = None,
        worker: str | None = None,
        renew_every: float = RENEW_EVERY,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.db = db
        self.renew_every = renew_every
        self.sleep = sleep  # the heartbeat's (tests move it)
        self.attachments = attachments
        self.senders = senders
        self.limiter = RateLimiter(limits if limits is not None else DEFAULT_LIMITS)
        self.worker = worker or f"worker-{uuid.uuid4().hex[:12]}"

    async def send_due(self, now: datetime, report: TickReport | None = None) -> TickReport:
        """Claim and send every due row for the platforms we have senders for."""
        report = report or TickReport()
        for platform in sorted(self.senders):
            await self._send_platform(platform, now, report)
        return report

    def _batch_size(self, platform: str) -> int:
        limit = self.limiter.limits.get(platform, RateLimit())
        if limit.per_second:
            return max(1, min(CLAIM_MAX, int(limit.per_second * CLAIM_SECONDS)))
        return CLAIM_MAX

    async def _send_platform(self, platform: str, now: datetime, report: TickReport) -> None:
        """Claim and send one platform's due rows a small batch at a time, the next batch
        claimed once half of the one before is out (no pause between batches), while the
        heartbeat keeps every claim still held."""
        batch = self._batch_size(platform)
        run = _Run()
        heartbeat = asyncio.create_task(self._keep_claims(run.held))
        try:
            for _ in range(10_000):
                rows = await asyncio.to_thread(self.claim, platform, now, batch)
                run.away.update(await asyncio.to_thread(self._away, rows, now))
                self._start(rows, run, now, report)
                if len(rows) < batch:
                    break
                while len(run.held) > batch // 2:
                    run.changed.clear()
                    await run.changed.wait()
            await asyncio.gather(*run.tasks)
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)

    def claim(self, platform: str, now: datetime, limit: int) -> list[outbox.Claimed]:
        """Claim up to `limit` due rows of this platform for this worker."""
        with self.db.transaction() as session:
            return outbox.claim(
                session,
                worker=self.worker,
                now=now,
                timeout=CLAIM_TIMEOUT,
                platforms=[platform],
                limit=limit,
                max_attempts=MAX_ATTEMPTS,
            )

    def _start(
        self, rows: Sequence[outbox.Claimed], run: _Run, now: datetime, report: TickReport
    ) -> None:
        """One task per recipient and batch: their messages in order (across batches too,
        by the recipient's lock), recipients concurrently."""
        by_recipient: dict[int, list[outbox.Claimed]] = defaultdict(list)
        for row in rows:
            by_recipient[row.identity_id].append(row)
            run.held[row.id] = row.attempts
        for group in by_recipient.values():
            run.tasks.append(asyncio.create_task(self._deliver(group, run, now, report)))

    async def _deliver(
        self, group: list[outbox.Claimed], run: _Run, now: datetime, report: TickReport
    ) -> None:
        try:
            async with run.order[group[0].identity_id], run.gate:
                for row in group:
                    await self._send_one(row, now, report, run.away.get(row.person_id))
                    run.held.pop(row.id, None)
                    run.changed.set()
        finally:
            for row in group:
                run.held.pop(row.id, None)
            run.changed.set()

    async def _keep_claims(self, held: dict[int, int]) -> None:
        """The heartbeat: every `renew_every` seconds, renew the claims in `held` (row id
        -> attempt) on the database's clock, however long the sends take."""
        while True:
            await self.sleep(self.renew_every)
            tokens = list(held.items())
            try:
                kept = await asyncio.to_thread(self._renew, tokens)
            except Exception:
                log.exception("renewing %d outbox claims failed", len(tokens))
                continue
            lost = [row_id for row_id, _ in tokens if row_id not in kept and row_id in held]
            if lost:
                log.warning("outbox: lost the claim on %d row(s) while sending", len(lost))
                for row_id in lost:
                    held.pop(row_id, None)

    def _renew(self, tokens: Iterable[tuple[int, int]]) -> set[int]:
        """Renew this worker's claims; returns the row ids it still holds."""
        tokens = list(tokens)
        if not tokens:
            return set()
        with self.db.transaction() as session:
            return outbox.renew(session, tokens, worker=self.worker)

    def _away(self, rows: Sequence[outbox.Claimed], now: datetime) -> dict[int, datetime]:
        """person id -> when they are back (`agenda.back_at`), for the people of these
        rows' pausable messages who are away (out of office) at `now`."""
        ids = sorted({row.person_id for row in rows if row.kind in agenda.PAUSABLE})
        if not ids:
            return {}
        with self.db.transaction() as session:
            until = calendar_accounts.absent_until(session, ids, now)
            people = recipients.people(session, sorted(until)) if until else {}
        return {
            pid: agenda.back_at(person.timezone, person.nudge_hour, until[pid])
            for pid, person in people.items()
        }

    async def _send_one(
        self, row: outbox.Claimed, now: datetime, report: TickReport, back: datetime | None
    ) -> None:
        """Send one claimed row: dropped if paused (a /pause, as today), held until the
        person is back if they are away (an absence in their calendar), else sent."""
        identity = IdentityKey(row.platform, row.user_id, row.workspace)
        sender = self.senders[row.platform]
        if row.kind in agenda.PAUSABLE and agenda.pause_holds(row.paused_until, row.timezone, now):
            await asyncio.to_thread(self._finish, row, "paused", "paused", now)
            return
        if row.kind in agenda.PAUSABLE and back is not None:
            await asyncio.to_thread(self._hold, row, back)
            return
        try:
            reply = await self.attachments.render(row, now)
            # Renew the claim, atomically under its token, just before sending: a row
            # taken over meanwhile is someone else's to send.
            if not await asyncio.to_thread(self._renew, [row.token]):
                log.warning("outbox %s: claim lost to another scheduler; not sent", row.id)
                return
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

    def _hold(self, row: outbox.Claimed, back: datetime) -> None:
        """Put a row back, due when its person is back (its grace window moved along)."""
        with self.db.transaction() as session:
            held = recipients.hold_claimed(
                session,
                row.id,
                worker=self.worker,
                attempts=row.attempts,
                until=back,
                note=AWAY_NOTE,
            )
        if not held:
            log.warning("outbox %s: claim was taken over before it was held", row.id)

    def _finish(self, row: outbox.Claimed, outcome: str, error: str, now: datetime) -> str:
        """Write what became of a claimed row (only while this claim holds it); returns
        its new state."""
        worker, attempts = self.worker, row.attempts
        with self.db.transaction() as session:
            if outcome == "sent":
                if not outbox.mark_sent(session, row.id, worker=worker, now=now, attempts=attempts):
                    log.warning("outbox %s: claim was taken over before it was marked", row.id)
                return outbox.SENT
            if outcome == "paused":
                outbox.mark_skipped(session, row.id, worker=worker, note=error, attempts=attempts)
                return outbox.SKIPPED
            if outcome == "unreachable":
                outbox.mark_unreachable(session, row.identity_id)
                outbox.mark_failed(session, row.id, worker=worker, error=error, attempts=attempts)
                return outbox.FAILED
            if row.attempts >= MAX_ATTEMPTS:
                outbox.mark_failed(session, row.id, worker=worker, error=error, attempts=attempts)
                return outbox.FAILED
            wait = min(RETRY_BASE * (1 << max(row.attempts - 1, 0)), RETRY_CAP)
            outbox.mark_retry(
                session, row.id, worker=worker, retry_at=now + wait, error=error, attempts=attempts
            )
            return outbox.PENDING

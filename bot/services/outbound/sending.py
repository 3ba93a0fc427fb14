"""The send loop: claims due outbox rows and sends them through each platform's `Sender`,
paced by the rate limits, recording what became of each (sent, retried, failed)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core import agenda
from bot.core.model import IdentityKey, Outgoing, Sender, Unreachable
from bot.services.outbound.attachments import Attachments
from bot.services.outbound.rate_limits import DEFAULT_LIMITS, RateLimit, RateLimiter
from storage import outbox
from storage.db import Database

log = logging.getLogger("cpdbot.jobs")

CLAIM_TIMEOUT = timedelta(minutes=5)  # a claim older than this is taken over
MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(minutes=1)  # 1, 2, 4, 8 minutes ... capped
RETRY_CAP = timedelta(hours=1)
SEND_CONCURRENCY = 32
CLAIM_SECONDS = 60  # claim about this many seconds of sending per batch (per platform)
CLAIM_MAX = 500


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
    ) -> None:
        self.db = db
        self.attachments = attachments
        self.senders = senders
        self.limiter = RateLimiter(limits if limits is not None else DEFAULT_LIMITS)
        self.worker = worker or f"worker-{uuid.uuid4().hex[:12]}"

    async def send_due(self, now: datetime, report: TickReport | None = None) -> TickReport:
        """Claim and send every due row for the platforms we have senders for."""
        report = report or TickReport()
        for platform in sorted(self.senders):
            limit = self.limiter.limits.get(platform, RateLimit())
            batch = CLAIM_MAX
            if limit.per_second:
                batch = max(1, min(CLAIM_MAX, int(limit.per_second * CLAIM_SECONDS)))
            for _ in range(10_000):
                rows = await asyncio.to_thread(self.claim, platform, now, batch)
                if not rows:
                    break
                await self._send_batch(rows, now, report)
                if len(rows) < batch:
                    break
        return report

    def claim(self, platform: str, now: datetime, limit: int) -> list[outbox.Claimed]:
        """Claim up to `limit` due rows of this platform for this worker."""
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
        if row.kind in agenda.PAUSABLE and agenda.pause_holds(row.paused_until, row.timezone, now):
            await asyncio.to_thread(self._finish, row, "paused", "paused", now)
            return
        try:
            reply = await self.attachments.render(row, now)
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

"""`Jobs`: the planner, calendar polling and the send loop over one database, with injected
time and senders; `tick(now)` runs them all once as if at `now` (`cpdbot tick`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.core.model import Sender
from bot.core.schemes import Scheme
from bot.services.calendar.learning import ABSENCE_WORDS
from bot.services.calendar_signin import SigninPoller
from bot.services.outbound.attachments import Attachments
from bot.services.outbound.calendar_polls import POLL_EVERY, CalendarPoller
from bot.services.outbound.chart_pool import ChartPool
from bot.services.outbound.planner import Planner
from bot.services.outbound.rate_limits import RateLimit
from bot.services.outbound.sending import SendLoop, TickReport
from storage.db import Database

if TYPE_CHECKING:
    import httpx

    from bot.services.calendar.graph_auth import MicrosoftEndpoints
    from storage.secrets import SecretBox

Clock = Callable[[], datetime]


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
        microsoft: MicrosoftEndpoints | None = None,
        secrets: SecretBox | None = None,
        absence_words: Sequence[str] = ABSENCE_WORDS,
    ) -> None:
        self.clock = clock
        self.planner = Planner(db, schemes)
        self.polling = CalendarPoller(
            db,
            http=http,
            allow_private_feeds=allow_private_feeds,
            poll_every=poll_every,
            microsoft=microsoft,
            secrets=secrets,
            absence_words=absence_words,
        )
        # Outlook sign-ins under way: polled every few seconds (`run_signins`).
        self.signins = SigninPoller(db, microsoft=microsoft, http=http)
        # Charts are drawn in this many worker processes (0: in a thread of this one).
        self.charts = ChartPool(chart_processes)
        self.sending = SendLoop(
            db,
            Attachments(db, schemes, self.charts),
            senders=dict(senders or {}),
            limits=limits,
            worker=worker,
        )
        # What the tests and the CLI reach directly.
        self.plan = self.planner.plan
        self.plan_monthly = self.planner.plan_monthly
        self.prune = self.planner.prune
        self.poll_calendars = self.polling.poll_calendars
        self.poll_signins = self.signins.poll_signins
        self.send_due = self.sending.send_due
        self.senders = self.sending.senders
        self.worker = self.sending.worker

    def close(self) -> None:
        """Stop the chart processes, if any were started."""
        self.charts.close()

    async def tick(self, now: datetime | None = None) -> TickReport:
        """Run every job once as if at `now`: sign-ins, poll, plan, send what is due."""
        now = now or self.clock()
        report = TickReport()
        signed = await self.poll_signins(now)
        report.polled, polled_enqueued = await self.poll_calendars(now)
        report.enqueued = signed + polled_enqueued + await asyncio.to_thread(self.plan, now)
        await self.send_due(now, report)
        return report

    async def run_planning(self) -> None:
        """APScheduler job: poll calendars and enqueue what is due now."""
        now = self.clock()
        await self.poll_calendars(now)
        await asyncio.to_thread(self.plan, now)

    async def run_signins(self) -> None:
        """APScheduler job: poll the Outlook sign-ins that are due (every few seconds)."""
        await self.poll_signins(self.clock())

    async def run_sending(self) -> None:
        """APScheduler job: send what is due now."""
        await self.send_due(self.clock())

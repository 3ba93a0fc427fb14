"""The APScheduler wiring of `cpdbot run`: the jobs every minute (planning), every ten
seconds (sending) and every five seconds (Outlook sign-ins under way) on the running
event loop. The only scheduler in the code."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.services.outbound.jobs import Jobs


def stoppable(
    job: Callable[[], Coroutine[Any, Any, None]],
) -> Callable[[], Coroutine[Any, Any, None]]:
    """The job, ending quietly when it is cancelled: `shutdown` (end of input, Ctrl-C)
    cancels a run in progress, which APScheduler would otherwise log as a failed job with a
    CancelledError traceback. Work already handed to a thread finishes there (the loop
    waits for its threads before closing)."""

    async def run() -> None:
        try:
            await job()
        except asyncio.CancelledError:
            return

    run.__name__ = getattr(job, "__name__", "job")
    return run


def start_scheduler(jobs: Jobs, *, plan_every: timedelta = timedelta(minutes=1),
                    send_every: timedelta = timedelta(seconds=10),
                    signin_every: timedelta = timedelta(seconds=5)) -> Any:  # fmt: skip
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
        stoppable(jobs.run_planning),
        IntervalTrigger(seconds=plan_every.total_seconds(), timezone=UTC),
        id="plan",
        next_run_time=start,
        **common,
    )
    scheduler.add_job(
        stoppable(jobs.run_sending),
        IntervalTrigger(seconds=send_every.total_seconds(), timezone=UTC),
        id="send",
        next_run_time=start + timedelta(seconds=2),
        **common,
    )
    # Outlook sign-ins under way: each is polled no faster than Microsoft asks (its own
    # next poll time), so this only bounds how late a member hears they're signed in.
    scheduler.add_job(
        stoppable(jobs.run_signins),
        IntervalTrigger(seconds=signin_every.total_seconds(), timezone=UTC),
        id="signin",
        next_run_time=start + timedelta(seconds=1),
        **common,
    )
    scheduler.start()
    return scheduler

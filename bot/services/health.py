"""Health of this worker: the database answers at the expected schema; the scheduler runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import text

from storage import migrate
from storage.db import Database

OVERDUE = timedelta(minutes=5)


class _Job(Protocol):
    next_run_time: datetime | None


class SchedulerLike(Protocol):
    """What health needs of APScheduler's scheduler (running flag and its jobs)."""

    @property
    def running(self) -> bool: ...

    def get_jobs(self) -> list[Any]: ...


_scheduler: SchedulerLike | None = None


def register_scheduler(scheduler: SchedulerLike | None) -> None:
    global _scheduler
    _scheduler = scheduler


def check(db: Database, *, now: datetime) -> tuple[bool, dict[str, Any]]:
    """(healthy, details). Blocking: call it in a worker thread from async code."""
    details: dict[str, Any] = {}
    healthy = True
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        at, head = migrate.current(db), migrate.head()
        details["database"] = {"ok": at == head, "schema": at, "expected": head}
        healthy &= at == head
    except Exception as exc:  # any failure to reach the database is "unhealthy"
        details["database"] = {"ok": False, "error": type(exc).__name__}
        healthy = False
    if _scheduler is None:
        details["scheduler"] = {"ok": True, "running": False, "note": "not run by this worker"}
    else:
        times = [j.next_run_time for j in _scheduler.get_jobs() if j.next_run_time is not None]
        late = [t for t in times if now - t > OVERDUE]
        ok = _scheduler.running and not late
        details["scheduler"] = {
            "ok": ok,
            "running": _scheduler.running,
            "jobs": len(times),
            "overdue": len(late),
        }
        healthy &= ok
    return healthy, details

"""Worker health (/healthz) and what the logs may contain."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from adapters.healthz import healthz
from bot.core.model import IdentityKey, Incoming
from bot.services import health
from bot.services.engine import Engine
from cpdbot import logs
from storage import migrate
from storage.db import Database
from tests.conftest import Clock


class FakeJob:
    def __init__(self, next_run_time: Any) -> None:
        self.next_run_time = next_run_time


class FakeScheduler:
    def __init__(self, running: bool, jobs: list[FakeJob]) -> None:
        self.running = running
        self._jobs = jobs

    def get_jobs(self) -> list[FakeJob]:
        return self._jobs


@pytest.fixture(autouse=True)
def no_scheduler() -> Any:
    yield
    health.register_scheduler(None)


def test_healthy_database_and_no_scheduler(db: Database, clock: Clock) -> None:
    ok, details = health.check(db, now=clock.now)
    assert ok and details["database"]["ok"] and details["database"]["schema"] == migrate.head()
    assert details["scheduler"]["note"] == "not run by this worker"


def test_outdated_schema_is_unhealthy(tmp_path: Path, clock: Clock) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(db, "0001")
    ok, details = health.check(db, now=clock.now)
    assert not ok and details["database"]["schema"] == "0001"


def test_unreachable_database_is_unhealthy(clock: Clock) -> None:
    db = Database("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    ok, details = health.check(db, now=clock.now)
    assert not ok and details["database"] == {"ok": False, "error": "OperationalError"}


def test_stuck_scheduler_is_unhealthy(db: Database, clock: Clock) -> None:
    health.register_scheduler(FakeScheduler(True, [FakeJob(clock.now + timedelta(seconds=30))]))
    assert health.check(db, now=clock.now)[0]
    health.register_scheduler(FakeScheduler(True, [FakeJob(clock.now - timedelta(minutes=9))]))
    ok, details = health.check(db, now=clock.now)
    assert not ok and details["scheduler"]["overdue"] == 1
    health.register_scheduler(FakeScheduler(False, []))
    assert not health.check(db, now=clock.now)[0]


async def test_healthz_over_http(engine: Engine, unused_tcp_port: int) -> None:
    app = web.Application()
    app.router.add_get("/healthz", healthz(engine))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"http://127.0.0.1:{unused_tcp_port}/healthz")
        assert answer.status_code == 200
        assert answer.json()["database"]["ok"] is True
        health.register_scheduler(FakeScheduler(False, []))
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"http://127.0.0.1:{unused_tcp_port}/healthz")
        assert answer.status_code == 503 and answer.json()["ok"] is False
    finally:
        await runner.cleanup()


def test_one_log_line_per_event_without_message_text(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    me = IdentityKey("telegram", "99")
    with caplog.at_level(logging.INFO, logger="cpdbot.engine"):
        engine.handle_sync(Incoming.text_of(me, "/log 2h confidential merger briefing yesterday"))
    lines = [r for r in caplog.records if r.name == "cpdbot.engine"]
    assert len(lines) == 1
    text = logs.KeyValueFormatter().format(lines[0])
    assert "platform=telegram" in text and "outcome=ok" in text and "latency_ms=" in text
    assert "confidential" not in text and "merger" not in text


def test_json_log_lines_and_quiet_http_libraries() -> None:
    record = logging.LogRecord("cpdbot.engine", logging.INFO, __file__, 1, "event", None, None)
    record.platform, record.outcome = "slack", "duplicate"
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["msg"] == "event" and line["platform"] == "slack" and line["level"] == "info"
    logs.setup("DEBUG", "json")
    try:
        # httpx logs every request URL at INFO; Telegram's URLs contain the bot token.
        assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
        assert logging.getLogger("cpdbot.engine").isEnabledFor(logging.DEBUG)
    finally:
        logs.setup("WARNING")

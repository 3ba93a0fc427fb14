"""The words that make an all-day event time away are the operator's (issue 15):
CALENDAR_ABSENCE_WORDS, comma-separated, replaces the built-in list (leave, holiday, OOO...)
for every calendar read by `cpdbot tick` / `cpdbot run`; empty or unset keeps the built-in
list, and a malformed value stops the start in one line. ICS feeds on 127.0.0.1, time frozen."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot.core.schemes import Scheme
from bot.services.engine import Engine
from cpdbot import delivery
from cpdbot.cli import main
from cpdbot.config import Settings
from storage.db import Database
from storage.models import Absence
from tests.conftest import Clock
from tests.scheduling import user
from tests.services import test_calendar_flow as flow
from tests.services.test_calendar_flow import FeedServer, Route, connect, utc
from tests.services.test_calendar_ics_absences import away_texts, ics, leave
from tests.storage.test_migrations import cpdbot

feeds = flow.feeds

NOW = utc(2026, 12, 2, 12)  # Wednesday 2 December 2026
CONFERENCE_NOTICE = (
    "Your calendar says you're away Mon 7 – Wed 9 Dec: "
    "I won't ask about calendar events while you're away, and nudges or reminders due "
    "meanwhile will come on your first day back."
)
LEAVE_NOTICE = (
    "Your calendar says you're away Mon 14 – Wed 16 Dec: "
    "I won't ask about calendar events while you're away, and nudges or reminders due "
    "meanwhile will come on your first day back."
)
# Only the process's settings: no .env file, no calendar or platform setting from outside.
_OUTSIDE = (
    "CALENDAR_ABSENCE_WORDS",
    "TELEGRAM_BOT_TOKEN",
    "SLACK_BOT_TOKEN",
    "TEAMS_APP_PASSWORD",
    "TEAMS_APP_CERTIFICATE",
    "TEAMS_DEV_NO_AUTH",
    "DATABASE_URL",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _OUTSIDE:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CALENDAR_ALLOW_PRIVATE_NETWORKS", "true")  # the feeds are on 127.0.0.1


def _tick(db: Database, schemes: Mapping[str, Scheme], at: datetime) -> list[str]:
    """`cpdbot tick` at `at` with the settings of the environment: the away notices sent."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    report = asyncio.run(delivery.tick(db, dict(schemes), settings, at))
    return away_texts(report.sent)


def _absences(db: Database) -> list[tuple[datetime, datetime]]:
    with db.transaction() as s:
        rows = s.exec(select(Absence)).all()
    return sorted((utc_of(a.starts_at), utc_of(a.ends_at)) for a in rows)


def utc_of(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=NOW.tzinfo)


def _connect_feed(db: Database, schemes: dict[str, Scheme], feeds: FeedServer) -> None:
    """Ann's ICS feed: an all-day "Conference" next week, "Annual leave" the week after."""
    engine = Engine(db, schemes, Clock(NOW), allow_private_feeds=True)
    chat = user(engine, "ann")
    feeds.routes["/ann.ics"] = Route(
        ics(
            leave("conf-1", "20261207", "20261210", title="Conference"),
            leave("al-1", "20261214", "20261217", title="Annual leave"),
        )
    )
    connect(chat, feeds.base + "/ann.ics")


def test_configured_words_make_a_conference_an_absence_and_annual_leave_not(
    db: Database, schemes: dict[str, Scheme], feeds: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALENDAR_ABSENCE_WORDS", "study leave, conference")
    _connect_feed(db, schemes, feeds)
    assert _tick(db, schemes, NOW) == [CONFERENCE_NOTICE]
    assert _absences(db) == [(utc(2026, 12, 7), utc(2026, 12, 10))]


def test_without_the_setting_annual_leave_is_an_absence_and_a_conference_not(
    db: Database, schemes: dict[str, Scheme], feeds: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALENDAR_ABSENCE_WORDS", "  ")  # empty: the built-in words
    _connect_feed(db, schemes, feeds)
    assert _tick(db, schemes, NOW) == [LEAVE_NOTICE]
    assert _absences(db) == [(utc(2026, 12, 14), utc(2026, 12, 17))]


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("annual leave,,holiday", "CALENDAR_ABSENCE_WORDS: item 2 is empty"),
        ("annual leave, holiday,", "CALENDAR_ABSENCE_WORDS: item 3 is empty"),
        ('["annual leave"]', "CALENDAR_ABSENCE_WORDS: item 1 ('[\"annual leave\"]') is not"),
    ],
)
def test_a_malformed_value_stops_the_start_in_one_line(
    tmp_path: Path, value: str, said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCHEDULER_ENABLED", "false")
    monkeypatch.setenv("CALENDAR_ABSENCE_WORDS", value)
    started = cpdbot("run", "--db", f"sqlite:///{tmp_path / 'run.db'}", cwd=tmp_path)
    assert started.returncode == 2
    assert started.stderr.strip().splitlines() == [started.stderr.strip()]  # one line
    assert started.stderr.startswith("Configuration: " + said), started.stderr
    assert not (tmp_path / "run.db").exists()  # refused before anything started


def test_cpdbot_tick_refuses_a_malformed_value_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("CALENDAR_ABSENCE_WORDS", "leave, *")
    assert main(["tick", "--db", f"sqlite:///{tmp_path / 'tick.db'}"]) == 2
    assert capsys.readouterr().err == (
        "Configuration: CALENDAR_ABSENCE_WORDS: item 2 ('*') is not a word or phrase "
        "(letters and digits, e.g. 'annual leave, holiday, conference').\n"
    )

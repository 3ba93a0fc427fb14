"""Calendar prompts end to end: real ICS exports served over HTTP on 127.0.0.1, polled by
the jobs with frozen time, the prompt pressed through the engine (Log it / Not CPD /
Later), failing feeds reported once. Parsing and HTTP edge cases of `bot.services.calendar` itself
are in tests/services/test_calendar.py."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlmodel import select

from bot.core.model import IdentityKey
from bot.core.schemes import Scheme
from bot.services.engine import Engine
from bot.services.outbound.jobs import Jobs
from bot.services.outbound.sending import Sent
from storage.db import Database
from storage.models import CalendarFeed, Entry, SeenOccurrence
from tests.conftest import FIXTURES, Chat, Clock, new_sqlite
from tests.scheduling import make_jobs, tick, user

ICS = FIXTURES / "ics"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    etag: str | None = None


@dataclass
class FeedServer:
    """A calendar host on 127.0.0.1: path -> Route; records each request's headers."""

    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    base: str = ""

    def serve(self, path: str, fixture: str, *, etag: str | None = None) -> str:
        self.routes[path] = Route((ICS / fixture).read_bytes(), etag=etag)
        return self.base + path


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    state = FeedServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            route = state.routes.get(self.path)
            if route is None or route.status != 200:
                self.send_response(route.status if route else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if route.etag and self.headers.get("If-None-Match") == route.etag:
                self.send_response(304)
                self.send_header("ETag", route.etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar; charset=utf-8")
            self.send_header("Content-Length", str(len(route.body)))
            if route.etag:
                self.send_header("ETag", route.etag)
            self.end_headers()
            self.wfile.write(route.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def setup(db: Database, schemes: dict[str, Scheme], start: datetime) -> tuple[Clock, Engine, Jobs]:
    """CALENDAR_ALLOW_PRIVATE_NETWORKS=true: the feeds live on 127.0.0.1."""
    clock = Clock(start)
    engine = Engine(db, schemes, clock, allow_private_feeds=True)
    jobs, _ = make_jobs(db, schemes, clock, allow_private_feeds=True)
    return clock, engine, jobs


def connect(chat: Chat, url: str) -> None:
    chat.say(f"/calendar add {url}")
    assert "Connected calendar" in chat.text, chat.text
    assert url.split("/", 3)[3] not in chat.text  # the secret path is never echoed


def prompts(sent: list[Sent]) -> list[str]:
    return [m.reply.text for m in sent if m.kind in ("calendar", "reask")]


def show(chat: Chat, message: Sent) -> None:
    """The person sees a message the scheduler sent (so its buttons can be pressed)."""
    chat.replies = [message.reply]


# Google export (machbar): 'Workshop DiReBio', Thu 28 Feb 2019 14:00-17:00 UTC.
WORKSHOP_END = utc(2019, 2, 28, 17)
WORKSHOP_PROMPT = "'Workshop DiReBio' (3 h, today 14:00) has ended — log it as CPD?"


def test_private_address_refused_by_default(
    db: Database, schemes: dict[str, Scheme], feeds: FeedServer
) -> None:
    url = feeds.serve("/cal.ics", "google_public_feed_machbar.ics")
    clock = Clock(utc(2019, 2, 20))
    chat = user(Engine(db, schemes, clock), "ann")
    chat.say(f"/calendar add {url}")
    assert "can't use that calendar address" in chat.text
    chat.say("/calendar list")
    assert "No calendar connected" in chat.text


def test_workshop_in_a_google_feed_prompts_and_log_it_fills_title_date_hours(
    db: Database, schemes: dict[str, Scheme], feeds: FeedServer
) -> None:
    clock, engine, jobs = setup(db, schemes, utc(2019, 2, 20, 12))
    chat = user(engine, "ann")
    connect(chat, feeds.serve("/secret-token/basic.ics", "google_public_feed_machbar.ics"))
    assert tick(jobs, clock, utc(2019, 2, 20, 12)) == []  # nothing learning-like ended
    assert tick(jobs, clock, WORKSHOP_END - timedelta(minutes=5)) == []
    sent = tick(jobs, clock, WORKSHOP_END + timedelta(minutes=5))
    assert prompts(sent) == [WORKSHOP_PROMPT]
    assert [c.label for c in sent[0].reply.choices] == ["Log it", "Not CPD", "Later"]
    show(chat, sent[0])
    chat.press("Log it")
    # The title names a workshop: the category is taken from it, shown, and one tap changes it
    assert "Logging 'Workshop DiReBio' · today · 3 h · Events and seminars." in chat.text
    chat.press("Change category")
    assert "Which category?" in chat.text
    chat.press("Training courses")
    assert "Reflection 1/2" in chat.text
    chat.say("Bio-based materials and how they are tested")
    chat.say("Ask suppliers for test data")
    assert "Saved #1: Workshop DiReBio · today · 3 h · Training courses." in chat.text
    with db.transaction() as s:
        (entry,) = s.exec(select(Entry)).all()
        assert (entry.title, entry.minutes, entry.source) == ("Workshop DiReBio", 180, "calendar")
        assert entry.activity_date.isoformat() == "2019-02-28"
        (seen,) = s.exec(select(SeenOccurrence)).all()
        assert (seen.decision, seen.entry_number) == ("logged", 1)
    # The old button again: nothing is logged twice.
    show(chat, sent[0])
    chat.press("Log it")
    assert "already logged as #1" in chat.text
    # Later polls never prompt for it again.
    for hours in (1, 6, 20):
        assert prompts(tick(jobs, clock, WORKSHOP_END + timedelta(hours=hours))) == []


def test_keywords_decide_which_events_prompt(
    db: Database, schemes: dict[str, Scheme], feeds: FeedServer
) -> None:
    # The same Google feed in November 2026: only recurring maker-space events, none a
    # "learning" event by the default keywords.
    clock, engine, jobs = setup(db, schemes, utc(2026, 11, 10))
    url = feeds.serve("/machbar.ics", "google_public_feed_machbar.ics")
    default, mine, everything = user(engine, "dflt"), user(engine, "mine"), user(engine, "all")
    for chat in (default, mine, everything):
        connect(chat, url)
    mine.say("/calendar keywords montessori, openlab")
    assert "your keywords: montessori, openlab" in mine.text
    everything.say("/calendar all")
    tick(jobs, clock, utc(2026, 11, 10))
    sent = tick(jobs, clock, utc(2026, 11, 19, 19, 10))
    by_user: dict[str, list[str]] = {}
    for m in sent:
        title = re.match(r"'(.*?)'", m.reply.text)
        assert title is not None
        by_user.setdefault(m.recipient.user_id, []).append(title.group(1))
    assert "dflt" not in by_user
    assert by_user["mine"] == ["Montessori Schulklasse", "OpenLab"]
    assert by_user["all"] == [
        "Chaostreff - CCCP",
        "Montessori Schulklasse",
        "#TEC - für Jugendliche",
        "OpenLab",
    ]


def test_not_cpd_is_remembered(db: Database, schemes: dict[str, Scheme], feeds: FeedServer) -> None:
    clock, engine, jobs = setup(db, schemes, utc(2019, 2, 20))
    chat = user(engine, "ann")
    connect(chat, feeds.serve("/c.ics", "google_public_feed_machbar.ics"))
    (prompt,) = tick(jobs, clock, WORKSHOP_END + timedelta(minutes=10))
    show(chat, prompt)
    chat.press("Not CPD")
    assert "not CPD; I won't ask about it again" in chat.text
    show(chat, prompt)
    chat.press("Not CPD")
    assert "Already noted" in chat.text
    assert prompts(tick(jobs, clock, WORKSHOP_END + timedelta(hours=3))) == []
    with db.transaction() as s:
        assert [o.decision for o in s.exec(select(SeenOccurrence)).all()] == ["not_cpd"]
        assert s.exec(select(Entry)).all() == []


def test_later_asks_once_more_that_evening(
    db: Database, schemes: dict[str, Scheme], feeds: FeedServer
) -> None:
    clock, engine, jobs = setup(db, schemes, utc(2019, 2, 20))
    chat = user(engine, "ann")
    connect(chat, feeds.serve("/c.ics", "google_public_feed_machbar.ics"))
    (prompt,) = tick(jobs, clock, WORKSHOP_END + timedelta(minutes=10))
    show(chat, prompt)
    chat.press("Later")
    assert "I'll ask about 'Workshop DiReBio' again this evening at 19:00." in chat.text
    show(chat, prompt)
    chat.press("Later")
    assert "again later, once" in chat.text
    assert prompts(tick(jobs, clock, utc(2019, 2, 28, 18, 59))) == []
    (reask,) = tick(jobs, clock, utc(2019, 2, 28, 19))
    assert reask.kind == "reask"
    assert reask.reply.text == (
        "You said later: 'Workshop DiReBio' (3 h, today 14:00) — log it as CPD?"
    )
    assert [c.label for c in reask.reply.choices] == ["Log it", "Not CPD"]
    for at in (utc(2019, 2, 28, 19, 1), utc(2019, 2, 28, 23), utc(2019, 3, 1, 19)):
        assert prompts(tick(jobs, clock, at)) == []
    show(chat, prompt)
    chat.press("Later")
    assert "asked about 'Workshop DiReBio' again already" in chat.text
    show(chat, reask)
    chat.press("Log it")
    assert "Logging 'Workshop DiReBio' · yesterday · 3 h · Events and seminars." in chat.text
    chat.say("skip")
    chat.say("skip")
    assert "Saved #1: Workshop DiReBio" in chat.text


def test_later_pressed_in_the_evening_asks_next_morning(
    db: Database, schemes: dict[str, Scheme], feeds: FeedServer
) -> None:
    clock, engine, jobs = setup(db, schemes, utc(2019, 2, 20))
    chat = user(engine, "ann")
    connect(chat, feeds.serve("/c.ics", "google_public_feed_machbar.ics"))
    (prompt,) = tick(jobs, clock, WORKSHOP_END + timedelta(minutes=10))
    clock.now = utc(2019, 2, 28, 18, 30)
    show(chat, prompt)
    chat.press("Later")
    assert "again tomorrow at 09:00" in chat.text
    assert prompts(tick(jobs, clock, utc(2019, 3, 1, 8, 59))) == []
    assert len(prompts(tick(jobs, clock, utc(2019, 3, 1, 9)))) == 1


def test_recurring_instances_prompt_once_each_cancelled_skipped_and_304_still_read(
    db: Database, schemes: dict[str, Scheme], feeds: FeedServer
) -> None:
    # Thunderbird: daily 21:00-22:00 UTC on 28, 29, 30 Jan 2020; the 29th is cancelled.
    clock, engine, jobs = setup(db, schemes, utc(2020, 1, 25))
    chat = user(engine, "tb")
    connect(chat, feeds.serve("/tb.ics", "thunderbird_cancelled_instance.ics", etag='"v1"'))
    chat.say("/calendar all")
    seen: list[str] = []
    at = utc(2020, 1, 28, 12)
    while at < utc(2020, 2, 1):
        seen += prompts(tick(jobs, clock, at))
        at += timedelta(hours=2)
    assert seen == [
        "'one is cancelled' (1 h, today 21:00) has ended — log it as CPD?",
        "'one is cancelled' (1 h, today 21:00) has ended — log it as CPD?",
    ]
    with db.transaction() as s:
        rids = sorted(o.recurrence_id for o in s.exec(select(SeenOccurrence)).all())
    assert rids == ["2020-01-28T21:00:00Z", "2020-01-30T21:00:00Z"]
    conditional = [h for p, h in feeds.requests if p == "/tb.ics" and "if-none-match" in h]
    assert len(conditional) >= 40  # every poll after the first was conditional (a 304)


def test_exdates_across_dst_in_a_chicago_feed(
    db: Database, schemes: dict[str, Scheme], feeds: FeedServer
) -> None:
    # Google, America/Chicago weekly series with Thanksgiving (26, 27 Nov 2020) excluded.
    clock, engine, jobs = setup(db, schemes, utc(2020, 11, 20))
    chat = user(engine, "chi", "America/Chicago")
    connect(chat, feeds.serve("/chi.ics", "google_weekly_exdate_dst_chicago.ics"))
    chat.say("/calendar all")
    tick(jobs, clock, utc(2020, 11, 20))
    day = {
        d: [p for p in prompts(tick(jobs, clock, utc(2020, 11, d + 1, 6))) if "Event#1" in p]
        for d in (24, 25, 26, 27)
    }
    assert day[24] == ["'Event#1' (15 min, yesterday 08:15) has ended — log it as CPD?"]
    assert day[26] == [] and day[27] == []  # excluded instances never prompt


def test_a_failing_feed_is_reported_once(
    db: Database, schemes: dict[str, Scheme], feeds: FeedServer
) -> None:
    clock, engine, jobs = setup(db, schemes, utc(2026, 11, 1))
    chat = user(engine, "ann")
    url = feeds.serve("/f.ics", "nextcloud_weekly_exdate_utc.ics")
    connect(chat, url)
    assert tick(jobs, clock, utc(2026, 11, 1)) == []  # read fine
    feeds.routes["/f.ics"].status = 500
    at, reports = utc(2026, 11, 1), []
    for _ in range(8):  # 7 hours apart: always due despite the back-off
        at += timedelta(hours=7)
        reports += [m for m in tick(jobs, clock, at) if m.kind == "feedfail"]
    assert len(reports) == 1
    assert reports[0].reply.text.startswith(
        "Your calendar 127.0.0.1/… has failed 3 times in a row: "
    )
    assert "/calendar remove 1" in reports[0].reply.text
    chat.say("/calendar list")
    assert "1. 127.0.0.1/… — can't be read just now (8 failed attempt(s) in a row)" in chat.text
    # It recovers; a new run of failures is reported again (once).
    feeds.routes["/f.ics"].status = 200
    at += timedelta(hours=7)
    assert tick(jobs, clock, at) == []
    feeds.routes["/f.ics"].status = 503
    again = []
    for _ in range(5):
        at += timedelta(hours=7)
        again += [m for m in tick(jobs, clock, at) if m.kind == "feedfail"]
    assert len(again) == 1


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (None, "404"),
        (b"<html>Sign in to Google</html>", ""),
    ],
)
def test_a_new_feed_that_cannot_be_read_is_reported_at_once(
    db: Database,
    schemes: dict[str, Scheme],
    feeds: FeedServer,
    body: bytes | None,
    error: str,
) -> None:
    clock, engine, jobs = setup(db, schemes, utc(2026, 11, 1))
    chat = user(engine, "ann")
    if body is not None:
        feeds.routes["/bad.ics"] = Route(body)
    connect(chat, feeds.base + "/bad.ics")
    (report,) = tick(jobs, clock, utc(2026, 11, 1))
    assert report.kind == "feedfail"
    assert report.reply.text.startswith("I couldn't read the calendar you added (127.0.0.1/…): ")
    assert error in report.reply.text
    later = tick(jobs, clock, utc(2026, 11, 1, 7))
    assert [m for m in later if m.kind == "feedfail"] == []


def test_private_address_refused_at_fetch_time_when_not_allowed(
    db: Database, schemes: dict[str, Scheme], feeds: FeedServer
) -> None:
    clock = Clock(utc(2026, 11, 1))
    chat = user(Engine(db, schemes, clock, allow_private_feeds=True), "ann")
    connect(chat, feeds.serve("/c.ics", "nextcloud_weekly_exdate_utc.ics"))
    jobs, _ = make_jobs(db, schemes, clock)  # the scheduler runs without the setting
    (report,) = tick(jobs, clock, utc(2026, 11, 1))
    assert report.kind == "feedfail" and feeds.requests == []


def test_paused_people_are_not_prompted_and_removed_feeds_forget_their_events(
    db: Database, schemes: dict[str, Scheme], feeds: FeedServer
) -> None:
    clock, engine, jobs = setup(db, schemes, utc(2019, 2, 20))
    away, here = user(engine, "away"), user(engine, "here")
    url = feeds.serve("/c.ics", "google_public_feed_machbar.ics")
    connect(away, url)
    connect(here, url)
    away.say("/pause until 1 March")
    sent = tick(jobs, clock, WORKSHOP_END + timedelta(minutes=10))
    assert [m.recipient.user_id for m in sent] == ["here"]
    here.say("/calendar remove 1")
    assert "Disconnected calendar 1 (127.0.0.1/…)" in here.text
    show(here, sent[0])
    here.press("Log it")
    assert "no longer have that calendar event" in here.text
    with db.transaction() as s:
        assert len(s.exec(select(CalendarFeed)).all()) == 1
        assert s.exec(select(SeenOccurrence)).all() == []


def test_cpdbot_tick_polls_a_feed_and_prints_the_prompt(
    tmp_path: Path, schemes: dict[str, Scheme], feeds: FeedServer
) -> None:
    db = new_sqlite(tmp_path / "cal.db")
    clock = Clock(utc(2019, 2, 20))
    chat = user(Engine(db, schemes, clock, allow_private_feeds=True), "ann")
    connect(chat, feeds.serve("/c.ics", "google_public_feed_machbar.ics"))
    db.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "TELEGRAM"))}
    env.pop("SLACK_BOT_TOKEN", None)
    env["CALENDAR_ALLOW_PRIVATE_NETWORKS"] = "true"
    args = ["tick", "--at", "2019-02-28T17:05:00Z", "--db", f"sqlite:///{tmp_path / 'cal.db'}"]
    run = [sys.executable, "-m", "cpdbot.cli", *args]
    cwd = Path(__file__).resolve().parents[2]
    first = subprocess.run(run, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "--- to console:ann [calendar 1]" in first.stdout
    assert WORKSHOP_PROMPT in first.stdout and "  [3] Later" in first.stdout
    second = subprocess.run(run, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    assert second.returncode == 0 and second.stdout == ""


def test_the_identity_key_of_a_prompt_is_the_person_who_connected_the_feed(
    db: Database, schemes: dict[str, Scheme], feeds: FeedServer
) -> None:
    clock, engine, jobs = setup(db, schemes, utc(2019, 2, 20))
    chat = Chat(engine, IdentityKey("console", "zed"))
    chat.say("/start")
    chat.press("IES")
    chat.say("Europe/London")
    connect(chat, feeds.serve("/c.ics", "google_public_feed_machbar.ics"))
    (prompt,) = tick(jobs, clock, WORKSHOP_END + timedelta(minutes=1))
    assert prompt.recipient == IdentityKey("console", "zed")

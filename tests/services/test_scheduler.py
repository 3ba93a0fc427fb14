"""Scheduled messages with frozen time: monthly nudges across DST changes, pause, year end,
reflection reminders, catch-up after downtime. Pure decisions first, then the jobs on a
real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core import agenda as sched
from bot.core import notices
from bot.core.model import IdentityKey, PersonView, Unreachable, YearSummary
from bot.core.plan import StatusPeriod
from bot.core.schemes import Scheme
from bot.core.zones import local_instant
from bot.services.engine import Engine
from storage import plan_store, repo
from storage.db import Database
from tests.conftest import Chat, Clock
from tests.scheduling import add_entry, make_jobs, outbox_rows, sent_to, set_person, tick, user


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def view(**changes: object) -> PersonView:
    base: dict[str, object] = dict(
        display_name="A",
        timezone="Europe/London",
        scheme_id="iet",
        status_id="active",
        date_order="DMY",
        languages=("en",),
        onboarded=True,
        last_entry_number=0,
    )
    base.update(changes)
    return PersonView(**base)  # type: ignore[arg-type]


def summary(minutes: dict[str, int], pending: int = 0, year: int = 2026) -> YearSummary:
    return YearSummary(
        start=date(year, 1, 1),
        end=date(year + 1, 1, 1),
        minutes_by_category=minutes,
        entries=len(minutes),
        pending_entries=pending,
    )


# ---------------------------------------------------------------- pure decisions

# 09:00 local on the 1st, in UTC, either side of each zone's 2026 DST changes:
# London BST 29 Mar-25 Oct; New York EDT 8 Mar-1 Nov; Sydney AEDT until 5 Apr, from 4 Oct.
NINE_AM = {
    "Europe/London": [
        utc(2026, 3, 1, 9),
        utc(2026, 4, 1, 8),
        utc(2026, 10, 1, 8),
        utc(2026, 11, 1, 9),
    ],
    "America/New_York": [
        utc(2026, 3, 1, 14),
        utc(2026, 4, 1, 13),
        utc(2026, 10, 1, 13),
        utc(2026, 11, 1, 14),  # DST ended at 02:00 that morning
    ],
    "Australia/Sydney": [
        utc(2026, 2, 28, 22),
        utc(2026, 3, 31, 22),
        utc(2026, 9, 30, 23),
        utc(2026, 10, 31, 22),
    ],
}  # fmt: skip
MONTHS = ["2026-03", "2026-04", "2026-10", "2026-11"]


@pytest.mark.parametrize("zone", sorted(NINE_AM))
def test_monthly_nudge_is_due_at_nine_local_on_both_sides_of_dst(zone: str) -> None:
    person = view(timezone=zone)
    for due, month in zip(NINE_AM[zone], MONTHS, strict=True):
        assert sched.monthly_due(person, due - timedelta(seconds=1)) is None
        assert sched.monthly_due(person, due) == (month, due)
        assert sched.monthly_due(person, due + sched.NUDGE_GRACE - timedelta(seconds=1)) == (
            month,
            due,
        )
        assert sched.monthly_due(person, due + sched.NUDGE_GRACE) is None


def test_local_times_skipped_or_repeated_by_dst() -> None:
    london = ZoneInfo("Europe/London")
    # 01:30 does not exist on 29 March 2026 (01:00 GMT -> 02:00 BST): an hour later.
    assert local_instant(london, date(2026, 3, 29), time(1, 30)) == utc(2026, 3, 29, 1, 30)
    # 01:30 happens twice on 25 October 2026: the first one (BST).
    assert local_instant(london, date(2026, 10, 25), time(1, 30)) == utc(2026, 10, 25, 0, 30)
    # The nudge on the day of the change itself is still 09:00 local.
    person = view(nudge_day=29)
    assert sched.monthly_due(person, utc(2026, 3, 29, 8)) == ("2026-03", utc(2026, 3, 29, 8))


def test_nudge_day_past_the_end_of_a_month_is_its_last_day() -> None:
    person = view(nudge_day=31)
    assert sched.monthly_due(person, utc(2026, 2, 28, 9)) == ("2026-02", utc(2026, 2, 28, 9))
    assert sched.monthly_due(person, utc(2026, 4, 30, 8)) == ("2026-04", utc(2026, 4, 30, 8))


def test_nudge_text_has_progress_pace_balance_reflections_and_one_suggestion(
    schemes: dict[str, Scheme],
) -> None:
    ies = schemes["ies"]
    person = view(scheme_id="ies", status_id=ies.default_status)
    now = utc(2026, 12, 1, 9)
    msg = notices.monthly_nudge(
        person,
        ies,
        summary({ies.categories[0].id: 600, ies.categories[1].id: 120}, pending=2),
        period="2026-12",
        due=now,
        now=now,
    )
    assert msg is not None and msg.key == "2026-12" and msg.kind == "nudge"
    assert "Hours: 12 h of 30 h (40%)." in msg.text
    assert "behind" in msg.text and "Pace:" in msg.text
    assert "Balance: 2 of the 3 categories IES asks for" in msg.text
    assert "Reflections pending: 2 entries" in msg.text
    assert msg.text.count("Suggestion:") == 1
    assert [c.id for c in msg.choices] == ["cmd:log", "cmd:reflect"]
    assert msg.expires_at == now + sched.NUDGE_GRACE


def test_only_when_behind_skips_someone_on_pace_and_up_to_date(
    schemes: dict[str, Scheme],
) -> None:
    iet = schemes["iet"]
    person = view(nudge_mode="behind")
    now = utc(2026, 7, 1, 8)  # half way through the year: 15 h expected
    on_pace = summary({"training_courses": 16 * 60})
    assert notices.monthly_nudge(person, iet, on_pace, period="p", due=now, now=now) is None
    behind = summary({"training_courses": 5 * 60})
    assert notices.monthly_nudge(person, iet, behind, period="p", due=now, now=now) is not None
    owes = summary({"training_courses": 16 * 60}, pending=1)
    assert notices.monthly_nudge(person, iet, owes, period="p", due=now, now=now) is not None


def test_later_is_this_evening_or_tomorrow_morning() -> None:
    assert sched.later_time("Europe/London", utc(2026, 11, 22, 10)) == utc(2026, 11, 22, 19)
    assert sched.later_time("Europe/London", utc(2026, 11, 22, 18, 30)) == utc(2026, 11, 23, 9)
    # Summer: 19:00 BST is 18:00 UTC.
    assert sched.later_time("Europe/London", utc(2026, 7, 1, 9)) == utc(2026, 7, 1, 18)


def test_prompt_window_is_since_the_last_good_poll_within_a_day_and_after_a_pause() -> None:
    now = utc(2026, 11, 22, 10)
    kw = {"timezone": "Europe/London", "now": now}
    assert sched.prompt_window(last_ok_at=None, paused_until=None, **kw) == now - timedelta(days=1)
    last = now - timedelta(minutes=10)
    assert sched.prompt_window(last_ok_at=last, paused_until=None, **kw) == last
    old = now - timedelta(days=5)
    assert sched.prompt_window(last_ok_at=old, paused_until=None, **kw) == now - timedelta(days=1)
    assert sched.prompt_window(last_ok_at=old, paused_until=date(2026, 11, 22), **kw) == utc(
        2026, 11, 22
    )


def test_feed_failures_are_reported_once_per_run_of_failures() -> None:
    assert sched.should_report_failure(1, ever_ok=False, reported=False)  # just added, wrong
    assert not sched.should_report_failure(2, ever_ok=True, reported=False)
    assert sched.should_report_failure(3, ever_ok=True, reported=False)
    assert not sched.should_report_failure(4, ever_ok=True, reported=True)


def test_feed_urls_are_shown_by_host_only() -> None:
    secret = "https://calendar.google.com/calendar/ical/me%40x.com/private-abc123/basic.ics"
    assert sched.mask_url(secret) == "calendar.google.com/…"
    assert sched.mask_url("not a url") == "…"


# ---------------------------------------------------------------- jobs on a database

START = utc(2026, 2, 20, 12)


def test_monthly_nudges_sent_once_at_nine_local_across_dst_hour_by_hour(
    sqlite_db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(START)
    engine = Engine(sqlite_db, schemes, clock)
    names = {zone: zone.split("/")[1].lower() for zone in NINE_AM}
    for zone, name in names.items():
        user(engine, name, zone)
    jobs, _ = make_jobs(sqlite_db, schemes, clock)
    for i, month in enumerate(MONTHS):
        first = min(NINE_AM[z][i] for z in NINE_AM).replace(hour=0) - timedelta(days=1)
        seen: dict[str, datetime] = {}
        for hour in range(3 * 24):
            at = first + timedelta(hours=hour)
            for m in tick(jobs, clock, at):
                assert m.kind == "nudge" and m.key == month, (m.kind, m.key)
                assert m.recipient.user_id not in seen, f"{m.recipient.user_id} twice"
                seen[m.recipient.user_id] = at
        assert seen == {names[z]: NINE_AM[z][i] for z in NINE_AM}, month


def test_nudge_not_before_nine_and_once_at_nine(db: Database, schemes: dict[str, Scheme]) -> None:
    clock = Clock(START)
    engine = Engine(db, schemes, clock)
    user(engine, "ny", "America/New_York")
    jobs, recorder = make_jobs(db, schemes, clock)
    assert tick(jobs, clock, utc(2026, 4, 1, 12, 59)) == []
    sent = tick(jobs, clock, utc(2026, 4, 1, 13, 0))
    assert sent_to(sent) == [("ny", "nudge", "2026-04")]
    assert "Your monthly CPD check-in" in sent[0].reply.text
    assert [c.label for c in sent[0].reply.choices] == ["Log now"]
    assert sent[0].reply.choices[0].id == "cmd:log"
    assert tick(jobs, clock, utc(2026, 4, 1, 13, 0)) == []  # same instant again
    assert tick(jobs, clock, utc(2026, 4, 1, 13, 1)) == []
    assert len(recorder.sent) == 1


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's header, after checking its signature."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_monthly_nudge_carries_the_progress_chart_drawn_when_sent(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(START)
    engine = Engine(db, schemes, clock)
    user(engine, "cara")
    add_entry(db, "cara", day=date(2026, 2, 10), minutes=150, created_at=clock.now)
    jobs, _ = make_jobs(db, schemes, clock)
    jobs.plan(utc(2026, 3, 1, 9))
    (row,) = outbox_rows(db, "nudge")
    # The outbox holds a pointer, not the picture: deciding draws nothing.
    assert row.payload["attachment"] == {"chart": "2026-01-01"}
    (nudge,) = tick(jobs, clock, utc(2026, 3, 1, 9, 1))
    chart = nudge.reply.attachment
    assert chart is not None and chart.mime_type == "image/png"
    assert chart.filename == "cpd-progress-2026.png" and png_size(chart.content) == (1000, 500)
    assert "Your monthly CPD check-in" in nudge.reply.text


def test_charts_are_drawn_in_worker_processes_when_configured(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(START)
    engine = Engine(db, schemes, clock)
    for name in ("cara", "eli", "fay"):
        user(engine, name)
        add_entry(db, name, day=date(2026, 2, 10), minutes=150, created_at=clock.now)
    jobs, _ = make_jobs(db, schemes, clock)
    jobs.charts.processes = 2
    try:
        sent = tick(jobs, clock, utc(2026, 3, 1, 9, 1))
        pool = jobs.charts.pool
        assert pool is not None  # the charts were drawn there
        workers = {p.pid for p in pool._processes.values()}  # type: ignore[union-attr]
        assert workers and os.getpid() not in workers
    finally:
        jobs.close()
    assert len(sent) == 3
    for nudge in sent:
        chart = nudge.reply.attachment
        assert chart is not None and png_size(chart.content) == (1000, 500)
    assert jobs.charts.pool is None  # closed


def test_a_chart_that_cannot_be_drawn_leaves_the_nudge_to_go_alone(
    db: Database, schemes: dict[str, Scheme], monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.services.chart

    def broken(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("no fonts")

    monkeypatch.setattr(bot.services.chart, "progress_png", broken)
    clock = Clock(START)
    engine = Engine(db, schemes, clock)
    user(engine, "dee")
    jobs, recorder = make_jobs(db, schemes, clock)
    (nudge,) = tick(jobs, clock, utc(2026, 3, 1, 9))
    assert nudge.reply.attachment is None and "monthly CPD check-in" in nudge.reply.text
    assert len(recorder.sent) == 1


def test_log_now_button_opens_the_log_dialogue(db: Database, schemes: dict[str, Scheme]) -> None:
    clock = Clock(START)
    engine = Engine(db, schemes, clock)
    chat = user(engine, "ann")
    jobs, _ = make_jobs(db, schemes, clock)
    (nudge,) = tick(jobs, clock, utc(2026, 3, 1, 9))
    chat.replies = [nudge.reply]
    chat.press("Log now")
    assert "What did you do?" in chat.text


def test_paused_user_gets_no_nudge_until_the_pause_ends(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(utc(2026, 11, 20, 12))
    engine = Engine(db, schemes, clock)
    chat = user(engine, "pat")
    chat.say("/pause until 3 December")
    assert "Paused until Thu 3 Dec" in chat.text
    jobs, _ = make_jobs(db, schemes, clock)
    assert tick(jobs, clock, utc(2026, 12, 1, 9)) == []
    # Due during the pause: not sent when it ends, even within the grace window.
    assert tick(jobs, clock, utc(2026, 12, 3, 9)) == []
    sent = tick(jobs, clock, utc(2027, 1, 1, 9))
    assert ("pat", "nudge", "2027-01") in sent_to(sent)


def test_resume_does_not_replay_what_fell_due_during_the_pause(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(utc(2026, 11, 20, 12))
    engine = Engine(db, schemes, clock)
    chat = user(engine, "rae")
    chat.say("/pause until 10 December")
    jobs, _ = make_jobs(db, schemes, clock)
    assert tick(jobs, clock, utc(2026, 12, 1, 9)) == []
    (row,) = outbox_rows(db, "nudge")
    assert (row.key, row.state, row.last_error) == ("2026-12", "skipped", "paused")
    clock.now = utc(2026, 12, 2, 8)
    chat.say("/resume")
    assert "Welcome back" in chat.text
    assert tick(jobs, clock, utc(2026, 12, 2, 8)) == []
    assert sent_to(tick(jobs, clock, utc(2027, 1, 1, 9)), "nudge") == [("rae", "nudge", "2027-01")]


def test_nudges_off_and_changed_day(db: Database, schemes: dict[str, Scheme]) -> None:
    clock = Clock(START)
    engine = Engine(db, schemes, clock)
    off = user(engine, "off")
    moved = user(engine, "moved")
    for chat, value in ((off, "Off"), (moved, "15 at 7")):
        chat.say("/settings")
        chat.press("Monthly nudge")
        if value == "Off":
            chat.press(value)
        else:
            chat.say(value)
        assert "Monthly nudge:" in chat.text
    jobs, _ = make_jobs(db, schemes, clock)
    assert tick(jobs, clock, utc(2026, 3, 1, 9)) == []
    assert tick(jobs, clock, utc(2026, 3, 15, 6, 59)) == []
    assert sent_to(tick(jobs, clock, utc(2026, 3, 15, 7))) == [("moved", "nudge", "2026-03")]


def test_one_nudge_a_month_even_when_the_day_changes_after_it(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(START)
    engine = Engine(db, schemes, clock)
    user(engine, "kim")
    jobs, _ = make_jobs(db, schemes, clock)
    assert len(tick(jobs, clock, utc(2026, 3, 1, 9))) == 1
    set_person(db, "kim", nudge_day=15)
    assert tick(jobs, clock, utc(2026, 3, 15, 9)) == []
    assert len(tick(jobs, clock, utc(2026, 4, 15, 8))) == 1


def test_catch_up_after_downtime_sends_once_within_the_grace_window(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(utc(2026, 11, 20, 12))
    engine = Engine(db, schemes, clock)
    user(engine, "dee")
    user(engine, "eve", "America/New_York")
    jobs, _ = make_jobs(db, schemes, clock)
    assert tick(jobs, clock, utc(2026, 11, 30, 23)) == []
    # Down from 30 Nov 23:00 until 2 Dec 15:00: one nudge each, not one per missed minute.
    sent = tick(jobs, clock, utc(2026, 12, 2, 15))
    assert sorted(sent_to(sent)) == [("dee", "nudge", "2026-12"), ("eve", "nudge", "2026-12")]
    for minutes in (1, 2, 60, 24 * 60):
        assert tick(jobs, clock, utc(2026, 12, 2, 15) + timedelta(minutes=minutes)) == []
    rows = outbox_rows(db, "nudge")
    assert [r.due_at for r in rows] == [utc(2026, 12, 1, 9), utc(2026, 12, 1, 14)]


def test_downtime_longer_than_the_grace_window_drops_the_nudge(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(utc(2026, 11, 20, 12))
    engine = Engine(db, schemes, clock)
    user(engine, "fay")
    jobs, _ = make_jobs(db, schemes, clock)
    assert tick(jobs, clock, utc(2026, 12, 4, 9, 1)) == []  # 3 days and a minute late
    assert outbox_rows(db, "nudge") == []


def test_year_end_warning_six_weeks_before_when_behind(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(utc(2026, 6, 1, 12))
    engine = Engine(db, schemes, clock)
    user(engine, "short")
    user(engine, "done")
    add_entry(db, "short", day=date(2026, 3, 2), minutes=600, created_at=clock.now)
    add_entry(db, "done", day=date(2026, 3, 2), minutes=20 * 60, created_at=clock.now)
    add_entry(db, "done", day=date(2026, 5, 2), minutes=11 * 60, created_at=clock.now)
    set_person(db, "short", nudges_enabled=True)
    jobs, _ = make_jobs(db, schemes, clock)
    # The CPD year 2026 ends on 31 December: six weeks before is 20 November, 09:00 GMT.
    assert sent_to(tick(jobs, clock, utc(2026, 11, 20, 8, 59)), "yearwarn") == []
    sent = tick(jobs, clock, utc(2026, 11, 20, 9))
    assert sent_to(sent, "yearwarn") == [("short", "yearwarn", "2026-01-01")]
    (warning,) = [m for m in sent if m.kind == "yearwarn"]
    assert "Six weeks left in your CPD year 2026" in warning.reply.text
    assert "10 h of 30 h; 20 h to go" in warning.reply.text
    assert sent_to(tick(jobs, clock, utc(2026, 11, 21, 9)), "yearwarn") == []


def test_year_end_summary_with_the_record_attached(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(utc(2026, 6, 1, 12))
    engine = Engine(db, schemes, clock)
    user(engine, "sam")
    user(engine, "nobody")  # no entries: no summary
    add_entry(db, "sam", day=date(2026, 3, 2), minutes=20 * 60, created_at=clock.now)
    add_entry(
        db,
        "sam",
        day=date(2026, 9, 9),
        minutes=11 * 60,
        category="events_and_seminars",
        pending=True,
        created_at=clock.now,
        title="IET conference",
    )
    jobs, recorder = make_jobs(db, schemes, clock)
    assert sent_to(tick(jobs, clock, utc(2027, 1, 1, 8, 59)), "yearend") == []
    sent = tick(jobs, clock, utc(2027, 1, 1, 9))
    summary_msgs = [m for m in sent if m.kind == "yearend"]
    assert [(m.recipient.user_id, m.key) for m in summary_msgs] == [
        ("sam", "2026-01-01"),
        ("sam", "2026-01-01:chart"),
        ("sam", "2026-01-01:json"),
    ]
    text = summary_msgs[0].reply.text
    assert "Your CPD year 2026 has ended (IET, Professionally active)." in text
    assert "Total: 31 h of 30 h — target met" in text
    assert "Training courses: 20 h" in text and "Events and seminars: 11 h" in text
    assert "pending for 1" in text
    assert "What counts for a IET audit:" in text
    csv_file = summary_msgs[0].reply.attachment
    chart = summary_msgs[1].reply.attachment
    json_file = summary_msgs[2].reply.attachment
    assert chart is not None and (chart.filename, chart.mime_type) == (
        "cpd-progress-2026.png",
        "image/png",
    )
    assert png_size(chart.content) == (1000, 500)
    assert "Your CPD year 2026 in a chart" in summary_msgs[1].reply.text
    assert csv_file is not None and json_file is not None
    assert (csv_file.filename, csv_file.mime_type) == ("cpd-2026.csv", "text/csv")
    rows = list(csv.reader(io.StringIO(csv_file.content.decode("utf-8-sig"))))
    # The title column comes after number, date and end_date.
    assert [r[3] for r in rows[1:3]] == ["Course", "IET conference"]
    record = json.loads(json_file.content)
    assert record["year"]["label"] == "2026" and len(record["entries"]) == 2
    assert sent_to(tick(jobs, clock, utc(2027, 1, 1, 9)), "yearend") == []
    assert sent_to(tick(jobs, clock, utc(2027, 1, 2, 9)), "yearend") == []
    files = sorted(r.attachment.filename for _, r in recorder.sent if r.attachment)
    assert files == [  # and each person's January nudge with the new year's chart
        "cpd-2026.csv",
        "cpd-2026.json",
        "cpd-progress-2026.png",
        "cpd-progress-2027.png",
        "cpd-progress-2027.png",
    ]


def test_nudge_warning_and_year_end_use_the_pro_rata_target_after_leave(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    # Not professionally active 1 Mar - 31 Aug 2026: the 2026 target is 19 h 55, not 30 h,
    # as /status and the PDF say.
    clock = Clock(utc(2026, 6, 1, 12))
    user(Engine(db, schemes, clock), "leave")
    add_entry(db, "leave", day=date(2026, 2, 2), minutes=10 * 60, created_at=clock.now)
    with db.transaction() as s:
        identity = repo.find_identity(s, IdentityKey("console", "leave"))
        assert identity is not None
        leave = StatusPeriod("not_active", date(2026, 3, 1), date(2026, 8, 31))
        plan_store.add_status_period(s, identity.person_id, leave)
    jobs, _ = make_jobs(db, schemes, clock)
    sent = tick(jobs, clock, utc(2026, 11, 20, 9))
    (warning,) = [m for m in sent if m.kind == "yearwarn"]
    assert "You have 10 h of 19 h 55; 9 h 55 to go" in warning.reply.text
    (nudge,) = [m for m in tick(jobs, clock, utc(2026, 12, 1, 9)) if m.kind == "nudge"]
    assert "Hours: 10 h of 19 h 55 (50%)." in nudge.reply.text
    add_entry(db, "leave", day=date(2026, 12, 2), minutes=10 * 60, created_at=clock.now)
    ended = [m for m in tick(jobs, clock, utc(2027, 1, 1, 9)) if m.kind == "yearend"]
    assert "Total: 20 h of 19 h 55 — target met ✅." in ended[0].reply.text
    assert "against the 19 h 55 target." in ended[1].reply.text


def test_year_end_summary_waits_for_the_end_of_a_pause(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(utc(2026, 12, 20, 12))
    engine = Engine(db, schemes, clock)
    chat = user(engine, "hol")
    add_entry(db, "hol", day=date(2026, 3, 2), minutes=60, created_at=clock.now)
    chat.say("/pause until 5 January")
    jobs, _ = make_jobs(db, schemes, clock)
    assert sent_to(tick(jobs, clock, utc(2027, 1, 1, 9)), "yearend") == []
    assert sent_to(tick(jobs, clock, utc(2027, 1, 4, 23)), "yearend") == []
    sent = sent_to(tick(jobs, clock, utc(2027, 1, 5, 0)), "yearend")
    assert [k for _, _, k in sent] == ["2026-01-01", "2026-01-01:chart", "2026-01-01:json"]


def test_reflection_reminder_once_after_two_days(db: Database, schemes: dict[str, Scheme]) -> None:
    clock = Clock(utc(2026, 11, 10, 10))
    engine = Engine(db, schemes, clock)
    chat = user(engine, "ref")
    chat.say("/log 1.5h webinar on arc-flash safety yesterday #events")
    chat.press("Later")
    assert "2 reflections left for later" in chat.text
    jobs, _ = make_jobs(db, schemes, clock)
    assert sent_to(tick(jobs, clock, utc(2026, 11, 11, 10)), "reflect") == []
    assert sent_to(tick(jobs, clock, utc(2026, 11, 12, 9, 59)), "reflect") == []
    sent = [m for m in tick(jobs, clock, utc(2026, 11, 12, 10)) if m.kind == "reflect"]
    assert sent_to(sent) == [("ref", "reflect", "1")]
    assert "2 reflections to write for #1 'Webinar on arc-flash safety'" in sent[0].reply.text
    chat.replies = [sent[0].reply]
    chat.press("Reflect now")
    assert "Reflecting on #1" in chat.text
    for days in (3, 4, 10):
        at = utc(2026, 11, 10, 10) + timedelta(days=days)
        assert sent_to(tick(jobs, clock, at), "reflect") == []


def test_reflection_reminders_wait_for_waking_hours_and_come_one_a_day(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(utc(2026, 11, 10, 10))
    engine = Engine(db, schemes, clock)
    user(engine, "two")
    for title in ("First", "Second"):
        add_entry(
            db,
            "two",
            day=date(2026, 11, 9),
            minutes=60,
            pending=True,
            created_at=clock.now,
            title=title,
        )
    jobs, _ = make_jobs(db, schemes, clock)
    assert sent_to(tick(jobs, clock, utc(2026, 11, 13, 6)), "reflect") == []  # 06:00 local
    first = [m for m in tick(jobs, clock, utc(2026, 11, 13, 9)) if m.kind == "reflect"]
    assert [m.key for m in first] == ["1"] and "1 other entry also waits" in first[0].reply.text
    assert sent_to(tick(jobs, clock, utc(2026, 11, 13, 15)), "reflect") == []
    second = sent_to(tick(jobs, clock, utc(2026, 11, 14, 9)), "reflect")
    assert second == [("two", "reflect", "2")]


def test_unreachable_people_and_new_users_are_not_nudged(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(START)
    engine = Engine(db, schemes, clock)
    user(engine, "gone")
    Chat(engine, IdentityKey("console", "halfway")).say("/start")  # never finished onboarding
    jobs, recorder = make_jobs(db, schemes, clock)
    recorder.fail_with.append(Unreachable("x"))
    assert tick(jobs, clock, utc(2026, 3, 1, 9)) == []
    (row,) = outbox_rows(db, "nudge")
    assert row.state == "failed"
    assert tick(jobs, clock, utc(2026, 4, 1, 8)) == []
    rows = [(r.key, r.state, r.last_error) for r in outbox_rows(db, "nudge")]
    assert rows == [("2026-03", "failed", "x"), ("2026-04", "skipped", "no reachable identity")]


def test_nothing_due_before_someone_joined_is_sent_to_them(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    # Joins on Sun 22 Nov 2026: the six-week warning (20 Nov) and no nudge is theirs;
    # the December nudge (joined before it) is.
    clock = Clock(utc(2026, 11, 22, 10))
    user(Engine(db, schemes, clock), "new")
    jobs, _ = make_jobs(db, schemes, clock)
    assert tick(jobs, clock, utc(2026, 11, 22, 10, 1)) == []
    (warning,) = outbox_rows(db, "yearwarn")
    assert (warning.state, warning.last_error) == ("skipped", "due before the person joined")
    assert sent_to(tick(jobs, clock, utc(2026, 12, 1, 9))) == [("new", "nudge", "2026-12")]


def test_pace_in_the_nudge_counts_from_when_someone_joined(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    # Joins Sun 22 Nov 2026 and logs 1 h: by 1 Dec, 10 of the record's 40 days are gone, so
    # 7 h 30 of 30 h is expected (not 27 h 32, as if the record had started on 1 Jan).
    clock = Clock(utc(2026, 11, 22, 10))
    user(Engine(db, schemes, clock), "new")
    add_entry(db, "new", day=date(2026, 11, 21), minutes=60, created_at=clock.now)
    jobs, _ = make_jobs(db, schemes, clock)
    (sent,) = tick(jobs, clock, utc(2026, 12, 1, 9))
    assert "Hours: 1 h of 30 h (3%)." in sent.reply.text
    assert "Pace: 7 h 30 expected by now — 6 h 30 behind." in sent.reply.text, sent.reply.text


def test_a_pause_that_starts_after_a_message_was_queued_still_stops_it(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(utc(2026, 11, 20, 12))
    engine = Engine(db, schemes, clock)
    chat = user(engine, "quick")
    jobs, _ = make_jobs(db, schemes, clock, senders={})  # queued, not yet sent
    assert tick(jobs, clock, utc(2026, 12, 1, 9)) == []
    clock.now = utc(2026, 12, 1, 9, 0, 30)
    chat.say("/pause until 4 December")
    jobs, recorder = make_jobs(db, schemes, clock)
    assert tick(jobs, clock, utc(2026, 12, 1, 9, 1)) == []
    (row,) = outbox_rows(db, "nudge")
    assert (row.state, row.last_error) == ("skipped", "paused") and recorder.sent == []

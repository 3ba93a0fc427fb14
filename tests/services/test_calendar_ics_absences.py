"""Absences in an ICS feed (issue 15): a secret ICS address is read into the coming days
too, so an all-day "Annual leave" next week is seen before the nudge it holds, told once,
and released when it disappears from the feed. Feeds on 127.0.0.1, time frozen."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select

from bot.core.schemes import Scheme
from storage.db import Database
from storage.models import Absence
from tests.scheduling import tick, user
from tests.services import test_calendar_flow as flow
from tests.services.test_calendar_flow import FeedServer, Route, connect, setup, utc

feeds = flow.feeds

NOW = utc(2026, 12, 2, 12)  # Wednesday 2 December 2026


def ics(*events: str) -> bytes:
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + "".join(events) + "END:VCALENDAR\r\n").encode()


def leave(uid: str, first: str, after_last: str, title: str = "Annual leave") -> str:
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART;VALUE=DATE:{first}\r\n"
        f"DTEND;VALUE=DATE:{after_last}\r\nSUMMARY:{title}\r\nEND:VEVENT\r\n"
    )


def timed(uid: str, title: str, start: datetime) -> str:
    end = start + timedelta(hours=1)
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART:{start:%Y%m%dT%H%M%SZ}\r\n"
        f"DTEND:{end:%Y%m%dT%H%M%SZ}\r\nSUMMARY:{title}\r\nEND:VEVENT\r\n"
    )


def away_texts(sent: list[flow.Sent]) -> list[str]:
    return [m.reply.text for m in sent if "away" in m.reply.text]


def test_leave_next_week_in_an_ics_feed_is_told_once_and_released_when_removed(
    db: Database, schemes: dict[str, Scheme], feeds: FeedServer
) -> None:
    clock, engine, jobs = setup(db, schemes, NOW)
    chat = user(engine, "ann")
    body = ics(
        leave("al-1", "20261207", "20261212"),
        timed("lunch", "Leave planning meeting", utc(2026, 12, 8, 12)),  # timed: not leave
    )
    feeds.routes["/ann.ics"] = Route(body)
    connect(chat, feeds.base + "/ann.ics")
    sent = tick(jobs, clock, NOW)
    assert away_texts(sent) == [
        "Your calendar says you're away Mon 7 – Fri 11 Dec: "
        "I won't ask about calendar events while you're away, and nudges or reminders due "
        "meanwhile will come on your first day back."
    ]
    assert away_texts(tick(jobs, clock, NOW + timedelta(minutes=20))) == []  # told once
    with db.transaction() as s:
        (absence,) = s.exec(select(Absence)).all()
    assert (absence.starts_at, absence.ends_at) == (utc(2026, 12, 7), utc(2026, 12, 12))
    # The leave is taken out of the calendar: the hold is released.
    feeds.routes["/ann.ics"] = Route(ics(timed("x", "Other", utc(2026, 12, 9, 9))))
    tick(jobs, clock, NOW + timedelta(minutes=40))
    with db.transaction() as s:
        assert s.exec(select(Absence)).all() == []


def test_an_outlook_out_of_office_afternoon_in_an_ics_export_is_an_absence(
    db: Database, schemes: dict[str, Scheme], feeds: FeedServer
) -> None:
    clock, engine, jobs = setup(db, schemes, NOW)
    chat = user(engine, "ann")
    oof = timed("oof-1", "Dentist", utc(2026, 12, 3, 13)).replace(
        "END:VEVENT", "X-MICROSOFT-CDO-BUSYSTATUS:OOF\r\nEND:VEVENT"
    )
    feeds.routes["/ann.ics"] = Route(ics(oof, timed("busy", "Dentist", utc(2026, 12, 4, 13))))
    connect(chat, feeds.base + "/ann.ics")
    assert away_texts(tick(jobs, clock, NOW)) == [
        "Your calendar says you're away Thu 3 Dec: "
        "I won't ask about calendar events while you're away, and nudges or reminders due "
        "meanwhile will come on your first day back."
    ]

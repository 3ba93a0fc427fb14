"""Calendars: the buttons of a calendar prompt, and /calendar."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.model import AddFeed, DecideOccurrence, RemoveFeed, SaveEntry, UpdatePerson
from bot.core.schemes import Scheme
from bot.core.snapshot import Needs
from bot.dialogue import Conv, Data, needs, step
from tests.dialogue.chat import (
    ALL_DAY,
    FEEDS,
    FULL,
    OCC,
    YESTERDAY,
    Case,
    S,
    assert_case,
    draft,
    make_ctx,
    press,
    text,
)

CASES = [
    # calendar prompt buttons
    Case(
        "calendar Log it: title, date, hours and the category its title names filled",
        S.IDLE,
        press("cal:log:5"),
        S.LOG_REFLECT,
        "Logging 'IET webinar: AI safety' · today · 1 h 30 · Events and seminars",
        snap={"occurrence": OCC},
    ),
    Case(
        "calendar Log it for an all-day event asks the hours",
        S.IDLE,
        press("cal:log:6"),
        S.LOG_HOURS,
        "How long",
        snap={"occurrence": ALL_DAY},
    ),
    Case(
        "calendar Log it mid-dialogue waits",
        S.LOG_HOURS,
        press("cal:log:5"),
        S.LOG_HOURS,
        "press Log it again",
        data=draft(title="W", activity_date=YESTERDAY),
        snap={"occurrence": OCC},
    ),
    Case(
        "calendar Not CPD is recorded",
        S.IDLE,
        press("cal:no:5"),
        S.IDLE,
        "not CPD; I won't ask",
        effects=(DecideOccurrence,),
        snap={"occurrence": OCC},
    ),
    Case(
        "calendar Not CPD mid-dialogue keeps the dialogue",
        S.LOG_HOURS,
        press("cal:no:5"),
        S.LOG_HOURS,
        "How long",
        data=draft(title="W", activity_date=YESTERDAY),
        effects=(DecideOccurrence,),
        snap={"occurrence": OCC},
    ),
    Case(
        "calendar Later asks again this evening",
        S.IDLE,
        press("cal:later:5"),
        S.IDLE,
        "again this evening at 19:00",
        effects=(DecideOccurrence,),
        snap={"occurrence": OCC},
    ),
    Case(
        "calendar Later pressed twice",
        S.IDLE,
        press("cal:later:5"),
        S.IDLE,
        "again later, once",
        snap={"occurrence": replace(OCC, decision="later")},
    ),
    Case(
        "calendar Later after the re-ask",
        S.IDLE,
        press("cal:later:5"),
        S.IDLE,
        "asked about",
        snap={"occurrence": replace(OCC, decision="reasked")},
    ),
    Case(
        "calendar Log it when already logged",
        S.IDLE,
        press("cal:log:5"),
        S.IDLE,
        "already logged as #13",
        snap={"occurrence": replace(OCC, decision="logged", entry_number=13)},
    ),
    Case(
        "calendar Not CPD twice",
        S.IDLE,
        press("cal:no:5"),
        S.IDLE,
        "Already noted",
        snap={"occurrence": replace(OCC, decision="not_cpd")},
    ),
    Case(
        "calendar button for an event that is not yours (or gone)",
        S.IDLE,
        press("cal:log:999"),
        S.IDLE,
        "no longer have that calendar event",
    ),
    Case(
        "saving a calendar entry records the decision",
        S.LOG_REFLECT,
        text("Alignment basics"),
        S.IDLE,
        "Saved #13",
        data=draft(
            **FULL,
            category="events_and_seminars",
            source="calendar",
            occurrence=5,
            questions=["key_points", "change"],
            answers={"key_points": "x"},
        ),
        effects=(SaveEntry, DecideOccurrence),
    ),
    # /calendar
    Case("/calendar explains itself", S.IDLE, text("/calendar"), S.IDLE, "/calendar add"),
    Case(
        "/calendar add connects a feed without echoing its secret path",
        S.IDLE,
        text(
            "/calendar add https://calendar.google.com/calendar/ical/a%40b.com/private-s3cr3t/basic.ics"
        ),
        S.IDLE,
        "Connected calendar 1 (calendar.google.com/…)",
        effects=(AddFeed,),
    ),
    Case(
        "/calendar add refuses a private address",
        S.IDLE,
        text("/calendar add http://192.168.1.10/cal.ics"),
        S.IDLE,
        "can't use that calendar address",
    ),
    Case(
        "/calendar add refuses a non-http address",
        S.IDLE,
        text("/calendar add ftp://example.com/cal.ics"),
        S.IDLE,
        "can't use that calendar address",
    ),
    Case(
        "/calendar add twice",
        S.IDLE,
        text("/calendar add " + FEEDS[0].url),
        S.IDLE,
        "already connected (number 1)",
        snap={"feeds": FEEDS},
    ),
    Case(
        "/calendar list masks the addresses",
        S.IDLE,
        text("/calendar list"),
        S.IDLE,
        "2. outlook.office365.com/… — can't be read just now",
        snap={"feeds": FEEDS},
    ),
    Case(
        "/calendar remove",
        S.IDLE,
        text("/calendar remove 2"),
        S.IDLE,
        "Disconnected calendar 2",
        effects=(RemoveFeed,),
        snap={"feeds": FEEDS},
    ),
    Case(
        "/calendar remove a number not in the list",
        S.IDLE,
        text("/calendar remove 7"),
        S.IDLE,
        "/calendar remove 1 to 2",
        snap={"feeds": FEEDS},
    ),
    Case(
        "/calendar all",
        S.IDLE,
        text("/calendar all"),
        S.IDLE,
        "all events",
        effects=(UpdatePerson,),
    ),
    Case(
        "/calendar keywords",
        S.IDLE,
        text("/calendar keywords Training, #Masterclass ,  site visit"),
        S.IDLE,
        "your keywords: training, masterclass, site visit",
        effects=(UpdatePerson,),
    ),
    Case(
        "/calendar mid-dialogue asks the question again",
        S.LOG_HOURS,
        text("/calendar list"),
        S.LOG_HOURS,
        "How long",
        data=draft(title="W", activity_date=YESTERDAY),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transition(case: Case, schemes: dict[str, Scheme]) -> None:
    assert_case(case, schemes)


def test_needs_loads_the_feeds_and_the_occurrence_a_button_names() -> None:
    assert needs(Conv(), text("/calendar list")) == Needs(feeds=True)
    assert needs(Conv(), press("cal:later:42")) == Needs(occurrence=42)
    assert needs(Conv(S.EDIT_VALUE, Data(target=7)), press("cal:no:5")) == Needs(
        entry_number=7, occurrence=5
    )
    assert needs(Conv(), press("cal:log:x")) == Needs()


def test_calendar_owner_comes_from_a_google_address_or_the_message(
    schemes: dict[str, Scheme],
) -> None:
    ctx = make_ctx(schemes, Case("", S.IDLE, text(""), S.IDLE))
    google = "https://calendar.google.com/calendar/ical/Ann.Lee%40example.org/private-z/basic.ics"
    (effect,) = step(Conv(), text(f"/calendar add {google}"), ctx).effects
    assert isinstance(effect, AddFeed) and effect.owner_emails == ("ann.lee@example.org",)
    outlook = "https://outlook.office365.com/owa/calendar/abc/def/reachcalendar.ics"
    (effect,) = step(Conv(), text(f"/calendar add {outlook} me@work.example"), ctx).effects
    assert isinstance(effect, AddFeed) and effect.owner_emails == ("me@work.example",)
    said = step(Conv(), text(f"/calendar add {google}"), ctx).replies[0].text
    assert "private-z" not in said and "example.org" not in said

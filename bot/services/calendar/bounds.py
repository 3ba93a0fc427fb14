"""Bounds on what a feed may cost: bytes, redirects, events, occurrences, time."""

from __future__ import annotations

from typing import Final

MAX_REDIRECTS: Final = 5
# Connection attempts per hop when a name has several public addresses (IPv6 then IPv4).
_MAX_ADDRESSES_TRIED: Final = 3
# Events (VEVENT blocks) that survive the window pre-filter and are fully parsed.
MAX_EVENTS: Final = 10_000
# Occurrences returned for one window.
MAX_OCCURRENCES: Final = 10_000
# Seconds one read_feed may take (its default time_limit), checked between events, between
# series and inside every walk of a repeat rule (budget.py); parsing is bounded by size.
_TIME_LIMIT: Final = 10.0
# ICS bytes that read_feed accepts at all (fetch_feed's own default cap is 5 MB).
_MAX_ICS_BYTES: Final = 20_000_000
_MAX_NESTING: Final = 10
_MAX_TIMEZONES: Final = 100
_MAX_TIMEZONE_PARTS: Final = 400
_MAX_RDATES: Final = 1000
# dateutil walks every period (day, week, month, year) of a rule from its start, and every
# date the rule produces on the way, a few microseconds each. A series may need at most
# this many steps to reach the window: a daily series that started 137 years ago, a weekly
# one on every day of the week 240 years ago.
_MAX_STEPS: Final = 100_000  # also the dates one walk of a rule may produce (budget.py)
# Occurrences per day a rule may create through BYHOUR x BYMINUTE x BYSECOND.
_MAX_TIMES_PER_DAY: Final = 24
_MAX_TITLE: Final = 200
_MAX_DESCRIPTION: Final = 2000
_MAX_UID: Final = 255
# Notes in FeedReading.skipped (the last one counts the rest).
_MAX_NOTES: Final = 10
USER_AGENT: Final = "cpdbot (calendar feed reader)"

# Microsoft Graph (graph_auth.py, graph_delta.py).
# Seconds one sign-in or token request may take, and one read_graph as a whole.
GRAPH_AUTH_TIMEOUT: Final = 15.0
GRAPH_TIMEOUT: Final = 30.0
# Events per calendarView/delta page we ask for (Prefer: odata.maxpagesize), pages per read.
GRAPH_PAGE_SIZE: Final = 50
GRAPH_MAX_PAGES: Final = 60
# JSON bytes one read_graph accepts over all its pages (and one token answer).
GRAPH_MAX_BYTES: Final = 20_000_000
GRAPH_MAX_AUTH_BYTES: Final = 100_000
# Events (occurrences, single events and series masters) a DeltaState keeps; more is an
# error shown to the owner. 2,000 is some 125 events a day over a 16-day window.
GRAPH_MAX_EVENTS: Final = 2_000
# Series masters fetched one by one (GET /me/events/{id}) in one read.
GRAPH_MAX_MASTER_FETCHES: Final = 50

_NOT_A_CALENDAR: Final = (
    "This is not a calendar (iCalendar) file. Check that the link is the calendar's "
    "ICS / iCal address, not the web page that shows it."
)

"""Reading a feed: every occurrence overlapping a window."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import UTC, datetime, timedelta, tzinfo

from bot.core.calendar_rules import FeedError
from bot.services.calendar.bounds import (
    _MAX_ICS_BYTES,
    _MAX_NOTES,
    _TIME_LIMIT,
    MAX_EVENTS,
    MAX_OCCURRENCES,
)
from bot.services.calendar.budget import Budget
from bot.services.calendar.event_text import _address
from bot.services.calendar.expand import _expand, _group, _unique_keys
from bot.services.calendar.ics import _decode, _parse, _prefilter
from bot.services.calendar.learning import ABSENCE_WORDS
from bot.services.calendar.occurrence import FeedReading, Occurrence, _SkipSeries
from bot.services.calendar.tzids import _Times, _zone_for_name, _zoneinfo


def read_feed(
    ics: bytes,
    *,
    start: datetime,
    end: datetime,
    default_tz: str = "UTC",
    owner_emails: Collection[str] = (),
    max_events: int = MAX_EVENTS,
    max_occurrences: int = MAX_OCCURRENCES,
    time_limit: float = _TIME_LIMIT,
    clock: Callable[[], float] = time.monotonic,
    absence_words: Sequence[str] = ABSENCE_WORDS,
) -> FeedReading:
    """Every occurrence overlapping ``[start, end)``, plus notes on series left out.

    ``start`` and ``end`` must be aware; keep the window short (the scheduler looks at
    the last day or so). ``default_tz`` is the reader's IANA zone: all-day events run
    midnight to midnight there, and floating times are read there unless the calendar
    names its own zone (X-WR-TIMEZONE). ``owner_emails`` are the feed owner's addresses,
    for ``Occurrence.declined``; ``absence_words``, for ``Occurrence.absence``. Raises
    ``FeedError`` for input that is not a calendar, is malformed as a whole, or exceeds
    the limits; a series that alone cannot be read is left out and named in
    ``FeedReading.skipped``. Synchronous and CPU-bound.

    ``time_limit`` seconds on the monotonic ``clock`` bound the whole reading: the clock
    is read between events, between series and inside every walk of a repeat rule, so a
    ``FeedError`` ends a reading that runs over (parsing itself is bounded by the size).
    """
    reader_zone = _reader_zone(start, end, default_tz)
    budget = Budget(time_limit, clock)
    if len(ics) > _MAX_ICS_BYTES:
        raise FeedError(f"The calendar is too large (more than {_MAX_ICS_BYTES / 1e6:g} MB).")
    window_start = start.astimezone(UTC)
    window_end = end.astimezone(UTC)
    # Two days either side cover every UTC offset and the all-day/floating readings.
    low = window_start - timedelta(days=2)
    high = window_end + timedelta(days=2)
    kept = _prefilter(_decode(ics), low.date(), high.date(), max_events)
    calendar, left_out = _parse(kept, budget.check)
    x_wr = calendar.get("X-WR-TIMEZONE")
    calendar_zone = _zone_for_name(str(x_wr)) if x_wr else None
    times = _Times(calendar_zone, reader_zone)
    owners = frozenset(_address(email) for email in owner_emails if email.strip())
    series_list, skipped = _group(calendar, times, high, budget)
    skipped[:0] = left_out
    found: list[Occurrence] = []
    for series in series_list:
        budget.check()
        expanding = _expand(
            series,
            low,
            high,
            start=window_start,
            end=window_end,
            reader_zone=reader_zone,
            floating=times.floating,
            owners=owners,
            budget=budget,
            absence_words=absence_words,
        )
        expanded = _take(expanding, len(found), max_occurrences, budget)
        if isinstance(expanded, str):
            skipped.append(f"'{series.title}' was left out: {expanded}.")
            continue
        found.extend(expanded)
    found.sort(key=lambda o: (o.start, o.end, o.uid, o.recurrence_id))
    return FeedReading(tuple(_unique_keys(found)), tuple(_capped_notes(skipped)))


def _reader_zone(start: datetime, end: datetime, default_tz: str) -> tzinfo:
    """The reader's zone; ``ValueError`` for a naive window or an unknown zone."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    reader_zone = _zoneinfo(default_tz)
    if reader_zone is None:
        raise ValueError(f"unknown time zone {default_tz!r}")
    return reader_zone


def _take(
    expanding: Iterator[Occurrence], found: int, max_occurrences: int, budget: Budget
) -> list[Occurrence] | str:
    """One series' occurrences, or why it is left out (the libraries fail on it, or a
    walk of its rule produces too many dates). The budget's ``FeedError`` ends the feed.

    ``found`` occurrences of other series are already kept: the cap counts them too.
    """
    expanded: list[Occurrence] = []
    while True:
        try:
            occurrence = next(expanding, None)
        except FeedError:
            raise
        except _SkipSeries as reason:
            return str(reason)
        except Exception:  # whatever the libraries raise for one broken series
            return "its dates could not be read"
        if occurrence is None:
            return expanded
        expanded.append(occurrence)
        if found + len(expanded) > max_occurrences:
            raise FeedError(
                f"The calendar has too many events in the period (more than {max_occurrences:,})."
            )
        if len(expanded) % 256 == 0:
            budget.check()


def _capped_notes(skipped: list[str]) -> list[str]:
    """At most ``_MAX_NOTES`` notes, the last one counting the rest."""
    if len(skipped) > _MAX_NOTES:
        more = len(skipped) - _MAX_NOTES + 1
        skipped = [*skipped[: _MAX_NOTES - 1], f"{more} more events were left out."]
    return skipped


def occurrences(
    ics: bytes,
    *,
    start: datetime,
    end: datetime,
    default_tz: str = "UTC",
    owner_emails: Collection[str] = (),
) -> list[Occurrence]:
    """``read_feed(...).occurrences`` as a list: see ``read_feed``."""
    reading = read_feed(ics, start=start, end=end, default_tz=default_tz, owner_emails=owner_emails)
    return list(reading.occurrences)

"""Series: grouping events by UID, checking them, and expanding their occurrences in a window."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import icalendar
import recurring_ical_events

from bot.core.sanitize import clean_line
from bot.services.calendar.bounds import _MAX_UID
from bot.services.calendar.budget import Budget, bound_rules
from bot.services.calendar.event_text import _declined, _plain_description, _plain_title
from bot.services.calendar.learning import ABSENCE_WORDS, is_absence
from bot.services.calendar.occurrence import Occurrence, _SkipSeries
from bot.services.calendar.properties import _first, _ical_text, _param, _value
from bot.services.calendar.repeat_rules import _check_rules
from bot.services.calendar.tzids import _Times


def _uid(event: icalendar.Event) -> str:
    uid = " ".join(clean_line(str(event.get("UID") or "")).split())
    if not uid:
        start = _first(event.get("DTSTART"))
        seed = f"{_ical_text(start) if start is not None else ''}|{event.get('SUMMARY')}"
        return "nouid:" + hashlib.sha256(seed.encode()).hexdigest()[:32]
    if len(uid) > _MAX_UID:
        return "sha256:" + hashlib.sha256(uid.encode()).hexdigest()
    return uid


def _to_utc(value: date, zone: tzinfo) -> datetime:
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=zone)
        return aware.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=zone).astimezone(UTC)


def _recurrence_id(value: Any, all_day_series: bool, zone: tzinfo) -> str:
    if isinstance(value, datetime):
        if all_day_series:
            return value.date().isoformat()
        return _to_utc(value, zone).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return ""


@dataclass(frozen=True)
class _Series:
    uid: str
    events: list[icalendar.Event]
    recurring: bool
    all_day: bool
    title: str


def _group(
    calendar: icalendar.Calendar, times: _Times, window_end: datetime, budget: Budget
) -> tuple[list[_Series], list[str]]:
    groups: dict[str, list[icalendar.Event]] = {}
    broken: dict[str, str] = {}
    titles: dict[str, str] = {}
    for event in calendar.subcomponents:
        if not isinstance(event, icalendar.Event):
            continue
        budget.check()
        uid = _uid(event)
        titles.setdefault(uid, _plain_title(event.get("SUMMARY")) or "an untitled event")
        groups.setdefault(uid, []).append(event)
        if uid in broken:
            continue
        try:
            if event.get("DTSTART") is None:
                raise _SkipSeries("it has no start time")
            times.apply(event)
            _check_rules(event, window_end)
        except _SkipSeries as reason:
            broken[uid] = str(reason)
    series: list[_Series] = []
    for uid, events in groups.items():
        if uid in broken:
            continue
        masters = [e for e in events if e.get("RECURRENCE-ID") is None]
        recurring = len(masters) < len(events) or any(
            e.get("RRULE") is not None or e.get("RDATE") is not None for e in masters
        )
        first = _value((masters or events)[0]["DTSTART"])
        series.append(_Series(uid, events, recurring, not isinstance(first, datetime), titles[uid]))
    skipped = [f"'{titles[uid]}' was left out: {reason}." for uid, reason in broken.items()]
    return series, skipped


def _this_and_future_offsets(series: _Series, floating: tzinfo) -> dict[str, timedelta]:
    """For each RANGE=THISANDFUTURE modification: how far it moved its instances."""
    offsets: dict[str, timedelta] = {}
    for event in series.events:
        prop = event.get("RECURRENCE-ID")
        if prop is None or (_param(prop, "RANGE") or "").upper() != "THISANDFUTURE":
            continue
        original, moved = _value(prop), _value(event["DTSTART"])
        if isinstance(original, datetime) == isinstance(moved, datetime):
            offsets[_recurrence_id(original, series.all_day, floating)] = moved - original
    return offsets


def _lazily_between(query: Any, low: datetime, high: datetime, budget: Budget) -> Iterator[Any]:
    """``query.between(low, high)`` one component at a time, every rule under ``budget``.

    ``CalendarQuery.between`` builds the whole list first; walking its ``series`` (a
    ``Series.between`` generator each) lets the caller stop at the occurrence cap.
    """
    for series in query.series:
        bound_rules(series, budget)
        for occurrence in series.between(low, high):
            yield occurrence.as_component(False)


def _span(component: Any, reader_zone: tzinfo, floating: tzinfo) -> tuple[Any, datetime, datetime]:
    """An occurrence's own DTSTART value, and its start and end in UTC.

    All-day occurrences run midnight to midnight in the reader's zone, at least a day.
    """
    begin = component["DTSTART"].dt
    finish = component["DTEND"].dt if component.get("DTEND") is not None else begin
    if not isinstance(begin, datetime):
        last_day = finish.date() if isinstance(finish, datetime) else finish
        if last_day <= begin:
            last_day = begin + timedelta(days=1)
        return begin, _to_utc(begin, reader_zone), _to_utc(last_day, reader_zone)
    occurrence_start = _to_utc(begin, floating)
    return begin, occurrence_start, max(occurrence_start, _to_utc(finish, floating))


def _instance_id(
    component: Any,
    begin: Any,
    series: _Series,
    moved_from: dict[str, timedelta],
    floating: tzinfo,
) -> str:
    """The original start of one instance of a recurring series (``Occurrence.recurrence_id``)."""
    prop = component.get("RECURRENCE-ID")
    raw = prop.dt if prop is not None else begin
    if prop is not None and (_param(prop, "RANGE") or "").upper() == "THISANDFUTURE":
        # Every later instance carries the modification's RECURRENCE-ID; its
        # own original start is its start less the modification's move.
        offset = moved_from.get(_recurrence_id(raw, series.all_day, floating))
        if offset is not None:
            raw = begin - offset
    return _recurrence_id(raw, series.all_day, floating)


def _expand(
    series: _Series,
    low: datetime,
    high: datetime,
    *,
    start: datetime,
    end: datetime,
    reader_zone: tzinfo,
    floating: tzinfo,
    owners: frozenset[str],
    budget: Budget,
    absence_words: Sequence[str] = ABSENCE_WORDS,
) -> Iterator[Occurrence]:
    calendar = icalendar.Calendar()
    for event in series.events:
        calendar.add_component(event)
    moved_from = _this_and_future_offsets(series, floating)
    query = recurring_ical_events.CalendarQuery(calendar, False, ("VEVENT",), False)
    for component in _lazily_between(query, low, high, budget):
        begin, occurrence_start, occurrence_end = _span(component, reader_zone, floating)
        if occurrence_start >= end or (
            occurrence_end <= start and not occurrence_start == occurrence_end == start
        ):
            continue
        recurrence_id = ""
        if series.recurring:
            recurrence_id = _instance_id(component, begin, series, moved_from, floating)
        title = _plain_title(component.get("SUMMARY"))
        all_day = not isinstance(begin, datetime)
        # Outlook's ICS exports carry its "show as": OOF is out of office.
        show_as = str(component.get("X-MICROSOFT-CDO-BUSYSTATUS") or "").strip().lower()
        yield Occurrence(
            uid=series.uid,
            recurrence_id=recurrence_id,
            title=title,
            description=_plain_description(component.get("DESCRIPTION")),
            start=occurrence_start,
            end=occurrence_end,
            all_day=all_day,
            cancelled=str(component.get("STATUS") or "").strip().upper() == "CANCELLED",
            declined=_declined(component, owners),
            absence=is_absence(title, all_day, show_as or None, absence_words),
        )


def _unique_keys(found: list[Occurrence]) -> list[Occurrence]:
    """Guarantee distinct keys even for odd data (two instances claiming one original).

    A repeated key gets its start appended; the first holder keeps the plain key.
    """
    seen: set[tuple[str, str]] = set()
    unique: list[Occurrence] = []
    for occ in found:
        if occ.key in seen:
            occ = replace(occ, recurrence_id=f"{occ.recurrence_id}+{occ.start:%Y%m%dT%H%M%SZ}")
        seen.add(occ.key)
        unique.append(occ)
    return unique

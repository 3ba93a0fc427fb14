"""ICS text: decode, pre-filter to what the window needs, and parse."""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Callable
from datetime import date, timedelta
from typing import Final

import icalendar
from icalendar.error import GloballyUniqueTZIDGuessed

from bot.core.calendar_rules import FeedError
from bot.services.calendar.bounds import (
    _MAX_NESTING,
    _MAX_RDATES,
    _MAX_TIMEZONE_PARTS,
    _MAX_TIMEZONES,
    _NOT_A_CALENDAR,
)
from bot.services.calendar.repeat_rules import _probe_never_matches, numbers_valid

_FOLD: Final = re.compile(r"(?:\r\n|\n|\r)[ \t]")
_LINE_BREAK: Final = re.compile(r"\r\n|\n|\r")
_NAME: Final = re.compile(r"[A-Za-z0-9-]+")
_DAY: Final = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DURATION_DAYS: Final = re.compile(r"[+-]?P(?:(\d+)W)?(?:(\d+)D)?")
_CALENDAR_PROPERTIES: Final = frozenset(
    {"VERSION", "PRODID", "CALSCALE", "METHOD", "X-WR-TIMEZONE", "X-WR-CALNAME"}
)
_UTC_OFFSET: Final = re.compile(r"[+-](?:[01]\d|2[0-3])[0-5]\d(?:[0-5]\d)?")
_LIST_PROPERTIES: Final = frozenset({"RRULE", "EXRULE", "RDATE", "EXDATE"})
# Components that are dropped inside a kept one (alarms do not matter for CPD).
_DROPPED_INSIDE: Final = frozenset({"VALARM"})
# A feed with more unreadable components than this is malformed as a whole.
_MAX_BAD_PARTS: Final = 100
_TZ_RULE_PARTS: Final = frozenset(
    {"FREQ", "BYMONTH", "BYDAY", "BYMONTHDAY", "BYSETPOS", "UNTIL", "COUNT", "INTERVAL", "WKST"}
)


def _split_line(line: str) -> tuple[str, str, str] | None:
    """``(NAME, ;params, value)`` of a content line; a colon inside quotes is no separator."""
    match = _NAME.match(line)
    if match is None:
        return None
    after_name = match.end()
    colon = line.find(":", after_name)
    if colon == -1:
        return None
    if line.find('"', after_name, colon) != -1:  # quoted parameters: walk them
        colon = -1
        quoted = False
        for index in range(after_name, len(line)):
            char = line[index]
            if char == '"':
                quoted = not quoted
            elif char == ":" and not quoted:
                colon = index
                break
        if colon == -1:
            return None
    return match.group().upper(), line[after_name:colon], line[colon + 1 :]


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    match = _DAY.match(value.strip())
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _timezone_block_ok(lines: list[str]) -> bool:
    """Whether a VTIMEZONE block is safe to hand to icalendar/dateutil.

    Real definitions repeat yearly (``FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU``) or list their
    transitions. Anything else could make every offset lookup walk centuries of periods.
    A refused block is dropped; times that use its TZID are then read by name.
    """
    parts = 0
    rdates = 0
    has_tzid = False
    for line in lines[1:-1]:
        split = _split_line(line)
        if split is None:
            continue
        name, _params, value = split
        if name == "BEGIN":
            parts += 1
        elif name == "TZID":
            has_tzid = True
        elif name == "RDATE":
            rdates += value.count(",") + 1
        elif name in ("TZOFFSETFROM", "TZOFFSETTO") and not _UTC_OFFSET.fullmatch(value.strip()):
            return False  # +5328: no such offset
        elif name == "RRULE":
            rule = {
                key.strip().upper(): item.strip()
                for key, _, item in (p.partition("=") for p in value.split(";"))
            }
            if (
                rule.get("FREQ", "").upper() != "YEARLY"
                or not set(rule) <= _TZ_RULE_PARTS
                or any(item.count(",") > 31 for item in rule.values())
                or not numbers_valid(rule)  # INTERVAL=0 looped for ever
                or _probe_never_matches(value)
            ):
                return False
    return has_tzid and 0 < parts <= _MAX_TIMEZONE_PARTS and rdates <= _MAX_RDATES


def _event_values(lines: list[str]) -> dict[str, str]:
    """The first value of each of the event's own properties (not its alarms').

    Removes spaces inside RRULE and EXRULE values, and blanks empty ``RRULE:``, ``RDATE:``,
    ... lines, in place.
    """
    values: dict[str, str] = {}
    depth = 0
    for index, line in enumerate(lines[1:-1], start=1):
        split = _split_line(line)
        if split is None:
            continue
        name, params, value = split
        if name == "BEGIN":
            depth += 1
        elif name == "END":
            depth -= 1
        elif depth == 0:
            if name in _LIST_PROPERTIES and not value.strip():
                lines[index] = ""
                continue
            if name in ("RRULE", "EXRULE"):
                lines[index] = name + params + ":" + "".join(value.split())
            values.setdefault(name, value)
    return values


def _event_relevant(lines: list[str], first: date, last: date) -> bool:
    """Whether a VEVENT block can matter for days ``first..last`` (widened by the caller).

    Recurring masters always matter; a single event or an override is kept when its
    span or its RECURRENCE-ID touches the days. Unreadable dates keep the event (the
    parser decides). Also removes spaces inside RRULE values (``BYDAY=MO, TU``, written
    by Microsoft CDO), in place.
    """
    values = _event_values(lines)
    if "RRULE" in values or "RDATE" in values or "EXRULE" in values:
        return True
    start = _day(values.get("DTSTART"))
    if start is None:
        return True
    end = _day(values.get("DTEND")) or start
    if "DURATION" in values:
        match = _DURATION_DAYS.match(values["DURATION"].strip())
        if match is None:
            return True
        try:
            end = start + timedelta(weeks=int(match[1] or 0), days=int(match[2] or 0) + 1)
        except OverflowError:  # a duration beyond the year 9999
            return True
    if start <= last and max(start, end) >= first:
        return True
    recurrence_id = _day(values.get("RECURRENCE-ID"))
    return recurrence_id is not None and first <= recurrence_id <= last


def _decode(ics: bytes) -> str:
    try:
        text = ics.decode("utf-8")
    except UnicodeDecodeError:
        text = ics.decode("cp1252", errors="replace")
    return text.lstrip("\ufeff")


class _Kept:
    """What the pre-filter keeps while it walks a calendar's lines, and where it is."""

    def __init__(self, first: date, last: date, max_events: int) -> None:
        self.first = first
        self.last = last
        self.max_events = max_events
        self.calendar_lines: list[str] = []
        self.seen_properties: set[str] = set()
        self.timezones: list[list[str]] = []
        self.events: list[list[str]] = []
        self.kept_events = 0
        self.kept_timezones = 0
        self.stack: list[str] = []
        self.block: list[str] = []

    def begin(self, line: str, component: str) -> None:
        if not self.stack and component != "VCALENDAR":
            raise FeedError(_NOT_A_CALENDAR)
        self.stack.append(component)
        if len(self.stack) > _MAX_NESTING:
            raise FeedError("The calendar could not be read: it is nested too deeply.")
        if len(self.stack) >= 2 and not self._dropping():
            self.block.append(line)

    def _dropping(self) -> bool:
        """Whether the current line is inside a component dropped from its parent."""
        return any(component in _DROPPED_INSIDE for component in self.stack[2:])

    def end(self, line: str, component: str) -> None:
        if not self.stack or self.stack[-1] != component:
            raise FeedError("The calendar could not be read: its BEGIN and END lines do not match.")
        if len(self.stack) >= 2 and not self._dropping():
            self.block.append(line)
        self.stack.pop()
        if len(self.stack) == 1:
            self._close_block()
            self.block = []

    def _close_block(self) -> None:
        """Keep a finished top-level component if the window needs it."""
        block = self.block
        kind = block[0].split(":", 1)[1].strip().upper()
        if kind == "VEVENT" and _event_relevant(block, self.first, self.last):
            self.kept_events += 1
            if self.kept_events > self.max_events:
                raise FeedError(
                    f"The calendar has too many events to read (more than "
                    f"{self.max_events:,} around the same dates)."
                )
            self.events.append([line for line in block if line])
        elif (
            kind == "VTIMEZONE"
            and self.kept_timezones < _MAX_TIMEZONES
            and _timezone_block_ok(block)
        ):
            self.kept_timezones += 1
            self.timezones.append(_first_tzid_only(block))

    def content(self, line: str, name: str) -> None:
        if len(self.stack) == 1:
            if name in _CALENDAR_PROPERTIES and name not in self.seen_properties:
                self.seen_properties.add(name)
                self.calendar_lines.append(line)
        elif len(self.stack) >= 2 and not self._dropping():
            self.block.append(line)


def _first_tzid_only(block: list[str]) -> list[str]:
    """A VTIMEZONE block without its second and later TZID lines (icalendar refuses them)."""
    kept: list[str] = []
    seen = False
    for line in block:
        split = _split_line(line)
        if split is not None and split[0] == "TZID":
            if seen:
                continue
            seen = True
        kept.append(line)
    return kept


def _prefilter(text: str, first: date, last: date, max_events: int) -> _Kept:
    """Check the structure and keep what the window needs: the text icalendar will parse.

    Unfolds lines, checks BEGIN/END nesting, keeps the calendar's own properties, safe
    VTIMEZONE blocks (first, so times can refer to them) and the VEVENT blocks relevant
    to ``first..last``; drops everything else (old events, VTODO, VJOURNAL, alarms, ...).
    Blank lines and spaces before ``BEGIN:VCALENDAR`` are ignored.
    """
    lines = _LINE_BREAK.split(_FOLD.sub("", text.lstrip()))
    head = next((line.strip() for line in lines if line.strip()), "")
    if head.upper() != "BEGIN:VCALENDAR":
        raise FeedError(_NOT_A_CALENDAR)
    kept = _Kept(first, last, max_events)
    for line in lines:
        split = _split_line(line)
        if split is None:  # blank, or not a content line at all: ignored
            continue
        name = split[0]
        if name == "BEGIN":
            kept.begin(line, split[2].strip().upper())
        elif name == "END":
            kept.end(line, split[2].strip().upper())
        else:
            kept.content(line, name)
    if kept.stack:
        raise FeedError("The calendar file is incomplete (it may have been cut off).")
    return kept


_PARSE_LOCK: Final = threading.Lock()


def _forget_timezone_definitions() -> None:
    """Empty icalendar's process-wide cache of VTIMEZONE definitions.

    icalendar caches each custom TZID's definition for the whole process, first come
    first served: one feed's (possibly hostile) definition would be used for another
    feed's identically named zone. Parsing happens under ``_PARSE_LOCK`` between two
    clears, so each feed sees only its own definitions.
    """
    cache = getattr(icalendar.timezone.tzp, "_TZP__tz_cache", None)
    if isinstance(cache, dict):
        cache.clear()


def _text(head: list[str], *blocks: list[str]) -> str:
    lines = [line for block in blocks for line in block]
    return "\r\n".join(["BEGIN:VCALENDAR", *head, *lines, "END:VCALENDAR"])


def _try_parse(text: str) -> icalendar.Calendar | None:
    _forget_timezone_definitions()
    try:
        parsed = icalendar.Calendar.from_ical(text)
    except Exception:
        return None
    return parsed if isinstance(parsed, icalendar.Calendar) else None


class _Readable:
    """Finds the blocks icalendar can read by halving the set that fails, so that one
    bad component costs only itself; more than ``_MAX_BAD_PARTS`` bad ones end the feed.
    """

    def __init__(self, head: list[str], check: Callable[[], None]) -> None:
        self.head = head
        self.check = check
        self.bad: list[list[str]] = []

    def blocks(self, fixed: list[list[str]], blocks: list[list[str]]) -> list[list[str]]:
        self.check()  # the reading's time budget: FeedError when it runs over
        if not blocks or _try_parse(_text(self.head, *fixed, *blocks)) is not None:
            return blocks
        if len(blocks) == 1:
            self.bad.append(blocks[0])
            if len(self.bad) > _MAX_BAD_PARTS:
                raise FeedError("The calendar could not be read: it is malformed.")
            return []
        middle = len(blocks) // 2
        return self.blocks(fixed, blocks[:middle]) + self.blocks(fixed, blocks[middle:])


def _left_out_note(block: list[str]) -> str:
    title = " ".join(_event_values(list(block)).get("SUMMARY", "").split())[:80]
    return f"'{title or 'An event'}' was left out: it could not be read."


def _parse(kept: _Kept, check: Callable[[], None]) -> tuple[icalendar.Calendar, list[str]]:
    """The calendar icalendar reads from the kept text, and notes on events left out.

    A time zone definition icalendar refuses is dropped (times using it are then read by
    name), an event it refuses is left out and named; the calendar's own lines must read.
    """
    with _PARSE_LOCK, warnings.catch_warnings():
        # Guessing Europe/Berlin from /mozilla.org/.../Europe/Berlin is what we want.
        warnings.simplefilter("ignore", GloballyUniqueTZIDGuessed)
        try:
            parsed = _try_parse(_text(kept.calendar_lines, *kept.timezones, *kept.events))
            if parsed is not None:
                return parsed, []
            if _try_parse(_text(kept.calendar_lines)) is None:
                raise FeedError("The calendar could not be read: it is malformed.")
            readable = _Readable(kept.calendar_lines, check)
            timezones = readable.blocks([], kept.timezones)
            readable.bad.clear()
            events = readable.blocks(timezones, kept.events)
            parsed = _try_parse(_text(kept.calendar_lines, *timezones, *events))
        finally:
            _forget_timezone_definitions()
    if parsed is None:
        raise FeedError("The calendar could not be read: it is malformed.")
    return parsed, [_left_out_note(block) for block in readable.bad]

"""Time zones as feeds name them (IANA, Windows, Outlook display names), and aware event times."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any, Final
from zoneinfo import ZoneInfo, available_timezones

import icalendar
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from bot.services.calendar.bounds import _MAX_RDATES
from bot.services.calendar.occurrence import _SkipSeries
from bot.services.calendar.properties import _first, _param

# Windows display names without a city that matches an IANA zone.
_DISPLAY_NAMES: Final = {
    "eastern time (us & canada)": "America/New_York",
    "central time (us & canada)": "America/Chicago",
    "mountain time (us & canada)": "America/Denver",
    "pacific time (us & canada)": "America/Los_Angeles",
    "atlantic time (canada)": "America/Halifax",
    "alaska": "America/Anchorage",
    "hawaii": "Pacific/Honolulu",
    "arizona": "America/Phoenix",
    "saskatchewan": "America/Regina",
    "newfoundland": "America/St_Johns",
    "indiana (east)": "America/Indiana/Indianapolis",
    "brasilia": "America/Sao_Paulo",
    "coordinated universal time": "UTC",
}
_DISPLAY_NAME: Final = re.compile(
    r"\(\s*(?:UTC|GMT)\s*(?:([+-])\s*(\d{1,2})(?::?(\d{2}))?)?\s*\)\s*(.*)", re.IGNORECASE
)
_ANY_OFFSET: Final = re.compile(r"(?:UTC|GMT)\s*([+-])\s*(\d{1,2}):?(\d{2})", re.IGNORECASE)
_SAFE_ZONE_KEY: Final = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")


def _zoneinfo(key: str) -> tzinfo | None:
    if not _SAFE_ZONE_KEY.fullmatch(key):
        return None
    try:
        return ZoneInfo(key)
    except Exception:  # ZoneInfoNotFoundError, IsADirectoryError, ValueError, ...
        return None


@lru_cache(maxsize=1)
def _zones_by_city() -> dict[str, list[str]]:
    cities: dict[str, list[str]] = {}
    for key in sorted(available_timezones()):
        city = key.rsplit("/", 1)[-1].replace("_", " ").lower()
        cities.setdefault(city, []).append(key)
    return cities


def _standard_offset(zone: tzinfo) -> timedelta | None:
    offsets = [datetime(2024, month, 15, 12, tzinfo=zone).utcoffset() for month in (1, 7)]
    known = [offset for offset in offsets if offset is not None]
    return min(known) if known else None


def _fixed_offset(sign: str, hours: str, minutes: str | None) -> tzinfo | None:
    delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if delta >= timedelta(hours=15):
        return None
    return timezone(-delta if sign == "-" else delta)


@lru_cache(maxsize=512)
def _zone_for_name(name: str) -> tzinfo | None:
    """A time zone for a TZID or X-WR-TIMEZONE value that has no usable VTIMEZONE.

    Tries an IANA name, a Windows zone id (``GMT Standard Time``), the IANA name at the
    end of a "globally unique" id (``/mozilla.org/.../Europe/Berlin``), then Outlook
    display names (``(UTC-05:00) Eastern Time (US & Canada)``): a known name or a city
    whose zone has the stated standard offset, else that fixed offset.
    """
    key = name.strip().strip('"').strip()
    zone = _zoneinfo(key.strip("/")) or _zoneinfo(WINDOWS_TO_OLSON.get(key, ""))
    if zone is not None:
        return zone
    if key.startswith("/"):
        parts = key.strip("/").split("/")
        for index in range(1, len(parts)):
            zone = _zoneinfo("/".join(parts[index:]))
            if zone is not None:
                return zone
    match = _DISPLAY_NAME.fullmatch(key)
    if match is not None:
        sign, hours, minutes, rest = match.groups()
        stated = _fixed_offset(sign, hours, minutes) if sign else UTC
        stated_offset = stated.utcoffset(None) if stated is not None else None
        candidates: list[str] = []
        known = _DISPLAY_NAMES.get(re.sub(r"\s+and\s+", " & ", rest.strip().lower()))
        if known:
            candidates.append(known)
        for city in re.split(r"[,:/;]|\band\b", rest):
            candidates.extend(_zones_by_city().get(city.strip().rstrip(".").lower(), []))
        for candidate in candidates:
            zone = _zoneinfo(candidate)
            if zone is not None and _standard_offset(zone) == stated_offset:
                return zone
        return stated
    offset = _ANY_OFFSET.search(key)
    if offset is not None:
        return _fixed_offset(*offset.groups())
    return None


def _is_utc(value: datetime) -> bool:
    return (
        value.tzinfo is not None
        and value.utcoffset() == timedelta(0)
        and (value.tzname() or "").upper() in ("UTC", "Z")
    )


class _Times:
    """Makes every time of an event aware, the way calendar programs read them.

    - a TZID that icalendar could not resolve (no VTIMEZONE, or a refused one) is read
      by name (``_zone_for_name``);
    - floating times and unresolvable TZIDs are in the calendar's X-WR-TIMEZONE when it
      names a zone, else in the reader's zone;
    - with X-WR-TIMEZONE, UTC times are moved into that zone before recurrences are
      expanded, as Google means them (the x-wr-timezone convention); instants are
      unchanged, weekly series keep their local hour across DST changes.
    """

    def __init__(self, calendar_zone: tzinfo | None, reader_zone: tzinfo) -> None:
        self.calendar_zone = calendar_zone
        self.floating = calendar_zone or reader_zone

    def fix(self, value: Any, tzid: str | None) -> Any:
        if not isinstance(value, datetime):
            if isinstance(value, tuple):  # an RDATE period
                return tuple(self.fix(part, tzid) for part in value)
            return value
        if value.tzinfo is None:
            zone = _zone_for_name(tzid) if tzid else None
            return value.replace(tzinfo=zone or self.floating)
        if self.calendar_zone is not None and _is_utc(value):
            return value.astimezone(self.calendar_zone)
        return value

    def apply(self, event: icalendar.Event) -> None:
        for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
            prop = _first(event.get(name))
            if prop is None:
                continue
            try:
                value = prop.dt
            except Exception:
                value = None
            if not isinstance(value, date):  # unreadable, or a time or duration
                if name == "DTSTART":
                    raise _SkipSeries("its start time could not be read")
                del event[name]
                continue
            fixed = self.fix(value, _param(prop, "TZID"))
            new = icalendar.vDDDTypes(fixed)
            if name == "RECURRENCE-ID" and _param(prop, "RANGE"):
                new.params["RANGE"] = _param(prop, "RANGE")
            event[name] = new
        for name in ("EXDATE", "RDATE"):
            props = event.get(name)
            if props is None:
                continue
            fixed_lists = []
            count = 0
            for prop in props if isinstance(props, list) else [props]:
                try:
                    values = [item.dt for item in prop.dts]
                except Exception:
                    raise _SkipSeries(f"its {name} could not be read") from None
                count += len(values)
                tzid = _param(prop, "TZID")
                fixed_lists.append(icalendar.vDDDLists([self.fix(v, tzid) for v in values]))
            if name == "RDATE" and count > _MAX_RDATES:
                raise _SkipSeries("it lists too many extra dates")
            event[name] = fixed_lists if len(fixed_lists) > 1 else fixed_lists[0]

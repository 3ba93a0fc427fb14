"""Repeat rules (RRULE) whose expansion would run for seconds or minutes are refused."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final

import icalendar
from dateutil.rrule import rrulestr

from bot.services.calendar.bounds import _MAX_STEPS, _MAX_TIMES_PER_DAY
from bot.services.calendar.occurrence import _SkipSeries
from bot.services.calendar.properties import _ical_text, _value


def _probe_never_matches(rule: str, month: int = 1, day: int = 1, hour: int = 0) -> bool:
    """Whether a repeat rule has no occurrence in the years 9992 to 9999.

    dateutil walks every period of a rule from its start, and for a rule whose parts
    contradict each other (the 30th of February) it walks to the year 9999: seconds per
    series. Starting the same rule (without UNTIL and COUNT) in 9992, a leap year, costs
    a few thousand periods and tells such rules apart.
    """
    parts = [
        part
        for part in rule.split(";")
        if part.split("=", 1)[0].strip().upper() not in ("UNTIL", "COUNT")
    ]
    try:
        probe = rrulestr(";".join(parts), dtstart=datetime(9992, month, day, hour))  # noqa: DTZ001
        return next(iter(probe), None) is None
    except (ValueError, TypeError, OverflowError, IndexError, KeyError):
        return True


_PERIOD_DAYS: Final = {"DAILY": 1, "WEEKLY": 7, "MONTHLY": 30, "YEARLY": 365}

# RFC 5545 3.3.10: the whole numbers each part of a rule may hold, (lowest, highest, may
# it be negative); zero is never allowed where negatives are.
_RANGES: Final = {
    "BYSECOND": (0, 60, False),
    "BYMINUTE": (0, 59, False),
    "BYHOUR": (0, 23, False),
    "BYMONTHDAY": (1, 31, True),
    "BYYEARDAY": (1, 366, True),
    "BYWEEKNO": (1, 53, True),
    "BYMONTH": (1, 12, False),
    "BYSETPOS": (1, 366, True),
}


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _invalid_part(rule: Any) -> str | None:
    """What is wrong with a rule's numbers (INTERVAL=0, COUNT=-3, BYHOUR=25), or None.

    dateutil takes such rules without complaint and then loops for ever (INTERVAL=0),
    silently yields nothing (COUNT=0) or quietly ignores the part (BYMONTHDAY=0).
    """
    for part in ("INTERVAL", "COUNT"):
        values = rule.get(part)
        if values is not None and any((_whole(v) or 0) < 1 for v in values):
            return f"{part} must be a whole number of at least 1"
    for part, (low, high, signed) in _RANGES.items():
        for value in rule.get(part) or []:
            number = _whole(value)
            if number is None or not (
                low <= number <= high or (signed and -high <= number <= -low)
            ):
                allowed = f"from {low} to {high}" + (f" or -{high} to -{low}" if signed else "")
                return f"{part} must be {allowed}"
    return None


_NUMBER: Final = re.compile(r"[+-]?\d{1,4}")


def numbers_valid(parts: dict[str, str]) -> bool:
    """Whether a rule given as text (``{"INTERVAL": "0", ...}``) has valid numbers."""
    rule: dict[str, list[int | str]] = {}
    for name in ("INTERVAL", "COUNT", *_RANGES):
        if name in parts:
            items = [item.strip() for item in parts[name].split(",")]
            rule[name] = [int(item) if _NUMBER.fullmatch(item) else item for item in items]
    return _invalid_part(rule) is None


def _dates_per_period(rule: Any, frequency: str) -> int:
    """An upper estimate of the dates a rule produces in one period (before BYSETPOS)."""

    def count(part: str) -> int:
        return len(rule.get(part) or [])

    weekdays = [str(day) for day in rule.get("BYDAY") or []]
    if frequency == "DAILY":
        return 1
    if frequency == "WEEKLY":
        return max(1, min(7, len(weekdays)))
    months = 1 if frequency == "MONTHLY" else count("BYMONTH")  # 0: the whole year
    if count("BYYEARDAY"):
        estimate = count("BYYEARDAY")
    elif count("BYWEEKNO"):
        estimate = count("BYWEEKNO") * (len(weekdays) or 7)
    elif count("BYMONTHDAY"):
        estimate = (months or 12) * count("BYMONTHDAY")
    elif weekdays:
        # "-1SU" is one day a month (or year); "SU" every Sunday of it.
        every = 5 if months else 53
        per_day = [1 if any(c.isdigit() for c in day) else every for day in weekdays]
        estimate = (months or 1) * sum(per_day)
    else:
        estimate = months or 1
    return max(1, min(366, estimate))


def _check_rules(event: icalendar.Event, window_end: datetime) -> None:
    """Refuse repeat rules whose expansion could run for seconds or minutes."""
    rules = event.get("RRULE")
    if rules is None:
        return
    start = _value(event["DTSTART"])
    first_day = start.date() if isinstance(start, datetime) else start
    hour = start.hour if isinstance(start, datetime) else 0
    for rule in rules if isinstance(rules, list) else [rules]:
        if not isinstance(rule, icalendar.vRecur):
            raise _SkipSeries("its repeat rule could not be read")
        frequency = str((rule.get("FREQ") or [""])[0]).upper()
        if frequency in ("SECONDLY", "MINUTELY", "HOURLY"):
            raise _SkipSeries("it repeats more often than daily")
        if frequency not in _PERIOD_DAYS:
            raise _SkipSeries("its repeat rule could not be read")
        invalid = _invalid_part(rule)
        if invalid is not None:
            raise _SkipSeries(f"its repeat rule is not valid ({invalid})")
        interval = int((rule.get("INTERVAL") or [1])[0])
        times = 1
        for part in ("BYHOUR", "BYMINUTE", "BYSECOND"):
            times *= max(1, len(rule.get(part) or []))
        if times > _MAX_TIMES_PER_DAY:
            raise _SkipSeries("it repeats more often than the bot can follow")
        periods = (window_end.date() - first_day).days / (_PERIOD_DAYS[frequency] * interval)
        if periods * (1 + _dates_per_period(rule, frequency) * times) > _MAX_STEPS:
            raise _SkipSeries("it started too long ago")
        text = _ical_text(rule)
        if _probe_never_matches(text, first_day.month, first_day.day, hour):
            raise _SkipSeries("its repeat rule never produces a date")

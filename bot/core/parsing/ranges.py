"""Several days as one entry: '14-15 Nov', 'Nov 14-15', '30 Nov - 2 Dec', '14/11-15/11',
'from Monday to Wednesday', 'Mon-Tue last week'; and periods that name no day ('2 days
last week', '3 days in October'); ``parse_date_range`` for a whole answer.

A range without a year is the latest one that starts on or before ``today`` ('14-15 Nov'
on 4 Dec 2026 is 14-15 Nov 2026; '30 Dec - 2 Jan' on 10 Jan is across the new year). A
range that ends after ``today`` (an ongoing or a future one: '3-5 Dec' on 4 Dec, '14-15
Nov 2027') is read as written, like a future single day: refusing it, with its dates
said, is the caller's job. A range that ends before it starts or is longer than 31 days
is not read: the caller asks, and a one-liner keeps the text in its title rather than
reading half of it as one day.
A weekday range is read only when it is clearly a date: with 'from' or 'on' before it,
a word between ('Monday to Wednesday') or a week after it ('Mon-Tue last week'); so
'Mon-Fri course' keeps its 'Mon-Fri'.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Final

from bot.core.parsing.dates import (
    _MONTH_RE,
    _WD_ANY_RE,
    _add_months,
    _days_in_month,
    _full_year,
    _month_number,
    _most_recent,
    _weekday_number,
    _ymd,
    parse_date,
)
from bot.core.parsing.words import _FLAGS, DateOrder

_MAX_RANGE_DAYS: Final = 31

_D: Final = r"\d{1,2}(?:st|nd|rd|th)?"
_TO: Final = r"(?:\s*[-–—]\s*|\s+(?:to|till|until|through|thru)\s+)"
_Y: Final = r"\d{4}(?!\d)"

_RANGE_RE: Final = re.compile(
    rf"""
    (?<![\w/.:\-])
    (?=\d|mon|tue|wed|thu|fri|sat|sun|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|from|on|be)
    (?P<from>(?:from|on|between)\s+)?
    (?:
        (?P<dm>(?:{_WD_ANY_RE},?\s+)?(?:the\s+)?(?P<a_d>{_D})
            (?:(?:\s+of)?\s+(?P<a_m>{_MONTH_RE})(?:,?\s+(?P<a_y>{_Y}))?)?
            (?:{_TO}|\s+and\s+)
            (?:{_WD_ANY_RE},?\s+)?(?:the\s+)?(?P<b_d>{_D})(?:\s+of)?\s*(?P<b_m>{_MONTH_RE})
            (?:,?\s+(?P<b_y>{_Y}))?)
      | (?P<md>(?P<c_m>{_MONTH_RE})\s*(?P<c_d>{_D})(?:,?\s+(?P<c_y>{_Y}))?
            {_TO}(?:(?P<d_m>{_MONTH_RE})\s*)?(?P<d_d>{_D})(?:,?\s+(?P<d_y>{_Y}))?)
      | (?P<num>(?P<e1>\d{{1,2}})/(?P<e2>\d{{1,2}})(?:/(?P<ey>\d{{4}}|\d{{2}}))?
            {_TO}(?P<f1>\d{{1,2}})/(?P<f2>\d{{1,2}})(?:/(?P<fy>\d{{4}}|\d{{2}}))?)
      | (?P<wd>(?P<w1>{_WD_ANY_RE})(?:{_TO}|\s+(?P<w_and>and)\s+)(?P<w2>{_WD_ANY_RE})
            (?:\s+(?:of\s+)?(?P<w_mod>last|this)\s+week)?)
    )
    (?![^\W_]|[/.:]\d|-\w)
    """,
    _FLAGS,
)
# Numbers after these words are counted things, not days: 'chapters 3-4 May'.
_COUNTED_BEFORE_RE: Final = re.compile(
    r"\b(?:chapters?|ch|pages?|pp?|sections?|parts?|units?|modules?|items?|steps?|levels?"
    r"|vols?|volumes?|issues?|clauses?|slides?|lessons?|questions?|tables?|figs?|figures?)"
    r"\.?\s*$",
    re.IGNORECASE,
)
_REJECT: Final = "reject"  # recognised as a range, but not one to read


def _day(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def _span(start: date | None, end: date | None) -> tuple[date, date] | str:
    if start is None or end is None or end < start:
        return _REJECT
    if (end - start).days + 1 > _MAX_RANGE_DAYS:
        return _REJECT
    return start, end


def _first_on_or_after(month: int, day: int, start: date) -> date | None:
    for year in (start.year, start.year + 1):
        candidate = _ymd(year, month, day)
        if candidate is not None and candidate >= start:
            return candidate
    return None


def _resolve(
    first: tuple[int, int, int | None], last: tuple[int, int, int | None], today: date
) -> tuple[date, date] | str:
    """(month, day, year or None) at each end: the latest such range starting by today."""
    (m1, d1, y1), (m2, d2, y2) = first, last
    if y2 is not None:
        end = _ymd(y2, m2, d2)
        if y1 is None and end is not None:
            y1 = y2 if (m1, d1) <= (m2, d2) else y2 - 1
        start = None if y1 is None else _ymd(y1, m1, d1)
    elif y1 is not None:
        start = _ymd(y1, m1, d1)
        end = None if start is None else _first_on_or_after(m2, d2, start)
    else:
        start = _most_recent(m1, d1, today)
        end = None if start is None else _first_on_or_after(m2, d2, start)
    return _span(start, end)


def _year(text: str | None, today: date) -> int | None:
    if text is None:
        return None
    return int(text) if len(text) == 4 else _full_year(int(text), today)


def _numeric_ends(
    m: re.Match[str], today: date, date_order: DateOrder
) -> tuple[tuple[int, int, int | None], tuple[int, int, int | None]]:
    a, b, c, d = (int(m.group(g)) for g in ("e1", "e2", "f1", "f2"))
    if date_order == "DMY":
        a, b, c, d = b, a, d, c  # to month first
    return (a, b, _year(m.group("ey"), today)), (c, d, _year(m.group("fy"), today))


def _weekday_range(m: re.Match[str], today: date) -> tuple[date, date] | str | None:
    opener = (m.group("from") or "").strip().lower()
    worded = not re.fullmatch(r"\s*[-–—]\s*", m.string[m.end("w1") : m.start("w2")])
    if m.group("w_and") and opener != "between":
        return None
    if not (opener or worded or m.group("w_mod")):
        return None  # 'Mon-Fri course': a kind of course, not when
    first, last = _weekday_number(m.group("w1")), _weekday_number(m.group("w2"))
    length = (last - first) % 7
    mod = (m.group("w_mod") or "").lower()
    if mod:
        monday = today - timedelta(days=today.weekday()) - timedelta(days=7 if mod == "last" else 0)
        start = monday + timedelta(days=first)
    else:
        start = today - timedelta(days=(today.weekday() - first) % 7)
    return _span(start, start + timedelta(days=length))


def _range_from_match(
    m: re.Match[str], today: date, date_order: DateOrder
) -> tuple[date, date] | str | None:
    """The days a match means; ``_REJECT`` for a range not to read; None: not a range."""
    if m.group("dm"):
        month2 = _month_number(m.group("b_m"))
        month1 = _month_number(m.group("a_m")) if m.group("a_m") else month2
        year2 = int(m.group("b_y")) if m.group("b_y") else None
        year1 = int(m.group("a_y")) if m.group("a_y") else None
        if "and" in m.group("dm").lower().split() and (m.group("from") or "").strip() != "between":
            return None
        return _resolve(
            (month1, _day(m.group("a_d")), year1), (month2, _day(m.group("b_d")), year2), today
        )
    if m.group("md"):
        month1 = _month_number(m.group("c_m"))
        month2 = _month_number(m.group("d_m")) if m.group("d_m") else month1
        year2 = int(m.group("d_y")) if m.group("d_y") else None
        year1 = int(m.group("c_y")) if m.group("c_y") else None
        return _resolve(
            (month1, _day(m.group("c_d")), year1), (month2, _day(m.group("d_d")), year2), today
        )
    if m.group("num"):
        first, last = _numeric_ends(m, today, date_order)
        return _resolve(first, last, today)
    return _weekday_range(m, today)


def _find_date_range(
    text: str, today: date, date_order: DateOrder
) -> tuple[tuple[date, date] | None, int, int] | None:
    """The first range in a sentence: ((first, last), start, end), or (None, start, end) for
    one recognised but not read (backwards, too long): the caller leaves it in the title."""
    pos = 0
    while (m := _RANGE_RE.search(text, pos)) is not None:
        if _COUNTED_BEFORE_RE.search(text, 0, m.start()):
            pos = m.start() + 1  # 'chapters 3-4 May', 'pages 10-12'
            continue
        found = _range_from_match(m, today, date_order)
        if isinstance(found, tuple):
            return found, m.start(), m.end()
        if found == _REJECT:
            return None, m.start(), m.end()
        pos = m.start() + 1
    return None


_PERIOD_RE: Final = re.compile(
    rf"""
    (?<![\w/.:\-])
    (?:(?:during|over|in)\s+)?
    (?:(?P<rel>last|past|previous|this|next)\s+(?P<unit>week|month)
      | (?:in|during)\s+(?P<month>{_MONTH_RE})(?:,?\s+(?P<year>\d{{4}}))?)
    (?![^\W_]|[/.:]\d|-\w)
    """,
    _FLAGS,
)


def _period(m: re.Match[str], today: date) -> tuple[date, date] | None:
    rel = (m.group("rel") or "").lower()
    if rel and m.group("unit").lower() == "week":
        monday = today - timedelta(days=today.weekday())
        if rel == "this":
            return monday, today
        if rel == "next":
            return monday + timedelta(days=7), monday + timedelta(days=13)
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if rel:
        first = today.replace(day=1)
        if rel == "this":
            return first, today
        if rel == "next":
            following = _add_months(first, 1)
            return following, _add_months(following, 1) - timedelta(days=1)
        previous = _add_months(first, -1)
        return previous, first - timedelta(days=1)
    month = _month_number(m.group("month"))
    if m.group("year"):
        first = date(int(m.group("year")), month, 1)
    else:
        first = date(today.year if month <= today.month else today.year - 1, month, 1)
    if first > today:
        return None
    last = first.replace(day=_days_in_month(first.year, first.month))
    return first, min(last, today)


def _find_period(text: str, today: date, days: int) -> tuple[tuple[date, date], int, int] | None:
    """A period that holds ``days`` days without naming them: 'last week', 'this week',
    'in October' (the latest October that has begun, up to today), 'last month'; and
    'next week', 'next month', wholly in the future (the caller refuses them)."""
    for m in _PERIOD_RE.finditer(text):
        found = _period(m, today)
        if found is not None and (found[1] - found[0]).days + 1 >= days:
            return found, m.start(), m.end()
    return None


_LEAD_RE: Final = re.compile(r"^(?:it\s+was\s+)?", re.IGNORECASE)


def parse_date_range(
    text: str,
    *,
    today: date,
    date_order: DateOrder = "DMY",
    languages: Sequence[str] = ("en",),
) -> tuple[date, date] | None:
    """The days a whole answer to 'When was it?' names: a range ('14-15 Nov', 'Nov 14-15',
    '30 Nov - 2 Dec', '14/11-15/11', 'from Monday to Wednesday', 'Mon-Tue last week') as
    (first, last), or one day as (day, day) read as ``parse_date`` reads it (a future day
    too: refusing it is the caller's job, as with parse_date). A range in the future is
    returned as well ('1-5 Dec' on 4 Dec), for the caller to refuse with its dates. A
    range longer than 31 days or ending before it starts, a period ('last week') and
    anything else give None."""
    s = _LEAD_RE.sub("", " ".join(text.split())).rstrip(".!?")
    m = _RANGE_RE.fullmatch(s)
    if m is not None:
        found = _range_from_match(m, today, date_order)
        if isinstance(found, tuple):
            return found
        if found == _REJECT:
            return None
    day = parse_date(s, today=today, date_order=date_order, languages=languages)
    return None if day is None else (day, day)

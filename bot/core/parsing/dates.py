"""Dates: the English fast-path grammar, numeric dates, and ``parse_date``."""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Final

from bot.core.parsing.durations import _WORD_NUMBER
from bot.core.parsing.fallback import _TOKEN_STRIP, _dateparser_date, _is_english, _vocabulary
from bot.core.parsing.words import (
    _AMPM_RE,
    _CLOCK_RE,
    _FLAGS,
    _FUNCTION_WORDS,
    _MONTHS,
    _ORDINAL_WORDS,
    _PART_OF_DAY_RE,
    _REL_DAYS,
    _WEEKDAYS,
    _WEEKDAYS_FULL,
    DateOrder,
    _alternation,
    _at_end,
    _next_word,
    _norm_words,
    _number_word_value,
)

_MONTH_RE: Final = rf"(?:{_alternation(_MONTHS)})\b\.?"
_WD_FULL_RE: Final = rf"(?:{_alternation(_WEEKDAYS_FULL)})\b"
_WD_ANY_RE: Final = rf"(?:{_alternation(_WEEKDAYS)})\b\.?"
_ORDINAL_RE: Final = rf"(?:{_alternation(_ORDINAL_WORDS)})\b"
_DAY_NUM_RE: Final = r"(?:\d{1,2}(?:st|nd|rd|th)?(?![\d:]))"
_COUNT_RE: Final = rf"(?:\d{{1,3}}|{_WORD_NUMBER}|(?:a\s+)?couple\s+of|an?)"
# A time of day that cannot be a duration: two digits for the hour ('09:30', '13:00').
_CLOCK_24_RE: Final = r"(?:(?:[01]\d|2[0-3]):[0-5]\d(?![\d:]))"
_AGO_UNIT_RE: Final = (
    r"(?:fortnights?|weeks?|wks?|w|days?|d|months?|mos?|years?|yrs?|y"
    r"|hours?|hrs?|h|minutes?|mins?)"
)


def _time_suffix(*, whole: bool) -> str:
    if whole:
        clock = rf"(?:(?:at|@)\s*)?(?:{_AMPM_RE}|{_CLOCK_RE}|noon|midday|midnight"
        clock += r"|(?:at|@)\s*(?:[01]?\d|2[0-3])(?![\d:]))"
    else:  # In a sentence a bare '1:30' may be a duration typed without its unit; '13:00'
        # and '09:30' are times of day, and next to a date they belong to it.
        clock = (
            rf"(?:(?:at|@)\s*)?(?:{_AMPM_RE}|{_CLOCK_24_RE})"
            rf"|(?:at|@)\s*(?:{_CLOCK_RE}|noon|midday|midnight)"
        )
    return rf"(?:(?:(?>\s*,?\s*)(?:{clock})|\s++{_PART_OF_DAY_RE}){{0,2}})"


def _time_prefix(*, whole: bool) -> str:
    clock = rf"(?:{_AMPM_RE}|{_CLOCK_RE})" if whole else rf"(?:{_AMPM_RE}|{_CLOCK_24_RE})"
    return rf"(?:(?:(?:at|@)\s*)?{clock}(?:\s*+,\s*+|\s++)(?:on\s+)?)?"


def _date_pattern(*, whole: bool) -> re.Pattern[str]:
    """The English fast-path grammar. ``whole``: the text is only a date (parse_date)."""
    # In a sentence ('quick'), be stricter so titles keep their words and numbers:
    # no 'now', no 'sat'/'sun' without last/this/next ('sat the exam', 'sun safety'),
    # no ordinal words except in 'the first of May', dotted/dashed d.m only with a year.
    wd_quick = rf"(?:{_WD_FULL_RE}|(?!sat\b|sun\b){_WD_ANY_RE}|(?(wd_mod){_WD_ANY_RE}|(?!)))"
    rel = _alternation([k for k in _REL_DAYS if whole or k not in ("now", "just now", "right now")])
    dm_day = (
        rf"(?:(?P<dm_d>{_DAY_NUM_RE})|(?P<dm_w>{_ORDINAL_RE}))(?:\s+of)?"
        if whole
        else rf"(?:(?P<dm_d>{_DAY_NUM_RE})(?:\s+of)?|(?P<dm_w>{_ORDINAL_RE})\s+of)"
    )
    md_day = rf"(?P<md_d>{_DAY_NUM_RE})" + (rf"|(?P<md_w>{_ORDINAL_RE})" if whole else "")
    core = rf"""
        (?P<nth>(?P<nth_n>first|second|third|fourth|fifth|last|1st|2nd|3rd|4th|5th)\s+
            (?P<nth_wd>{_WD_ANY_RE})\s+(?:of|in)\s+
            (?:(?P<nth_mod>last|this|next)\s+month|(?P<nth_mon>{_MONTH_RE})(?:,?\s+(?P<nth_y>\d{{4}}))?)
        )
      | (?P<dm>(?:{_WD_ANY_RE},?\s+)?(?:the\s+)?{dm_day}[\s-]*+(?P<dm_m>{_MONTH_RE})
            (?:,?[\s-]*+(?P<dm_y>\d{{4}})(?!\d))?)
      | (?P<md>(?:{_WD_ANY_RE},?\s+)?(?P<md_m>{_MONTH_RE})[\s-]*+(?:the\s+)?(?:{md_day})
            (?:,?\s+(?P<md_y>\d{{4}})(?!\d))?)
      | (?P<iso>(?P<iso_y>\d{{4}})(?P<iso_s>[-/.])(?P<iso_m>\d{{1,2}})
            (?P=iso_s)(?P<iso_d>\d{{1,2}})(?!\d))
      | (?P<num>(?P<n1>\d{{1,2}})(?P<n_s>[/.\-])(?P<n2>\d{{1,2}})
            (?:(?P=n_s)(?P<n3>\d{{4}}|\d{{2}}))?(?![\d/]))
      | (?P<rel>{rel})(?:['’]s\b)?
      | (?P<off>(?P<off_n>{_COUNT_RE})\s*(?P<off_u>fortnights?|weeks?|days?|months?|years?)
            \s+(?P<off_dir>before|after)\s+(?:the\s+day\s+)?(?P<off_base>yesterday|today|tomorrow))
      | (?P<ago>(?:(?:about|around|roughly|some)\s+)?(?P<ago_n>{_COUNT_RE})\s*
            (?P<ago_u>{_AGO_UNIT_RE})\s+(?:ago|before|back|earlier))
      | (?P<infut>in\s+(?P<in_n>{_COUNT_RE})\s*(?P<in_u>fortnights?|weeks?|w|days?|d|months?|years?)
            (?:['’]?s?\s+time)?\b)
      | (?P<wd>(?:(?P<wd_mod>this\s+past|last|past|this|next)\s+)?
            (?P<wd_name>{_WD_ANY_RE if whole else wd_quick})
            (?:\s+(?:of\s+)?(?P<wk_mod>last|this|next)\s+week)?)
    """
    if whole:
        core += rf"""
      | (?P<ord>(?:the\s+)?(?:(?P<ord_d>\d{{1,2}}(?:st|nd|rd|th))|(?P<ord_w>{_ORDINAL_RE}))
            (?:\s+of\s+(?:this|the)\s+month)?)
        """
    pattern = rf"""
        (?<![\w/.:\-])
        {_time_prefix(whole=whole)}
        (?:{core})
        {_time_suffix(whole=whole)}
        (?![^\W_]|[/.:]\d|-\w)  # not inside '2026-03-03x', '21/11/2', 'Mon-Fri'

    """
    return re.compile(pattern, _FLAGS)


_DATE_WHOLE_RE: Final = _date_pattern(whole=True)
_DATE_QUICK_RE: Final = _date_pattern(whole=False)

_REJECT: Final = object()  # fast path recognised the form, but it is not a valid date


def _days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _most_recent(month: int, day: int, today: date) -> date | None:
    """The latest ``day``/``month`` not after ``today``; 29 Feb looks back to a leap year."""
    if not 1 <= month <= 12 or not 1 <= day <= _days_in_month(2000, month):
        return None
    for year in range(today.year, today.year - 9, -1):
        if day <= _days_in_month(year, month):
            candidate = date(year, month, day)
            if candidate <= today:
                return candidate
    return None  # pragma: no cover - a leap year comes within 8 years


def _next_after(month: int, day: int, today: date) -> date | None:
    """The first ``day``/``month`` after ``today``; 29 Feb looks ahead to a leap year."""
    if not 1 <= month <= 12 or not 1 <= day <= _days_in_month(2000, month):
        return None
    for year in range(today.year, today.year + 9):
        if day <= _days_in_month(year, month):
            candidate = date(year, month, day)
            if candidate > today:
                return candidate
    return None  # pragma: no cover - a leap year comes within 8 years


def _yearless(month: int, day: int, today: date, *, ahead: bool) -> date | None:
    """A day and month without a year: the latest not after ``today``, or with ``ahead``
    the first after it."""
    return (_next_after if ahead else _most_recent)(month, day, today)


def _ymd(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _full_year(two_digits: int, today: date) -> int:
    year = 2000 + two_digits
    return year if year <= today.year + 20 else year - 100


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(d.day, _days_in_month(year, month)))


def _day_number(digits: str | None, words: str | None) -> int | None:
    if digits:
        return int(re.sub(r"\D", "", digits))
    if words:
        return _ORDINAL_WORDS.get(_norm_words(words))
    return None


def _month_number(text: str) -> int:
    return _MONTHS[text.rstrip(".").lower()]


def _weekday_number(text: str) -> int:
    return _WEEKDAYS[text.rstrip(".").lower()]


def _count_value(text: str) -> int | None:
    text = _norm_words(text)
    if text.isdigit():
        return int(text)
    return _number_word_value(text)


def _group(m: re.Match[str], name: str) -> str | None:
    """A group that only one of the two date grammars has."""
    return m.groupdict().get(name)


def _date_from_match(
    m: re.Match[str], today: date, date_order: DateOrder, *, whole: bool, ahead: bool = False
) -> date | object | None:
    """The date a fast-path match means; ``_REJECT`` for an impossible one like 31/02.
    ``ahead``: a day without a year, or a weekday alone, is the next one (see parse_date)."""
    if m.group("dm") or m.group("md"):
        p = "dm" if m.group("dm") else "md"
        month = _month_number(m.group(f"{p}_m"))
        day = _day_number(m.group(f"{p}_d"), _group(m, f"{p}_w"))
        if day is None:
            return _REJECT
        year = m.group(f"{p}_y")
        result = _ymd(int(year), month, day) if year else _yearless(month, day, today, ahead=ahead)
        return _REJECT if result is None else result
    if m.group("iso"):
        result = _ymd(int(m.group("iso_y")), int(m.group("iso_m")), int(m.group("iso_d")))
        return _REJECT if result is None else result
    if m.group("num"):
        return _numeric_date(m, today, date_order, whole=whole, ahead=ahead)
    if m.group("rel") is not None:
        return today + timedelta(days=_REL_DAYS[_norm_words(m.group("rel"))])
    if m.group("ago") or m.group("infut"):
        return _relative_offset(m, today)
    if m.group("off"):  # '2 days before yesterday', '2 weeks after today'
        return _offset_from(m, today)
    if m.group("wd"):
        return _weekday_date(m, today, ahead=ahead)
    if m.group("nth"):
        return _nth_weekday(m, today, ahead=ahead)
    if _group(m, "ord"):
        day = _day_number(m.group("ord_d"), m.group("ord_w"))
        return _REJECT if day is None else _day_of_month(day, today, ahead=ahead)
    return None  # pragma: no cover - every alternative is handled above


_VERSION_BEFORE_RE: Final = re.compile(
    r"\b(?:v|vers?|version|release|build|rev|revision|firmware|fw)\.?\s*[:#]?\s*$", re.IGNORECASE
)


def _numeric_date(
    m: re.Match[str], today: date, date_order: DateOrder, *, whole: bool, ahead: bool = False
) -> date | object | None:
    a, b, sep, c = m.group("n1"), m.group("n2"), m.group("n_s"), m.group("n3")
    if not whole:
        # In a sentence, 'pages 10-12', 'version 2.1', '24/7' and '1/2 day' are not dates.
        following = m.string[m.end() : m.end() + 8].lower()
        if (sep != "/" and c is None) or (a, b, c) == ("24", "7", None):
            return None
        if re.match(r"\s*(?:days?|hours?|hrs?|h\b|weeks?|an?\s+hour)", following):
            return None
        if _VERSION_BEFORE_RE.search(m.string, 0, m.start()):  # 'Version: 1.10.30'
            return None
    if c is not None and date_order == "YMD":
        year, month, day = _full_year(int(a), today), int(b), int(c)
    else:
        if date_order in ("MDY", "YMD"):  # YMD writes month/day when the year is left out
            month, day = int(a), int(b)
        else:
            day, month = int(a), int(b)
        if c is None:
            result = _yearless(month, day, today, ahead=ahead)
            return _REJECT if result is None else result
        year = int(c) if len(c) == 4 else _full_year(int(c), today)
    result = _ymd(year, month, day)
    return _REJECT if result is None else result


def _relative_offset(m: re.Match[str], today: date) -> date | object:
    future = bool(m.group("infut"))
    count = _count_value(m.group("in_n") if future else m.group("ago_n"))
    unit = (m.group("in_u") if future else m.group("ago_u")).lower()
    if count is None:
        return _REJECT
    sign = 1 if future else -1
    if unit.startswith(("h", "mi")):  # hours/minutes ago: counted from noon, like dateparser
        delta = timedelta(hours=count) if unit.startswith("h") else timedelta(minutes=count)
        return (datetime.combine(today, time(12)) + sign * delta).date()
    if unit.startswith("f"):
        return today + timedelta(days=sign * 14 * count)
    if unit.startswith("w"):
        return today + timedelta(days=sign * 7 * count)
    if unit.startswith("d"):
        return today + timedelta(days=sign * count)
    if unit.startswith("m"):
        return _add_months(today, sign * count)
    return _add_months(today, sign * 12 * count)


def _offset_from(m: re.Match[str], today: date) -> date | object:
    count = _count_value(m.group("off_n"))
    if count is None:
        return _REJECT
    base = today + timedelta(days=_REL_DAYS[m.group("off_base").lower()])
    sign = -1 if m.group("off_dir").lower() == "before" else 1
    unit = m.group("off_u").lower()
    if unit.startswith("m"):
        return _add_months(base, sign * count)
    if unit.startswith("y"):
        return _add_months(base, sign * 12 * count)
    days = {"f": 14, "w": 7, "d": 1}[unit[0]]
    return base + timedelta(days=sign * days * count)


def _weekday_date(m: re.Match[str], today: date, *, ahead: bool = False) -> date:
    weekday = _weekday_number(m.group("wd_name"))
    week_mod = (m.group("wk_mod") or "").lower()
    if week_mod:  # 'Tuesday of last week': weeks run Monday to Sunday
        monday = today - timedelta(days=today.weekday())
        shift = {"last": -7, "this": 0, "next": 7}[week_mod]
        return monday + timedelta(days=shift + weekday)
    mod = _norm_words(m.group("wd_mod") or "")
    if ahead and mod in ("", "this"):  # looking ahead, 'Friday' is the coming one
        mod = "next"
    if mod in ("last", "past", "this past"):  # strictly before today
        return today - timedelta(days=(today.weekday() - weekday - 1) % 7 + 1)
    if mod == "next":  # strictly after today
        return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)
    if mod == "this":  # in the current Monday-to-Sunday week
        return today + timedelta(days=weekday - today.weekday())
    return today - timedelta(days=(today.weekday() - weekday) % 7)  # latest, today included


def _nth_weekday(m: re.Match[str], today: date, *, ahead: bool = False) -> date | object:
    """'first Monday of last month', 'last Friday of October' (the latest October; with
    ``ahead`` the next one)."""
    weekday = _weekday_number(m.group("nth_wd"))
    which = m.group("nth_n").lower()
    if m.group("nth_mon"):
        month = _month_number(m.group("nth_mon"))
        if m.group("nth_y"):
            return _nth_weekday_in(int(m.group("nth_y")), month, weekday, which)
        found = _nth_weekday_in(today.year, month, weekday, which)
        if isinstance(found, date) and (found <= today if ahead else found > today):
            found = _nth_weekday_in(today.year + (1 if ahead else -1), month, weekday, which)
        return found
    shift = {"last": -1, "this": 0, "next": 1}[m.group("nth_mod").lower()]
    first = _add_months(today.replace(day=1), shift)
    return _nth_weekday_in(first.year, first.month, weekday, which)


def _nth_weekday_in(year: int, month: int, weekday: int, which: str) -> date | object:
    days = [
        date(year, month, d)
        for d in range(1, _days_in_month(year, month) + 1)
        if date(year, month, d).weekday() == weekday
    ]
    if which == "last":
        return days[-1]
    index = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4}.get(which)
    index = int(which[0]) - 1 if index is None else index
    return days[index] if index < len(days) else _REJECT


def _day_of_month(day: int, today: date, *, ahead: bool = False) -> date | object:
    """'the 5th': the latest 5th not after ``today``, or with ``ahead`` the first after it."""
    if not 1 <= day <= 31:
        return _REJECT
    step = 1 if ahead else -1
    first = today.replace(day=1)
    for months in range(13):
        month = _add_months(first, step * months)
        if day <= _days_in_month(month.year, month.month):
            candidate = month.replace(day=day)
            if (candidate > today) if ahead else (candidate <= today):
                return candidate
    return _REJECT  # pragma: no cover


def _find_fast_date(text: str, today: date, date_order: DateOrder) -> tuple[date, int, int] | None:
    pos = 0
    while (m := _DATE_QUICK_RE.search(text, pos)) is not None:
        result = _date_from_match(m, today, date_order, whole=False)
        if isinstance(result, date):
            return result, m.start(), m.end()
        pos = m.start() + 1
    return _find_ordinal_day(text, today)


# A day of the month alone in a sentence: 'on the 2nd', 'the 25th', 'on 14th', 'on the
# first', 'on the 2nd of' (with nothing after), '... 14th' at the end of the line.
_ORDINAL_QUICK_RE: Final = re.compile(
    rf"""
    (?<![\w/.:\-])
    (?:(?P<on>on\s+)(?P<on_the>the\s+)?|(?P<the>the\s+))?
    (?:(?P<ord_d>\d{{1,2}}(?:st|nd|rd|th))|(?P<ord_w>{_ORDINAL_RE}))
    (?P<of>\s+of(?P<month>\s+(?:this|the)\s+month)?)?
    (?![^\W_]|[/.:]\d|-\w)
    """,
    _FLAGS,
)


_ORDINAL_HINT_RE: Final = re.compile(r"\d(?:st|nd|rd|th)|\bon\s+the\s", re.IGNORECASE)


def _ordinal_is_a_day(m: re.Match[str]) -> bool:
    """'on the 2nd', 'the 25th with Bob' and 'report 14th' are days; '2nd edition', 'the
    4th floor', '21st century', '3rd party', 'first aid', 'the 2nd of three' are not."""
    text, end = m.string, m.end()
    if m.group("ord_w") and not (m.group("on") and m.group("on_the")):
        return False  # words only in 'on the first': 'the first step' is not a day
    if m.group("of") and not m.group("month"):
        return _at_end(text, end)  # 'on the 2nd of' at the end, not 'the 1st of many'
    if not (m.group("on") or m.group("the")):
        return _at_end(text, end)  # a bare '14th' only at the end of the line
    following = _next_word(text, end)
    return following is None or following in _FUNCTION_WORDS


def _find_ordinal_day(text: str, today: date) -> tuple[date, int, int] | None:
    """The latest such day of the month not after ``today`` ('the 30th' on 1 March is 30
    January), and where it is ('on' excluded)."""
    pos = 0 if _ORDINAL_HINT_RE.search(text) else len(text)
    while (m := _ORDINAL_QUICK_RE.search(text, pos)) is not None:
        if _ordinal_is_a_day(m):
            result = _day_of_month(_day_number(m.group("ord_d"), m.group("ord_w")) or 0, today)
            if isinstance(result, date):  # the caller drops the 'on' from the title
                return result, m.end("on") if m.group("on") else m.start(), m.end()
        pos = m.start() + 1
    return None


_NUMERIC_QUICK_RE: Final = re.compile(
    r"""
    (?<![\w/.:\-])
    (?:(?P<iso>(?P<iso_y>\d{4})(?P<iso_s>[-/.])(?P<iso_m>\d{1,2})(?P=iso_s)(?P<iso_d>\d{1,2}))
      | (?P<num>(?P<n1>\d{1,2})(?P<n_s>[/.\-])(?P<n2>\d{1,2})(?:(?P=n_s)(?P<n3>\d{4}|\d{2}))?))
    (?![^\W_]|[/.:\-]?\d)
    """,
    re.VERBOSE,
)


def _find_numeric_date(
    text: str, today: date, date_order: DateOrder
) -> tuple[date, int, int] | None:
    """Numeric dates for users whose languages exclude English (the English grammar has them)."""
    pos = 0
    while (m := _NUMERIC_QUICK_RE.search(text, pos)) is not None:
        if m.group("iso"):
            result: date | object | None = _ymd(
                int(m.group("iso_y")), int(m.group("iso_m")), int(m.group("iso_d"))
            )
        else:
            result = _numeric_date(m, today, date_order, whole=False)
        if isinstance(result, date):
            return result, m.start(), m.end()
        pos = m.start() + 1
    return None


# Shapes dateparser reads as a day although nobody means one by them.
_NOT_A_DATE_RE: Final = re.compile(
    r"""
    [^a-z]*%[^a-z]*  # a percentage: '12.53%'
  | \d{1,2}\s+\d{1,2}  # two bare numbers: a time ('3 30') or nothing
  | \d{1,2}(?P<s>[/.\-])\d{1,2}(?P=s)\d  # a one-digit year: '4/13/1'
  | \d{3,4}\s*[/.\-]\s*\d{1,2}  # a year and one number, no month: '2200-25'
  | .*\d\s*(?:st|nd|rd|th)?\s*(?:[-–—]|to|until|till)\s*\d.*  # a range of days: '14-15 Nov'
  | (?:v|vers?|version|release|build|rev|revision|firmware|fw)\.?\s*[:#]?\s*\d.*  # 'Version: 1.1'
  | (?:at\s+)?\d{1,2}(?:[:.]\d{2})?\s*(?:o['’]?clock\s+)?(?:in\s+the\s+)?
      (?:morning|afternoon|evening|night)  # a time alone: 'at 8 in the evening'
    """,
    re.VERBOSE,
)

_DATE_LEAD_RE: Final = re.compile(r"^(?:on|it\s+was)\s+", re.IGNORECASE)


def parse_date(
    text: str,
    *,
    today: date,
    date_order: DateOrder = "DMY",
    languages: Sequence[str] = ("en",),
    ahead: bool = False,
) -> date | None:
    """The date in a phrase that is the whole ``text``, or None if it is not one day.

    'yesterday', 'today', 'last Tuesday', 'Tuesday' (the latest one, today included),
    '3 March', 'March 3rd', '21/11' (day first under DMY), '2026-03-03', '3 days ago',
    'a week ago', 'the day before yesterday'. Future phrases ('tomorrow', 'next Saturday')
    give future dates: refusing them is the caller's job. A day and month without a year is
    the latest such date not after ``today`` ('28/12' on 2026-01-05 is 2025-12-28). A time
    of day is ignored ('yesterday at 3pm'). Impossible dates ('31/02'), periods ('last
    week', 'March 2026') and times alone ('11:30', 'at 8 in the evening') give None, and so
    do numbers that only look like dates ('3 30', '12.53%', 'Version: 1.10.30', '4/13/1').

    ``ahead`` reads a date that is meant to come (until when, by when): a day and month
    without a year is the first such date after ``today`` ('5 January' on 2026-11-22 is
    2027-01-05) and a weekday alone is the coming one. What names its own day keeps it:
    'yesterday', '3 days ago', 'last Friday' and '5 January 2026' stay in the past.
    """
    s = _DATE_LEAD_RE.sub("", " ".join(text.split())).rstrip(".!?")
    if not s:
        return None
    langs = tuple(languages)
    m = _DATE_WHOLE_RE.fullmatch(s)
    if m is not None and (m.group("num") or m.group("iso") or _is_english(langs)):
        result = _date_from_match(m, today, date_order, whole=True, ahead=ahead)
        if isinstance(result, date):
            return result
        if result is _REJECT:
            return None
    lowered = s.lower()
    vocabulary = _vocabulary(langs)
    if not any(ch.isdigit() for ch in lowered) and not any(
        vocabulary.kind(w.strip(_TOKEN_STRIP)) not in (None, "glue") for w in lowered.split()
    ):
        return None  # no digit and no date word: not worth a dateparser call
    if _NOT_A_DATE_RE.fullmatch(lowered):
        return None  # dateparser would guess ('3 30' -> 1930, '12.53%' -> yesterday)
    return _dateparser_date(lowered, today, date_order, langs, "future" if ahead else "past")

"""Pure parsing of what users type: durations, dates and one-line quick entries.

``/log 1.5h webinar on arc-flash safety yesterday #training`` becomes
``QuickEntry(title='Webinar on arc-flash safety', minutes=90, activity_date=<yesterday>,
category_hints=('training',), duration_text='1.5h', date_text='yesterday')``.

Everything here is pure: no I/O and no clock reads (callers pass ``today``). The only module
state is compiled regular expressions, constant tables and ``functools`` caches.

Speed: the forms people actually type are read by the regular expressions below. dateparser
(milliseconds per call, about a second for its first call) is only a fallback, for whole-text
dates that no fast path recognises and, in ``parse_quick``, for at most
``_MAX_FALLBACK_CALLS`` short runs of date-like words (this is what makes other languages
work). ``warm_up()`` pays dateparser's start-up cost before the first user message.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache
from typing import Final, Literal

from dateparser.date import DateDataParser
from dateparser.languages.loader import default_loader

__all__ = [
    "DateOrder",
    "QuickEntry",
    "parse_date",
    "parse_duration",
    "parse_quick",
    "warm_up",
]

DateOrder = Literal["DMY", "MDY", "YMD"]

_FLAGS: Final = re.IGNORECASE | re.VERBOSE

# A bare number (``parse_duration('2')``) is hours up to this value, minutes above it.
_BARE_HOURS_MAX: Final = 24
# dateparser calls that one ``parse_quick`` may make when no fast path found a date.
_MAX_FALLBACK_CALLS: Final = 2
# Positions already claimed (hints, the duration) are overwritten with this character so
# later searches cannot use them; it is neither a word character nor whitespace.
_MASK: Final = "\x1f"


# --------------------------------------------------------------------------------------
# Word tables
# --------------------------------------------------------------------------------------

_UNIT_WORDS: Final = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS_WORDS: Final = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}


def _build_number_words() -> dict[str, int]:
    words = {word: value for value, word in enumerate(_UNIT_WORDS)}
    for tens, tens_value in _TENS_WORDS.items():
        words[tens] = tens_value
        for value in range(1, 10):
            words[f"{tens} {_UNIT_WORDS[value]}"] = tens_value + value
    return words


_NUMBER_WORDS: Final = _build_number_words()
_COUNT_WORDS: Final = {"a": 1, "an": 1, "a couple of": 2, "couple of": 2}

_ORDINAL_UNIT_WORDS: Final = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
]


def _build_ordinal_words() -> dict[str, int]:
    words = {word: value for value, word in enumerate(_ORDINAL_UNIT_WORDS, start=1)}
    for value in range(1, 10):
        words[f"twenty {_ORDINAL_UNIT_WORDS[value - 1]}"] = 20 + value
    words["thirtieth"] = 30
    words["thirty first"] = 31
    return words


_ORDINAL_WORDS: Final = _build_ordinal_words()

_MONTHS: Final = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
_WEEKDAYS_FULL: Final = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
_WEEKDAYS_ABBR: Final = {
    "mon": 0,
    "tues": 1,
    "tue": 1,
    "wed": 2,
    "thurs": 3,
    "thur": 3,
    "thu": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
_WEEKDAYS: Final = {**_WEEKDAYS_FULL, **_WEEKDAYS_ABBR}

_REL_DAYS: Final = {
    "the day before yesterday": -2,
    "day before yesterday": -2,
    "the day after tomorrow": 2,
    "day after tomorrow": 2,
    "yesterday": -1,
    "last night": -1,
    "today": 0,
    "tonight": 0,
    "this morning": 0,
    "this early morning": 0,
    "this afternoon": 0,
    "this evening": 0,
    "now": 0,
    "just now": 0,
    "right now": 0,
    "tomorrow": 1,
}


def _alternation(words: Iterable[str]) -> str:
    """Regex alternation of ``words`` (longest first), spaces matching any whitespace."""
    ordered = sorted(words, key=len, reverse=True)
    return "|".join(re.escape(w).replace(r"\ ", r"[\s-]+") for w in ordered)


def _norm_words(text: str) -> str:
    return re.sub(r"[\s-]+", " ", text.strip().lower())


def _number_word_value(text: str) -> int | None:
    key = _norm_words(text)
    return _NUMBER_WORDS.get(key, _COUNT_WORDS.get(key))


# --------------------------------------------------------------------------------------
# Durations
# --------------------------------------------------------------------------------------

_NOT_LETTER: Final = r"(?![^\W\d_])"
_H_UNIT: Final = r"(?:hours|hour|hrs|hr|h)"
_M_UNIT: Final = r"(?:minutes|minute|mins|min|m)"
_S_UNIT: Final = r"(?:seconds|second|secs|sec|s)"
_DIGITS: Final = r"(?:\d+(?:[.,]\d+)?(?:\s?[½¼¾])?|[½¼¾]|\.\d+)"
_WORD_NUMBER: Final = rf"(?:(?:{_alternation(_NUMBER_WORDS)})\b)"
_FRACTION: Final = r"(?:half|quarter|three[\s-]quarters?)"
_FRACTION_VALUES: Final = {"half": Fraction(1, 2), "quarter": Fraction(1, 4)}
_UNICODE_FRACTIONS: Final = {"½": Fraction(1, 2), "¼": Fraction(1, 4), "¾": Fraction(3, 4)}


def _amount(p: str) -> str:
    """A number (digits or words, 'an', 'a'), optionally 'and a half' / 'and a quarter'."""
    return (
        rf"(?:(?P<{p}_d>{_DIGITS})|(?P<{p}_w>{_WORD_NUMBER}|(?:a\s+)?couple\s+of|an?\b))"
        rf"(?:\s+and\s+(?:an?\s+)?(?P<{p}_f>{_FRACTION}))?"
    )


def _unit_gap(p: str) -> str:
    """Digits may touch their unit ('2h'); words need a space or hyphen ('two hours')."""
    return rf"(?({p}_w)[\s-]++|(?({p}_f)[\s-]++|[\s-]*+))"


_DURATION_RE: Final = re.compile(
    rf"""
    (?<![\w.,:/\-−])
    (?P<sign>[-−](?=[\d.½¼¾]))?  # '-1h', but not the dash in 'Site visit - 4h'
    (?:
        (?P<clock>(?P<c_h>\d{{1,3}}):(?P<c_m>\d{{2}})(?:\s*(?P<c_u>{_H_UNIT}){_NOT_LETTER})?)
      | (?P<half>
            (?:half[\s-](?:an?\s+)?hours?
              | (?:1/2|½)\s*(?:an?\s+)?{_H_UNIT}
              | (?:a\s+)?quarter[\s-](?:of\s+)?(?:an?\s+)?hours?
              | three[\s-]quarters?\s+of\s+an?\s+hour
            ){_NOT_LETTER}
        )
      | (?P<hours>
            {_amount("h")}{_unit_gap("h")}(?:cpd\s++)?(?P<h_u>{_H_UNIT}){_NOT_LETTER}
            (?:(?>\s*,?\s*)and\s+(?:an?\s+)?(?P<h_f2>half|quarter){_NOT_LETTER})?
        )
        (?P<mins>
            (?P<m_gap>(?>\s*,?\s*)(?:and\s+)?)
            {_amount("m")}
            (?:{_unit_gap("m")}(?P<m_u>{_M_UNIT}){_NOT_LETTER})?
        )?
        (?P<secs>(?>\s*,?\s*)(?:and\s+)?(?P<s_n>\d+(?:[.,]\d+)?|{_WORD_NUMBER})[\s-]*+
            (?P<s_u>{_S_UNIT}){_NOT_LETTER})?
      | (?P<minonly>{_amount("n")}{_unit_gap("n")}(?P<n_u>{_M_UNIT}){_NOT_LETTER})
        (?P<secs2>(?>\s*,?\s*)(?:and\s+)?(?P<s2_n>\d+(?:[.,]\d+)?|{_WORD_NUMBER})[\s-]*+
            (?P<s2_u>{_S_UNIT}){_NOT_LETTER})?
    )
    """,
    _FLAGS,
)
_BARE_NUMBER_RE: Final = re.compile(r"(?P<sign>[-−])?(?P<n>\d+(?:[.,]\d+)?|\.\d+)")
# What may follow a spaced bare minute count ('2 hours 10'): the end of the text or punctuation.
_BARE_MINUTES_END_RE: Final = re.compile(rf"\s*(?:$|[,;.!?)\]#{_MASK}])")
_AGO_AFTER_RE: Final = re.compile(r"\s+(?:ago|before|earlier|back)\b", re.IGNORECASE)
_DURATION_LEAD_RE: Final = re.compile(
    r"^(?:for|about|around|approx\.?|approximately|roughly|circa|ca\.?|~)\s*", re.IGNORECASE
)


def _decimal(text: str) -> Fraction | None:
    text = text.replace(" ", "")
    extra = Fraction(0)
    if text and text[-1] in _UNICODE_FRACTIONS:
        extra = _UNICODE_FRACTIONS[text[-1]]
        text = text[:-1]
    if not text:
        return extra
    try:
        return Fraction(Decimal(text.replace(",", "."))) + extra
    except (InvalidOperation, ValueError):
        return None


def _amount_value(m: re.Match[str], p: str) -> Fraction | None:
    digits, words, frac = m.group(f"{p}_d"), m.group(f"{p}_w"), m.group(f"{p}_f")
    if digits is not None:
        value = _decimal(digits)
    else:
        word_value = _number_word_value(words)
        value = None if word_value is None else Fraction(word_value)
    if value is None:
        return None
    if frac:
        value += _FRACTION_VALUES.get(_norm_words(frac), Fraction(3, 4))
    return value


def _round_minutes(value: Fraction) -> int:
    """Round half away from zero (Python's round() would send 2.5 to 2)."""
    magnitude = abs(value)
    rounded = int(magnitude + Fraction(1, 2))
    return -rounded if value < 0 else rounded


def _spaced(m: re.Match[str], amount_group: str, unit_group: str) -> bool:
    return m.end(amount_group) != m.start(unit_group)


def _interpret_duration(m: re.Match[str], text: str, *, quick: bool) -> tuple[Fraction, int] | None:
    """Minutes (unrounded, unsigned) and end position for one regex match, or None."""
    if m.group("clock"):
        if quick and not m.group("c_u"):  # '11:30' in a sentence is a time of day
            return None
        clock_minutes = int(m.group("c_m"))
        if clock_minutes >= 60:
            return None
        return Fraction(int(m.group("c_h")) * 60 + clock_minutes), m.end()
    if m.group("half"):
        phrase = m.group("half").lower()
        if "three" in phrase:
            return Fraction(45), m.end()
        return Fraction(15 if "quarter" in phrase else 30), m.end()
    if m.group("hours"):
        return _interpret_hours(m, text, quick=quick)
    # Minutes only.
    unit = m.group("n_u").lower()
    if len(unit) == 1 and (m.group("n_w") or (quick and _spaced(m, "n_d", "n_u"))):
        return None  # 'a m', or '5 m' in a sentence (metres?)
    value = _amount_value(m, "n")
    if value is None:
        return None
    end = m.end("minonly")
    if m.group("secs2"):
        seconds = _seconds_value(m.group("s2_n"))
        if seconds is not None:
            value += seconds / 60
            end = m.end("secs2")
    return value, end


def _seconds_value(text: str) -> Fraction | None:
    if text[0].isdigit():
        return _decimal(text)
    word_value = _number_word_value(text)
    return None if word_value is None else Fraction(word_value)


def _interpret_hours(m: re.Match[str], text: str, *, quick: bool) -> tuple[Fraction, int] | None:
    if m.group("h_w") and len(m.group("h_u")) == 1:
        return None  # 'a h'
    hours = _amount_value(m, "h")
    if hours is None:
        return None
    if m.group("h_f2"):
        hours += _FRACTION_VALUES[m.group("h_f2").lower()]
    value = hours * 60
    end = m.end("hours")
    if not m.group("mins"):
        return value, end
    minutes = _amount_value(m, "m")
    unit = m.group("m_u")
    accepted = minutes is not None
    if accepted and unit is None:
        # A minute count without its unit: '1h30', '1 hour thirty', '2 hours and 10'.
        compact = m.group("m_gap") == "" and m.group("m_d") is not None
        at_end = _BARE_MINUTES_END_RE.match(text, m.end("mins")) is not None
        whole_number = m.group("m_f") is None and m.group("m_w") not in ("a", "an", "A", "An")
        accepted = whole_number and (compact or at_end) and minutes is not None and minutes < 60
    elif accepted and len(unit) == 1 and (m.group("m_w") or (quick and _spaced(m, "m_d", "m_u"))):
        accepted = False
    if not accepted or minutes is None:
        return value, end
    value += minutes
    end = m.end("mins")
    if unit is not None and m.group("secs"):
        seconds = _seconds_value(m.group("s_n"))
        if seconds is not None:
            value += seconds / 60
            end = m.end("secs")
    return value, end


def _signed(m: re.Match[str], value: Fraction) -> int:
    return _round_minutes(-value if m.group("sign") else value)


def _find_duration(text: str) -> tuple[int, int, int] | None:
    """First duration with a unit anywhere in ``text``: (minutes, start, end)."""
    pos = 0
    while (m := _DURATION_RE.search(text, pos)) is not None:
        found = _interpret_duration(m, text, quick=True)
        if found is not None and not _AGO_AFTER_RE.match(text, found[1]):
            return _signed(m, found[0]), m.start(), found[1]
        pos = m.start() + 1
    return None


def parse_duration(text: str) -> int | None:
    """Minutes in a duration phrase that is the whole ``text``, or None if it is not one.

    '1.5h', '1,5h', '90m', '1h30', '1:30', '1 hour 30 minutes', 'an hour and a half',
    'half an hour', '2 hrs', '2-hour', '1.5 CPD hours'. A bare number is hours up to 24
    ('2', '1.5') and minutes above ('45'). '0h' gives 0 and '-2h' gives -120, so the caller
    can say that the time must be positive. Days, weeks and longer are not read (None): a
    'day' of CPD is not 24 hours. The result is rounded to whole minutes, halves away from
    zero.
    """
    s = " ".join(text.split())
    s = _DURATION_LEAD_RE.sub("", s).rstrip(".!?")
    if not s:
        return None
    bare = _BARE_NUMBER_RE.fullmatch(s)
    if bare is not None:
        number = _decimal(bare.group("n"))
        if number is None:
            return None
        value = number * 60 if number <= _BARE_HOURS_MAX else number
        return _round_minutes(-value if bare.group("sign") else value)
    m = _DURATION_RE.fullmatch(s)
    if m is None:
        return None
    found = _interpret_duration(m, s, quick=False)
    if found is None or found[1] != len(s):
        return None
    return _signed(m, found[0])


# --------------------------------------------------------------------------------------
# Dates: English fast paths
# --------------------------------------------------------------------------------------

_MONTH_RE: Final = rf"(?:{_alternation(_MONTHS)})\b\.?"
_WD_FULL_RE: Final = rf"(?:{_alternation(_WEEKDAYS_FULL)})\b"
_WD_ANY_RE: Final = rf"(?:{_alternation(_WEEKDAYS)})\b\.?"
_ORDINAL_RE: Final = rf"(?:{_alternation(_ORDINAL_WORDS)})\b"
_DAY_NUM_RE: Final = r"(?:\d{1,2}(?:st|nd|rd|th)?(?![\d:]))"
_COUNT_RE: Final = rf"(?:\d{{1,3}}|{_WORD_NUMBER}|(?:a\s+)?couple\s+of|an?)"
_AGO_UNIT_RE: Final = (
    r"(?:fortnights?|weeks?|wks?|w|days?|d|months?|mos?|years?|yrs?|y"
    r"|hours?|hrs?|h|minutes?|mins?)"
)
_AMPM_RE: Final = r"(?:\d{1,2}(?::[0-5]\d)?\s*(?:a\.m\.|p\.m\.|am|pm)(?![^\W\d_]))"
_CLOCK_RE: Final = r"(?:(?:[01]?\d|2[0-3])[:.h][0-5]\d(?!\d))"
_PART_OF_DAY_RE: Final = (
    r"(?:(?:in\s+the\s+)?(?:early\s+)?(?:morning|afternoon|evening|night)|lunchtime"
    r"|at\s+lunch(?:time)?)\b"  # not bare 'lunch': 'lunch and learn' is a CPD format
)


def _time_suffix(*, whole: bool) -> str:
    if whole:
        clock = rf"(?:(?:at|@)\s*)?(?:{_AMPM_RE}|{_CLOCK_RE}|noon|midday|midnight"
        clock += r"|(?:at|@)\s*(?:[01]?\d|2[0-3])(?![\d:]))"
    else:  # In a sentence a bare '1:30' may be a duration typed without its unit.
        clock = rf"(?:(?:at|@)\s*)?{_AMPM_RE}|(?:at|@)\s*(?:{_CLOCK_RE}|noon|midday|midnight)"
    return rf"(?:(?:(?>\s*,?\s*)(?:{clock})|\s++{_PART_OF_DAY_RE}){{0,2}})"


def _time_prefix(*, whole: bool) -> str:
    clock = rf"(?:{_AMPM_RE}|{_CLOCK_RE})" if whole else _AMPM_RE
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
# A time of day and nothing else ('11:30', 'at 3pm', 'noon'): not a date.
_TIME_ONLY_RE: Final = re.compile(
    rf"(?:(?:at|@)\s*)?(?:{_AMPM_RE}|{_CLOCK_RE}|noon|midday|midnight|{_PART_OF_DAY_RE})",
    _FLAGS,
)
_ONLY_DIGITS_RE: Final = re.compile(r"[-−]?\d+(?:[.,]\d+)?")

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
    m: re.Match[str], today: date, date_order: DateOrder, *, whole: bool
) -> date | object | None:
    """The date a fast-path match means; ``_REJECT`` for an impossible one like 31/02."""
    if m.group("dm") or m.group("md"):
        p = "dm" if m.group("dm") else "md"
        month = _month_number(m.group(f"{p}_m"))
        day = _day_number(m.group(f"{p}_d"), _group(m, f"{p}_w"))
        if day is None:
            return _REJECT
        year = m.group(f"{p}_y")
        result = _ymd(int(year), month, day) if year else _most_recent(month, day, today)
        return _REJECT if result is None else result
    if m.group("iso"):
        result = _ymd(int(m.group("iso_y")), int(m.group("iso_m")), int(m.group("iso_d")))
        return _REJECT if result is None else result
    if m.group("num"):
        return _numeric_date(m, today, date_order, whole=whole)
    if m.group("rel") is not None:
        return today + timedelta(days=_REL_DAYS[_norm_words(m.group("rel"))])
    if m.group("ago") or m.group("infut"):
        return _relative_offset(m, today)
    if m.group("wd"):
        return _weekday_date(m, today)
    if m.group("nth"):
        return _nth_weekday(m, today)
    if _group(m, "ord"):
        day = _day_number(m.group("ord_d"), m.group("ord_w"))
        return _REJECT if day is None else _most_recent_day_of_month(day, today)
    return None  # pragma: no cover - every alternative is handled above


def _numeric_date(
    m: re.Match[str], today: date, date_order: DateOrder, *, whole: bool
) -> date | object | None:
    a, b, sep, c = m.group("n1"), m.group("n2"), m.group("n_s"), m.group("n3")
    if not whole:
        # In a sentence, 'pages 10-12', 'version 2.1', '24/7' and '1/2 day' are not dates.
        following = m.string[m.end() : m.end() + 8].lower()
        if (sep != "/" and c is None) or (a, b, c) == ("24", "7", None):
            return None
        if re.match(r"\s*(?:days?|hours?|hrs?|h\b|weeks?|an?\s+hour)", following):
            return None
    if c is not None and date_order == "YMD":
        year, month, day = _full_year(int(a), today), int(b), int(c)
    else:
        if date_order in ("MDY", "YMD"):  # YMD writes month/day when the year is left out
            month, day = int(a), int(b)
        else:
            day, month = int(a), int(b)
        if c is None:
            result = _most_recent(month, day, today)
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


def _weekday_date(m: re.Match[str], today: date) -> date:
    weekday = _weekday_number(m.group("wd_name"))
    week_mod = (m.group("wk_mod") or "").lower()
    if week_mod:  # 'Tuesday of last week': weeks run Monday to Sunday
        monday = today - timedelta(days=today.weekday())
        shift = {"last": -7, "this": 0, "next": 7}[week_mod]
        return monday + timedelta(days=shift + weekday)
    mod = _norm_words(m.group("wd_mod") or "")
    if mod in ("last", "past", "this past"):  # strictly before today
        return today - timedelta(days=(today.weekday() - weekday - 1) % 7 + 1)
    if mod == "next":  # strictly after today
        return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)
    if mod == "this":  # in the current Monday-to-Sunday week
        return today + timedelta(days=weekday - today.weekday())
    return today - timedelta(days=(today.weekday() - weekday) % 7)  # latest, today included


def _nth_weekday(m: re.Match[str], today: date) -> date | object:
    """'first Monday of last month', 'last Friday of October' (the latest October)."""
    weekday = _weekday_number(m.group("nth_wd"))
    which = m.group("nth_n").lower()
    if m.group("nth_mon"):
        month = _month_number(m.group("nth_mon"))
        if m.group("nth_y"):
            return _nth_weekday_in(int(m.group("nth_y")), month, weekday, which)
        found = _nth_weekday_in(today.year, month, weekday, which)
        if isinstance(found, date) and found > today:
            found = _nth_weekday_in(today.year - 1, month, weekday, which)
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


def _most_recent_day_of_month(day: int, today: date) -> date | object:
    if not 1 <= day <= 31:
        return _REJECT
    year, month = today.year, today.month
    for _ in range(13):
        if day <= _days_in_month(year, month) and date(year, month, day) <= today:
            return date(year, month, day)
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return _REJECT  # pragma: no cover


def _find_fast_date(text: str, today: date, date_order: DateOrder) -> tuple[date, int, int] | None:
    pos = 0
    while (m := _DATE_QUICK_RE.search(text, pos)) is not None:
        result = _date_from_match(m, today, date_order, whole=False)
        if isinstance(result, date):
            return result, m.start(), m.end()
        pos = m.start() + 1
    return None


# --------------------------------------------------------------------------------------
# Dates: dateparser fallback
# --------------------------------------------------------------------------------------


def _is_english(languages: tuple[str, ...]) -> bool:
    return any(lang.lower().split("-")[0] == "en" for lang in languages)


@lru_cache(maxsize=32)
def _dateparser(languages: tuple[str, ...], date_order: str, today: date) -> DateDataParser:
    settings = {
        "PREFER_DATES_FROM": "past",
        "RELATIVE_BASE": datetime.combine(today, time(12)),
        "DATE_ORDER": date_order,
        "RETURN_AS_TIMEZONE_AWARE": False,
        "PREFER_DAY_OF_MONTH": "first",
        # No 'timestamp' and 'no-spaces-time': they read bare numbers like '1130' as dates.
        "PARSERS": ["relative-time", "custom-formats", "absolute-time"],
    }
    return DateDataParser(languages=list(languages), settings=settings)


@lru_cache(maxsize=512)
def _dateparser_date(
    text: str, today: date, date_order: str, languages: tuple[str, ...]
) -> date | None:
    """dateparser's reading of ``text`` as one day, or None (months, weeks, times of day)."""
    if _ONLY_DIGITS_RE.fullmatch(text) or _TIME_ONLY_RE.fullmatch(text):
        return None  # '45' is not 1945, '11:30' is not a day
    if parse_duration(text) is not None:
        return None  # '1.5h' is not half past ten
    data = _dateparser(languages, date_order, today).get_date_data(text)
    if data.date_obj is None or data.period != "day":
        return None  # 'last month', 'March 2026', 'last week': not one day
    parts: tuple[str, ...] = tuple(getattr(data, "parts", ()))  # dateparser >= 1.5 only
    if parts == ("day",):
        return None  # 'the 3rd of' with no month: too vague
    return data.date_obj.date()


@dataclass(frozen=True)
class _Vocabulary:
    """Date words of some languages, taken from dateparser's own data. They pick the spans
    worth handing to dateparser, and let a text without any skip the call."""

    weekdays: frozenset[str]
    relative: frozenset[str]  # one-word days: 'yesterday', 'gestern', 'hier'
    months: frozenset[str]
    units: frozenset[str]  # 'day', 'tagen', 'semaine'
    direction: frozenset[str]  # 'ago', 'vor', 'in', 'hace'
    modifiers: frozenset[str]  # 'last', 'letzten', 'dernier'
    glue: frozenset[str]  # 'the', 'of', 'um': dropped at the ends of a span

    def kind(self, token: str) -> str | None:
        if re.fullmatch(r"\d{1,4}(?:[./-]\d{1,4}){0,2}\.?(?:st|nd|rd|th|er|e|º)?", token):
            return "digit"
        word = token.rstrip(".")
        for name in _VOCABULARY_KINDS:
            if word in getattr(self, name):
                return name
        return None


# In order of precedence: a word belongs to the first kind that claims it.
_VOCABULARY_KINDS: Final = (
    "weekdays",
    "relative",
    "months",
    "units",
    "direction",
    "modifiers",
    "glue",
)
_WEEKDAY_KEYS: Final = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
]
_MONTH_KEYS: Final = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]


@lru_cache(maxsize=16)
def _vocabulary(languages: tuple[str, ...]) -> _Vocabulary:
    words: dict[str, set[str]] = {name: set() for name in _VOCABULARY_KINDS}
    word_re = re.compile(r"[^\W\d_]+")

    def add(kind: str, phrases: Iterable[str], min_length: int = 1) -> None:
        for phrase in phrases:
            words[kind].update(w for w in word_re.findall(phrase.lower()) if len(w) >= min_length)

    for language in languages:
        info = default_loader.get_locale(language).info
        for key in _WEEKDAY_KEYS:  # short forms ('sat', 'sun', 'mo') are ordinary words too
            add("weekdays", info.get(key, []), min_length=5)
        for key in _MONTH_KEYS:
            add("months", info.get(key, []), min_length=3)
        for key in ("day", "week", "month", "year", "fortnight", "hour", "minute"):
            add("units", info.get(key, []), min_length=2)
        for key in ("ago", "in"):
            add("direction", info.get(key, []))
        for key in ("skip", "pertain"):
            add("glue", info.get(key, []))
        for phrases in info.get("relative-type", {}).values():
            for phrase in phrases:
                found = word_re.findall(phrase.lower())
                if len(found) == 1 and len(found[0]) >= 4:
                    words["relative"].add(found[0])
                else:
                    add("modifiers", [phrase])
        for patterns in info.get("relative-type-regex", {}).values():
            add("direction", patterns, min_length=2)
    claimed: set[str] = set()
    for name in _VOCABULARY_KINDS:
        words[name] -= claimed
        claimed |= words[name]
    return _Vocabulary(**{name: frozenset(found) for name, found in words.items()})


_TOKEN_RE: Final = re.compile(rf"[^\s{_MASK}]+")
_TOKEN_STRIP: Final = ",;:!?()[]{}\"'«»“”‘’"


def _fallback_spans(text: str, vocabulary: _Vocabulary) -> list[tuple[int, int]]:
    """Runs of date-like tokens around a real anchor, for dateparser to read.

    An anchor is a long weekday name, a one-word relative day, a number with a month name
    ('3. März'), or a number with a unit and a direction word ('vor 3 Tagen'). Not 'may'
    alone, not '61850', and not '2 day course' (dateparser reads '2 day' as 2 days ago).
    """
    spans: list[tuple[int, int]] = []
    run: list[tuple[int, int, str]] = []

    def close_run() -> None:
        while run and run[0][2] == "glue":
            run.pop(0)
        while run and run[-1][2] == "glue":
            run.pop()
        kinds = {kind for _, _, kind in run}
        if (
            kinds & {"weekdays", "relative"}
            or {"digit", "months"} <= kinds
            or {"digit", "units", "direction"} <= kinds
        ):
            spans.append((run[0][0], run[-1][1]))
        run.clear()

    for token in _TOKEN_RE.finditer(text):
        raw = token.group()
        word = raw.strip(_TOKEN_STRIP)
        kind = vocabulary.kind(word.lower()) if word else None
        if kind is None:
            close_run()
            continue
        start = token.start() + len(raw) - len(raw.lstrip(_TOKEN_STRIP))
        run.append((start, start + len(word), kind))
        if raw.rstrip(_TOKEN_STRIP) != raw:  # 'gestern,' ends the run
            close_run()
    close_run()
    return spans


def _find_fallback_date(
    text: str, today: date, date_order: DateOrder, languages: tuple[str, ...]
) -> tuple[date, int, int] | None:
    spans = _fallback_spans(text, _vocabulary(languages))
    for start, end in spans[:_MAX_FALLBACK_CALLS]:
        phrase = " ".join(text[start:end].lower().split())
        found = _dateparser_date(phrase, today, date_order, languages)
        if found is not None:
            return found, start, end
    return None


_DATE_LEAD_RE: Final = re.compile(r"^(?:on|it\s+was)\s+", re.IGNORECASE)


def parse_date(
    text: str,
    *,
    today: date,
    date_order: DateOrder = "DMY",
    languages: Sequence[str] = ("en",),
) -> date | None:
    """The date in a phrase that is the whole ``text``, or None if it is not one day.

    'yesterday', 'today', 'last Tuesday', 'Tuesday' (the latest one, today included),
    '3 March', 'March 3rd', '21/11' (day first under DMY), '2026-03-03', '3 days ago',
    'a week ago', 'the day before yesterday'. Future phrases ('tomorrow', 'next Saturday')
    give future dates: refusing them is the caller's job. A day and month without a year is
    the latest such date not after ``today`` ('28/12' on 2026-01-05 is 2025-12-28). A time
    of day is ignored ('yesterday at 3pm'). Impossible dates ('31/02'), periods ('last
    week', 'March 2026') and times alone ('11:30') give None.
    """
    s = _DATE_LEAD_RE.sub("", " ".join(text.split())).rstrip(".!?")
    if not s:
        return None
    langs = tuple(languages)
    m = _DATE_WHOLE_RE.fullmatch(s)
    if m is not None and (m.group("num") or m.group("iso") or _is_english(langs)):
        result = _date_from_match(m, today, date_order, whole=True)
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
    return _dateparser_date(lowered, today, date_order, langs)


# --------------------------------------------------------------------------------------
# Quick entries
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuickEntry:
    """What one line like '1.5h webinar on arc-flash safety yesterday #training' says."""

    title: str | None
    minutes: int | None
    activity_date: date | None
    category_hints: tuple[str, ...]
    duration_text: str | None
    date_text: str | None


_HINT_RE: Final = re.compile(r"(?<!\S)#([^\W\d_][\w-]*)")
_DANGLING_WORDS: Final = frozenset(
    [
        "on",
        "at",
        "for",
        "from",
        "and",
        "about",
        "around",
        "approx",
        "approx.",
        "approximately",
        "roughly",
    ]
)
_DANGLING_PUNCT: Final = "-–—,;:/|.~@"


def _trim_dangling(title: str) -> str:
    """Drop words and punctuation left hanging at the ends: 'Workshop on' -> 'Workshop'."""
    words = title.split()
    while words:
        first, last = words[0], words[-1]
        if first.lower() in _DANGLING_WORDS or not first.strip(_DANGLING_PUNCT + "()"):
            words.pop(0)
        elif last.lower() in _DANGLING_WORDS or not last.strip(_DANGLING_PUNCT + "()"):
            words.pop()
        elif first.lstrip(_DANGLING_PUNCT + ")") != first:
            words[0] = first.lstrip(_DANGLING_PUNCT + ")")
        elif last.rstrip(_DANGLING_PUNCT + "(") != last:
            words[-1] = last.rstrip(_DANGLING_PUNCT + "(")
        else:
            break
    return " ".join(words)


def _mask(text: str, spans: Sequence[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = _MASK * (end - start)
    return "".join(chars)


def _tidy_title(text: str, removed: Sequence[tuple[int, int]]) -> str | None:
    pieces: list[str] = []
    pos = 0
    for start, end in sorted(removed):
        pieces.append(text[pos:start])
        pos = max(pos, end)
    pieces.append(text[pos:])
    title = " ".join(" ".join(pieces).split())
    title = re.sub(r"\(\s*\)|\[\s*\]", " ", title)  # '(2h)' leaves '()'
    title = re.sub(r"\s+([,;:.!?)\]])", r"\1", title)
    title = re.sub(r"([(\[])\s+", r"\1", title)
    title = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", title)
    title = re.sub(r"(\s[-–—|/])(?:\s+[-–—|/])+(?=\s)", r"\1", title)  # 'a - - b'

    title = _trim_dangling(title)
    if not title:
        return None
    return title[0].upper() + title[1:]


def parse_quick(
    text: str,
    *,
    today: date,
    date_order: DateOrder = "DMY",
    languages: Sequence[str] = ("en",),
) -> QuickEntry:
    """Split a one-line entry into title, duration, date and #hints, found anywhere in it.

    A duration needs a unit ('2h', '90 min', '1h30', '1:30h', 'an hour and a half'), so
    numbers in titles ('IEC 61850', 'ISO 9001', 'chapter 5') stay in the title; the first
    one wins. Month names count only next to a day number ('3 May', not 'what may change').
    ``duration_text``/``date_text`` are the exact substrings that were read.
    """
    langs = tuple(languages)
    removed: list[tuple[int, int]] = []
    hints: list[str] = []
    for hint in _HINT_RE.finditer(text):
        hints.append(hint.group(1).rstrip("-").lower())
        removed.append(hint.span())
    masked = _mask(text, removed)

    minutes: int | None = None
    duration_text: str | None = None
    duration = _find_duration(masked)
    if duration is not None:
        minutes, start, end = duration
        duration_text = text[start:end]
        removed.append((start, end))
        masked = _mask(masked, [(start, end)])

    if _is_english(langs):
        found = _find_fast_date(masked, today, date_order)
    else:
        found = _find_numeric_date(masked, today, date_order)
    if found is None:
        found = _find_fallback_date(masked, today, date_order, langs)
    activity_date: date | None = None
    date_text: str | None = None
    if found is not None:
        activity_date, start, end = found
        date_text = text[start:end]
        removed.append((start, end))

    return QuickEntry(
        title=_tidy_title(text, removed),
        minutes=minutes,
        activity_date=activity_date,
        category_hints=tuple(hints),
        duration_text=duration_text,
        date_text=date_text,
    )


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


def warm_up(languages: Sequence[str] = ("en",)) -> None:
    """Load dateparser's language data and compile its patterns for ``languages``, so that
    the first user message does not pay for it (a few hundred milliseconds per language).
    Safe to call more than once."""
    langs = tuple(languages)
    _vocabulary(langs)
    parser = _dateparser(langs, "DMY", date(2000, 6, 15))
    for phrase in ("yesterday", "3 days ago", "3 March 2000", "21/11/2000", "11:30", "friday"):
        parser.get_date_data(phrase)
    parse_quick("warm up 1h yesterday #x", today=date(2000, 6, 15), languages=langs)

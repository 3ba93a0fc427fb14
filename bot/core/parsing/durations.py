"""Durations: '1.5h', '90m', '1h30', 'an hour and a half', 'a full day', '2 days', '1-2pm'
as minutes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Final

from bot.core.parsing.times import _time_range_minutes
from bot.core.parsing.words import (
    _FLAGS,
    _FUNCTION_WORDS,
    _MASK,
    _NUMBER_WORDS,
    _alternation,
    _next_word,
    _norm_words,
    _number_word_value,
)

# A bare number (``parse_duration('2')``) is hours up to this value, minutes above it.
_BARE_HOURS_MAX: Final = 24
# A CPD day when the caller does not say (the scheme's or the person's ``day_hours``).
DAY_MINUTES: Final = 420
# More days than this is not one activity's length ('30 days'): the bot asks for hours.
_DAY_COUNT_MAX: Final = 10

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
# Every duration has digits before its unit's first letter or a unit word ('1h', '90 min',
# '2-hour', 'an hour', 'half an hour', 'ten mins').
_DURATION_HINT_RE: Final = re.compile(
    r"(?:\d[\d.,:]*[\s-]*(?:h|hrs?|m|mins?)|(?<![^\W\d_])(?:hours?|hrs?|minutes?|mins?))"
    r"(?![^\W\d_])|[½¼¾]|\d(?:hours?|minutes?)",
    re.IGNORECASE,
)
_BARE_NUMBER_RE: Final = re.compile(r"(?P<sign>[-−])?(?P<n>\d+(?:[.,]\d+)?|\.\d+)")
# What may follow a spaced bare minute count ('2 hours 10'): the end of the text or punctuation.
_BARE_MINUTES_END_RE: Final = re.compile(rf"\s*(?:$|[,;.!?)\]#{_MASK}])")
_AGO_AFTER_RE: Final = re.compile(r"\s+(?:ago|before|earlier|back)\b", re.IGNORECASE)
_VAGUE_BEFORE_RE: Final = re.compile(r"\d\s+(?:to|or)\s+$", re.IGNORECASE)
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


def _find_duration(text: str, pos: int = 0) -> tuple[int, int, int] | None:
    """First duration with a unit in ``text`` from ``pos``: (minutes, start, end)."""
    if pos and not _DURATION_HINT_RE.search(text, pos):
        return None  # no digit and no unit word: the long search would find nothing
    while (m := _DURATION_RE.search(text, pos)) is not None:
        found = _interpret_duration(m, text, quick=True)
        vague = _VAGUE_BEFORE_RE.search(text, 0, m.start())  # '2 to 3 hours': asked
        if found is not None and not vague and not _AGO_AFTER_RE.match(text, found[1]):
            return _signed(m, found[0]), m.start(), found[1]
        pos = m.start() + 1
    return None


_DAYS_RE: Final = re.compile(
    rf"""
    (?<![\w/.,:\-−])
    (?:
        (?P<whole>(?:an?\s+)?(?:full|whole|entire)[\s-]+day|all[\s-]+day)
      | (?P<half>(?:an?\s+)?half[\s-]+(?:an?\s+)?day
            | (?:all|(?:the\s+)?(?:whole|entire))[\s-]+(?:morning|afternoon)
            | (?:(?<=\bspent\s)|(?<=\bspend\s))(?:the|a)\s+(?:morning|afternoon))
      | (?P<count>(?P<n>\d{{1,2}}(?:[.,]5)?|{_WORD_NUMBER}|(?:a\s+)?couple\s+of)
            [\s-]+(?:(?:full|whole)\s+)?(?P<unit>days?))
    )
    (?![^\W_]|-\w)
    """,
    _FLAGS,
)
_DAY_WORD_RE: Final = re.compile(  # cheap test
    r"(?<![^\W\d_])(?:days?|morning|afternoon)(?![^\W\d_])", re.IGNORECASE
)
# After a day count, these make it a date ('2 days ago', 'two days before yesterday').
_DAYS_NOT_AFTER_RE: Final = re.compile(
    r"\s+(?:ago|before|after|earlier|back|later|from\s+now)\b|['’]s?\s+time\b", re.IGNORECASE
)
_DAYS_NOT_BEFORE_RE: Final = re.compile(r"\b(?:in|within|every|per|for\s+the\s+next)\s+$", re.I)


@dataclass(frozen=True)
class _DayPhrase:
    """A length in days: 'a full day', 'half a day', '2 days', 'a 2-day course'."""

    minutes: int
    days: int | None  # the number stated ('2 days', '2-day'); None for 'full day', 'half day'
    start: int
    end: int
    in_name: bool  # 'a 2-day course': the phrase names the activity ('full day' never does)
    per_day: bool  # 'full day', 'half day', 'all morning': a length for each day of a range


def _day_count(m: re.Match[str]) -> Fraction | None:
    if m.group("whole"):
        return Fraction(1)
    if m.group("half"):
        return Fraction(1, 2)
    text = m.group("n")
    value = _decimal(text) if text[0].isdigit() else _number_word_value(text)
    if value is None or not 0 < value <= _DAY_COUNT_MAX:
        return None
    return Fraction(value)


def _read_days(m: re.Match[str], day_minutes: int) -> _DayPhrase | None:
    count = _day_count(m)
    if count is None:
        return None
    plural = (m.group("unit") or "").lower() == "days"
    following = _next_word(m.string, m.end())  # 'a 2-day course', 'full day workshop'
    before_a_noun = following is not None and following not in _FUNCTION_WORDS
    in_name = bool(m.group("count")) and not plural and before_a_noun
    start = m.start()
    if (
        before_a_noun
        and not m.group("count")
        and (article := re.match(r"an?\s+", m.group(), re.IGNORECASE))
    ):
        start += article.end()  # 'a full day seminar' leaves 'a seminar'
    days = int(count) if m.group("count") and count.denominator == 1 else None
    minutes = _round_minutes(count * day_minutes)
    return _DayPhrase(minutes, days, start, m.end(), in_name, not m.group("count"))


def _find_days(text: str, day_minutes: int = DAY_MINUTES, pos: int = 0) -> _DayPhrase | None:
    """First length in days in a sentence from ``pos``: 'a full day', '2 days', 'all
    morning' (half a day), 'spent the afternoon'. Not '2 days ago', 'in 2 days', '1/2 day'."""
    if not _DAY_WORD_RE.search(text, pos):
        return None
    while (m := _DAYS_RE.search(text, pos)) is not None:
        pos = m.start() + 1
        if _DAYS_NOT_AFTER_RE.match(text, m.end()) or _DAYS_NOT_BEFORE_RE.search(
            text, 0, m.start()
        ):
            continue
        found = _read_days(m, day_minutes)
        if found is not None:
            return found
    return None


def parse_duration(text: str, *, day_minutes: int = DAY_MINUTES) -> int | None:
    """Minutes in a duration phrase that is the whole ``text``, or None if it is not one.

    '1.5h', '1,5h', '90m', '1h30', '1:30', '1 hour 30 minutes', 'an hour and a half',
    'half an hour', '2 hrs', '2-hour', '1.5 CPD hours'. A bare number is hours up to 24
    ('2', '1.5') and minutes above ('45'). '0h' gives 0 and '-2h' gives -120, so the caller
    can say that the time must be positive. The result is rounded to whole minutes, halves
    away from zero.

    Days are CPD days of ``day_minutes`` (the scheme's or person's day, not 24 hours): 'a
    day', 'a full day', 'all day', 'a whole day' are one, 'half a day', 'half-day', 'all
    morning', 'the whole afternoon' half, '2 days', 'two full days', '1.5 days' that many
    (up to 10; '30 days' is None).
    Weeks and longer are not read (None). A time range is its length: '1-2pm' is 60,
    '9:30-11' is 90, 'from 9 to 5' is 480 (rules in ``times``); '2-3 hours' is None (a
    vague duration is asked again, not guessed).
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
        return _whole_days_or_range(s, day_minutes)
    found = _interpret_duration(m, s, quick=False)
    if found is None or found[1] != len(s):
        return None
    return _signed(m, found[0])


def _whole_days_or_range(text: str, day_minutes: int) -> int | None:
    """A length in days or a time range that is the whole ``text``."""
    if re.fullmatch(r"(?:a|one)\s+day", text, re.IGNORECASE):
        return day_minutes
    m = _DAYS_RE.fullmatch(text)
    if m is not None:
        found = _read_days(m, day_minutes)
        return None if found is None else found.minutes
    return _time_range_minutes(text)

"""Durations: '1.5h', '90m', '1h30', 'an hour and a half' as minutes."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Final

from bot.core.parsing.words import (
    _FLAGS,
    _MASK,
    _NUMBER_WORDS,
    _alternation,
    _norm_words,
    _number_word_value,
)

# A bare number (``parse_duration('2')``) is hours up to this value, minutes above it.
_BARE_HOURS_MAX: Final = 24

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

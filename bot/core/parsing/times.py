"""Time ranges read as durations: '1-2pm', '10am-12', '9:30-11', '09:30–11:00', 'from 9 to 5'.

A range is read only when it is clearly one: a side with am/pm ('1-2pm'), with minutes
after a colon ('9:30-11'), or the words 'from … to' / 'between … and' ('from 9 to 5').
So 'pages 10-12', 'chapters 1-2' and 'ISO 9001-2015' are not ranges, and neither is
'2-3 hours': a vague duration is not guessed, it is left for the bot to ask.

Which half of the day a bare hour is in: a side with am/pm fixes its own; a bare side
takes the same half as the other if that makes the end come after the start, else the
other half ('11-1pm' is 11:00-13:00, two hours; '1-2pm' is one hour). Without am/pm on
either side the hours are read as written, and an end hour smaller than the start hour
is taken as afternoon ('from 9 to 5' is eight hours). A bare start moved into the
morning this way must be 6 or later: '2-1pm' (2am to 1pm, or an end before its start)
and 'from 2 to 1' are not read. An hour written with a leading
zero or above 12 ('09:30', '14:00') is a 24-hour time and never moves. A range whose
end still comes before its start ('2pm-1pm', '14:00-13:00', '9:30-9:00'), or that is
longer than 16 hours, is not read.
"""

from __future__ import annotations

import re
from typing import Final

from bot.core.parsing.words import _FLAGS, _FUNCTION_WORDS, _MONTHS, _alternation, _next_word


def _side(p: str) -> str:
    return (
        rf"(?P<{p}_h>\d{{1,2}})(?:(?P<{p}_sep>[:.])(?P<{p}_m>[0-5]\d))?"
        rf"(?:\s*(?P<{p}_ap>a\.?m\.?|p\.?m\.?)(?![^\W\d_]))?"
    )


_TIME_RANGE_RE: Final = re.compile(
    rf"""
    (?<![\w/.:,\-])
    (?:(?P<from>from|between)\s+)?
    {_side("a")}
    (?:\s*[-–—]\s*|\s+(?P<word>to|till|until|and)\s+)
    {_side("b")}
    (?![^\W_]|[/:]\d|[.,]\d|-\w)
    """,
    _FLAGS,
)
# What must not follow a range: a unit ('2-3 hours', a vague duration) or a month ('from
# 14 to 15 Nov', a date range).
_NOT_AFTER_RE: Final = re.compile(
    rf"\s*(?:hours?|hrs?|h\b|minutes?|mins?|days?|weeks?|people|pages?|(?:{_alternation(_MONTHS)})\b)",
    re.IGNORECASE,
)
_MAX_MINUTES: Final = 16 * 60
# A bare start hour taken as morning to come before a later end ('11-1pm') starts by then.
_EARLIEST_MORNING: Final = 6 * 60


def _clock(m: re.Match[str], p: str) -> tuple[int, int, str | None, bool] | None:
    """(hour, minute, 'a'/'p'/None, fixed) for one side; None if it is not a time."""
    text = m.group(f"{p}_h")
    hour, minute = int(text), int(m.group(f"{p}_m") or 0)
    ap = m.group(f"{p}_ap")
    if ap:
        if not 1 <= hour <= 12:
            return None
        return hour % 12 + (12 if ap[0].lower() == "p" else 0), minute, ap[0].lower(), True
    if hour > 23:
        return None
    return hour, minute, None, hour > 12 or hour == 0 or text.startswith("0")


def _has_evidence(m: re.Match[str]) -> bool:
    """Clearly a time range: am/pm, 'h:mm' ('9.30' only with am/pm or on both sides), or
    'from … to' / 'between … and'."""
    word = (m.group("word") or "").lower()
    opener = (m.group("from") or "").lower()
    if word == "and" and opener != "between":
        return False
    if m.group("a_ap") or m.group("b_ap") or opener:
        return True
    if m.group("a_sep") == ":" or m.group("b_sep") == ":":
        return True
    # '9.30-11.00', but not version numbers ('1.10-1.12'): both dotted, in steps of 5 min.
    dotted = (m.group("a_sep"), m.group("b_sep")) == (".", ".")
    return dotted and int(m.group("a_m")) % 5 == 0 and int(m.group("b_m")) % 5 == 0


def _range_minutes(m: re.Match[str]) -> int | None:
    start, end = _clock(m, "a"), _clock(m, "b")
    if start is None or end is None or not _has_evidence(m):
        return None
    begin, finish = start[0] * 60 + start[1], end[0] * 60 + end[1]
    if start[2] and not end[2] and not end[3]:  # '10am-12': the bare end follows the start
        finish = _same_half_first(finish, begin, start[2] == "p", later=True)
    elif end[2] and not start[2] and not start[3]:  # '1-2pm', '11-1pm'
        begin = _same_half_first(begin, finish, end[2] == "p", later=False)
        if end[2] == "p" and begin < _EARLIEST_MORNING:
            return None  # '2-1pm': not 2am to 1pm
    elif not start[2] and not end[2] and finish <= begin and not end[3] and end[0] < start[0]:
        if begin < _EARLIEST_MORNING:
            return None  # 'from 2 to 1'
        finish += 12 * 60  # 'from 9 to 5'
    minutes = finish - begin
    return minutes if 0 < minutes <= _MAX_MINUTES else None


def _same_half_first(bare: int, other: int, pm: bool, *, later: bool) -> int:
    """A bare hour (as written, 0-12) in the other side's half of the day if that keeps the
    order, else in the other half."""
    morning = bare % (12 * 60)
    same = morning + (12 * 60 if pm else 0)
    other_half = morning + (0 if pm else 12 * 60)
    for candidate in (same, other_half):
        if (candidate > other) if later else (candidate < other):
            return candidate
    return same


def _not_a_count(m: re.Match[str]) -> bool:
    """'from 2 to 3 engineers' is a count: a range read only thanks to 'from'/'between'
    must not be followed by a noun."""
    if m.group("a_ap") or m.group("b_ap") or m.group("a_sep") or m.group("b_sep"):
        return True
    following = _next_word(m.string, m.end())
    return following is None or following in _FUNCTION_WORDS


def _find_time_range(text: str) -> tuple[int, int, int] | None:
    """First time range in ``text``: (minutes, start, end)."""
    pos = 0
    while (m := _TIME_RANGE_RE.search(text, pos)) is not None:
        if not _NOT_AFTER_RE.match(text, m.end()):
            minutes = _range_minutes(m)
            if minutes is not None and _not_a_count(m):
                return minutes, m.start(), m.end()
        pos = m.start() + 1
    return None


def _time_range_minutes(text: str) -> int | None:
    """Minutes of a time range that is the whole ``text``, or None."""
    m = _TIME_RANGE_RE.fullmatch(text)
    return None if m is None else _range_minutes(m)

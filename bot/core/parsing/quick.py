"""Quick entries: one line like '1.5h webinar yesterday #training' as a ``QuickEntry``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Final

from bot.core.parsing.dates import _find_fast_date, _find_numeric_date
from bot.core.parsing.durations import DAY_MINUTES, _find_days, _find_duration
from bot.core.parsing.fallback import _dateparser, _find_fallback_date, _is_english, _vocabulary
from bot.core.parsing.ranges import _find_date_range, _find_period
from bot.core.parsing.times import _find_time_range
from bot.core.parsing.titles import _tidy_title
from bot.core.parsing.words import _MASK, DateOrder

_Langs = tuple[str, ...]


@dataclass(frozen=True)
class QuickEntry:
    """What one line like '1.5h webinar on arc-flash safety yesterday #training' says."""

    title: str | None
    minutes: int | None
    activity_date: date | None
    category_hints: tuple[str, ...]
    duration_text: str | None
    date_text: str | None
    # A multi-day activity: the last day of a range ('14-15 Nov': activity_date 14 Nov,
    # end_date 15 Nov), the number of days stated ('2 days last week': 2) and the period a
    # vague phrase names without saying which days ('last week': its Monday and Sunday).
    end_date: date | None = None
    days: int | None = None
    within: tuple[date, date] | None = None
    # Two different durations in one line ('1h full day course'): the texts found, in the
    # order written ('1h', 'full day'), both out of the title; ``minutes`` is None, asked.
    duration_conflict: tuple[str, ...] = ()


_HINT_RE: Final = re.compile(r"(?<!\S)#([^\W\d_][\w-]*)")


@dataclass
class _Line:
    """The text being read, what is claimed so far (masked), and what leaves the title."""

    text: str
    masked: str
    removed: list[tuple[int, int]] = field(default_factory=list)

    def claim(self, start: int, end: int, *, remove: bool = True, lead: str = "") -> None:
        """Mask ``start:end`` so later searches skip it; with ``remove`` it leaves the
        title, with a word in ``lead`` just before it ('on', 'for') that no longer fits."""
        if remove:
            before = _lead_re(lead).search(self.text, 0, start) if lead else None
            self.removed.append((start if before is None else before.start(), end))
        self.masked = _mask(self.masked, [(start, end)])


@lru_cache(maxsize=8)
def _lead_re(lead: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![^\s(])(?:{lead})\s+$", re.IGNORECASE)


def _mask(text: str, spans: Sequence[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = _MASK * (end - start)
    return "".join(chars)


@dataclass
class _Read:
    """What has been read from the line so far."""

    minutes: int | None = None
    duration_text: str | None = None
    activity_date: date | None = None
    date_text: str | None = None
    end_date: date | None = None
    days: int | None = None
    within: tuple[date, date] | None = None
    duration_conflict: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Length:
    """One length in the line, by ``kind``: 'total', a duration with a unit ('1h');
    'clock', a time range ('1-2pm'), and 'day', a day phrase ('full day'), both for each
    day of the activity; 'days', a number of days ('2 days', that many days of minutes)."""

    kind: str
    minutes: int
    start: int
    text: str
    days: int | None = None


# At most this many durations with a unit are looked for in one line.
_MAX_TOTALS: Final = 3


def _read_totals(line: _Line) -> list[_Length]:
    """Every duration with a unit ('1h', '90 min'), each taken out of the title."""
    found: list[_Length] = []
    pos = 0
    while len(found) < _MAX_TOTALS and (duration := _find_duration(line.masked, pos)):
        minutes, start, end = duration
        found.append(_Length("total", minutes, start, line.text[start:end]))
        line.claim(start, end, lead="for")
        pos = end
    return found


def _read_lengths(line: _Line, day_minutes: int) -> list[_Length]:
    """A time range ('1-2pm'), then every length in days ('2 days', 'a full day')."""
    found: list[_Length] = []
    time_range = _find_time_range(line.masked)
    if time_range is not None:
        minutes, start, end = time_range
        found.append(_Length("clock", minutes, start, line.text[start:end]))
        line.claim(start, end, lead="at")
    pos = 0
    while (days := _find_days(line.masked, day_minutes, pos)) is not None:
        kind = "day" if days.per_day else "days"
        text = line.text[days.start : days.end]
        found.append(_Length(kind, days.minutes, days.start, text, days.days))
        line.claim(days.start, days.end, remove=not days.in_name, lead="for|over")
        pos = days.end
    return found


def _settle(lengths: list[_Length], read: _Read) -> None:
    """The minutes the lengths give together, or the two that disagree: a stated total
    and a day phrase must agree ('full day 7h'), a total may be less than a time range
    ('9:00-17:00 6h', breaks left out), a day phrase or time range counts for each day
    ('full day course 2 days', 'half day workshop on 14-15 Nov')."""
    if len(lengths) == 1:  # the usual line: one length, nothing to weigh
        only = lengths[0]
        read.days = read.days if read.days is not None or only.kind != "days" else only.days
        daily = only.kind in ("clock", "day")
        read.minutes = only.minutes * (read.days or 1) if daily else only.minutes
        read.duration_text = only.text
        return
    totals = _distinct(x for x in lengths if x.kind == "total")
    per_day = _distinct(x for x in lengths if x.kind in ("clock", "day"))
    counts = _distinct(x for x in lengths if x.kind == "days")
    if read.days is None and counts:
        read.days = counts[0].days
    days = read.days or 1
    conflict = next((found for found in (totals, per_day, counts) if len(found) > 1), [])
    if not conflict and totals and per_day:
        total, each = totals[0].minutes, per_day[0].minutes * days
        if total > each or (total != each and per_day[0].kind == "day"):
            conflict = [totals[0], per_day[0]]
    if conflict:
        read.duration_conflict = tuple(x.text for x in sorted(conflict[:2], key=_start))
        return
    if totals:
        chosen, minutes = totals[0], totals[0].minutes
    elif per_day:
        chosen, minutes = per_day[0], per_day[0].minutes * days
    elif counts:
        chosen, minutes = counts[0], counts[0].minutes
    else:
        return
    read.minutes, read.duration_text = minutes, chosen.text


def _start(length: _Length) -> int:
    return length.start


def _distinct(lengths: Iterable[_Length]) -> list[_Length]:
    """The lengths in the order written, the same number of minutes only once."""
    seen: dict[int, _Length] = {}
    for length in sorted(lengths, key=_start):
        seen.setdefault(length.minutes, length)
    return list(seen.values())


def _read_range(line: _Line, read: _Read, today: date, date_order: DateOrder) -> None:
    found = _find_date_range(line.masked, today, date_order)
    if found is None:
        return
    span, start, end = found
    if span is None:  # a backwards or too long range: kept in the title, asked for later
        line.claim(start, end, remove=False)
        return
    read.activity_date, read.end_date = span
    read.days = (span[1] - span[0]).days + 1
    read.date_text = line.text[start:end]
    line.claim(start, end)


def _read_date(line: _Line, read: _Read, today: date, date_order: DateOrder, langs: _Langs) -> None:
    if _is_english(langs):
        found = _find_fast_date(line.masked, today, date_order)
    else:
        found = _find_numeric_date(line.masked, today, date_order)
    if found is None:
        found = _find_fallback_date(line.masked, today, date_order, langs)
    if found is not None:
        read.activity_date, start, end = found
        read.date_text = line.text[start:end]
        line.claim(start, end, lead="on")


def parse_quick(
    text: str,
    *,
    today: date,
    date_order: DateOrder = "DMY",
    languages: Sequence[str] = ("en",),
    day_minutes: int = DAY_MINUTES,
) -> QuickEntry:
    """Split a one-line entry into title, duration, date and #hints, found anywhere in it.

    A duration needs a unit ('2h', '90 min', '1h30', '1:30h', 'an hour and a half'), so
    numbers in titles ('IEC 61850', 'ISO 9001', 'chapter 5') stay in the title. Month
    names count only next to a day number ('3 May', not 'what may change').
    ``duration_text``/``date_text`` are the exact substrings that were read.

    Without a unit, the minutes come from a time range ('1-2pm' is 60; see ``times``) or
    from a length in days of ``day_minutes`` each: 'a full day', 'all day', 'half a day',
    'all morning', 'spent the afternoon' (half a day), '2 days' (``days`` 2), all taken
    out of the title ('full day workshop' is titled 'Workshop'). A number of days that
    names the activity stays in the title and still counts: 'a 2-day course' (or 'a 2 day
    course') keeps '2-day' and has days 2 and two days of minutes. '2 days ago' and 'in 2
    days' are dates, not lengths.

    A day phrase or a time range is the length of each day when the line also gives a
    number of days or a range: 'full day course 2 days last week' is 2 x ``day_minutes``,
    'half day workshop on 14-15 Nov' two half days, 'Conference 14-15 Nov 9am-5pm' 16 h.
    A duration with a unit is the total: it wins over a longer time range ('Workshop
    9:00-17:00 6h' is 6 h, breaks left out) and over a number of days ('2-day course
    12h'). Two durations that disagree are not guessed between: '1h full day course',
    'webinar 1h 2h', 'Workshop 9-10am 2h' give ``minutes`` None and their texts in
    ``duration_conflict`` (in the order written, both out of the title) for the bot to ask
    which; the same length twice is no conflict.

    A day of the month alone counts with 'on' or 'the' before it and no noun after it
    ('on the 2nd', 'the 25th with Bob', 'on 14th'), or at the end of the line: the latest
    such day not after ``today``. '2nd edition', 'the 4th floor', '21st century', '3rd
    party' and 'first aid' are not dates.

    Several days ('14-15 Nov', 'Nov 14-15', '30 Nov - 2 Dec', '14/11-15/11', 'from
    Monday to Wednesday', 'Mon-Tue last week') set ``activity_date`` to the first,
    ``end_date`` to the last and ``days``; their minutes are left for the bot to ask
    unless the line states them. A range that ends after ``today`` ('1-5 Dec' on 4 Dec,
    '14-15 Nov 2027') is read too, like 'tomorrow': the bot refuses future dates, saying
    which. A range longer than 31 days or ending before it starts is not read and stays
    in the title (see ``ranges``). A number of days in a period ('2 days last week', '3
    days in October', 'two days this week') sets ``days`` and ``within`` (the period's
    first and last day, up to ``today``) and no date: the bot asks which days. 'next
    week' and 'next month' set a ``within`` wholly after ``today``, for the bot to refuse.
    A clock time next to a date belongs to it when it cannot be a duration ('last friday
    13:00', '09:30 yesterday'); '1:30' stays in the title.
    Words that only hold the sentence together leave the title ('spent', 'I did'; see
    ``titles``).
    """
    langs = tuple(languages)
    line = _Line(text, text)
    hints: list[str] = []
    for hint in _HINT_RE.finditer(text):
        hints.append(hint.group(1).rstrip("-").lower())
        line.claim(*hint.span())

    read = _Read()
    lengths = _read_totals(line)
    if _is_english(langs):
        _read_range(line, read, today, date_order)
    lengths += _read_lengths(line, day_minutes)
    if lengths:
        _settle(lengths, read)
    if read.activity_date is None and any(x.kind in ("day", "days") for x in lengths):
        period = _find_period(line.masked, today, read.days or 1)
        if period is not None:
            read.within, start, end = period
            line.claim(start, end)
    if read.activity_date is None and read.within is None:
        _read_date(line, read, today, date_order, langs)

    return QuickEntry(
        title=_tidy_title(text, line.removed),
        category_hints=tuple(hints),
        **vars(read),
    )


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

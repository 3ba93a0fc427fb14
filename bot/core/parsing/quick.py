"""Quick entries: one line like '1.5h webinar yesterday #training' as a ``QuickEntry``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from bot.core.parsing.dates import _find_fast_date, _find_numeric_date
from bot.core.parsing.durations import _find_duration
from bot.core.parsing.fallback import _dateparser, _find_fallback_date, _is_english, _vocabulary
from bot.core.parsing.words import _MASK, DateOrder


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

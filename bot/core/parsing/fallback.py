"""The dateparser fallback for dates no fast path reads (other languages, odd forms).

dateparser is imported only when it is needed: its first import takes most of a second."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

from bot.core.parsing.durations import parse_duration
from bot.core.parsing.words import _MASK, _ONLY_DIGITS_RE, _TIME_ONLY_RE, DateOrder

if TYPE_CHECKING:
    from dateparser.date import DateDataParser

# dateparser calls that one ``parse_quick`` may make when no fast path found a date.
_MAX_FALLBACK_CALLS: Final = 2


def _is_english(languages: tuple[str, ...]) -> bool:
    return any(lang.lower().split("-")[0] == "en" for lang in languages)


@lru_cache(maxsize=32)
def _dateparser(
    languages: tuple[str, ...], date_order: str, today: date, prefer: str = "past"
) -> DateDataParser:
    settings = {
        "PREFER_DATES_FROM": prefer,
        "RELATIVE_BASE": datetime.combine(today, time(12)),
        "DATE_ORDER": date_order,
        "RETURN_AS_TIMEZONE_AWARE": False,
        "PREFER_DAY_OF_MONTH": "first",
        # No 'timestamp' and 'no-spaces-time': they read bare numbers like '1130' as dates.
        "PARSERS": ["relative-time", "custom-formats", "absolute-time"],
    }
    from dateparser.date import DateDataParser  # slow to import: only when first needed

    return DateDataParser(languages=list(languages), settings=settings)


@lru_cache(maxsize=512)
def _dateparser_date(
    text: str, today: date, date_order: str, languages: tuple[str, ...], prefer: str = "past"
) -> date | None:
    """dateparser's reading of ``text`` as one day, or None (months, weeks, times of day).
    ``prefer``: "past" (a date without a year is the latest) or "future" (the next)."""
    if _ONLY_DIGITS_RE.fullmatch(text) or _TIME_ONLY_RE.fullmatch(text):
        return None  # '45' is not 1945, '11:30' is not a day
    if parse_duration(text) is not None:
        return None  # '1.5h' is not half past ten
    data = _dateparser(languages, date_order, today, prefer).get_date_data(text)
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


_WORD_RE: Final = re.compile(r"[^\W\d_]+")


def _add_words(
    words: dict[str, set[str]], kind: str, phrases: Iterable[str], min_length: int = 1
) -> None:
    for phrase in phrases:
        words[kind].update(w for w in _WORD_RE.findall(phrase.lower()) if len(w) >= min_length)


def _add_language(words: dict[str, set[str]], info: dict[str, Any]) -> None:
    """Add one language's date words (dateparser's locale data) to ``words``, by kind."""
    for key in _WEEKDAY_KEYS:  # short forms ('sat', 'sun', 'mo') are ordinary words too
        _add_words(words, "weekdays", info.get(key, []), min_length=5)
    for key in _MONTH_KEYS:
        _add_words(words, "months", info.get(key, []), min_length=3)
    for key in ("day", "week", "month", "year", "fortnight", "hour", "minute"):
        _add_words(words, "units", info.get(key, []), min_length=2)
    for key in ("ago", "in"):
        _add_words(words, "direction", info.get(key, []))
    for key in ("skip", "pertain"):
        _add_words(words, "glue", info.get(key, []))
    for phrases in info.get("relative-type", {}).values():
        for phrase in phrases:
            found = _WORD_RE.findall(phrase.lower())
            if len(found) == 1 and len(found[0]) >= 4:
                words["relative"].add(found[0])
            else:
                _add_words(words, "modifiers", [phrase])
    for patterns in info.get("relative-type-regex", {}).values():
        _add_words(words, "direction", patterns, min_length=2)


@lru_cache(maxsize=16)
def _vocabulary(languages: tuple[str, ...]) -> _Vocabulary:
    from dateparser.languages.loader import default_loader  # slow: only when first needed

    words: dict[str, set[str]] = {name: set() for name in _VOCABULARY_KINDS}
    for language in languages:
        _add_language(words, default_loader.get_locale(language).info)
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

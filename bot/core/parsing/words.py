"""Word tables and pattern pieces shared by durations and dates: numbers, ordinals, months,
weekdays, relative days, times of day; the date orders; the mask for claimed text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final, Literal

DateOrder = Literal["DMY", "MDY", "YMD"]

_FLAGS: Final = re.IGNORECASE | re.VERBOSE

# Positions already claimed (hints, the duration) are overwritten with this character so
# later searches cannot use them; it is neither a word character nor whitespace.
_MASK: Final = "\x1f"

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


_AMPM_RE: Final = r"(?:\d{1,2}(?::[0-5]\d)?\s*(?:a\.m\.|p\.m\.|am|pm)(?![^\W\d_]))"
_CLOCK_RE: Final = r"(?:(?:[01]?\d|2[0-3])[:.h][0-5]\d(?!\d))"
_PART_OF_DAY_RE: Final = (
    r"(?:(?:in\s+the\s+)?(?:early\s+)?(?:morning|afternoon|evening|night)|lunchtime"
    r"|at\s+lunch(?:time)?)\b"  # not bare 'lunch': 'lunch and learn' is a CPD format
)


# A time of day and nothing else ('11:30', 'at 3pm', 'noon'): not a date.
_TIME_ONLY_RE: Final = re.compile(
    rf"(?:(?:at|@)\s*)?(?:{_AMPM_RE}|{_CLOCK_RE}|noon|midday|midnight|{_PART_OF_DAY_RE})",
    _FLAGS,
)
_ONLY_DIGITS_RE: Final = re.compile(r"[-−]?\d+(?:[.,]\d+)?")

# Small words that may follow a date, a day phrase or a time range without making it part
# of a name: 'on the 2nd with Bob' and 'all day yesterday' are when and how long, 'the 2nd
# edition' and 'a full day workshop' are names. Day and month names count as such words.
_FUNCTION_WORDS: Final = frozenset(
    [
        *("with", "at", "for", "and", "about", "from", "to", "in", "on", "by", "via", "as"),
        *("re", "regarding", "during", "over", "i", "we", "then", "plus", "after", "before"),
        *("of", "until", "till", "ago", "last", "this", "next", "yesterday", "today"),
        *("tonight", "morning", "afternoon", "evening"),
        *_WEEKDAYS_FULL,
        *(month for month in _MONTHS if len(month) > 3),
    ]
)
_NEXT_WORD_RE: Final = re.compile(rf"[\s{_MASK}]*([^\W\d_]+)?")


def _next_word(text: str, pos: int) -> str | None:
    """The word right after ``pos`` (spaces and claimed text skipped), lower-cased, or None
    if a number, punctuation or the end of the text comes first."""
    m = _NEXT_WORD_RE.match(text, pos)
    word = m.group(1) if m is not None else None
    return word.lower() if word else None


def _at_end(text: str, pos: int) -> bool:
    """Nothing but spaces, punctuation and claimed text after ``pos``."""
    return not any(ch.isalnum() for ch in text[pos:])

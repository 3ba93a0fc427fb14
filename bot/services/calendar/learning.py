"""Which events are learning, for how long, and which are time away."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Final

from bot.core.calendar_rules import DEFAULT_KEYWORDS
from bot.services.calendar.occurrence import Occurrence

CPD_TAG: Final = "#cpd"
ABSENCE_WORDS: Final[tuple[str, ...]] = (
    "leave",
    "annual leave",
    "parental leave",
    "holiday",
    "vacation",
    "ooo",
    "out of office",
    "maternity",
    "paternity",
)
"""Words that make an all-day event an absence, matched as whole words (plural -s too).
The operator replaces them with CALENDAR_ABSENCE_WORDS (``parse_absence_words``)."""
# One configured absence word: letters and digits, inner spaces, hyphens, apostrophes,
# ampersands, dots and slashes ("study leave", "o/o/o", "r&r"); a letter or digit at each end.
_ABSENCE_WORD: Final = re.compile(r"[^\W_](?:[\w '\u2019&./-]*[^\W_])?")
# Everyday phrases that contain a keyword but are not about learning.
_NOT_LEARNING: Final = re.compile(
    r"(?<!\w)(?:of\s+course|in\s+due\s+course|golf\s+course|race\s+course|main\s+course|"
    r"course\s+of\s+action|(?:over|during)\s+the\s+course\s+of)(?!\w)",
    re.IGNORECASE,
)


@lru_cache(maxsize=64)
def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    words = {" ".join(k.split()).lower() for k in keywords if k.strip()}
    if not words:
        return None
    alternatives = sorted(
        (r"\s+".join(re.escape(part) for part in word.split()) for word in words),
        key=len,
        reverse=True,
    )
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?:e?s)?(?!\w)", re.IGNORECASE)


def is_learning(occ: Occurrence, keywords: Sequence[str] = DEFAULT_KEYWORDS) -> bool:
    """Whether the title or description names a keyword as a whole word, or has ``#cpd``.

    Case-insensitive; a keyword's plural counts (``courses``, ``masterclasses``);
    ``#cpd`` matches whatever the keywords are. A few everyday phrases ("of course",
    "golf course") do not count.
    """
    text = f"{occ.title}\n{occ.description}"
    if CPD_TAG in text.lower():
        return True
    pattern = _keyword_pattern(tuple(keywords))
    return pattern is not None and pattern.search(_NOT_LEARNING.sub(" ", text)) is not None


def duration_minutes(occ: Occurrence) -> int | None:
    """Minutes to prefill as the hours of CPD, or None when the user should be asked.

    None for all-day events, zero-length events and anything longer than 24 hours (a
    multi-day span says nothing about the hours spent learning).
    """
    if occ.all_day:
        return None
    minutes = round((occ.end - occ.start).total_seconds() / 60)
    if minutes <= 0 or minutes > 24 * 60:
        return None
    return int(minutes)


def is_absence(
    title: str,
    all_day: bool,
    show_as: str | None = None,
    words: Sequence[str] = ABSENCE_WORDS,
) -> bool:
    """Whether an event is time away, which holds nudges and prompts while it lasts.

    Out of office in Outlook (Graph's ``showAs`` is ``oof``) always is; otherwise only an
    all-day event whose title names one of ``words`` as a whole word ("Annual leave",
    "Holiday", "OOO"), case-insensitive: a one-hour "Leave planning" meeting is not.
    """
    if (show_as or "").strip().lower() == "oof":
        return True
    if not all_day:
        return False
    pattern = _keyword_pattern(tuple(words))
    return pattern is not None and pattern.search(title) is not None


def parse_absence_words(text: str | None) -> tuple[str, ...]:
    """CALENDAR_ABSENCE_WORDS: comma-separated words or phrases, lower-cased, spaces
    collapsed, repeats dropped; empty or unset is ``ABSENCE_WORDS``. ``ValueError`` (one
    line naming the setting and the bad item) for an empty item or one that is not words."""
    if text is None or not text.strip():
        return ABSENCE_WORDS
    words: list[str] = []
    for number, item in enumerate(text.split(","), start=1):
        word = " ".join(item.split()).lower()
        if not word:
            raise ValueError(
                f"CALENDAR_ABSENCE_WORDS: item {number} is empty (separate words with single "
                "commas, e.g. 'annual leave, holiday, conference')."
            )
        if _ABSENCE_WORD.fullmatch(word) is None:
            raise ValueError(
                f"CALENDAR_ABSENCE_WORDS: item {number} ({word[:40]!r}) is not a word or phrase "
                "(letters and digits, e.g. 'annual leave, holiday, conference')."
            )
        if word not in words:
            words.append(word)
    return tuple(words)

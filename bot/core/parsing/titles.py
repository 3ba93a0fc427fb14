"""The title left when a one-liner's duration, date and #hints are taken out.

Words that only held the sentence together go: 'spent 2h on Monday reviewing a
colleague's design' is titled 'Reviewing a colleague's design'. Dropped at the start:
'I', 'we', 'I spent', 'spent', 'spent some time', 'I did', 'did some', 'I've been',
'today I', 'just', 'so'; at either end: a dangling 'on', 'at', 'for', 'of', 'from',
'about'...; at the end: 'doing', 'spent', 'to', 'the', 'with' ('site visit to the 2nd' is
titled 'Site visit'). When words went from the start, an article left first goes too ('I
did a course on harmonics' is 'Course on harmonics'); an article typed first stays ('A
talk on earthing'). A '#' with no word after it goes. Verbs that say what was done stay:
'Attended', 'Read', 'Gave', 'Went to', 'Watched'.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

_DANGLING_WORDS: Final = frozenset(
    [
        "on",
        "at",
        "for",
        "from",
        "of",
        "and",
        "about",
        "around",
        "approx",
        "approx.",
        "approximately",
        "roughly",
    ]
)
_TRAILING_WORDS: Final = frozenset(
    ["doing", "spent", "to", "the", "by", "with", "during", "until", "till"]
)
_ARTICLES: Final = frozenset(["a", "an", "the"])
_DANGLING_PUNCT: Final = "-–—,;:/|.~@"

_FILLER_LEAD_RE: Final = re.compile(
    r"""^(?:
        (?:so|well|just|also|today|then|and)\s+
      | i\s+(?:have\s+|had\s+)?(?:just\s+)?(?:been\s+)?
      | i['’](?:ve|d)\s+(?:just\s+)?(?:been\s+)?
      | we\s+(?:have\s+|had\s+)?(?:just\s+)?
      | (?:spent|spend)(?:\s+(?:some|a\s+bit\s+of|a\s+lot\s+of|the)?\s*time)?\s+
      | did\s+(?:some\s+|a\s+bit\s+of\s+)?
      | done\s+(?:some\s+)?
      | been\s+
    )+""",
    re.IGNORECASE | re.VERBOSE,
)


def _drop_filler(title: str) -> str:
    """'I spent on reviewing' -> 'on reviewing'; the whole title is never dropped."""
    rest = _FILLER_LEAD_RE.sub("", title + " ", count=1).strip()
    return rest or title


def _trim_dangling(title: str) -> str:
    """Drop words and punctuation left hanging at the ends: 'Workshop on' -> 'Workshop'."""
    words = title.split()
    while words:
        first, last = words[0], words[-1]
        if first.lower() in _DANGLING_WORDS or not first.strip(_DANGLING_PUNCT + "()"):
            words.pop(0)
        elif last.lower() in _DANGLING_WORDS | _TRAILING_WORDS or not last.strip(
            _DANGLING_PUNCT + "()"
        ):
            words.pop()
        elif first.lstrip(_DANGLING_PUNCT + ")") != first:
            words[0] = first.lstrip(_DANGLING_PUNCT + ")")
        elif last.rstrip(_DANGLING_PUNCT + "(") != last:
            words[-1] = last.rstrip(_DANGLING_PUNCT + "(")
        else:
            break
    return " ".join(words)


def _tidy_title(text: str, removed: Sequence[tuple[int, int]]) -> str | None:
    pieces: list[str] = []
    pos = 0
    for start, end in sorted(removed):
        pieces.append(text[pos:start])
        pos = max(pos, end)
    pieces.append(text[pos:])
    title = " ".join(w for w in " ".join(pieces).split() if w != "#")  # a hint with no word
    title = re.sub(r"\(\s*\)|\[\s*\]", " ", title)  # '(2h)' leaves '()'
    title = re.sub(r"\s+([,;:.!?)\]])", r"\1", title)
    title = re.sub(r"([(\[])\s+", r"\1", title)
    title = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", title)
    title = re.sub(r"(\s[-–—|/])(?:\s+[-–—|/])+(?=\s)", r"\1", title)  # 'a - - b'

    typed, previous = title, None
    while title != previous:  # 'I spent on reviewing' -> 'on reviewing' -> 'reviewing'
        previous = title
        title = _trim_dangling(_drop_filler(_trim_dangling(title)))
    first, _, rest = title.partition(" ")
    if rest and first.lower() in _ARTICLES and not typed.startswith(title):
        title = rest  # 'spent on a course' -> 'course', but 'A talk on earthing' stays
    if not title:
        return None
    return title[0].upper() + title[1:]

"""Text made safe to keep and to print: no control, bidirectional-override or zero-width
characters in anything stored or written out (they hide or reorder what a reader sees,
and NUL is refused by PostgreSQL)."""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls; bidi embeddings, overrides and
# isolates; the marks LRM/RLM/ALM; zero-width space, joiners, word joiner and the BOM.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def clean_text(text: str) -> str:
    """`text` without control, bidi or zero-width characters; tabs and newlines are kept
    (a carriage return before a newline is dropped, a lone one becomes a newline)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNSAFE.sub("", text)


def clean_line(text: str) -> str:
    """`text` as one line: as `clean_text`, and tabs and newlines become spaces."""
    return _UNSAFE.sub("", re.sub(r"[\t\r\n]+", " ", text))


def has_unsafe(text: str) -> bool:
    """Whether `text` holds a character `clean_text` would remove (other than CR)."""
    return _UNSAFE.search(text.replace("\r", "")) is not None

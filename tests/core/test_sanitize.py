"""What people paste: a terminal's escape sequences go whole, not leaving '[31m' behind."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.parsing import parse_quick
from bot.core.sanitize import clean_line, clean_text


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("2h site visit\x1b[31m yesterday", "2h site visit yesterday"),  # a colour
        ("web\x1b[1;32minar\x1b[0m", "webinar"),  # bold green, then reset
        ("a\x1b]0;window title\x07b", "ab"),  # a terminal title (OSC ... BEL)
        ("a\x1b]8;;http://x\x1b\\b", "ab"),  # a hyperlink (OSC ... ST)
        ("arc\x1b-flash", "arc-flash"),  # a lone ESC: only it goes
        ("line one\r\nline two", "line one\nline two"),
    ],
)
def test_escape_sequences_go_whole(typed: str, kept: str) -> None:
    assert clean_text(typed) == kept


def test_a_colour_code_is_not_read_as_minutes() -> None:
    line = clean_line("2h site visit\x1b[31m yesterday")
    quick = parse_quick(line, today=date(2026, 12, 4))
    assert (quick.title, quick.minutes, quick.duration_conflict) == ("Site visit", 120, ())

"""An event's title and description as plain text, and whether its owner declined it."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any, Final

from bot.core.sanitize import clean_line, clean_text
from bot.services.calendar.bounds import _MAX_DESCRIPTION, _MAX_TITLE
from bot.services.calendar.properties import _param

_BLOCK_TAGS: Final = frozenset(
    {"br", "p", "div", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6"}
)
_HTML_TAG: Final = re.compile(r"<(?:/?[A-Za-z][A-Za-z0-9]*)(?:\s[^<>]*)?/?>")
_MEET_BLOCK: Final = re.compile(r"-::~:~::~:~.*", re.DOTALL)


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _plain_title(value: Any) -> str:
    return _shorten(" ".join(clean_line(str(value or "")).split()), _MAX_TITLE)


def _plain_description(value: Any) -> str:
    text = _MEET_BLOCK.sub("", str(value or "")[: _MAX_DESCRIPTION * 10])
    if _HTML_TAG.search(text):
        parser = _TextOfHtml()
        parser.feed(text)
        parser.close()
        text = "".join(parser.parts)
    # Cleaned after the HTML is read: character references (&#8238;) decode to such characters.
    lines = [" ".join(line.split()) for line in clean_text(text).splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return _shorten(text, _MAX_DESCRIPTION)


def _address(value: str) -> str:
    text = value.strip().lower()
    return text[7:] if text.startswith("mailto:") else text


def _declined(event: Any, owners: frozenset[str]) -> bool:
    if not owners:
        return False
    attendees = event.get("ATTENDEE")
    if attendees is None:
        return False
    for attendee in attendees if isinstance(attendees, list) else [attendees]:
        if (_param(attendee, "PARTSTAT") or "").upper() != "DECLINED":
            continue
        addresses = {_address(str(attendee)), _address(_param(attendee, "EMAIL") or "")}
        if addresses & owners:
            return True
    return False

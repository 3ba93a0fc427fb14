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


# A terminal's escape sequences pasted with the text (colours, cursor moves, titles): they go
# whole, so '\x1b[31m' leaves nothing behind (not '[31m', which reads as 31 minutes).
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def clean_text(text: str) -> str:
    """`text` without control, bidi or zero-width characters; tabs and newlines are kept
    (a carriage return before a newline is dropped, a lone one becomes a newline)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNSAFE.sub("", _ESCAPES.sub("", text))


def clean_line(text: str) -> str:
    """`text` as one line: as `clean_text`, and tabs and newlines become spaces."""
    return _UNSAFE.sub("", re.sub(r"[\t\r\n]+", " ", _ESCAPES.sub("", text)))


def has_unsafe(text: str) -> bool:
    """Whether `text` holds a character `clean_text` would remove (other than CR)."""
    return _UNSAFE.search(text.replace("\r", "")) is not None


# ---------------------------------------------------------------- spreadsheets (CSV)

# A cell a spreadsheet would run as a formula (OWASP "CSV injection"): its first character,
# or its first after blanks, is = + - @, or it starts with a tab or carriage return.
_FORMULA = re.compile(r"[\t\r]|\s*[=+\-@\uff1d\uff0b\uff0d\uff20]")


def spreadsheet_safe(cell: str) -> str:
    """`cell` as a spreadsheet shows it as text: a cell that would start a formula gets a
    leading single quote (OWASP). So that `spreadsheet_value` can undo it exactly, a cell
    that is quotes before such a formula gets one more."""
    return "'" + cell if _FORMULA.match(cell.lstrip("'")) else cell


def spreadsheet_value(cell: str) -> str:
    """The text `spreadsheet_safe` was given: exactly its quote removed, nothing else."""
    if cell.startswith("'") and _FORMULA.match(cell.lstrip("'")):
        return cell[1:]
    return cell


# ---------------------------------------------------------------- Markdown

# Characters that make markup anywhere in a line: emphasis, code, links and images,
# HTML tags and entities, tables, headings, strikethrough; a backslash escapes them.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>|#~&])")
# At the start of a line: list markers, setext underlines, an ordered item's "1." / "1)".
_MD_LINE_START = re.compile(r"^(?:([-+=])|(\d+)([.)]))")
# A link scheme that runs code, broken so no viewer or linkifier sees it as one.
_MD_SCHEME = re.compile(r"(?i)\b(javascript|vbscript)(\s*):")


def markdown_escape(text: str) -> str:
    """`text` as one line of Markdown that shows exactly what was written: no markup,
    HTML, links or images; control, bidi and zero-width characters removed."""
    line = " ".join(clean_line(text).split())
    line = _MD_INLINE.sub(r"\\\1", line)
    line = _MD_SCHEME.sub(lambda m: f"{m[1]}{m[2]}&#58;", line)
    return _MD_LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", line)

"""Evidence as the record's files show it: its type in words, its size, the day it was
received, its name inside an export ZIP, and its metadata in a JSON export (written and
read back, never the content).

Every record file lists evidence by its E-number (`EvidenceView.label`), so an auditor can
go from an activity to its certificate and back: the PDF and Markdown under each activity
and in the evidence index, the CSV's `evidence` column, the JSON's `evidence` list and the
ZIP's `evidence/E3-certificate.pdf`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from bot.core import entry_rules as rules
from bot.core.model import EntryView, EvidenceView
from bot.core.sanitize import clean_line
from bot.core.zones import zone_of

FOLDER = "evidence"  # the ZIP folder holding the files, and its index.md
INDEX_NAME = f"{FOLDER}/index.md"
KINDS = ("file", "link")
NAME_MAX = 255  # a file name or link read back from a JSON export
URL_MAX = 2000  # a link's whole address read back (the chat keeps links up to this)
NUMBER_MAX = 1_000_000
_MEMBER_STEM_MAX = 60
TYPE_NAMES = {
    "application/pdf": "PDF",
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
    "image/heic": "HEIC image",
    "image/heif": "HEIF image",
    "image/webp": "WebP image",
    "image/gif": "GIF image",
    "image/tiff": "TIFF image",
    "text/plain": "text",
    "application/msword": "Word document",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        "PowerPoint presentation"
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel workbook",
    "application/vnd.oasis.opendocument.text": "OpenDocument text",
}
_EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/heic": ".heic",
    "image/heif": ".heif",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "image/tiff": ".tif",
    "text/plain": ".txt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_HEX = re.compile(r"[0-9a-f]{64}")
_WEB = re.compile(r"https?://\S+$", re.IGNORECASE)


def type_name(ev: EvidenceView) -> str:
    """'PDF', 'JPEG image', 'Link', or the MIME type when it has no name here."""
    if ev.kind == "link":
        return "Link"
    return TYPE_NAMES.get(ev.mime, ev.mime or "file")


def size_text(size: int) -> str:
    """'850 bytes', '12 KB', '1.4 MB' (1 KB = 1,024 bytes)."""
    if size < 1024:
        return f"{size:,} byte{'' if size == 1 else 's'}"
    if size < 1024 * 1024:
        return f"{size / 1024:,.0f} KB"
    return f"{size / (1024 * 1024):,.1f} MB"


def received_day(ev: EvidenceView, zone: str) -> date:
    """The day the evidence was received, in the person's time zone."""
    at = ev.received_at if ev.received_at.tzinfo else ev.received_at.replace(tzinfo=UTC)
    return at.astimezone(zone_of(zone)).date()


def member_name(ev: EvidenceView) -> str:
    """The file's name in an export ZIP: 'evidence/E3-certificate.pdf'. The E-number makes
    it unique; the rest is the name as sent, reduced to letters, digits, '.', '_', '-'."""
    name = _UNSAFE.sub("-", ev.name).strip("-.")
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or not 1 <= len(ext) <= 8:
        stem, ext = name, ""
    ext = ("." + ext.lower()) if ext else _EXTENSIONS.get(ev.mime, "")
    stem = stem[:_MEMBER_STEM_MAX].rstrip("-.")
    return f"{FOLDER}/{ev.label}" + (f"-{stem}" if stem else "") + ext


def shown_name(ev: EvidenceView) -> str:
    """What the record prints for a piece: a file's name, a link's whole address."""
    return ev.url or ev.name


def labels(entry: EntryView) -> str:
    """An entry's evidence numbers for the CSV column: 'E1 E3' ('' if none)."""
    return " ".join(ev.label for ev in entry.evidence)


def indexed(entries: Sequence[EntryView]) -> list[EvidenceView]:
    """Every piece of evidence of `entries`, in E-number order (the evidence index)."""
    return sorted((ev for e in entries for ev in e.evidence), key=lambda ev: ev.number)


def to_json(ev: EvidenceView) -> dict[str, Any]:
    """The metadata a JSON export keeps of a piece of evidence (never its content)."""
    out: dict[str, Any] = {
        "number": ev.number,
        "label": ev.label,
        "kind": ev.kind,
        "name": ev.name,
        "type": type_name(ev),
        "mime": ev.mime,
        "size": ev.size,
        "sha256": ev.sha256,
        "received_at": ev.received_at.astimezone(UTC).isoformat(),
    }
    if ev.url:
        out["url"] = ev.url  # a link's whole address (`name` may be shortened)
    return out


def from_json(value: object, entry_number: int) -> tuple[EvidenceView | None, list[str]]:
    """A piece of evidence read back from a JSON export, or what is wrong with it."""
    if not isinstance(value, dict):
        return None, [f"each evidence must be an object, not {rules.shown(value)}"]
    problems: list[str] = []
    number, kind, name = value.get("number"), value.get("kind"), value.get("name")
    mime, size, sha = value.get("mime", ""), value.get("size", 0), value.get("sha256", "")
    where = f"evidence E{number}" if type(number) is int else "evidence"
    if not (type(number) is int and 1 <= number <= NUMBER_MAX):
        problems.append(f"evidence number must be a whole number, not {rules.shown(number)}")
    if kind not in KINDS:
        problems.append(f"{where}: kind must be 'file' or 'link', not {rules.shown(kind)}")
    if not (isinstance(name, str) and clean_line(name).strip() and len(name) <= NAME_MAX):
        problems.append(f"{where}: name must be text of 1 to {NAME_MAX} characters")
    if not isinstance(mime, str) or len(mime) > 100:
        problems.append(f"{where}: mime must be a MIME type, not {rules.shown(mime)}")
    if not (type(size) is int and size >= 0):
        problems.append(f"{where}: size must be a whole number of bytes, not {rules.shown(size)}")
    if kind == "file" and not (isinstance(sha, str) and _HEX.fullmatch(sha)):
        problems.append(f"{where}: sha256 must be 64 lower-case hex digits")
    url = value.get("url", "")
    if kind == "link" and not (
        isinstance(url, str) and len(url) <= URL_MAX and (not url or _WEB.match(url))
    ):
        problems.append(f"{where}: url must be a web address of up to {URL_MAX} characters")
    received = _instant(value.get("received_at"))
    if received is None:
        problems.append(f"{where}: received_at must be a date and time like 2026-03-01T09:00:00Z")
    if problems:
        return None, problems
    assert isinstance(number, int) and isinstance(name, str) and isinstance(mime, str)
    assert isinstance(size, int) and received is not None
    return (
        EvidenceView(
            number,
            entry_number,
            str(kind),
            clean_line(name).strip(),
            mime if kind == "file" else "",
            size if kind == "file" else 0,
            str(sha) if kind == "file" else "",
            received,
            str(url).strip() if kind == "link" else "",
        ),
        [],
    )


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)

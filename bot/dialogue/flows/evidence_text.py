"""How evidence reads in the dialogue (issue 16): sizes, types, a piece described, a
link checked, and a certificate's facts offered against an entry. Pure."""

from __future__ import annotations

from datetime import date
from typing import Literal
from urllib.parse import urlsplit

from bot.core import text as fmt
from bot.core.buttons import ActionId
from bot.core.model import Choice, EntryView, EvidenceView, Outgoing
from bot.core.snapshot import Facts
from bot.dialogue.common import TITLE_MAX, clip
from bot.dialogue.conversation import Context, Conv

URL_MAX = 2000

Action = Literal["file", "undo", "move", "use", "mine", "logit", "rm", "keep"]
EV: ActionId[Action] = ActionId(
    "ev", ("file", "undo", "move", "use", "mine", "logit", "rm", "keep")
)  # ev:file:<E>-<entry> | ev:use:<E>-<entry> | ev:<other>:<E>

_TYPES = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/heic": "HEIC",
    "image/heif": "HEIF",
    "image/webp": "WebP",
    "image/gif": "GIF",
    "text/plain": "text",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
    "application/vnd.oasis.opendocument.text": "ODT",
}

# ---------------------------------------------------------------- how a piece reads


def size_text(size: int) -> str:
    """'512 bytes', '240 KB', '1.2 MB'."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def type_text(mime: str) -> str:
    return _TYPES.get(mime, mime.rpartition("/")[2].upper() or "file")


def described(view: EvidenceView) -> str:
    """'E3 (cert.pdf, PDF, 240 KB)', or 'E4 (link: https://…)'."""
    if view.kind == "link":
        return f"{view.label} (link: {view.url or view.name})"
    return f"{view.label} ({view.name}, {type_text(view.mime)}, {size_text(view.size)})"


def entry_name(entry: EntryView) -> str:
    return f"#{entry.number} '{entry.title}'"


def deleted_note(conv: Conv, number: int) -> str:
    """How a deleted entry's evidence is marked: still kept with it, the entry back with
    /undo when that is what /undo would do now."""
    undo = conv.data.undo
    back = undo is not None and undo.kind == "deleted" and undo.number == number
    return f"#{number} deleted — /undo brings it back" if back else f"#{number} deleted"


# ---------------------------------------------------------------- certificate facts


def facts_text(facts: Facts) -> str:
    parts = []
    if facts.title:
        parts.append(f"'{facts.title}'")
    if facts.activity_date:
        parts.append(fmt.day(facts.activity_date).partition(" ")[2])
    if facts.minutes:
        parts.append(fmt.hours(facts.minutes))
    if facts.provider:
        parts.append(facts.provider)
    return ", ".join(parts)


def changes_from(entry: EntryView, facts: Facts, today: date) -> dict[str, object]:
    """What the certificate says that the entry does not (only values an entry may hold)."""
    changes: dict[str, object] = {}
    if facts.title and facts.title.strip().lower() != entry.title.strip().lower():
        changes["title"] = clip(facts.title.strip(), TITLE_MAX)
    when = facts.activity_date
    if when and when <= today and when != entry.activity_date:
        changes["activity_date"] = when
    if facts.minutes and 0 < facts.minutes <= 24 * 60 and facts.minutes != entry.minutes:
        changes["minutes"] = facts.minutes
    return changes


def proposal(
    view: EvidenceView,
    entry: EntryView | None,
    facts: Facts | None,
    ctx: Context,
    match: EntryView | None = None,
) -> tuple[Outgoing, ...]:
    """A certificate's facts offered: for the entry it went with ([Use these]), as a new
    activity ([Log it]), or, when another entry has its date and title (`match`), the file
    moved there: never an overwrite making one entry a copy of another."""
    if facts is None or not facts_text(facts):
        return ()
    said = f"The certificate says: {facts_text(facts)}."
    if match is not None and (entry is None or match.number != entry.number):
        return (_elsewhere(view, entry, match, said),)
    if entry is None:
        return (
            Outgoing(
                said + " Log it as a new activity with these?",
                (
                    Choice(EV.make("logit", view.number), "Log it"),
                    Choice(EV.make("mine", view.number), "No"),
                ),
            ),
        )
    if not changes_from(entry, facts, ctx.today):
        return ()
    key = f"{view.number}-{entry.number}"
    return (
        Outgoing(
            f"{said} Use these for {entry_name(entry)}?",
            (Choice(EV.make("use", key), "Use these"), Choice(EV.make("mine", key), "Keep mine")),
        ),
    )


def _elsewhere(
    view: EvidenceView, entry: EntryView | None, match: EntryView, said: str
) -> Outgoing:
    """The certificate fits entry `match` (same date, title words) better than `entry`."""
    move = EV.make("file", f"{view.number}-{match.number}")
    like = f"{said} This looks like {entry_name(match)} (same date and title)"
    if entry is None:
        return Outgoing(
            f"{like}. File it with #{match.number}?",
            (
                Choice(move, f"File it with #{match.number}"),
                Choice(EV.make("mine", view.number), "No"),
            ),
        )
    keep = EV.make("mine", f"{view.number}-{entry.number}")
    return Outgoing(
        f"{like}, not {entry_name(entry)}. Move {view.label} to #{match.number}?",
        (Choice(move, f"Move it to #{match.number}"), Choice(keep, f"Keep with #{entry.number}")),
    )


def link_problem(url: str) -> str | None:
    """Why `url` cannot be kept as a link (None: it can)."""
    if len(url) > URL_MAX or any(c.isspace() for c in url):
        return f"That isn't one web address (up to {URL_MAX:,} characters)."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError:
        return "That web address is malformed."
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "I keep web links starting with https:// or http:// only."
    if parts.username is not None or parts.password is not None:
        return "That link carries a user name or password: send it without them."
    return None

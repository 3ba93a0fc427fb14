"""Evidence kept with entries (issue 16): the rules, over storage.evidence.

A file is checked before anything is written (size, type from its content, the entry is
the member's, not already on that entry, room in the quota), then its bytes and its link
are written in the caller's transaction: a refusal (`EvidenceRefused`, whose message is
shown to the member as it is) leaves nothing behind. Evidence numbers (E1, E2, ...) are
per person, in the order received, never reused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlmodel import Session, select

from bot.core.evidence_index import size_text
from bot.core.model import EvidenceView, IncomingFile
from bot.core.sanitize import has_unsafe
from bot.services.evidence_types import ALLOWED_LABELS, NAME_MAX, clean_name, detect
from storage import evidence as store
from storage.models import Entry, Evidence

MB = 1024 * 1024
URL_MAX = 2000


@dataclass(frozen=True)
class EvidenceSettings:
    """EVIDENCE_MAX_MB, EVIDENCE_QUOTA_MB and EVIDENCE_DIR (None: files in the database)."""

    max_bytes: int = 10 * MB
    quota_bytes: int = 200 * MB
    directory: Path | None = None


class EvidenceRefused(Exception):
    """Not kept; the message says why, to the member, as it is."""


def megabytes(size: int) -> str:
    """A size as the member reads it: "14.2 MB", "200 MB"; below 1 MB in KB or bytes as
    /evidence shows it ("850 bytes", "12 KB"), never "0.1 MB" for a 1 KB file."""
    if size < MB:
        return size_text(size)
    value = size / MB
    return f"{value:.1f} MB" if value < 10 else f"{value:.0f} MB"


def _own_entry(session: Session, person_id: int, entry_id: int) -> Entry:
    """The member's entry (not deleted); anyone else's is as if it did not exist."""
    entry = session.exec(
        select(Entry).where(
            Entry.id == entry_id,
            Entry.person_id == person_id,
            Entry.deleted_at.is_(None),  # type: ignore[union-attr]
        )
    ).first()
    if entry is None:
        raise EvidenceRefused("I can't find that entry among yours, so nothing was attached.")
    return entry


def _already(session: Session, person_id: int, entry_id: int | None, sha256: str) -> None:
    """Refused when the same content is already on that entry (or already waiting)."""
    query = select(Evidence).where(Evidence.person_id == person_id, Evidence.sha256 == sha256)
    if entry_id is None:
        query = query.where(Evidence.entry_id.is_(None))  # type: ignore[union-attr]
    else:
        query = query.where(Evidence.entry_id == entry_id)
    row = session.exec(query).first()
    if row is not None:
        where = "waiting for an entry" if entry_id is None else "attached"
        raise EvidenceRefused(f"That file is already {where} as E{row.number}.")


def _check_file(settings: EvidenceSettings, file: IncomingFile) -> str:
    """The detected MIME type, or the refusal for a file too big, empty or not allowed."""
    size = max(file.size, len(file.content))
    if size > settings.max_bytes:
        raise EvidenceRefused(
            f"That file is {megabytes(size)}; I keep files up to {megabytes(settings.max_bytes)}."
            " Nothing was attached."
        )
    if not file.content:
        raise EvidenceRefused("That file is empty, so nothing was attached.")
    mime = detect(file.content)
    if mime is None:
        raise EvidenceRefused(
            f"I can't keep that kind of file. I keep {ALLOWED_LABELS} (the type is read from"
            " the file itself, not its name). Nothing was attached."
        )
    return mime


def store_file(
    session: Session,
    settings: EvidenceSettings,
    person_id: int,
    entry_id: int | None,
    file: IncomingFile,
    now: datetime,
) -> EvidenceView:
    """Keep `file` with the entry (None: waiting for one). Everything is checked first;
    EvidenceRefused leaves nothing written."""
    mime = _check_file(settings, file)
    entry_no = _own_entry(session, person_id, entry_id).number if entry_id is not None else 0
    content = file.content
    sha256 = store.sha256_of(content)
    _already(session, person_id, entry_id, sha256)
    if not store.holds_content(session, person_id, sha256):
        used = store.used_bytes(session, person_id)
        if used + len(content) > settings.quota_bytes:
            raise EvidenceRefused(
                f"Your evidence space is full: {megabytes(used)} of"
                f" {megabytes(settings.quota_bytes)} used, and this file is"
                f" {megabytes(len(content))}. Remove some with /evidence first;"
                " nothing was attached."
            )
    number = store.next_number(session, person_id)
    store.put_blob(session, sha256, content, now, settings.directory)
    row = store.add(
        session,
        person_id=person_id,
        number=number,
        entry_id=entry_id,
        kind="file",
        name=clean_name(file.name, mime),
        mime=mime,
        size=len(content),
        sha256=sha256,
        received_at=now,
    )
    return store.view(row, entry_no)


def _check_url(url: str) -> str:
    url = url.strip()
    if not url or len(url) > URL_MAX or has_unsafe(url) or any(c.isspace() for c in url):
        raise EvidenceRefused(
            f"That isn't a link I can keep (one web address, up to {URL_MAX} characters)."
        )
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise EvidenceRefused("I keep web links starting with https:// or http:// only.")
    return url


def store_link(
    session: Session, person_id: int, entry_id: int, url: str, now: datetime
) -> EvidenceView:
    """Keep a web link as evidence of the entry (refused twice on the same entry)."""
    url = _check_url(url)
    entry = _own_entry(session, person_id, entry_id)
    same = session.exec(
        select(Evidence).where(
            Evidence.person_id == person_id, Evidence.entry_id == entry_id, Evidence.url == url
        )
    ).first()
    if same is not None:
        raise EvidenceRefused(f"That link is already attached as E{same.number}.")
    name = url if len(url) <= NAME_MAX else url[: NAME_MAX - 1] + "…"
    row = store.add(
        session,
        person_id=person_id,
        number=store.next_number(session, person_id),
        entry_id=entry_id,
        kind="link",
        name=name,
        mime="",
        size=0,
        sha256=None,
        url=url,
        received_at=now,
    )
    return store.view(row, entry.number)


def file_with_entry(
    session: Session, person_id: int, evidence_number: int, entry_id: int
) -> EvidenceView:
    """File waiting evidence E`evidence_number` with the entry (already there: as it is)."""
    row = store.find(session, person_id, evidence_number)
    if row is None:
        raise EvidenceRefused(f"You have no E{evidence_number}.")
    entry = _own_entry(session, person_id, entry_id)
    if row.entry_id == entry_id:
        return store.view(row, entry.number)
    if row.entry_id is not None:
        filed = store.entry_number(session, row.entry_id)
        raise EvidenceRefused(f"E{row.number} is already filed with #{filed}.")
    if row.sha256 is not None:
        _already(session, person_id, entry_id, row.sha256)
    row.entry_id = entry_id
    session.add(row)
    session.flush()
    return store.view(row, entry.number)


def waiting(session: Session, person_id: int) -> list[EvidenceView]:
    """The member's files not yet filed with an entry, oldest first."""
    return [store.view(row, 0) for row in store.waiting(session, person_id)]


def of_entries(
    session: Session, person_id: int, entry_ids: Sequence[int]
) -> dict[int, list[EvidenceView]]:
    """Evidence of these entries (the member's own), by entry id, in E-number order."""
    return store.of_entries(session, person_id, entry_ids)


def content(
    session: Session, settings: EvidenceSettings, person_id: int, evidence_number: int
) -> bytes:
    """The bytes of the member's file E`evidence_number`; LookupError if there is none
    (or it is a link)."""
    row = store.find(session, person_id, evidence_number)
    if row is None or row.sha256 is None:
        raise LookupError(f"no file E{evidence_number}")
    return store.read_blob(session, row.sha256, settings.directory)


def remove(
    session: Session, settings: EvidenceSettings, person_id: int, evidence_number: int
) -> bool:
    """Delete the member's E`evidence_number` (its bytes too, once nothing else names
    them); False if they have none. Its number is not given again."""
    row = store.find(session, person_id, evidence_number)
    if row is None:
        return False
    store.remove(session, row, settings.directory)
    return True

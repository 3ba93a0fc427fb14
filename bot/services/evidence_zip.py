"""Evidence files in a ZIP, and back (issue 16).

Writing: `/export all` and `/export evidence` put each file under its E-number,
`evidence/E3-certificate.pdf` (`bot.core.evidence_index.member_name`), with
`evidence/index.md`, the evidence index with each file's name in the ZIP. The bytes are
read a batch at a time (at most BATCH_BYTES, each batch in its own short transaction: a
write lock on SQLite is never held while the ZIP is built), and written as they are read.
Files that are compressed already (PDF, photos, Office documents) are stored, not
deflated again: that costs time and saves nothing.

Files still waiting for an entry are in the ZIP too, their metadata (which record.json,
a list of entries, cannot hold) in `evidence/waiting.json`; so are the files of deleted
entries (`/export all` is everything held: they are kept until /undo or the purge),
marked in index.md "(entry #2 deleted)", their metadata with the entry's number in
`evidence/deleted.json`.

Reading: `cpdbot import` of an `/export all` ZIP takes record.json (the entries, each with
its evidence's metadata), evidence/waiting.json, and each file by its name in the ZIP; a
file's bytes must match the SHA-256 the record gives, and no file may be larger than the
evidence limit. Deleted entries are not imported, so neither is their evidence: the
import names each piece of evidence/deleted.json it leaves out.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

from bot.core.entry_rules import shown
from bot.core.evidence_index import (
    FOLDER,
    INDEX_NAME,
    NUMBER_MAX,
    from_json,
    member_name,
    size_text,
    to_json,
)
from bot.core.model import EvidenceView
from bot.services import evidence as evidence_service
from bot.services.evidence import EvidenceSettings
from bot.services.printable.evidence import index_markdown
from storage.db import Database

BATCH_BYTES = 8 * 1024 * 1024
ZIP_MAGIC = b"PK\x03\x04"
RECORD_NAME = "record.json"
RECORD_MAX_BYTES = 200 * 1024 * 1024  # record.json of a ZIP read back
WAITING_NAME = f"{FOLDER}/waiting.json"  # the files waiting for an entry: their metadata
DELETED_NAME = f"{FOLDER}/deleted.json"  # the evidence of deleted entries: its metadata
_STORED = ("application/pdf", "image/", "application/vnd.openxmlformats", "application/vnd.oasis")


def is_zip(data: bytes) -> bool:
    return data[:4] == ZIP_MAGIC


def _compression(ev: EvidenceView) -> int:
    stored = any(ev.mime.startswith(prefix) for prefix in _STORED)
    return zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED


def _batches(items: Sequence[EvidenceView]) -> Iterator[list[EvidenceView]]:
    batch: list[EvidenceView] = []
    size = 0
    for ev in items:
        if batch and size + ev.size > BATCH_BYTES:
            yield batch
            batch, size = [], 0
        batch.append(ev)
        size += ev.size
    if batch:
        yield batch


@dataclass(frozen=True)
class Written:
    """What `write_files` put in the ZIP: files and their bytes; the ones whose bytes
    could not be read (named in index.md) are `missing`."""

    files: int
    size: int
    missing: tuple[str, ...] = ()


def write_files(
    archive: zipfile.ZipFile,
    db: Database,
    settings: EvidenceSettings,
    person_id: int,
    items: Sequence[EvidenceView],
    zone: str,
    deleted: Collection[int] = frozenset(),
) -> Written:
    """Each file of `items` as evidence/E<n>-<name>, then evidence/index.md (links listed
    there only; nothing at all when there is no evidence), the pieces of the entries
    numbered in `deleted` marked there. Bytes are read a batch at a time, each batch in
    its own transaction."""
    if not items:
        return Written(0, 0)
    files = sorted((ev for ev in items if ev.kind == "file"), key=lambda ev: ev.number)
    count = size = 0
    missing: list[str] = []
    for batch in _batches(files):
        with db.transaction() as session:
            contents: list[tuple[EvidenceView, bytes | None]] = []
            for ev in batch:
                try:
                    data: bytes | None = evidence_service.content(
                        session, settings, person_id, ev.number
                    )
                except LookupError:
                    data = None
                contents.append((ev, data))
        for ev, data in contents:
            if data is None:
                missing.append(ev.label)
                continue
            archive.writestr(member_name(ev), data, compress_type=_compression(ev))
            count += 1
            size += len(data)
    index = sorted(items, key=lambda ev: ev.number)
    lines = [f"# Evidence ({count} file{'' if count == 1 else 's'}, {size_text(size)})"]
    lines += index_markdown(index, zone, files=True, deleted=deleted)
    if missing:
        lines += ["", "Not included (the file could not be read): " + ", ".join(missing)]
    archive.writestr(INDEX_NAME, "\n".join(lines) + "\n")
    waiting = [to_json(ev) for ev in index if not ev.entry_number]
    if waiting:
        archive.writestr(WAITING_NAME, json.dumps(waiting, indent=2, ensure_ascii=False) + "\n")
    gone = [{**to_json(ev), "entry": ev.entry_number} for ev in index if ev.entry_number in deleted]
    if gone:
        archive.writestr(DELETED_NAME, json.dumps(gone, indent=2, ensure_ascii=False) + "\n")
    return Written(count, size, tuple(missing))


# ---------------------------------------------------------------- reading back


class BundleError(ValueError):
    """A ZIP that is not an `/export all` ZIP (the message says why)."""


@dataclass
class Bundle:
    """An `/export all` ZIP opened for import: its record.json, and its evidence files by
    name (each read when asked, never more than `max_bytes`)."""

    archive: zipfile.ZipFile
    record: bytes

    def file(self, ev: EvidenceView, max_bytes: int) -> bytes | str:
        """The bytes of `ev`'s file, or what is wrong (missing, too big, not the same)."""
        name = member_name(ev)
        try:
            info = self.archive.getinfo(name)
        except KeyError:
            return f"{name} is not in the ZIP"
        if info.file_size > max_bytes:
            return f"{name} is {size_text(info.file_size)}, over the evidence limit"
        try:
            with self.archive.open(info) as member:
                data = member.read(max_bytes + 1)
        except (zipfile.BadZipFile, OSError, RuntimeError, ValueError) as exc:
            return f"{name} cannot be read ({exc.__class__.__name__})"
        if len(data) > max_bytes:
            return f"{name} is over the evidence limit"
        if hashlib.sha256(data).hexdigest() != ev.sha256:
            return f"{name} does not match the SHA-256 in record.json"
        return data

    def waiting(self) -> tuple[list[EvidenceView], list[str]]:
        """The files that were waiting for an entry (evidence/waiting.json; none in a ZIP
        without it), and what is wrong with that list."""
        found, problems = self._listed(WAITING_NAME)
        return [ev for ev in found if ev.kind == "file"], problems

    def deleted(self) -> tuple[list[EvidenceView], list[str]]:
        """The evidence of deleted entries, each with its entry's number
        (evidence/deleted.json; none in a ZIP without it), and what is wrong with it."""
        return self._listed(DELETED_NAME)

    def _listed(self, name: str) -> tuple[list[EvidenceView], list[str]]:
        try:
            info = self.archive.getinfo(name)
        except KeyError:
            return [], []
        if info.file_size > RECORD_MAX_BYTES:
            return [], [f"{name} is too large ({size_text(info.file_size)})"]
        try:
            with self.archive.open(info) as member:
                items = json.loads(member.read(RECORD_MAX_BYTES + 1))
        except (zipfile.BadZipFile, OSError, RuntimeError, ValueError) as exc:
            return [], [f"{name} cannot be read ({exc.__class__.__name__})"]
        if not isinstance(items, list):
            return [], [f"{name} must be a list of evidence"]
        found: list[EvidenceView] = []
        problems: list[str] = []
        for item in items:
            entry = item.get("entry", 0) if isinstance(item, dict) else 0
            if type(entry) is not int or not 0 <= entry <= NUMBER_MAX:
                problems.append(f"{name}: entry must be an entry number, not {shown(entry)}")
                continue
            ev, wrong = from_json(item, entry)
            problems += [f"{name}: {p}" for p in wrong]
            if ev is not None:
                found.append(ev)
        return found, problems


def open_bundle(data: bytes) -> Bundle:
    """The ZIP of `/export all`: BundleError if it is not one."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        info = archive.getinfo(RECORD_NAME)
    except zipfile.BadZipFile:
        raise BundleError("not a ZIP file that can be read") from None
    except KeyError:
        raise BundleError(f"not an /export all ZIP (it has no {RECORD_NAME})") from None
    if info.file_size > RECORD_MAX_BYTES:
        raise BundleError(f"{RECORD_NAME} is too large ({size_text(info.file_size)})")
    try:
        with archive.open(info) as member:
            record = member.read(RECORD_MAX_BYTES + 1)
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError) as exc:
        raise BundleError(f"{RECORD_NAME} cannot be read ({exc.__class__.__name__})") from None
    if len(record) > RECORD_MAX_BYTES:
        raise BundleError(f"{RECORD_NAME} is too large")
    return Bundle(archive, record)

"""Evidence rows and bytes (issue 16): links in `evidence`, content in `evidence_blob`.

A file's bytes are kept once, keyed by their SHA-256: in the database (`content`), or,
with a directory store (EVIDENCE_DIR), in a file named by the hash, written under a
temporary name and renamed into place before the transaction commits. The blob row is
written in the same transaction as the link, so a file is never half-stored in the
database; a rollback after the rename leaves at most an unnamed file in the directory,
which `sweep_directory` (`cpdbot db evidence-sweep`) removes. A blob goes with its last
link; its file is removed once that deletion has committed (`after_commit`), so a
rollback never leaves a row without its file. Like `repo`, this flushes, never commits.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, event, exists, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from bot.core.model import EvidenceView
from storage.models import Entry, Evidence, EvidenceBlob, Person

log = logging.getLogger("cpdbot.evidence")

_BLOB: Table = EvidenceBlob.__table__  # type: ignore[attr-defined]
_EVIDENCE: Table = Evidence.__table__  # type: ignore[attr-defined]
_ENTRY: Table = Entry.__table__  # type: ignore[attr-defined]
_PERSON: Table = Person.__table__  # type: ignore[attr-defined]
_HEX = re.compile(r"[0-9a-f]{64}")
# A file in the directory store no row names is removed by the sweep only once it is this
# old: younger, it may be a file another worker renamed into place and is about to commit.
SWEEP_GRACE_SECONDS = 3600
_TEMP_PREFIX = ".incoming-"


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def next_number(session: Session, person_id: int) -> int:
    """The person's next evidence number (E1, E2, ...): counted on their row, so a number
    is never given twice, even after the evidence it named was removed; the row stays
    locked until the transaction ends, so concurrent stores take their turns."""
    stmt = (
        update(_PERSON)
        .where(_PERSON.c.id == person_id)
        .values(last_evidence_number=_PERSON.c.last_evidence_number + 1)
        .returning(_PERSON.c.last_evidence_number)
    )
    number: int = session.execute(stmt).scalar_one()
    loaded = session.identity_map.get(session.identity_key(Person, person_id))
    if loaded is not None:
        session.expire(loaded, ["last_evidence_number"])
    return number


def renumber(session: Session, person_id: int, number: int, new: int) -> bool:
    """Make the person's E`number` E`new` if they have no E`new` (`cpdbot import` keeping
    the numbers of the record it restores); the count of numbers given is raised to `new`,
    so it is never given again. False if E`new` is taken."""
    row = find(session, person_id, number)
    if row is None or find(session, person_id, new) is not None:
        return False
    row.number = new
    session.add(row)
    session.flush()
    session.execute(
        update(_PERSON)
        .where(_PERSON.c.id == person_id, _PERSON.c.last_evidence_number < new)
        .values(last_evidence_number=new)
    )
    loaded = session.identity_map.get(session.identity_key(Person, person_id))
    if loaded is not None:
        session.expire(loaded, ["last_evidence_number"])
    return True


def used_bytes(session: Session, person_id: int) -> int:
    """What the person's files take against their quota: each distinct content once."""
    distinct = (
        select(_EVIDENCE.c.sha256, func.max(_EVIDENCE.c.size).label("size"))
        .where(_EVIDENCE.c.person_id == person_id, _EVIDENCE.c.sha256.is_not(None))
        .group_by(_EVIDENCE.c.sha256)
        .subquery()
    )
    total = session.execute(select(func.coalesce(func.sum(distinct.c.size), 0))).scalar_one()
    return int(total)


def holds_content(session: Session, person_id: int, sha256: str) -> bool:
    query = select(exists().where(_EVIDENCE.c.person_id == person_id, _EVIDENCE.c.sha256 == sha256))
    return bool(session.execute(query).scalar_one())


def _blob_exists(session: Session, sha256: str) -> bool:
    return bool(session.execute(select(exists().where(_BLOB.c.sha256 == sha256))).scalar_one())


def _write_file(directory: Path, sha256: str, content: bytes) -> None:
    """The bytes as `directory/sha256`, complete or not at all (temp file, fsync, rename)."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / sha256
    if target.is_file() and target.stat().st_size == len(content):
        return
    fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def put_blob(
    session: Session, sha256: str, content: bytes, now: datetime, directory: Path | None
) -> None:
    """Keep `content` under its hash (nothing if it is kept already): in the database, or
    in the directory store (written before the transaction commits)."""
    if _blob_exists(session, sha256):
        return
    if directory is not None:
        _write_file(directory, sha256, content)
    values = {
        "sha256": sha256,
        "size": len(content),
        "content": None if directory is not None else content,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = pg_insert(_BLOB).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite_insert(_BLOB).values(values).on_conflict_do_nothing()
    else:  # pragma: no cover - the two supported databases are above
        stmt = insert(_BLOB).values(values)
    session.execute(stmt)


def add(session: Session, **values: Any) -> Evidence:
    """A new evidence row (its blob put first); flushed, so a unique clash raises here."""
    row = Evidence(**values)
    session.add(row)
    session.flush()
    return row


def read_blob(session: Session, sha256: str, directory: Path | None) -> bytes:
    """The bytes kept under `sha256`; LookupError if they are not there."""
    row = session.execute(
        select(_BLOB.c.content, _BLOB.c.size).where(_BLOB.c.sha256 == sha256)
    ).first()
    if row is None:
        raise LookupError("no such content")
    if row.content is not None:
        return bytes(row.content)
    if directory is None or not _HEX.fullmatch(sha256):
        raise LookupError("the content is in a directory store that is not configured")
    try:
        return (directory / sha256).read_bytes()
    except FileNotFoundError:
        raise LookupError("the content's file is missing from the directory store") from None


def find(session: Session, person_id: int, number: int) -> Evidence | None:
    query = select(Evidence).where(_EVIDENCE.c.person_id == person_id, _EVIDENCE.c.number == number)
    return session.execute(query).scalar_one_or_none()


def entry_number(session: Session, entry_id: int | None) -> int:
    if entry_id is None:
        return 0
    number = session.execute(select(_ENTRY.c.number).where(_ENTRY.c.id == entry_id)).scalar()
    return int(number or 0)


def view(row: Evidence, entry_no: int) -> EvidenceView:
    return EvidenceView(
        number=row.number,
        entry_number=entry_no,
        kind=row.kind,
        name=row.name,
        mime=row.mime,
        size=row.size,
        sha256=row.sha256 or "",
        received_at=row.received_at,
        url=row.url or "",
    )


def waiting(session: Session, person_id: int) -> list[Evidence]:
    query = (
        select(Evidence)
        .where(_EVIDENCE.c.person_id == person_id, _EVIDENCE.c.entry_id.is_(None))
        .order_by(_EVIDENCE.c.number)
    )
    return list(session.execute(query).scalars())


def of_entries(
    session: Session, person_id: int, entry_ids: Sequence[int]
) -> dict[int, list[EvidenceView]]:
    """Evidence of these entries (the person's own only), by entry id, in E-number order:
    one query."""
    found: dict[int, list[EvidenceView]] = {}
    if not entry_ids:
        return found
    query = (
        select(Evidence, _ENTRY.c.number)
        .join(_ENTRY, _ENTRY.c.id == _EVIDENCE.c.entry_id)
        .where(
            _EVIDENCE.c.person_id == person_id,
            _ENTRY.c.person_id == person_id,
            _EVIDENCE.c.entry_id.in_(list(entry_ids)),
        )
        .order_by(_EVIDENCE.c.number)
    )
    for row, number in session.execute(query).all():
        assert row.entry_id is not None
        found.setdefault(row.entry_id, []).append(view(row, int(number)))
    return found


def by_entry_number(
    session: Session, person_id: int, numbers: Sequence[int]
) -> dict[int, tuple[EvidenceView, ...]]:
    """Evidence of the person's entries #`numbers`, by entry number, in E-number order:
    one query (the record's entries carry numbers, not ids)."""
    found: dict[int, list[EvidenceView]] = {}
    if not numbers:
        return {}
    query = (
        select(Evidence, _ENTRY.c.number)
        .join(_ENTRY, _ENTRY.c.id == _EVIDENCE.c.entry_id)
        .where(
            _EVIDENCE.c.person_id == person_id,
            _ENTRY.c.person_id == person_id,
            _ENTRY.c.number.in_(list(numbers)),
        )
        .order_by(_EVIDENCE.c.number)
    )
    for row, number in session.execute(query).all():
        found.setdefault(int(number), []).append(view(row, int(number)))
    return {k: tuple(v) for k, v in found.items()}


def drop_unreferenced(session: Session, hashes: Iterable[str], directory: Path | None) -> int:
    """Delete the blobs among `hashes` no evidence row names any more; their files in the
    directory store go once this transaction has committed. Returns how many went."""
    gone = 0
    removed: list[str] = []
    for sha256 in sorted(set(hashes)):
        still = exists().where(_EVIDENCE.c.sha256 == sha256)
        result = session.execute(delete(_BLOB).where(_BLOB.c.sha256 == sha256, ~still))
        if result.rowcount:  # type: ignore[attr-defined]
            gone += 1
            removed.append(sha256)
    if removed and directory is not None:
        folder = directory
        event.listen(
            session, "after_commit", lambda s: _remove_files(s, folder, removed), once=True
        )
    return gone


def _remove_files(session: Session, directory: Path, hashes: list[str]) -> None:
    """After the deletion committed: the files of blobs no row names (one put back since,
    by another transaction, keeps its file)."""
    bind = session.get_bind()
    engine = bind.engine  # a Connection's engine is itself's: a fresh connection either way
    with engine.connect() as conn:
        kept = set(conn.execute(select(_BLOB.c.sha256).where(_BLOB.c.sha256.in_(hashes))).scalars())
    for sha256 in hashes:
        if sha256 in kept or not _HEX.fullmatch(sha256):
            continue
        try:
            (directory / sha256).unlink(missing_ok=True)
        except OSError:  # the sweep removes it later
            log.warning("an evidence file could not be removed from the directory store")


def remove(session: Session, row: Evidence, directory: Path | None) -> None:
    """Delete one piece of evidence, and its blob if no other row names it."""
    sha256 = row.sha256
    session.delete(row)
    session.flush()
    if sha256 is not None:
        drop_unreferenced(session, [sha256], directory)


def erase_person(session: Session, person_id: int, directory: Path | None) -> tuple[int, int]:
    """For `/forget`: delete the person's evidence rows, then every blob only they used
    (bytes in the database, files in the directory store once committed). Returns how
    many rows and how many blobs went."""
    hashes = list(
        session.execute(
            select(_EVIDENCE.c.sha256).where(
                _EVIDENCE.c.person_id == person_id, _EVIDENCE.c.sha256.is_not(None)
            )
        ).scalars()
    )
    result = session.execute(delete(_EVIDENCE).where(_EVIDENCE.c.person_id == person_id))
    blobs = drop_unreferenced(session, hashes, directory)
    return int(result.rowcount), blobs  # type: ignore[attr-defined]


def sweep_directory(session: Session, directory: Path, *, now: float | None = None) -> list[str]:
    """Remove files of the directory store no blob row names (left by a transaction rolled
    back after its file was renamed into place), and abandoned temporary files; only
    those older than SWEEP_GRACE_SECONDS. Returns the names removed."""
    if not directory.is_dir():
        return []
    moment = time.time() if now is None else now
    named = set(session.execute(select(_BLOB.c.sha256)).scalars())
    removed = []
    for path in sorted(directory.iterdir()):
        if not path.is_file() or path.name in named:
            continue
        if not (_HEX.fullmatch(path.name) or path.name.startswith(_TEMP_PREFIX)):
            continue  # not ours: left alone
        if moment - path.stat().st_mtime < SWEEP_GRACE_SECONDS:
            continue
        path.unlink(missing_ok=True)
        removed.append(path.name)
    return removed


def copy_directory(source: Path, target: Path) -> int:
    """Copy the directory store's files to `target` (for `cpdbot db backup`, after the
    database's copy: a file added meanwhile is copied too and harmless, a file removed
    meanwhile was erased). Content-addressed, so a file already there is the same and is
    not copied again; each appears complete or not at all. Returns how many were copied."""
    if not source.is_dir():
        return 0
    target.mkdir(parents=True, exist_ok=True)
    copied = 0
    for path in sorted(source.iterdir()):
        if not (path.is_file() and _HEX.fullmatch(path.name)):
            continue
        dest = target / path.name
        if dest.is_file() and dest.stat().st_size == path.stat().st_size:
            continue
        try:
            _write_file(target, path.name, path.read_bytes())
        except FileNotFoundError:  # removed since it was listed (erased): not copied
            continue
        copied += 1
    return copied

"""Evidence in the engine (issue 16): what the dialogue's evidence needs load, the file an
event brings stored before the step (so the dialogue says what was kept), the evidence
effects applied, and the files /evidence sends back read after the commit.

A file is stored in the event's transaction: refused (`EvidenceRefused`) it leaves nothing
behind, and the dialogue says why; a repeated update rolls it back with the rest.

A PDF certificate's text (pypdf: up to `certificate.BUDGET_SECONDS` of CPU) is never read
inside a transaction, where it would hold SQLite's write lock: the engine reads the file
an event brings before its transaction (`read_before`), and a certificate already kept
([Use these], [Log it]) is read after the transaction that found it wanting rolled back
(`Unread`), the event then run again. Only the facts are drawn from that text inside,
with the person's date order and today (milliseconds).
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Protocol, cast

from sqlmodel import Session, col, select

from bot.core.model import (
    AttachLink,
    Attachment,
    Effect,
    EntryView,
    FileEvidence,
    Incoming,
    IncomingFile,
    Kind,
    Outgoing,
    RemoveEvidence,
)
from bot.core.parsing import DateOrder
from bot.core.plan import PlanError
from bot.core.snapshot import RECEIVE_LATEST, Facts, Needs, Received, Snapshot
from bot.core.zones import local_today
from bot.services import certificate, evidence
from bot.services.evidence import EvidenceRefused, EvidenceSettings, megabytes
from bot.services.evidence_types import detect
from storage import entry_store, repo
from storage import evidence as store
from storage.db import Database
from storage.models import Entry

log = logging.getLogger("cpdbot.evidence")

LATEST_MINUTES = 30  # a file sent this soon after a save goes with that entry
PDF = "application/pdf"
PREFIX = "evidence:"  # FileRequest kind: evidence:<E-number>, read after the commit
_DATE_ORDERS = ("DMY", "MDY", "YMD")
# A certificate's title words that tell activities apart (not these, nor 1-2 letters).
_WORD = re.compile(r"[^\W_]+")
_COMMON = frozenset(("the", "and", "for", "with", "from", "cpd", "certificate", "attendance"))

# certificate.read_text's result (the text of the first pages and the /Author, or None),
# by the SHA-256 of the PDF it was read from: read outside any transaction.
Reading = tuple[str, str | None] | None
Readings = dict[str, Reading]


class Unread(Exception):
    """A certificate's text is needed and was not read before the transaction: the engine
    rolls the transaction back, reads `content` (`read`) and runs the event again."""

    def __init__(self, sha256: str, content: bytes) -> None:
        super().__init__("a certificate to read outside the transaction")
        self.sha256 = sha256
        self.content = content


def read(content: bytes) -> Reading:
    """A PDF's text (certificate.read_text), never an error: a bad PDF has none. Call it
    outside any transaction."""
    try:
        return certificate.read_text(content)
    except Exception:
        log.warning("reading a certificate failed", exc_info=True)
        return None


def read_before(event: Incoming) -> Readings:
    """The text of the PDF a file event brings, read before the event's transaction."""
    file = event.file
    if event.kind != Kind.FILE or not event.private or file is None or not file.content:
        return {}
    if detect(file.content) != PDF:
        return {}
    return {store.sha256_of(file.content): read(file.content)}


class Engine(Protocol):
    """What of the engine (bot.services.engine.Engine) sending files back uses."""

    db: Database
    evidence: EvidenceSettings


def load(
    session: Session,
    settings: EvidenceSettings,
    person_id: int,
    need: Needs,
    event: Incoming,
    snap: Snapshot,
    now: datetime,
    readings: Readings,
) -> Snapshot:
    """`snap` with the evidence the step (whose needs are `need`) asks for, and the event's
    file stored; a certificate's facts from its text in `readings` (else `Unread`)."""
    if need.receive is not None and event.kind == Kind.FILE and snap.person.onboarded:
        file = event.file
        got = _receive(session, settings, person_id, need.receive, file, snap, now, readings)
        snap = replace(snap, received=got)
    if need.evidence is not None:
        ids, deleted = _entry_ids(session, person_id, need.evidence)
        found = evidence.of_entries(session, person_id, ids)
        pieces = sorted((v for views in found.values() for v in views), key=lambda v: v.number)
        snap = replace(snap, evidence=tuple(pieces), deleted=deleted)
    if need.waiting:
        snap = replace(snap, waiting=tuple(evidence.waiting(session, person_id)))
    if need.certificate is not None:
        facts = _certificate(session, settings, person_id, need.certificate, snap, readings)
        snap = replace(snap, facts=facts)
    return snap


def _certificate(
    session: Session,
    settings: EvidenceSettings,
    person_id: int,
    number: int,
    snap: Snapshot,
    readings: Readings,
) -> Facts | None:
    """The facts of the person's file E`number` (None: no such PDF, or it states none)."""
    row = store.find(session, person_id, number)
    if row is None or row.sha256 is None or row.mime != PDF:
        return None
    if row.sha256 not in readings:
        try:
            pdf = evidence.content(session, settings, person_id, number)
        except (LookupError, OSError):
            return None
        raise Unread(row.sha256, pdf)
    return _facts(readings[row.sha256], snap)


def _entry_ids(session: Session, person_id: int, number: int) -> tuple[list[int], frozenset[int]]:
    """The ids of entry #number (0: of every entry of the person's), and the numbers of
    those that are deleted (their evidence is kept until /undo or the purge)."""
    query = select(Entry.id, Entry.number, Entry.deleted_at).where(Entry.person_id == person_id)
    if number:
        query = query.where(Entry.number == number)
    rows = session.exec(query).all()
    ids = [i for i, _, _ in rows if i is not None]
    return ids, frozenset(n for _, n, gone in rows if gone is not None)


def _receive(
    session: Session,
    settings: EvidenceSettings,
    person_id: int,
    target: int,
    file: IncomingFile | None,
    snap: Snapshot,
    now: datetime,
    readings: Readings,
) -> Received:
    """Store the file with its entry (or waiting); what happened, for the dialogue."""
    if file is None:
        return Received(refused="I received no file there. Nothing was attached.")
    entry: Entry | None = None
    latest = False
    if target > 0:
        entry = entry_store.get_entry(session, person_id, target)
        if entry is None or entry.deleted_at is not None:
            return Received(missing=target)
    elif target == RECEIVE_LATEST:
        entry = _latest(session, person_id, now)
        latest = entry is not None
    if not file.content and file.size > settings.max_bytes:
        return Received(
            refused=f"That file is {megabytes(file.size)}; I keep files up to "
            f"{megabytes(settings.max_bytes)}. Nothing was attached."
        )
    try:
        with session.begin_nested():
            view = evidence.store_file(
                session, settings, person_id, entry.id if entry else None, file, now
            )
    except EvidenceRefused as refused:
        return Received(refused=str(refused))
    facts = None
    if view.mime == PDF:
        if view.sha256 not in readings:  # not read before the transaction (read_before)
            raise Unread(view.sha256, file.content)
        facts = _facts(readings[view.sha256], snap)
    shown = _view(session, person_id, entry) if entry is not None else None
    match = _match(session, person_id, facts, entry) if facts is not None else None
    return Received(view=view, entry=shown, latest=latest, facts=facts, match=match)


def _words(title: str) -> set[str]:
    return {w for w in _WORD.findall(title.lower()) if len(w) > 2 and w not in _COMMON}


def _match(session: Session, person_id: int, facts: Facts, filed: Entry | None) -> EntryView | None:
    """The person's live entry of the certificate's date sharing the most words of its
    title, if it fits better than `filed` (the entry the file went with)."""
    words = _words(facts.title or "")
    if facts.activity_date is None or not words:
        return None
    rows = session.exec(
        select(Entry).where(
            Entry.person_id == person_id,
            Entry.activity_date == facts.activity_date,
            col(Entry.deleted_at).is_(None),
        )
    ).all()

    def fit(row: Entry) -> tuple[bool, int]:
        return row.activity_date == facts.activity_date, len(words & _words(row.title))

    others = [r for r in rows if filed is None or r.id != filed.id]
    best = max(others, key=lambda r: (fit(r), -r.number), default=None)
    if best is None or fit(best)[1] == 0:
        return None
    if filed is not None and fit(filed) >= fit(best):
        return None
    return _view(session, person_id, best)


def _latest(session: Session, person_id: int, now: datetime) -> Entry | None:
    """The person's latest live entry, if it was saved in the last LATEST_MINUTES."""
    row = session.exec(
        select(Entry)
        .where(Entry.person_id == person_id, col(Entry.deleted_at).is_(None))
        .order_by(col(Entry.created_at).desc(), col(Entry.number).desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    return row if now - created <= timedelta(minutes=LATEST_MINUTES) else None


def _view(session: Session, person_id: int, entry: Entry) -> EntryView | None:
    return entry_store.entry_view(session, person_id, entry.number)


def _facts(reading: Reading, snap: Snapshot) -> Facts | None:
    """A certificate's facts, if its text states any (never an error)."""
    if reading is None:
        return None
    text, author = reading
    today = local_today(snap.now, snap.person.timezone)
    order = snap.person.date_order
    order = order if order in _DATE_ORDERS else "DMY"
    try:
        found = certificate.facts_from_text(
            text, author=author, date_order=cast(DateOrder, order), today=today
        )
    except Exception:
        log.warning("reading a certificate's facts failed", exc_info=True)
        return None
    if found is None:
        return None
    facts = Facts(found.title, found.activity_date, found.provider, found.minutes)
    return facts if facts != Facts() else None


def apply(
    session: Session, settings: EvidenceSettings, person_id: int, effect: Effect, now: datetime
) -> bool:
    """Apply an evidence effect (True), or leave `effect` to the caller (False). What storage
    still refuses (changed meanwhile) rolls the event back, as a plan change does."""
    if not isinstance(effect, FileEvidence | AttachLink | RemoveEvidence):
        return False
    try:
        if isinstance(effect, RemoveEvidence):
            evidence.remove(session, settings, person_id, effect.number)
            return True
        entry = entry_store.get_entry(session, person_id, effect.entry_number)
        if entry is None or entry.id is None:
            raise EvidenceRefused(f"entry #{effect.entry_number} is no longer there")
        if isinstance(effect, AttachLink):
            kept = evidence.store_link(session, person_id, entry.id, effect.url, now)
            if effect.number and kept.number != effect.number:  # another kept meanwhile
                raise EvidenceRefused("your evidence changed meanwhile; send the link again")
            return True
        row = store.find(session, person_id, effect.number)
        if row is not None and row.entry_id not in (None, entry.id):
            row.entry_id = None  # moved to another entry: waiting for an instant
            session.add(row)
        evidence.file_with_entry(session, person_id, effect.number, entry.id)
    except EvidenceRefused as refused:
        raise PlanError(str(refused).rstrip(".")) from refused
    return True


def carry_out(
    engine: Engine, event: Incoming, replies: tuple[Outgoing, ...]
) -> tuple[Outgoing, ...]:
    """The files /evidence N sends back, read now that the event's transaction committed."""
    if not any(r.file is not None and r.file.kind.startswith(PREFIX) for r in replies):
        return replies
    made: list[Outgoing] = []
    with engine.db.transaction() as session:
        found = repo.find_person(session, event.identity)
        for reply in replies:
            request = reply.file
            if request is None or not request.kind.startswith(PREFIX):
                made.append(reply)
                continue
            number = request.kind.removeprefix(PREFIX)
            attachment = None
            if found is not None and number.isdigit():
                attachment = _attachment(session, engine.evidence, found[0], int(number))
            if attachment is None:
                made.append(Outgoing(request.failed or "I couldn't read that file just now."))
            else:
                made.append(replace(reply, attachment=attachment, file=None))
    return tuple(made)


def _attachment(
    session: Session, settings: EvidenceSettings, person_id: int, number: int
) -> Attachment | None:
    row = store.find(session, person_id, number)
    if row is None or row.sha256 is None:
        return None
    try:
        content = evidence.content(session, settings, person_id, number)
    except (LookupError, OSError):
        log.warning("evidence E%d could not be read", number)
        return None
    return Attachment(row.name, content, row.mime)

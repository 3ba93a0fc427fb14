"""The evidence of imported entries (`cpdbot import`, issue 16), in the import's transaction.

Files come from an `/export all` ZIP (`evidence_zip.Bundle`: the bytes must match the
SHA-256 the record gives); links from the record itself, so a JSON export restores them
too (its files need the ZIP). Each piece goes through the rules a member's own file goes
through (`bot.services.evidence.store_file`: size, type read from the content, quota),
so nothing in the file is trusted.

Numbers: a piece keeps its E-number when the person has no evidence of that number
(restoring into a new or empty record keeps every number the printed record and its index
used); otherwise it gets the next free one, and `Restored.renumbered` says which. Pieces
are stored in E-number order.

Twice: a file already on the entry (same SHA-256), or a link already on it (same
address), is skipped, so importing the same ZIP again adds nothing. Files that were
waiting for an entry (`evidence/waiting.json` in the ZIP) wait again, once.

Deleted entries are not imported (`bot.services.record_import`), so the evidence kept with
them (`evidence/deleted.json`: `/export all` holds everything) is left out, each piece
named in `Restored.left_out`; the import goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session

from bot.core.model import EvidenceView, IncomingFile
from bot.services import evidence as service
from bot.services.evidence import EvidenceRefused, EvidenceSettings
from bot.services.evidence_zip import Bundle
from storage import evidence as store


@dataclass
class Restored:
    """What was done with the imported entries' evidence."""

    added: int = 0
    skipped: int = 0  # already on the entry
    without_file: int = 0  # a file listed in a JSON or CSV import: its bytes need the ZIP
    renumbered: list[tuple[int, int]] = field(default_factory=list)  # (in the file, now)
    bad: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # a deleted entry's, said why


def restore(
    session: Session,
    settings: EvidenceSettings,
    person_id: int,
    pieces: Sequence[tuple[EvidenceView, int]],
    bundle: Bundle | None,
) -> Restored:
    """Store each (evidence, entry id) of `pieces` with its entry, and the ZIP's files that
    were waiting for an entry as waiting again; what could not be kept is named in `bad`
    (the caller decides whether that stops the import), a deleted entry's evidence in
    `left_out`."""
    done = Restored()
    ids = sorted({entry_id for _, entry_id in pieces})
    held = service.of_entries(session, person_id, ids)
    there: set[tuple[int | None, str]] = {
        (entry_id, _key(ev)) for entry_id, views in held.items() for ev in views
    }
    there |= {(None, _key(ev)) for ev in service.waiting(session, person_id)}
    todo: list[tuple[EvidenceView, int | None]] = list(pieces)
    if bundle is not None:
        waiting, problems = bundle.waiting()
        todo += [(ev, None) for ev in waiting]
        done.bad += problems
        gone, problems = bundle.deleted()
        done.bad += problems
        done.left_out += [
            f"{ev.label} ({ev.url or ev.name}) not imported: it was kept with "
            f"#{ev.entry_number}, which was deleted (deleted entries are not imported)."
            for ev in gone
        ]
    for ev, entry_id in sorted(todo, key=lambda p: p[0].number):
        if (entry_id, _key(ev)) in there:
            done.skipped += 1
            continue
        if ev.kind == "file" and bundle is None:
            done.without_file += 1
            continue
        try:
            kept = _store(session, settings, person_id, ev, entry_id, bundle)
        except EvidenceRefused as exc:
            done.bad.append(f"{ev.label} ({ev.name}): {exc}")
            continue
        there.add((entry_id, _key(ev)))
        done.added += 1
        if kept.number != ev.number:
            if store.renumber(session, person_id, kept.number, ev.number):
                continue
            done.renumbered.append((ev.number, kept.number))
    return done


def _key(ev: EvidenceView) -> str:
    """What makes a piece the same on one entry: a file's content, a link's address."""
    return ev.sha256 or ev.url or ev.name


def _store(
    session: Session,
    settings: EvidenceSettings,
    person_id: int,
    ev: EvidenceView,
    entry_id: int | None,
    bundle: Bundle | None,
) -> EvidenceView:
    """Keep one piece with the entry, received when the record says; EvidenceRefused if it
    cannot be (the reason as the member would read it)."""
    if ev.kind == "link" and entry_id is not None:
        if not ev.url and ev.name.endswith("…"):
            raise EvidenceRefused("the link was shortened in the export, so it cannot be kept")
        return service.store_link(session, person_id, entry_id, ev.url or ev.name, ev.received_at)
    assert bundle is not None and ev.kind == "file"
    content = bundle.file(ev, settings.max_bytes)
    if isinstance(content, str):
        raise EvidenceRefused(content)
    file = IncomingFile(ev.name, content, len(content))
    return service.store_file(session, settings, person_id, entry_id, file, ev.received_at)

"""`cpdbot import`: a `cpdbot export` file (JSON or CSV), or the ZIP of `/export all`
(entries and their evidence), added to a person's record.

Nothing in the file is trusted. Every row is read and checked with the rules the dialogue
applies (`bot.core.export.read_rows`, `bot.core.entry_rules`); each bad row is named (row
and what is wrong) and a file with a bad row imports nothing unless `skip_bad` is set.
Entries already recorded are skipped, deleted ones are not imported as live, and
concurrent imports for one person take turns on the person's row (a conflict re-runs the
import on fresh data), so each entry goes in once. Evidence goes in with its entries, in
the same transaction (`bot.services.evidence_import`: numbers kept when free, a piece
already on its entry skipped).

Numbers: restoring into a record with no entries (none at all, deleted ones included)
keeps every entry's number, so the printed record, the HCPC profile and the member's own
words ("#7") still point at the same activities; into a record that has entries, the new
ones get the next numbers and `Imported.renumbered` says which moved ("#1 is now #12").
An `/export all` record.json also brings back the other bodies followed, the entries'
filings in them, the explained gaps and the HCPC profile (its picked numbers and "#N"
in its text follow the entries), each once (`storage.record_restore`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col

from bot.core import entry_rules, export
from bot.core.entry_rules import MAX_DAY_MINUTES
from bot.core.model import EntryView, EvidenceView, IdentityKey
from bot.core.sanitize import clean_line
from bot.core.schemes import Scheme, scheme_for
from bot.core.whole_record import Kept, read_kept
from bot.core.zones import is_zone, local_today
from bot.services import evidence_zip
from bot.services.evidence import EvidenceSettings
from bot.services.evidence_import import Restored, restore
from storage import bodies as body_store
from storage import entry_store, record_restore, repo
from storage.db import Database
from storage.models import Entry

MAX_ATTEMPTS = 5


class RecordImportError(ValueError):
    """An import that cannot be done; the message says why, `problems` lists each bad row
    ('entry 3: minutes must be …')."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


@dataclass(frozen=True)
class Imported:
    """What an import did: entries added, entries skipped as already recorded, and the bad
    rows left out (only with `skip_bad`; without it a bad row imports nothing)."""

    added: int
    skipped: int
    bad: tuple[str, ...] = ()
    evidence: Restored = field(default_factory=Restored)  # what became of their evidence
    renumbered: tuple[tuple[int, int], ...] = ()  # (number in the file, number now)
    restored: tuple[str, ...] = ()  # "2 other bodies", "1 gap note", ... put back

    def said(self) -> list[str]:
        """What the import tells the member beyond the counts: entries whose number
        changed, and the rest of the record put back."""
        lines = [f"#{was} is now #{now}." for was, now in self.renumbered]
        if self.restored:
            lines.append(f"Restored {', '.join(self.restored)}.")
        return lines


class _Refused(Exception):
    """Evidence that could not be kept, found inside the import's transaction: undo it."""

    def __init__(self, bad: Sequence[str]) -> None:
        super().__init__("evidence refused")
        self.bad = tuple(bad)


def _entries_word(n: int) -> str:
    return f"{n:,} bad entr{'y' if n == 1 else 'ies'}"


def read_entries(data: bytes, scheme: Scheme, *, today: date = date.max) -> list[EntryView]:
    """Entries from a `cpdbot export` file, JSON or CSV (told apart by content); a file
    with a bad row is refused (RecordImportError naming each)."""
    entries, bad = _read(data, scheme, today)
    if bad:
        raise RecordImportError(f"{_entries_word(len(bad))}", bad)
    return entries


def _read(data: bytes, scheme: Scheme, today: date) -> tuple[list[EntryView], list[str]]:
    try:
        rows = export.read_rows(data, scheme, today=today)
    except export.ExportError as exc:
        raise RecordImportError(str(exc)) from None
    bad = [f"{r.where}: {p}" for r in rows for p in r.problems]
    return [r.entry for r in rows if r.entry is not None and not r.problems], bad


def person_header(data: bytes) -> dict[str, Any]:
    """The person section of a JSON export ({} for CSV, none, or a file not read)."""
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] != b"{":
        return {}
    try:
        person = export.load_json(data).get("person")
    except export.ExportError:
        return {}
    return person if isinstance(person, dict) else {}


def _same(e: EntryView | Entry) -> tuple[date, date | None, str, int, str]:
    return (e.activity_date, e.end_date, e.title, e.minutes, e.category)


def import_entries(
    db: Database,
    key: IdentityKey,
    entries: Sequence[EntryView],
    *,
    now: datetime,
    person_fields: dict[str, object] | None = None,
) -> tuple[int, int]:
    """Add `entries` to the person's record, skipping ones already there: (added, skipped).

    An entry is already there when a live entry has the same dates (first and last),
    title, minutes and category (each existing entry matches one imported entry at most,
    so two identical activities on one day stay two). Deleted entries are not imported.
    Added entries get new numbers; reflections come with them, and their links (files
    need the ZIP: `import_report`). The person is created if new, with `person_fields`
    (e.g. scheme) applied. Another import for the same person at the same time waits for
    this one (or conflicts and re-runs on fresh data).
    """
    done = _import(db, key, entries, now=now, person_fields=person_fields)
    return done.added, done.skipped


def _import(
    db: Database,
    key: IdentityKey,
    entries: Sequence[EntryView],
    *,
    now: datetime,
    person_fields: dict[str, object] | None,
    bundle: evidence_zip.Bundle | None = None,
    settings: EvidenceSettings | None = None,
    skip_bad: bool = True,
    kept: Kept | None = None,
) -> Imported:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with db.transaction() as session:
                return _import_once(
                    session,
                    key,
                    entries,
                    now=now,
                    person_fields=person_fields,
                    bundle=bundle,
                    settings=settings or EvidenceSettings(),
                    skip_bad=skip_bad,
                    kept=kept or Kept(),
                )
        except (IntegrityError, OperationalError):
            if attempt == MAX_ATTEMPTS:
                raise
            time.sleep(0.01 * attempt)
    raise AssertionError("unreachable")


def _import_once(
    session: Session,
    key: IdentityKey,
    entries: Sequence[EntryView],
    *,
    now: datetime,
    person_fields: dict[str, object] | None,
    bundle: evidence_zip.Bundle | None,
    settings: EvidenceSettings,
    skip_bad: bool,
    kept: Kept,
) -> Imported:
    added = skipped = 0
    _, person, created = repo.get_or_create_identity(session, key, now=now)
    assert person.id is not None
    if created and person_fields:
        repo.update_person(session, person.id, person_fields)
    number = entry_store.lock_numbering(session, person.id)
    keep = not record_restore.has_entries(session, person.id)  # an empty record: keep numbers
    existing = entry_store.live_views_with_ids(session, col(Entry.person_id) == person.id)
    available: dict[tuple[date, date | None, str, int, str], list[tuple[int, int]]] = {}
    for entry_id, view in existing:
        available.setdefault(_same(view), []).append((entry_id, view.number))
    live = [e for e in entries if not e.deleted]
    if keep:
        number = max([number, *(e.number for e in live)])
    taken: set[int] = set()
    moved: dict[int, int] = {}  # number in the file -> number in the record
    ids: dict[int, int] = {}  # number in the file -> entry id
    pieces: list[tuple[EvidenceView, int]] = []
    for e in sorted(live, key=lambda x: (x.activity_date, x.number)):
        matches = available.get(_same(e))
        if matches:
            entry_id, now_number = matches.pop(0)
            skipped += 1
        else:
            if keep and e.number not in taken:
                now_number = e.number
            else:
                number += 1
                now_number = number
            taken.add(now_number)
            entry_id = _create(session, person.id, now_number, e, now)
            added += 1
        moved.setdefault(e.number, now_number)
        ids.setdefault(e.number, entry_id)
        pieces += [(ev, entry_id) for ev in e.evidence]
    restored = _put_back(session, person.id, kept, moved, ids, now)
    done = restore(session, settings, person.id, pieces, bundle)
    if done.bad and not skip_bad:
        raise _Refused(done.bad)
    renumbered = tuple(sorted((was, n) for was, n in moved.items() if was != n))
    return Imported(added, skipped, tuple(done.bad), done, renumbered, restored)


_REFERENCE = re.compile(r"(?<![\w#])#(\d{1,9})\b")


def _put_back(
    session: Session,
    person_id: int,
    kept: Kept,
    moved: Mapping[int, int],
    ids: Mapping[int, int],
    now: datetime,
) -> tuple[str, ...]:
    """The rest of a whole record, each piece once: the other bodies, the entries' filings
    in the bodies followed, the gap notes, and the HCPC profile if none is kept yet (its
    picked numbers and the "#N" in its text following the entries' numbers now)."""
    bodies = record_restore.add_bodies(session, person_id, kept.bodies, now=now)
    followed = {s for s, _ in body_store.other_bodies(session, person_id)}
    filings = sum(
        record_restore.add_filings(
            session, ids[n], {s: c for s, c in chosen.items() if s in followed}
        )
        for n, chosen in kept.filings.items()
        if n in ids
    )
    gaps = record_restore.add_gap_notes(session, person_id, kept.gap_notes)
    profile = False
    if kept.profile is not None:
        numbers, summary, standards = kept.profile

        def follow(text: str) -> str:
            return _REFERENCE.sub(lambda m: f"#{moved.get(int(m[1]), int(m[1]))}", text)

        profile = record_restore.add_profile(
            session,
            person_id,
            entry_numbers=tuple(moved[n] for n in numbers if n in moved),
            summary=follow(summary),
            standards=tuple(follow(s) for s in standards),
            now=now,
        )
    counts = [(bodies, "other bod", "y", "ies"), (filings, "filing", "", "s")]
    counts.append((gaps, "gap note", "", "s"))
    said = [f"{n} {word}{one if n == 1 else many}" for n, word, one, many in counts if n]
    return (*said, *(["the HCPC profile"] if profile else []))


def _create(session: Session, person_id: int, number: int, e: EntryView, now: datetime) -> int:
    return entry_store.create_entry(
        session,
        person_id,
        number=number,
        title=e.title,
        activity_date=e.activity_date,
        end_date=e.end_date,
        minutes=e.minutes,
        category=e.category,
        structured=e.structured,
        source=e.source or "import",
        reflections=e.reflections,
        now=now,
    )


def _new_person(
    header: dict[str, Any], schemes: Mapping[str, Scheme], scheme_id: str | None
) -> tuple[Scheme, dict[str, object]]:
    """The scheme and settings of a person the import creates (the file's, or defaults)."""
    wanted = scheme_id or str(header.get("scheme") or "") or "generic"
    if wanted not in schemes:
        raise RecordImportError(f"unknown scheme {wanted!r} (known: {', '.join(sorted(schemes))})")
    chosen = schemes[wanted]
    fields: dict[str, object] = {"scheme_id": wanted, "onboarded": True}
    status = str(header.get("status") or "")
    fields["status_id"] = status if chosen.status(status).id == status else chosen.default_status
    if isinstance(header.get("timezone"), str) and is_zone(header["timezone"]):
        fields["timezone"] = header["timezone"]
    name = clean_line(header["name"]).strip() if isinstance(header.get("name"), str) else ""
    if name:
        fields["display_name"] = name[:200]
    for key, limit in (("full_name", 200), ("membership_number", 64)):  # for the record
        value = clean_line(header[key]).strip() if isinstance(header.get(key), str) else ""
        if value:
            fields[key] = value[:limit]
    day_minutes = header.get("day_minutes")  # the person's own "full day", if set
    if type(day_minutes) is int and 1 <= day_minutes <= MAX_DAY_MINUTES:
        fields["day_minutes"] = day_minutes
    return chosen, fields


def _kept(data: bytes, primary: Scheme, schemes: Mapping[str, Scheme]) -> tuple[Kept, list[str]]:
    """The rest of a whole record in a JSON export (bodies, filings, gap notes, profile)
    and what is wrong with it. A filing in an installed scheme must be one of its
    categories; a body or filing of a scheme not installed here is kept as it was (the
    bot leaves it aside, as it does on the server the file came from)."""
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] != b"{":
        return Kept(), []
    kept, bad = read_kept(export.load_json(data))
    bad = [f"record: {problem}" for problem in bad]
    filings: dict[int, dict[str, str]] = {}
    for number, chosen in kept.filings.items():
        for scheme_id, category in chosen.items():
            body = schemes.get(scheme_id)
            problem = None if body is None else entry_rules.category_problem(category, body)
            if problem:
                bad.append(f"record: #{number} filed in {scheme_id}: {problem}")
            else:
                filings.setdefault(number, {})[scheme_id] = category
    bodies = tuple(
        (s, status if s not in schemes or schemes[s].status(status).id == status else "")
        for s, status in kept.bodies
        if s != primary.id
    )
    return replace(kept, bodies=bodies, filings=filings), bad


def import_report(
    db: Database,
    key: IdentityKey,
    data: bytes,
    schemes: Mapping[str, Scheme],
    *,
    now: datetime,
    scheme_id: str | None = None,
    skip_bad: bool = False,
    evidence: EvidenceSettings | None = None,
) -> Imported:
    """Import a `cpdbot export` file (JSON or CSV), or an `/export all` ZIP (its
    record.json, and the evidence files), for the person, every row checked.

    A new person takes the file's scheme, status, time zone and name (JSON), or
    `scheme_id`; an existing person's own scheme reads the file (CSV category labels,
    the categories allowed). Dates after the person's today are refused. A file with a
    bad row, or evidence that cannot be kept (`evidence`: the limits, the directory
    store), raises RecordImportError listing each, and nothing is imported, unless
    `skip_bad`: then the good rows go in and `Imported.bad` names the others.
    """
    bundle = None
    if evidence_zip.is_zip(data):
        try:
            bundle = evidence_zip.open_bundle(data)
        except evidence_zip.BundleError as exc:
            raise RecordImportError(str(exc)) from None
        data = bundle.record
    header = person_header(data)
    with db.transaction() as session:
        found = repo.find_person(session, key)
    fields: dict[str, object] | None = None
    if found is not None:
        scheme, zone = scheme_for(schemes, found[1].scheme_id), found[1].timezone
    else:
        scheme, fields = _new_person(header, schemes, scheme_id)
        zone = str(fields.get("timezone", "UTC"))
    entries, bad = _read(data, scheme, local_today(now, zone))
    kept, wrong = _kept(data, scheme, schemes)
    bad += wrong
    if bad and not skip_bad:
        raise RecordImportError(
            f"Nothing was imported: {_entries_word(len(bad))}, each with a missing or bad "
            "field (listed above). Correct them, or run again with --skip-bad to import "
            "the others.",
            bad,
        )
    try:
        done = _import(
            db,
            key,
            entries,
            now=now,
            person_fields=fields,
            bundle=bundle,
            settings=evidence,
            skip_bad=skip_bad,
            kept=kept,
        )
    except _Refused as exc:
        n = len(exc.bad)
        raise RecordImportError(
            f"Nothing was imported: {n} piece{'' if n == 1 else 's'} of evidence could not "
            "be kept (listed above). Run again with --skip-bad to import the rest.",
            exc.bad,
        ) from None
    return replace(done, bad=(*bad, *done.bad))


def import_file(
    db: Database,
    key: IdentityKey,
    data: bytes,
    schemes: Mapping[str, Scheme],
    *,
    now: datetime,
    scheme_id: str | None = None,
    skip_bad: bool = False,
) -> tuple[int, int]:
    """`import_report`'s (added, skipped)."""
    done = import_report(db, key, data, schemes, now=now, scheme_id=scheme_id, skip_bad=skip_bad)
    return done.added, done.skipped

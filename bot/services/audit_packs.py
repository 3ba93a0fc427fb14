"""Audit packs (issue 16): the HCPC profile /profile gathers (loaded for the dialogue,
kept by its effect) and the files `/export hcpc` and `/export docx` ask for, made after the
event's transaction has committed (bot.services.engine._files)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlmodel import Session

from bot.core import hcpc
from bot.core.model import Attachment, Effect, IdentityKey, Outgoing, PersonView, SaveProfile
from bot.core.model import ProfileView as ProfileView
from bot.core.report import Report
from bot.core.scheme_checks import find_gaps
from bot.core.schemes import Scheme
from bot.core.zones import local_today
from bot.services import records
from bot.services.printable import docx_packs
from storage import plan_store, profile_store, repo
from storage.db import Database

log = logging.getLogger("cpdbot.audit_packs")

KINDS = frozenset({"hcpc", "docx"})


class PackSource(Protocol):
    """The engine, as far as packs go."""

    db: Database

    def clock(self) -> datetime: ...

    def _scheme(self, scheme_id: str) -> Scheme: ...


def profile_view(
    session: Session, person_id: int, person: PersonView, scheme: Scheme, today: date
) -> ProfileView:
    """The profile as kept, with the live entries of the two-year period ending `today`
    (each CPD year's record as `records.year_record` loads it, evidence included) and the
    gaps of three months or more with the explanations given (/plan gap, /profile)."""
    start = hcpc.period_start(today)
    entries = []
    day = start
    while day <= today:
        record = records.year_record(session, person_id, person, scheme, today=day)
        entries += [e for e in record.entries if start <= e.activity_date <= today]
        day = record.end
    kept = profile_store.load_profile(session, person_id)
    numbers, summary, standards = kept or ((), "", ())
    dates = set()
    for e in entries:
        last = e.end_date or e.activity_date
        dates |= {
            e.activity_date + timedelta(days=i) for i in range((last - e.activity_date).days + 1)
        }
    ordered = sorted(dates)
    notes = plan_store.gap_notes(session, person_id)
    unexplained = find_gaps(ordered, notes, start, today, hcpc.GAP_DAYS)
    gaps = []
    for gap in find_gaps(ordered, (), start, today, hcpc.GAP_DAYS):
        if any(u.first <= gap.last and gap.first <= u.last for u in unexplained):
            gaps.append((gap.first, gap.last, ""))
            continue
        said = [n.text for n in notes if n.start <= gap.last and gap.first <= n.end]
        gaps.append((gap.first, gap.last, "; ".join(said)))
    return ProfileView(
        entry_numbers=numbers,
        summary=summary,
        standards=standards,
        start=start,
        end=today,
        entries=tuple(entries),
        gaps=tuple(gaps),
    )


def apply(session: Session, person_id: int, effect: Effect, now: datetime) -> bool:
    """Keep the profile (True), or leave `effect` to the engine (False)."""
    if not isinstance(effect, SaveProfile):
        return False
    profile_store.save_profile(
        session,
        person_id,
        entry_numbers=effect.entry_numbers,
        summary=effect.summary,
        standards=effect.standards,
        now=now,
    )
    return True


def _content(session: Session, engine: PackSource, person_id: int, number: int) -> bytes:
    from bot.services import evidence  # EV-STORE's service: files in the DB or directory

    settings = getattr(engine, "evidence", evidence.EvidenceSettings())
    return evidence.content(session, settings, person_id, number)


def hcpc_files(engine: PackSource, key: IdentityKey, *, limit: int) -> list[Attachment] | None:
    """The HCPC CPD profile as DOCX files under `limit` bytes each (None: unknown person)."""
    with engine.db.transaction() as session:
        found = repo.find_person(session, key)
        if found is None:
            return None
        person_id, person = found
        scheme = engine._scheme(person.scheme_id)
        today = local_today(engine.clock(), person.timezone)
        pack = docx_packs.HcpcInput(
            name=person.full_name or person.display_name,
            membership_number=person.membership_number,
            scheme=scheme,
            profile=profile_view(session, person_id, person, scheme, today),
            today=today,
        )
        parts = docx_packs.hcpc_profile(
            pack, lambda n: _content(session, engine, person_id, n), limit=limit
        )
    total = len(parts)
    stem = f"hcpc-cpd-profile-{today.isoformat()}"
    return [
        Attachment(
            f"{stem}-part{k}of{total}.docx" if total > 1 else f"{stem}.docx",
            data,
            docx_packs.DOCX_MIME,
        )
        for k, data in enumerate(parts, start=1)
    ]


def replies(
    engine: PackSource,
    key: IdentityKey,
    reply: Outgoing,
    report: Report | None,
    *,
    limit: int = docx_packs.PART_LIMIT,
) -> list[Outgoing]:
    """`reply` with its file (docx: the record; hcpc: the profile, one reply per part)."""
    assert reply.file is not None
    failed = Outgoing(reply.file.failed or "I couldn't make that file just now.")
    try:
        if reply.file.kind == "docx":
            if report is None:
                return [failed]
            record = report.record
            person = record.person
            with engine.db.transaction() as session:
                found = repo.find_person(session, key)
            number = found[1].membership_number if found else ""
            name = found[1].full_name if found else ""
            data = docx_packs.record_docx(record, name or person.display_name, number)
            stem = f"cpd-{record.label.replace('/', '-')}"
            made = Attachment(f"{stem}.docx", data, docx_packs.DOCX_MIME)
            return [replace(reply, attachment=made, file=None)]
        files = hcpc_files(engine, key, limit=limit)
    except Exception:
        log.exception("making the %s file failed", reply.file.kind)
        return [failed]
    if not files:
        return [failed]
    if len(files) == 1:
        return [replace(reply, attachment=files[0], file=None)]
    total = len(files)
    text = (
        f"{reply.text}\nIt is in {total} files, each under "
        f"{limit // (1024 * 1024) or 1} MB for email: part 1 holds the four parts and the "
        "evidence images that fit; the later parts hold the remaining images in number order."
    )
    first = replace(reply, text=text, attachment=files[0], file=None)
    rest = [
        Outgoing(f"CPD profile, part {k} of {total}.", attachment=f)
        for k, f in enumerate(files[1:], start=2)
    ]
    return [first, *rest]

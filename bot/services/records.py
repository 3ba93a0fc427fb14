"""A person's record loaded, as files, and back: a CPD year's record (`year_record`, the
one loader) and its report (record, plan, assessment), /status's standing counted by the
database, rendering a report in each export format, `/export all`, and importing an export.

The loaders run in the caller's transaction; `report_for`, `export_all` and the imports
open one `Database.transaction()` each, so the CLI, the engine and the scheduler can call
them. The pure parts are `bot.core` (record, assess, report) and `printable`, `chart`.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from sqlmodel import Session

from bot.core import export
from bot.core.assess import assess_tally
from bot.core.assessment import Assessment, Year
from bot.core.model import EntryView, IdentityKey, PersonView, YearSummary
from bot.core.record import MIME, Record, file_name
from bot.core.report import Report
from bot.core.scheme_checks import ETHICS_HINTS, checked_questions
from bot.core.schemes import Scheme, scheme_for
from bot.core.zones import is_zone, local_today
from storage import entry_store, repo, rights, tally
from storage import plan_store as plan_repo
from storage.db import Database
from storage.models import Entry


class RecordSource(Protocol):
    """Where `report_for` reads a record (the engine): its database, clock and schemes."""

    db: Database
    schemes: Mapping[str, Scheme]

    def clock(self) -> datetime: ...


FORMATS = ("pdf", "md", "csv", "json")


def year_record(
    session: Session,
    person_id: int,
    person: PersonView,
    scheme: Scheme,
    *,
    today: date,
    year: int | None = None,
) -> Record:
    """The person's record of the CPD year starting in `year`, else of the one holding
    `today` (the person's day): the one way a CPD year's entries are loaded."""
    day = today
    if year is not None:
        month, first = person.year_start or (scheme.year_start_month, scheme.year_start_day)
        day = date(year, month, first)
    start, end = scheme.year_bounds(day, person.year_start)
    entries = entry_store.entries_between(session, person_id, start, end)
    return Record(person, scheme, start, end, tuple(entries))


def load_report(session: Session, person_id: int, record: Record, today: date) -> Report:
    """The plan and status periods for `record`, read in the caller's transaction."""
    return Report(
        record,
        plan_repo.load_plan(session, person_id),
        tuple(plan_repo.status_periods(session, person_id, record.start, record.end)),
        today,
    )


def year_report(
    session: Session,
    person_id: int,
    person: PersonView,
    scheme: Scheme,
    *,
    today: date,
    year: int | None = None,
) -> Report:
    """The record of a CPD year (see `year_record`) with the plan and status periods it is
    assessed with."""
    record = year_record(session, person_id, person, scheme, today=today, year=year)
    return load_report(session, person_id, record, today)


def standing(
    session: Session, person_id: int, person: PersonView, scheme: Scheme, today: date
) -> tuple[YearSummary, Assessment]:
    """The current CPD year's totals and assessment (/status, App Home), counted by the
    database: the record is not loaded, yet the rules are `Report.assessment`'s."""
    start, end = scheme.year_bounds(today, person.year_start)
    counted = tally.year_tally(
        session,
        person_id,
        start,
        end,
        questions=checked_questions(scheme),
        ethics_hints=ETHICS_HINTS if scheme.checks.ethics_activity else None,
        dates=scheme.checks.gap_days is not None,
    )
    assessment = assess_tally(
        Year(person, scheme, start, end),
        counted,
        today=today,
        periods=tuple(plan_repo.status_periods(session, person_id, start, end)),
        plan=plan_repo.load_plan(session, person_id),
    )
    summary = YearSummary(
        start=start,
        end=end,
        minutes_by_category=dict(assessment.minutes_by_category),
        entries=counted.entries,
        pending_entries=counted.pending_entries,
    )
    return summary, assessment


def report_for(engine: RecordSource, key: IdentityKey, year: int | None = None) -> Report | None:
    """The report for the CPD year starting in `year` (default: the current one)."""
    with engine.db.transaction() as session:
        found = repo.find_person(session, key)
        if found is None:
            return None
        person_id, person = found
        scheme = scheme_for(engine.schemes, person.scheme_id)
        today = local_today(engine.clock(), person.timezone)
        return year_report(session, person_id, person, scheme, today=today, year=year)


def render(report: Report, kind: str, *, chart: bool = True) -> tuple[str, bytes, str]:
    """(file name, content, MIME type) of the report as pdf, md, csv or json."""
    record = report.record
    name = file_name(record, kind)
    if kind == "json":
        return name, export.to_json(record), MIME[kind]
    if kind == "csv":
        return name, export.to_csv(record), MIME[kind]
    from bot.services import printable

    assessment = report.assessment
    if kind == "md":
        return name, printable.to_markdown(record, assessment, report.plan), MIME[kind]
    if kind == "pdf":
        png = None
        if chart:
            from bot.services.chart import progress_png

            png = progress_png(record, assessment.target_minutes, today=report.today)
        return name, printable.to_pdf(record, assessment, report.plan, png), MIME[kind]
    raise ValueError(f"unknown export format {kind!r} (use one of {', '.join(FORMATS)})")


# ---------------------------------------------------------------- /export all


def export_all(
    db: Database, key: IdentityKey, schemes: Mapping[str, Scheme], *, now: datetime
) -> bytes | None:
    """A ZIP of everything held about the person (None if unknown).

    data.json: every row of every table that belongs to them (settings, identities,
    entries including deleted ones, reflections, plan, feeds, conversations, outbox);
    record.json / record.csv: all live entries of every year, re-importable.
    """
    with db.transaction() as session:
        found = repo.find_person(session, key)
        if found is None:
            return None
        person_id, view = found
        data = rights.person_data(session, person_id)
        entries = entry_store.entries_between(session, person_id, date.min, date.max)
    scheme = scheme_for(schemes, view.scheme_id)
    first = min((e.activity_date for e in entries), default=now.date())
    last = max((e.activity_date for e in entries), default=now.date())
    start = scheme.year_bounds(first, view.year_start)[0]
    end = scheme.year_bounds(last, view.year_start)[1]
    record = Record(view, scheme, start, end, tuple(entries))
    manifest = {
        "format": "cpdbot-everything",
        "version": 1,
        "exported_at": now.isoformat(),
        "identity": {"platform": key.platform, "workspace": key.workspace, "user": key.user_id},
        "tables": data,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        archive.writestr("record.json", export.to_json(record))
        archive.writestr("record.csv", export.to_csv(record))
        archive.writestr(
            "README.txt",
            "Everything cpdbot holds about you.\n"
            "data.json: every stored row, table by table.\n"
            "record.json, record.csv: all your entries; `cpdbot import` reads either back.\n",
        )
    return out.getvalue()


# ---------------------------------------------------------------- import


class RecordImportError(ValueError):
    """An import that cannot be done (bad file); the message says why."""


def read_entries(data: bytes, scheme: Scheme) -> list[EntryView]:
    """Entries from a `cpdbot export` file, JSON or CSV (told apart by content)."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    try:
        return export.read_json(data) if head == b"{" else export.read_csv(data, scheme)
    except export.ExportError as exc:
        raise RecordImportError(str(exc)) from exc


def person_header(data: bytes) -> dict[str, Any]:
    """The person section of a JSON export ({} for CSV or none)."""
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] != b"{":
        return {}
    try:
        payload = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    person = payload.get("person") if isinstance(payload, dict) else None
    return person if isinstance(person, dict) else {}


def _same(e: EntryView | Entry) -> tuple[date, str, int, str]:
    return (e.activity_date, e.title, e.minutes, e.category)


def import_entries(
    db: Database,
    key: IdentityKey,
    entries: Sequence[EntryView],
    *,
    now: datetime,
    person_fields: dict[str, object] | None = None,
) -> tuple[int, int]:
    """Add `entries` to the person's record, skipping ones already there: (added, skipped).

    An entry is already there when a live entry has the same date, title, minutes and
    category (each existing entry matches one imported entry at most, so two identical
    activities on one day stay two). Added entries get new numbers; reflections come
    with them. The person is created if new, with `person_fields` (e.g. scheme) applied.
    """
    added = skipped = 0
    with db.transaction() as session:
        _, person, created = repo.get_or_create_identity(session, key, now=now)
        assert person.id is not None
        if created and person_fields:
            repo.update_person(session, person.id, person_fields)
        existing = entry_store.entries_between(session, person.id, date.min, date.max)
        available = Counter(_same(e) for e in existing)
        number = person.last_entry_number
        for e in sorted(entries, key=lambda x: (x.activity_date, x.number)):
            if e.deleted:
                continue
            if available[_same(e)] > 0:
                available[_same(e)] -= 1
                skipped += 1
                continue
            number += 1
            entry_store.create_entry(
                session,
                person.id,
                number=number,
                title=e.title[:200],
                activity_date=e.activity_date,
                minutes=e.minutes,
                category=e.category,
                structured=e.structured,
                source=(e.source or "import")[:16],
                reflections=e.reflections,
                now=now,
            )
            added += 1
    return added, skipped


def import_file(
    db: Database,
    key: IdentityKey,
    data: bytes,
    schemes: Mapping[str, Scheme],
    *,
    now: datetime,
    scheme_id: str | None = None,
) -> tuple[int, int]:
    """Import a `cpdbot export` file (JSON or CSV) for the person: (added, skipped).

    A new person takes the file's scheme, status, time zone and name (JSON), or
    `scheme_id`; CSV category labels are read with the person's scheme.
    """
    header = person_header(data)
    with db.transaction() as session:
        found = repo.find_person(session, key)
        current_scheme = found[1].scheme_id if found is not None else None
    if current_scheme is not None:  # an existing person: their own scheme reads the file
        entries = read_entries(data, scheme_for(schemes, current_scheme))
        return import_entries(db, key, entries, now=now)
    wanted = scheme_id or str(header.get("scheme") or "") or "generic"
    if wanted not in schemes:
        raise RecordImportError(f"unknown scheme {wanted!r} (known: {', '.join(sorted(schemes))})")
    chosen = schemes[wanted]
    entries = read_entries(data, chosen)
    fields: dict[str, object] = {"scheme_id": wanted, "onboarded": True}
    status = str(header.get("status") or "")
    fields["status_id"] = status if chosen.status(status).id == status else chosen.default_status
    if isinstance(header.get("timezone"), str) and is_zone(header["timezone"]):
        fields["timezone"] = header["timezone"]
    if isinstance(header.get("name"), str) and header["name"]:
        fields["display_name"] = header["name"][:200]
    return import_entries(db, key, entries, now=now, person_fields=fields)

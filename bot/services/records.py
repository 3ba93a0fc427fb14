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
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlmodel import Session

from bot.core import export
from bot.core.assess import assess_tally
from bot.core.assessment import Assessment, Year
from bot.core.model import FileRequest, IdentityKey, PersonView, YearSummary
from bot.core.record import MIME, Record, file_name, latest_year, year_refusal
from bot.core.report import Report
from bot.core.scheme_checks import ETHICS_HINTS, checked_questions
from bot.core.schemes import Scheme, scheme_for
from bot.core.zones import local_today
from bot.services import bodies as body_service
from bot.services import evidence as evidence_service
from bot.services import evidence_zip, intake
from bot.services.evidence import EvidenceSettings
from bot.services.record_import import Imported as Imported
from bot.services.record_import import RecordImportError as RecordImportError
from bot.services.record_import import import_entries as import_entries
from bot.services.record_import import import_file as import_file
from bot.services.record_import import import_report as import_report
from bot.services.record_import import person_header as person_header
from bot.services.record_import import read_entries as read_entries
from storage import entry_store, record_restore, repo, rights, tally
from storage import evidence as evidence_store
from storage import plan_store as plan_repo
from storage.db import Database


class RecordSource(Protocol):
    """Where `report_for` reads a record (the engine): its database, clock and schemes."""

    db: Database
    schemes: Mapping[str, Scheme]

    def clock(self) -> datetime: ...


FORMATS = ("pdf", "md", "csv", "json")
RECORD_KINDS = frozenset({"pdf", "md", "docx"})  # made from a report (`file_report`)


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
    kept = evidence_store.by_entry_number(session, person_id, [e.number for e in entries])
    if kept:
        entries = [replace(e, evidence=kept.get(e.number, ())) for e in entries]
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


class YearOutOfRange(ValueError):
    """No CPD year starts in the year asked for (the message names the valid range)."""


def report_for(engine: RecordSource, key: IdentityKey, year: int | None = None) -> Report | None:
    """The report for the CPD year starting in `year` (default: the current one);
    `YearOutOfRange` for a year before 1950 or after the current CPD year."""
    with engine.db.transaction() as session:
        found = repo.find_person(session, key)
        if found is None:
            return None
        person_id, person = found
        scheme = scheme_for(engine.schemes, person.scheme_id)
        today = local_today(engine.clock(), person.timezone)
        if year is not None:
            refused = year_refusal(year, latest_year(scheme, today, person.year_start))
            if refused is not None:
                raise YearOutOfRange(refused)
        return year_report(session, person_id, person, scheme, today=today, year=year)


def file_report(
    engine: RecordSource, key: IdentityKey, request: FileRequest, report: Report | None
) -> Report | None:
    """The report an `/export pdf|md|docx` file is made from (issue 16): another body's
    CPD year as it counts it (`request.body`), or `report` with a line per other body
    followed; None when the person or that body is not found."""
    if report is None and not request.body:
        return None
    with engine.db.transaction() as session:
        found = repo.find_person(session, key)
        if found is None:
            return None
        person_id, person = found
        today = local_today(engine.clock(), person.timezone)
        if request.body:
            scheme = engine.schemes.get(request.body)
            if scheme is None:
                return None
            day = today
            if request.year:
                day = date(request.year, scheme.year_start_month, scheme.year_start_day)
            return body_service.body_report(
                session, person_id, person, engine.schemes, scheme.id, day=day, today=today
            )
        assert report is not None
        day = min(today, report.record.end - timedelta(days=1))
        also = body_service.also_lines(
            session, person_id, person, engine.schemes, request.kind, day
        )
    return replace(report, also=also) if also else report


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
        return name, printable.to_markdown(record, assessment, report.plan, report.also), MIME[kind]
    if kind == "pdf":
        png = None
        if chart:
            from bot.services.chart import progress_png

            png = progress_png(record, assessment.target_minutes, today=report.today)
        return name, printable.to_pdf(record, assessment, report.plan, png, report.also), MIME[kind]
    raise ValueError(f"unknown export format {kind!r} (use one of {', '.join(FORMATS)})")


# ---------------------------------------------------------------- /export all


def export_all(
    db: Database,
    key: IdentityKey,
    schemes: Mapping[str, Scheme],
    *,
    now: datetime,
    evidence: EvidenceSettings | None = None,
) -> bytes | None:
    """A ZIP of everything held about the person (None if unknown).

    data.json: every row of every table that belongs to them (settings, identities,
    entries including deleted ones, reflections, plan, feeds, conversations, outbox);
    record.json / record.csv: all live entries of every year, re-importable (`cpdbot
    import` of the ZIP restores the evidence too); evidence/: every file kept, named by
    its E-number (a deleted entry's too, kept until /undo or the purge, and marked
    "(entry #2 deleted)" in index.md; the import leaves those out and says so), and
    index.md (`bot.services.evidence_zip`).
    """
    with db.transaction() as session:
        found = repo.find_person(session, key)
        if found is None:
            return None
        person_id, view = found
        data = rights.person_data(session, person_id)
        entries = entry_store.entries_between(session, person_id, date.min, date.max)
        kept = evidence_store.by_entry_number(session, person_id, [e.number for e in entries])
        entries = [replace(e, evidence=kept.get(e.number, ())) for e in entries]
        gone = {int(row["number"]) for row in data.get("entry", ()) if row.get("deleted_at")}
        of_deleted = evidence_store.by_entry_number(session, person_id, sorted(gone))
        waiting = evidence_service.waiting(session, person_id)
        rest = record_restore.kept(session, person_id)  # bodies, filings, gaps, profile
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
        "held_elsewhere": {"inbox": intake.HELD_NOTE},
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        archive.writestr("record.json", export.to_json(record, rest))
        archive.writestr("record.csv", export.to_csv(record))
        archive.writestr(
            "README.txt",
            "Everything cpdbot holds about you.\n"
            "data.json: every stored row, table by table; held_elsewhere: what else is kept.\n"
            "record.json, record.csv: all your entries; `cpdbot import` reads either back,\n"
            "and reads this ZIP back whole: entries and evidence.\n"
            "evidence/: each file you kept as evidence, named by its number (E3-...), and\n"
            "index.md, the evidence index (number, entry, name, type, size, SHA-256).\n"
            "A deleted entry's files are there too, marked in index.md; `cpdbot import`\n"
            "does not import deleted entries, so it leaves them out and names each.\n",
        )
        items = [ev for e in entries for ev in e.evidence] + waiting
        items += [ev for views in of_deleted.values() for ev in views]
        settings = evidence or EvidenceSettings()
        evidence_zip.write_files(
            archive, db, settings, person_id, items, view.timezone, deleted=gone
        )
    return out.getvalue()


def evidence_name(record: Record) -> str:
    """The name of a CPD year's evidence ZIP (`/export evidence`): 'cpd-evidence-2026.zip'."""
    return f"cpd-evidence-{record.label.replace('/', '-')}.zip"


def export_evidence(
    db: Database, key: IdentityKey, report: Report, *, evidence: EvidenceSettings
) -> tuple[str, bytes] | None:
    """`/export evidence`: (name, ZIP) of the files of the report's CPD year, each named
    by its E-number, and index.md; None if the person is unknown."""
    with db.transaction() as session:
        found = repo.find_person(session, key)
    if found is None:
        return None
    record = report.record
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        items = [ev for e in record.entries for ev in e.evidence]
        evidence_zip.write_files(archive, db, evidence, found[0], items, record.person.timezone)
    return evidence_name(record), out.getvalue()


# ---------------------------------------------------------------- import


# `cpdbot import` lives in bot/services/record_import.py; its names are here for callers.

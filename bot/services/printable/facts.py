"""What the printable record (Markdown and PDF) prints, worked out once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.core import text as fmt
from bot.core.assessment import Assessment
from bot.core.model import EntryView
from bot.core.plan import ObjectiveProgress, Plan, review
from bot.core.record import Record

# Schemes whose record goes with a cover sheet (STEP: "return your CPD record, plus the
# CPD Cover Sheet, within two months of the original request").
COVER_SHEET_SCHEMES = frozenset({"step"})
PENDING = "Pending: not answered yet"


def _long_day(d: date) -> str:
    return f"{d:%a} {d.day} {d:%b %Y}"


def period_text(record: Record) -> str:
    return f"{fmt.short_day(record.start)} – {fmt.short_day(record.end - timedelta(days=1))}"


def _share(minutes: int, total: int) -> str:
    return f"{minutes / total:.0%}" if total else "–"


def _target_text(assessment: Assessment) -> str:
    target, full = assessment.target_minutes, assessment.full_target_minutes
    if target is None:
        return "no hours target"
    if full is not None and full != target:
        return f"{fmt.hours(target)} (pro rata; {fmt.hours(full)} for a full year)"
    return fmt.hours(target)


@dataclass(frozen=True)
class Facts:
    """What both renderers print, worked out once."""

    title: str
    name: str
    number: str  # membership number ("" not given)
    body: str
    scheme: str
    status: str
    period: str
    generated: str
    total: str
    target: str
    entries: int
    pending: int
    categories: list[tuple[str, str, str]]  # label, hours, share
    split: list[tuple[str, str, str]]  # structured / unstructured / not set
    progress: list[ObjectiveProgress]
    cover: bool


def facts(record: Record, assessment: Assessment, plan: Plan) -> Facts:
    scheme = record.scheme
    total = record.total_minutes
    split: list[tuple[str, str, str]] = []
    if assessment.structured_minutes is not None:
        names = {"structured": "Structured", "unstructured": "Unstructured", "not_set": "Not set"}
        split = [
            (names[k], fmt.hours(m), _share(m, total))
            for k, m in assessment.structured_minutes.items()
            if m or k != "not_set"
        ]
    return Facts(
        title=f"CPD record {record.label}",
        name=record.person.full_name or record.person.display_name or "(no name given)",
        number=record.person.membership_number,
        body=scheme.body,
        scheme=scheme.name,
        status=scheme.status(record.person.status_id).label,
        period=period_text(record),
        generated=fmt.short_day(assessment.today),
        total=fmt.hours(total) if total else "0 h",
        target=_target_text(assessment),
        entries=len(record.entries),
        pending=sum(1 for e in record.entries if e.pending),
        categories=[
            (fmt.category_label(scheme, c), fmt.hours(m), _share(m, total))
            for c, m in record.minutes_by_category().items()
        ],
        split=split,
        progress=review(plan, record.entries),
        cover=scheme.id in COVER_SHEET_SCHEMES,
    )


def entry_meta(entry: EntryView, record: Record, plan: Plan) -> str:
    parts = [
        # A multi-day activity: its days, '14–15 Nov 2026' (in the year of its first day).
        _long_day(entry.activity_date)
        if entry.end_date is None
        else fmt.short_span(entry.activity_date, entry.end_date),
        fmt.hours(entry.minutes),
        fmt.category_label(record.scheme, entry.category),
    ]
    if record.scheme.track_structured and entry.structured is not None:
        parts.append(fmt.structured_label(entry.structured))
    objectives = plan.objectives_of(entry.number)
    if objectives:
        parts.append("objective " + ", ".join(o.label for o in objectives))
    tags = plan.tags_of(entry.number)
    if tags:
        parts.append("tags " + ", ".join(tags))
    return " · ".join(parts)


def question_names(record: Record) -> dict[str, str]:
    """Question id -> its short name ('Key points'), for questions that have one."""
    names = {}
    for qid, _ in record.question_columns():
        question = record.scheme.question(qid)
        if question is not None and question.short:
            names[qid] = question.short[:1].upper() + question.short[1:]
    return names


def declaration(record: Record) -> str:
    return (
        f"I declare that this is a true and accurate record of my continuing professional "
        f"development for the period {period_text(record)}."
    )

"""The printable CPD record as a PDF: title block, key figures, cover sheet (STEP),
assessment, hours by category with the chart, the development plan, every activity."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core import text as fmt
from bot.core.assessment import STATE_LABELS, Assessment
from bot.core.plan import Plan
from bot.core.record import Record
from bot.services.printable import evidence
from bot.services.printable.facts import (
    PENDING,
    Facts,
    declaration,
    entry_meta,
    facts,
    question_names,
)
from bot.services.printable.layout import (
    ACCENT,
    INK,
    MUTED,
    PENDING_COLOUR,
    SHADE,
    STATE_COLOURS,
    Layout,
    Run,
)


def to_pdf(
    record: Record,
    assessment: Assessment,
    plan: Plan | None,
    chart_png: bytes | None,
    also: Sequence[str] = (),
) -> bytes:
    """`also`: a line per other body followed, after the requirements (issue 16)."""
    plan = plan or Plan()
    f = facts(record, assessment, plan)
    doc = Layout(f"{f.name} · {f.scheme} CPD record {record.label} · cpdbot", assessment.today)
    pdf = doc.pdf
    pdf.set_title(doc.text(f"{f.title} — {f.name}"))
    pdf.set_author(doc.text(f.name))
    pdf.set_creator("cpdbot")
    _title_block(doc, record, f)
    _key_figures(doc, assessment, f)
    if f.cover:
        _cover_sheet(doc, record, f)
    _assessment(doc, assessment)
    for line in also:
        doc.para(line, colour=MUTED, after=1.0)
    _hours(doc, record, f, chart_png)
    if not plan.is_empty:
        _plan(doc, plan, f, assessment)
    _activities(doc, record, plan)
    evidence.index_pdf(doc, record.entries, record.person.timezone)
    return doc.output()


def _title_block(doc: Layout, record: Record, f: Facts) -> None:
    doc.para(f.title, size=20, style="B", colour=ACCENT, leading=1.2)
    doc.para(f.name, size=13, style="B", leading=1.3)
    if f.number:
        doc.para(f"Membership number {f.number}", size=9.5, colour=MUTED)
    doc.para(f"{f.body} · {f.scheme} · {f.status}", size=9.5, colour=MUTED)
    doc.para(
        f"CPD year {record.label}: {f.period} · produced {f.generated} by cpdbot",
        size=9.5,
        colour=MUTED,
        after=4,
    )


def _key_figures(doc: Layout, assessment: Assessment, f: Facts) -> None:
    """Four shaded boxes: total hours, target, activities, reflections pending."""
    pdf = doc.pdf
    boxes = [
        ("Total hours", f.total),
        (
            "Target",
            "none" if assessment.target_minutes is None else fmt.hours(assessment.target_minutes),
        ),
        ("Activities", str(f.entries)),
        ("Reflections pending", str(f.pending)),
    ]
    gap = 3.0
    box_w = (doc.width - gap * (len(boxes) - 1)) / len(boxes)
    doc.ensure(18)
    for i, (label, value) in enumerate(boxes):
        x = doc.left + i * (box_w + gap)
        pdf.set_fill_color(*SHADE)
        pdf.rect(x, doc.y, box_w, 16, style="F")
        doc.font("", 8, MUTED)
        pdf.text(x + 3, doc.y + 5, doc.text(label))
        size = 14.0
        while size > 8 and doc.measure("B", size)(doc.text(value)) > box_w - 6:
            size -= 0.5
        doc.font("B", size, INK)
        pdf.text(x + 3, doc.y + 12.5, doc.text(value))
    doc.y += 16 + 2
    if assessment.full_target_minutes not in (None, assessment.target_minutes):
        doc.para(f"Target: {f.target}.", size=8.5, colour=MUTED)
    doc.y += 2


def _cover_sheet(doc: Layout, record: Record, f: Facts) -> None:
    doc.heading("CPD cover sheet")
    doc.table(
        [55, doc.width - 55],
        None,
        [
            ["Name", f.name],
            ["Membership number", f.number or "_______________________"],
            ["CPD year", f"{record.label} ({f.period})"],
            ["Total hours", f.total],
            ["Declaration", declaration(record)],
            ["Signed", "_______________________     Date: ______________"],
        ],
        size=9.5,
    )


def _assessment(doc: Layout, assessment: Assessment) -> None:
    doc.heading("Assessment")
    doc.table(
        [20, 48, doc.width - 68],
        ["", "Requirement", "Where you stand"],
        [
            [
                [(STATE_LABELS[r.state], "B", STATE_COLOURS[r.state])],
                r.label,
                [(r.reason[:1].upper() + r.reason[1:], "", INK)]
                + ([("To do: " + r.action, "I", STATE_COLOURS["not_yet"])] if r.action else []),
            ]
            for r in assessment.requirements
        ],
    )


def _hours(doc: Layout, record: Record, f: Facts, chart_png: bytes | None) -> None:
    """Hours by category (and the structured split), then the progress chart."""
    doc.heading("Hours by category")
    rows: list[Sequence[str | list[Run]]] = [list(c) for c in f.categories]
    rows.append(["Total", f.total, "100%" if record.total_minutes else "–"])
    doc.table(
        [doc.width - 60, 30, 30],
        ["Category", "Hours", "Share"],
        rows,
        align=("L", "R", "R"),
        bold_last=True,
    )
    if f.split:
        doc.table(
            [doc.width - 60, 30, 30],
            ["Learning", "Hours", "Share"],
            [list(s) for s in f.split],
            align=("L", "R", "R"),
        )
    if chart_png:
        doc.image(chart_png, doc.width)


def _plan(doc: Layout, plan: Plan, f: Facts, assessment: Assessment) -> None:
    """Role, key responsibilities, objectives with their progress, gaps explained."""
    doc.heading("Development plan")
    if plan.role:
        doc.para("Role", size=9, style="B", colour=MUTED)
        doc.para(plan.role, after=2)
    if plan.responsibilities:
        doc.para("Key responsibilities", size=9, style="B", colour=MUTED)
        for i, t in enumerate(plan.responsibilities, 1):
            doc.para(f"{i}. {t}", indent=2)
        doc.y += 2
    if f.progress:
        doc.para("Development objectives", size=9, style="B", colour=MUTED, after=1)
        doc.table(
            [doc.width - 106, 36, 24, 16, 16, 14],
            ["Objective", "Area", "Target date", "Status", "Linked", "Hours"],
            [
                [
                    f"{p.objective.label} {p.objective.title}",
                    p.objective.area_label,
                    fmt.short_day(p.objective.target_date) if p.objective.target_date else "–",
                    "overdue" if p.objective.overdue(assessment.today) else p.objective.status,
                    str(len(p.entries)),
                    fmt.hours(p.minutes) if p.minutes else "–",
                ]
                for p in f.progress
            ],
            size=8.5,
            align=("L", "L", "L", "L", "R", "R"),
        )
    if plan.gap_notes:
        doc.para("Gaps explained", size=9, style="B", colour=MUTED)
        for g in plan.gap_notes:
            doc.para(f"{fmt.short_day(g.start)} – {fmt.short_day(g.end)}: {g.text}", indent=2)
        doc.y += 2


def _activities(doc: Layout, record: Record, plan: Plan) -> None:
    """The reflection questions' short names, then every activity with its reflections."""
    doc.heading("Activities")
    if not record.entries:
        doc.para("No activities recorded in this CPD year.", colour=MUTED)
    names = question_names(record)
    if names:
        doc.para("Reflection questions", size=9, style="B", colour=MUTED)
        for qid, question in record.question_columns():
            if qid in names:  # a question without a short name is shown in full below
                doc.para(f"{names[qid]}: {question}", size=8.5, colour=MUTED, indent=2)
        doc.y += 3
    for e in record.entries:
        doc.ensure(22)
        doc.para(f"#{e.number}  {e.title}", size=10.5, style="B", leading=1.3)
        doc.para(entry_meta(e, record, plan), size=8.5, colour=MUTED, after=1)
        for r in e.reflections:
            label = names.get(r.question_id, r.question)
            doc.para(label, size=8, style="I", colour=MUTED, indent=4)
            if r.answer:
                doc.para(r.answer, size=9.5, indent=4, after=1)
            else:
                doc.para(PENDING, size=9, style="I", colour=PENDING_COLOUR, indent=4, after=1)
        if not e.reflections:
            doc.para("No reflection recorded.", size=9, style="I", colour=MUTED, indent=4)
        evidence.entry_pdf(doc, e, record.person.timezone)
        doc.y += 1.5
        doc.rule()
        doc.y += 2.5

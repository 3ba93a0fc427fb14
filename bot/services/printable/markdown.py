"""The printable CPD record as Markdown."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core import text as fmt
from bot.core.assessment import STATE_LABELS, Assessment
from bot.core.plan import Plan
from bot.core.record import Record
from bot.core.sanitize import markdown_escape
from bot.services.printable import evidence
from bot.services.printable.facts import PENDING, Facts, declaration, entry_meta, facts


def _md(text: str) -> str:
    """Text shown as written inside a Markdown line or table cell: no markup, HTML, links,
    images, pipes or line breaks (`bot.core.sanitize.markdown_escape`)."""
    return markdown_escape(text)


def to_markdown(
    record: Record, assessment: Assessment, plan: Plan | None, also: Sequence[str] = ()
) -> bytes:
    """`also`: a line per other body followed, after the requirements (issue 16)."""
    plan = plan or Plan()
    f = facts(record, assessment, plan)
    out: list[str] = [f"# {f.title} — {_md(f.name)}", ""]
    out += _summary(record, f)
    out += _assessment(assessment)
    out += ["", *(f"- {_md(line)}" for line in also)] if also else []
    out += _hours(f)
    if not plan.is_empty:
        out += _plan(plan, f, assessment)
    out += _activities(record, plan)
    out += evidence.record_index_markdown(record.entries, record.person.timezone)
    return ("\n".join(out).rstrip() + "\n").encode("utf-8")


def _summary(record: Record, f: Facts) -> list[str]:
    """Who, which body and year, the totals; then the cover sheet where the scheme has one."""
    out = [f"- **Membership number:** {_md(f.number)}"] if f.number else []
    out += [
        f"- **Professional body:** {_md(f.body)} ({_md(f.scheme)})",
        f"- **Membership status:** {_md(f.status)}",
        f"- **CPD year:** {record.label} ({f.period})",
        f"- **Total hours:** {f.total} (target: {f.target})",
        f"- **Activities:** {f.entries}"
        + (f", {f.pending} with reflections pending" if f.pending else ""),
        f"- **Produced:** {f.generated} by cpdbot",
        "",
    ]
    if f.cover:
        out += [
            "## CPD cover sheet",
            "",
            f"- Name: {_md(f.name)}",
            f"- Membership number: {_md(f.number) or '______________'}",
            f"- CPD year: {record.label} ({f.period})",
            f"- Total hours: {f.total}",
            f"- Declaration: {declaration(record)}",
            "- Signed: ______________  Date: ______________",
            "",
        ]
    return out


def _assessment(assessment: Assessment) -> list[str]:
    out = ["## Assessment", "", "| | Requirement | Where you stand |", "|---|---|---|"]
    for r in assessment.requirements:
        reason = r.reason[:1].upper() + r.reason[1:]
        note = _md(reason) + (f" — **To do:** {_md(r.action)}" if r.action else "")
        out.append(f"| {STATE_LABELS[r.state]} | {_md(r.label)} | {note} |")
    return out


def _hours(f: Facts) -> list[str]:
    out = ["", "## Hours by category", "", "| Category | Hours | Share |", "|---|---:|---:|"]
    out += [f"| {_md(label)} | {h} | {s} |" for label, h, s in f.categories]
    out.append(f"| **Total** | **{f.total}** | |")
    if f.split:
        out += ["", "| Learning | Hours | Share |", "|---|---:|---:|"]
        out += [f"| {_md(label)} | {h} | {s} |" for label, h, s in f.split]
    return out


def _plan(plan: Plan, f: Facts, assessment: Assessment) -> list[str]:
    out = ["", "## Development plan", ""]
    if plan.role:
        out += [f"**Role:** {_md(plan.role)}", ""]
    if plan.responsibilities:
        out += ["**Key responsibilities:**", ""]
        out += [f"{i}. {_md(t)}" for i, t in enumerate(plan.responsibilities, 1)]
        out.append("")
    if f.progress:
        out += [
            "| Objective | Area | Target date | Status | Activities | Hours |",
            "|---|---|---|---|---:|---:|",
        ]
        for p in f.progress:
            o = p.objective
            due = fmt.short_day(o.target_date) if o.target_date else "–"
            state = "overdue" if o.overdue(assessment.today) else o.status
            out.append(
                f"| {_md(o.label)} {_md(o.title)} | {_md(o.area_label)} | {due} | {state} | "
                f"{len(p.entries)} | {fmt.hours(p.minutes) if p.minutes else '–'} |"
            )
        out.append("")
    if plan.gap_notes:
        out += ["**Gaps explained:**", ""]
        out += [
            f"- {fmt.short_day(g.start)} – {fmt.short_day(g.end)}: {_md(g.text)}"
            for g in plan.gap_notes
        ]
    return out


def _activities(record: Record, plan: Plan) -> list[str]:
    out = ["", "## Activities", ""]
    if not record.entries:
        out.append("No activities recorded in this CPD year.")
    for e in record.entries:
        meta = _md(entry_meta(e, record, plan))
        out += [f"### #{e.number} {_md(e.title)}", "", f"*{meta}*", ""]
        for refl in e.reflections:
            answer = _md(refl.answer) if refl.answer else f"*{PENDING}*"
            out += [f"- **{_md(refl.question)}**  ", f"  {answer}"]
        if not e.reflections:
            out.append("- *No reflection recorded.*")
        out += evidence.entry_markdown(e, record.person.timezone)
        out.append("")
    return out

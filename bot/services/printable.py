"""The printable CPD record: Markdown and PDF, with the assessment and the plan.

Both carry what a reviewer asks for: the person, body and CPD year; total hours against
the target; sub-totals by category (and the structured/unstructured split where the
scheme tracks it); the assessment, requirement by requirement; objectives and key
responsibilities; every activity with its date, hours, category and reflections (pending
ones marked). STEP records start with the cover-sheet fields.

The PDF is laid out by hand on fpdf2 (text lines, not multi_cell), which keeps a
2,000-activity year well under a second; DejaVu Sans (shipped with matplotlib) draws
accents, dashes and most symbols, and `bot.services.fonts.safe_text` drops what it cannot.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.core import text as fmt
from bot.core.assess import STATE_LABELS, Assessment, State
from bot.core.export import Record
from bot.core.model import EntryView
from bot.core.plan import ObjectiveProgress, Plan, review
from bot.services.fonts import FACES, font_dir, safe_text

# Schemes whose record goes with a cover sheet (STEP: "return your CPD record, plus the
# CPD Cover Sheet, within two months of the original request").
COVER_SHEET_SCHEMES = frozenset({"step"})
PENDING = "Pending: not answered yet"


def _long_day(d: date) -> str:
    return f"{d:%a} {d.day} {d:%b %Y}"


def _period(record: Record) -> str:
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
class _Facts:
    """What both renderers print, worked out once."""

    title: str
    name: str
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


def _facts(record: Record, assessment: Assessment, plan: Plan) -> _Facts:
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
    return _Facts(
        title=f"CPD record {record.label}",
        name=record.person.display_name or "(no name given)",
        body=scheme.body,
        scheme=scheme.name,
        status=scheme.status(record.person.status_id).label,
        period=_period(record),
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


def _meta(entry: EntryView, record: Record, plan: Plan) -> str:
    parts = [
        _long_day(entry.activity_date),
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


def _question_names(record: Record) -> dict[str, str]:
    """Question id -> its short name ('Key points'), for questions that have one."""
    names = {}
    for qid, _ in record.question_columns():
        question = record.scheme.question(qid)
        if question is not None and question.short:
            names[qid] = question.short[:1].upper() + question.short[1:]
    return names


def _declaration(record: Record) -> str:
    return (
        f"I declare that this is a true and accurate record of my continuing professional "
        f"development for the period {_period(record)}."
    )


# ---------------------------------------------------------------- Markdown


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell or line (no pipes or line breaks)."""
    return " ".join(text.replace("|", "\\|").split())


def to_markdown(record: Record, assessment: Assessment, plan: Plan | None) -> bytes:
    plan = plan or Plan()
    f = _facts(record, assessment, plan)
    out: list[str] = [f"# {f.title} — {_md(f.name)}", ""]
    out += [
        f"- **Professional body:** {f.body} ({f.scheme})",
        f"- **Membership status:** {f.status}",
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
            "- Membership number: ______________",
            f"- CPD year: {record.label} ({f.period})",
            f"- Total hours: {f.total}",
            f"- Declaration: {_declaration(record)}",
            "- Signed: ______________  Date: ______________",
            "",
        ]
    out += ["## Assessment", "", "| | Requirement | Where you stand |", "|---|---|---|"]
    for r in assessment.requirements:
        reason = r.reason[:1].upper() + r.reason[1:]
        note = _md(reason) + (f" — **To do:** {_md(r.action)}" if r.action else "")
        out.append(f"| {STATE_LABELS[r.state]} | {_md(r.label)} | {note} |")
    out += ["", "## Hours by category", "", "| Category | Hours | Share |", "|---|---:|---:|"]
    out += [f"| {_md(label)} | {h} | {s} |" for label, h, s in f.categories]
    out.append(f"| **Total** | **{f.total}** | |")
    if f.split:
        out += ["", "| Learning | Hours | Share |", "|---|---:|---:|"]
        out += [f"| {label} | {h} | {s} |" for label, h, s in f.split]
    if not plan.is_empty:
        out += ["", "## Development plan", ""]
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
                    f"| {o.label} {_md(o.title)} | {o.area_label} | {due} | {state} | "
                    f"{len(p.entries)} | {fmt.hours(p.minutes) if p.minutes else '–'} |"
                )
            out.append("")
        if plan.gap_notes:
            out += ["**Gaps explained:**", ""]
            out += [
                f"- {fmt.short_day(g.start)} – {fmt.short_day(g.end)}: {_md(g.text)}"
                for g in plan.gap_notes
            ]
    out += ["", "## Activities", ""]
    if not record.entries:
        out.append("No activities recorded in this CPD year.")
    for e in record.entries:
        out += [f"### #{e.number} {_md(e.title)}", "", f"*{_meta(e, record, plan)}*", ""]
        for refl in e.reflections:
            answer = _md(refl.answer) if refl.answer else f"*{PENDING}*"
            out += [f"- **{_md(refl.question)}**  ", f"  {answer}"]
        if not e.reflections:
            out.append("- *No reflection recorded.*")
        out.append("")
    return ("\n".join(out).rstrip() + "\n").encode("utf-8")


# ---------------------------------------------------------------- PDF

PT = 25.4 / 72  # mm per point
INK = (33, 37, 41)
MUTED = (108, 117, 125)
RULE = (222, 226, 230)
ACCENT = (0, 84, 147)
SHADE = (244, 246, 248)
STATE_COLOURS: dict[State, tuple[int, int, int]] = {
    "met": (25, 135, 84),
    "not_yet": (190, 90, 0),
    "not_applicable": (120, 128, 136),
}
PENDING_COLOUR = (190, 90, 0)

Run = tuple[str, str, tuple[int, int, int]]  # text, style ("", "B", "I"), colour


class _Layout:
    """A top-down writer over fpdf2: wrapped lines, simple tables, page breaks, footer."""

    def __init__(self, footer: str, today: date) -> None:
        from fpdf import FPDF

        self.pdf = FPDF(format="A4", unit="mm")
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margins(18, 16, 18)
        self.pdf.set_creation_date(datetime(today.year, today.month, today.day, tzinfo=UTC))
        folder = font_dir()
        self.unicode = folder is not None
        if folder is not None:
            for style, name in FACES.items():
                self.pdf.add_font("DejaVu", style, str(folder / name))
            self.family = "DejaVu"
        else:  # no TTF found: a core font, Latin-1 only
            self.family = "Helvetica"
        self.footer_text = footer
        self.left = 18.0
        self.width = 210 - 36.0
        self.bottom = 297 - 18.0
        self._widths: dict[str, Callable[[str], float]] = {}
        self.pdf.add_page()
        self.y = 16.0

    def text(self, value: str) -> str:
        cleaned = safe_text(value)
        if not self.unicode:
            cleaned = cleaned.encode("latin-1", "replace").decode("latin-1")
        return cleaned

    def font(self, style: str, size: float, colour: tuple[int, int, int] = INK) -> None:
        self.pdf.set_font(self.family, style, size)
        self.pdf.set_text_color(*colour)

    def _measure(self, style: str, size: float) -> Callable[[str], float]:
        """Width in mm of a string in the current font (fast path for TTF fonts)."""
        key = f"{style}{size}"
        found = self._widths.get(key)
        if found is not None:
            return found
        self.pdf.set_font(self.family, style, size)
        cw: Any = getattr(self.pdf.current_font, "cw", None)
        if self.unicode and cw is not None:
            scale = size * PT / 1000
            seen: dict[str, float] = {}  # words recur: measure each once per font

            def width(s: str) -> float:
                found = seen.get(s)
                if found is None:
                    found = seen[s] = float(sum(cw[ord(c)] for c in s)) * scale
                return found

        else:
            width = self.pdf.get_string_width
        self._widths[key] = width
        return width

    def wrap(self, value: str, style: str, size: float, width: float) -> list[str]:
        measure = self._measure(style, size)
        space = measure(" ")
        lines: list[str] = []
        for para in self.text(value).split("\n"):
            words = para.split()
            if not words:
                lines.append("")
                continue
            line, used = "", 0.0
            for word in words:
                w = measure(word)
                while w > width:  # a word longer than a line: cut it
                    room = width - (used + space if line else 0.0)
                    cut, run = 0, 0.0
                    for ch in word:
                        run += measure(ch)
                        if run > room:
                            break
                        cut += 1
                    soft = max(word.rfind("/", 0, cut), word.rfind("-", 0, cut))
                    if soft > 0:
                        cut = soft + 1  # break after a slash or hyphen when there is one
                    if line and cut < 4:  # hardly any room left: start the word on a new line
                        lines.append(line)
                        line, used = "", 0.0
                        continue
                    cut = max(cut, 1)
                    lines.append((line + " " if line else "") + word[:cut])
                    line, used = "", 0.0
                    word = word[cut:]
                    w = measure(word)
                if line and used + space + w > width:
                    lines.append(line)
                    line, used = word, w
                else:
                    line, used = (line + " " + word, used + space + w) if line else (word, w)
            lines.append(line)
        return lines

    def ensure(self, height: float) -> bool:
        """Start a new page unless `height` mm still fit; True if a page was added."""
        if self.y + height <= self.bottom:
            return False
        self.pdf.add_page()
        self.y = 16.0
        return True

    def para(
        self,
        value: str,
        *,
        size: float = 9.5,
        style: str = "",
        colour: tuple[int, int, int] = INK,
        indent: float = 0.0,
        leading: float = 1.35,
        after: float = 0.0,
    ) -> None:
        lh = size * PT * leading
        lines = self.wrap(value, style, size, self.width - indent)
        self.font(style, size, colour)
        for line in lines:
            self.ensure(lh)
            if line:
                self.pdf.text(self.left + indent, self.y + lh * 0.75, line)
            self.y += lh
        self.y += after

    def heading(self, value: str, *, size: float = 13) -> None:
        self.ensure(size * PT * 1.4 + 14)  # keep a heading with what follows it
        self.y += 3
        self.para(value, size=size, style="B", colour=ACCENT, after=1)
        self.pdf.set_draw_color(*ACCENT)
        self.pdf.set_line_width(0.4)
        self.pdf.line(self.left, self.y, self.left + self.width, self.y)
        self.y += 2.5

    def rule(self) -> None:
        self.pdf.set_draw_color(*RULE)
        self.pdf.set_line_width(0.2)
        self.pdf.line(self.left, self.y, self.left + self.width, self.y)

    def table(
        self,
        widths: Sequence[float],
        header: Sequence[str] | None,
        rows: Sequence[Sequence[str | list[Run]]],
        *,
        size: float = 9,
        align: Sequence[str] = (),
        bold_last: bool = False,
    ) -> None:
        pad = 1.6
        lh = size * PT * 1.3

        def cell_lines(cell: str | list[Run], w: float, style: str) -> list[tuple[str, Run]]:
            runs = [(cell, style, INK)] if isinstance(cell, str) else cell
            out: list[tuple[str, Run]] = []
            for run in runs:
                out += [(line, run) for line in self.wrap(run[0], run[1], size, w - 2 * pad)]
            return out

        def draw(cells: Sequence[str | list[Run]], style: str, fill: bool) -> None:
            laid = [cell_lines(c, w, style) for c, w in zip(cells, widths, strict=True)]
            height = max(len(c) for c in laid) * lh + 2 * pad
            if self.ensure(height) and header is not None and not fill:
                draw(header, "B", True)
            if fill:
                self.pdf.set_fill_color(*SHADE)
                self.pdf.rect(self.left, self.y, sum(widths), height, style="F")
            x = self.left
            for i, (lines, w) in enumerate(zip(laid, widths, strict=True)):
                right = i < len(align) and align[i] == "R"
                y = self.y + pad
                for line, (_, run_style, colour) in lines:
                    self.font(run_style, size, colour)
                    tx = x + pad
                    if right:
                        tx = x + w - pad - self._measure(run_style, size)(line)
                    if line:
                        self.pdf.text(tx, y + lh * 0.75, line)
                    y += lh
                x += w
            self.y += height
            self.rule()

        if header is not None:
            draw(header, "B", True)
        for n, row in enumerate(rows):
            draw(row, "B" if bold_last and n == len(rows) - 1 else "", False)
        self.y += 3

    def image(self, png: bytes, width: float) -> None:
        from PIL import Image

        with Image.open(io.BytesIO(png)) as img:
            w_px, h_px = img.size
        height = width * h_px / w_px
        self.ensure(height + 2)
        self.pdf.image(io.BytesIO(png), x=self.left, y=self.y, w=width, h=height)
        self.y += height + 3

    def output(self) -> bytes:
        """The PDF, with a footer (who, what, page n of N) drawn on every page."""
        pages = self.pdf.pages_count
        footer = self.text(self.footer_text)
        measure = self._measure("", 7.5)
        y = 297 - 10.0
        for n in range(1, pages + 1):
            self.pdf.page = n
            self.pdf.set_draw_color(*RULE)
            self.pdf.set_line_width(0.2)
            self.pdf.line(self.left, y - 4, self.left + self.width, y - 4)
            self.font("", 7.5, MUTED)
            self.pdf.text(self.left, y, footer)
            label = f"Page {n} of {pages}"
            self.pdf.text(self.left + self.width - measure(label), y, label)
        return bytes(self.pdf.output())


def to_pdf(
    record: Record, assessment: Assessment, plan: Plan | None, chart_png: bytes | None
) -> bytes:
    plan = plan or Plan()
    f = _facts(record, assessment, plan)
    doc = _Layout(f"{f.name} · {f.scheme} CPD record {record.label} · cpdbot", assessment.today)
    pdf = doc.pdf
    pdf.set_title(doc.text(f"{f.title} — {f.name}"))
    pdf.set_author(doc.text(f.name))
    pdf.set_creator("cpdbot")

    # Title block.
    doc.para(f.title, size=20, style="B", colour=ACCENT, leading=1.2)
    doc.para(f.name, size=13, style="B", leading=1.3)
    doc.para(f"{f.body} · {f.scheme} · {f.status}", size=9.5, colour=MUTED)
    doc.para(
        f"CPD year {record.label}: {f.period} · produced {f.generated} by cpdbot",
        size=9.5,
        colour=MUTED,
        after=4,
    )

    # Key figures.
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
        while size > 8 and doc._measure("B", size)(doc.text(value)) > box_w - 6:
            size -= 0.5
        doc.font("B", size, INK)
        pdf.text(x + 3, doc.y + 12.5, doc.text(value))
    doc.y += 16 + 2
    if assessment.full_target_minutes not in (None, assessment.target_minutes):
        doc.para(f"Target: {f.target}.", size=8.5, colour=MUTED)
    doc.y += 2

    if f.cover:
        doc.heading("CPD cover sheet")
        doc.table(
            [55, doc.width - 55],
            None,
            [
                ["Name", f.name],
                ["Membership number", "_______________________"],
                ["CPD year", f"{record.label} ({f.period})"],
                ["Total hours", f.total],
                ["Declaration", _declaration(record)],
                ["Signed", "_______________________     Date: ______________"],
            ],
            size=9.5,
        )

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

    if not plan.is_empty:
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

    doc.heading("Activities")
    if not record.entries:
        doc.para("No activities recorded in this CPD year.", colour=MUTED)
    names = _question_names(record)
    if names:
        doc.para("Reflection questions", size=9, style="B", colour=MUTED)
        for qid, question in record.question_columns():
            doc.para(f"{names[qid]}: {question}", size=8.5, colour=MUTED, indent=2)
        doc.y += 3
    for e in record.entries:
        doc.ensure(22)
        doc.para(f"#{e.number}  {e.title}", size=10.5, style="B", leading=1.3)
        doc.para(_meta(e, record, plan), size=8.5, colour=MUTED, after=1)
        for r in e.reflections:
            label = names.get(r.question_id, r.question)
            doc.para(label, size=8, style="I", colour=MUTED, indent=4)
            if r.answer:
                doc.para(r.answer, size=9.5, indent=4, after=1)
            else:
                doc.para(PENDING, size=9, style="I", colour=PENDING_COLOUR, indent=4, after=1)
        if not e.reflections:
            doc.para("No reflection recorded.", size=9, style="I", colour=MUTED, indent=4)
        doc.y += 1.5
        doc.rule()
        doc.y += 2.5
    return doc.output()

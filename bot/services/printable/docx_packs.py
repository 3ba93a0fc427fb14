"""Audit packs as Word files (issue 16): HCPC's CPD profile in its four parts, split into
email-sized files, and an editable record laid out like the body's own activity report
(IET's CPD record: activities with their type, hours and reflection, sub-totals by type).

Evidence in the HCPC profile: part 4 lists every piece (E-number, entry, name, type, date
received, SHA-256); images (PNG, JPEG) are embedded under their number, as many as fit in
each file under the size limit, further ones in "evidence, part k of N" files; other
files (PDF, DOCX, ...) are listed by number and name as enclosed separately (the member
sends them from `/export evidence`, named by E-number; `/export hcpc`'s reply says so).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from docx import Document
from docx.document import Document as DocumentObject
from docx.shared import Cm, Pt

from bot.core import hcpc
from bot.core import text as fmt
from bot.core.evidence_index import member_name, type_name
from bot.core.model import EntryView, EvidenceView, ProfileView
from bot.core.record import Record
from bot.core.schemes import Scheme

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PART_LIMIT = 10 * 1024 * 1024  # an email attachment: each file stays under 10 MB
EMBEDDED = hcpc.EMBEDDED
_IMAGE_OVERHEAD = 4096  # what an embedded picture adds besides its bytes (XML, relations)


@dataclass(frozen=True)
class HcpcInput:
    """What the profile is made from: the member, their scheme, the profile and period."""

    name: str
    membership_number: str
    scheme: Scheme
    profile: ProfileView
    today: date


def _doc() -> DocumentObject:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(10)
    return doc


def _table(doc: DocumentObject, head: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    table = doc.add_table(rows=1, cols=len(head))
    table.style = "Table Grid"
    for cell, label in zip(table.rows[0].cells, head, strict=True):
        cell.text = label
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = value


def _bytes(doc: DocumentObject) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _evidence_refs(entry: EntryView) -> str:
    return ", ".join(e.label for e in entry.evidence)


# ---------------------------------------------------------------- HCPC profile


def _head(doc: DocumentObject, pack: HcpcInput, part: str) -> None:
    doc.add_heading(f"CPD profile{part}", level=0)
    blank = "_" * 24  # not set: a line to fill in by hand
    doc.add_paragraph(f"Name: {pack.name or blank}")
    doc.add_paragraph(f"HCPC registration number: {pack.membership_number or blank}")
    period = f"{fmt.short_day(pack.profile.start)} – {fmt.short_day(pack.profile.end)}"
    doc.add_paragraph(f"HCPC CPD audit: two-year period {period}")


def _summary(doc: DocumentObject, pack: HcpcInput) -> None:
    doc.add_heading("Part 1: Summary of recent work", level=1)
    text = pack.profile.summary
    count = hcpc.word_count(text)
    doc.add_paragraph(f"Word count: {hcpc.words_line(count, hcpc.SUMMARY_WORDS)}")
    doc.add_paragraph(text or "(not written yet)")


def _statement(doc: DocumentObject, pack: HcpcInput) -> None:
    profile = pack.profile
    doc.add_heading("Part 2: Statement of how I have met the standards", level=1)
    count = sum(hcpc.word_count(s) for s in profile.standards)
    doc.add_paragraph(f"Word count: {hcpc.words_line(count, hcpc.STATEMENT_WORDS)}")
    by_number = {e.number: e for e in profile.entries}
    picked = [by_number[n] for n in profile.entry_numbers if n in by_number]
    doc.add_paragraph("Activities this statement draws on:")
    for e in picked:
        refs = _evidence_refs(e)
        line = f"#{e.number} {e.title} ({fmt.short_span(e.activity_date, e.end_date)})"
        doc.add_paragraph(line + (f"; evidence {refs}" if refs else ""), style="List Bullet")
    for i, standard in enumerate(hcpc.STANDARDS):
        doc.add_heading(f"Standard {i + 1}: {standard}", level=2)
        said = profile.standards[i] if i < len(profile.standards) else ""
        doc.add_paragraph(said or "(not written yet)")


def _activities(doc: DocumentObject, pack: HcpcInput) -> None:
    profile = pack.profile
    doc.add_heading("Part 3: CPD activities in the two-year period", level=1)
    doc.add_paragraph(
        f"{len(profile.entries)} activities, oldest first; gaps of three months or more "
        "are flagged with their explanation."
    )
    rows: list[tuple[date, list[str]]] = []
    for e in profile.entries:
        rows.append(
            (
                e.activity_date,
                [
                    fmt.short_span(e.activity_date, e.end_date),
                    e.title,
                    fmt.category_label(pack.scheme, e.category),
                    fmt.hours(e.minutes),
                    _evidence_refs(e),
                ],
            )
        )
    for first, last, why in profile.gaps:
        days = (last - first).days + 1
        flag = f"GAP: no CPD for {days} days"
        said = f"Explanation: {why}" if why else "NOT EXPLAINED"
        rows.append((first, [fmt.short_span(first, last), flag, said, "", ""]))
    rows.sort(key=lambda r: r[0])
    _table(doc, ("Date", "Activity", "Type", "Hours", "Evidence"), [r for _, r in rows])


def _evidence_index(
    doc: DocumentObject, evidence: Sequence[EvidenceView], placed: str, too_big: Sequence[str]
) -> None:
    doc.add_heading("Part 4: Evidence", level=1)
    if not evidence:
        doc.add_paragraph("No evidence is filed with these activities.")
        return
    doc.add_paragraph("Each piece is numbered as the activities in part 3 cite it. " + placed)
    separate = [
        e for e in evidence if e.kind == "file" and (e.mime not in EMBEDDED or e.label in too_big)
    ]
    if separate:
        doc.add_paragraph("Enclosed separately, as files named by their number:")
        for e in separate:
            enclosed = member_name(e).rpartition("/")[2]
            line = f"{enclosed} ({type_name(e)}, entry #{e.entry_number})"
            doc.add_paragraph(line, style="List Bullet")
    rows = [
        [
            e.label,
            f"#{e.entry_number}",
            e.name,
            type_name(e),
            fmt.short_day(e.received_at.date()),
            e.sha256 or "(link)",
        ]
        for e in evidence
    ]
    _table(doc, ("No.", "Entry", "File", "Type", "Received", "SHA-256"), rows)


def _picture(doc: DocumentObject, item: EvidenceView, content: bytes) -> None:
    doc.add_heading(f"{item.label}: {item.name} (entry #{item.entry_number})", level=2)
    doc.add_picture(io.BytesIO(content), width=Cm(15))


def profile_evidence(profile: ProfileView) -> list[EvidenceView]:
    """Every piece of evidence of the period's activities, in E-number order."""
    return hcpc.evidence_of(profile)


def _groups(
    images: Sequence[tuple[EvidenceView, bytes]], first_room: int, room: int
) -> list[list[tuple[EvidenceView, bytes]]]:
    """Images in E-number order, packed into files: the first with `first_room` bytes
    free, the others with `room` each."""
    groups: list[list[tuple[EvidenceView, bytes]]] = [[]]
    free = first_room
    for item in images:
        need = len(item[1]) + _IMAGE_OVERHEAD
        if need > free and groups[-1]:
            groups.append([])
            free = room
        groups[-1].append(item)
        free -= need
    return groups


def hcpc_profile(
    pack: HcpcInput, content: Callable[[int], bytes], *, limit: int = PART_LIMIT
) -> list[bytes]:
    """The CPD profile as DOCX files, each under `limit` bytes: the first holds the four
    parts and the images that fit; the next ones the remaining images ("part k of N")."""
    evidence = profile_evidence(pack.profile)
    base = _first_part(pack, evidence, [], "")
    empty = _bytes(_evidence_doc(pack, [], " — evidence, part 2 of 2"))
    images, too_big = [], []
    for item in evidence:
        if item.mime in EMBEDDED:
            data = content(item.number)
            if len(data) + _IMAGE_OVERHEAD + len(empty) < limit:
                images.append((item, data))
            else:
                too_big.append(item.label)
    groups = _groups(images, limit - len(base), limit - len(empty))
    total = len(groups)
    files = []
    for k, group in enumerate(groups, start=1):
        part = f" — part {k} of {total}" if total > 1 else ""
        if k == 1:
            files.append(_first_part(pack, evidence, group, part, too_big))
        else:
            files.append(_bytes(_evidence_doc(pack, group, f" — evidence, part {k} of {total}")))
    return files


def _first_part(
    pack: HcpcInput,
    evidence: Sequence[EvidenceView],
    images: Sequence[tuple[EvidenceView, bytes]],
    part: str,
    too_big: Sequence[str] = (),
) -> bytes:
    doc = _doc()
    _head(doc, pack, part)
    _summary(doc, pack)
    _statement(doc, pack)
    _activities(doc, pack)
    placed = "Photos and scans (PNG, JPEG) follow as pictures"
    placed += ", in the further parts of this profile where they do not fit here." if part else "."
    if too_big:
        placed += f" Too big to embed in an email-sized file: {', '.join(too_big)}."
    _evidence_index(doc, evidence, placed, too_big)
    for item, data in images:
        _picture(doc, item, data)
    return _bytes(doc)


def _evidence_doc(
    pack: HcpcInput, images: Sequence[tuple[EvidenceView, bytes]], part: str
) -> DocumentObject:
    doc = _doc()
    _head(doc, pack, part)
    doc.add_paragraph("Part 4 (continued): evidence, numbered as in part 3.")
    for item, data in images:
        _picture(doc, item, data)
    return doc


# ---------------------------------------------------------------- the record as Word


RECORD_COLUMNS = ("Date", "Activity", "Type of CPD", "Hours", "Reflection", "Evidence")


def _reflection(entry: EntryView) -> str:
    parts = [f"{r.question} {r.answer}" for r in entry.reflections if r.answer]
    return "\n".join(parts) or "(reflection pending)"


def record_docx(record: Record, name: str, membership_number: str) -> bytes:
    """The CPD year's record as the body's activity report: every activity with its type,
    hours, reflection and evidence, then the hours by type and the total."""
    scheme = record.scheme
    doc = _doc()
    doc.add_heading(f"CPD record {record.label}", level=0)
    who = name + (f", {membership_number}" if membership_number else "")
    doc.add_paragraph(f"{who}\n{scheme.body}")
    doc.add_paragraph(f"Total CPD hours: {fmt.hours(record.total_minutes)}")
    doc.add_heading("CPD activities", level=1)
    rows = [
        [
            fmt.short_span(e.activity_date, e.end_date),
            e.title,
            fmt.category_label(scheme, e.category),
            fmt.hours(e.minutes),
            _reflection(e),
            _evidence_refs(e),
        ]
        for e in record.entries
    ]
    _table(doc, RECORD_COLUMNS, rows)
    doc.add_heading("Sub-totals by type of CPD", level=1)
    totals = [
        [fmt.category_label(scheme, c), fmt.hours(m)]
        for c, m in record.minutes_by_category().items()
    ]
    _table(doc, ("Type of CPD", "Hours"), [*totals, ["Total", fmt.hours(record.total_minutes)]])
    return _bytes(doc)

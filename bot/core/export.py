"""The CPD record as text files: JSON (everything, re-readable) and CSV (one row per entry)."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast

from bot.core import entry_rules as rules
from bot.core import evidence_index
from bot.core import text as fmt
from bot.core.model import EntryView, EvidenceView, ReflectionView
from bot.core.record import Record
from bot.core.sanitize import clean_line, clean_text, spreadsheet_safe, spreadsheet_value
from bot.core.schemes import Scheme
from bot.core.whole_record import Kept, kept_json

FORMAT = "cpdbot-record"
VERSION = 1
# end_date: the last day of a multi-day activity, empty for a one-day entry. Files written
# before it existed (no end_date column) are read too.
BASE_COLUMNS = (
    "number",
    "date",
    "end_date",
    "title",
    "hours",
    "category",
    "structured",
    "source",
)
_ONE_DAY_COLUMNS = tuple(c for c in BASE_COLUMNS if c != "end_date")
# evidence: the entry's evidence numbers ("E1 E3"), as the PDF and its index number them.
# Files written before evidence (no such column) are read too; reading ignores it.
COLUMNS = (*BASE_COLUMNS, "evidence")
MAX_RANGE_DAYS = 31  # a multi-day activity spans at most this many days (the parser's limit)


class ExportError(Exception):
    """A file that is not a cpdbot export (the message says what is wrong)."""


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


def _structured(value: bool | None) -> str:
    return {True: "structured", False: "unstructured", None: ""}[value]


def _clean(text: str | None) -> str | None:
    return None if text is None else clean_text(text)


def to_json(record: Record, kept: Kept | None = None) -> bytes:
    """The record as JSON; with `kept` (`/export all`) also the other bodies, the entries'
    filings in them, the gap notes and the HCPC profile, so an import restores them."""
    scheme = record.scheme
    target = scheme.target_hours(record.person.status_id)
    payload: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "person": {
            "name": clean_text(record.person.display_name),
            "full_name": clean_text(record.person.full_name),
            "membership_number": clean_text(record.person.membership_number),
            "day_minutes": record.person.day_minutes,  # a "full day"; null: the scheme's
            "timezone": record.person.timezone,
            "scheme": scheme.id,
            "scheme_name": scheme.name,
            "status": record.person.status_id,
        },
        "year": {
            "label": record.label,
            "start": record.start.isoformat(),
            "end": record.end.isoformat(),
        },
        "target_hours": target,
        "totals": {
            "minutes": record.total_minutes,
            "hours": _hours(record.total_minutes),
            "by_category": {
                k: {"label": fmt.category_label(scheme, k), "minutes": v}
                for k, v in record.minutes_by_category().items()
            },
        },
        "entries": [
            {
                "number": e.number,
                "title": clean_text(e.title),
                "activity_date": e.activity_date.isoformat(),
                "end_date": None if e.end_date is None else e.end_date.isoformat(),
                "minutes": e.minutes,
                "hours": _hours(e.minutes),
                "category": e.category,
                "category_label": fmt.category_label(scheme, e.category),
                "structured": e.structured,
                "source": clean_text(e.source),
                "reflections": [
                    {
                        "question_id": r.question_id,
                        "question": clean_text(r.question),
                        "answer": _clean(r.answer),
                    }
                    for r in e.reflections
                ],
                "evidence": [
                    evidence_index.to_json(ev)
                    for ev in e.evidence
                    if ev.kind in evidence_index.KINDS
                ],
            }
            for e in record.entries
        ],
    }
    if kept is not None:
        for e, row in zip(record.entries, payload["entries"], strict=True):
            row["categories"] = dict(kept.filings.get(e.number, {}))
        payload.update(kept_json(kept))
    return (json.dumps(payload, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


class _SafeWriter:
    """A CSV writer whose cells are text a spreadsheet shows, never runs (no formula, no
    control or bidi character); `read_csv` undoes exactly the quote a formula got."""

    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out, lineterminator="\r\n")

    def writerow(self, row: list[Any]) -> None:
        self._writer.writerow([spreadsheet_safe(clean_text(str(cell))) for cell in row])


def to_csv(record: Record) -> bytes:
    scheme = record.scheme
    questions = record.question_columns()
    out = io.StringIO()
    writer = _SafeWriter(out)
    writer.writerow([*COLUMNS, *(f"{text} [{qid}]" for qid, text in questions)])
    for e in record.entries:
        answers = {r.question_id: r.answer for r in e.reflections}
        writer.writerow(
            [
                e.number,
                e.activity_date.isoformat(),
                "" if e.end_date is None else e.end_date.isoformat(),
                e.title,
                _hours(e.minutes),
                fmt.category_label(scheme, e.category),
                _structured(e.structured),
                e.source,
                evidence_index.labels(e),
                *(
                    ("" if answers.get(q) is None else answers[q]) if q in answers else "n/a"
                    for q, _ in questions
                ),
            ]
        )
    writer.writerow([])
    # Totals: the label in the title column, the hours in the hours column.
    writer.writerow(["", "", "", f"Total CPD year {record.label}", _hours(record.total_minutes)])
    for cat, minutes in record.minutes_by_category().items():
        label = f"Sub-total: {fmt.category_label(scheme, cat)}"
        writer.writerow(["", "", "", label, _hours(minutes)])
    # Excel opens UTF-8 CSV correctly only with a byte-order mark.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# ---------------------------------------------------------------- reading back
#
# `cpdbot import` reads a file row by row: each row's fields are checked with the rules
# the dialogue applies (bot.core.entry_rules) and a bad row says what is wrong; a file
# that cannot be read at all (not UTF-8, not JSON, nested too deeply, a huge cell) raises
# ExportError with one clear line.


@dataclass(frozen=True)
class Row:
    """One entry read back: where it is ('entry 3', 'line 5'), and the entry if every field
    is good, else what is wrong with it."""

    where: str
    entry: EntryView | None
    problems: tuple[str, ...] = ()


def read_rows(data: bytes, scheme: Scheme, *, today: date) -> list[Row]:
    """Every entry of a `cpdbot export` file, JSON or CSV (told apart by content), checked
    against `scheme` and `today` (the person's day)."""
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        return json_rows(load_json(data), scheme, today=today)
    return csv_rows(data, scheme, today=today)


def read_json(
    data: bytes, scheme: Scheme | None = None, *, today: date = date.max
) -> list[EntryView]:
    """The entries of a JSON export (ExportError naming the first bad entries, if any)."""
    return _entries(json_rows(load_json(data), scheme, today=today))


def read_csv(data: bytes, scheme: Scheme, *, today: date = date.max) -> list[EntryView]:
    """The entries of a CSV export (ExportError naming the first bad rows, if any)."""
    return _entries(csv_rows(data, scheme, today=today))


def _entries(rows: list[Row]) -> list[EntryView]:
    problems = [f"{r.where}: {p}" for r in rows for p in r.problems]
    if problems:
        more = f" (and {len(problems) - 3:,} more)" if len(problems) > 3 else ""
        raise ExportError("; ".join(problems[:3]) + more)
    return [r.entry for r in rows if r.entry is not None]


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExportError(
            f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position {exc.start:,}); "
            "save the file as UTF-8"
        ) from None


def _no_constant(name: str) -> Any:
    raise ExportError(f"{name} is not a number; a cpdbot record holds only finite numbers")


def load_json(data: bytes) -> dict[str, Any]:
    """A JSON export's top level, its format and entries list checked."""
    text = _utf8(data)
    try:
        payload = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ExportError(f"not a JSON file: {exc}") from None
    except RecursionError:
        raise ExportError("the JSON is nested too deeply to be a cpdbot record") from None
    except ValueError:  # an integer of more than 4,300 digits
        raise ExportError("a number in the file is too long to be a cpdbot value") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ExportError(f"not a cpdbot record (expected format {FORMAT!r})")
    if not isinstance(payload.get("entries"), list):
        raise ExportError("entries must be a list of entries")
    return payload


class _Fields:
    """An entry's fields read one by one, collecting what is wrong with them."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def check(self, problem: str | None) -> bool:
        if problem:
            self.problems.append(problem)
        return problem is None

    def text(self, e: dict[str, Any], name: str, default: str | None = None) -> str | None:
        value = e.get(name, default)
        if isinstance(value, str):
            return value
        self.check(
            f"{name} is missing"
            if value is None
            else f"{name} must be text, not {rules.shown(value)}"
        )
        return None

    def day(self, value: object, today: date, name: str = "activity_date") -> date | None:
        try:
            day = date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            day = None
        if day is None:
            self.check(f"{name} must be a date like 2026-02-03, not {rules.shown(value)}")
            return None
        problem = rules.date_problem(day, today)
        return day if self.check(problem and problem.replace("activity_date", name, 1)) else None

    def end_day(self, value: object, start: date | None, today: date) -> date | None:
        """The last day of a multi-day activity: None or empty for one day, else a date
        after the first and at most MAX_RANGE_DAYS days from it."""
        if value is None or value == "":
            return None
        end = self.day(value, today, "end_date")
        if end is None or start is None:
            return None
        if end <= start:
            self.check(f"end_date {end.isoformat()} is not after the date {start.isoformat()}")
            return None
        if (end - start).days >= MAX_RANGE_DAYS:
            self.check(
                f"end_date {end.isoformat()} is {(end - start).days} days after the date; "
                f"a multi-day activity spans at most {MAX_RANGE_DAYS} days"
            )
            return None
        return end

    def minutes(self, minutes: object, start: date | None, end: date | None) -> None:
        """At most 24 h a day: a multi-day activity may hold 24 h for each of its days."""
        days = 1 if start is None or end is None else (end - start).days + 1
        if days == 1 or not isinstance(minutes, int) or isinstance(minutes, bool):
            self.check(rules.minutes_problem(minutes))
        elif not 1 <= minutes <= days * rules.MAX_DAY_MINUTES:
            most = days * rules.MAX_DAY_MINUTES
            self.check(f"minutes must be a whole number from 1 to {most} for {days} days")

    def category(self, text: str | None, scheme: Scheme | None) -> str:
        if text is None or scheme is None:
            return text or ""
        category = {c.label: c.id for c in scheme.categories}.get(text, text)
        self.check(rules.category_problem(category, scheme))
        return category

    def title(self, title: str | None) -> str:
        """The title as written, on one line (a tab or line break becomes a space)."""
        if title is None:
            return ""
        title = clean_line(title)
        self.check(rules.title_problem(title))
        return title

    def source(self, source: str | None) -> str:
        source = clean_line(source or "").strip() or "import"
        self.check(rules.source_problem(source))
        return source

    def reflection(self, qid: str, question: str, answer: str | None) -> ReflectionView:
        question, answer = clean_text(question), None if answer is None else clean_text(answer)
        self.check(rules.question_problem(qid, question))
        self.check(rules.answer_problem(qid, answer))
        return ReflectionView(qid, question, answer)


def json_rows(payload: dict[str, Any], scheme: Scheme | None, *, today: date) -> list[Row]:
    return [_json_row(f"entry {i}", e, scheme, today) for i, e in enumerate(payload["entries"], 1)]


def _json_row(where: str, e: object, scheme: Scheme | None, today: date) -> Row:
    if not isinstance(e, dict):
        return Row(
            where, None, (f"must be an object with the entry's fields, not {rules.shown(e)}",)
        )
    f = _Fields()
    number, minutes = e.get("number"), e.get("minutes")
    f.check(rules.number_problem(number))
    title = f.title(f.text(e, "title"))
    day = f.day(e.get("activity_date"), today)
    end = f.end_day(e.get("end_date"), day, today)
    f.minutes(minutes, day, end)
    category = f.category(f.text(e, "category"), scheme)
    structured, deleted = e.get("structured"), e.get("deleted", False)
    if not (structured is None or isinstance(structured, bool)):
        f.check(f"structured must be true, false or null, not {rules.shown(structured)}")
    if not isinstance(deleted, bool):
        f.check(f"deleted must be true or false, not {rules.shown(deleted)}")
    source = f.source(f.text(e, "source", "import"))
    reflections = _json_reflections(f, e.get("reflections", []))
    evidence = _json_evidence(f, e.get("evidence", []), number)
    if f.problems or day is None:
        return Row(where, None, tuple(f.problems))
    return Row(
        where,
        EntryView(
            cast(int, number),
            title,
            day,
            cast(int, minutes),
            category,
            structured,
            source,
            bool(deleted),
            reflections,
            end,
            evidence,
        ),
    )


def _json_evidence(f: _Fields, value: object, number: object) -> tuple[EvidenceView, ...]:
    """The evidence metadata of an entry (files written before evidence have none)."""
    if not isinstance(value, list):
        f.check(f"evidence must be a list, not {rules.shown(value)}")
        return ()
    out: list[EvidenceView] = []
    for item in value:
        ev, problems = evidence_index.from_json(item, number if type(number) is int else 0)
        for problem in problems:
            f.check(problem)
        if ev is not None:
            out.append(ev)
    seen = [ev.number for ev in out]
    if len(set(seen)) != len(seen):
        f.check("the same evidence number is listed twice")
    return tuple(sorted(out, key=lambda ev: ev.number))


def _json_reflections(f: _Fields, value: object) -> tuple[ReflectionView, ...]:
    if not isinstance(value, list):
        f.check(f"reflections must be a list, not {rules.shown(value)}")
        return ()
    out: list[ReflectionView] = []
    for r in value:
        qid = r.get("question_id") if isinstance(r, dict) else None
        question = r.get("question", "") if isinstance(r, dict) else None
        answer = r.get("answer") if isinstance(r, dict) else None
        if not (isinstance(qid, str) and isinstance(question, str)) or not (
            answer is None or isinstance(answer, str)
        ):
            f.check(
                "each reflection must be an object with question_id and question (text) "
                f"and answer (text or null), not {rules.shown(r)}"
            )
            continue
        out.append(f.reflection(qid, question, answer))
    for problem in rules.repeated_questions([r.question_id for r in out]):
        f.check(problem)
    return tuple(out)


_QUESTION_HEADER = re.compile(r"^(?P<text>.*) \[(?P<id>[a-z0-9_]+)\]$", re.S)
_HOURS = re.compile(r"\d{1,6}(\.\d{1,6})?")
_STRUCTURED = {"structured": True, "unstructured": False, "": None}


def _csv_table(text: str) -> list[tuple[int, list[str]]]:
    """(first line, cells) of each CSV row, each cell's spreadsheet quote undone."""
    reader = csv.reader(io.StringIO(text))
    rows: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for row in reader:
            rows.append((line, [spreadsheet_value(cell) for cell in row]))
            line = reader.line_num + 1
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise ExportError(
                f"line {line}: a cell is longer than {csv.field_size_limit():,} characters"
            ) from None
        raise ExportError(f"line {line}: not CSV: {exc}") from None
    return rows


def _csv_questions(headers: list[str]) -> list[tuple[str, str]]:
    questions: list[tuple[str, str]] = []
    for header in headers:
        match = _QUESTION_HEADER.match(header)
        if not match:
            raise ExportError(
                f"reflection column {rules.shown(header)} does not end with [question_id]"
            )
        problem = rules.question_problem(match["id"], match["text"])
        if problem:
            raise ExportError(f"line 1: {problem}")
        questions.append((match["id"], match["text"]))
    twice = rules.repeated_questions([qid for qid, _ in questions])
    if twice:
        raise ExportError(f"line 1: {twice[0].replace('answered', 'a column')}")
    return questions


def csv_rows(data: bytes, scheme: Scheme, *, today: date) -> list[Row]:
    table = _csv_table(_utf8(data))
    header = tuple(table[0][1]) if table else ()
    columns: tuple[str, ...]
    if header[: len(COLUMNS)] == COLUMNS:
        columns = COLUMNS
    elif header[: len(BASE_COLUMNS)] == BASE_COLUMNS:
        columns = BASE_COLUMNS  # written before evidence
    elif header[: len(_ONE_DAY_COLUMNS)] == _ONE_DAY_COLUMNS:
        columns = _ONE_DAY_COLUMNS  # written before multi-day entries: every entry one day
    else:
        raise ExportError(f"not a cpdbot CSV (the first columns must be {', '.join(BASE_COLUMNS)})")
    questions = _csv_questions(list(header[len(columns) :]))
    rows: list[Row] = []
    for line, row in table[1:]:
        if not any(row):
            break  # the totals follow the blank row
        rows.append(_csv_row(f"line {line}", row, columns, questions, scheme, today))
    return rows


def _csv_row(
    where: str,
    row: list[str],
    columns: tuple[str, ...],
    questions: list[tuple[str, str]],
    scheme: Scheme,
    today: date,
) -> Row:
    width = len(columns) + len(questions)
    if not len(columns) <= len(row) <= width:
        return Row(where, None, (f"the row has {len(row)} cells; expected {width}",))
    cells = dict(zip(columns, row, strict=False))
    number, structured = cells["number"], cells["structured"]
    f = _Fields()
    whole: object = int(number) if re.fullmatch(r"\d{1,10}", number) else number
    f.check(rules.number_problem(whole))
    entry_title = f.title(cells["title"])
    activity_date = f.day(cells["date"], today)
    end_date = f.end_day(cells.get("end_date"), activity_date, today)
    minutes = _csv_minutes(f, cells["hours"], activity_date, end_date)
    category_id = f.category(cells["category"], scheme)
    if structured not in _STRUCTURED:
        said = rules.shown(structured)
        f.check(f"structured must be 'structured', 'unstructured' or empty, not {said}")
    reflections = tuple(
        f.reflection(qid, qtext, answer or None)
        for (qid, qtext), answer in zip(questions, row[len(columns) :], strict=False)
        if answer != "n/a"
    )
    entry_source = f.source(cells["source"])
    if f.problems or activity_date is None:
        return Row(where, None, tuple(f.problems))
    entry = EntryView(
        cast(int, whole),
        entry_title,
        activity_date,
        minutes,
        category_id,
        _STRUCTURED[structured],
        entry_source,
        False,
        reflections,
        end_date,
    )
    return Row(where, entry)


def _csv_minutes(f: _Fields, hours: str, start: date | None, end: date | None) -> int:
    """Minutes from the hours column, as the export writes them (to 2 decimals); at most
    24 h for each day of the activity."""
    if not _HOURS.fullmatch(hours):
        f.check(f"hours must be a number like 1.5, not {rules.shown(hours)}")
        return 0
    value = Decimal(hours)
    days = 1 if start is None or end is None else (end - start).days + 1
    if not 0 < value <= 24 * days:
        most = "24" if days == 1 else f"{24 * days} for {days} days"
        f.check(f"hours must be more than 0 and at most {most}, not {rules.shown(hours)}")
        return 0
    exact = value * 60
    minutes = int(exact.to_integral_value())
    if abs(exact - minutes) > Decimal("0.3"):
        f.check(f"hours {hours} is not a whole number of minutes ({exact.normalize()} min)")
    f.minutes(minutes, start, end)
    return minutes

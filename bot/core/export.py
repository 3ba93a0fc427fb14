"""The CPD record as text files: JSON (everything, re-readable) and CSV (one row per entry)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from typing import Any

from bot.core import text as fmt
from bot.core.model import EntryView, ReflectionView
from bot.core.record import Record
from bot.core.schemes import Scheme

FORMAT = "cpdbot-record"
VERSION = 1
BASE_COLUMNS = ("number", "date", "title", "hours", "category", "structured", "source")


class ExportError(Exception):
    """A file that is not a cpdbot export (the message says what is wrong)."""


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


def _structured(value: bool | None) -> str:
    return {True: "structured", False: "unstructured", None: ""}[value]


def to_json(record: Record) -> bytes:
    scheme = record.scheme
    target = scheme.target_hours(record.person.status_id)
    payload: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "person": {
            "name": record.person.display_name,
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
                "title": e.title,
                "activity_date": e.activity_date.isoformat(),
                "minutes": e.minutes,
                "hours": _hours(e.minutes),
                "category": e.category,
                "category_label": fmt.category_label(scheme, e.category),
                "structured": e.structured,
                "source": e.source,
                "reflections": [
                    {"question_id": r.question_id, "question": r.question, "answer": r.answer}
                    for r in e.reflections
                ],
            }
            for e in record.entries
        ],
    }
    return (json.dumps(payload, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def to_csv(record: Record) -> bytes:
    scheme = record.scheme
    questions = record.question_columns()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*BASE_COLUMNS, *(f"{text} [{qid}]" for qid, text in questions)])
    for e in record.entries:
        answers = {r.question_id: r.answer for r in e.reflections}
        writer.writerow(
            [
                e.number,
                e.activity_date.isoformat(),
                e.title,
                _hours(e.minutes),
                fmt.category_label(scheme, e.category),
                _structured(e.structured),
                e.source,
                *(
                    ("" if answers.get(q) is None else answers[q]) if q in answers else "n/a"
                    for q, _ in questions
                ),
            ]
        )
    writer.writerow([])
    writer.writerow(["", "", f"Total CPD year {record.label}", _hours(record.total_minutes)])
    for cat, minutes in record.minutes_by_category().items():
        writer.writerow(["", "", f"Sub-total: {fmt.category_label(scheme, cat)}", _hours(minutes)])
    # Excel opens UTF-8 CSV correctly only with a byte-order mark.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# ---------------------------------------------------------------- reading back


def read_json(data: bytes) -> list[EntryView]:
    try:
        payload = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExportError(f"not a JSON file: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ExportError(f"not a cpdbot record (expected format {FORMAT!r})")
    try:
        return [
            EntryView(
                number=int(e["number"]),
                title=str(e["title"]),
                activity_date=date.fromisoformat(e["activity_date"]),
                minutes=int(e["minutes"]),
                category=str(e["category"]),
                structured=e.get("structured"),
                source=str(e.get("source", "import")),
                deleted=False,
                reflections=tuple(
                    ReflectionView(str(r["question_id"]), str(r["question"]), r.get("answer"))
                    for r in e.get("reflections", [])
                ),
            )
            for e in payload["entries"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise ExportError(f"entry with a missing or bad field: {exc}") from exc


_QUESTION_HEADER = re.compile(r"^(?P<text>.*) \[(?P<id>[a-z0-9_]+)\]$", re.S)


def read_csv(data: bytes, scheme: Scheme) -> list[EntryView]:
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(rows[0][: len(BASE_COLUMNS)]) != BASE_COLUMNS:
        raise ExportError(f"not a cpdbot CSV (the first columns must be {', '.join(BASE_COLUMNS)})")
    questions: list[tuple[str, str]] = []
    for header in rows[0][len(BASE_COLUMNS) :]:
        match = _QUESTION_HEADER.match(header)
        if not match:
            raise ExportError(f"reflection column {header!r} does not end with [question_id]")
        questions.append((match["id"], match["text"]))
    by_label = {c.label: c.id for c in scheme.categories}
    entries: list[EntryView] = []
    for line, row in enumerate(rows[1:], 2):
        if not any(row):
            break  # the totals follow the blank row
        try:
            number, day, title, hours, category, structured, source = row[: len(BASE_COLUMNS)]
            answers = row[len(BASE_COLUMNS) :]
            entries.append(
                EntryView(
                    number=int(number),
                    title=title,
                    activity_date=date.fromisoformat(day),
                    minutes=round(float(hours) * 60),
                    category=by_label.get(category, category),
                    structured={"structured": True, "unstructured": False}.get(structured),
                    source=source or "import",
                    deleted=False,
                    reflections=tuple(
                        ReflectionView(qid, qtext, answer or None)
                        for (qid, qtext), answer in zip(questions, answers, strict=False)
                        if answer != "n/a"
                    ),
                )
            )
        except ValueError as exc:
            raise ExportError(f"line {line}: {exc}") from exc
    return entries

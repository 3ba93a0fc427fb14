"""One person's CPD record for a CPD year (`Record`), its totals, and its files' names and
types (what every export, the engine and the dialogue call a file)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from bot.core.model import EntryView, PersonView, YearSummary
from bot.core.schemes import Scheme

# The MIME type of each kind of file made from a record (`/export KIND`, the nudge's chart).
MIME: dict[str, str] = {
    "pdf": "application/pdf",
    "md": "text/markdown",
    "csv": "text/csv",
    "json": "application/json",
    "zip": "application/zip",
    "png": "image/png",
}


# The first CPD year a record can be asked for: no activity is dated before 1950 (the
# dialogue refuses older dates, bot/dialogue/common.date_error).
EARLIEST_YEAR = 1950


def latest_year(scheme: Scheme, today: date, override: tuple[int, int] | None = None) -> int:
    """The year the current CPD year starts in: the last one a record can be asked for."""
    return scheme.year_bounds(today, override)[0].year


def year_refusal(year: int, latest: int) -> str | None:
    """Why the CPD year starting in `year` cannot be exported (None: it can)."""
    if EARLIEST_YEAR <= year <= latest:
        return None
    return (
        f"There is no CPD year {year} to export: choose a year from {EARLIEST_YEAR} to "
        f"{latest} (the current one)."
    )


@dataclass(frozen=True)
class Record:
    """One person's entries of one CPD year (start inclusive, end exclusive).

    A multi-day entry (an end date) belongs to the CPD year of its first day, with all its
    minutes, even when its last day is in the next year: the minutes are the entry's own,
    never spread over its days."""

    person: PersonView
    scheme: Scheme
    start: date
    end: date  # exclusive
    entries: tuple[EntryView, ...]

    @property
    def label(self) -> str:
        return self.scheme.year_label(self.start)

    @property
    def total_minutes(self) -> int:
        return sum(e.minutes for e in self.entries)

    def minutes_by_category(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for e in self.entries:
            totals[e.category] += e.minutes
        ordered = [c.id for c in self.scheme.categories if c.id in totals]
        ordered += sorted(k for k in totals if k not in ordered)
        return {k: totals[k] for k in ordered}

    def question_columns(self) -> list[tuple[str, str]]:
        """(question id, question text) for every question answered or pending, in order."""
        seen: dict[str, str] = {}
        for q in self.scheme.questions:
            seen[q.id] = q.text
        used: dict[str, str] = {}
        for e in self.entries:
            for r in e.reflections:
                used.setdefault(r.question_id, r.question)
        order = [q for q in seen if q in used] + [q for q in used if q not in seen]
        return [(q, used[q]) for q in order]


def summary_of(record: Record) -> YearSummary:
    """The year's totals from its loaded record (`storage.tally` counts them in SQL)."""
    return YearSummary(
        start=record.start,
        end=record.end,
        minutes_by_category=record.minutes_by_category(),
        entries=len(record.entries),
        pending_entries=sum(1 for e in record.entries if e.pending),
    )


def file_name(record: Record, kind: str) -> str:
    """The name of the record's file of this kind: 'cpd-2025-26.pdf'."""
    return f"cpd-{record.label.replace('/', '-')}.{kind}"


def everything_name(day: date) -> str:
    """The name of the ZIP of everything held about a person (`/export all`) made on `day`."""
    return f"cpd-everything-{day.isoformat()}.zip"


def chart_name(record: Record) -> str:
    """The name of the record's progress chart (monthly nudge, year-end summary)."""
    return f"cpd-progress-{record.label.replace('/', '-')}.png"

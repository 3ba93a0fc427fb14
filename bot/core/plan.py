"""A person's development plan, pure values: role, key responsibilities, objectives, links.

Also the periods that change what is required of them (a membership status for part of
the year, e.g. parental leave) and their explanations for gaps without CPD. Loaded by
`storage.plan_store`; `review` shows each objective's progress for /review.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from bot.core import text as fmt
from bot.core.model import EntryView

# Development objective areas (STEP, Step Two: "technical knowledge and ethics, but also
# business, management/leadership and personal skills").
AREAS: Mapping[str, str] = {
    "technical": "Technical knowledge",
    "ethics": "Ethics",
    "business": "Business",
    "management": "Management/leadership",
    "personal": "Personal skills",
}
# UK-SPEC competence areas, the usual optional tags on an engineer's entry.
UKSPEC_TAGS: Mapping[str, str] = {
    "A": "Knowledge and understanding",
    "B": "Design and development of processes, systems, services and products",
    "C": "Responsibility, management or leadership",
    "D": "Communication and inter-personal skills",
    "E": "Professional commitment",
}
MAX_RESPONSIBILITIES = 20  # key responsibilities a plan holds at most (STEP asks 5-7)
MAX_TAG_LENGTH = 16

ObjectiveStatus = Literal["open", "done"]


class PlanError(ValueError):
    """A plan change that cannot be made; the message says why, in words for the user."""


@dataclass(frozen=True)
class StatusPeriod:
    """A membership status held from `start` to `end`, both days included."""

    status_id: str
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PlanError("a period must end on or after the day it starts")

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class GapNote:
    """Why there was no CPD from `start` to `end` (both included), e.g. sick leave."""

    start: date
    end: date
    text: str

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PlanError("a gap must end on or after the day it starts")


@dataclass(frozen=True)
class ObjectiveView:
    number: int  # O1, O2, ... per person
    title: str
    area: str  # one of AREAS
    target_date: date | None = None
    status: ObjectiveStatus = "open"

    @property
    def label(self) -> str:
        return f"O{self.number}"

    @property
    def area_label(self) -> str:
        return AREAS.get(self.area, self.area)

    def overdue(self, today: date) -> bool:
        return self.status == "open" and self.target_date is not None and self.target_date < today


@dataclass(frozen=True)
class Plan:
    """Everything a person planned; entries are referred to by their number (#12)."""

    role: str = ""
    responsibilities: tuple[str, ...] = ()
    objectives: tuple[ObjectiveView, ...] = ()
    links: frozenset[tuple[int, int]] = frozenset()  # (entry number, objective number)
    tags: Mapping[int, tuple[str, ...]] = field(default_factory=dict)  # entry number -> tags
    gap_notes: tuple[GapNote, ...] = ()

    def objective(self, number: int) -> ObjectiveView | None:
        return next((o for o in self.objectives if o.number == number), None)

    def objectives_of(self, entry_number: int) -> tuple[ObjectiveView, ...]:
        numbers = sorted(o for e, o in self.links if e == entry_number)
        return tuple(o for n in numbers if (o := self.objective(n)) is not None)

    def tags_of(self, entry_number: int) -> tuple[str, ...]:
        return tuple(self.tags.get(entry_number, ()))

    @property
    def is_empty(self) -> bool:
        return not (self.role or self.responsibilities or self.objectives or self.gap_notes)


def normalise_tag(tag: str) -> str:
    """'a' -> 'A', ' uk-spec c ' -> 'UK-SPEC C'; refuses empty or over-long tags."""
    cleaned = " ".join(tag.split()).upper()
    if not cleaned:
        raise PlanError("a tag cannot be empty")
    if len(cleaned) > MAX_TAG_LENGTH:
        raise PlanError(f"a tag can be at most {MAX_TAG_LENGTH} characters")
    return cleaned


def parse_area(text: str) -> str | None:
    """The area id for what a person typed ('ethics', 'Management/leadership', 'lead')."""
    word = text.strip().lower()
    if not word:
        return None
    for area_id, label in AREAS.items():
        if word in (area_id, label.lower()) or label.lower().startswith(word):
            return area_id
    return "management" if word.startswith("lead") else None


# ---------------------------------------------------------------- review


@dataclass(frozen=True)
class ObjectiveProgress:
    """One objective with the entries linked to it (of those given to `review`)."""

    objective: ObjectiveView
    entries: tuple[EntryView, ...]

    @property
    def minutes(self) -> int:
        return sum(e.minutes for e in self.entries)

    @property
    def last_activity(self) -> date | None:
        return max((e.activity_date for e in self.entries), default=None)


def review(plan: Plan, entries: Iterable[EntryView]) -> list[ObjectiveProgress]:
    """Each objective, open ones first (by target date, then number), with its entries."""
    by_number: dict[int, list[EntryView]] = {o.number: [] for o in plan.objectives}
    live = [e for e in entries if not e.deleted]
    numbers = {e.number: e for e in live}
    for entry_number, objective_number in plan.links:
        entry = numbers.get(entry_number)
        if entry is not None and objective_number in by_number:
            by_number[objective_number].append(entry)
    ordered = sorted(
        plan.objectives,
        key=lambda o: (o.status == "done", o.target_date or date.max, o.number),
    )
    return [
        ObjectiveProgress(
            o, tuple(sorted(by_number[o.number], key=lambda e: (e.activity_date, e.number)))
        )
        for o in ordered
    ]


def review_text(progress: Sequence[ObjectiveProgress], *, today: date, limit: int = 3) -> str:
    """The /review reply: each objective, its progress and the latest linked activities."""
    if not progress:
        return "No development objectives yet. /plan adds one (area, title, target date)."
    lines = ["Your development objectives:"]
    for p in progress:
        o = p.objective
        due = f", by {fmt.short_day(o.target_date)}" if o.target_date else ""
        state = "done" if o.status == "done" else ("overdue" if o.overdue(today) else "open")
        n = len(p.entries)
        lines.append(
            f"{o.label} {o.title} ({o.area_label}{due}) — {state}: "
            + (
                f"{n} activit{'y' if n == 1 else 'ies'}, {fmt.hours(p.minutes)}"
                if n
                else "no activities linked yet"
            )
        )
        for e in p.entries[-limit:]:
            lines.append(f"  #{e.number} · {fmt.day(e.activity_date, today)} · {e.title}")
        if n > limit:
            lines.append(f"  … and {n - limit} earlier")
    return "\n".join(lines)

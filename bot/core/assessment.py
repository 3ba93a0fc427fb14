"""What an assessment is: each requirement met, not yet, or not applicable, for one
person's CPD year under one scheme (`bot.core.assess` works it out)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from bot.core.model import PersonView
from bot.core.schemes import Scheme

State = Literal["met", "not_yet", "not_applicable"]
MARKS: Mapping[State, str] = {"met": "✓", "not_yet": "✗", "not_applicable": "–"}
STATE_LABELS: Mapping[State, str] = {
    "met": "Met",
    "not_yet": "Not yet",
    "not_applicable": "N/A",
}
LISTED = 5  # entries named in a one-line reason before "and N more"


@dataclass(frozen=True)
class Requirement:
    id: str
    label: str
    state: State
    reason: str  # one line
    action: str = ""  # what would close it; '' when met or not applicable

    @property
    def line(self) -> str:
        text = f"{MARKS[self.state]} {self.label}: {self.reason}"
        return text + (f" → {self.action}" if self.action else "")


@dataclass(frozen=True)
class Assessment:
    scheme_id: str
    start: date
    end: date  # exclusive
    today: date
    requirements: tuple[Requirement, ...]
    total_minutes: int
    minutes_by_category: Mapping[str, int]
    # The hours target for this year after exemptions and pro rata (None: no target) ...
    target_minutes: int | None
    # ... and for the person's own status over a whole year.
    full_target_minutes: int | None
    # structured / unstructured / not_set minutes, when the scheme tracks it.
    structured_minutes: Mapping[str, int] | None = None

    @property
    def met(self) -> bool:
        """True when nothing is outstanding."""
        return all(r.state != "not_yet" for r in self.requirements)

    @property
    def outstanding(self) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if r.state == "not_yet")

    def requirement(self, requirement_id: str) -> Requirement | None:
        return next((r for r in self.requirements if r.id == requirement_id), None)

    def lines(self) -> list[str]:
        """One line per requirement: '✓ Hours: …', '✗ Balance: … → what to do'."""
        return [r.line for r in self.requirements]


@dataclass(frozen=True)
class Year:
    """Whose CPD year is assessed, under which scheme, from `start` to `end` (exclusive)."""

    person: PersonView
    scheme: Scheme
    start: date
    end: date

    @property
    def label(self) -> str:
        return self.scheme.year_label(self.start)


def last_day(year: Year) -> date:
    """The last day of the CPD year (its `end` is exclusive)."""
    return year.end - timedelta(days=1)

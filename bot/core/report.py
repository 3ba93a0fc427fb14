"""One CPD year of one person with its plan and status periods: what /export pdf, the
year-end summary and an audit need to assess and print it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property

from bot.core.assess import assess
from bot.core.assessment import Assessment
from bot.core.plan import Plan, StatusPeriod
from bot.core.record import Record


@dataclass(frozen=True)
class Report:
    """One CPD year of one person, with everything needed to assess and print it."""

    record: Record
    plan: Plan
    periods: tuple[StatusPeriod, ...]
    today: date
    # Issue 16: a line per other body followed, for the main body's requirements section
    # ('Also followed: IET — 12 h 30 of 30 h in 2026; see /export pdf IET').
    also: tuple[str, ...] = ()

    @cached_property
    def assessment(self) -> Assessment:
        return assess(self.record, today=self.today, periods=self.periods, plan=self.plan)

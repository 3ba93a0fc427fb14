"""What reading one feed may spend, checked inside every walk of a repeat rule.

A ``Budget`` holds the deadline of one ``read_feed`` on a monotonic clock (injected, so
tests need not wait). ``bound_rules`` wraps the rules of each series that
``recurring_ical_events`` builds, so that every date dateutil produces passes through
``_BoundedRule.between``: the deadline is checked every ``_CHECK_EVERY`` dates and one
walk may produce at most ``_MAX_STEPS`` dates. Without it ``rrule.between`` builds its
whole list (and dateutil's cache) before anything can look at the clock: a rule that
never reaches the window (``INTERVAL=0``) ran for ever and grew memory without limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from bot.core.calendar_rules import FeedError
from bot.services.calendar.bounds import _MAX_STEPS
from bot.services.calendar.occurrence import _SkipSeries

_CHECK_EVERY: Final = 64
_TOO_SLOW: Final = "The calendar is too complex to read in time."


class Budget:
    """The time one feed's reading may still take, on ``clock`` (seconds, monotonic)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.deadline = clock() + seconds

    def check(self) -> None:
        """Raise ``FeedError`` once the time is spent."""
        if self.clock() > self.deadline:
            raise FeedError(_TOO_SLOW)


class _BoundedRule:
    """A dateutil rule (or rule set) whose ``between`` walks under a budget."""

    def __init__(self, rule: Any, budget: Budget) -> None:
        self._rule = rule
        self._budget = budget
        self.until = getattr(rule, "until", None)  # read by recurring_ical_events

    def between(
        self, after: datetime, before: datetime, inc: bool = False, count: int = 1
    ) -> list[datetime]:
        """dateutil's ``between``, one date at a time, checking the budget as it goes."""
        found: list[datetime] = []
        for steps, value in enumerate(self._rule, 1):
            if steps % _CHECK_EVERY == 0:
                self._budget.check()
            if steps > _MAX_STEPS:
                raise _SkipSeries("it produces too many dates to follow")
            if value > before or (not inc and value == before):
                break
            if value > after or (inc and value == after):
                found.append(value)
        return found


def bound_rules(series: Any, budget: Budget) -> None:
    """Put every rule of one ``recurring_ical_events`` series under ``budget``.

    A series without a master event has no rules to walk. Should the library ever keep
    its rules elsewhere, nothing is expanded unbounded: the series is left out.
    """
    recurrence = series.recurrence
    if not getattr(recurrence, "has_core", False):
        return
    rules = getattr(recurrence, "rrules", None)
    if not isinstance(rules, list):
        raise _SkipSeries("its dates could not be read")
    recurrence.rrules = [
        rule if isinstance(rule, _BoundedRule) else _BoundedRule(rule, budget) for rule in rules
    ]

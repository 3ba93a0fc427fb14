"""What reading a feed gives: occurrences, notes on series left out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of an event, ready for the scheduler.

    ``(uid, recurrence_id)`` identifies it across polls: ``recurrence_id`` is '' for a
    single event and, for a recurring one, the original start of this instance (UTC,
    ``2020-11-16T14:15:00Z``; a date ``2024-10-28`` for all-day series), which stays the
    same when the instance is moved. ``start`` and ``end`` are aware UTC datetimes;
    all-day events run from midnight to midnight in the reader's ``default_tz``.
    ``absence`` marks time away (an out-of-office event, or an all-day event whose title
    says leave or holiday: ``learning.is_absence``), which holds nudges and prompts.
    """

    uid: str
    recurrence_id: str
    title: str
    description: str
    start: datetime
    end: datetime
    all_day: bool
    cancelled: bool
    declined: bool
    absence: bool = False

    @property
    def key(self) -> tuple[str, str]:
        """``(uid, recurrence_id)``: unique within one feed and stable across polls."""
        return (self.uid, self.recurrence_id)


@dataclass(frozen=True)
class FeedReading:
    """The occurrences in a window, plus a note for each series that had to be left out."""

    occurrences: tuple[Occurrence, ...]
    skipped: tuple[str, ...]


class _SkipSeries(Exception):
    """This event's series cannot be expanded safely; the reason is for the owner."""

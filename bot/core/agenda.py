"""When scheduled messages are due: pure decisions, no I/O, no clock reads.

Every function takes `now` (aware, UTC) and the person's settings and says what is due and
when; a due message is a `Message` with the outbox key that makes it unique: the same
decision taken twice (a second tick, a second worker, a restart) yields the same key, and
the outbox stores a key once. Times of day are the person's local time (IANA zone),
converted to UTC for each date, so 09:00 stays 09:00 on both sides of a daylight-saving
change.

The wording of each message is in `bot.core.notices`; the jobs that load data, call these,
enqueue and send are in `bot.services.outbound`.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.core.model import Choice, Outgoing, PersonView
from bot.core.schemes import Scheme
from bot.core.zones import local_instant, local_today, zone_of

# Kinds the send loop holds back while the person is paused (a pause that began after
# the message was enqueued still stops it), or puts back until the first day back while
# they are away (an absence in their calendar). Failure reports and the year-end record go.
PAUSABLE = frozenset({"nudge", "yearwarn", "reflect", "calendar", "reask"})

# Grace windows: a message whose due time passed while the bot was down is still sent
# on start within these; later than that it is dropped, never replayed tick by tick.
NUDGE_GRACE = timedelta(days=3)
WARNING_GRACE = timedelta(days=7)
SUMMARY_GRACE = timedelta(days=30)
REMINDER_GRACE = timedelta(hours=12)
PROMPT_WINDOW = timedelta(hours=24)  # calendar events that ended longer ago never prompt
REASK_GRACE = timedelta(hours=12)

WARNING_BEFORE = timedelta(weeks=6)
REMINDER_AFTER = timedelta(days=2)  # reflections pending this long get one reminder
REMINDER_MAX_AGE = timedelta(days=30)  # ... unless the entry is older (imports, backlog)
REMINDER_LAST_HOUR = 21  # reminders go out between the nudge hour and 21:00 local
LATER_EVENING = time(19, 0)  # "Later": this evening at 19:00 ...
LATER_CUTOFF = time(18, 0)  # ... or, when pressed at 18:00 or after,
LATER_MORNING = time(9, 0)  # tomorrow at 09:00
FEED_FAILURES_REPORTED = 3  # consecutive failed polls before the owner is told (once)

NUDGE, YEAR_WARNING, YEAR_END = "nudge", "yearwarn", "yearend"
REFLECT, CALENDAR, REASK, FEED_FAILURE = "reflect", "calendar", "reask", "feedfail"


@dataclass(frozen=True)
class Message:
    """A message to enqueue: unique per (person, kind, key); sent from `due_at` until
    `expires_at` (None: no limit). `attachment` points at data the sender regenerates
    when it sends the message, instead of storing the bytes: {"record": "2026-01-01",
    "format": "csv"} (the CPD year starting that day as CSV or JSON), {"chart":
    "2026-01-01"} (its progress chart, a PNG drawn at send time)."""

    kind: str
    key: str
    text: str
    due_at: datetime
    expires_at: datetime | None = None
    choices: tuple[Choice, ...] = ()
    attachment: Mapping[str, str] | None = None

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "text": self.text,
            "choices": [[c.id, c.label] for c in self.choices],
        }
        if self.attachment:
            data["attachment"] = dict(self.attachment)
        return data


def outgoing(payload: Mapping[str, Any]) -> Outgoing:
    """The reply an outbox payload describes (without its attachment)."""
    choices = tuple(Choice(str(i), str(label)) for i, label in payload.get("choices", ()))
    return Outgoing(str(payload.get("text", "")), choices)


# ---------------------------------------------------------------- time


def pause_end(paused_until: date | None, zone: ZoneInfo) -> datetime | None:
    """When a pause ends: local midnight at the start of `paused_until`."""
    return local_instant(zone, paused_until, time(0)) if paused_until else None


def pause_holds(paused_until: date | None, timezone: str, at: datetime) -> bool:
    """Whether a pause until `paused_until` (a local date in `timezone`) still holds at `at`:
    the one rule for "is this person paused" (polling, planning, sending)."""
    end = pause_end(paused_until, zone_of(timezone))
    return end is not None and at < end


def paused(person: PersonView, at: datetime) -> bool:
    """Paused at `at`: a message due then is not sent at all."""
    return pause_holds(person.paused_until, person.timezone, at)


def before_joining(person: PersonView, due: datetime) -> bool:
    """Due before the person first wrote to the bot: not theirs to receive."""
    return person.joined is not None and due < person.joined


def later_time(timezone: str, now: datetime) -> datetime:
    """When "Later" asks again: 19:00 local today, or 09:00 tomorrow if it is 18:00 or later."""
    zone = zone_of(timezone)
    local = now.astimezone(zone)
    if local.time() < LATER_CUTOFF:
        return local_instant(zone, local.date(), LATER_EVENING)
    return local_instant(zone, local.date() + timedelta(days=1), LATER_MORNING)


def describe_later(timezone: str, now: datetime, at: datetime) -> str:
    zone = zone_of(timezone)
    when = at.astimezone(zone)
    day = "this evening" if when.date() == local_today(now, zone) else "tomorrow"
    return f"{day} at {when:%H:%M}"


# ---------------------------------------------------------------- monthly nudge


def monthly_due(person: PersonView, now: datetime) -> tuple[str, datetime] | None:
    """(period 'YYYY-MM', due instant) of the monthly nudge that is due now, if one is:
    its local day and hour have come and its grace window has not passed."""
    return monthly_due_at(person.timezone, person.nudge_day, person.nudge_hour, now)


def monthly_due_at(
    timezone: str, nudge_day: int, nudge_hour: int, now: datetime
) -> tuple[str, datetime] | None:
    """`monthly_due` for everyone sharing a zone, day and hour (decided once per group)."""
    zone = zone_of(timezone)
    local = now.astimezone(zone)
    year, month = local.year, local.month
    for _ in range(2):  # this month, then last month (a late start within the grace)
        due = _nudge_instant(zone, year, month, nudge_day, nudge_hour)
        if due <= now < due + NUDGE_GRACE:
            return f"{year:04d}-{month:02d}", due
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return None


def _nudge_instant(
    zone: ZoneInfo, year: int, month: int, nudge_day: int, nudge_hour: int
) -> datetime:
    last_day = _calendar.monthrange(year, month)[1]
    day = date(year, month, min(max(nudge_day, 1), last_day))
    return local_instant(zone, day, time(min(max(nudge_hour, 0), 23)))


def next_nudge_after(timezone: str, nudge_day: int, nudge_hour: int, period: str) -> datetime:
    """When the monthly nudge of the month after `period` ('YYYY-MM') falls due."""
    year, month = (int(part) for part in period.split("-"))
    year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return _nudge_instant(zone_of(timezone), year, month, nudge_day, nudge_hour)


# ---------------------------------------------------------------- absences


def back_at(timezone: str, nudge_hour: int, away_until: datetime) -> datetime:
    """When a message held by an absence (out of office, leave) goes: the nudge hour of the
    first day back, local time: the day the absence ends if it ends by that hour (an
    all-day absence ends at local midnight), else the next day. Not at the absence's end
    itself, which is midnight for a day off. Worked out per date, so DST-safe."""
    zone = zone_of(timezone)
    hour = time(min(max(nudge_hour, 0), 23))
    day = away_until.astimezone(zone).date()
    at = local_instant(zone, day, hour)
    return at if at >= away_until else local_instant(zone, day + timedelta(days=1), hour)


def held_nudge_superseded(person: PersonView, period: str, back: datetime) -> bool:
    """A nudge held until `back` is dropped when the next month's nudge falls due by then
    (a long leave): one nudge after it, the latest, never a pile of them."""
    following = next_nudge_after(person.timezone, person.nudge_day, person.nudge_hour, period)
    return following <= back


# ---------------------------------------------------------------- year end


def year_bounds(scheme: Scheme, person: PersonView, today: date) -> tuple[date, date]:
    return scheme.year_bounds(today, person.year_start)


def warning_due(
    person: PersonView, scheme: Scheme, now: datetime
) -> tuple[date, date, datetime] | None:
    """(year start, year end, due) when the six-weeks-left warning is due now."""
    if not person.onboarded or not person.nudges_enabled:
        return None
    if not scheme.target_hours(person.status_id):
        return None
    zone = zone_of(person.timezone)
    start, end = year_bounds(scheme, person, local_today(now, zone))
    due = local_instant(zone, end - WARNING_BEFORE, time(min(max(person.nudge_hour, 0), 23)))
    if not due <= now < due + WARNING_GRACE:
        return None
    return start, end, due


def summary_due(
    person: PersonView, scheme: Scheme, now: datetime
) -> tuple[date, date, datetime] | None:
    """(start, end, due) of the CPD year that just ended, when its summary is due now:
    from the nudge hour on the first day of the new year, for the grace window. A pause
    delays it (it is sent when the pause ends, within the window)."""
    if not person.onboarded or paused(person, now):
        return None
    zone = zone_of(person.timezone)
    start, _ = year_bounds(scheme, person, local_today(now, zone))
    previous, _ = year_bounds(scheme, person, start - timedelta(days=1))
    due = local_instant(zone, start, time(min(max(person.nudge_hour, 0), 23)))
    if not due <= now < due + SUMMARY_GRACE:
        return None
    return previous, start, due


# ---------------------------------------------------------------- reflection reminder


def reminder_hours(person: PersonView) -> tuple[int, int]:
    start = min(max(person.nudge_hour, 0), 23)
    return start, max(REMINDER_LAST_HOUR, start + 1)


# ---------------------------------------------------------------- calendar


def mask_url(url: str) -> str:
    """A feed URL as it may be shown: the host and an ellipsis (the path is the secret)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    return f"{host}/…" if host else "…"


def keywords_of(setting: str | None, defaults: Sequence[str]) -> tuple[str, ...]:
    if setting is None:
        return tuple(defaults)
    return tuple(k for k in (w.strip().lower() for w in setting.split(",")) if k)


def prompt_window(
    *,
    last_ok_at: datetime | None,
    paused_until: date | None,
    timezone: str,
    now: datetime,
) -> datetime:
    """Events that ended after this instant (and by `now`) may prompt: since the last
    successful poll, within the last 24 hours, and not during a pause."""
    start = now - PROMPT_WINDOW
    if last_ok_at is not None:
        start = max(start, last_ok_at)
    end = pause_end(paused_until, zone_of(timezone))
    if end is not None:
        start = max(start, end)
    return start


def should_report_failure(failures: int, *, ever_ok: bool, reported: bool) -> bool:
    """A failing feed is reported once per run of failures: at the first failure of a
    feed that never worked (a wrong URL just added), else after three in a row."""
    if reported:
        return False
    return failures >= FEED_FAILURES_REPORTED or (not ever_ok and failures >= 1)

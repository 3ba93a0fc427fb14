"""What the scheduler sends, and when: pure decisions, no I/O, no clock reads.

Every function takes `now` (aware, UTC) and the person's settings and returns the
`Message`s due, each with the outbox key that makes it unique: the same decision taken
twice (a second tick, a second worker, a restart) yields the same key, and the outbox
stores a key once. Times of day are the person's local time (IANA zone), converted to UTC
for each date, so 09:00 stays 09:00 on both sides of a daylight-saving change.

The jobs that load data, call these, enqueue and send are in `bot.services.jobs`.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.core import text as fmt
from bot.core.model import Choice, EntryView, Outgoing, PersonView, YearSummary
from bot.core.schemes import Scheme
from bot.core.zones import local_instant, local_today, zone_of

# Kinds the send loop holds back while the person is paused (a pause that began after
# the message was enqueued still stops it). Failure reports and the year-end record go.
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


def paused(person: PersonView, now: datetime) -> bool:
    end = pause_end(person.paused_until, zone_of(person.timezone))
    return end is not None and now < end


def before_joining(person: PersonView, due: datetime) -> bool:
    """Due before the person first wrote to the bot: not theirs to receive."""
    return person.joined is not None and due < person.joined


def in_pause(person: PersonView, due: datetime) -> bool:
    """Due while paused (or still paused): such a message is not sent at all."""
    end = pause_end(person.paused_until, zone_of(person.timezone))
    return end is not None and due < end


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


# ---------------------------------------------------------------- progress


@dataclass(frozen=True)
class Progress:
    total: int  # minutes logged this CPD year
    target: int | None  # minutes, None when the status has no hours target
    expected: int | None  # minutes expected by today at an even pace
    days_left: int  # days left in the CPD year, today included

    @property
    def behind(self) -> int:
        """Minutes behind pace (0 when on pace or without a target)."""
        if self.expected is None:
            return 0
        return max(self.expected - self.total, 0)

    @property
    def to_go(self) -> int:
        return max((self.target or 0) - self.total, 0)


def progress(scheme: Scheme, person: PersonView, summary: YearSummary, today: date) -> Progress:
    hours = scheme.target_hours(person.status_id)
    days = (summary.end - summary.start).days
    left = max((summary.end - today).days, 0)
    if not hours:
        return Progress(summary.total_minutes, None, None, left)
    target = int(hours * 60)
    elapsed = min(max((today - summary.start).days + 1, 0), days)
    return Progress(summary.total_minutes, target, target * elapsed // days, left)


def _balance_line(scheme: Scheme, person: PersonView, summary: YearSummary) -> str | None:
    rule = scheme.balance
    if rule is None:
        return None
    needed = rule.min_categories
    if person.studying_he and rule.min_categories_when_studying:
        needed = rule.min_categories_when_studying
    total = summary.total_minutes
    counted = sum(
        1
        for minutes in summary.minutes_by_category.values()
        if total and minutes / total >= rule.min_share
    )
    if counted >= needed:
        return f"Balance: {counted} categories, {scheme.name} asks for at least {needed}."
    return (
        f"Balance: {counted} of the {needed} categories {scheme.name} asks for "
        "(each with a fair share of your hours)."
    )


def _categories_line(scheme: Scheme, summary: YearSummary) -> str | None:
    if not summary.minutes_by_category:
        return None
    ordered = sorted(summary.minutes_by_category.items(), key=lambda kv: (-kv[1], kv[0]))
    parts = [f"{fmt.category_label(scheme, c)} {fmt.hours(m)}" for c, m in ordered]
    return "By category: " + " · ".join(parts) + "."


def _unused_category(scheme: Scheme, summary: YearSummary) -> str | None:
    for cat in scheme.categories:
        if not summary.minutes_by_category.get(cat.id):
            return cat.label
    return None


def _per(minutes: int, days: int, unit_days: int) -> str:
    units = max(days / unit_days, 1)
    per = int(-(-minutes // units))  # ceiling
    per = max(15, -(-per // 15) * 15)  # a quarter of an hour at least, in quarters
    return fmt.hours(per)


def suggestion(scheme: Scheme, person: PersonView, summary: YearSummary, prog: Progress) -> str:
    """One concrete next step, the most useful first."""
    if summary.entries == 0:
        return (
            "Log one thing you learned recently — reading an article counts: "
            "/log 1h reading on <topic> yesterday."
        )
    if prog.behind and prog.target is not None:
        pace = _per(prog.to_go, prog.days_left, 30)
        return (
            f"About {pace} a month until the year ends gets you to "
            f"{fmt.hours(prog.target)}: book a webinar or a course now."
        )
    if scheme.balance and (line := _balance_line(scheme, person, summary)) and " of the " in line:
        unused = _unused_category(scheme, summary)
        if unused:
            return f"Add an activity under {unused} to widen your spread of categories."
    if summary.pending_entries:
        return "Answer your pending reflections while you still remember the details: /reflect."
    unused = _unused_category(scheme, summary)
    if unused:
        return f"You're on track. For variety, try something under {unused} this month."
    return "You're on track. Keep logging as you go."


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
        last_day = _calendar.monthrange(year, month)[1]
        day = date(year, month, min(max(nudge_day, 1), last_day))
        due = local_instant(zone, day, time(min(max(nudge_hour, 0), 23)))
        if due <= now < due + NUDGE_GRACE:
            return f"{year:04d}-{month:02d}", due
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return None


def monthly_nudge(
    person: PersonView,
    scheme: Scheme,
    summary: YearSummary,
    *,
    period: str,
    due: datetime,
    now: datetime,
) -> Message | None:
    """The monthly progress message, or None when the person only wants it when behind
    and is on pace with no reflections pending."""
    today = local_today(now, zone_of(person.timezone))
    prog = progress(scheme, person, summary, today)
    if person.nudge_mode == "behind":
        behind = prog.behind > 0 or (prog.target is None and summary.entries == 0)
        if not behind and not summary.pending_entries:
            return None
    lines = [
        f"Your monthly CPD check-in — CPD year {scheme.year_label(summary.start)} ({scheme.name})."
    ]
    if prog.target is not None:
        share = prog.total / prog.target if prog.target else 0
        lines.append(f"Hours: {fmt.hours(prog.total)} of {fmt.hours(prog.target)} ({share:.0%}).")
        if prog.total >= prog.target:
            lines.append("Target reached. 🎉")
        elif prog.behind:
            lines.append(
                f"Pace: {fmt.hours(prog.expected or 0)} expected by now — "
                f"{fmt.hours(prog.behind)} behind."
            )
        else:
            lines.append(f"Pace: on track ({fmt.hours(prog.expected or 0)} expected by now).")
    else:
        lines.append(f"Hours: {fmt.hours(prog.total)} ({scheme.name} sets no hours target).")
    for line in (_categories_line(scheme, summary), _balance_line(scheme, person, summary)):
        if line:
            lines.append(line)
    if summary.pending_entries:
        n = summary.pending_entries
        lines.append(f"Reflections pending: {n} entr{'y' if n == 1 else 'ies'} — /reflect.")
    lines.append("Suggestion: " + suggestion(scheme, person, summary, prog))
    choices = [Choice("cmd:log", "Log now")]
    if summary.pending_entries:
        choices.append(Choice("cmd:reflect", "Reflect"))
    return Message(
        kind=NUDGE,
        key=period,
        text="\n".join(lines),
        due_at=due,
        expires_at=due + NUDGE_GRACE,
        choices=tuple(choices),
        attachment={"chart": summary.start.isoformat()},
    )


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


def year_end_warning(
    person: PersonView, scheme: Scheme, summary: YearSummary, *, due: datetime, now: datetime
) -> Message | None:
    """Six weeks before the CPD year ends, if the hours are short of the target."""
    today = local_today(now, zone_of(person.timezone))
    prog = progress(scheme, person, summary, today)
    if prog.target is None or prog.total >= prog.target:
        return None
    last_day = summary.end - timedelta(days=1)
    text = (
        f"Six weeks left in your CPD year {scheme.year_label(summary.start)}: it ends on "
        f"{fmt.day(last_day)}. You have {fmt.hours(prog.total)} of {fmt.hours(prog.target)}; "
        f"{fmt.hours(prog.to_go)} to go — about {_per(prog.to_go, prog.days_left, 7)} a week."
    )
    if summary.pending_entries:
        n = summary.pending_entries
        text += f" {n} entr{'y has' if n == 1 else 'ies have'} reflections pending: /reflect."
    return Message(
        kind=YEAR_WARNING,
        key=summary.start.isoformat(),
        text=text,
        due_at=due,
        expires_at=due + WARNING_GRACE,
        choices=(Choice("cmd:log", "Log now"),),
    )


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


def year_end_summary(
    person: PersonView, scheme: Scheme, summary: YearSummary, *, due: datetime
) -> list[Message]:
    """The summary of the year that ended, with the record attached (CSV, then JSON).

    Nothing when the year has no entries (there is nothing to summarise or attach).
    """
    if summary.entries == 0:
        return []
    label = scheme.year_label(summary.start)
    status = scheme.status(person.status_id)
    target = scheme.target_hours(person.status_id)
    total = summary.total_minutes
    lines = [f"Your CPD year {label} has ended ({scheme.name}, {status.label})."]
    if target:
        met = "target met ✅" if total >= target * 60 else f"short of {target:g} h"
        lines.append(f"Total: {fmt.hours(total)} of {target:g} h — {met}.")
    else:
        lines.append(f"Total: {fmt.hours(total)}.")
    if summary.minutes_by_category:
        lines.append("By category:")
        for cat_id, minutes in sorted(summary.minutes_by_category.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {fmt.category_label(scheme, cat_id)}: {fmt.hours(minutes)}")
    balance = _balance_line(scheme, person, summary)
    if balance:
        lines.append(balance)
    done = summary.entries - summary.pending_entries
    lines.append(
        f"Activities: {summary.entries}; reflections complete for {done}"
        + (f", pending for {summary.pending_entries} — /reflect" if summary.pending_entries else "")
        + "."
    )
    if scheme.audit_notes:
        lines.append(f"What counts for a {scheme.name} audit:")
        budget = 1800
        for note in scheme.audit_notes:
            if budget - len(note) < 0:
                break
            budget -= len(note)
            lines.append(f"• {note}")
    lines.append(
        "Your record for the year is attached (CSV); your progress chart and a JSON copy follow."
    )
    expires = due + SUMMARY_GRACE
    key = summary.start.isoformat()
    return [
        Message(
            kind=YEAR_END,
            key=key,
            text="\n".join(lines),
            due_at=due,
            expires_at=expires,
            attachment={"record": key, "format": "csv"},
        ),
        Message(
            kind=YEAR_END,
            key=key + ":chart",
            text=f"Your CPD year {label} in a chart: cumulative hours by category"
            + (f" against the {target:g} h target." if target else "."),
            due_at=due,
            expires_at=expires,
            attachment={"chart": key},
        ),
        Message(
            kind=YEAR_END,
            key=key + ":json",
            text=f"Your CPD record {label} as JSON (everything, re-readable).",
            due_at=due,
            expires_at=expires,
            attachment={"record": key, "format": "json"},
        ),
    ]


# ---------------------------------------------------------------- reflection reminder


@dataclass(frozen=True)
class PendingEntry:
    entry: EntryView
    created_at: datetime


def reminder_hours(person: PersonView) -> tuple[int, int]:
    start = min(max(person.nudge_hour, 0), 23)
    return start, max(REMINDER_LAST_HOUR, start + 1)


def reflection_reminder(
    person: PersonView,
    scheme: Scheme,
    candidates: Sequence[PendingEntry],
    *,
    pending_total: int,
    now: datetime,
) -> Message | None:
    """One reminder a day at most, about the oldest entry whose reflections have been
    pending for two days or more and that was never reminded (`candidates`, oldest first).
    Sent in the person's waking hours (nudge hour to 21:00 local)."""
    if not person.onboarded or not person.nudges_enabled or paused(person, now):
        return None
    zone = zone_of(person.timezone)
    first, last = reminder_hours(person)
    if not first <= now.astimezone(zone).hour < last:
        return None
    eligible = [
        c for c in candidates if now - REMINDER_MAX_AGE <= c.created_at <= now - REMINDER_AFTER
    ]
    if not eligible:
        return None
    entry = eligible[0].entry
    today = local_today(now, zone)
    n = len(entry.pending)
    text = (
        f"You have {n} reflection{'s' if n != 1 else ''} to write for #{entry.number} "
        f"'{entry.title}' ({fmt.day(entry.activity_date, today)}). A few words while you "
        "still remember it make your record audit-ready."
    )
    others = pending_total - 1
    if others > 0:
        waits = "entry also waits" if others == 1 else "entries also wait"
        text += f" ({others} other {waits}: /reflect.)"
    return Message(
        kind=REFLECT,
        key=str(entry.number),
        text=text,
        due_at=now,
        expires_at=now + REMINDER_GRACE,
        choices=(Choice(f"cmd:reflect {entry.number}", "Reflect now"),),
    )


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


@dataclass(frozen=True)
class EventFacts:
    """What a prompt says about one occurrence."""

    occurrence_id: int
    title: str
    start: datetime
    end: datetime
    minutes: int | None
    all_day: bool = False


def _event_words(event: EventFacts, timezone: str, now: datetime) -> str:
    zone = zone_of(timezone)
    start = event.start.astimezone(zone)
    today = local_today(now, zone)
    if event.all_day:
        when = f"all day, {fmt.day(event.start.date(), today)}"
    else:
        when = f"{fmt.day(start.date(), today)} {start:%H:%M}"
        if event.minutes:
            when = f"{fmt.hours(event.minutes)}, {when}"
    title = event.title or "(untitled event)"
    return f"'{title}' ({when})"


def calendar_prompt(event: EventFacts, timezone: str, now: datetime) -> Message:
    """'<title>' (1 h 30, today 14:00) has ended — log it as CPD? [Log it] [Not CPD] [Later]."""
    i = event.occurrence_id
    return Message(
        kind=CALENDAR,
        key=str(i),
        text=f"{_event_words(event, timezone, now)} has ended — log it as CPD?",
        due_at=now,
        expires_at=max(event.end, now) + PROMPT_WINDOW,
        choices=(
            Choice(f"cal:log:{i}", "Log it"),
            Choice(f"cal:no:{i}", "Not CPD"),
            Choice(f"cal:later:{i}", "Later"),
        ),
    )


def reask(event: EventFacts, timezone: str, *, due: datetime, now: datetime) -> Message:
    """The one re-ask after "Later" (no Later button this time)."""
    i = event.occurrence_id
    return Message(
        kind=REASK,
        key=str(i),
        text=f"You said later: {_event_words(event, timezone, now)} — log it as CPD?",
        due_at=due,
        expires_at=due + REASK_GRACE,
        choices=(Choice(f"cal:log:{i}", "Log it"), Choice(f"cal:no:{i}", "Not CPD")),
    )


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


def feed_failure(
    *, feed_id: int, number: int, url: str, error: str, last_ok_at: datetime | None, now: datetime
) -> Message:
    streak = last_ok_at.isoformat() if last_ok_at else "never"
    if last_ok_at is None:
        head = f"I couldn't read the calendar you added ({mask_url(url)}): {error}"
    else:
        head = (
            f"Your calendar {mask_url(url)} has failed {FEED_FAILURES_REPORTED} times "
            f"in a row: {error}"
        )
    return Message(
        kind=FEED_FAILURE,
        key=f"{feed_id}:{streak}",
        text=(
            f"{head}\nI'll keep trying and won't tell you again until it has worked. "
            f"/calendar list shows it; /calendar remove {number} stops it."
        ),
        due_at=now,
    )

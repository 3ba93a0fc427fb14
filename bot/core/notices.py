"""The wording of the messages the bot sends unprompted: the monthly check-in, the year-end
warning and summary, reflection reminders, calendar prompts and re-asks, failing feeds.

Pure: each function takes the facts (and `now`) and returns the `bot.core.agenda.Message`
to enqueue, or None when there is nothing worth saying. When they are due is decided in
`bot.core.agenda`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.core import text as fmt
from bot.core.agenda import (
    CALENDAR,
    FEED_FAILURE,
    FEED_FAILURES_REPORTED,
    NUDGE,
    NUDGE_GRACE,
    PROMPT_WINDOW,
    REASK,
    REASK_GRACE,
    REFLECT,
    REMINDER_AFTER,
    REMINDER_GRACE,
    REMINDER_MAX_AGE,
    SUMMARY_GRACE,
    WARNING_GRACE,
    YEAR_END,
    YEAR_WARNING,
    Message,
    mask_url,
    paused,
    reminder_hours,
)
from bot.core.assess import pro_rata
from bot.core.model import Choice, EntryView, PersonView, YearSummary
from bot.core.plan import StatusPeriod
from bot.core.schemes import Scheme
from bot.core.zones import local_today, zone_of

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


def progress(
    scheme: Scheme,
    person: PersonView,
    summary: YearSummary,
    today: date,
    periods: Sequence[StatusPeriod] = (),
) -> Progress:
    """Hours against the year's target, pro rata after status periods (leave, exemptions)."""
    target, _ = pro_rata(scheme, person.status_id, summary.start, summary.end, periods)
    left = max((summary.end - today).days, 0)
    if not target:
        return Progress(summary.total_minutes, None, None, left)
    return Progress(
        summary.total_minutes, target, expected_by(target, summary, person, today), left
    )


def expected_by(target: int, summary: YearSummary, person: PersonView, today: date) -> int:
    """Minutes of `target` due by `today` at an even pace from when the record starts: the
    later of the CPD year's first day and the day the person joined (their local date)."""
    begin = summary.start
    if person.joined is not None:
        begin = max(begin, person.joined.astimezone(zone_of(person.timezone)).date())
    days = max((summary.end - begin).days, 1)
    elapsed = min(max((today - begin).days + 1, 0), days)
    return target * elapsed // days


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


# ---------------------------------------------------------------- monthly check-in


def monthly_nudge(
    person: PersonView,
    scheme: Scheme,
    summary: YearSummary,
    *,
    period: str,
    due: datetime,
    now: datetime,
    periods: Sequence[StatusPeriod] = (),
) -> Message | None:
    """The monthly progress message, or None when the person only wants it when behind
    and is on pace with no reflections pending."""
    today = local_today(now, zone_of(person.timezone))
    prog = progress(scheme, person, summary, today, periods)
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


def year_end_warning(
    person: PersonView,
    scheme: Scheme,
    summary: YearSummary,
    *,
    due: datetime,
    now: datetime,
    periods: Sequence[StatusPeriod] = (),
) -> Message | None:
    """Six weeks before the CPD year ends, if the hours are short of the (pro rata) target."""
    today = local_today(now, zone_of(person.timezone))
    prog = progress(scheme, person, summary, today, periods)
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


def year_end_summary(
    person: PersonView,
    scheme: Scheme,
    summary: YearSummary,
    *,
    due: datetime,
    periods: Sequence[StatusPeriod] = (),
) -> list[Message]:
    """The summary of the year that ended, with the record attached (CSV, then JSON).

    Nothing when the year has no entries (there is nothing to summarise or attach).
    """
    if summary.entries == 0:
        return []
    label = scheme.year_label(summary.start)
    target, _ = pro_rata(scheme, person.status_id, summary.start, summary.end, periods)
    expires = due + SUMMARY_GRACE
    key = summary.start.isoformat()
    return [
        Message(
            kind=YEAR_END,
            key=key,
            text=_year_end_text(person, scheme, summary, target),
            due_at=due,
            expires_at=expires,
            attachment={"record": key, "format": "csv"},
        ),
        Message(
            kind=YEAR_END,
            key=key + ":chart",
            text=f"Your CPD year {label} in a chart: cumulative hours by category"
            + (f" against the {fmt.hours(target)} target." if target else "."),
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


def _year_end_text(
    person: PersonView, scheme: Scheme, summary: YearSummary, target: int | None
) -> str:
    """The year-end summary itself: totals against the (pro rata) target in minutes,
    categories, balance, reflections, audit notes."""
    label = scheme.year_label(summary.start)
    status = scheme.status(person.status_id)
    total = summary.total_minutes
    lines = [f"Your CPD year {label} has ended ({scheme.name}, {status.label})."]
    if target:
        goal = fmt.hours(target)
        met = "target met ✅" if total >= target else f"short of {goal}"
        lines.append(f"Total: {fmt.hours(total)} of {goal} — {met}.")
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
    return "\n".join(lines)


# ---------------------------------------------------------------- reflection reminder


@dataclass(frozen=True)
class PendingEntry:
    entry: EntryView
    created_at: datetime


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


# ---------------------------------------------------------------- calendar accounts

ABSENCE = "away"  # the member is told an absence holds their nudges (not held itself)


def absence_notice(
    *, absence_id: int, starts_at: datetime, ends_at: datetime, timezone: str, now: datetime
) -> Message:
    """Your calendar says you're away Mon 7 – Fri 11 Dec: I won't ask about calendar
    events while you're away, and nudges or reminders due meanwhile will come on your first
    day back. (Told once per absence; an absence running to midnight ends the day before.)"""
    zone = zone_of(timezone)
    first = starts_at.astimezone(zone).date()
    last = max((ends_at - timedelta(microseconds=1)).astimezone(zone).date(), first)

    def day(d: date, year: bool) -> str:
        return f"{d:%a} {d.day} {d:%b}" + (f" {d.year}" if year else "")

    span = day(last, last.year != local_today(now, zone).year)
    if (first.year, first.month) == (last.year, last.month) and first != last:
        span = f"{first:%a} {first.day} – {span}"
    elif first != last:
        span = f"{day(first, first.year != last.year)} – {span}"
    return Message(
        kind=ABSENCE,
        key=f"{absence_id}:{starts_at.isoformat()}",
        text=(
            f"Your calendar says you're away {span}: "
            "I won't ask about calendar events while you're away, and nudges or reminders due "
            "meanwhile will come on your first day back."
        ),
        due_at=now,
        expires_at=ends_at,
    )


def credential_stopped(
    *,
    feed_id: int,
    number: int,
    account: str,
    error: str,
    reconnect: str,
    last_ok_at: datetime | None,
    now: datetime,
) -> Message:
    """A sign-in or password that stopped working: told once, with how to reconnect."""
    streak = last_ok_at.isoformat() if last_ok_at else "never"
    name = f" ({account})" if account else ""
    return Message(
        kind=FEED_FAILURE,
        key=f"{feed_id}:signin:{streak}",
        text=(
            f"I can no longer read your calendar{name}: {error}\n"
            f"I've stopped checking it. To connect it again, type {reconnect}; "
            f"/calendar remove {number} removes it."
        ),
        due_at=now,
    )


# ---------------------------------------------------------------- calendar sign-ins

SIGNIN = "signin"  # not pausable: the member is waiting for it
SIGNIN_ENDED = {
    "declined": "Sign-in declined; nothing connected.",
    "expired": "The code expired; type /calendar outlook to try again.",
    "failed": (
        "The Outlook sign-in didn't work (Microsoft refused it); nothing connected. "
        "Type /calendar outlook to try again."
    ),
}


def signed_in(*, signin_key: str, account: str, now: datetime) -> Message:
    """An Outlook sign-in done: the calendar is connected (told once per sign-in)."""
    who = f" as {account}" if account else ""
    return Message(
        kind=SIGNIN,
        key=f"{signin_key}:done",
        text=f"Signed in to Outlook{who}. I'll ask about your training events as they end.",
        due_at=now,
    )


def signin_ended(*, signin_key: str, reason: str, now: datetime) -> Message:
    """An Outlook sign-in over without tokens: declined, expired or failed (told once)."""
    return Message(
        kind=SIGNIN,
        key=f"{signin_key}:{reason}",
        text=SIGNIN_ENDED.get(reason, SIGNIN_ENDED["failed"]),
        due_at=now,
    )

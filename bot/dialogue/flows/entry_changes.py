"""A new value for one field of a saved entry (/edit): checked, with what it was before
(for /undo) and how the change reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.core import text as fmt
from bot.core.buttons import ActionId
from bot.core.model import Choice, EntryView, Incoming, Kind, Outgoing, ReflectionView
from bot.core.parsing import parse_date_range, parse_duration
from bot.dialogue.common import (
    MAX_DAY_MINUTES,
    category_from,
    clip,
    date_error,
    day_minutes,
    minutes_error,
    norm,
    question_text,
    read_answer,
    tidy,
    title_error,
    yes_no,
)
from bot.dialogue.conversation import Context


@dataclass(frozen=True)
class Change:
    """One edit: the new values, what they were (for /undo), and how it reads."""

    said: str
    fields: dict[str, object] = field(default_factory=dict)
    previous: dict[str, Any] = field(default_factory=dict)
    refl: tuple[ReflectionView, ...] = ()
    prev_refl: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Ask:
    """Not yet a change: ask about pseudo-field `field` first (e.g. 'oneday:2026-11-20')."""

    field: str


# A multi-day entry moved to one day whose hours are over a day's length: keep its
# hours, move all its days, or a full day ('oneday:<action>:<ISO first day>').
ONE_DAY = ActionId("oneday", ("keep", "move", "day"))
ONE_DAY_FIELD = "oneday:"


def change_of(
    key: str, event: Incoming, entry: EntryView, ctx: Context
) -> Change | Ask | str | None:
    """The change an answer makes to field `key`; Ask: a question first; a str says what is
    wrong; None: stale. A Change with no fields changes nothing (its `said` is the reply)."""
    if key.startswith("r:"):
        return _reflection_change(key[2:], event, entry, ctx)
    if key.startswith(ONE_DAY_FIELD):
        return _one_day_answer(key[len(ONE_DAY_FIELD) :], event, entry, ctx)
    if key == "category":
        category = category_from(event, ctx.scheme)
        if category is None:
            return "That is not one of the categories. Please pick one."
        old = fmt.category_label(ctx.scheme, entry.category)
        return Change(
            f"category {old} → {category.label}",
            {"category": category.id},
            {"category": entry.category},
        )
    if key == "structured":
        answer = yes_no(event)
        if answer is None:
            return "Please answer yes (structured) or no (unstructured)."
        said = f"{fmt.structured_label(entry.structured)} → {fmt.structured_label(answer)}"
        return Change(said, {"structured": answer}, {"structured": entry.structured})
    if event.kind != Kind.TEXT:
        return None
    text = event.text.strip()
    if key == "title":
        error = title_error(text)
        if error:
            return error
        return Change(f"title → '{tidy(text)}'", {"title": tidy(text)}, {"title": entry.title})
    if key == "date":
        return _date_change(text, entry, ctx)
    if key == "end_date":
        return _end_change(text, entry, ctx)
    return _hours_change(text, entry, ctx)


def _reflection_change(
    qid: str, event: Incoming, entry: EntryView, ctx: Context
) -> Change | str | None:
    kind, value = read_answer(event, ctx.scheme.question(qid))
    if kind in ("stale", "bad"):
        return value if kind == "bad" and value else None
    old = next((r for r in entry.reflections if r.question_id == qid), None)
    refl = (
        ReflectionView(
            qid,
            old.question if old else question_text(ctx.scheme, qid),
            value if kind == "answer" else None,
        ),
    )
    said = "reflection updated" if kind == "answer" else "reflection marked for later"
    return Change(said, refl=refl, prev_refl={qid: old.answer if old else None})


# A multi-day activity spans at most this many days (as the parser reads ranges).
MAX_RANGE_DAYS = 31


def days_of(start: date, end: date | None) -> int:
    """How many days an activity spans (1 for a one-day entry)."""
    return 1 if end is None else (end - start).days + 1


def _dates_change(
    start: date,
    end: date | None,
    entry: EntryView,
    ctx: Context,
    *,
    minutes: int | None = None,
    what: str = "date",
) -> Change | Ask | str:
    """The change to first day `start` and last day `end` (None: one day), said as a new
    `what` ('date' or 'last day'). An entry that keeps its hours must fit them (24 h a day
    at most); a multi-day entry made one day with more than a day's length of hours asks
    about them first (`minutes`: the answer, the hours it then has)."""
    end = None if end == start else end
    if end is not None and (end - start).days >= MAX_RANGE_DAYS:
        return (
            f"{fmt.day_span(start, end, ctx.today)} is more than {MAX_RANGE_DAYS} days. "
            "Log a long course in parts, e.g. one entry a month."
        )
    days = days_of(start, end)
    if minutes is None and entry.minutes > days * MAX_DAY_MINUTES:
        return (
            f"#{entry.number} has {fmt.hours(entry.minutes)}, more than "
            f"{'a day' if days == 1 else f'{days} days'} can hold. "
            "Change its hours first, then the date."
        )
    to_one_day = end is None and entry.end_date is not None
    if to_one_day and minutes is None and entry.minutes > day_minutes(ctx):
        return Ask(f"{ONE_DAY_FIELD}{start.isoformat()}")
    if what == "last day":
        if end is None and entry.end_date is None:
            return Change(f"#{entry.number} is already a one-day entry (last day: none).")
        before = fmt.day(entry.end_date, ctx.today) if entry.end_date else "none"
        said = f"last day {before} → {fmt.day(end, ctx.today) if end else 'none'}"
    else:
        old = fmt.day_span(entry.activity_date, entry.end_date, ctx.today)
        said = f"date {old} → {fmt.day_span(start, end, ctx.today)}"
    fields: dict[str, object] = {"activity_date": start}
    previous: dict[str, Any] = {"activity_date": entry.activity_date.isoformat()}
    if end is not None or entry.end_date is not None:
        fields["end_date"] = end
        previous["end_date"] = None if entry.end_date is None else entry.end_date.isoformat()
    kept = entry.minutes if minutes is None else minutes
    if to_one_day:
        said += f", now a one-day entry of {fmt.hours(kept)}"
    if kept != entry.minutes:
        said += f" (was {fmt.hours(entry.minutes)})"
        fields["minutes"] = kept
        previous["minutes"] = entry.minutes
    return Change(said, fields, previous)


def _moved_end(start: date, entry: EntryView, ctx: Context) -> date | None:
    """The last day if all of a multi-day entry's days move to start on `start`; None if
    it would end in the future (or the entry is one day, or keeps its first day)."""
    if entry.end_date is None or start == entry.activity_date:
        return None
    end = start + (entry.end_date - entry.activity_date)
    return end if end <= ctx.today else None


def one_day_prompt(iso: str, entry: EntryView | None, ctx: Context) -> Outgoing:
    """The question when a multi-day entry becomes one day on `iso` with more hours than
    a day's length: keep them, move all its days, a full day, or typed hours."""
    start = _iso(iso)
    if entry is None or start is None:
        return Outgoing("Type the hours for the day (e.g. 7h).", numeric_answer=True)
    day = fmt.day(start, ctx.today)
    days = days_of(entry.activity_date, entry.end_date)
    full = day_minutes(ctx)
    text = (
        f"That makes #{entry.number} a one-day entry on {day}, but its "
        f"{fmt.hours(entry.minutes)} were {days} days of work (a full day is "
        f"{fmt.hours(full)}). Keep {fmt.hours(entry.minutes)} on {day}, or type the hours "
        "for that day (e.g. 7h)."
    )
    choices = [Choice(ONE_DAY.make("keep", iso), f"Keep {fmt.hours(entry.minutes)}")]
    end = _moved_end(start, entry, ctx)
    if end is not None:
        span = fmt.day_span(start, end, ctx.today)
        choices.append(
            Choice(
                ONE_DAY.make("move", iso),
                f"Move both days ({span})" if days == 2 else f"Move all {days} days ({span})",
            )
        )
    choices.append(Choice(ONE_DAY.make("day", iso), f"A full day ({fmt.hours(full)})"))
    return Outgoing(text, tuple(choices), numeric_answer=True)


def _iso(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


KEEP_WORDS = {"keep", "keep them", "keep it", "keep hours", "yes", "y"}


def _one_day_answer(
    iso: str, event: Incoming, entry: EntryView, ctx: Context
) -> Change | Ask | str | None:
    """The answer to `one_day_prompt`: the date change with the hours it settles."""
    start = _iso(iso)
    if start is None:
        return None
    if event.kind == Kind.CHOICE:
        picked = ONE_DAY.parse(event.choice)
        if picked is None or picked[1] != iso:
            return None
        action: str | None = picked[0]
    elif event.kind == Kind.TEXT:
        word = norm(event.text)
        action = "keep" if word in KEEP_WORDS else "move" if word.startswith("move") else None
    else:
        return None
    if action == "move":
        end = _moved_end(start, entry, ctx)
        if end is None:
            return "All its days cannot move there (they would end in the future)."
        return _dates_change(start, end, entry, ctx)
    if action is not None:
        kept = entry.minutes if action == "keep" else day_minutes(ctx)
        return _dates_change(start, None, entry, ctx, minutes=kept)
    text = event.text.strip()
    minutes = parse_duration(text, day_minutes=day_minutes(ctx))
    if minutes is None:
        return f"I couldn't read '{clip(text)}' as hours. Try 7h or 3.5h."
    return minutes_error(minutes, text) or _dates_change(start, None, entry, ctx, minutes=minutes)


def _date_change(text: str, entry: EntryView, ctx: Context) -> Change | Ask | str:
    """A new date, or a range ('14-15 Nov') for a multi-day activity."""
    # One day comes back as (day, day), a range still to come as it is; over 31 days: None.
    span = parse_date_range(
        text, today=ctx.today, date_order=ctx.date_order, languages=ctx.person.languages
    )
    if span is None:
        return (
            f"I couldn't read '{clip(text)}' as a date. Type a day (e.g. 3 March), or the "
            "days of a multi-day activity that has ended (e.g. 14-15 Nov, at most 31 days)."
        )
    start, end = span
    if start != end and end > ctx.today:
        return (
            f"'{clip(text)}' is {fmt.day_span(start, end, ctx.today)}, still to come. CPD is "
            "logged once it has happened: type the days it took place."
        )
    error = date_error(start, ctx, text) or date_error(end, ctx, text)
    return error or _dates_change(start, end, entry, ctx)


def _end_change(text: str, entry: EntryView, ctx: Context) -> Change | Ask | str:
    """A new last day for a multi-day entry; 'none' (or its first day) makes it one day."""
    if norm(text) in ("none", "no", "one day", "single day", "-"):
        return _dates_change(entry.activity_date, None, entry, ctx, what="last day")
    span = parse_date_range(
        text, today=ctx.today, date_order=ctx.date_order, languages=ctx.person.languages
    )
    if span is None or span[0] != span[1]:
        return f"I couldn't read '{clip(text)}' as one date. Type the last day, or none."
    parsed = span[0]
    error = date_error(parsed, ctx, text)
    if error:
        return error
    if parsed < entry.activity_date:
        first = fmt.day(entry.activity_date, ctx.today)
        return f"{fmt.day(parsed, ctx.today)} is before the first day, {first}. Type a later day."
    return _dates_change(entry.activity_date, parsed, entry, ctx, what="last day")


def _hours_change(text: str, entry: EntryView, ctx: Context) -> Change | str:
    minutes = parse_duration(text, day_minutes=day_minutes(ctx))  # 'full day', 'half day'
    days = days_of(entry.activity_date, entry.end_date)
    if minutes is None:
        error: str | None = f"I couldn't read '{clip(text)}' as hours. Try 1.5h or 90m."
    elif days > 1 and 0 < minutes <= days * MAX_DAY_MINUTES:
        error = None  # a multi-day activity holds up to 24 h for each of its days
    elif days > 1 and minutes > 0:
        error = f"'{text}' is {fmt.hours(minutes)}, more than the {24 * days} hours in {days} days."
    else:
        error = minutes_error(minutes, text)
    if error or minutes is None:
        return error or ""
    said = f"hours {fmt.hours(entry.minutes)} → {fmt.hours(minutes)}"
    return Change(said, {"minutes": minutes}, {"minutes": entry.minutes})

"""A new value for one field of a saved entry (/edit): checked, with what it was before
(for /undo) and how the change reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.core import text as fmt
from bot.core.model import EntryView, Incoming, Kind, ReflectionView
from bot.core.parsing import parse_date_range, parse_duration
from bot.dialogue.common import (
    MAX_DAY_MINUTES,
    category_from,
    clip,
    date_error,
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


def change_of(key: str, event: Incoming, entry: EntryView, ctx: Context) -> Change | str | None:
    """The change an answer makes to field `key`; a str says what is wrong; None: stale."""
    if key.startswith("r:"):
        return _reflection_change(key[2:], event, entry, ctx)
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


def _dates_change(start: date, end: date | None, entry: EntryView, ctx: Context) -> Change | str:
    """The change to first day `start` and last day `end` (None: one day). A single date
    given for a multi-day entry makes it a one-day entry (its end date cleared); an entry
    that keeps its hours must fit them (24 h a day at most)."""
    end = None if end == start else end
    if end is not None and (end - start).days >= MAX_RANGE_DAYS:
        return (
            f"{fmt.day_span(start, end, ctx.today)} is more than {MAX_RANGE_DAYS} days. "
            "Log a long course in parts, e.g. one entry a month."
        )
    days = days_of(start, end)
    if entry.minutes > days * MAX_DAY_MINUTES:
        return (
            f"#{entry.number} has {fmt.hours(entry.minutes)}, more than "
            f"{'a day' if days == 1 else f'{days} days'} can hold. "
            "Change its hours first, then the date."
        )
    old = fmt.day_span(entry.activity_date, entry.end_date, ctx.today)
    said = f"date {old} → {fmt.day_span(start, end, ctx.today)}"
    fields: dict[str, object] = {"activity_date": start}
    previous: dict[str, Any] = {"activity_date": entry.activity_date.isoformat()}
    if end is not None or entry.end_date is not None:
        fields["end_date"] = end
        previous["end_date"] = None if entry.end_date is None else entry.end_date.isoformat()
    return Change(said, fields, previous)


def _date_change(text: str, entry: EntryView, ctx: Context) -> Change | str:
    """A new date, or a range ('14-15 Nov') for a multi-day activity."""
    # One day comes back as (day, day); a range in the future or over 31 days as None.
    span = parse_date_range(
        text, today=ctx.today, date_order=ctx.date_order, languages=ctx.person.languages
    )
    if span is None:
        return (
            f"I couldn't read '{clip(text)}' as a date. Type a day (e.g. 3 March), or the "
            "days of a multi-day activity that has ended (e.g. 14-15 Nov, at most 31 days)."
        )
    start, end = span
    error = date_error(start, ctx, text) or date_error(end, ctx, text)
    return error or _dates_change(start, end, entry, ctx)


def _end_change(text: str, entry: EntryView, ctx: Context) -> Change | str:
    """A new last day for a multi-day entry; 'none' (or its first day) makes it one day."""
    if norm(text) in ("none", "no", "one day", "single day", "-"):
        return _dates_change(entry.activity_date, None, entry, ctx)
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
    return _dates_change(entry.activity_date, parsed, entry, ctx)


def _hours_change(text: str, entry: EntryView, ctx: Context) -> Change | str:
    # 'full day' / 'half day': the person's own day length, else the scheme's.
    day = ctx.person.day_minutes or round(ctx.scheme.day_hours * 60)
    minutes = parse_duration(text, day_minutes=day)
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

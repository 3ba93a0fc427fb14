"""A new value for one field of a saved entry (/edit): checked, with what it was before
(for /undo) and how the change reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.core import text as fmt
from bot.core.model import EntryView, Incoming, Kind, ReflectionView
from bot.core.parsing import parse_date, parse_duration
from bot.dialogue.common import (
    category_from,
    clip,
    date_error,
    minutes_error,
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
    return _hours_change(text, entry)


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


def _date_change(text: str, entry: EntryView, ctx: Context) -> Change | str:
    parsed = parse_date(
        text, today=ctx.today, date_order=ctx.date_order, languages=ctx.person.languages
    )
    error = (
        f"I couldn't read '{clip(text)}' as a date."
        if parsed is None
        else date_error(parsed, ctx, text)
    )
    if error or parsed is None:
        return error or ""
    said = f"date {fmt.day(entry.activity_date, ctx.today)} → {fmt.day(parsed, ctx.today)}"
    return Change(
        said, {"activity_date": parsed}, {"activity_date": entry.activity_date.isoformat()}
    )


def _hours_change(text: str, entry: EntryView) -> Change | str:
    minutes = parse_duration(text)
    error = (
        f"I couldn't read '{clip(text)}' as hours. Try 1.5h or 90m."
        if minutes is None
        else minutes_error(minutes, text)
    )
    if error or minutes is None:
        return error or ""
    said = f"hours {fmt.hours(entry.minutes)} → {fmt.hours(minutes)}"
    return Change(said, {"minutes": minutes}, {"minutes": entry.minutes})

"""How the bot writes hours, dates and entries (one place, every platform)."""

from __future__ import annotations

from datetime import date

from bot.core.model import EntryView
from bot.core.schemes import Scheme


def hours(minutes: int) -> str:
    """90 -> '1 h 30', 120 -> '2 h', 45 -> '45 min'."""
    h, m = divmod(abs(minutes), 60)
    sign = "-" if minutes < 0 else ""
    if h == 0:
        return f"{sign}{m} min"
    return f"{sign}{h} h" + (f" {m:02d}" if m else "")


def day(d: date, today: date | None = None) -> str:
    """'Sat 21 Nov 2026' (the year is dropped when it is the current one)."""
    if today is not None:
        if d == today:
            return "today"
        if (today - d).days == 1:
            return "yesterday"
    if today is not None and d.year == today.year:
        return f"{d:%a} {d.day} {d:%b}"
    return f"{d:%a} {d.day} {d:%b %Y}"


def short_day(d: date) -> str:
    """'21 Nov 2026': a date in a period, a deadline or a record (no weekday)."""
    return f"{d.day} {d:%b %Y}"


def category_label(scheme: Scheme, category_id: str) -> str:
    cat = scheme.category(category_id)
    return cat.label if cat else category_id


def entry_line(entry: EntryView, scheme: Scheme, today: date) -> str:
    """'#13 · yesterday · 1 h 30 · Events and seminars · Webinar on arc-flash safety'."""
    mark = " (reflection pending)" if entry.pending else ""
    return (
        f"#{entry.number} · {day(entry.activity_date, today)} · {hours(entry.minutes)} · "
        f"{category_label(scheme, entry.category)} · {entry.title}{mark}"
    )


def structured_label(value: bool | None) -> str:
    return {True: "structured", False: "unstructured", None: "not set"}[value]

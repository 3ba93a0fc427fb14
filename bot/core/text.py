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


def day_span(start: date, end: date | None, today: date | None = None) -> str:
    """One day as ``day`` does, or a range: 'Sat 14 – Sun 15 Nov', '30 Nov – 2 Dec 2025'."""
    if end is None or end == start:
        return day(start, today)
    year = "" if today is not None and end.year == today.year else f" {end.year}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start:%a} {start.day} – {end:%a} {end.day} {end:%b}{year}"
    first = f"{start.day} {start:%b}" + ("" if start.year == end.year else f" {start.year}")
    return f"{first} – {end.day} {end:%b}{year}"


def short_day(d: date) -> str:
    """'21 Nov 2026': a date in a period, a deadline or a record (no weekday)."""
    return f"{d.day} {d:%b %Y}"


def short_span(start: date, end: date | None) -> str:
    """``short_day``, or a range in a record: '14–15 Nov 2026', '30 Nov – 2 Dec 2026',
    '30 Dec 2026 – 2 Jan 2027'."""
    if end is None or end == start:
        return short_day(start)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{short_day(end)}"
    if start.year == end.year:
        return f"{start.day} {start:%b} – {short_day(end)}"
    return f"{short_day(start)} – {short_day(end)}"


def category_label(scheme: Scheme, category_id: str) -> str:
    cat = scheme.category(category_id)
    return cat.label if cat else category_id


def entry_line(entry: EntryView, scheme: Scheme, today: date) -> str:
    """'#13 · yesterday · 1 h 30 · Events and seminars · Webinar on arc-flash safety'."""
    mark = " (reflection pending)" if entry.pending else ""
    return (
        f"#{entry.number} · {day_span(entry.activity_date, entry.end_date, today)} · "
        f"{hours(entry.minutes)} · "
        f"{category_label(scheme, entry.category)} · {entry.title}{mark}"
    )


def structured_label(value: bool | None) -> str:
    return {True: "structured", False: "unstructured", None: "not set"}[value]

"""Reading parsed iCalendar properties that may be repeated, broken or carry parameters."""

from __future__ import annotations

from typing import Any


def _first(prop: Any) -> Any:
    """A property that should occur once but may be repeated: its first occurrence."""
    if isinstance(prop, list):
        return prop[0] if prop else None
    return prop


def _value(prop: Any) -> Any:
    """The Python value of a parsed property (``BrokenCalendarProperty`` if unparsable)."""
    return prop.dt


def _ical_text(prop: Any) -> str:
    try:
        raw = prop.to_ical()
    except Exception:  # a broken value
        return str(prop)
    return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)


def _param(prop: Any, name: str) -> str | None:
    params = getattr(prop, "params", None)
    if not params:
        return None
    value = params.get(name)
    return str(value) if value else None

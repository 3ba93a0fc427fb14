"""The rest of a whole record, besides its entries: what `/export all`'s record.json carries
so `cpdbot import` restores it (the other bodies followed, the entries' filings in them,
the explained gaps, the HCPC profile), written and read back, every field checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.core import entry_rules as rules
from bot.core.plan import GapNote, PlanError
from bot.core.sanitize import clean_text


@dataclass(frozen=True)
class Kept:
    """What a whole record holds besides its entries (`/export all`, read back by `cpdbot
    import`): the other bodies followed (scheme id, status id), the person's filings of
    entries in them (entry number -> {scheme id: category}), the explained gaps, and the
    HCPC profile (picked entry numbers, summary, statements; None before /profile)."""

    bodies: tuple[tuple[str, str], ...] = ()
    filings: Mapping[int, Mapping[str, str]] = field(default_factory=dict)
    gap_notes: tuple[GapNote, ...] = ()
    profile: tuple[tuple[int, ...], str, tuple[str, ...]] | None = None


def kept_json(kept: Kept) -> dict[str, Any]:
    profile = kept.profile
    return {
        "bodies": [{"scheme": s, "status": status} for s, status in kept.bodies],
        "gap_notes": [
            {"start": n.start.isoformat(), "end": n.end.isoformat(), "text": clean_text(n.text)}
            for n in kept.gap_notes
        ],
        "hcpc_profile": None
        if profile is None
        else {
            "entries": list(profile[0]),
            "summary": clean_text(profile[1]),
            "standards": [clean_text(s) for s in profile[2]],
        },
    }


def _short_text(value: object, *, empty: bool = False, limit: int = 64) -> str | None:
    """A short id (scheme, status, category), or None if it is not one."""
    if isinstance(value, str) and (empty or value) and len(value) <= limit:
        return value
    return None


def _kept_bodies(value: object, problems: list[str]) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list):
        problems.append(f"bodies must be a list, not {rules.shown(value)}")
        return ()
    out: list[tuple[str, str]] = []
    for i, item in enumerate(value, 1):
        body = item if isinstance(item, dict) else {}
        scheme = _short_text(body.get("scheme"))
        status = _short_text(body.get("status", ""), empty=True)
        if scheme is None or status is None:
            problems.append(
                f"body {i}: must be an object with scheme and status (text), "
                f"not {rules.shown(item)}"
            )
            continue
        out.append((scheme, status))
    return tuple(out)


def _kept_filings(entries: list[Any], problems: list[str]) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {}
    for i, e in enumerate(entries, 1):
        value = e.get("categories", {}) if isinstance(e, dict) else {}
        number = e.get("number") if isinstance(e, dict) else None
        if not isinstance(value, dict) or not all(
            _short_text(k) and _short_text(v) for k, v in value.items()
        ):
            problems.append(
                f"entry {i}: categories must map each body to a category, not {rules.shown(value)}"
            )
            continue
        if value and type(number) is int and number not in out:
            out[number] = {str(k): str(v) for k, v in value.items()}
    return out


def _kept_gaps(value: object, problems: list[str]) -> tuple[GapNote, ...]:
    if not isinstance(value, list):
        problems.append(f"gap_notes must be a list, not {rules.shown(value)}")
        return ()
    out: list[GapNote] = []
    for i, item in enumerate(value, 1):
        note = item if isinstance(item, dict) else {}
        text = note.get("text")
        try:
            start = date.fromisoformat(note["start"])
            end = date.fromisoformat(note["end"])
            if not isinstance(text, str) or not clean_text(text).strip():
                raise ValueError
            out.append(GapNote(start, end, clean_text(text).strip()[:500]))
        except (KeyError, TypeError, ValueError, PlanError):
            problems.append(
                f"gap note {i}: must have start and end dates (the end not before the start) "
                f"and the reason as text, not {rules.shown(item)}"
            )
    return tuple(out)


def _kept_profile(
    value: object, problems: list[str]
) -> tuple[tuple[int, ...], str, tuple[str, ...]] | None:
    if value is None:
        return None
    profile = value if isinstance(value, dict) else {}
    numbers, summary = profile.get("entries", []), profile.get("summary", "")
    standards = profile.get("standards", [])
    if (
        not isinstance(numbers, list)
        or any(rules.number_problem(n) for n in numbers)
        or not isinstance(summary, str)
        or not isinstance(standards, list)
        or not all(isinstance(s, str) for s in standards)
    ):
        problems.append(
            "hcpc_profile: must have entries (numbers), summary (text) and standards "
            f"(a list of text), not {rules.shown(value)}"
        )
        return None
    return tuple(numbers), clean_text(summary), tuple(clean_text(s) for s in standards)


def read_kept(payload: dict[str, Any]) -> tuple[Kept, list[str]]:
    """The rest of a whole record (`to_json` with `kept`) from a loaded JSON export, and
    what is wrong with it; a file without these parts (a year's export, or one written
    before them) gives an empty `Kept`."""
    problems: list[str] = []
    kept = Kept(
        bodies=_kept_bodies(payload.get("bodies", []), problems),
        filings=_kept_filings(payload["entries"], problems),
        gap_notes=_kept_gaps(payload.get("gap_notes", []), problems),
        profile=_kept_profile(payload.get("hcpc_profile"), problems),
    )
    return kept, problems

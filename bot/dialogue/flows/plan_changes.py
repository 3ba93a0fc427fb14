"""The plan's changes, checked and turned into effects: role, responsibilities, objectives
(done, removed), links and tags of entries, explained gaps, date ranges; and the plan as it
is once a change is applied. Each returns (what to say, effect) or what is wrong."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from typing import Any, cast

from bot.core import text as fmt
from bot.core.model import (
    AddGapNote,
    DeleteObjective,
    Effect,
    LinkEntry,
    RemoveResponsibility,
    SetEntryTags,
    SetObjectiveDone,
    SetRole,
)
from bot.core.parsing import parse_date
from bot.core.plan import UKSPEC_TAGS, GapNote, ObjectiveView, Plan, PlanError, normalise_tag
from bot.dialogue.common import clip, no_entry, norm, tidy
from bot.dialogue.conversation import Context

ROLE_MAX = 300
RESPONSIBILITY_MAX = 300
OBJECTIVE_TITLE_MAX = 200
GAP_TEXT_MAX = 500
MAX_TAGS = 10
PERIOD_YEARS = 5  # a status period or target date at most this many years ahead
_RANGE_SPLIT = re.compile(r"\s+(?:to|until|till|through|-)\s+|\s*[–—]\s*", re.IGNORECASE)
_LINK_RE = re.compile(r"#?(\d{1,9})[\s,]+(?:to\s+)?(?:o|objective\s*)?(\d{1,9})", re.IGNORECASE)
_OBJECTIVE_RE = re.compile(r"(?:o|objective\s*)?(\d{1,9})", re.IGNORECASE)


def plan_of(ctx: Context) -> Plan:
    return ctx.snap.plan or Plan()


def role_change(text: str) -> tuple[str, Effect] | str:
    text = tidy(text) if text else ""
    if len(text) > ROLE_MAX:
        return f"Please keep your role under {ROLE_MAX} characters."
    return (f"Role set: {text}." if text else "Role cleared."), SetRole(text)


def objective_title_error(title: str) -> str | None:
    if len(title) > OBJECTIVE_TITLE_MAX:
        return f"Please keep the objective under {OBJECTIVE_TITLE_MAX} characters."
    if not tidy(title):
        return "Please describe the objective in a few words."
    return None


def _find_objective(value: str, plan: Plan) -> ObjectiveView | str:
    match = _OBJECTIVE_RE.fullmatch(value.strip())
    if match is None:
        return "Which objective? Type its number, e.g. O2."
    found = plan.objective(int(match.group(1)))
    if found is None:
        numbers = ", ".join(o.label for o in plan.objectives) or "none yet"
        return f"There is no objective O{match.group(1)} (yours: {numbers})."
    return found


def objective_change(key: str, value: str, ctx: Context) -> tuple[str, Effect] | str:
    plan = plan_of(ctx)
    objective = _find_objective(value, plan)
    if isinstance(objective, str):
        return objective
    name = f"{objective.label} '{objective.title}'"
    if key == "obj_remove":
        linked = sum(1 for _, n in plan.links if n == objective.number)
        links = f" and its {linked} link{'s' if linked != 1 else ''}" if linked else ""
        return f"Removed {name}{links}; the entries stay.", DeleteObjective(objective.number)
    if objective.status == "done":
        return f"{name} is already marked done."
    return f"Well done: {name} marked done.", SetObjectiveDone(objective.number)


def _entry_check(number: int, ctx: Context) -> str | None:
    entry = ctx.snap.entry
    if entry is None or entry.deleted or entry.number != number:
        return no_entry(str(number))
    return None


def link_change(value: str, ctx: Context, *, link: bool) -> tuple[str, Effect] | str:
    match = _LINK_RE.fullmatch(value.strip())
    if match is None:
        return "Type the entry number and the objective, e.g. '12 O3' (entry #12, objective O3)."
    entry_number, objective_number = int(match.group(1)), int(match.group(2))
    plan = plan_of(ctx)
    error = _entry_check(entry_number, ctx)
    objective = plan.objective(objective_number)
    if error is None and objective is None:
        numbers = ", ".join(o.label for o in plan.objectives) or "none yet: /plan adds one"
        error = f"There is no objective O{objective_number} (yours: {numbers})."
    if error or objective is None:
        return error or ""
    known = (entry_number, objective_number) in plan.links
    entry = ctx.snap.entry
    title = f"#{entry_number} '{entry.title}'" if entry else f"#{entry_number}"
    if link and known:
        return f"{title} is already linked to {objective.label}."
    if not link and not known:
        return f"{title} is not linked to {objective.label}."
    said = (
        f"Linked {title} to {objective.label} '{objective.title}'. /review shows its progress."
        if link
        else f"Unlinked {title} from {objective.label}."
    )
    return said, LinkEntry(entry_number, objective_number, link=link)


def tag_change(value: str, ctx: Context) -> tuple[str, Effect] | str:
    match = re.fullmatch(r"#?(\d{1,9})\s*(.*)", value.strip())
    if match is None or not match.group(2).strip():
        example = "12 A C" if ctx.scheme.competences == "uk_spec" else "12 ethics"
        return f"Type the entry number and its tags, e.g. '{example}' (or '12 none')."
    number, rest = int(match.group(1)), match.group(2).strip(" :,-")
    error = _entry_check(number, ctx)
    if error:
        return error
    parts = rest.split(",") if "," in rest else rest.split()
    if norm(rest) in ("none", "clear", "-"):
        parts = []
    try:
        tags = tuple(dict.fromkeys(normalise_tag(p) for p in parts if p.strip()))
    except PlanError as exc:
        return f"Tags: {exc}."
    if len(tags) > MAX_TAGS:
        return f"Up to {MAX_TAGS} tags per entry, please."
    if not tags:
        return f"Tags cleared for #{number}.", SetEntryTags(number, ())
    legend = UKSPEC_TAGS if ctx.scheme.competences == "uk_spec" else {}
    named = ", ".join(f"{t} ({legend[t]})" if t in legend else t for t in tags)
    return f"#{number} tagged: {named}.", SetEntryTags(number, tags)


def date_range(text: str, ctx: Context) -> tuple[date, date] | str:
    parts = _RANGE_SPLIT.split(text.strip(), maxsplit=1)
    example = "Type two dates, e.g. '1 March to 31 August'."
    if len(parts) != 2 or not all(p.strip() for p in parts):
        return example
    kwargs: dict[str, Any] = {"date_order": ctx.date_order, "languages": ctx.person.languages}
    days = [parse_date(p, today=ctx.today, **kwargs) for p in parts]
    for written, day in zip(parts, days, strict=True):
        if day is None:
            return f"I couldn't read '{clip(written)}' as a date. {example}"
    start, end = cast(list[date], days)
    if end < start:
        return f"{fmt.day(end)} is before {fmt.day(start)}: the end comes after the start."
    if start.year < 1950 or end > ctx.today + timedelta(days=366 * PERIOD_YEARS):
        return "Those dates are too far away. " + example
    return start, end


def gap_change(value: str, ctx: Context) -> tuple[str, Effect] | str:
    dates, sep, why = value.partition(":")
    why = tidy(why)
    if not sep or not why:
        return "Type the dates, a colon, and the reason, e.g. '1 June to 31 August: sick leave'."
    if len(why) > GAP_TEXT_MAX:
        return f"Please keep the reason under {GAP_TEXT_MAX} characters."
    found = date_range(dates, ctx)
    if isinstance(found, str):
        return found
    start, end = found
    if start > ctx.today:
        return f"{fmt.day(start)} is still to come: explain a gap once it has happened."
    said = f"Gap explained: {fmt.short_day(start)} – {fmt.short_day(end)}: {why}."
    return said, AddGapNote(start, end, why)


def plan_after(plan: Plan, effect: Effect) -> Plan:
    """The plan as it is once `effect` is applied (for the menu offered next)."""
    if isinstance(effect, SetRole):
        return replace(plan, role=effect.text)
    if isinstance(effect, RemoveResponsibility):
        items = list(plan.responsibilities)
        del items[effect.position - 1]
        return replace(plan, responsibilities=tuple(items))
    if isinstance(effect, SetObjectiveDone):
        return replace(
            plan,
            objectives=tuple(
                replace(o, status="done") if o.number == effect.number else o
                for o in plan.objectives
            ),
        )
    if isinstance(effect, DeleteObjective):
        return replace(
            plan,
            objectives=tuple(o for o in plan.objectives if o.number != effect.number),
            links=frozenset(link for link in plan.links if link[1] != effect.number),
        )
    if isinstance(effect, LinkEntry):
        pair = (effect.entry_number, effect.objective_number)
        return replace(plan, links=plan.links | {pair} if effect.link else plan.links - {pair})
    if isinstance(effect, AddGapNote):
        note = GapNote(effect.start, effect.end, effect.text)
        return replace(plan, gap_notes=(*plan.gap_notes, note))
    return plan

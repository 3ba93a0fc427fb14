"""Where a person stands against their scheme's rules for one CPD year (pure, no I/O).

`assess` lists each requirement as met, not yet, or not applicable, with a one-line
reason and what would close it. The rules come from the scheme file: the hours target of
each membership status, the balance rule (IES), and `[checks]` (per-activity questions,
an ethics activity and key responsibilities for STEP, a mixture of learning methods and
no unexplained gap for IPEM/HCPC). Every scheme also needs its required reflections.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from bot import text as fmt
from bot.export import Record
from bot.model import EntryView
from bot.plan import GapNote, Plan, StatusPeriod
from bot.schemes import Balance, Scheme

State = Literal["met", "not_yet", "not_applicable"]
MARKS: Mapping[State, str] = {"met": "✓", "not_yet": "✗", "not_applicable": "–"}
STATE_LABELS: Mapping[State, str] = {
    "met": "Met",
    "not_yet": "Not yet",
    "not_applicable": "N/A",
}
# What makes an activity "related to ethics" (STEP): its title or reflections say so.
ETHICS = re.compile(r"\bethic|\bcode of conduct\b|\bconflicts? of interest\b", re.IGNORECASE)
LISTED = 5  # entries named in a one-line reason before "and N more"


@dataclass(frozen=True)
class Requirement:
    id: str
    label: str
    state: State
    reason: str  # one line
    action: str = ""  # what would close it; '' when met or not applicable

    @property
    def line(self) -> str:
        text = f"{MARKS[self.state]} {self.label}: {self.reason}"
        return text + (f" → {self.action}" if self.action else "")


@dataclass(frozen=True)
class Assessment:
    scheme_id: str
    start: date
    end: date  # exclusive
    today: date
    requirements: tuple[Requirement, ...]
    total_minutes: int
    minutes_by_category: Mapping[str, int]
    # The hours target for this year after exemptions and pro rata (None: no target) ...
    target_minutes: int | None
    # ... and for the person's own status over a whole year.
    full_target_minutes: int | None
    # structured / unstructured / not_set minutes, when the scheme tracks it.
    structured_minutes: Mapping[str, int] | None = None

    @property
    def met(self) -> bool:
        """True when nothing is outstanding."""
        return all(r.state != "not_yet" for r in self.requirements)

    @property
    def outstanding(self) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if r.state == "not_yet")

    def requirement(self, requirement_id: str) -> Requirement | None:
        return next((r for r in self.requirements if r.id == requirement_id), None)

    def lines(self) -> list[str]:
        """One line per requirement: '✓ Hours: …', '✗ Balance: … → what to do'."""
        return [r.line for r in self.requirements]


def assess(
    record: Record,
    *,
    today: date,
    periods: Sequence[StatusPeriod] = (),
    plan: Plan | None = None,
) -> Assessment:
    scheme = record.scheme
    plan = plan or Plan()
    entries = tuple(e for e in record.entries if not e.deleted)
    by_category = _by_category(entries, scheme)
    total = sum(by_category.values())
    target, full = _targets(record, periods)
    requirements: list[Requirement] = [_hours(record, total, target, full, periods)]
    if scheme.balance is not None:
        requirements.append(_balance(record, scheme.balance, by_category, total))
    requirements += _reflections(entries, scheme)
    checks = scheme.checks
    if checks.ethics_activity:
        requirements.append(_ethics(record, entries, plan))
    if checks.responsibilities is not None:
        requirements.append(_responsibilities(scheme, plan))
    if checks.min_methods is not None:
        requirements.append(_methods(entries, scheme, checks.min_methods))
    if checks.gap_days is not None:
        requirements.append(_gaps(record, entries, plan.gap_notes, today, checks.gap_days))
    structured = None
    if scheme.track_structured:
        structured = {"structured": 0, "unstructured": 0, "not_set": 0}
        for e in entries:
            key = {True: "structured", False: "unstructured", None: "not_set"}[e.structured]
            structured[key] += e.minutes
    return Assessment(
        scheme_id=scheme.id,
        start=record.start,
        end=record.end,
        today=today,
        requirements=tuple(requirements),
        total_minutes=total,
        minutes_by_category=by_category,
        target_minutes=target,
        full_target_minutes=full,
        structured_minutes=structured,
    )


def _by_category(entries: Sequence[EntryView], scheme: Scheme) -> dict[str, int]:
    totals: dict[str, int] = {}
    for e in entries:
        totals[e.category] = totals.get(e.category, 0) + e.minutes
    ordered = [c.id for c in scheme.categories if c.id in totals]
    ordered += sorted(k for k in totals if k not in ordered)
    return {k: totals[k] for k in ordered}


def _last_day(record: Record) -> date:
    return record.end - timedelta(days=1)


def _short_day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


# ---------------------------------------------------------------- hours


def status_on(day: date, base: str, periods: Sequence[StatusPeriod]) -> str:
    """The status held on `day`: the last period given that covers it, else `base`."""
    for period in reversed(periods):
        if period.covers(day):
            return period.status_id
    return base


def _targets(record: Record, periods: Sequence[StatusPeriod]) -> tuple[int | None, int | None]:
    """(this year's target after periods, pro rata day by day; the whole-year target)."""
    scheme = record.scheme
    base = record.person.status_id
    full_hours = scheme.target_hours(base)
    if full_hours is None:
        return None, None
    days = (record.end - record.start).days
    relevant = [p for p in periods if p.end >= record.start and p.start < record.end]
    if not relevant:
        minutes = round(full_hours * 60)
        return minutes, minutes
    per_day = 0.0
    for offset in range(days):
        hours = scheme.target_hours(status_on(record.start + timedelta(offset), base, relevant))
        per_day += (hours or 0) * 60
    return round(per_day / days), round(full_hours * 60)


def _period_text(record: Record, periods: Sequence[StatusPeriod]) -> str:
    scheme = record.scheme
    parts = []
    for p in periods:
        if p.end < record.start or p.start >= record.end:
            continue
        start, end = max(p.start, record.start), min(p.end, _last_day(record))
        parts.append(f"{scheme.status(p.status_id).label} {_short_day(start)} – {_short_day(end)}")
    return "; ".join(parts)


def _hours(
    record: Record,
    total: int,
    target: int | None,
    full: int | None,
    periods: Sequence[StatusPeriod],
) -> Requirement:
    scheme = record.scheme
    status = scheme.status(record.person.status_id)
    label = "Hours"
    logged = f"{fmt.hours(total)} logged" if total else "nothing logged yet"
    if target is None or full is None:
        return Requirement(
            "hours", label, "not_applicable", f"no hours target ({status.label}); {logged}"
        )
    if target == 0:
        why = _period_text(record, periods) or status.label
        return Requirement("hours", label, "not_applicable", f"no hours required: {why}; {logged}")
    basis = f"{fmt.hours(full)} a year ({status.label})"
    if target != full:
        whole = f"{fmt.hours(full)} a year " if full else ""
        basis = f"{whole}pro rata: {_period_text(record, periods)}"
    if total >= target:
        return Requirement(
            "hours", label, "met", f"{fmt.hours(total)} of {fmt.hours(target)}; target {basis}"
        )
    short = target - total
    return Requirement(
        "hours",
        label,
        "not_yet",
        f"{fmt.hours(total)} of {fmt.hours(target)}; target {basis}",
        f"log {fmt.hours(short)} more dated by {_short_day(_last_day(record))}",
    )


# ---------------------------------------------------------------- balance (IES)


def _counting(minutes: Mapping[str, int], share: float) -> list[str]:
    total = sum(minutes.values())
    if total <= 0:
        return []
    return [c for c, m in minutes.items() if m > 0 and m >= share * total - 1e-9]


def _balance(
    record: Record, rule: Balance, by_category: Mapping[str, int], total: int
) -> Requirement:
    scheme = record.scheme
    studying = record.person.studying_he and rule.min_categories_when_studying is not None
    needed = rule.min_categories_when_studying if studying else rule.min_categories
    assert needed is not None
    label = "Balance across categories"
    why = f"{needed} categories needed" + (
        " (studying for an HE qualification)" if studying else ""
    )
    if total <= 0:
        return Requirement(
            "balance",
            label,
            "not_yet",
            f"{why}, each with at least {rule.min_share:.0%} of your hours; none logged yet",
            f"log activities in at least {needed} categories",
        )
    counting = _counting(by_category, rule.min_share)
    token = [c for c, m in by_category.items() if m > 0 and c not in counting]

    def named(ids: Sequence[str]) -> str:
        return ", ".join(
            f"{fmt.category_label(scheme, c)} {fmt.hours(by_category[c])} "
            f"({by_category[c] / total:.0%})"
            for c in ids
        )

    reason = f"{len(counting)} of {needed} needed with at least {rule.min_share:.0%} each: " + (
        named(counting) or "none"
    )
    if token:
        reason += f"; too small to count: {named(token)}"
    if len(counting) >= needed:
        return Requirement("balance", label, "met", reason)
    return Requirement(
        "balance", label, "not_yet", reason, _balance_action(scheme, by_category, needed, rule)
    )


def _balance_action(
    scheme: Scheme, by_category: Mapping[str, int], needed: int, rule: Balance
) -> str:
    """Roughly the least extra time, and where, that would reach the balance."""
    minutes = dict(by_category)
    added: dict[str, int] = {}
    for _ in range(len(scheme.categories) + needed):
        counting = _counting(minutes, rule.min_share)
        if len(counting) >= needed:
            break
        candidates = [c.id for c in scheme.categories if c.id not in counting]
        if not candidates:
            break
        best = max(candidates, key=lambda c: minutes.get(c, 0))
        have, total = minutes.get(best, 0), sum(minutes.values())
        extra = max(15, math.ceil((rule.min_share * total - have) / (1 - rule.min_share)))
        extra = math.ceil(extra / 15) * 15
        minutes[best] = have + extra
        added[best] = added.get(best, 0) + extra
    parts = [f"{fmt.hours(m)} of {fmt.category_label(scheme, c)}" for c, m in added.items()]
    return "add about " + " and ".join(parts) if parts else "spread your hours more evenly"


# ---------------------------------------------------------------- reflections


def _answered(entry: EntryView, question_id: str) -> bool:
    return any(
        r.question_id == question_id and r.answer is not None and r.answer.strip()
        for r in entry.reflections
    )


def _entry_ref(entry: EntryView) -> str:
    return f"#{entry.number}"


def _per_entry(
    requirement_id: str,
    label: str,
    entries: Sequence[EntryView],
    scheme: Scheme,
    question_ids: Sequence[str],
) -> Requirement:
    if not entries:
        return Requirement(requirement_id, label, "not_applicable", "no activities logged yet")
    missing: list[tuple[EntryView, list[str]]] = []
    for e in entries:
        lacking = [q for q in question_ids if not _answered(e, q)]
        if lacking:
            missing.append((e, lacking))
    names = {q: (found.name if (found := scheme.question(q)) else q) for q in question_ids}
    asked = " and ".join(names[q] for q in question_ids)
    if not missing:
        n = len(entries)
        return Requirement(
            requirement_id,
            label,
            "met",
            f"all {n} activit{'y has' if n == 1 else 'ies have'} {asked}",
        )
    shown = "; ".join(
        f"{_entry_ref(e)} ({', '.join(names[q] for q in lacking)})"
        for e, lacking in missing[:LISTED]
    )
    if len(missing) > LISTED:
        shown += f"; and {len(missing) - LISTED} more"
    first = missing[0][0].number
    return Requirement(
        requirement_id,
        label,
        "not_yet",
        f"{len(missing)} of {len(entries)} activities still need an answer: {shown}",
        f"answer them with /reflect (e.g. /reflect {first})",
    )


def _reflections(entries: Sequence[EntryView], scheme: Scheme) -> list[Requirement]:
    """The scheme's per-activity checks, then its other required questions."""
    found = [
        _per_entry(c.id, c.label, entries, scheme, c.questions) for c in scheme.checks.per_entry
    ]
    claimed = {q for c in scheme.checks.per_entry for q in c.questions}
    rest = [q.id for q in scheme.questions if q.required and q.id not in claimed]
    if rest:
        found.append(
            _per_entry("reflections", "Reflection on each activity", entries, scheme, rest)
        )
    return found


# ---------------------------------------------------------------- STEP


def is_ethics_activity(entry: EntryView, plan: Plan) -> bool:
    """An activity on ethics: says so in its title or reflections, or serves an ethics objective."""
    if ETHICS.search(entry.title):
        return True
    if any(r.answer and ETHICS.search(r.answer) for r in entry.reflections):
        return True
    return any(o.area == "ethics" for o in plan.objectives_of(entry.number))


def _ethics(record: Record, entries: Sequence[EntryView], plan: Plan) -> Requirement:
    label = "An activity on ethics"
    found = [e for e in entries if is_ethics_activity(e, plan)]
    if found:
        e = found[0]
        more = f" and {len(found) - 1} more" if len(found) > 1 else ""
        return Requirement(
            "ethics_activity",
            label,
            "met",
            f"#{e.number} '{e.title}' ({_short_day(e.activity_date)}){more}",
        )
    return Requirement(
        "ethics_activity",
        label,
        "not_yet",
        f"no activity related to ethics in CPD year {record.label}",
        "log one (an online course, a conference workshop or reading articles on ethics), "
        "or link an activity to an ethics objective",
    )


def _responsibilities(scheme: Scheme, plan: Plan) -> Requirement:
    checks = scheme.checks
    assert checks.responsibilities is not None
    low, high = checks.responsibilities
    label = "Key responsibilities recorded"
    items = plan.responsibilities
    n = len(items)
    want = f"your top {low}–{high}" if low != high else f"{low}"
    required = checks.responsibility_required
    pattern = re.compile(checks.responsibility_match or re.escape(required), re.IGNORECASE)
    has_required = not required or any(pattern.search(r) for r in items)
    incl = f", including {required}" if required else ""
    if n == 0:
        return Requirement(
            "responsibilities",
            label,
            "not_yet",
            "none recorded yet",
            f"list {want} key responsibilities with /plan{incl}",
        )
    problems, actions = [], []
    if n < low:
        problems.append(f"{n} recorded; {scheme.name} asks for {want}")
        actions.append(f"add {low - n} more with /plan")
    elif n > high:
        problems.append(f"{n} recorded; {scheme.name} asks you to focus on {want}")
        actions.append(f"keep your top {high}")
    if not has_required:
        problems.append(f"none is {required}")
        actions.append(f"add {required}")
    if not problems:
        return Requirement("responsibilities", label, "met", f"{n} recorded{incl}")
    return Requirement(
        "responsibilities", label, "not_yet", "; ".join(problems), " and ".join(actions)
    )


# ---------------------------------------------------------------- IPEM / HCPC


def _methods(entries: Sequence[EntryView], scheme: Scheme, needed: int) -> Requirement:
    label = "A mixture of learning methods"
    used = list(_by_category(entries, scheme))
    names = ", ".join(fmt.category_label(scheme, c) for c in used)
    if len(used) >= needed:
        return Requirement("methods", label, "met", f"{len(used)} methods: {names}")
    unused = [c.label for c in scheme.categories if c.id not in used][:2]
    return Requirement(
        "methods",
        label,
        "not_yet",
        f"{len(used)} of {needed} methods" + (f": {names}" if used else ""),
        f"add {needed - len(used)} activit{'y' if needed - len(used) == 1 else 'ies'} "
        f"of another kind, e.g. {' or '.join(unused)}",
    )


@dataclass(frozen=True)
class Gap:
    """Consecutive days without activity (or explanation) from `first` to `last`."""

    first: date
    last: date
    open: bool  # runs up to today

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def find_gaps(
    dates: Sequence[date], notes: Sequence[GapNote], start: date, last: date, gap_days: int
) -> list[Gap]:
    """Stretches in [start, last] with no activity and no explanation, `gap_days` apart or more.

    Activities `gap_days` apart leave `gap_days - 1` empty days between them; the year
    start and `last` (today) count as if an activity were just outside them.
    """
    if last < start:
        return []
    covered = {d for d in dates if start <= d <= last}
    for note in notes:
        day = max(note.start, start)
        while day <= min(note.end, last):
            covered.add(day)
            day += timedelta(days=1)
    gaps: list[Gap] = []
    run_start: date | None = None
    day = start
    while day <= last + timedelta(days=1):
        empty = day <= last and day not in covered
        if empty and run_start is None:
            run_start = day
        elif not empty and run_start is not None:
            gap = Gap(run_start, day - timedelta(days=1), open=day > last)
            if gap.days >= gap_days - 1:
                gaps.append(gap)
            run_start = None
        day += timedelta(days=1)
    return gaps


def _gaps(
    record: Record,
    entries: Sequence[EntryView],
    notes: Sequence[GapNote],
    today: date,
    gap_days: int,
) -> Requirement:
    label = "No unexplained gap"
    months = round(gap_days / 30.4)
    if today < record.start:
        return Requirement("gaps", label, "not_applicable", f"CPD year {record.label} not begun")
    last = min(today, _last_day(record))
    dates = [e.activity_date for e in entries]
    gaps = find_gaps(dates, notes, record.start, last, gap_days)
    if not gaps:
        raw = find_gaps(dates, (), record.start, last, gap_days)
        reason = f"no {months} months without activity"
        if raw:
            reason = f"{len(raw)} gap{'s' if len(raw) > 1 else ''} of {months}+ months, explained"
        return Requirement("gaps", label, "met", reason)
    parts = []
    for g in gaps[:2]:
        if g.open:
            parts.append(f"no activity since {_short_day(g.first)} ({g.days} days)")
        else:
            parts.append(f"none from {_short_day(g.first)} to {_short_day(g.last)} ({g.days} days)")
    if len(gaps) > 2:
        parts.append(f"and {len(gaps) - 2} more")
    return Requirement(
        "gaps",
        label,
        "not_yet",
        "; ".join(parts),
        "explain the gap with /plan (e.g. sick leave), or log the CPD you did then",
    )

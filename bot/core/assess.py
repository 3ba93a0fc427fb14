"""Where a person stands against their scheme's rules for one CPD year (pure, no I/O).

`assess` lists each requirement as met, not yet, or not applicable, with a one-line
reason and what would close it. The rules come from the scheme file: the hours target of
each membership status, the balance rule (IES), and `[checks]` (per-activity questions,
an ethics activity and key responsibilities for STEP, a mixture of learning methods and
no unexplained gap for IPEM/HCPC). Every scheme also needs its required reflections.

The rules read a `Tally` of the year's activities, never the record itself: `assess`
counts a loaded record, and /status has the database count it (`repo.year_tally`), so a
year of 2,000 activities is assessed without loading them. Both go through
`assess_tally`, the one place the rules are.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from bot.core import text as fmt
from bot.core.export import Record
from bot.core.model import EntryView, PersonView, Tally
from bot.core.plan import GapNote, Plan, StatusPeriod
from bot.core.schemes import Balance, Scheme

State = Literal["met", "not_yet", "not_applicable"]
MARKS: Mapping[State, str] = {"met": "✓", "not_yet": "✗", "not_applicable": "–"}
STATE_LABELS: Mapping[State, str] = {
    "met": "Met",
    "not_yet": "Not yet",
    "not_applicable": "N/A",
}
# What makes an activity "related to ethics" (STEP): its title or reflections say so.
ETHICS = re.compile(r"\bethic|\bcode of conduct\b|\bconflicts? of interest\b", re.IGNORECASE)
# Every text ETHICS finds contains one of these, as SQL LIKE patterns without case (`_` is
# any one character: with IGNORECASE, 'i' also matches 'İ' and 'ı'). The database picks
# out the activities to look at with them, then ETHICS decides: change both together.
ETHICS_HINTS = ("eth_c", "code of conduct", "confl_ct")
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


@dataclass(frozen=True)
class Year:
    """Whose CPD year is assessed, under which scheme, from `start` to `end` (exclusive)."""

    person: PersonView
    scheme: Scheme
    start: date
    end: date

    @property
    def label(self) -> str:
        return self.scheme.year_label(self.start)


def assess(
    record: Record,
    *,
    today: date,
    periods: Sequence[StatusPeriod] = (),
    plan: Plan | None = None,
) -> Assessment:
    """Where the person stands in the CPD year of `record`, from its live activities."""
    year = Year(record.person, record.scheme, record.start, record.end)
    return assess_tally(year, tally(record.entries), today=today, periods=periods, plan=plan)


def tally(entries: Sequence[EntryView]) -> Tally:
    """The live activities of `entries` counted for the rules (all kept for them to look at)."""
    live = tuple(e for e in entries if not e.deleted)
    minutes: dict[tuple[str, bool | None], int] = {}
    for e in live:
        key = (e.category, e.structured)
        minutes[key] = minutes.get(key, 0) + e.minutes
    return Tally(
        entries=len(live),
        pending_entries=sum(1 for e in live if e.pending),
        minutes=minutes,
        dates=tuple(sorted({e.activity_date for e in live})),
        unanswered=live,
        ethics=live,
    )


def checked_questions(scheme: Scheme) -> frozenset[str]:
    """The questions some per-activity requirement of `scheme` needs answered."""
    return frozenset(q for _, _, questions in _per_entry_checks(scheme) for q in questions)


def assess_tally(
    year: Year,
    counted: Tally,
    *,
    today: date,
    periods: Sequence[StatusPeriod] = (),
    plan: Plan | None = None,
) -> Assessment:
    """The scheme's rules applied to a tally of the year's activities (see `Tally`)."""
    scheme = year.scheme
    plan = plan or Plan()
    by_category = _by_category(counted.minutes, scheme)
    total = sum(by_category.values())
    target, full = targets(year, periods)
    requirements: list[Requirement] = [_hours(year, total, target, full, periods)]
    if scheme.balance is not None:
        requirements.append(_balance(year, scheme.balance, by_category, total))
    requirements += _reflections(counted, scheme)
    checks = scheme.checks
    if checks.ethics_activity:
        requirements.append(_ethics(year, counted.ethics, plan))
    if checks.responsibilities is not None:
        requirements.append(_responsibilities(scheme, plan))
    if checks.min_methods is not None:
        requirements.append(_methods(by_category, scheme, checks.min_methods))
    if checks.gap_days is not None:
        requirements.append(_gaps(year, counted.dates, plan.gap_notes, today, checks.gap_days))
    structured = None
    if scheme.track_structured:
        structured = {"structured": 0, "unstructured": 0, "not_set": 0}
        for (_, flag), minutes in counted.minutes.items():
            key = {True: "structured", False: "unstructured", None: "not_set"}[flag]
            structured[key] += minutes
    return Assessment(
        scheme_id=scheme.id,
        start=year.start,
        end=year.end,
        today=today,
        requirements=tuple(requirements),
        total_minutes=total,
        minutes_by_category=by_category,
        target_minutes=target,
        full_target_minutes=full,
        structured_minutes=structured,
    )


def _by_category(minutes: Mapping[tuple[str, bool | None], int], scheme: Scheme) -> dict[str, int]:
    """Minutes by category: the scheme's in its order, then any others by name."""
    totals: dict[str, int] = {}
    for (category, _), m in minutes.items():
        totals[category] = totals.get(category, 0) + m
    ordered = [c.id for c in scheme.categories if c.id in totals]
    ordered += sorted(k for k in totals if k not in ordered)
    return {k: totals[k] for k in ordered}


def _last_day(year: Year) -> date:
    return year.end - timedelta(days=1)


# ---------------------------------------------------------------- hours


def status_on(day: date, base: str, periods: Sequence[StatusPeriod]) -> str:
    """The status held on `day`: the last period given that covers it, else `base`."""
    for period in reversed(periods):
        if period.covers(day):
            return period.status_id
    return base


def targets(year: Year, periods: Sequence[StatusPeriod]) -> tuple[int | None, int | None]:
    """(this year's target after periods, pro rata day by day; the whole-year target)."""
    scheme = year.scheme
    base = year.person.status_id
    full_hours = scheme.target_hours(base)
    if full_hours is None:
        return None, None
    days = (year.end - year.start).days
    relevant = [p for p in periods if p.end >= year.start and p.start < year.end]
    if not relevant:
        minutes = round(full_hours * 60)
        return minutes, minutes
    per_day = 0.0
    for offset in range(days):
        hours = scheme.target_hours(status_on(year.start + timedelta(offset), base, relevant))
        per_day += (hours or 0) * 60
    return round(per_day / days), round(full_hours * 60)


def _period_text(year: Year, periods: Sequence[StatusPeriod]) -> str:
    scheme = year.scheme
    parts = []
    for p in periods:
        if p.end < year.start or p.start >= year.end:
            continue
        start, end = max(p.start, year.start), min(p.end, _last_day(year))
        label = scheme.status(p.status_id).label
        parts.append(f"{label} {fmt.short_day(start)} – {fmt.short_day(end)}")
    return "; ".join(parts)


def _hours(
    year: Year,
    total: int,
    target: int | None,
    full: int | None,
    periods: Sequence[StatusPeriod],
) -> Requirement:
    scheme = year.scheme
    status = scheme.status(year.person.status_id)
    label = "Hours"
    logged = f"{fmt.hours(total)} logged" if total else "nothing logged yet"
    if target is None or full is None:
        return Requirement(
            "hours", label, "not_applicable", f"no hours target ({status.label}); {logged}"
        )
    if target == 0:
        why = _period_text(year, periods) or status.label
        return Requirement("hours", label, "not_applicable", f"no hours required: {why}; {logged}")
    basis = f"{fmt.hours(full)} a year ({status.label})"
    if target != full:
        whole = f"{fmt.hours(full)} a year " if full else ""
        basis = f"{whole}pro rata: {_period_text(year, periods)}"
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
        f"log {fmt.hours(short)} more dated by {fmt.short_day(_last_day(year))}",
    )


# ---------------------------------------------------------------- balance (IES)


def _counting(minutes: Mapping[str, int], share: float) -> list[str]:
    total = sum(minutes.values())
    if total <= 0:
        return []
    return [c for c, m in minutes.items() if m > 0 and m >= share * total - 1e-9]


def _balance(year: Year, rule: Balance, by_category: Mapping[str, int], total: int) -> Requirement:
    scheme = year.scheme
    studying = year.person.studying_he and rule.min_categories_when_studying is not None
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
    counted: Tally,
    scheme: Scheme,
    question_ids: Sequence[str],
) -> Requirement:
    if not counted.entries:
        return Requirement(requirement_id, label, "not_applicable", "no activities logged yet")
    missing: list[tuple[EntryView, list[str]]] = []
    for e in counted.unanswered:
        lacking = [q for q in question_ids if not _answered(e, q)]
        if lacking:
            missing.append((e, lacking))
    names = {q: (found.name if (found := scheme.question(q)) else q) for q in question_ids}
    asked = " and ".join(names[q] for q in question_ids)
    if not missing:
        n = counted.entries
        return Requirement(
            requirement_id,
            label,
            "met",
            f"the one activity has {asked}" if n == 1 else f"all {n} activities have {asked}",
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
        f"{len(missing)} of {counted.entries} activities still need an answer: {shown}",
        f"answer them with /reflect (e.g. /reflect {first})",
    )


def _per_entry_checks(scheme: Scheme) -> list[tuple[str, str, tuple[str, ...]]]:
    """(id, label, question ids): the scheme's per-activity checks, then its other required
    questions as one."""
    found = [(c.id, c.label, c.questions) for c in scheme.checks.per_entry]
    claimed = {q for c in scheme.checks.per_entry for q in c.questions}
    rest = tuple(q.id for q in scheme.questions if q.required and q.id not in claimed)
    if rest:
        found.append(("reflections", "Reflection on each activity", rest))
    return found


def _reflections(counted: Tally, scheme: Scheme) -> list[Requirement]:
    return [
        _per_entry(check_id, label, counted, scheme, questions)
        for check_id, label, questions in _per_entry_checks(scheme)
    ]


# ---------------------------------------------------------------- STEP


def is_ethics_activity(entry: EntryView, plan: Plan) -> bool:
    """An activity on ethics: says so in its title or reflections, or serves an ethics objective."""
    if ETHICS.search(entry.title):
        return True
    if any(r.answer and ETHICS.search(r.answer) for r in entry.reflections):
        return True
    return any(o.area == "ethics" for o in plan.objectives_of(entry.number))


def _ethics(year: Year, candidates: Sequence[EntryView], plan: Plan) -> Requirement:
    label = "An activity on ethics"
    found = [e for e in candidates if is_ethics_activity(e, plan)]
    if found:
        e = found[0]
        more = f" and {len(found) - 1} more" if len(found) > 1 else ""
        return Requirement(
            "ethics_activity",
            label,
            "met",
            f"#{e.number} '{e.title}' ({fmt.short_day(e.activity_date)}){more}",
        )
    return Requirement(
        "ethics_activity",
        label,
        "not_yet",
        f"no activity related to ethics in CPD year {year.label}",
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


def _methods(by_category: Mapping[str, int], scheme: Scheme, needed: int) -> Requirement:
    label = "A mixture of learning methods"
    used = list(by_category)
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
    year: Year,
    dates: Sequence[date],
    notes: Sequence[GapNote],
    today: date,
    gap_days: int,
) -> Requirement:
    label = "No unexplained gap"
    months = round(gap_days / 30.4)
    if today < year.start:
        return Requirement("gaps", label, "not_applicable", f"CPD year {year.label} not begun")
    last = min(today, _last_day(year))
    gaps = find_gaps(dates, notes, year.start, last, gap_days)
    if not gaps:
        raw = find_gaps(dates, (), year.start, last, gap_days)
        reason = f"no {months} months without activity"
        if raw:
            reason = f"{len(raw)} gap{'s' if len(raw) > 1 else ''} of {months}+ months, explained"
        return Requirement("gaps", label, "met", reason)
    parts = []
    for g in gaps[:2]:
        if g.open:
            parts.append(f"no activity since {fmt.short_day(g.first)} ({g.days} days)")
        else:
            since, until = fmt.short_day(g.first), fmt.short_day(g.last)
            parts.append(f"none from {since} to {until} ({g.days} days)")
    if len(gaps) > 2:
        parts.append(f"and {len(gaps) - 2} more")
    return Requirement(
        "gaps",
        label,
        "not_yet",
        "; ".join(parts),
        "explain the gap with /plan (e.g. sick leave), or log the CPD you did then",
    )

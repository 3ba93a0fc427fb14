"""The requirements a scheme file's `[checks]` adds to hours and balance (pure, no I/O):
the reflections each activity needs, an activity on ethics, the year's time on ethics and
key responsibilities (STEP), a mixture of learning methods and no unexplained gap (IPEM / HCPC)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.core import text as fmt
from bot.core.assessment import LISTED, Requirement, Year, last_day
from bot.core.model import EntryView, Tally
from bot.core.plan import GapNote, Plan
from bot.core.schemes import Scheme

# What makes an activity "related to ethics" (STEP): its title or reflections say so.
ETHICS = re.compile(r"\bethic|\bcode of conduct\b|\bconflicts? of interest\b", re.IGNORECASE)
# Every text ETHICS finds contains one of these, as SQL LIKE patterns without case (`_` is
# any one character: with IGNORECASE, 'i' also matches 'İ' and 'ı'). The database picks
# out the activities to look at with them, then ETHICS decides: change both together.
ETHICS_HINTS = ("eth_c", "code of conduct", "confl_ct")


def checked_questions(scheme: Scheme) -> frozenset[str]:
    """The questions some per-activity requirement of `scheme` needs answered."""
    return frozenset(q for _, _, questions in per_entry_checks(scheme) for q in questions)


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


def per_entry_checks(scheme: Scheme) -> list[tuple[str, str, tuple[str, ...]]]:
    """(id, label, question ids): the scheme's per-activity checks, then its other required
    questions as one."""
    found = [(c.id, c.label, c.questions) for c in scheme.checks.per_entry]
    claimed = {q for c in scheme.checks.per_entry for q in c.questions}
    rest = tuple(q.id for q in scheme.questions if q.required and q.id not in claimed)
    if rest:
        found.append(("reflections", "Reflection on each activity", rest))
    return found


def reflections(counted: Tally, scheme: Scheme) -> list[Requirement]:
    return [
        _per_entry(check_id, label, counted, scheme, questions)
        for check_id, label, questions in per_entry_checks(scheme)
    ]


# ---------------------------------------------------------------- STEP


def is_ethics_activity(entry: EntryView, plan: Plan) -> bool:
    """An activity on ethics: says so in its title or reflections, or serves an ethics objective."""
    if ETHICS.search(entry.title):
        return True
    if any(r.answer and ETHICS.search(r.answer) for r in entry.reflections):
        return True
    return any(o.area == "ethics" for o in plan.objectives_of(entry.number))


def ethics_activity(year: Year, candidates: Sequence[EntryView], plan: Plan) -> Requirement:
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


def ethics_minutes(
    year: Year, candidates: Sequence[EntryView], plan: Plan, needed: int
) -> Requirement:
    """The year's time on ethics (activities as `is_ethics_activity` finds them) against
    the scheme's least (STEP: an hour): 'Ethics: 45 min of at least 1 h'."""
    label = "Ethics"
    found = [e for e in candidates if is_ethics_activity(e, plan)]
    total = sum(e.minutes for e in found)
    least = f"of at least {fmt.hours(needed)}"
    if not found:
        return Requirement(
            "ethics_minutes",
            label,
            "not_yet",
            f"nothing on ethics yet; at least {fmt.hours(needed)} in CPD year {year.label}",
            f"log {fmt.hours(needed)} on ethics dated by {fmt.short_day(last_day(year))}",
        )
    shown = ", ".join(f"#{e.number}" for e in found[:LISTED])
    if len(found) > LISTED:
        shown += f" and {len(found) - LISTED} more"
    reason = f"{fmt.hours(total)} {least} ({shown})"
    if total >= needed:
        return Requirement("ethics_minutes", label, "met", reason)
    return Requirement(
        "ethics_minutes",
        label,
        "not_yet",
        reason,
        f"log {fmt.hours(needed - total)} more on ethics dated by {fmt.short_day(last_day(year))}",
    )


def responsibilities(scheme: Scheme, plan: Plan) -> Requirement:
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


def methods(by_category: Mapping[str, int], scheme: Scheme, needed: int) -> Requirement:
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


def gaps(
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
    last = min(today, last_day(year))
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

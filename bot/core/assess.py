"""Where a person stands against their scheme's rules for one CPD year (pure, no I/O).

`assess` lists each requirement as met, not yet, or not applicable, with a one-line
reason and what would close it. The rules come from the scheme file: the hours target of
each membership status, the balance rule (IES), and `[checks]` (per-activity questions,
an ethics activity, an hour of ethics and key responsibilities for STEP, a mixture of
learning methods and no unexplained gap for IPEM/HCPC: `bot.core.scheme_checks`). Every
scheme also needs its required reflections. The values (`Assessment`, `Requirement`) are in
`bot.core.assessment`.

The rules read a `Tally` of the year's activities, never the record itself: `assess`
counts a loaded record, and /status has the database count it (`tally.year_tally`), so a
year of 2,000 activities is assessed without loading them. Both go through
`assess_tally`, the one place the rules are.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from bot.core import scheme_checks
from bot.core import text as fmt
from bot.core.assessment import Assessment, Requirement, Year, last_day
from bot.core.model import EntryView, Tally
from bot.core.plan import Plan, StatusPeriod
from bot.core.record import Record
from bot.core.schemes import Balance, Scheme


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
    requirements += scheme_checks.reflections(counted, scheme)
    checks = scheme.checks
    if checks.ethics_activity:
        requirements.append(scheme_checks.ethics_activity(year, counted.ethics, plan))
    if checks.ethics_min_minutes is not None:
        requirements.append(
            scheme_checks.ethics_minutes(year, counted.ethics, plan, checks.ethics_min_minutes)
        )
    if checks.responsibilities is not None:
        requirements.append(scheme_checks.responsibilities(scheme, plan))
    if checks.min_methods is not None:
        requirements.append(scheme_checks.methods(by_category, scheme, checks.min_methods))
    if checks.gap_days is not None:
        requirements.append(
            scheme_checks.gaps(year, counted.dates, plan.gap_notes, today, checks.gap_days)
        )
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


# ---------------------------------------------------------------- hours


def status_on(day: date, base: str, periods: Sequence[StatusPeriod]) -> str:
    """The status held on `day`: the last period given that covers it, else `base`."""
    for period in reversed(periods):
        if period.covers(day):
            return period.status_id
    return base


def targets(year: Year, periods: Sequence[StatusPeriod]) -> tuple[int | None, int | None]:
    """(this year's target after periods, pro rata day by day; the whole-year target)."""
    return pro_rata(year.scheme, year.person.status_id, year.start, year.end, periods)


def pro_rata(
    scheme: Scheme, base: str, start: date, end: date, periods: Sequence[StatusPeriod]
) -> tuple[int | None, int | None]:
    """(the target of [start, end) in minutes after status periods, pro rata day by day;
    the whole-year target): what /status, the PDF, nudges and the year end all use."""
    full_hours = scheme.target_hours(base)
    if full_hours is None:
        return None, None
    days = (end - start).days
    relevant = [p for p in periods if p.end >= start and p.start < end]
    if not relevant:
        minutes = round(full_hours * 60)
        return minutes, minutes
    per_day = 0.0
    for offset in range(days):
        hours = scheme.target_hours(status_on(start + timedelta(offset), base, relevant))
        per_day += (hours or 0) * 60
    return round(per_day / days), round(full_hours * 60)


def _period_text(year: Year, periods: Sequence[StatusPeriod]) -> str:
    scheme = year.scheme
    parts = []
    for p in periods:
        if p.end < year.start or p.start >= year.end:
            continue
        start, end = max(p.start, year.start), min(p.end, last_day(year))
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
        f"log {fmt.hours(short)} more dated by {fmt.short_day(last_day(year))}",
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

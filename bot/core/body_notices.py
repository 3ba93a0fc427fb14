"""Several bodies, one record (issue 16): the other bodies a member follows in the
messages the bot sends unprompted (pure, no I/O). The monthly check-in adds a line per
body, in that body's own CPD year; each body's year-end summary comes when its own year
ends (STEP's on 1 April), keyed by body so it never stands in for the main one's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.core import text as fmt
from bot.core.agenda import SUMMARY_GRACE, YEAR_END, Message
from bot.core.assess import pro_rata
from bot.core.model import PersonView
from bot.core.notices import _year_end_text, progress
from bot.core.schemes import Scheme
from bot.core.snapshot import BodyView
from bot.core.zones import local_today, zone_of


def as_member_of(person: PersonView, scheme: Scheme, status_id: str) -> PersonView:
    """`person` as `scheme` sees them: its status and its own CPD year (the person's own
    year start and day length are their main body's)."""
    return replace(
        person,
        scheme_id=scheme.id,
        status_id=status_id or scheme.default_status,
        year_start=None,
        day_minutes=None,
    )


def nudge_lines(
    person: PersonView, bodies: Sequence[tuple[Scheme, BodyView]], now: datetime
) -> list[str]:
    """One line per other body for the monthly check-in: its year, hours against its
    target and pace, what it still needs, entries waiting to be filed in it."""
    today = local_today(now, zone_of(person.timezone))
    lines = []
    for scheme, view in bodies:
        summary = view.summary
        if summary is None:
            continue
        seen = as_member_of(person, scheme, view.status_id)
        prog = progress(scheme, seen, summary, today)
        line = f"{scheme.name}, CPD year {scheme.year_label(summary.start)}: "
        if prog.target is None:
            line += f"{fmt.hours(prog.total)} (no hours target)"
        else:
            share = prog.total / prog.target if prog.target else 0
            line += f"{fmt.hours(prog.total)} of {fmt.hours(prog.target)} ({share:.0%})"
            if prog.total >= prog.target:
                line += ", target reached"
            elif prog.behind:
                line += f", {fmt.hours(prog.behind)} behind pace"
            else:
                line += ", on track"
        unmet = [
            r.label
            for r in (view.assessment.requirements if view.assessment else ())
            if r.state == "not_yet" and r.id != "hours"
        ]
        if unmet:
            line += "; not yet: " + ", ".join(unmet)
        if view.unfiled:
            n = len(view.unfiled)
            line += f"; {n} entr{'y' if n == 1 else 'ies'} to file in its categories (/bodies)"
        lines.append(line + ".")
    return lines


def year_end(
    person: PersonView, scheme: Scheme, view: BodyView, *, due: datetime
) -> Message | None:
    """The summary of another body's CPD year that just ended (`person` as that body sees
    them, `as_member_of`), or None when the year had no entries. Keyed '<body>:<start>'."""
    summary = view.summary
    if summary is None or summary.entries == 0:
        return None
    target, _ = pro_rata(scheme, person.status_id, summary.start, summary.end, ())
    text = _year_end_text(person, scheme, summary, target).rsplit("\n", 1)[0]
    short = scheme.name.split("/")[0].strip()
    text += (
        f"\n/export pdf {short} {summary.start.year} has that year's record as {short} counts "
        "it; /status shows its current year beside your main body."
    )
    key = f"{scheme.id}:{summary.start.isoformat()}"
    return Message(kind=YEAR_END, key=key, text=text, due_at=due, expires_at=due + SUMMARY_GRACE)

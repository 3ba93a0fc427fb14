"""The plan's wording: the plan as text, and the question for each value asked."""

from __future__ import annotations

from datetime import date

from bot.core import text as fmt
from bot.core.buttons import ButtonId
from bot.core.model import Choice, Outgoing
from bot.core.plan import UKSPEC_TAGS, ObjectiveView, Plan, StatusPeriod
from bot.core.schemes import Status
from bot.dialogue.common import clip, say
from bot.dialogue.conversation import Context

PLAN_VALUE = ButtonId("pv")  # pv:<number of a responsibility or objective> | pv:clear


def objective_line(o: ObjectiveView, plan: Plan, today: date) -> str:
    due = f", by {fmt.short_day(o.target_date)}" if o.target_date else ""
    state = "done" if o.status == "done" else ("overdue" if o.overdue(today) else "open")
    linked = sum(1 for _, n in plan.links if n == o.number)
    links = f" · {linked} entr{'y' if linked == 1 else 'ies'}" if linked else ""
    return f"{o.label} {o.title} ({o.area_label}{due}) — {state}{links}"


def plan_text(plan: Plan, periods: tuple[StatusPeriod, ...], ctx: Context) -> str:
    scheme = ctx.scheme
    lines = ["Your development plan:", f"Role: {plan.role or 'not set'}"]
    checks = scheme.checks
    hint = ""
    if checks.responsibilities is not None:
        low, high = checks.responsibilities
        hint = f" — {scheme.name} asks for {low}–{high}" + (
            f", including {checks.responsibility_required}"
            if checks.responsibility_required
            else ""
        )
    if plan.responsibilities:
        lines.append(f"Key responsibilities ({len(plan.responsibilities)}{hint}):")
        lines += [f"  {i}. {r}" for i, r in enumerate(plan.responsibilities, 1)]
    else:
        lines.append(f"Key responsibilities: none yet{hint}.")
    if plan.objectives:
        lines.append("Objectives:")
        lines += [f"  {objective_line(o, plan, ctx.today)}" for o in plan.objectives]
    else:
        lines.append("Objectives: none yet.")
    if periods:
        lines.append("Leave and exemptions:")
        lines += [
            f"  {scheme.status(p.status_id).label}: "
            f"{fmt.short_day(p.start)} – {fmt.short_day(p.end)}"
            for p in periods
        ]
    if plan.gap_notes:
        lines.append("Gaps explained:")
        lines += [
            f"  {fmt.short_day(g.start)} – {fmt.short_day(g.end)}: {g.text}" for g in plan.gap_notes
        ]
    return "\n".join(lines)


def plan_value_prompt(key: str, plan: Plan, ctx: Context) -> Outgoing:
    if key == "role":
        choices = (Choice(PLAN_VALUE.make("clear"), "Clear my role"),) if plan.role else ()
        return Outgoing(
            "What is your role? e.g. 'Protection engineer, distribution network operator'.",
            choices,
        )
    if key == "resp_add":
        return say(
            "Type a key responsibility, e.g. 'Ethical behaviour' or 'Protection design'. "
            "Several at once: separate them with semicolons."
        )
    if key == "resp_remove":
        return Outgoing(
            "Which responsibility should I remove?",
            tuple(
                Choice(PLAN_VALUE.make(i), f"{i}. {clip(r, 30)}")
                for i, r in enumerate(plan.responsibilities, 1)
            ),
        )
    if key == "obj_title":
        return say(
            "What is the objective? A few words, e.g. 'Learn IEC 61850 substation automation'."
        )
    if key in ("obj_done", "obj_remove"):
        wanted = [o for o in plan.objectives if key == "obj_remove" or o.status == "open"]
        question = (
            "Which objective have you achieved?"
            if key == "obj_done"
            else "Which objective should I remove? Its links go with it; the entries stay."
        )
        return Outgoing(
            question,
            tuple(
                Choice(PLAN_VALUE.make(o.number), f"{o.label} {clip(o.title, 30)}") for o in wanted
            ),
        )
    if key == "link":
        shown = "; ".join(f"{o.label} {clip(o.title, 40)}" for o in plan.objectives)
        return say(
            "Which entry serves which objective? e.g. '12 O1' links entry #12 to O1 "
            f"(/list shows entry numbers). Objectives: {shown}."
        )
    if key == "tag" and ctx.scheme.competences == "uk_spec":
        legend = "; ".join(f"{k} {v}" for k, v in UKSPEC_TAGS.items())
        return say(
            "Which entry, and which competences? e.g. '12 A C'. UK-SPEC: "
            f"{legend}. Tags replace the entry's tags; '12 none' clears them."
        )
    if key == "tag":  # a scheme without a competence framework: tags as typed
        return say(
            "Which entry, and which tags? e.g. '12 ethics'. Tags replace the entry's tags; "
            "'12 none' clears them."
        )
    return say(
        "Which days had no CPD, and why? e.g. '1 June to 31 August: sick leave'. "
        "An explained gap no longer counts against you."
    )


def other_statuses(ctx: Context) -> list[Status]:
    """The membership statuses other than the person's (for leave or exemptions)."""
    return [s for s in ctx.scheme.statuses if s.id != ctx.person.status_id]


def status_label(status_id: str, ctx: Context) -> str:
    status = ctx.scheme.status(status_id)
    if status.hours is None:
        return status.label
    return f"{status.label} ({status.hours:g} h a year)"

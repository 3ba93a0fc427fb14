"""The development plan: /plan shows it with a menu (role, key responsibilities, objectives,
links and tags of entries, leave or exemptions, explained gaps); /plan link|unlink|tag|done|
role … makes one change at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from bot.core import text as fmt
from bot.core.buttons import ButtonId, OptionId
from bot.core.model import (
    AddObjective,
    AddResponsibility,
    AddStatusPeriod,
    Choice,
    Effect,
    Incoming,
    Kind,
    Outgoing,
    RemoveResponsibility,
)
from bot.core.plan import AREAS, MAX_RESPONSIBILITIES, ObjectiveView, Plan, StatusPeriod, parse_area
from bot.core.schemes import Scheme
from bot.core.snapshot import Needs
from bot.dialogue.common import (
    clip,
    entry_number,
    future_date,
    leading_number,
    norm,
    say,
    stale,
    stay,
    tidy,
    with_effects,
)
from bot.dialogue.conversation import Context, Conv, Data, PlanDraft, State, Step, replace_data
from bot.dialogue.flow import Command, Flow, prompt
from bot.dialogue.flows.plan_changes import (
    PERIOD_YEARS,
    RESPONSIBILITY_MAX,
    date_range,
    gap_change,
    link_change,
    objective_change,
    objective_title_error,
    plan_after,
    plan_of,
    role_change,
    tag_change,
)
from bot.dialogue.flows.plan_prompts import (
    PLAN_VALUE,
    other_statuses,
    plan_text,
    plan_value_prompt,
    status_label,
)

S = State

PLAN_STATES = (S.PLAN_MENU, S.PLAN_VALUE, S.PLAN_AREA, S.PLAN_TARGET, S.PLAN_STATUS, S.PLAN_PERIOD)
PLAN_ACTION = ButtonId("plan")  # plan:<one of PLAN_ACTIONS>
AREA = ButtonId("area")  # area:<one of AREAS>
TARGET = OptionId("target", ("none",))  # target:none (no target date)
PERIOD_STATUS = ButtonId("pstatus")  # pstatus:<membership status id>
MAX_OBJECTIVES = 50


PLAN_ACTIONS: dict[str, str] = {
    "role": "Set role",
    "resp_add": "Add responsibility",
    "resp_remove": "Remove responsibility",
    "objective": "Add objective",
    "obj_done": "Objective done",
    "obj_remove": "Remove objective",
    "link": "Link entry",
    "tag": "Tag entry",
    "period": "Leave or exemption",
    "gap": "Explain a gap",
    "done": "Done",
}


PLAN_WORDS = {
    "role": "role",
    "responsibility": "resp_add",
    "add responsibility": "resp_add",
    "objective": "objective",
    "add objective": "objective",
    "done objective": "obj_done",
    "objective done": "obj_done",
    "link": "link",
    "tag": "tag",
    "tags": "tag",
    "leave": "period",
    "exemption": "period",
    "period": "period",
    "gap": "gap",
    "finished": "done",
    "stop": "done",
}


def _plan(conv: Conv, args: str, ctx: Context) -> Step:
    """/plan: the plan and its menu; /plan link|unlink|tag|done|role …: one change at once."""
    if ctx.snap.plan is None:
        return stay(conv, ctx, "I couldn't load your plan just now; please try again.")
    word, _, rest = args.strip().partition(" ")
    word, rest = word.lower(), rest.strip()
    if not word:
        nxt = Conv(S.PLAN_MENU, Data(undo=conv.data.undo))
        return Step(nxt, (_plan_prompt(nxt, ctx),))
    if word in ("link", "unlink"):
        found = link_change(rest, ctx, link=word == "link")
    elif word in ("tag", "tags"):
        found = tag_change(rest, ctx)
    elif word == "done":
        found = objective_change("obj_done", rest, ctx)
    elif word == "role":
        found = role_change(rest) if rest else "Type your role after /plan role."
    else:
        tag = "/plan tag 12 A C (UK-SPEC), " if ctx.scheme.competences == "uk_spec" else ""
        found = (
            "Use /plan on its own to see and change your plan, or in one line: "
            "/plan link 12 3 (entry #12 serves objective O3), /plan unlink 12 3, "
            f"{tag}/plan done 3 (O3 achieved), /plan role <your role>."
        )
    if isinstance(found, str):
        return stay(conv, ctx, found)
    said, effect = found
    return with_effects(conv, ctx, said, (effect,))


def _plan_actions(plan: Plan, scheme: Scheme) -> list[str]:
    shown = ["role", "resp_add"]
    if plan.responsibilities:
        shown.append("resp_remove")
    shown.append("objective")
    if any(o.status == "open" for o in plan.objectives):
        shown.append("obj_done")
    if plan.objectives:
        shown += ["obj_remove", "link"]
    if scheme.competences is not None:  # competence tags (UK-SPEC: IET, IPEM)
        shown.append("tag")
    if len(scheme.statuses) > 1:
        shown.append("period")
    return [*shown, "gap", "done"]


def _plan_menu_prompt(ctx: Context, plan: Plan, text: str) -> Outgoing:
    choices = tuple(
        Choice(PLAN_ACTION.make(k), PLAN_ACTIONS[k]) for k in _plan_actions(plan, ctx.scheme)
    )
    return Outgoing(text, choices)


def _plan_prompt(conv: Conv, ctx: Context) -> Outgoing:
    state, plan = conv.state, plan_of(ctx)
    draft = conv.data.plan or PlanDraft()
    if state == S.PLAN_MENU:
        text = plan_text(plan, ctx.snap.periods, ctx) + "\nWhat would you like to change?"
        return _plan_menu_prompt(ctx, plan, text)
    if state == S.PLAN_AREA:
        return Outgoing(
            f"Which area is '{draft.title}' in?",
            tuple(Choice(AREA.make(k), v) for k, v in AREAS.items()),
        )
    if state == S.PLAN_TARGET:
        return Outgoing(
            f"By when do you aim to achieve '{draft.title}'? (e.g. 31 March, 30/6/2027)",
            (Choice(TARGET.make("none"), "No target date"),),
        )
    if state == S.PLAN_STATUS:
        return Outgoing(
            "Which status applies for part of the year? Your target is then worked out pro "
            "rata, day by day.",
            tuple(
                Choice(PERIOD_STATUS.make(s.id), status_label(s.id, ctx))
                for s in other_statuses(ctx)
            ),
        )
    if state == S.PLAN_PERIOD:
        label = ctx.scheme.status(draft.status or "").label
        return say(
            f"From when to when ({label})? e.g. '1 March to 31 August', "
            "'1/3/2026 - 31/8/2026'. Both days are included."
        )
    return plan_value_prompt(conv.data.field or "", plan, ctx)


def _plan_menu(conv: Conv, event: Incoming, ctx: Context) -> Step:
    if event.kind == Kind.CHOICE:
        picked = PLAN_ACTION.parse(event.choice)
        if picked is None:
            return stale(conv, ctx)
        key = picked
    else:
        typed = norm(event.text)
        by_label = {norm(v): k for k, v in PLAN_ACTIONS.items()}
        key = by_label.get(typed) or PLAN_WORDS.get(typed) or typed
    plan = plan_of(ctx)
    if key == "done":
        return Step(Conv(S.IDLE, Data(undo=conv.data.undo)), (say("Plan saved."),))
    if key not in _plan_actions(plan, ctx.scheme):
        if event.kind == Kind.CHOICE and key in PLAN_ACTIONS:
            return stale(conv, ctx)
        return stay(conv, ctx, "Please pick what to change, or Done.")
    if key == "period":
        nxt = Conv(S.PLAN_STATUS, replace_data(conv.data, plan=PlanDraft()))
        return Step(nxt, (prompt(nxt, ctx),))
    if key == "objective":
        if len(plan.objectives) >= MAX_OBJECTIVES:
            return stay(conv, ctx, f"You have {MAX_OBJECTIVES} objectives; remove one first.")
        key = "obj_title"
    if key == "resp_add" and len(plan.responsibilities) >= MAX_RESPONSIBILITIES:
        return stay(conv, ctx, f"You have {MAX_RESPONSIBILITIES} responsibilities; remove one.")
    nxt = Conv(S.PLAN_VALUE, replace_data(conv.data, field=key, plan=None))
    return Step(nxt, (prompt(nxt, ctx),))


def _plan_done(
    conv: Conv, ctx: Context, said: str, effects: tuple[Effect, ...], plan: Plan
) -> Step:
    """A change made: say so, and offer the menu again (built from the plan as it is now)."""
    nxt = Conv(S.PLAN_MENU, replace_data(conv.data, field=None, plan=None))
    return Step(
        nxt,
        (say(said), _plan_menu_prompt(ctx, plan, "Anything else in your plan? (Done to finish)")),
        effects,
    )


def _plan_value(conv: Conv, event: Incoming, ctx: Context) -> Step:
    key = conv.data.field or ""
    value = _plan_answer(event, key)
    if value is None:
        return stale(conv, ctx)
    if not value:
        return stay(conv, ctx, "Please type an answer, or /cancel.")
    if key == "obj_title":
        error = objective_title_error(value)
        if error:
            return stay(conv, ctx, error)
        nxt = Conv(S.PLAN_AREA, replace_data(conv.data, field=None, plan=PlanDraft(title=value)))
        return Step(nxt, (prompt(nxt, ctx),))
    if key == "resp_add":
        return _add_responsibilities(conv, value, ctx)
    if key not in _CHANGES:  # a field from an older version: back to the menu
        menu = Conv(S.PLAN_MENU, replace_data(conv.data, field=None))
        return Step(menu, (prompt(menu, ctx),))
    found = _plan_change(key, value, event, ctx)
    if found is None:
        return stale(conv, ctx)
    if isinstance(found, str):
        return stay(conv, ctx, found)
    said, effect = found
    return _plan_done(conv, ctx, said, (effect,), plan_after(plan_of(ctx), effect))


_CHANGES = ("role", "resp_remove", "obj_done", "obj_remove", "link", "tag", "gap")


def _plan_answer(event: Incoming, key: str) -> str | None:
    """The value typed or pressed for `key`; None for a button that is not its answer."""
    if event.kind != Kind.CHOICE:
        return " ".join(event.text.split())
    value = PLAN_VALUE.parse(event.choice)
    if value is None:
        return None
    numbered = key in ("resp_remove", "obj_done", "obj_remove") and value.isdigit()
    return value if numbered or (key == "role" and value == "clear") else None


def _plan_change(
    key: str, value: str, event: Incoming, ctx: Context
) -> tuple[str, Effect] | str | None:
    """The change an answer makes to the plan, or what is wrong (None: a stale button)."""
    if key == "role":
        return role_change("" if event.choice == PLAN_VALUE.make("clear") else value)
    if key == "resp_remove":
        plan = plan_of(ctx)
        number = entry_number(value)
        if number is None or not 1 <= number <= len(plan.responsibilities):
            if event.kind == Kind.CHOICE:
                return None
            return f"Type a number from 1 to {len(plan.responsibilities)}."
        text = plan.responsibilities[number - 1]
        return f"Removed '{text}'.", RemoveResponsibility(number)
    if key in ("obj_done", "obj_remove"):
        return objective_change(key, value, ctx)
    if key == "link":
        return link_change(value, ctx, link=True)
    if key == "tag":
        return tag_change(value, ctx)
    return gap_change(value, ctx)


def _add_responsibilities(conv: Conv, value: str, ctx: Context) -> Step:
    plan = plan_of(ctx)
    items = [tidy(part) for part in value.split(";")]
    items = [i for i in items if i]
    if not items:
        return stay(conv, ctx, "Please type a responsibility, e.g. 'Ethical behaviour'.")
    if any(len(i) > RESPONSIBILITY_MAX for i in items):
        return stay(conv, ctx, f"Please keep each under {RESPONSIBILITY_MAX} characters.")
    known = {norm(r) for r in plan.responsibilities}
    new = list(dict.fromkeys(i for i in items if norm(i) not in known))
    if not new:
        return stay(conv, ctx, "That is already one of your key responsibilities.")
    if len(plan.responsibilities) + len(new) > MAX_RESPONSIBILITIES:
        return stay(
            conv,
            ctx,
            f"That would make {len(plan.responsibilities) + len(new)}; I keep up to "
            f"{MAX_RESPONSIBILITIES}.",
        )
    effects = tuple(AddResponsibility(i) for i in new)
    after = replace(plan, responsibilities=plan.responsibilities + tuple(new))
    n = len(after.responsibilities)
    said = f"Added: {'; '.join(new)}. You have {n} key responsibilit{'y' if n == 1 else 'ies'}."
    checks = ctx.scheme.checks
    if checks.responsibilities is not None:
        low, high = checks.responsibilities
        if n < low:
            said += f" {ctx.scheme.name} asks for {low}–{high}."
    return _plan_done(conv, ctx, said, effects, after)


def _plan_area(conv: Conv, event: Incoming, ctx: Context) -> Step:
    if event.kind == Kind.CHOICE:
        area: str | None = AREA.parse(event.choice)
        if area is None or area not in AREAS:
            return stale(conv, ctx)
    else:
        area = parse_area(event.text)
    if area is None:
        return stay(conv, ctx, f"Please pick an area: {', '.join(AREAS.values())}.")
    draft = (conv.data.plan or PlanDraft()).model_copy(update={"area": area})
    nxt = Conv(S.PLAN_TARGET, replace_data(conv.data, plan=draft))
    return Step(nxt, (prompt(nxt, ctx),))


def _plan_target(conv: Conv, event: Incoming, ctx: Context) -> Step:
    draft = conv.data.plan or PlanDraft()
    if not draft.title or not draft.area:
        return Step(Conv(S.PLAN_MENU, replace_data(conv.data, plan=None)), ())
    target: date | None
    if event.kind == Kind.CHOICE:
        if TARGET.parse(event.choice) is None:
            return stale(conv, ctx)
        target = None
    elif norm(event.text) in ("none", "no", "skip", "no target", "no target date", "-"):
        target = None
    else:
        text = event.text.strip()
        target = future_date(text, ctx)
        if target is None:
            return stay(
                conv, ctx, f"I couldn't read '{clip(text)}' as a date. Try '31 March 2027'."
            )
        if target < ctx.today:
            return stay(conv, ctx, f"{fmt.day(target)} has passed. Pick a day ahead, or None.")
        if target > ctx.today + timedelta(days=366 * PERIOD_YEARS):
            return stay(conv, ctx, f"Pick a target within {PERIOD_YEARS} years.")
    plan = plan_of(ctx)
    number = max((o.number for o in plan.objectives), default=0) + 1
    view = ObjectiveView(number, tidy(draft.title), draft.area, target)
    by = f", by {fmt.short_day(target)}" if target else ""
    said = (
        f"Added O{number} '{view.title}' ({view.area_label}{by}). "
        f"/plan link 12 {number} links entry #12 to it."
    )
    after = replace(plan, objectives=(*plan.objectives, view))
    return _plan_done(conv, ctx, said, (AddObjective(view.title, view.area, target),), after)


def _plan_status(conv: Conv, event: Incoming, ctx: Context) -> Step:
    statuses = other_statuses(ctx)
    if event.kind == Kind.CHOICE:
        picked = PERIOD_STATUS.parse(event.choice)
        if picked is None:
            return stale(conv, ctx)
        value = picked
    else:
        value = event.text
    wanted = norm(value.replace("_", " "))
    status = next(
        (
            s
            for s in statuses
            if wanted in (norm(s.id.replace("_", " ")), norm(s.label))
            or (len(wanted) >= 4 and norm(s.label).startswith(wanted))
        ),
        None,
    )
    if status is None:
        if event.kind == Kind.CHOICE:
            return stale(conv, ctx)
        return stay(conv, ctx, "Please pick one of the statuses.")
    nxt = Conv(S.PLAN_PERIOD, replace_data(conv.data, plan=PlanDraft(status=status.id)))
    return Step(nxt, (prompt(nxt, ctx),))


def _plan_period(conv: Conv, event: Incoming, ctx: Context) -> Step:
    from bot.core.assess import targets
    from bot.core.assessment import Year

    status_id = (conv.data.plan or PlanDraft()).status
    if event.kind != Kind.TEXT:
        return stale(conv, ctx)
    if not status_id or ctx.scheme.status(status_id).id != status_id:
        return stay(conv, ctx, "Please pick the status again: /plan, then Leave or exemption.")
    found = date_range(event.text, ctx)
    if isinstance(found, str):
        return stay(conv, ctx, found)
    start, end = found
    period = StatusPeriod(status_id, start, end)
    periods = (*ctx.snap.periods, period)
    scheme = ctx.scheme
    label = scheme.status(status_id).label
    said = f"Noted: {label} from {fmt.short_day(start)} to {fmt.short_day(end)}."
    year_start, year_end = scheme.year_bounds(ctx.today, ctx.person.year_start)
    target, full = targets(Year(ctx.person, scheme, year_start, year_end), periods)
    if full is not None and target is not None:
        now = fmt.hours(target) if target else "no hours"
        said += (
            f" Your target for CPD year {scheme.year_label(year_start)} is now {now}"
            f" (pro rata; {fmt.hours(full)} for a whole year)."
        )
    return _plan_done(conv, ctx, said, (AddStatusPeriod(status_id, start, end),), plan_of(ctx))


def _doing(conv: Conv) -> str:
    return "changing your plan"


def _cancel(conv: Conv, ctx: Context) -> str:
    return "Stopped changing your plan. Changes already confirmed are kept."


def _needs(conv: Conv, event: Incoming, need: Needs) -> Needs:
    """The plan is shown again after any answer; linking and tagging read the entry."""
    need = replace(need, plan=True)
    if conv.data.field in ("link", "tag") and event.kind == Kind.TEXT:
        need = replace(need, entry_number=leading_number(event.text))
    return need


def _command_needs(args: str) -> Needs:
    word, _, rest = args.strip().partition(" ")
    number = leading_number(rest) if word.lower() in ("link", "unlink", "tag") else None
    return Needs(plan=True, entry_number=number)


FLOW = Flow(
    name="plan",
    states=PLAN_STATES,
    commands=(
        Command(
            "plan",
            _plan,
            needs=_command_needs,
            help="/plan — your role, key responsibilities, development objectives, leave or "
            "exemptions\n  and explained gaps (/plan link 12 3 links entry #12 to objective O3)",
            help_rank=80,
            summary="Your development plan and objectives",
            menu_rank=80,
            busy=True,
            slashless=True,
            bare_only=True,
        ),
    ),
    transitions=(
        (S.IDLE, "/plan", S.PLAN_MENU),
        (S.PLAN_MENU, "role, responsibility, objective, link, tag or gap chosen", S.PLAN_VALUE),
        (S.PLAN_MENU, "leave or exemption chosen", S.PLAN_STATUS),
        (S.PLAN_MENU, "done", S.IDLE),
        (S.PLAN_VALUE, "valid value: plan updated", S.PLAN_MENU),
        (S.PLAN_VALUE, "objective title", S.PLAN_AREA),
        (S.PLAN_AREA, "area chosen", S.PLAN_TARGET),
        (S.PLAN_TARGET, "target date or none: objective added", S.PLAN_MENU),
        (S.PLAN_STATUS, "status chosen", S.PLAN_PERIOD),
        (S.PLAN_PERIOD, "from and to dates: period added", S.PLAN_MENU),
    ),
    handlers={
        S.PLAN_MENU: _plan_menu,
        S.PLAN_VALUE: _plan_value,
        S.PLAN_AREA: _plan_area,
        S.PLAN_TARGET: _plan_target,
        S.PLAN_STATUS: _plan_status,
        S.PLAN_PERIOD: _plan_period,
    },
    prompt=_plan_prompt,
    doing=_doing,
    cancel=_cancel,
    needs=_needs,
)

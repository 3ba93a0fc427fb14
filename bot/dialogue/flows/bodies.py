"""Several bodies, one record (issue 16): `/settings bodies IPEM IET` (or "Other bodies" in
the /settings menu) sets the bodies a member follows besides their primary one, and
`/bodies` shows them and asks, one entry at a time, the category an entry has in a body
where its primary category cannot be mapped ("For IET, is this … or …?" buttons)."""

from __future__ import annotations

import difflib
from dataclasses import replace
from datetime import timedelta

from bot.core import text as fmt
from bot.core.buttons import command_button
from bot.core.model import Choice, FileCategory, Incoming, Outgoing, SetBodies
from bot.core.schemes import Scheme
from bot.core.snapshot import BodyView, Needs, Unfiled
from bot.dialogue.common import clip, norm, say, stay, with_effects
from bot.dialogue.conversation import Context, Conv, Data, State, Step, replace_data
from bot.dialogue.flow import Command, Flow, prompt
from bot.dialogue.flows.settings_record import VALUE

BODIES_MAX = 3  # other bodies besides the primary one
_NONE = frozenset({"none", "no", "clear", "remove", "-"})
_USAGE = "e.g. /settings bodies IET IES, or /settings bodies none"


def body_named(ctx: Context, text: str) -> Scheme | None:
    """The scheme a person typed: its id, name, body, or one part of an 'A / B' name."""
    wanted = norm(text)
    for scheme in ctx.schemes.values():
        names = {norm(scheme.id), norm(scheme.name), norm(scheme.body)}
        if wanted in names or any(norm(part) == wanted for part in scheme.name.split("/")):
            return scheme
    return None


def _suggestion(ctx: Context, text: str) -> str:
    names = {s.name.split("/")[0].strip(): s for s in ctx.schemes.values()}
    close = difflib.get_close_matches(text.upper(), list(names), n=1, cutoff=0.5)
    return f" Did you mean {close[0]}?" if close else ""


def _names(ids: tuple[str, ...] | list[str], ctx: Context) -> str:
    return ", ".join(ctx.schemes[i].name for i in ids if i in ctx.schemes)


def current_line(ctx: Context) -> str:
    """'Other bodies: IET' for the settings menu."""
    ids = [b.scheme_id for b in ctx.snap.bodies]
    return f"Other bodies: {_names(ids, ctx) or 'none'}"


def set_bodies(value: str, ctx: Context) -> tuple[SetBodies, str] | str:
    """The effect and the reply for the bodies typed (`IPEM IET`), or why not."""
    words = value.replace(",", " ").split()
    if not words:
        return f"Which other bodies do you follow? {_USAGE}."
    if len(words) == 1 and words[0].lower() in _NONE:
        return SetBodies(()), f"You now follow only {ctx.scheme.name}."
    picked: list[str] = []
    notes: list[str] = []
    for word in words:
        scheme = body_named(ctx, word)
        if scheme is None:
            return f"I don't know the body '{clip(word)}'.{_suggestion(ctx, word)} {_USAGE}."
        if scheme.id == ctx.scheme.id:
            notes.append(f"{scheme.name} is already your main body (/settings body changes it).")
        elif scheme.id in picked:
            notes.append(f"{scheme.name} was listed twice; once is enough.")
        else:
            picked.append(scheme.id)
    if len(picked) > BODIES_MAX:
        main = ctx.scheme.name
        return f"I follow up to {BODIES_MAX} bodies besides {main}; you listed {len(picked)}."
    if not picked:
        return " ".join(notes) + f" Nothing changed. {_USAGE}."
    said = (
        f"You now follow {ctx.scheme.name} (main) and {_names(picked, ctx)}. Each entry is "
        "logged once and filed in each body's categories; /status shows them side by side."
    )
    return SetBodies(tuple(picked)), " ".join([*notes, said])


def value_prompt(ctx: Context) -> Outgoing:
    """The settings menu's question for "Other bodies"."""
    return Outgoing(
        f"{current_line(ctx)}. Which bodies do you follow besides {ctx.scheme.name}? "
        f"Type them ({_USAGE}).",
        (Choice(VALUE.make("none"), "None"),),
    )


def question(scheme: Scheme, unfiled: Unfiled) -> Outgoing:
    """'For IET, is #12 'Title' Training courses or Events and seminars?'"""
    labels = [c.label for i in unfiled.choices if (c := scheme.category(i))]
    ask = " or ".join([", ".join(labels[:-1]), labels[-1]] if len(labels) > 1 else labels)
    return Outgoing(
        f"For {scheme.name}, is #{unfiled.number} '{clip(unfiled.title, 60)}' {ask}?",
        tuple(
            Choice(command_button("bodies", f"file {unfiled.number} {scheme.id} {i}"), c.label)
            for i in unfiled.choices
            if (c := scheme.category(i))
        ),
    )


def _next(ctx: Context, skip: tuple[int, str] | None = None) -> Outgoing | None:
    for body in ctx.snap.bodies:
        for unfiled in body.unfiled:
            if (unfiled.number, body.scheme_id) != skip:
                return question(ctx.schemes[body.scheme_id], unfiled)
    return None


def _file(conv: Conv, args: list[str], ctx: Context) -> Step:
    body = next((b for b in ctx.snap.bodies if len(args) == 3 and b.scheme_id == args[1]), None)
    if body is None or not args[0].isdigit():
        return Step(conv, (say("That question is out of date; /bodies asks again."),))
    number, scheme = int(args[0]), ctx.schemes[body.scheme_id]
    category = scheme.category(args[2])
    if category is None:
        return Step(conv, (say(f"{scheme.name} has no such category; /bodies asks again."),))
    said = say(f"Filed #{number} under {category.label} for {scheme.name}.")
    effect = FileCategory(number, scheme.id, category.id)
    following = _next(ctx, skip=(number, scheme.id))
    return Step(conv, (said, following) if following else (said,), (effect,))


def _bodies(conv: Conv, args: str, ctx: Context) -> Step:
    words = args.split()
    if words and words[0].lower() == "file":
        return _file(conv, words[1:], ctx)
    if not ctx.snap.bodies:
        return Step(
            conv,
            (say(f"You follow only {ctx.scheme.name}. Add others with /settings bodies IET."),),
        )
    others = _names([b.scheme_id for b in ctx.snap.bodies], ctx)
    lines = [f"You follow {ctx.scheme.name} (main) and {others}."]
    for body in ctx.snap.bodies:
        name = ctx.schemes[body.scheme_id].name
        count = len(body.unfiled)
        lines.append(
            f"{name}: {count} entr{'y' if count == 1 else 'ies'} to file this CPD year."
            if count
            else f"{name}: every entry this CPD year is filed."
        )
    first = _next(ctx)
    return Step(conv, (say("\n".join(lines)), first) if first else (say("\n".join(lines)),))


def _needs(args: str) -> Needs:
    return Needs(bodies=True, standing=True)


FLOW = Flow(
    name="bodies",
    commands=(
        Command(
            "bodies",
            _bodies,
            needs=_needs,
            help="/bodies — the other bodies you follow (/settings bodies IET), and entries to "
            "file in their categories",
            help_rank=155,
            slashless=True,
            bare_only=True,
        ),
    ),
)


# ---------------------------------------------------------------- in /settings


def one_line_step(conv: Conv, args: str, ctx: Context) -> Step | None:
    """`/settings bodies IPEM IET` saves them; `/settings bodies` asks; None for anything
    else."""
    word, _, rest = args.strip().partition(" ")
    if word.lower() == "other":
        word, _, rest = rest.strip().partition(" ")
    if word.lower() not in ("bodies", "schemes"):
        return None
    if not rest.strip():
        nxt = Conv(State.SETTINGS_VALUE, Data(undo=conv.data.undo, field="bodies"))
        return Step(nxt, (prompt(nxt, ctx),))
    saved = set_bodies(rest, ctx)
    if isinstance(saved, str):
        return stay(conv, ctx, saved)
    return with_effects(conv, ctx, saved[1], (saved[0],))


def value_step(conv: Conv, value: str, ctx: Context) -> Step:
    """The bodies typed at the settings menu's question: saved, back to the menu."""
    saved = set_bodies(value, ctx)
    if isinstance(saved, str):
        return stay(conv, ctx, saved)
    effect, said = saved
    kept = {b.scheme_id: b for b in ctx.snap.bodies}
    now = tuple(kept.get(i) or BodyView(i) for i in effect.scheme_ids)
    ctx = replace(ctx, snap=replace(ctx.snap, bodies=now))
    nxt = Conv(State.SETTINGS_MENU, replace_data(conv.data, field=None))
    return Step(nxt, (say(said), prompt(nxt, ctx)), (effect,))


def settings_needs(args: str) -> Needs:
    return Needs(bodies=True)


def flow_needs(conv: Conv, event: Incoming, need: Needs) -> Needs:
    return need if need.bodies else replace(need, bodies=True)


# ---------------------------------------------------------------- in /status


def status_lines(ctx: Context) -> list[str]:
    """Each other body's standing in its own CPD year, after the primary's (/status)."""
    lines: list[str] = []
    for body in ctx.snap.bodies:
        scheme = ctx.schemes.get(body.scheme_id)
        summary, assessment = body.summary, body.assessment
        if scheme is None or summary is None or assessment is None:
            continue
        status = scheme.status(body.status_id)
        total, target = assessment.total_minutes, assessment.target_minutes
        head = (
            f"{scheme.name}, CPD year {scheme.year_label(summary.start)} "
            f"({fmt.day(summary.start)} to {fmt.day(summary.end - timedelta(days=1))}, "
            f"{status.label}): {fmt.hours(total)}"
        )
        head += f" of {fmt.hours(target)} ({total / target:.0%})." if target else " (no target)."
        lines += ["", head]
        for category in scheme.categories:
            minutes = summary.minutes_by_category.get(category.id)
            if minutes:
                lines.append(f"  {category.label}: {fmt.hours(minutes)}")
        if body.unfiled:
            count = len(body.unfiled)
            lines.append(
                f"  Not yet filed: {count} entr{'y' if count == 1 else 'ies'} "
                f"({fmt.hours(summary.minutes_by_category.get('', 0))}) — /bodies files them."
            )
        outstanding = len(assessment.outstanding)
        lines.append(
            f"{scheme.name} requirements: "
            + ("all met or not applicable." if not outstanding else f"{outstanding} not yet met.")
        )
        lines += [clip(line, 300) for line in assessment.lines()]
    return lines

"""Several bodies, one record (issue 16): `/settings bodies IPEM IET` (or "Other bodies" in
the /settings menu) sets the bodies a member follows besides their primary one, and
`/bodies` shows them and asks, one entry at a time, the category an entry has in a body
where its primary category cannot be mapped ("For IET, is this … or …?" buttons)."""

from __future__ import annotations

import difflib
import re
from dataclasses import replace
from datetime import timedelta

from bot.core import text as fmt
from bot.core.buttons import command_button
from bot.core.model import Choice, FileCategory, Incoming, Kind, Outgoing, SetBodies
from bot.core.schemes import Category, Scheme
from bot.core.snapshot import BodyView, Needs, Unfiled
from bot.dialogue.common import clip, norm, say, stay, with_effects
from bot.dialogue.conversation import Context, Conv, Data, State, Step, replace_data
from bot.dialogue.flow import Command, Flow, prompt
from bot.dialogue.flows.log import quick_of
from bot.dialogue.flows.settings_record import VALUE

BODIES_MAX = 3  # other bodies besides the primary one
_NONE = frozenset({"none", "no", "clear", "remove", "-"})
_USAGE = "e.g. /settings bodies IET IES, or /settings bodies none"
# 'settings bodies' (or 'settings other bodies', 'bodies') typed before the answer itself
_ANSWER_HEAD = re.compile(r"^\s*/?(?:settings\s+)?(?:other\s+)?(?:bodies|schemes)\b:?", re.I)


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
    """The effect and the reply for the bodies typed (`IPEM IET`), or why not. The list is
    the whole set followed: the main body may be in it (`/settings bodies IPEM` alone
    means IPEM only), and a body followed but not listed is no longer followed."""
    words = value.replace(",", " ").split()
    if not words:
        return f"Which other bodies do you follow? {_USAGE}."
    if len(words) == 1 and words[0].lower() in _NONE:
        return SetBodies(()), f"You now follow only {ctx.scheme.name}.{_removed(ctx, ())}"
    picked: list[str] = []
    notes: list[str] = []
    for word in words:
        scheme = body_named(ctx, word)
        if scheme is None:
            return f"I don't know the body '{clip(word)}'.{_suggestion(ctx, word)} {_USAGE}."
        if scheme.id in picked:
            notes.append(f"{scheme.name} was listed twice; once is enough.")
        elif scheme.id != ctx.scheme.id:
            picked.append(scheme.id)
    if len(picked) > BODIES_MAX:
        main = ctx.scheme.name
        return f"I follow up to {BODIES_MAX} bodies besides {main}; you listed {len(picked)}."
    if not picked:
        said = f"You now follow only {ctx.scheme.name} (your main body)."
        return SetBodies(()), " ".join([*notes, said + _removed(ctx, ())])
    said = (
        f"You now follow {ctx.scheme.name} (main) and {_names(picked, ctx)}. Each entry is "
        "logged once and filed in each body's categories; /status shows them side by side."
    )
    return SetBodies(tuple(picked)), " ".join([*notes, said + _removed(ctx, picked)])


def _removed(ctx: Context, kept: tuple[str, ...] | list[str]) -> str:
    """' IET is no longer followed: …' for the bodies followed until now and not kept."""
    gone = [b.scheme_id for b in ctx.snap.bodies if b.scheme_id not in kept]
    if not gone:
        return ""
    names = _names(gone, ctx)
    verb = "is" if len(gone) == 1 else "are"
    return (
        f" {names} {verb} no longer followed: the categories you chose for entries there "
        "are erased; the entries themselves stay."
    )


def value_prompt(ctx: Context) -> Outgoing:
    """The settings menu's question for "Other bodies"."""
    return Outgoing(
        f"{current_line(ctx)}. Which bodies do you follow besides {ctx.scheme.name}? "
        f"Type them ({_USAGE}).",
        (Choice(VALUE.make("none"), "None"),),
    )


def question(scheme: Scheme, unfiled: Unfiled) -> Outgoing:
    """'For IET, is #12 'Title' Training courses or Events and seminars?', a button for each,
    one for all of the body's categories and one to leave it for later (or type one)."""
    labels = [c.label for i in unfiled.choices if (c := scheme.category(i))]
    ask = " or ".join([", ".join(labels[:-1]), labels[-1]] if len(labels) > 1 else labels)
    choices = [
        Choice(_filing(unfiled.number, scheme, i), c.label)
        for i in unfiled.choices
        if (c := scheme.category(i))
    ]
    if len(choices) < len(scheme.categories):
        button = command_button("bodies", f"all {unfiled.number} {scheme.id}")
        choices.append(Choice(button, f"Another {_short(scheme)} category"))
    choices.append(Choice(command_button("bodies", "later"), "Later"))
    return Outgoing(
        f"For {scheme.name}, is #{unfiled.number} '{clip(unfiled.title, 60)}' {ask}?",
        tuple(choices),
    )


def _filing(number: int, scheme: Scheme, category: str) -> str:
    return command_button("bodies", f"file {number} {scheme.id} {category}")


def _short(scheme: Scheme) -> str:
    """'IPEM' for 'IPEM / HCPC'."""
    return scheme.name.split("/")[0].strip()


def asking(conv: Conv, scheme_id: str, number: int) -> Conv:
    """Idle, the next message typed answers "For IET, is #12 …?" (see `typed_answer`)."""
    if conv.state != State.IDLE:
        return conv
    return Conv(conv.state, replace_data(conv.data, filing=f"{number} {scheme_id}"))


def unasked(conv: Conv) -> Conv:
    """The question is answered by the next message only: forgotten after it."""
    if conv.data.filing is None:
        return conv
    return Conv(conv.state, replace_data(conv.data, filing=None))


def _asked(conv: Conv, ctx: Context) -> tuple[int, Scheme] | None:
    number, _, scheme_id = (conv.data.filing or "").partition(" ")
    scheme = ctx.schemes.get(scheme_id)
    if conv.state != State.IDLE or not number.isdigit() or scheme is None:
        return None
    return int(number), scheme


def _next(ctx: Context, conv: Conv, skip: tuple[int, str] | None = None) -> Step:
    """The next question (`conv` remembering it), or `conv` when none is left."""
    for body in ctx.snap.bodies:
        for unfiled in body.unfiled:
            if (unfiled.number, body.scheme_id) != skip:
                asked = question(ctx.schemes[body.scheme_id], unfiled)
                return Step(asking(conv, body.scheme_id, unfiled.number), (asked,))
    return Step(conv)


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
    following = _next(ctx, conv, skip=(number, scheme.id))
    return Step(following.conv, (said, *following.replies), (effect,))


def _all(conv: Conv, args: list[str], ctx: Context) -> Step:
    """ "Another IET category": all of the body's categories, on buttons."""
    scheme = ctx.schemes.get(args[1]) if len(args) == 2 else None
    if scheme is None or not args[0].isdigit():
        return Step(conv, (say("That question is out of date; /bodies asks again."),))
    number = int(args[0])
    choices = tuple(Choice(_filing(number, scheme, c.id), c.label) for c in scheme.categories)
    later = Choice(command_button("bodies", "later"), "Later")
    text = f"Which {scheme.name} category is #{number}? (Or type one.)"
    return Step(asking(conv, scheme.id, number), (Outgoing(text, (*choices, later)),))


def _later(conv: Conv) -> Step:
    return Step(unasked(conv), (say("Left for later: /bodies asks again."),))


def _bodies(conv: Conv, args: str, ctx: Context) -> Step:
    words = args.split()
    action = words[0].lower() if words else ""
    if action == "file":
        return _file(conv, words[1:], ctx)
    if action == "all":
        return _all(conv, words[1:], ctx)
    if action == "later":
        return _later(conv)
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
    first = _next(ctx, conv)
    return Step(first.conv, (say("\n".join(lines)), *first.replies))


# ---------------------------------------------------------------- a typed answer


def typed_answer(conv: Conv, event: Incoming, ctx: Context, command: str) -> Step | None:
    """The message just after "For IET, is #12 …?": a category of that body typed ('Work
    experience', 'events') files it; one close to a category asks "Did you mean …?"; 'later'
    leaves it; a log line or a sentence goes on as usual (None); anything else asks again."""
    asked = _asked(conv, ctx)
    if asked is None or command or event.kind != Kind.TEXT:
        return None
    number, scheme = asked
    typed = _key(event.text)
    if typed in _LATER:
        return _later(conv)
    found = _category_typed(scheme, typed)
    if found is not None:
        return _file(unasked(conv), [str(number), scheme.id, found.id], ctx)
    quick = quick_of(event.text, ctx)
    if (quick.minutes is not None and quick.title) or len(typed.split()) > _ANSWER_WORDS:
        return None  # a log line, or a sentence (a late reflection?): the person moved on
    keys = {_key(c.label): c for c in scheme.categories}
    close = difflib.get_close_matches(typed, list(keys), n=1, cutoff=0.7)
    another = command_button("bodies", f"all {number} {scheme.id}")
    later = Choice(command_button("bodies", "later"), "Later")
    picks: tuple[Choice, ...] = ()
    if close:
        meant = keys[close[0]]
        text = f"Did you mean {meant.label} (for {scheme.name}, #{number})?"
        picks = (Choice(_filing(number, scheme, meant.id), meant.label),)
    else:
        text = f"'{clip(event.text.strip(), 40)}' is not one of {scheme.name}'s categories."
    choices = (*picks, Choice(another, f"Another {_short(scheme)} category"), later)
    return Step(conv, (Outgoing(text, choices),))


_LATER = frozenset({"later", "not now", "skip", "leave it"})
_ANSWER_WORDS = 3  # longer, a message is not taken for a category (none is longer)


def _key(text: str) -> str:
    """'Self-study' and 'self study ' alike."""
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def _category_typed(scheme: Scheme, typed: str) -> Category | None:
    """The category `typed` names: its label or id, or the one label starting with it
    or with a word starting with it ('events' for Events and seminars)."""
    if not typed:
        return None
    for category in scheme.categories:
        if typed in (_key(category.label), _key(category.id)):
            return category
    starts = [
        c
        for c in scheme.categories
        if _key(c.label).startswith(typed)
        or any(w.startswith(typed) for w in _key(c.label).split())
    ]
    return starts[0] if len(starts) == 1 else None


def answer_needs(conv: Conv, event: Incoming, need: Needs) -> Needs:
    """A message that may answer "For IET, is #12 …?": the bodies, to ask the next one."""
    if conv.data.filing is None or conv.state != State.IDLE or event.kind != Kind.TEXT:
        return need
    return replace(need, bodies=True, standing=True)


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
    settings = conv.state in (State.SETTINGS_MENU, State.SETTINGS_VALUE)
    if not rest.strip():
        data = replace_data(conv.data, field="bodies") if settings else None
        nxt = Conv(State.SETTINGS_VALUE, data or Data(undo=conv.data.undo, field="bodies"))
        return Step(nxt, (prompt(nxt, ctx),))
    if settings:  # typed in the settings menu, or as the answer to "Which bodies…?"
        return value_step(conv, rest, ctx)
    saved = set_bodies(rest, ctx)
    if isinstance(saved, str):
        return stay(conv, ctx, saved)
    return with_effects(conv, ctx, saved[1], (saved[0],))


def value_step(conv: Conv, value: str, ctx: Context) -> Step:
    """The bodies typed at the settings menu's question ('IET STEP', or the whole command
    again, 'settings bodies IET STEP'): saved, back to the menu."""
    saved = set_bodies(_ANSWER_HEAD.sub("", value), ctx)
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

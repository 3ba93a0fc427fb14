"""Reflecting later: /reflect (the oldest entry with reflections pending) or /reflect N,
one question at a time; each answer is saved as it comes."""

from __future__ import annotations

from bot.core import text as fmt
from bot.core.model import Effect, Incoming, ReflectionView, UpdateEntry
from bot.core.snapshot import Needs
from bot.dialogue.common import (
    draft_copy,
    entry_number,
    no_entry,
    question_prompt,
    question_text,
    read_answer,
    say,
    stale,
    stay,
)
from bot.dialogue.conversation import Context, Conv, Data, Draft, State, Step, replace_data
from bot.dialogue.flow import Command, Flow, prompt

S = State


def _reflect(conv: Conv, args: str, ctx: Context) -> Step:
    if args.strip() and entry_number(args) is None:
        return stay(conv, ctx, "Use /reflect on its own, or /reflect 12 for entry #12.")
    entry = ctx.snap.entry if args.strip() else ctx.snap.oldest_pending
    if entry is None or entry.deleted:
        if args.strip():
            return stay(conv, ctx, no_entry(args))
        return stay(conv, ctx, "No reflections are waiting. Well done!")
    questions = [r.question_id for r in entry.pending] or [r.question_id for r in entry.reflections]
    if not questions:
        questions = [q.id for q in ctx.scheme.asked_questions()]
    draft = Draft(questions=questions)
    nxt = Conv(S.REFLECT_PENDING, Data(draft=draft, target=entry.number, undo=conv.data.undo))
    intro = say(
        f"Reflecting on #{entry.number}: {entry.title} ({fmt.day(entry.activity_date, ctx.today)})."
    )
    return Step(nxt, (intro, prompt(nxt, ctx)))


def _reflect_pending(conv: Conv, event: Incoming, ctx: Context) -> Step:
    draft = draft_copy(conv)
    number = conv.data.target
    current = next((q for q in draft.questions if q not in draft.answers), None)
    if current is None or number is None:
        return Step(Conv(S.IDLE, Data(undo=conv.data.undo)))
    kind, value = read_answer(event, ctx.scheme.question(current))
    if kind == "stale":
        return stale(conv, ctx)
    if kind == "bad":
        return stay(conv, ctx, value or "")
    if kind == "later":
        return Step(
            Conv(S.IDLE, Data(undo=conv.data.undo)),
            (say("OK, the rest can wait. /reflect picks it up again."),),
        )
    draft.answers[current] = value
    effects: tuple[Effect, ...] = ()
    if kind == "answer":
        text = question_text(ctx.scheme, current)
        effects = (UpdateEntry(number, reflections=(ReflectionView(current, text, value),)),)
    nxt = Conv(S.REFLECT_PENDING, replace_data(conv.data, draft=draft))
    if any(q not in draft.answers for q in draft.questions):
        return Step(nxt, (prompt(nxt, ctx),), effects)
    done = f"Thanks, reflections saved for #{number}."
    return Step(Conv(S.IDLE, Data(undo=conv.data.undo)), (say(done),), effects)


def _doing(conv: Conv) -> str:
    return f"reflecting on #{conv.data.target}"


def _needs(conv: Conv, event: Incoming, need: Needs) -> Needs:
    """Reflecting reads the entry reflected on, whatever the event."""
    return Needs(entry_number=conv.data.target) if conv.data.target else need


def _command_needs(args: str) -> Needs:
    number = entry_number(args)
    return Needs(entry_number=number) if number else Needs(oldest_pending=True)


FLOW = Flow(
    name="reflect",
    states=(S.REFLECT_PENDING,),
    commands=(
        Command(
            "reflect",
            _reflect,
            needs=_command_needs,
            help="/reflect — answer reflections you left for later",
            help_rank=70,
            summary="Answer reflections left for later",
            menu_rank=70,
            essential=True,
            busy=True,
            slashless=True,
        ),
    ),
    transitions=(
        (S.IDLE, "/reflect (something pending)", S.REFLECT_PENDING),
        (S.REFLECT_PENDING, "last pending answer or later", S.IDLE),
    ),
    handlers={S.REFLECT_PENDING: _reflect_pending},
    prompt=question_prompt,
    doing=_doing,
    needs=_needs,
)

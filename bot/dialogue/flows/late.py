"""A late reflection: plain text sent after an entry was saved with reflections pending is
offered to that entry ("Add this as your answer to '…' on #12 '…'? [Add it] [No]"), then
recorded as /reflect records an answer, and the next pending question is asked."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from bot.core.buttons import ActionId
from bot.core.model import Choice, EntryView, Incoming, Kind, Outgoing, ReflectionView, UpdateEntry
from bot.core.snapshot import Needs
from bot.dialogue.common import REFLECTION_MAX, question_text, say, stale
from bot.dialogue.conversation import Context, Conv, Data, Draft, State, Step, replace_data
from bot.dialogue.flow import prompt
from bot.dialogue.flows.log import quick_of

S = State

LateAction = Literal["add", "no"]
LATE: ActionId[LateAction] = ActionId("late", ("add", "no"))  # late:add:<entry> | late:no:<entry>
MIN_WORDS = 3  # fewer words are not taken for a reflection ('thanks', 'ok great')


def _candidate(conv: Conv, event: Incoming) -> int | None:
    """The entry just saved, when `event` may be a reflection on it (before loading it)."""
    undo = conv.data.undo
    if conv.state != S.IDLE or event.kind != Kind.TEXT or undo is None or undo.kind != "saved":
        return None
    words = event.text.split()
    if len(words) < MIN_WORDS or words[0].startswith("/"):
        return None
    return undo.number


def needs(conv: Conv, event: Incoming, need: Needs) -> Needs:
    """The entry just saved, for plain text typed when idle, or for an [Add it] button."""
    number = _candidate(conv, event)
    if event.kind == Kind.CHOICE:
        parsed = LATE.parse(event.choice)
        number = int(parsed[1]) if parsed and parsed[1].isdigit() else None
    if number is None or need.entry_number is not None:
        return need
    return replace(need, entry_number=number)


def _entry(ctx: Context, number: int | None) -> EntryView | None:
    """The loaded entry `number` if it still has a reflection waiting."""
    entry = ctx.snap.entry
    if entry is None or entry.number != number or entry.deleted or not entry.pending:
        return None
    return entry


def offer(conv: Conv, event: Incoming, ctx: Context) -> Step | None:
    """Plain text after a save, not a one-line entry: offered as the next reflection."""
    entry = _entry(ctx, _candidate(conv, event))
    if entry is None:
        return None
    typed = " ".join(event.text.split())
    if len(typed) > REFLECTION_MAX:
        return None
    quick = quick_of(event.text, ctx)
    if quick.minutes is not None and quick.title:
        return None  # a one-line entry: logged as one
    question = question_text(ctx.scheme, entry.pending[0].question_id)
    reply = Outgoing(
        f"Add this as your answer to '{question}' on #{entry.number} '{entry.title}'?",
        (
            Choice(LATE.make("add", entry.number), "Add it"),
            Choice(LATE.make("no", entry.number), "No"),
        ),
    )
    return Step(Conv(S.IDLE, replace_data(conv.data, late=typed)), (reply,))


def button(conv: Conv, event: Incoming, ctx: Context) -> Step:
    """[Add it]: the text kept is the answer to the first pending question; [No]: nothing."""
    parsed = LATE.parse(event.choice)
    typed = conv.data.late
    if parsed is None or typed is None or conv.state != S.IDLE:
        return stale(conv, ctx)
    action, key = parsed
    idle = Conv(S.IDLE, replace_data(conv.data, late=None))
    if action == "no":
        return Step(
            idle,
            (
                say(
                    "OK, I kept nothing. To log it as an activity instead, send /log with its "
                    f"hours, e.g. '/log {ctx.scheme.example_log}'."
                ),
            ),
        )
    entry = _entry(ctx, int(key) if key.isdigit() else None)
    if entry is None:
        return stale(conv, ctx)
    first, *rest = [r.question_id for r in entry.pending]
    text = question_text(ctx.scheme, first)
    effect = UpdateEntry(entry.number, reflections=(ReflectionView(first, text, typed),))
    added = say(f"Added to #{entry.number}.")
    if not rest:
        return Step(idle, (added,), (effect,))
    draft = Draft(questions=[first, *rest], answers={first: typed})
    data = Data(draft=draft, target=entry.number, undo=conv.data.undo, parked=conv.data.parked)
    nxt = Conv(S.REFLECT_PENDING, data)
    return Step(nxt, (added, prompt(nxt, ctx)), (effect,))

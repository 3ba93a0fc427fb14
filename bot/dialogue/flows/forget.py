"""Forgetting: /forget shows what is held and, on FORGET (or Erase everything), erases it
all for good. Open to anyone, set up or not."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from bot.core.buttons import YES_NO, OptionId
from bot.core.model import Choice, ForgetPerson, Incoming, Kind, Outgoing
from bot.core.snapshot import Needs
from bot.dialogue.common import norm, say, stale, stay
from bot.dialogue.conversation import Context, Conv, Data, State, Step
from bot.dialogue.flow import Command, Flow

S = State

FORGET = OptionId("forget", YES_NO)  # forget:yes (Erase everything) | forget:no (Keep)


FORGET_WORD = "FORGET"


_HELD = (  # table -> how a count of its rows reads; tables not named are counted as 'other'
    ("entry", "entry", "entries"),
    ("reflection", "reflection", "reflections"),
    ("role", "role", "roles"),
    ("responsibility", "key responsibility", "key responsibilities"),
    ("objective", "objective", "objectives"),
    ("entryobjective", "link to an objective", "links to objectives"),
    ("entrytag", "tag", "tags"),
    ("evidence", "piece of evidence (files and links)", "pieces of evidence (files and links)"),
    ("status_period", "leave or exemption period", "leave or exemption periods"),
    ("gap_note", "explained gap", "explained gaps"),
    ("calendarfeed", "connected calendar", "connected calendars"),
    ("seenoccurrence", "calendar event seen", "calendar events seen"),
    ("outbox", "scheduled or sent message", "scheduled or sent messages"),
    ("identity", "chat account link", "chat account links"),
)


_NOT_LISTED = {"person", "conversation"}


def _holdings_text(holdings: Mapping[str, int]) -> str:
    parts = []
    for table, one, many in _HELD:
        n = holdings.get(table, 0)
        if n:
            parts.append(f"{n} {one if n == 1 else many}")
    named = {t for t, _, _ in _HELD} | _NOT_LISTED
    other = sum(n for t, n in holdings.items() if t not in named)
    if other:
        parts.append(f"{other} other stored row{'s' if other != 1 else ''}")
    parts.append("your settings and our conversation")
    return ", ".join(parts)


def forget(conv: Conv, ctx: Context) -> Step:
    nxt = Conv(S.FORGET_CONFIRM, Data(undo=conv.data.undo))
    return Step(nxt, (_forget_prompt(ctx),))


def _forget_prompt(ctx: Context) -> Outgoing:
    return Outgoing(
        f"This erases everything I hold about you — {_holdings_text(ctx.snap.holdings)} — "
        "for good: it cannot be undone. (/export all first if you want a copy.)\n"
        f"Type {FORGET_WORD} or press Erase everything to go ahead; Keep changes nothing.",
        (Choice(FORGET.make("yes"), "Erase everything"), Choice(FORGET.make("no"), "Keep")),
    )


def forget_confirm(conv: Conv, event: Incoming, ctx: Context) -> Step:
    if event.kind == Kind.CHOICE:
        answer = FORGET.parse(event.choice)
        if answer is None:
            return stale(conv, ctx)
        erase = answer == "yes"
    else:
        typed = event.text.strip()
        if typed.upper() == FORGET_WORD:
            erase = True
        elif norm(typed) in ("keep", "no", "n", "stop"):
            erase = False
        else:
            return stay(conv, ctx, f"To erase everything, type {FORGET_WORD} (or press Keep).")
    if not erase:
        return Step(Conv(S.IDLE, Data(undo=conv.data.undo)), (say("Kept. Nothing was erased."),))
    text = (
        f"Erased: {_holdings_text(ctx.snap.holdings)}. This is permanent — I no longer hold "
        "anything about you, and it cannot be brought back. If you write to me again, "
        "we start afresh."
    )
    return Step(Conv(S.IDLE, Data()), (say(text),), (ForgetPerson(),))


def _doing(conv: Conv) -> str:
    return "erasing your data (FORGET or Keep)"


def _cancel(conv: Conv, ctx: Context) -> str:
    return "Cancelled. Nothing was erased."


def _needs(conv: Conv, event: Incoming, need: Needs) -> Needs:
    """The confirmation says again what is held."""
    return replace(need, holdings=True)


FLOW = Flow(
    name="forget",
    states=(S.FORGET_CONFIRM,),
    commands=(
        Command(
            "forget",
            lambda conv, args, ctx: forget(conv, ctx),
            needs=lambda args: Needs(holdings=True),
            help="/forget — erase everything I hold about you, for good (asks first)",
            help_rank=120,
            summary="Erase everything I hold about you",
            menu_rank=160,
            busy=True,
        ),
    ),
    transitions=(
        (S.IDLE, "/forget", S.FORGET_CONFIRM),
        (S.FORGET_CONFIRM, "FORGET: everything erased, or keep", S.IDLE),
    ),
    handlers={S.FORGET_CONFIRM: forget_confirm},
    prompt=lambda conv, ctx: _forget_prompt(ctx),
    doing=_doing,
    cancel=_cancel,
    needs=_needs,
)

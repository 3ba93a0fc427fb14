"""Nothing typed is lost: drafts put aside (parked) and offered back, and late reflections.

- A new /log while an entry is being logged puts the current draft aside (`Data.parked`,
  newest last, at most `MAX_PARKED`) and takes the new one at once: [Save it now] (when all
  but the reflections is known), [Continue it], [Discard it].
- When a dialogue ends and something is parked, the newest is offered: [Continue] [Discard].
- A dialogue left for more than a day (`Data.last_seen`, stamped by the kernel) does not
  block: the next message is taken as if idle; a log draft is parked and offered back, any
  other dialogue is closed with a word saying so. The CalDAV password step lasts 15
  minutes (`calendar_accounts.PASSWORD_FOR`).
- Plain text just after a save with reflections pending is offered to that entry (`late`).

The kernel calls `take` before any flow, `settle` after one (flows keep `parked` as they
found it; only this module changes it) and `stamp` last.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Literal

from bot.core import text as fmt
from bot.core.buttons import ActionId
from bot.core.model import Choice, ForgetPerson, Incoming, Kind, Outgoing
from bot.core.zones import local_today
from bot.dialogue.common import clip, say, stale, stay
from bot.dialogue.conversation import Context, Conv, Data, Draft, State, Step, replace_data
from bot.dialogue.flow import Command, Flow, doing, prompt
from bot.dialogue.flows import calendar_accounts, late
from bot.dialogue.flows.log import LOG, LOG_STATES, advance, save_entry, understood

S = State

MAX_PARKED = 5
STALE_AFTER = timedelta(days=1)
DraftAction = Literal["save", "go", "drop"]
DRAFT: ActionId[DraftAction] = ActionId("draft", ("save", "go", "drop"))  # draft:<action>:<key>
NOT_WOKEN = (S.IDLE, S.ONBOARD_SCHEME, S.ONBOARD_TIMEZONE)  # onboarding is its own gate


def key(draft: Draft) -> str:
    """A parked draft's name on its buttons (a list index would shift as drafts come and go)."""
    return hashlib.blake2s(draft.model_dump_json().encode(), digest_size=4).hexdigest()


def _worth_keeping(draft: Draft | None) -> bool:
    return draft is not None and bool(draft.title or draft.activity_date or draft.minutes)


def _name(draft: Draft) -> str:
    return f"'{draft.title}'" if draft.title else "an untitled entry"


def _so_far(draft: Draft, ctx: Context) -> list[str]:
    parts: list[str] = []
    if draft.activity_date:
        parts.append(fmt.day_span(draft.activity_date, draft.end_date, ctx.today))
    if draft.minutes:
        parts.append(fmt.hours(draft.minutes))
    return parts


def _described(draft: Draft, ctx: Context) -> str:
    """ "'Design review' (yesterday · 2 h)"."""
    parts = _so_far(draft, ctx)
    return _name(draft) + (f" ({' · '.join(parts)})" if parts else "")


def _push(parked: list[Draft], draft: Draft) -> tuple[list[Draft], Draft | None]:
    """`draft` parked newest last; the oldest dropped (and returned) beyond `MAX_PARKED`."""
    parked = [*parked, draft]
    return (parked[1:], parked[0]) if len(parked) > MAX_PARKED else (parked, None)


def _dropped(draft: Draft | None) -> tuple[Outgoing, ...]:
    if draft is None:
        return ()
    return (
        say(
            f"I keep up to {MAX_PARKED} entries aside, so I let go of {_name(draft)}, "
            "the oldest (it was never saved)."
        ),
    )


def _savable(draft: Draft, ctx: Context) -> bool:
    """All but the reflections known (and any question about its date answered)."""
    probe = draft.model_copy(deep=True)
    return advance(Conv(S.LOG_TITLE, Data(draft=probe)), ctx, []).conv.state in (
        S.LOG_REFLECT,
        S.IDLE,
    )


def offer(draft: Draft, ctx: Context, text: str, *, aside: bool = False) -> Outgoing:
    """`text` with the buttons for a parked draft ([Save it now] when it can be saved)."""
    ident = key(draft)
    it = " it" if aside else ""
    choices: tuple[Choice, ...] = (
        Choice(DRAFT.make("go", ident), f"Continue{it}"),
        Choice(DRAFT.make("drop", ident), f"Discard{it}"),
    )
    if aside and _savable(draft, ctx):
        choices = (Choice(DRAFT.make("save", ident), "Save it now"), *choices)
    return Outgoing(text, choices)


def _listed(parked: list[Draft]) -> str:
    """ " 3 entries are set aside: /drafts lists them." when more than one is."""
    return f" {len(parked)} entries are set aside: /drafts lists them." if len(parked) > 1 else ""


def _put_aside(draft: Draft, ctx: Context, parked: list[Draft]) -> Outgoing:
    parts = _so_far(draft, ctx)
    held = f"{' · '.join(parts)} so far" if parts else "nothing else yet"
    text = f"I've put {_name(draft)} aside ({held}).{_listed(parked)}"
    return offer(draft, ctx, text, aside=True)


def _unfinished(parked: list[Draft], ctx: Context) -> Outgoing:
    """The newest parked draft offered back, and /drafts named when there are more."""
    newest = parked[-1]
    text = f"You also have {_described(newest, ctx)} unfinished.{_listed(parked)}"
    return offer(newest, ctx, text)


# ---------------------------------------------------------------- the kernel's hooks


def take(conv: Conv, event: Incoming, ctx: Context, command: str, args: str) -> Step | None:
    """What this module answers before any flow: /log mid-log, its buttons, late text."""
    if command == "log" and conv.state in LOG_STATES:
        return _park_and_log(conv, args, ctx)
    if command == "log" and conv.state == S.IDLE and conv.data.parked and not args.strip():
        return _bare_log(conv, ctx)
    if event.kind == Kind.CHOICE:
        if DRAFT.parse(event.choice) is not None:
            return _draft_button(conv, event, ctx)
        if late.LATE.parse(event.choice) is not None:
            return late.button(conv, event, ctx)
        return None
    if not command:
        return late.offer(conv, event, ctx)
    return None


def settle(before: Conv, result: Step, ctx: Context) -> Step:
    """After a flow's step: the parked drafts kept as they were (flows never change them), a
    late reflection's offer forgotten, and the newest parked draft offered when a dialogue
    has just ended. Erasure keeps nothing."""
    if any(isinstance(e, ForgetPerson) for e in result.effects):
        return result
    parked = before.data.parked
    conv = result.conv
    if conv.data.parked != parked or conv.data.late is not None:
        conv = Conv(conv.state, replace_data(conv.data, parked=parked, late=None))
    replies = result.replies
    if parked and before.state != S.IDLE and conv.state == S.IDLE:
        replies += (_unfinished(parked, ctx),)
    return Step(conv, replies, result.effects)


def stamp(result: Step, now: datetime) -> Step:
    """When a dialogue was last seen (idle: not kept)."""
    seen = None if result.conv.state == S.IDLE else now
    if result.conv.data.last_seen == seen:
        return result
    conv = Conv(result.conv.state, replace_data(result.conv.data, last_seen=seen))
    return Step(conv, result.replies, result.effects)


def may_wake(conv: Conv, now: datetime | None = None) -> bool:
    """A dialogue left too long at `now` (UTC), or that may have been (`now` not known)."""
    seen = conv.data.last_seen
    if conv.state in NOT_WOKEN or seen is None:
        return False
    return now is None or now - seen > _lifetime(conv)


def _lifetime(conv: Conv) -> timedelta:
    """How long a dialogue waits for its answer: a day; the CalDAV password, 15 minutes."""
    if conv.state == S.CALENDAR_PASSWORD:
        return calendar_accounts.PASSWORD_FOR
    return STALE_AFTER


def woken(conv: Conv) -> Conv:
    """`conv` left too long: idle, its log draft parked."""
    data = Data(undo=conv.data.undo, parked=conv.data.parked, pending=conv.data.pending)
    draft = conv.data.draft
    if conv.state in LOG_STATES and draft is not None and _worth_keeping(draft):
        data.parked, _ = _push(data.parked, draft)
    return Conv(S.IDLE, data)


def wake(conv: Conv, ctx: Context) -> tuple[Conv, tuple[Outgoing, ...]]:
    """A dialogue left for more than a day: idle (log draft parked) and what to say of it."""
    seen = conv.data.last_seen
    if seen is None or not may_wake(conv, ctx.snap.now):
        return conv, ()
    day = local_today(seen, ctx.person.timezone)
    shown = fmt.day(day, ctx.today)
    when = shown if shown in ("today", "yesterday") else f"on {shown}"
    draft = conv.data.draft
    if conv.state in LOG_STATES and draft is not None and _worth_keeping(draft):
        parked, dropped = _push(conv.data.parked, draft)
        text = f"You started logging {_described(draft, ctx)} {when} and didn't finish."
        text += _listed(parked)
        return woken(conv), (offer(draft, ctx, text), *_dropped(dropped))
    return woken(conv), (say(f"We were {doing(conv)} {when}; I've closed that."),)


# ---------------------------------------------------------------- parking and its buttons


def _park_and_log(conv: Conv, args: str, ctx: Context) -> Step:
    """The draft being logged put aside (if it holds anything), the new /log taken at once."""
    draft = conv.data.draft
    parked: list[Draft] = list(conv.data.parked)
    head: tuple[Outgoing, ...] = ()
    if draft is not None and _worth_keeping(draft):
        parked, dropped = _push(parked, draft)
        head = (_put_aside(draft, ctx, parked), *_dropped(dropped))
    assert LOG.run is not None
    result = LOG.run(Conv(S.IDLE, Data(undo=conv.data.undo, parked=parked)), args, ctx)
    return _with_parked(Step(result.conv, (*head, *result.replies), result.effects), parked)


def _with_parked(result: Step, parked: list[Draft]) -> Step:
    data = replace_data(result.conv.data, parked=parked, late=None)
    return Step(Conv(result.conv.state, data), result.replies, result.effects)


def _draft_button(conv: Conv, event: Incoming, ctx: Context) -> Step:
    parsed = DRAFT.parse(event.choice)
    parked = conv.data.parked
    found = next((i for i, d in enumerate(parked) if parsed and key(d) == parsed[1]), None)
    if parsed is None or found is None:
        return stale(conv, ctx)
    draft, rest = parked[found], [*parked[:found], *parked[found + 1 :]]
    action = parsed[0]
    if action == "drop":
        kept = Conv(conv.state, replace_data(conv.data, parked=rest, late=None))
        dropped = stay(kept, ctx, f"Discarded {_name(draft)}. Nothing of it was saved.")
        if conv.state != S.IDLE or not rest:
            return dropped  # mid-dialogue: the next is offered when the dialogue ends
        return Step(kept, (*dropped.replies, _unfinished(rest, ctx)))
    if action == "go":
        return _continue(conv, draft, rest, ctx)
    if not _savable(draft, ctx):
        return stale(conv, ctx)
    return _save_now(conv, draft, rest, ctx)


def _continue(conv: Conv, draft: Draft, rest: list[Draft], ctx: Context) -> Step:
    """Back to a parked draft at its first missing question (the one being logged, if any,
    put aside in its place); refused in the middle of another kind of dialogue."""
    head: tuple[Outgoing, ...] = ()
    if conv.state in LOG_STATES:
        current = conv.data.draft
        if current is not None and _worth_keeping(current):
            rest, dropped = _push(rest, current)
            head = (_put_aside(current, ctx, rest), *_dropped(dropped))
    elif conv.state != S.IDLE:
        return stay(
            conv,
            ctx,
            f"We're in the middle of {doing(conv)}. Answer, or /cancel first; "
            f"{_name(draft)} stays aside.",
        )
    restored = Data(draft=draft.model_copy(deep=True), undo=conv.data.undo, parked=rest)
    back = say(f"Back to {understood(draft, ctx)}.")
    result = advance(Conv(conv.state, restored), ctx, [*head, back])
    return _with_parked(result, rest)


def _save_now(conv: Conv, draft: Draft, rest: list[Draft], ctx: Context) -> Step:
    """A parked draft saved as it is, its reflections left for later; the dialogue under way
    goes on where it was."""
    probe = draft.model_copy(deep=True)
    if not probe.questions:
        probe.questions = [q.id for q in ctx.scheme.asked_questions()]
    for question in probe.questions:
        probe.answers.setdefault(question, None)
    saved = save_entry(Conv(S.IDLE, Data()), probe, ctx, [])
    data = replace_data(conv.data, parked=rest, undo=saved.conv.data.undo, late=None)
    nxt = Conv(conv.state, data)
    asked = (prompt(nxt, ctx),) if conv.state != S.IDLE else ()
    return Step(nxt, (*saved.replies, *asked), saved.effects)


# ---------------------------------------------------------------- /drafts


LABEL_TITLE = 24  # a draft's title on its buttons in the /drafts list


def _drafts(conv: Conv, args: str, ctx: Context) -> Step:
    """Every parked draft, in one message with buttons for each (a platform that can only
    pick the last message's buttons, the console, can pick any of them)."""
    parked = conv.data.parked
    carry_on = f" (We're still {doing(conv)}: answer as before.)" if conv.state != S.IDLE else ""
    if not parked:
        return Step(conv, (say(f"Nothing is set aside.{carry_on}"),))
    if len(parked) == 1:
        text = f"You have {_described(parked[0], ctx)} set aside.{carry_on}"
        return Step(conv, (offer(parked[0], ctx, text, aside=True),))
    lines = [f"{n}. {_described(d, ctx)}" for n, d in enumerate(parked, 1)]
    choices: list[Choice] = []
    for draft in parked:
        ident, short = (
            key(draft),
            f"'{clip(draft.title, LABEL_TITLE)}'" if draft.title else "untitled",
        )
        if _savable(draft, ctx):
            choices.append(Choice(DRAFT.make("save", ident), f"Save {short} now"))
        choices.append(Choice(DRAFT.make("go", ident), f"Continue {short}"))
        choices.append(Choice(DRAFT.make("drop", ident), f"Discard {short}"))
    text = "\n".join([f"You have {len(parked)} entries set aside:", *lines]) + carry_on
    return Step(conv, (Outgoing(text, tuple(choices)),))


def _bare_log(conv: Conv, ctx: Context) -> Step:
    """A bare /log when idle with drafts set aside: the new entry begun, the drafts named."""
    assert LOG.run is not None
    result = LOG.run(conv, "", ctx)
    parked = conv.data.parked
    held = _described(parked[0], ctx) if len(parked) == 1 else f"{len(parked)} entries"
    note = say(f"(You have {held} set aside: /drafts.)")
    return _with_parked(Step(result.conv, (note, *result.replies), result.effects), parked)


# ---------------------------------------------------------------- the flow's declaration

_PARKED = "/log or Continue: draft put aside"
FLOW = Flow(
    name="drafts",
    over=LOG_STATES,
    commands=(
        Command(
            "drafts",
            _drafts,
            help="/drafts — entries set aside before saving: continue, save or discard each",
            help_rank=75,
            summary="Entries set aside, not yet saved",
            menu_rank=75,
            essential=True,
            slashless=True,
            bare_only=True,
        ),
    ),
    transitions=(
        *((a, _PARKED, b) for a in LOG_STATES for b in LOG_STATES if a != b),
        *((S.IDLE, "Continue a draft put aside", b) for b in LOG_STATES),
        (S.IDLE, "late reflection added, more pending", S.REFLECT_PENDING),
    ),
)

"""What applies in every state: private chats only, the length limit, the onboarding gate
(and answering the first message once set up), /cancel and /help, "did you mean" for a
mistyped command, and the dispatch of commands, buttons and answers to the flows through
the registry. Nothing typed is lost (`flows.drafts`): a dialogue left for more than a day
is woken (taken as idle, its log draft put aside; the CalDAV password step after 15
minutes, and what is typed to it then is not used: `calendar_accounts.too_late`), a new
/log mid-log puts the draft aside, and plain text after a save may be a late reflection
(`flows.late`)."""

from __future__ import annotations

import difflib
from dataclasses import fields, replace
from datetime import datetime
from typing import Any, cast

from bot.core import text as fmt
from bot.core.buttons import command_button, parse_calendar, parse_command
from bot.core.model import Choice, Incoming, Kind, Outgoing, UpdatePerson
from bot.core.sanitize import clean_line, clean_text
from bot.core.snapshot import Needs
from bot.core.zones import local_now
from bot.dialogue.common import clip, say, stay, with_person
from bot.dialogue.conversation import Context, Conv, Data, State, Step
from bot.dialogue.flow import doing, flow_of, prompt
from bot.dialogue.flows import (
    bodies,
    calendar_accounts,
    drafts,
    evidence,
    forget,
    late,
    onboarding,
    profile,
)
from bot.dialogue.flows.log_form import submit_form
from bot.dialogue.registry import ALLOWED, BUTTONS, COMMANDS, HANDLERS, REGISTRY

S = State

PRIVATE_ONLY = (
    "I keep CPD records private, so I don't log or show anything here. "
    "Send me a direct message to log an activity or see your progress."
)


BUTTON_MAX = 64  # bytes in a button's id: the smallest platform limit (Telegram's)
MEANT_CUTOFF = 0.75  # how alike a mistyped command and a real one must be (difflib's ratio)


def needs(conv: Conv, event: Incoming, now: datetime | None = None) -> Needs:
    """What must be loaded for `step(conv, event, ...)`: the dialogue never reads storage.
    A dialogue left too long is woken (taken as idle): what the event needs as idle is then
    loaded too, the dialogue's own needs first. `now` (UTC) tells whether it is; without
    it, any dialogue may be."""
    event = _password_line(conv, clean(event))
    need = _needs(conv, event)
    if drafts.may_wake(conv, now):
        need = _merge(need, _woken_needs(drafts.woken(conv), event))
    button = parse_calendar(event.choice) if event.kind == Kind.CHOICE else None
    occurrence = button.occurrence if button else None
    return need if occurrence is None else replace(need, occurrence=occurrence)


def _woken_needs(conv: Conv, event: Incoming) -> Needs:
    """What `event` needs in a dialogue woken after a day, taken as idle (no late reflection
    is offered there: its entry would cost a read on every step of every dialogue)."""
    return _needs(conv, event, late_too=False)


def _needs(conv: Conv, event: Incoming, *, late_too: bool = True) -> Needs:
    pending = conv.data.pending
    if conv.state == S.ONBOARD_TIMEZONE and pending:
        return needs(Conv(), onboarding.event_from(event, pending))
    name, args = command_of(conv, event)
    command = COMMANDS.get(name)
    need = command.needs(args) if command else Needs()
    flow = flow_of(conv.state)
    if flow is not None and flow.needs is not None:
        need = flow.needs(conv, event, need)
    need = evidence.needs(conv, event, need)  # a file sent, an evidence button
    need = bodies.answer_needs(conv, event, need)  # "For IET, is #12 …?" typed
    return late.needs(conv, event, need) if late_too and not name else need


_NOTHING = Needs()


def _merge(first: Needs, second: Needs) -> Needs:
    """`first`, and what `second` needs besides (`first` wins where both name a value)."""
    if second in (first, _NOTHING):
        return first  # the usual case: a turn in a fresh dialogue needs what it needed
    changes: dict[str, Any] = {}
    for f in fields(Needs):
        mine, theirs = getattr(first, f.name), getattr(second, f.name)
        if f.name == "recent":
            changes[f.name] = max(mine, theirs)
        elif mine == f.default:
            changes[f.name] = theirs
    return replace(first, **changes)


def _covers(loaded: Needs, wanted: Needs) -> bool:
    """Whether what was loaded holds everything `wanted` asks for."""
    for f in fields(Needs):
        want, have = getattr(wanted, f.name), getattr(loaded, f.name)
        if want != f.default and (have < want if f.name == "recent" else have != want):
            return False
    return True


def step(conv: Conv, event: Incoming, ctx: Context) -> Step:
    """Take one event in one state; return the next state, the replies and the effects.
    A dialogue left for more than a day is woken first: the event is taken as if idle."""
    event = _password_line(conv, clean(event))
    if not event.private:
        return Step(conv, (say(PRIVATE_ONLY),))
    start, woke = drafts.wake(conv, ctx)
    if woke and conv.state == S.CALENDAR_PASSWORD and _password_like(conv, event):
        result = calendar_accounts.too_late(conv, start, event)  # not used, nor kept
    elif woke and not _covers(needs(conv, event, ctx.snap.now), _woken_needs(start, event)):
        result = Step(start, (*woke, say(_send_again(event))))
    else:
        result = evidence.with_draft_files(start, event, _step(start, event, ctx), ctx)
        result = Step(result.conv, (*woke, *result.replies), result.effects)
    assert (start.state, result.conv.state) in ALLOWED, (start.state, result.conv.state)
    return drafts.stamp(result, ctx.snap.now)


def _password_line(conv: Conv, event: Incoming) -> Incoming:
    """At the CalDAV password step, a line starting with '/' that is none of my commands
    (Telegram reads '/x…' as a command) is typed text: the password."""
    if conv.state != S.CALENDAR_PASSWORD or event.kind != Kind.COMMAND:
        return event
    if event.command in COMMANDS or not event.text.strip().startswith("/"):
        return event
    return replace(event, kind=Kind.TEXT, command="", args="")


def _password_like(conv: Conv, event: Incoming) -> bool:
    """What answers the password step: a password form, or text that is no command."""
    if event.kind == Kind.FORM:
        return calendar_accounts.PASSWORD_FIELD in event.form
    return event.kind == Kind.TEXT and not command_of(conv, event)[0]


def _send_again(event: Incoming) -> str:
    """A woken dialogue whose event needs what was not loaded (rare: two entries named)."""
    typed = event.text or f"/{event.command} {event.args}".strip()
    shown = f"'{clip(typed, 60)}'" if event.kind != Kind.CHOICE else "that"
    return f"That conversation was over a day old, so I've closed it: please send {shown} again."


def clean(event: Incoming) -> Incoming:
    """The event without control, bidi or zero-width characters (NUL included) in what the
    person typed, so every flow reads, and both databases store, the same text."""
    return replace(
        event,
        text=clean_text(event.text),
        args=clean_text(event.args),
        command=clean_line(event.command),
        choice=clean_line(event.choice),
        form={clean_line(k): clean_text(v) for k, v in event.form.items()},
    )


def _step(conv: Conv, event: Incoming, ctx: Context) -> Step:
    limit = profile.input_max(conv.state)  # a whole HCPC statement in the profile's steps
    if len(event.text) > limit or len(event.args) > limit:
        return stay(
            conv,
            ctx,
            f"That message is too long ({len(event.text or event.args):,} characters; "
            f"I read up to {limit:,}). Nothing was changed.",
        )
    command, args = command_of(conv, event)
    if ctx.person.onboarded:
        own = evidence.which_answer(conv, event, ctx, command)
        own = own or bodies.typed_answer(conv, event, ctx, command)  # "For IET, is #12 …?"
        own = own or drafts.take(conv, event, ctx, command, args)
        if own is not None:
            return own
        conv = bodies.unasked(conv)
    return drafts.settle(conv, _dispatch(conv, event, ctx, command, args), ctx)


def _dispatch(conv: Conv, event: Incoming, ctx: Context, command: str, args: str) -> Step:
    """The event to its flow: a form, onboarding first, a button, a command or an answer."""
    if event.kind == Kind.FORM:
        if calendar_accounts.PASSWORD_FIELD in event.form:  # never an entry form's field
            return calendar_accounts.password_form(conv, event, ctx)
        return submit_form(conv, event, ctx)
    if not ctx.person.onboarded:
        gated = _gate(conv, event, ctx, command)
        if gated is not None:
            return gated
    if event.kind == Kind.FILE:
        return evidence.receive(conv, event, ctx)
    if event.kind == Kind.CHOICE:
        prefix, sep, _ = event.choice.partition(":")
        button = BUTTONS.get(prefix) if sep else None
        if button is not None:
            return button(conv, event, ctx)
    if command:
        return _command(conv, command, args, ctx)
    handler = HANDLERS.get(conv.state, HANDLERS[S.IDLE])
    return _answer_pending(handler(conv, event, ctx), event, ctx)


def _gate(conv: Conv, event: Incoming, ctx: Context, command: str) -> Step | None:
    """Someone not set up yet: onboarding first; erasure is open to anyone, set up or not."""
    if conv.state == S.FORGET_CONFIRM and command != "cancel":
        return forget.forget_confirm(conv, event, ctx)
    if command == "forget":
        return forget.forget(Conv(), ctx)
    if conv.state not in (S.ONBOARD_SCHEME, S.ONBOARD_TIMEZONE, S.FORGET_CONFIRM):
        return onboarding.begin(conv, event, ctx, command)
    return None


def _answer_pending(result: Step, event: Incoming, ctx: Context) -> Step:
    """Onboarding done with a first message kept: answer it now, as the person now set up."""
    pending = result.conv.data.pending
    if result.conv.state != S.IDLE or not pending:
        return result
    person = ctx.person
    for effect in result.effects:
        if isinstance(effect, UpdatePerson):
            person = replace(person, **cast(dict[str, Any], effect.fields))
    conv = Conv(S.IDLE, Data(undo=result.conv.data.undo))
    replay = _step(conv, onboarding.event_from(event, pending), with_person(ctx, person))
    return Step(replay.conv, (*result.replies, *replay.replies), result.effects + replay.effects)


def command_of(conv: Conv, event: Incoming) -> tuple[str, str]:
    """The command an event carries: '/log x', or a bare 'log x' typed when idle."""
    if event.kind == Kind.COMMAND:
        return event.command, event.args
    if event.kind == Kind.CHOICE:
        return parse_command(event.choice) or ("", "")
    if event.kind != Kind.TEXT:
        return "", ""
    word, _, rest = event.text.strip().partition(" ")
    word = word.lower()
    command = COMMANDS.get(word)
    if command is None:
        return "", ""
    if command.anywhere and not rest:
        return word, ""
    shaped = command.shape is None or command.shape(rest.strip())
    if conv.state == S.IDLE and command.slashless and not (command.bare_only and rest) and shaped:
        return word, rest.strip()
    return "", ""


def _command(conv: Conv, name: str, args: str, ctx: Context) -> Step:
    if name == "cancel":
        return _cancel(conv, ctx)
    if name == "help":
        return stay(conv, ctx, REGISTRY.help_for(ctx.scheme))
    command = COMMANDS.get(name)
    if command is None or command.run is None:
        return _unknown(conv, name, args, ctx)
    if command.busy and conv.state != S.IDLE and conv.state not in command.also_in:
        return stay(conv, ctx, f"We're in the middle of {doing(conv)}. Answer, or /cancel first.")
    return command.run(conv, args, ctx)


def _unknown(conv: Conv, name: str, args: str, ctx: Context) -> Step:
    """A command I don't know: the one it is closest to offered on a button (with what was
    typed after it, when the button can carry it), or /help."""
    meant = meant_command(name)
    if meant is None:
        return stay(conv, ctx, f"I don't know /{name}. /help lists what I can do.")
    line = " ".join(args.split())
    choice = command_button(meant, line)
    text = f"I don't know /{name}. Did you mean /{meant}?"
    if len(choice.encode()) > BUTTON_MAX:
        choice = command_button(meant)
        text += f" To run it with what you typed, send '/{meant} {line}'."
    reply = Outgoing(text, (Choice(choice, f"/{meant}"),))
    asked = (prompt(conv, ctx),) if conv.state != S.IDLE else ()
    return Step(conv, (reply, *asked))


def meant_command(name: str) -> str | None:
    """The command `name` is a slip for: two letters swapped ('/lgo'), or the closest by
    difflib's ratio at `MEANT_CUTOFF` ('/stauts'); None when nothing is close."""
    typed = name.lower()
    for known in COMMANDS:
        if len(known) == len(typed) and sorted(known) == sorted(typed):
            slips = [i for i, (a, b) in enumerate(zip(known, typed, strict=True)) if a != b]
            if len(slips) == 2 and slips[1] == slips[0] + 1:
                return known
    found = difflib.get_close_matches(typed, list(COMMANDS), n=1, cutoff=MEANT_CUTOFF)
    return found[0] if found else None


def _cancel(conv: Conv, ctx: Context) -> Step:
    if conv.state == S.IDLE:
        waiting = _outlook_waiting(ctx)
        return Step(conv, (say(waiting or "Nothing to cancel. /help lists what I can do."),))
    idle = Conv(S.IDLE, Data(undo=conv.data.undo))
    flow = flow_of(conv.state)
    if flow is None:
        return Step(idle, (say("Cancelled. Nothing was changed."),))
    return Step(idle, (say(flow.cancel(conv, ctx)),), flow.cancel_effects)


def _outlook_waiting(ctx: Context) -> str | None:
    """What /cancel says when idle while an Outlook sign-in waits (None: none does). The
    sign-in is kept: the member may be finishing it on another device."""
    signin = ctx.snap.signin
    if signin is None or signin.kind != "graph" or signin.expires_at <= ctx.snap.now:
        return None
    local = local_now(signin.expires_at, ctx.person.timezone)
    day = fmt.day(local.date(), ctx.today)
    until = f"{local:%H:%M}" if day == "today" else f"{day} {local:%H:%M}"
    return (
        "Nothing under way here; your Outlook sign-in is still waiting "
        f"(code {signin.user_code} until {until}). /calendar remove stops it."
    )

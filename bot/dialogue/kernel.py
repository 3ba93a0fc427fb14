"""What applies in every state: private chats only, the length limit, the onboarding gate
(and answering the first message once set up), /cancel and /help, and the dispatch of
commands, buttons and answers to the flows through the registry."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from bot.core.buttons import parse_calendar, parse_command
from bot.core.model import Incoming, Kind, UpdatePerson
from bot.core.sanitize import clean_line, clean_text
from bot.core.snapshot import Needs
from bot.dialogue.common import INPUT_MAX, say, stay, with_person
from bot.dialogue.conversation import Context, Conv, Data, State, Step
from bot.dialogue.flow import doing, flow_of
from bot.dialogue.flows import forget, onboarding
from bot.dialogue.flows.log_form import submit_form
from bot.dialogue.registry import ALLOWED, BUTTONS, COMMANDS, HANDLERS, HELP

S = State

PRIVATE_ONLY = (
    "I keep CPD records private, so I don't log or show anything here. "
    "Send me a direct message to log an activity or see your progress."
)


def needs(conv: Conv, event: Incoming) -> Needs:
    """What must be loaded for `step(conv, event, ...)`: the dialogue never reads storage."""
    event = clean(event)
    need = _needs(conv, event)
    button = parse_calendar(event.choice) if event.kind == Kind.CHOICE else None
    occurrence = button.occurrence if button else None
    return need if occurrence is None else replace(need, occurrence=occurrence)


def _needs(conv: Conv, event: Incoming) -> Needs:
    pending = conv.data.pending
    if conv.state == S.ONBOARD_TIMEZONE and pending:
        return needs(Conv(), onboarding.event_from(event, pending))
    name, args = command_of(conv, event)
    command = COMMANDS.get(name)
    need = command.needs(args) if command else Needs()
    flow = flow_of(conv.state)
    if flow is not None and flow.needs is not None:
        need = flow.needs(conv, event, need)
    return need


def step(conv: Conv, event: Incoming, ctx: Context) -> Step:
    """Take one event in one state; return the next state, the replies and the effects."""
    result = _step(conv, clean(event), ctx)
    assert (conv.state, result.conv.state) in ALLOWED, (conv.state, result.conv.state)
    return result


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
    if not event.private:
        return Step(conv, (say(PRIVATE_ONLY),))
    if len(event.text) > INPUT_MAX or len(event.args) > INPUT_MAX:
        return stay(
            conv,
            ctx,
            f"That message is too long ({len(event.text or event.args):,} characters; "
            f"I read up to {INPUT_MAX:,}). Nothing was changed.",
        )
    if event.kind == Kind.FORM:
        return submit_form(conv, event, ctx)
    command, args = command_of(conv, event)
    if not ctx.person.onboarded:
        gated = _gate(conv, event, ctx, command)
        if gated is not None:
            return gated
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
    if conv.state == S.IDLE and command.slashless and not (command.bare_only and rest):
        return word, rest.strip()
    return "", ""


def _command(conv: Conv, name: str, args: str, ctx: Context) -> Step:
    if name == "cancel":
        return _cancel(conv, ctx)
    if name == "help":
        return stay(conv, ctx, HELP)
    command = COMMANDS.get(name)
    if command is None or command.run is None:
        return stay(conv, ctx, f"I don't know /{name}. /help lists what I can do.")
    if command.busy and conv.state != S.IDLE and conv.state not in command.also_in:
        return stay(conv, ctx, f"We're in the middle of {doing(conv)}. Answer, or /cancel first.")
    return command.run(conv, args, ctx)


def _cancel(conv: Conv, ctx: Context) -> Step:
    if conv.state == S.IDLE:
        return Step(conv, (say("Nothing to cancel. /help lists what I can do."),))
    idle = Conv(S.IDLE, Data(undo=conv.data.undo))
    flow = flow_of(conv.state)
    if flow is None:
        return Step(idle, (say("Cancelled. Nothing was changed."),))
    return Step(idle, (say(flow.cancel(conv, ctx)),), flow.cancel_effects)

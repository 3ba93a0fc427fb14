"""What a flow declares (`Flow`, `Command`), and the state index the registry fills.

A flow module builds one `Flow`; `bot.dialogue.registry` collects them. The index below maps
each state to its flow, so shared helpers (asking the current question again, saying what
we are in the middle of) find the right flow without importing every flow module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.core.model import Effect, Incoming, Outgoing
from bot.core.schemes import Scheme
from bot.core.snapshot import Needs
from bot.dialogue.conversation import Context, Conv, State, Step

Handler = Callable[[Conv, Incoming, Context], Step]
"""Answers an event in one of the flow's states."""
Run = Callable[[Conv, str, Context], Step]
"""Runs a command with its arguments."""
Prompt = Callable[[Conv, Context], Outgoing]
Transition = tuple[State, str, State]

IDLE_PROMPT = "What would you like to do? /log records an activity; /help lists the rest."
NOT_IN_A_FLOW = "changing your settings"  # what an unclaimed state is in the middle of


def no_needs(args: str) -> Needs:
    return Needs()


def always(scheme: Scheme) -> bool:
    return True


@dataclass(frozen=True)
class Command:
    """A command: what it does, what it needs loaded, and how /help and menus show it."""

    name: str
    run: Run | None  # None: the kernel answers it (/help, /cancel)
    needs: Callable[[str], Needs] = no_needs  # from its arguments
    help: str = ""  # its lines in /help ('' = not listed)
    help_rank: int = 0  # where those lines go in /help
    summary: str = ""  # one line in the platforms' command menus ('' = not in the menus)
    menu_rank: int = 0  # where it goes in the menus
    # One of the ten a member needs most (exactly ten are marked, each with a summary): the
    # Teams app's command menu, which holds at most ten, shows these in menu_rank order.
    essential: bool = False
    busy: bool = False  # starts a dialogue: refused while another one is under way
    also_in: tuple[State, ...] = ()  # ... except from these states (/start mid-onboarding)
    slashless: bool = False  # typed without a slash when idle, 'log 1h …' is /log 1h …
    bare_only: bool = False  # ... but only on its own ('Review of BS 7671 1h' is a log line)
    # ... or only with arguments of this shape (also after Slack's /cpd): 'evidence 12' is
    # /evidence 12, 'Evidence based practice 2h' a log line
    shape: Callable[[str], bool] | None = None
    anywhere: bool = False  # typed bare, a command in every state (cancel, help)
    applies: Callable[[Scheme], bool] = always  # in /help only for the schemes it applies to


def _changing_settings(conv: Conv) -> str:
    return NOT_IN_A_FLOW


def _nothing_changed(conv: Conv, ctx: Context) -> str:
    return "Cancelled. Nothing was changed."


@dataclass(frozen=True)
class Flow:
    """One flow of the dialogue, declared in one place (its module)."""

    name: str
    states: tuple[State, ...] = ()
    commands: tuple[Command, ...] = ()
    transitions: tuple[Transition, ...] = ()  # (from, trigger, to): ALLOWED and the diagram
    handlers: Mapping[State, Handler] = field(default_factory=dict)
    prompt: Prompt | None = None  # the question of each of its states
    doing: Callable[[Conv], str] = _changing_settings  # "We're in the middle of …"
    cancel: Callable[[Conv, Context], str] = _nothing_changed  # what /cancel says
    cancel_effects: tuple[Effect, ...] = ()  # ... and does
    needs: Callable[[Conv, Incoming, Needs], Needs] | None = None  # its states' needs
    buttons: Mapping[str, Handler] = field(default_factory=dict)  # prefix -> any-state handler
    over: tuple[State, ...] = ()  # other flows' states its transitions start from (drafts: log)


_FLOW_OF: dict[State, Flow] = {}


def index(flows: tuple[Flow, ...]) -> None:
    """Map every state to its flow (called once, by the registry)."""
    for flow in flows:
        for state in flow.states:
            assert _FLOW_OF.get(state, flow) is flow, f"{state} is in two flows"
            _FLOW_OF[state] = flow


def flow_of(state: State) -> Flow | None:
    return _FLOW_OF.get(state)


def prompt(conv: Conv, ctx: Context) -> Outgoing:
    """The question for the current state (asked again after help, errors or stale taps)."""
    flow = _FLOW_OF.get(conv.state)
    if flow is None or flow.prompt is None:
        return Outgoing(IDLE_PROMPT)
    return flow.prompt(conv, ctx)


def doing(conv: Conv) -> str:
    """What we are in the middle of, in a few words."""
    flow = _FLOW_OF.get(conv.state)
    return flow.doing(conv) if flow else NOT_IN_A_FLOW

"""The flows of the dialogue, collected: commands, state handlers, transitions, /help and
the command menus all come from here.

How to add a command: give its flow module one more `Command(...)` in that flow's `FLOW`
(name, the function that runs it, what it needs loaded, its /help lines and menu summary
with their places, and whether it is busy or typed without a slash). Nothing else changes:
the kernel dispatches it, /help, Telegram's menu and Slack's words list it. Exactly ten
commands are `essential` (the Teams app's menu holds ten): marking one more means
unmarking another.

How to add a flow: add its states to `State` (bot/dialogue/conversation.py; the values are
stored, never rename one), write `bot/dialogue/flows/<flow>.py` declaring one `Flow` (its
states, commands, transitions, a handler per state, the prompt of each state, what we are
doing and what /cancel says), add that `FLOW` to `FLOWS` below, and regenerate the diagram:
`python -m bot.dialogue.diagram` (docs/dialogue.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.schemes import Scheme
from bot.core.snapshot import Needs
from bot.dialogue.conversation import State
from bot.dialogue.flow import Command, Flow, Handler, Transition, index
from bot.dialogue.flows import (
    bodies,
    calendar_accounts,
    calendar_flow,
    development_plan,
    drafts,
    entries,
    evidence,
    forget,
    log,
    onboarding,
    profile,
    record_views,
    reflect,
    settings,
)

S = State

# /help and /cancel apply everywhere: the kernel answers them.
KERNEL = Flow(
    name="kernel",
    commands=(
        Command(
            "help",
            None,
            summary="What I can do",
            menu_rank=140,
            essential=True,
            slashless=True,
            anywhere=True,
        ),
        Command(
            "cancel",
            None,
            help="/cancel — stop what we are doing; throws away the entry you are on,\n"
            "  entries set aside stay: /drafts",
            help_rank=160,
            needs=lambda args: Needs(feeds=True),  # an Outlook sign-in waiting (idle)
            summary="Stop what we are doing",
            menu_rank=150,
            slashless=True,
            anywhere=True,
        ),
    ),
)

FLOWS: tuple[Flow, ...] = (
    onboarding.FLOW,
    log.FLOW,
    drafts.FLOW,
    reflect.FLOW,
    entries.FLOW,
    settings.FLOW,
    bodies.FLOW,
    calendar_flow.FLOW,
    calendar_accounts.FLOW,
    development_plan.FLOW,
    forget.FLOW,
    evidence.FLOW,
    record_views.FLOW,
    profile.FLOW,
    KERNEL,
)


@dataclass(frozen=True)
class Registry:
    """Everything derived from a tuple of flows: dispatch tables, /help and the menus."""

    flows: tuple[Flow, ...]
    commands: Mapping[str, Command]
    handlers: Mapping[State, Handler]
    buttons: Mapping[str, Handler]  # prefix -> handler in any state (calendar prompts)
    transitions: tuple[Transition, ...]
    help: str  # every command's lines (what applies to one scheme: `help_for`)
    menu: tuple[tuple[str, str], ...]  # the platforms' command menus: (name, summary)
    essential: tuple[tuple[str, str], ...]  # the ten marked `essential`, in menu order
    _helps: dict[tuple[str, ...], str] = field(default_factory=dict, compare=False, repr=False)

    def help_for(self, scheme: Scheme) -> str:
        """What /help says to a member of `scheme`: only the commands that apply to it
        (/studying only where the scheme has the studying rule). Built once per set of
        commands that apply, so once per scheme."""
        ranked = sorted(self.commands.values(), key=lambda c: c.help_rank)
        shown = tuple(c.name for c in ranked if c.help and c.applies(scheme))
        found = self._helps.get(shown)
        if found is None:
            lines = (self.commands[name].help for name in shown)
            found = self._helps[shown] = _HELP_HEAD + "\n".join(lines)
        return found


_HELP_HEAD = "Here is what I can do:\n"
ESSENTIAL_COUNT = 10  # the Teams app's command menu holds at most ten


def _essential(ranked_menu: list[Command]) -> tuple[tuple[str, str], ...]:
    """The commands marked `essential`, in menu order: exactly ten, each with a summary."""
    marked = [c for c in ranked_menu if c.essential]
    names = ", ".join(c.name for c in marked)
    assert len(marked) == ESSENTIAL_COUNT, f"{len(marked)} essential commands, not ten: {names}"
    for command in marked:
        assert command.summary, f"/{command.name} is essential but has no menu summary"
    return tuple((c.name, c.summary) for c in marked)


def build(flows: tuple[Flow, ...]) -> Registry:
    """Collect `flows`: each command, state handler and button prefix declared once."""
    commands: dict[str, Command] = {}
    for flow in flows:
        for command in flow.commands:
            assert command.name not in commands, f"/{command.name} is declared twice"
            commands[command.name] = command
    ranked_help = sorted(commands.values(), key=lambda c: c.help_rank)
    ranked_menu = sorted(commands.values(), key=lambda c: c.menu_rank)
    return Registry(
        flows=flows,
        commands=commands,
        handlers={s: h for f in flows for s, h in f.handlers.items()},
        buttons={p: h for f in flows for p, h in f.buttons.items()},
        transitions=tuple(t for f in flows for t in f.transitions),
        help=_HELP_HEAD + "\n".join(c.help for c in ranked_help if c.help),
        menu=tuple((c.name, c.summary) for c in ranked_menu if c.summary),
        essential=_essential(ranked_menu),
    )


index(FLOWS)
REGISTRY = build(FLOWS)

COMMANDS: Mapping[str, Command] = REGISTRY.commands
HANDLERS: Mapping[State, Handler] = REGISTRY.handlers
BUTTONS: Mapping[str, Handler] = REGISTRY.buttons
"""Buttons answered in any state, by id prefix (calendar prompts)."""

# Every transition the dialogue can make: (from, trigger, to). Staying in the same state
# (a bad answer re-asked, /help, /status, /list) is always allowed and not listed.
# /cancel leads from every state back to idle (drawn once in the diagram).
TRANSITIONS: tuple[Transition, ...] = REGISTRY.transitions
ALLOWED = (
    {(a, b) for a, _, b in TRANSITIONS} | {(s, s) for s in State} | {(s, S.IDLE) for s in State}
)

HELP = REGISTRY.help
MENU: tuple[tuple[str, str], ...] = REGISTRY.menu
"""The platforms' command menus: (name, one-line summary), in order."""
ESSENTIAL: tuple[tuple[str, str], ...] = REGISTRY.essential
"""The ten commands a member needs most, in menu order: the Teams app's command menu."""
BUSY_COMMANDS = frozenset(c.name for c in COMMANDS.values() if c.busy)
SLASHLESS = frozenset(c.name for c in COMMANDS.values() if c.slashless)
# Typed without a slash these are commands only on their own: 'Review of BS 7671 1h' and
# 'Studying for the exam 2h' are activities.
BARE_ONLY = frozenset(c.name for c in COMMANDS.values() if c.bare_only)

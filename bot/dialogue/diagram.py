"""Writes docs/dialogue.md from the flow registry: the flows (their modules, states and
commands) and a Mermaid state diagram of the transitions.

`python -m bot.dialogue.diagram > docs/dialogue.md` regenerates it.
"""

from __future__ import annotations

from collections import defaultdict

from bot.dialogue.conversation import State
from bot.dialogue.registry import FLOWS, TRANSITIONS

INTRO = """\
# The dialogue

The dialogue is a pure state machine (`bot/dialogue/`): one module per flow in
`bot/dialogue/flows/`, collected by `bot/dialogue/registry.py` (its docstring says how to add
a command or a flow); `bot/dialogue/kernel.py` keeps what applies in every state (private
chats only, the length limit, the onboarding gate, `/cancel` and `/help`). This page is
generated from the registry (`python -m bot.dialogue.diagram > docs/dialogue.md`;
`tests/app/test_docs.py` fails when the two differ).
"""


def mermaid() -> str:
    """One arrow per (from, to) pair, labelled with its triggers; /cancel drawn once."""
    labels: dict[tuple[State, State], list[str]] = defaultdict(list)
    for a, trigger, b in TRANSITIONS:
        if trigger not in labels[(a, b)]:
            labels[(a, b)].append(trigger)
    lines = ["stateDiagram-v2", "    [*] --> idle"]
    for (a, b), triggers in labels.items():
        lines.append(f"    {a} --> {b}: {' / '.join(triggers)}")
    lines.append("    note right of idle: /cancel returns here from every state")
    return "\n".join(lines) + "\n"


def flows_table() -> str:
    """A row per flow: its states and its commands (busy ones, refused mid-dialogue, marked *)."""
    rows = ["| flow | states | commands |", "|---|---|---|"]
    for flow in FLOWS:
        states = ", ".join(f"`{s}`" for s in flow.states) or "—"
        commands = ", ".join(f"/{c.name}{'*' if c.busy else ''}" for c in flow.commands)
        rows.append(f"| {flow.name} | {states} | {commands or '—'} |")
    return "\n".join(rows) + "\n"


def document() -> str:
    """The whole of docs/dialogue.md."""
    return (
        f"{INTRO}\n## Flows\n\n{flows_table()}\n"
        "\\* busy: starts a dialogue, so it is refused while another one is under way.\n\n"
        "## States and transitions\n\n"
        "Staying in a state (a bad answer asked again, `/help`, `/status`, `/list`) is not "
        "drawn.\n\n"
        f"```mermaid\n{mermaid()}```\n"
    )


if __name__ == "__main__":
    print(document(), end="")

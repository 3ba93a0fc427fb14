"""Draws the dialogue's transition table as a Mermaid state diagram (docs/dialogue.md)."""

from __future__ import annotations

from collections import defaultdict

from bot.dialogue import TRANSITIONS, State


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


if __name__ == "__main__":
    print(mermaid(), end="")

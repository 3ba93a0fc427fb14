"""Docs that must stay in step with the code."""

from __future__ import annotations

from pathlib import Path

from bot.dialogue import TRANSITIONS, State
from bot.dialogue.diagram import mermaid

ROOT = Path(__file__).resolve().parents[2]


def test_dialogue_diagram_matches_the_transition_table() -> None:
    doc = (ROOT / "docs" / "dialogue.md").read_text(encoding="utf-8")
    assert "```mermaid\n" + mermaid() + "```" in doc, (
        "docs/dialogue.md is out of date: regenerate it with `python -m bot.dialogue.diagram`"
    )


def test_every_state_is_reachable_in_the_table() -> None:
    targets = {b for _, _, b in TRANSITIONS} | {State.IDLE}
    assert targets == set(State)


def test_readme_quick_start_has_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install -e . && cpdbot run" in readme
    assert 'pip install -e ".[dev]" && pytest' in readme

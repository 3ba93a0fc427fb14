"""The README's console session, replayed through the real console bot: docs cannot drift.

The transcript was made on Sunday 22 November 2026 in London ("yesterday", "Tue 17 Nov",
the pace in /status), the frozen clock of tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

import pytest

from adapters import console
from bot.core.schemes import Scheme
from bot.services.engine import Engine
from storage.db import Database
from tests.conftest import Clock

README = Path(__file__).resolve().parents[2] / "README.md"
ZONE_QUESTION = "Which time zone are you in?"


def transcript() -> list[str]:
    """The lines of the ```text block after '## A console session'."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## A console session\n", 1)[1]
    block = re.search(r"```text\n(.*?)```", section, re.DOTALL)
    assert block is not None, "no ```text block in the README's console session"
    return block.group(1).splitlines()


def shorten_zone_list(lines: list[str]) -> list[str]:
    """The README's one shortening: the time-zone question shows only its first option."""
    kept: list[str] = []
    in_zone_options = False
    for line in lines:
        if line.startswith(ZONE_QUESTION):
            in_zone_options = False
            kept.append(line)
            continue
        is_option = line.startswith("  [")
        if kept and kept[-1].startswith(ZONE_QUESTION) and is_option:
            in_zone_options = True
            kept.append(line)
            continue
        if in_zone_options and is_option:
            continue
        in_zone_options = False
        kept.append(line)
    return kept


def test_shortening_drops_only_the_zone_options_after_the_first() -> None:
    lines = [ZONE_QUESTION, "  [1] Europe/London", "  [2] Europe/Paris", "> x", "  [2] y"]
    assert shorten_zone_list(lines) == [ZONE_QUESTION, "  [1] Europe/London", "> x", "  [2] y"]


def test_the_readme_console_session_is_what_the_bot_says(
    sqlite_db: Database,
    schemes: dict[str, Scheme],
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "Europe/London")  # the console's time-zone hint
    expected = transcript()
    typed = [line[2:] for line in expected if line.startswith("> ")]
    assert typed[0] == "/start"
    engine = Engine(sqlite_db, schemes, clock)
    stdin, stdout = io.StringIO("".join(f"{line}\n" for line in typed)), io.StringIO()
    asyncio.run(console.chat(engine.handle, "sam", stdin, stdout, echo=True))
    assert shorten_zone_list(stdout.getvalue().splitlines()) == expected

"""Reflecting later: /reflect."""

from __future__ import annotations

import pytest

from bot.core.model import UpdateEntry
from bot.core.schemes import Scheme
from bot.dialogue import Data, Draft
from tests.dialogue.chat import ENTRY, Case, S, assert_case, text

CASES = [
    # reflect later
    Case(
        "/reflect with something pending",
        S.IDLE,
        text("/reflect"),
        S.REFLECT_PENDING,
        "Reflecting on #7",
        snap={"oldest_pending": ENTRY},
    ),
    Case("/reflect with nothing pending", S.IDLE, text("/reflect"), S.IDLE, "No reflections"),
    Case(
        "/reflect answer of the last pending",
        S.REFLECT_PENDING,
        text("Label the panels"),
        S.IDLE,
        "reflections saved for #7",
        effects=(UpdateEntry,),
        snap={"entry": ENTRY},
        data=Data(target=7, draft=Draft(questions=["change"])),
    ),
    Case(
        "/reflect later",
        S.REFLECT_PENDING,
        text("later"),
        S.IDLE,
        "can wait",
        snap={"entry": ENTRY},
        data=Data(target=7, draft=Draft(questions=["change"])),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transition(case: Case, schemes: dict[str, Scheme]) -> None:
    assert_case(case, schemes)

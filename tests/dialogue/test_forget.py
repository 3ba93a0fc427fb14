"""Forgetting: /forget."""

from __future__ import annotations

import pytest

from bot.core.model import ForgetPerson
from bot.core.schemes import Scheme
from tests.dialogue.chat import HOLDINGS, Case, S, assert_case, press, text

CASES = [
    # /forget during onboarding: erasure is open to anyone (found by tests/services/test_fuzz.py,
    # where it crashed the engine: the move was missing from the transition table)
    *[
        Case(
            f"/forget while {state.value}",
            state,
            text("/forget"),
            S.FORGET_CONFIRM,
            "erases everything I hold about you",
            person={"onboarded": False},
            snap={"holdings": HOLDINGS},
        )
        for state in (S.ONBOARD_SCHEME, S.ONBOARD_TIMEZONE)
    ],
    # /forget
    Case(
        "/forget asks first, saying what it erases",
        S.IDLE,
        text("/forget"),
        S.FORGET_CONFIRM,
        "erases everything I hold about you — 3 entries, 6 reflections, 1 chat account link",
        snap={"holdings": HOLDINGS},
    ),
    Case(
        "FORGET typed: everything erased",
        S.FORGET_CONFIRM,
        text("FORGET"),
        S.IDLE,
        "Erased: 3 entries, 6 reflections",
        effects=(ForgetPerson,),
        snap={"holdings": HOLDINGS},
    ),
    Case(
        "Erase everything pressed",
        S.FORGET_CONFIRM,
        press("forget:yes"),
        S.IDLE,
        "This is permanent",
        effects=(ForgetPerson,),
        snap={"holdings": HOLDINGS},
    ),
    Case(
        "Keep pressed",
        S.FORGET_CONFIRM,
        press("forget:no"),
        S.IDLE,
        "Nothing was erased",
        snap={"holdings": HOLDINGS},
    ),
    Case(
        "yes is not enough to erase",
        S.FORGET_CONFIRM,
        text("yes"),
        S.FORGET_CONFIRM,
        "type FORGET",
        snap={"holdings": HOLDINGS},
    ),
    Case(
        "another dialogue's button while confirming",
        S.FORGET_CONFIRM,
        press("del:yes:7"),
        S.FORGET_CONFIRM,
        "earlier message",
        snap={"holdings": HOLDINGS},
    ),
    Case(
        "/forget by someone never set up",
        S.IDLE,
        text("/forget"),
        S.FORGET_CONFIRM,
        "erases everything",
        person={"onboarded": False},
    ),
    Case(
        "FORGET by someone never set up",
        S.FORGET_CONFIRM,
        text("forget"),
        S.IDLE,
        "Erased",
        effects=(ForgetPerson,),
        person={"onboarded": False},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transition(case: Case, schemes: dict[str, Scheme]) -> None:
    assert_case(case, schemes)

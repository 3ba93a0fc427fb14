"""Onboarding: scheme, then time zone; the first message answered afterwards."""

from __future__ import annotations

import pytest

from bot.core.model import UpdatePerson
from bot.core.schemes import Scheme
from bot.dialogue import Conv, Data, step
from tests.dialogue.chat import ENTRY, PLAN, Case, S, assert_case, make_ctx, press, text

CASES = [
    # onboarding
    Case(
        "new user's first message starts onboarding",
        S.IDLE,
        text("hello"),
        S.ONBOARD_SCHEME,
        "Which professional body",
        person={"onboarded": False},
    ),
    Case(
        "/start asks for the scheme", S.IDLE, text("/start"), S.ONBOARD_SCHEME, "Which professional"
    ),
    Case(
        "scheme tapped",
        S.ONBOARD_SCHEME,
        press("scheme:ies"),
        S.ONBOARD_TIMEZONE,
        "time zone",
        effects=(UpdatePerson,),
    ),
    Case(
        "scheme typed by name",
        S.ONBOARD_SCHEME,
        text("STEP"),
        S.ONBOARD_TIMEZONE,
        "time zone",
        effects=(UpdatePerson,),
    ),
    Case("unknown scheme", S.ONBOARD_SCHEME, text("ACME"), S.ONBOARD_SCHEME, "pick one"),
    Case(
        "zone tapped",
        S.ONBOARD_TIMEZONE,
        press("tz:Europe/London"),
        S.IDLE,
        "All set",
        effects=(UpdatePerson,),
    ),
    Case(
        "zone typed as a city",
        S.ONBOARD_TIMEZONE,
        text("new york"),
        S.IDLE,
        "America/New_York",
        effects=(UpdatePerson,),
    ),
    Case(
        "unknown zone",
        S.ONBOARD_TIMEZONE,
        text("Atlantis"),
        S.ONBOARD_TIMEZONE,
        "don't know the time zone 'Atlantis'",
    ),
    Case(
        "/cancel during onboarding keeps defaults",
        S.ONBOARD_SCHEME,
        text("/cancel"),
        S.IDLE,
        "/settings changes them",
        effects=(UpdatePerson,),
    ),
    *[
        Case(
            f"first message replayed into {target}",
            S.ONBOARD_TIMEZONE,
            press("tz:UTC"),
            target,
            "All set",
            data=Data(pending={"kind": "command", "text": line, "command": cmd, "args": args}),
            effects=(UpdatePerson,),
            person={"onboarded": False},
            snap={"entry": ENTRY, "oldest_pending": ENTRY, "plan": PLAN},
        )
        for target, line, cmd, args in [
            (S.LOG_TITLE, "/log", "log", ""),
            (S.LOG_DATE, "/log 1h webinar", "log", "1h webinar"),
            (S.LOG_HOURS, "/log webinar yesterday", "log", "webinar yesterday"),
            # A title naming no kind of activity: the category is asked.
            (
                S.LOG_CATEGORY,
                "/log 1h design review yesterday",
                "log",
                "1h design review yesterday",
            ),
            (
                S.LOG_REFLECT,
                "/log 1h webinar yesterday #events",
                "log",
                "1h webinar yesterday #events",
            ),
            (S.REFLECT_PENDING, "/reflect", "reflect", ""),
            (S.DELETE_CONFIRM, "/delete 7", "delete", "7"),
            (S.EDIT_FIELD, "/edit 7", "edit", "7"),
            (S.SETTINGS_MENU, "/settings", "settings", ""),
            (S.PLAN_MENU, "/plan", "plan", ""),
        ]
    ],
    Case(
        "first message replayed into structured question",
        S.ONBOARD_TIMEZONE,
        press("tz:UTC"),
        S.LOG_STRUCTURED,
        "structured",
        scheme="step",
        person={"onboarded": False},
        data=Data(
            pending={
                "kind": "command",
                "text": "/log 1h chat yesterday #other",
                "command": "log",
                "args": "1h chat yesterday #other",
            }
        ),
        effects=(UpdatePerson,),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transition(case: Case, schemes: dict[str, Scheme]) -> None:
    assert_case(case, schemes)


def test_first_message_is_answered_after_onboarding(schemes: dict[str, Scheme]) -> None:
    ctx = make_ctx(schemes, Case("", S.IDLE, text(""), S.IDLE, person={"onboarded": False}))
    first = step(Conv(), text("/log 1h design review yesterday"), ctx)
    assert first.conv.state == S.ONBOARD_SCHEME
    assert "come back to your message" in first.replies[0].text
    second = step(first.conv, press("scheme:ies"), ctx)
    third = step(second.conv, text("London"), ctx)
    assert third.conv.state == S.LOG_CATEGORY
    assert "Got it: 'Design review' · yesterday · 1 h" in "\n".join(r.text for r in third.replies)

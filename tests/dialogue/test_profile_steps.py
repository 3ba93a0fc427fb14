"""/profile's transitions, step by step (pure `step`, no database): each row of CASES is a
state and an event, the state it leads to, what it says and the effects it asks for."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.model import AddGapNote, EntryView, ProfileView, ReflectionView, SaveProfile
from bot.core.schemes import Scheme
from bot.dialogue import Data, State
from tests.dialogue.chat import Case, assert_case, press, text

S = State


def _entry(number: int, day: date) -> EntryView:
    answer = (ReflectionView("outcomes", "What were the learning outcomes?", f"Outcome {number}"),)
    return EntryView(
        number, f"Activity {number}", day, 60, "work_based", None, "chat", False, answer
    )


ENTRIES = tuple(_entry(n, date(2025, n, 1)) for n in range(1, 7))
PROFILE = ProfileView(
    start=date(2024, 11, 23),
    end=date(2026, 11, 22),
    entries=ENTRIES,
    gaps=((date(2025, 6, 2), date(2026, 11, 22), ""),),
)
PICKED = ProfileView(**{**PROFILE.__dict__, "entry_numbers": (1, 2, 3, 4), "summary": "Hi there"})
DONE = ProfileView(**{**PICKED.__dict__, "standards": ("a", "b", "c", "d", "e")})
NO_GAP = ProfileView(**{**DONE.__dict__, "gaps": ()})


def _snap(profile: ProfileView) -> dict[str, object]:
    return {"profile": profile}


CASES = [
    Case("/profile starts with picking", S.IDLE, text("/profile"), S.PROFILE_PICK,
         "Pick 4 to 6 activities", scheme="ipem", snap=_snap(PROFILE)),
    Case("/profile refused outside IPEM/HCPC", S.IDLE, text("/profile"), S.IDLE,
         "for IPEM / HCPC registrants", snap=_snap(PROFILE)),
    Case("numbers typed", S.PROFILE_PICK, text("1 2 3 4"), S.PROFILE_SUMMARY,
         "summary of your recent work", effects=(SaveProfile,), scheme="ipem", snap=_snap(PROFILE)),
    Case("seven numbers", S.PROFILE_PICK, text("1 2 3 4 5 6 1"), S.PROFILE_PICK,
         "Each activity once", scheme="ipem", snap=_snap(PROFILE)),
    Case("a pick tapped", S.PROFILE_PICK, press("profile_pick:2"), S.PROFILE_PICK,
         "picked: 1: #2", effects=(SaveProfile,), scheme="ipem", snap=_snap(PROFILE)),
    Case("done with none picked", S.PROFILE_PICK, press("profile:done"), S.PROFILE_PICK,
         "That is 0 activities", scheme="ipem", snap=_snap(PROFILE)),
    Case("summary sent", S.PROFILE_SUMMARY, text("I run QA."), S.PROFILE_STANDARD,
         "Summary kept: 3 words of 500 (497 left)", effects=(SaveProfile,), scheme="ipem",
         snap=_snap(PICKED)),
    Case("summary kept", S.PROFILE_SUMMARY, press("profile:keep"), S.PROFILE_STANDARD,
         "standard 1 of 5", scheme="ipem", snap=_snap(PICKED)),
    Case("a stale button for the summary", S.PROFILE_SUMMARY, press("profile_pick:3"),
         S.PROFILE_SUMMARY, "earlier message", scheme="ipem", snap=_snap(PICKED)),
    Case("a standard's statement", S.PROFILE_STANDARD, text("Outcome 1 and 2"),
         S.PROFILE_STANDARD, "standard 3 of 5", effects=(SaveProfile,), data=Data(target=1),
         scheme="ipem", snap=_snap(PICKED)),
    Case("the last standard, a gap to explain", S.PROFILE_STANDARD, press("profile:keep"),
         S.PROFILE_GAP, "From 2 Jun 2025 to 22 Nov 2026 (539 days)", effects=(SaveProfile,),
         data=Data(target=4), scheme="ipem", snap=_snap(DONE)),
    Case("the last standard, no gap", S.PROFILE_STANDARD, press("profile:keep"), S.IDLE,
         "/export hcpc makes it", effects=(SaveProfile,), data=Data(target=4), scheme="ipem",
         snap=_snap(NO_GAP)),
    Case("a gap explained", S.PROFILE_GAP, text("Parental leave"), S.IDLE,
         "Gap explained", effects=(AddGapNote,), scheme="ipem", snap=_snap(DONE)),
    Case("a gap skipped", S.PROFILE_GAP, press("profile:done"), S.IDLE,
         "Still to do: explain the gaps", scheme="ipem", snap=_snap(DONE)),
    Case("a gap's reason too long", S.PROFILE_GAP, text("x" * 501), S.PROFILE_GAP,
         "under 500 characters", scheme="ipem", snap=_snap(DONE)),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_profile_steps(case: Case, schemes: dict[str, Scheme]) -> None:
    assert_case(case, schemes)

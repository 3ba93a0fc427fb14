"""What applies in every state: commands anywhere, /cancel, /help, group chats, what is
loaded for a step; and every transition in the table has a case."""

from __future__ import annotations

import pytest

from bot.core.model import Incoming, Kind, UpdatePerson
from bot.core.schemes import Scheme
from bot.core.snapshot import Needs
from bot.dialogue import TRANSITIONS, Conv, Data, Draft, State, needs, step
from tests.dialogue import (
    test_calendar_accounts,
    test_calendar_prompts,
    test_development_plan,
    test_drafts,
    test_entries,
    test_evidence_flow,
    test_forget,
    test_log,
    test_onboarding,
    test_plan_values,
    test_profile_steps,
    test_record_views,
    test_reflect,
    test_settings,
)
from tests.dialogue.chat import (
    ENTRY,
    FULL,
    ME,
    SUMMARY,
    YESTERDAY,
    Case,
    S,
    assert_case,
    draft,
    make_ctx,
    press,
    text,
    value,
)

CASES = [
    # commands available everywhere
    Case(
        "/help mid-dialogue re-asks",
        S.LOG_HOURS,
        text("/help"),
        S.LOG_HOURS,
        "How long",
        data=draft(title="W", activity_date=YESTERDAY),
    ),
    Case(
        "/status mid-dialogue",
        S.LOG_HOURS,
        text("/status"),
        S.LOG_HOURS,
        "15 h of 30 h",
        data=draft(title="W", activity_date=YESTERDAY),
        snap={"summary": SUMMARY},
    ),
    Case(
        "/cancel abandons the draft",
        S.LOG_REFLECT,
        text("/cancel"),
        S.IDLE,
        "Nothing was saved",
        data=draft(**FULL, category="self_study", questions=["key_points"]),
    ),
    Case(
        "bare 'cancel' works too",
        S.LOG_HOURS,
        text("cancel"),
        S.IDLE,
        "Nothing was saved",
        data=draft(title="W", activity_date=YESTERDAY),
    ),
    Case("/cancel when idle", S.IDLE, text("/cancel"), S.IDLE, "Nothing to cancel"),
    # Issue 13: a new /log while logging puts the draft aside (it used to be refused and
    # its text lost); tests/dialogue/test_drafts.py covers the rest.
    Case(
        "/log while logging puts the draft aside",
        S.LOG_HOURS,
        text("/log 1h x yesterday"),
        S.LOG_CATEGORY,
        "I've put 'W' aside",
        data=draft(title="W", activity_date=YESTERDAY),
    ),
    Case("unknown command", S.IDLE, text("/frobnicate"), S.IDLE, "don't know /frobnicate"),
    Case(
        "stale button mid-dialogue",
        S.LOG_HOURS,
        press("cat:self_study"),
        S.LOG_HOURS,
        "earlier message",
        data=draft(title="W", activity_date=YESTERDAY),
    ),
    Case("stale button when idle", S.IDLE, press("cat:self_study"), S.IDLE, "earlier message"),
    Case("over-long message", S.LOG_TITLE, text("z" * 4001), S.LOG_TITLE, "too long", data=draft()),
]


ALL_CASES = [
    *test_calendar_accounts.CASES,
    *test_calendar_prompts.CASES,
    *test_development_plan.CASES,
    *test_drafts.CASES,
    *test_entries.CASES,
    *test_evidence_flow.CASES,
    *test_forget.CASES,
    *CASES,
    *test_log.CASES,
    *test_onboarding.CASES,
    *test_profile_steps.CASES,
    *test_plan_values.CASES,
    *test_record_views.CASES,
    *test_reflect.CASES,
    *test_settings.CASES,
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transition(case: Case, schemes: dict[str, Scheme]) -> None:
    assert_case(case, schemes)


def test_cases_cover_every_transition_in_the_table(schemes: dict[str, Scheme]) -> None:
    seen = set()
    for case in ALL_CASES:
        result = step(Conv(case.state, case.data), case.event, make_ctx(schemes, case))
        seen.add((case.state, result.conv.state))
    missing = {(a, b) for a, _, b in TRANSITIONS} - seen
    assert not missing, f"transitions with no test: {sorted(missing)}"


@pytest.mark.parametrize("state", [s for s in State if s != S.IDLE])
def test_cancel_from_every_state_returns_to_idle_and_saves_nothing(
    state: State, schemes: dict[str, Scheme]
) -> None:
    data = Data(draft=Draft(**FULL, category="self_study"), target=7, field="hours")
    ctx = make_ctx(schemes, Case("", state, text(""), S.IDLE, snap={"entry": ENTRY}))
    result = step(Conv(state, data), text("/cancel"), ctx)
    assert result.conv.state == S.IDLE
    assert result.conv.data.draft is None
    onboarding = state in (S.ONBOARD_SCHEME, S.ONBOARD_TIMEZONE)
    assert [type(e) for e in result.effects] == ([UpdatePerson] if onboarding else [])


def test_group_chat_gets_a_pointer_and_nothing_changes(schemes: dict[str, Scheme]) -> None:
    conv = Conv(S.LOG_HOURS, draft(title="W", activity_date=YESTERDAY))
    event = Incoming(ME, Kind.COMMAND, text="/status", command="status", private=False)
    result = step(conv, event, make_ctx(schemes, Case("", S.IDLE, event, S.IDLE)))
    assert result.conv == conv and not result.effects
    assert "private" in result.replies[0].text


def test_needs_asks_only_for_what_a_command_shows() -> None:
    assert needs(Conv(), text("/status")) == Needs(standing=True, bodies=True)
    assert needs(Conv(), text("/list")) == Needs(recent=10)
    assert needs(Conv(), text("/list 500")) == Needs(recent=50)
    assert needs(Conv(), text("/edit 7")) == Needs(entry_number=7)
    assert needs(Conv(), text("/reflect")) == Needs(oldest_pending=True)
    assert needs(Conv(), text("/log 1h x")) == Needs()
    assert needs(Conv(S.EDIT_VALUE, Data(target=7)), text("2h")) == Needs(entry_number=7)


def test_conversation_data_survives_a_round_trip_through_json() -> None:
    conv = Conv(S.LOG_REFLECT, draft(**FULL, category="x", questions=["a"], answers={"a": None}))
    again = Conv.load(str(conv.state), conv.dump())
    assert again == conv
    assert Conv.load("no_such_state", {}) == Conv()


def test_needs_for_the_plan_review_exports_and_forget() -> None:
    assert needs(Conv(), text("/plan")) == Needs(plan=True)
    assert needs(Conv(), text("/plan link 12 3")) == Needs(plan=True, entry_number=12)
    assert needs(Conv(), text("/plan tag #12 A")) == Needs(plan=True, entry_number=12)
    assert needs(Conv(), text("/plan done 3")) == Needs(plan=True)
    linking = Conv(S.PLAN_VALUE, value("link"))
    assert needs(linking, text("12 O3")) == Needs(plan=True, entry_number=12)
    # Mid-plan, another command still gets the plan to ask the question again.
    assert needs(linking, text("/status")) == Needs(standing=True, plan=True, bodies=True)
    assert needs(Conv(), text("/review")) == Needs(plan=True, linked=True)
    assert needs(Conv(), text("/export pdf 2025")) == Needs(report_year=2025, bodies=True)
    assert needs(Conv(), text("/export md")) == Needs(report_year=0, bodies=True)
    assert needs(Conv(), text("/export md IET")) == Needs(report_year=0, bodies=True, standing=True)
    assert needs(Conv(), text("/export all")) == Needs(evidence=0, waiting=True)
    assert needs(Conv(), text("/export json")) == Needs(record_year=0)
    assert needs(Conv(), text("/forget")) == Needs(holdings=True)
    assert needs(Conv(S.FORGET_CONFIRM), text("FORGET")) == Needs(holdings=True)


def test_help_lists_the_new_commands(schemes: dict[str, Scheme]) -> None:
    said = step(
        Conv(), text("/help"), make_ctx(schemes, Case("", S.IDLE, text(""), S.IDLE, scheme="ies"))
    )
    for command in ("/plan", "/review", "/studying", "/export pdf", "/export all", "/forget"):
        assert command in said.replies[0].text

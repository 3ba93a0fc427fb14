"""Each body's own content in the dialogue (issue 13): a person's own "full day" in
/settings, the higher-education-study rule for IES only, UK-SPEC tags for Engineering
Council bodies only (IET, IPEM), and examples in the member's own field."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.model import Outgoing, UpdatePerson
from bot.core.schemes import Scheme
from bot.dialogue import Conv, Data, State, step
from tests.dialogue.chat import (
    ENTRY,
    Case,
    S,
    assert_case,
    make_ctx,
    plan_snap,
    press,
    text,
)

# ---------------------------------------------------------------- a full day


def _run(
    schemes: dict[str, Scheme], case: Case
) -> tuple[State, str, tuple[Outgoing, ...], list[Any]]:
    result = step(Conv(case.state, case.data), case.event, make_ctx(schemes, case))
    said = "\n".join(r.text for r in result.replies)
    return result.conv.state, said, result.replies, list(result.effects)


@pytest.mark.parametrize(
    ("typed", "minutes", "says"),
    [
        ("7.5", 450, "Full day: 7 h 30"),
        ("7.5h", 450, "Full day: 7 h 30"),
        ("7h30", 450, "Full day: 7 h 30"),
        ("8 hours", 480, "Full day: 8 h"),
        ("6", 360, "Full day: 6 h"),
        ("1", 60, "Full day: 1 h"),
        ("12", 720, "Full day: 12 h"),
    ],
)
def test_settings_day_in_one_line_is_saved_and_echoed(
    schemes: dict[str, Scheme], typed: str, minutes: int, says: str
) -> None:
    case = Case("", S.IDLE, text(f"/settings day {typed}"), S.IDLE)
    state, said, _, effects = _run(schemes, case)
    assert state == S.IDLE
    assert says in said and "half day" in said.lower()
    assert effects == [UpdatePerson({"day_minutes": minutes})]


def test_settings_full_day_is_read_too(schemes: dict[str, Scheme]) -> None:
    case = Case("", S.IDLE, text("/settings full day 7.5"), S.IDLE)
    _, said, _, effects = _run(schemes, case)
    assert effects == [UpdatePerson({"day_minutes": 450})]
    assert "Full day: 7 h 30" in said


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("13", "between 1 and 12 hours"),
        ("0", "between 1 and 12 hours"),
        ("45 min", "between 1 and 12 hours ('45 min' is 45 min)"),
        ("-7", "between 1 and 12 hours"),
        ("2 days", "in hours, not days"),
        ("half a day", "in hours, not days"),
        ("soon", "couldn't read 'soon'"),
        ("long", "couldn't read 'long'"),
    ],
)
def test_settings_day_refuses_what_is_not_a_day(
    schemes: dict[str, Scheme], typed: str, says: str
) -> None:
    case = Case("", S.IDLE, text(f"/settings day {typed}"), S.IDLE, person={"day_minutes": 480})
    state, said, _, effects = _run(schemes, case)
    assert state == S.IDLE
    assert says in said
    assert "/settings day 7.5" in said
    assert effects == []  # the day already set (8 h) is kept


@pytest.mark.parametrize("typed", ["25", "-3", "0.5", "12.5", "100"])
def test_a_bare_number_at_the_full_day_is_hours(schemes: dict[str, Scheme], typed: str) -> None:
    """'25' is 25 hours here, not 25 minutes, and '-3' is refused without '-3 h'."""
    case = Case("", S.IDLE, text(f"/settings day {typed}"), S.IDLE)
    _, said, _, effects = _run(schemes, case)
    assert said.startswith("A full day is between 1 and 12 hours. ")
    assert "min" not in said and f"{typed} h" not in said
    assert effects == []
    menu = Case("", S.SETTINGS_VALUE, text(typed), S.SETTINGS_VALUE, data=Data(field="day"))
    state, said, _, effects = _run(schemes, menu)
    assert state == S.SETTINGS_VALUE and "between 1 and 12 hours" in said and effects == []


def test_settings_day_default_clears_it(schemes: dict[str, Scheme]) -> None:
    case = Case(
        "",
        S.IDLE,
        text("/settings day default"),
        S.IDLE,
        scheme="step",
        person={"day_minutes": 480},
    )
    _, said, _, effects = _run(schemes, case)
    assert effects == [UpdatePerson({"day_minutes": None})]
    assert "STEP's usual 7 h" in said


def test_settings_day_alone_asks_for_it(schemes: dict[str, Scheme]) -> None:
    case = Case("", S.IDLE, text("/settings day"), S.IDLE, person={"day_minutes": 450})
    state, said, replies, effects = _run(schemes, case)
    assert state == S.SETTINGS_VALUE
    assert "How many hours is a full day" in said and "Now: 7 h 30" in said
    assert [c.label for c in replies[-1].choices] == ["IET's usual (7 h)"]
    assert effects == []


def test_settings_menu_shows_the_full_day(schemes: dict[str, Scheme]) -> None:
    own = Case("", S.IDLE, text("/settings"), S.SETTINGS_MENU, person={"day_minutes": 450})
    _, said, replies, _ = _run(schemes, own)
    assert "Full day: 7 h 30 (your own; IET's usual is 7 h)" in said
    assert "Full day" in [c.label for c in replies[-1].choices]
    default = Case("", S.IDLE, text("/settings"), S.SETTINGS_MENU)
    _, said, _, _ = _run(schemes, default)
    assert "Full day: 7 h (IET's usual)" in said


DAY_CASES = [
    Case(
        "full day chosen in the menu",
        S.SETTINGS_MENU,
        press("set:day"),
        S.SETTINGS_VALUE,
        "How many hours is a full day of CPD for you? Now: 7 h",
    ),
    Case(
        "full day typed in the menu",
        S.SETTINGS_MENU,
        text("full day"),
        S.SETTINGS_VALUE,
        "How many hours is a full day",
    ),
    Case(
        "a day typed at the question",
        S.SETTINGS_VALUE,
        text("7.5"),
        S.SETTINGS_MENU,
        "Full day: 7 h 30",
        data=Data(field="day"),
        effects=(UpdatePerson,),
    ),
    Case(
        "the default tapped at the question",
        S.SETTINGS_VALUE,
        press("val:default"),
        S.SETTINGS_MENU,
        "Full day: back to IET's usual 7 h",
        data=Data(field="day"),
        effects=(UpdatePerson,),
        person={"day_minutes": 450},
    ),
    Case(
        "a day too long at the question is refused and asked again",
        S.SETTINGS_VALUE,
        text("24"),
        S.SETTINGS_VALUE,
        "A full day is between 1 and 12 hours",
        data=Data(field="day"),
    ),
]


@pytest.mark.parametrize("case", DAY_CASES, ids=[c.name for c in DAY_CASES])
def test_full_day_in_the_menu(case: Case, schemes: dict[str, Scheme]) -> None:
    assert_case(case, schemes)


def test_menu_value_is_stored_as_minutes(schemes: dict[str, Scheme]) -> None:
    case = Case("", S.SETTINGS_VALUE, text("7 h 30"), S.SETTINGS_MENU, data=Data(field="day"))
    _, said, _, effects = _run(schemes, case)
    assert effects == [UpdatePerson({"day_minutes": 450})]
    assert "Full day: 7 h 30 (your own" in said  # the menu shown again has it


# ---------------------------------------------------------------- studying (IES only)


@pytest.mark.parametrize("scheme", ["step", "iet", "ipem", "generic"])
def test_studying_is_not_offered_where_the_body_has_no_such_rule(
    schemes: dict[str, Scheme], scheme: str
) -> None:
    name = schemes[scheme].name
    for line in ("/studying yes", "/studying", "/studying no"):
        state, said, _, effects = _run(schemes, Case("", S.IDLE, text(line), S.IDLE, scheme=scheme))
        assert state == S.IDLE
        assert f"{name} has no rule for members studying" in said
        assert effects == []
    _, said, replies, _ = _run(schemes, Case("", S.IDLE, text("/settings"), S.IDLE, scheme=scheme))
    assert "degree" not in said.lower() and "studying" not in said.lower()
    assert "Studying for a degree" not in [c.label for c in replies[-1].choices]
    state, said, _, _ = _run(
        schemes, Case("", S.SETTINGS_MENU, press("set:studying"), S.IDLE, scheme=scheme)
    )
    assert state == S.SETTINGS_MENU and "pick a setting" in said


def test_ies_members_still_have_the_studying_rule(schemes: dict[str, Scheme]) -> None:
    _, said, _, effects = _run(
        schemes, Case("", S.IDLE, text("/studying yes"), S.IDLE, scheme="ies")
    )
    assert "IES then asks for 2 categories instead of 3" in said
    assert effects == [UpdatePerson({"studying_he": True})]
    _, said, replies, _ = _run(schemes, Case("", S.IDLE, text("/settings"), S.IDLE, scheme="ies"))
    assert "Studying for a degree: no" in said
    assert "Studying for a degree" in [c.label for c in replies[-1].choices]


# ---------------------------------------------------------------- UK-SPEC (IET, IPEM only)


def _plan_words(schemes: dict[str, Scheme], scheme: str) -> str:
    """Everything the plan shows a member: the menu, its buttons, the tag question and a
    tag saved, and /plan's one-line help."""
    said = []
    for case in (
        Case("", S.IDLE, text("/plan"), S.PLAN_MENU, scheme=scheme, snap=plan_snap()),
        Case("", S.IDLE, text("/plan nonsense"), S.IDLE, scheme=scheme, snap=plan_snap()),
        Case("", S.PLAN_MENU, press("plan:tag"), S.PLAN_VALUE, scheme=scheme, snap=plan_snap()),
        Case(
            "",
            S.IDLE,
            text("/plan tag 7 a c"),
            S.IDLE,
            scheme=scheme,
            snap=plan_snap(entry=ENTRY),
        ),
        Case("", S.IDLE, text("/plan tag 7"), S.IDLE, scheme=scheme, snap=plan_snap(entry=ENTRY)),
    ):
        _, text_said, replies, _ = _run(schemes, case)
        said.append(text_said)
        said += [c.label for r in replies for c in r.choices]
    return "\n".join(said)


@pytest.mark.parametrize("scheme", ["ies", "step", "generic"])
def test_uk_spec_is_not_offered_outside_engineering_council_bodies(
    schemes: dict[str, Scheme], scheme: str
) -> None:
    words = _plan_words(schemes, scheme)
    assert "UK-SPEC" not in words
    assert "Knowledge and understanding" not in words
    assert "Tag entry" not in words


def test_a_tag_outside_uk_spec_is_kept_as_typed(schemes: dict[str, Scheme]) -> None:
    case = Case(
        "", S.IDLE, text("/plan tag 7 a c"), S.IDLE, scheme="step", snap=plan_snap(entry=ENTRY)
    )
    _, said, _, effects = _run(schemes, case)
    assert "#7 tagged: A, C." in said
    assert len(effects) == 1


@pytest.mark.parametrize("scheme", ["iet", "ipem"])
def test_uk_spec_is_offered_to_engineering_council_bodies(
    schemes: dict[str, Scheme], scheme: str
) -> None:
    words = _plan_words(schemes, scheme)
    assert "Tag entry" in words
    assert "UK-SPEC: A Knowledge and understanding" in words
    assert "#7 tagged: A (Knowledge and understanding), C (Responsibility" in words


# ---------------------------------------------------------------- examples


@pytest.mark.parametrize(
    ("scheme", "example"),
    [
        ("step", "/log 1h webinar on trust registration yesterday"),
        ("ies", "/log 2h site visit on river water quality yesterday"),
        ("ipem", "/log 2h radiotherapy QA workshop on Tuesday"),
        ("iet", "/log 1.5h webinar on arc-flash safety yesterday"),
    ],
)
def test_onboarding_ends_with_an_example_from_the_members_field(
    schemes: dict[str, Scheme], scheme: str, example: str
) -> None:
    case = Case("", S.ONBOARD_TIMEZONE, press("tz:UTC"), S.IDLE, scheme=scheme)
    case.person = {"onboarded": False}
    _, said, _, _ = _run(schemes, case)
    assert "All set" in said and example in said
    if scheme != "iet":
        assert "arc-flash" not in said


def test_a_step_member_never_sees_arc_flash_in_these_flows(schemes: dict[str, Scheme]) -> None:
    said = _plan_words(schemes, "step")
    for case in (
        Case("", S.ONBOARD_TIMEZONE, press("tz:UTC"), S.IDLE, scheme="step"),
        Case("", S.IDLE, text("/settings"), S.SETTINGS_MENU, scheme="step"),
        Case("", S.IDLE, text("/settings day"), S.SETTINGS_VALUE, scheme="step"),
        Case("", S.IDLE, text("/studying"), S.IDLE, scheme="step"),
    ):
        said += _run(schemes, case)[1]
    assert "arc-flash" not in said.lower()

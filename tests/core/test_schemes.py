"""The built-in CPD schemes carry their bodies' rules, and broken scheme files are refused
with a message naming the file and the problem."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from bot.core.schemes import (
    BUILTIN_DIR,
    DEFAULT_SCHEME,
    Scheme,
    SchemeError,
    default_schemes,
    load_scheme_file,
    load_schemes,
)

BUILTIN_IDS = {"iet", "ies", "step", "ipem", "generic"}


@pytest.fixture(scope="module")
def schemes() -> dict[str, Scheme]:
    return dict(load_schemes())


@pytest.fixture
def fresh_default_schemes() -> Iterator[None]:
    """default_schemes() is cached per process: clear it around tests that change the env."""
    default_schemes.cache_clear()
    yield
    default_schemes.cache_clear()


def scheme_toml(
    scheme_id: str = "acme",
    *,
    name: str = "ACME Institute",
    default_status: str = "member",
    extra: str = "",
    categories: str = "",
) -> str:
    """A small valid scheme file, with hooks to break it."""
    categories = categories or (
        '[[categories]]\nid = "courses"\nlabel = "Courses"\naliases = ["course"]\n'
    )
    name_line = f'name = "{name}"\n' if name else ""
    return (
        f'id = "{scheme_id}"\n'
        f"{name_line}"
        'body = "ACME Institute of Widgets"\n'
        f'default_status = "{default_status}"\n'
        f"{extra}"
        f"{categories}"
        '[[statuses]]\nid = "member"\nlabel = "Member"\nhours = 20\n'
        '[[questions]]\nid = "learned"\ntext = "What did you learn?"\nrequired = true\n'
    )


def write(folder: Path, filename: str, text: str) -> Path:
    path = folder / filename
    path.write_text(text, encoding="utf-8")
    return path


# --- the built-in schemes ------------------------------------------------------------


def test_every_builtin_scheme_loads_from_a_file_named_after_its_id(
    schemes: dict[str, Scheme],
) -> None:
    assert set(schemes) == BUILTIN_IDS
    assert {p.stem for p in BUILTIN_DIR.glob("*.toml")} == BUILTIN_IDS
    assert DEFAULT_SCHEME in schemes
    for scheme_id in BUILTIN_IDS:
        assert load_scheme_file(BUILTIN_DIR / f"{scheme_id}.toml").id == scheme_id


def test_iet_has_its_six_categories_and_30_or_10_hours(schemes: dict[str, Scheme]) -> None:
    iet = schemes["iet"]
    assert [c.label for c in iet.categories] == [
        "Training courses",
        "Work experience",
        "Academic study",
        "Volunteering",
        "Events and seminars",
        "Self-study",
    ]
    assert [c.id for c in iet.categories] == [
        "training_courses",
        "work_experience",
        "academic_study",
        "volunteering",
        "events_and_seminars",
        "self_study",
    ]
    assert iet.default_status == "active"
    assert iet.target_hours("active") == 30
    assert iet.target_hours("not_active") == 10
    # An unknown status (e.g. from an old setting) falls back to the default target.
    assert iet.target_hours("no_such_status") == 30
    assert iet.year_bounds(date(2025, 12, 31)) == (date(2025, 1, 1), date(2026, 1, 1))
    assert iet.year_label(date(2025, 1, 1)) == "2025"


def test_iet_offers_its_eight_questions_but_asks_two(schemes: dict[str, Scheme]) -> None:
    iet = schemes["iet"]
    texts = [q.text for q in iet.questions]
    assert len(texts) == 9  # eight questions to consider + the reflective statement
    for wording in (
        "What were the key points that you remember and were relevant to you?",
        "How will you change what you do or how you behave as a result of this activity?",
        "Did it meet your needs?",
        "What follow-up actions do you need to take?",
    ):
        assert wording in texts
    assert any("upon your development" in t for t in texts)
    assert [q.id for q in iet.asked_questions()] == ["key_points", "change"]


def test_ies_balance_needs_three_categories_and_no_token_hour(
    schemes: dict[str, Scheme],
) -> None:
    ies = schemes["ies"]
    assert len(ies.categories) == 5
    assert [c.label for c in ies.categories] == [
        "Work-based learning",
        "Professional activity",
        "Formal/educational",
        "Self-directed learning",
        "Other",
    ]
    assert ies.target_hours(ies.default_status) == 30
    assert ies.balance is not None
    assert ies.balance.min_categories == 3
    assert ies.balance.min_categories_when_studying == 2
    # "A tokenistic 1 hour" in a 30-hour year must not count towards the balance,
    # while an even three-way split must.
    assert 1 / 30 < ies.balance.min_share <= 10 / 30


def test_ies_exemptions_have_no_hours_and_say_to_tell_the_office(
    schemes: dict[str, Scheme],
) -> None:
    ies = schemes["ies"]
    for status_id in ("career_break", "parental_leave", "long_term_illness"):
        status = ies.status(status_id)
        assert status.id == status_id
        assert status.hours == 0
        assert "IES office" in status.description


def test_ies_asks_both_required_reflection_elements(schemes: dict[str, Scheme]) -> None:
    ies = schemes["ies"]
    asked = ies.asked_questions()
    assert [q.required for q in asked] == [True, True]
    quality, users = (q.text for q in asked)
    assert "quality of your work" in quality and "why" in quality
    assert "users of your work" in users and "customers, clients or students" in users
    assert "why" in users


def test_ies_year_round_reflection_under_other_counts(schemes: dict[str, Scheme]) -> None:
    ies = schemes["ies"]
    assert ies.category("other") is not None
    note = next(n for n in ies.audit_notes if "Year-round Reflection" in n)
    assert "Other" in note and "counts towards your hours" in note


def test_step_has_no_hours_target_and_tracks_structured_learning(
    schemes: dict[str, Scheme],
) -> None:
    step = schemes["step"]
    assert all(s.hours is None for s in step.statuses)
    assert step.target_hours(step.default_status) is None
    assert step.track_structured
    structured = {c.id: c.structured for c in step.categories}
    assert {k: v for k, v in structured.items() if k != "other"} == {
        "coaching": True,
        "research": False,
        "in_house": True,
        "conference": True,
        "reading": False,
        "webinar": True,
        "course": True,
        "qualification": True,
    }


def test_step_audit_notes_carry_ethics_and_the_two_month_deadline(
    schemes: dict[str, Scheme],
) -> None:
    notes = " ".join(schemes["step"].audit_notes)
    assert "at least one activity related to ethics" in notes
    assert "'ethical behaviour'" in notes
    assert "5-7" in notes
    assert "CPD Cover Sheet within two months" in notes


def test_step_asks_evaluation_with_choices_then_impact(schemes: dict[str, Scheme]) -> None:
    evaluation, impact = schemes["step"].asked_questions()
    assert evaluation.text == (
        "Would you use that type of activity again or choose something different next time?"
    )
    assert evaluation.required
    assert evaluation.choices == ("Yes, again", "Something different", "Not sure")
    assert impact.required and "you and your stakeholders" in impact.text


def test_ipem_is_outcome_focused_with_hcpc_audit_cycle(schemes: dict[str, Scheme]) -> None:
    ipem = schemes["ipem"]
    assert "HCPC" in ipem.name
    assert all(s.hours is None for s in ipem.statuses)
    outcomes, application = ipem.asked_questions()
    assert outcomes.required and "learning outcomes" in outcomes.text
    assert application.required
    assert "practice" in application.text and "service user" in application.text
    notes = " ".join(ipem.audit_notes)
    assert "every two years" in notes and "annual audit" in notes


def test_generic_defaults_to_30_hours_with_a_no_target_option(
    schemes: dict[str, Scheme],
) -> None:
    generic = schemes["generic"]
    assert generic.target_hours(generic.default_status) == 30
    assert any(s.hours is None for s in generic.statuses)
    asked = generic.asked_questions()
    assert len(asked) == 2
    assert [q.required for q in asked] == [True, False]


@pytest.mark.parametrize("scheme_id", sorted(BUILTIN_IDS))
def test_builtin_asks_ask_questions_required_first(
    schemes: dict[str, Scheme], scheme_id: str
) -> None:
    scheme = schemes[scheme_id]
    asked = scheme.asked_questions()
    assert len(asked) == scheme.ask == 2
    required = [q for q in scheme.questions if q.required]
    assert list(asked[: len(required)]) == required


@pytest.mark.parametrize("scheme_id", sorted(BUILTIN_IDS))
def test_builtin_aliases_are_typeable_and_pick_one_category(
    schemes: dict[str, Scheme], scheme_id: str
) -> None:
    scheme = schemes[scheme_id]
    owner: dict[str, str] = {}
    for category in scheme.categories:
        for alias in category.aliases:
            assert re.fullmatch(r"[a-z][a-z0-9]*", alias), f"#{alias} is not one word"
            assert alias not in owner, f"#{alias} picks both {owner[alias]} and {category.id}"
            owner[alias] = category.id
    # An alias must not be another category's id either.
    for category in scheme.categories:
        assert owner.get(category.id, category.id) == category.id


@pytest.mark.parametrize("scheme_id", sorted(BUILTIN_IDS))
def test_builtin_labels_fit_on_a_button(schemes: dict[str, Scheme], scheme_id: str) -> None:
    scheme = schemes[scheme_id]
    for item in (*scheme.categories, *scheme.statuses):
        assert len(item.label) <= 25, item.label
    for question in scheme.questions:
        for choice in question.choices:
            assert len(choice) <= 25, choice


def test_iet_quick_entry_aliases_pick_expected_categories(schemes: dict[str, Scheme]) -> None:
    by_alias = {a: c.id for c in schemes["iet"].categories for a in c.aliases}
    assert by_alias["webinar"] == "events_and_seminars"
    assert by_alias["seminar"] == "events_and_seminars"
    assert by_alias["course"] == "training_courses"
    assert by_alias["reading"] == "self_study"


# --- CPD years -----------------------------------------------------------------------


def test_year_bounds_for_a_year_starting_6_april(tmp_path: Path) -> None:
    path = write(
        tmp_path, "acme.toml", scheme_toml(extra="year_start_month = 4\nyear_start_day = 6\n")
    )
    scheme = load_scheme_file(path)
    assert scheme.year_bounds(date(2025, 4, 5)) == (date(2024, 4, 6), date(2025, 4, 6))
    assert scheme.year_bounds(date(2025, 4, 6)) == (date(2025, 4, 6), date(2026, 4, 6))
    assert scheme.year_bounds(date(2025, 1, 1)) == (date(2024, 4, 6), date(2025, 4, 6))
    assert scheme.year_label(date(2024, 4, 6)) == "2024/25"
    assert scheme.year_label(date(2099, 4, 6)) == "2099/00"


# --- user schemes --------------------------------------------------------------------


def test_extra_dir_adds_a_user_scheme_and_keeps_the_builtins(tmp_path: Path) -> None:
    write(tmp_path, "acme.toml", scheme_toml())
    schemes = load_schemes(tmp_path)
    assert set(schemes) == BUILTIN_IDS | {"acme"}
    assert schemes["acme"].name == "ACME Institute"
    assert schemes["acme"].target_hours("member") == 20


def test_extra_dir_overrides_a_builtin_by_id(tmp_path: Path) -> None:
    write(tmp_path, "iet.toml", scheme_toml("iet", name="IET (our firm's rules)"))
    schemes = load_schemes(tmp_path)
    assert schemes["iet"].name == "IET (our firm's rules)"
    assert schemes["iet"].target_hours("member") == 20
    assert schemes["ies"].target_hours("member") == 30  # other built-ins untouched


def test_cpdbot_schemes_dir_env_adds_user_schemes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_default_schemes: None
) -> None:
    write(tmp_path, "acme.toml", scheme_toml())
    monkeypatch.setenv("CPDBOT_SCHEMES_DIR", str(tmp_path))
    assert default_schemes()["acme"].name == "ACME Institute"
    assert set(default_schemes()) >= BUILTIN_IDS


def test_cpdbot_schemes_dir_pointing_nowhere_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_default_schemes: None
) -> None:
    missing = tmp_path / "no-such-dir"
    monkeypatch.setenv("CPDBOT_SCHEMES_DIR", str(missing))
    with pytest.raises(SchemeError, match="does not exist") as info:
        default_schemes()
    assert str(missing) in str(info.value)


# --- broken scheme files -------------------------------------------------------------


BROKEN = {
    "invalid TOML": (
        "acme.toml",
        'id = "acme"\nname = ACME without quotes\n',
        ["not valid TOML"],
    ),
    "missing required field": (
        "acme.toml",
        scheme_toml(name=""),
        ["name", "Field required"],
    ),
    "unknown top-level field": (
        "acme.toml",
        scheme_toml(extra='colour = "red"\n'),
        ["colour", "Extra inputs are not permitted"],
    ),
    "misspelt category field": (
        "acme.toml",
        scheme_toml(
            categories='[[categories]]\nid = "courses"\nlabel = "Courses"\nalias = ["c"]\n'
        ),
        ["categories.0.alias", "Extra inputs are not permitted"],
    ),
    "duplicate category id": (
        "acme.toml",
        scheme_toml(
            categories=(
                '[[categories]]\nid = "courses"\nlabel = "Courses"\n'
                '[[categories]]\nid = "courses"\nlabel = "More courses"\n'
            )
        ),
        ["duplicate category id(s): courses"],
    ),
    "default_status not in statuses": (
        "acme.toml",
        scheme_toml(default_status="fellow"),
        ["default_status 'fellow' is not one of the statuses"],
    ),
    "id not matching file name": (
        "acme-v2.toml",
        scheme_toml("acme"),
        ["scheme id 'acme' must match the file name 'acme-v2'"],
    ),
}


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_broken_scheme_file_is_refused_naming_file_and_problem(tmp_path: Path, case: str) -> None:
    filename, text, expected = BROKEN[case]
    path = write(tmp_path, filename, text)
    with pytest.raises(SchemeError) as info:
        load_schemes(tmp_path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    for fragment in expected:
        assert fragment in message


def test_scheme_file_not_in_utf8_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "acme.toml"
    path.write_bytes(scheme_toml(name="ACME \u2013 Widgets").encode("cp1252"))
    with pytest.raises(SchemeError, match="not UTF-8") as info:
        load_schemes(tmp_path)
    assert str(path) in str(info.value)


def test_missing_extra_dir_is_refused_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "schemes"
    with pytest.raises(SchemeError) as info:
        load_schemes(missing)
    assert str(info.value) == f"{missing}: scheme directory does not exist"

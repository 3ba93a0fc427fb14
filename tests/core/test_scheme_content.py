"""Each body's own content (issue 13): STEP's April year and hour of ethics, UK-SPEC only
for Engineering Council bodies, examples in each body's own field, a full day's hours."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from bot.core.assess import assess
from bot.core.model import EntryView, PersonView, ReflectionView
from bot.core.parsing import parse_quick
from bot.core.record import Record
from bot.core.schemes import Checks, Scheme

TODAY = date(2026, 11, 22)  # a Sunday
STEP_OK = {"use_again": "Yes, again", "impact": "Clients get clearer advice"}


def _entry(number: int, day: str, minutes: int, title: str) -> EntryView:
    return EntryView(
        number=number,
        title=title,
        activity_date=date.fromisoformat(day),
        minutes=minutes,
        category="webinar",
        structured=True,
        source="chat",
        deleted=False,
        reflections=tuple(ReflectionView(q, q, a) for q, a in STEP_OK.items()),
    )


def _step_record(scheme: Scheme, *entries: EntryView) -> Record:
    person = PersonView(
        display_name="Sam",
        timezone="Europe/London",
        scheme_id="step",
        status_id=scheme.default_status,
        date_order="DMY",
        languages=("en",),
        onboarded=True,
        last_entry_number=len(entries),
    )
    start, end = scheme.year_bounds(TODAY)
    return Record(person, scheme, start, end, entries)


# ---------------------------------------------------------------- STEP's year


def test_step_year_runs_1_april_to_31_march(schemes: dict[str, Scheme]) -> None:
    step = schemes["step"]
    assert step.year_bounds(TODAY) == (date(2026, 4, 1), date(2027, 4, 1))
    assert step.year_bounds(date(2027, 3, 31)) == (date(2026, 4, 1), date(2027, 4, 1))
    assert step.year_bounds(date(2027, 4, 1)) == (date(2027, 4, 1), date(2028, 4, 1))
    assert step.year_label(date(2026, 4, 1)) == "2026/27"
    assert "1 April" in step.description
    assert "calendar year" not in step.description


def test_other_bodies_keep_the_calendar_year(schemes: dict[str, Scheme]) -> None:
    for scheme_id in ("iet", "ies", "ipem", "generic"):
        assert schemes[scheme_id].year_bounds(TODAY) == (date(2026, 1, 1), date(2027, 1, 1))


# ---------------------------------------------------------------- STEP: an hour of ethics


def test_step_asks_for_an_hour_of_ethics(schemes: dict[str, Scheme]) -> None:
    assert schemes["step"].checks.ethics_min_minutes == 60
    for scheme_id in ("iet", "ies", "ipem", "generic"):
        assert schemes[scheme_id].checks.ethics_min_minutes is None


def test_45_minutes_of_ethics_is_not_yet_an_hour(schemes: dict[str, Scheme]) -> None:
    step = schemes["step"]
    rec = _step_record(step, _entry(1, "2026-05-04", 45, "Webinar on ethics in trusts"))
    result = assess(rec, today=TODAY)
    ethics = result.requirement("ethics_minutes")
    assert ethics is not None
    assert ethics.state == "not_yet"
    assert ethics.line.startswith("✗ Ethics: 45 min of at least 1 h")
    assert "15 min more" in ethics.action and "31 Mar 2027" in ethics.action
    # One activity on ethics is there: that requirement is met, the hour is not.
    assert result.requirement("ethics_activity").state == "met"  # type: ignore[union-attr]
    assert not result.met


def test_ethics_minutes_add_up_across_the_year(schemes: dict[str, Scheme]) -> None:
    step = schemes["step"]
    rec = _step_record(
        step,
        _entry(1, "2026-05-04", 30, "Code of conduct refresher"),
        _entry(2, "2026-09-10", 45, "Webinar: conflicts of interest"),
        _entry(3, "2026-10-01", 120, "Trust registration update"),  # not on ethics
    )
    ethics = assess(rec, today=TODAY).requirement("ethics_minutes")
    assert ethics is not None
    assert ethics.state == "met"
    assert ethics.line.startswith("✓ Ethics: 1 h 15 of at least 1 h")
    assert "#1" in ethics.reason and "#2" in ethics.reason and "#3" not in ethics.reason


def test_no_ethics_yet_says_what_is_needed(schemes: dict[str, Scheme]) -> None:
    step = schemes["step"]
    rec = _step_record(step, _entry(1, "2026-05-04", 90, "Trust registration update"))
    ethics = assess(rec, today=TODAY).requirement("ethics_minutes")
    assert ethics is not None
    assert ethics.state == "not_yet"
    assert ethics.line.startswith(
        "✗ Ethics: nothing on ethics yet; at least 1 h in CPD year 2026/27 → log 1 h on ethics"
    )
    assert "log 1 h" in ethics.action


def test_bodies_without_the_rule_have_no_ethics_hours(schemes: dict[str, Scheme]) -> None:
    scheme = schemes["iet"]
    person = PersonView("A", "UTC", "iet", "active", "DMY", ("en",), True, 0)
    rec = Record(person, scheme, date(2026, 1, 1), date(2027, 1, 1), ())
    assert assess(rec, today=TODAY).requirement("ethics_minutes") is None


def test_ethics_minutes_need_the_ethics_activity_check() -> None:
    # The database picks out ethics activities only for schemes with that check on.
    with pytest.raises(ValidationError, match="ethics_activity"):
        Checks(ethics_min_minutes=60)
    assert Checks(ethics_activity=True, ethics_min_minutes=60).ethics_min_minutes == 60


# ---------------------------------------------------------------- UK-SPEC


def test_uk_spec_only_for_engineering_council_bodies(schemes: dict[str, Scheme]) -> None:
    offered = {s.id for s in schemes.values() if s.competences == "uk_spec"}
    assert offered == {"iet", "ipem"}


# ---------------------------------------------------------------- examples


@pytest.mark.parametrize(
    ("scheme_id", "words"),
    [
        ("iet", "arc-flash"),
        ("ies", "water quality"),
        ("step", "trust registration"),
        ("ipem", "radiotherapy QA"),
        ("generic", "risk assessment"),
    ],
)
def test_each_body_has_its_own_examples(
    schemes: dict[str, Scheme], scheme_id: str, words: str
) -> None:
    scheme = schemes[scheme_id]
    assert words.lower() in scheme.example_log.lower()
    if scheme_id != "iet":
        assert "arc-flash" not in scheme.example_activity + scheme.example_log


@pytest.mark.parametrize("scheme_id", ["iet", "ies", "step", "ipem", "generic"])
def test_each_example_one_liner_reads_whole(schemes: dict[str, Scheme], scheme_id: str) -> None:
    """The example a member is shown is one the bot reads: hours, a date and a title."""
    found = parse_quick(schemes[scheme_id].example_log, today=TODAY)
    assert found.minutes and found.minutes >= 30
    assert found.activity_date is not None and found.activity_date < TODAY
    assert found.title
    for day_word in ("yesterday", "tuesday", " on"):
        assert not found.title.lower().endswith(day_word)


# ---------------------------------------------------------------- a full day


def test_every_body_has_a_seven_hour_day(schemes: dict[str, Scheme]) -> None:
    # No body's guidance says how long a day of CPD is: the default 7 hours.
    assert {s.id: s.day_hours for s in schemes.values()} == dict.fromkeys(schemes, 7.0)

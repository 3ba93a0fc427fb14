"""Each scheme's rules on hand-built CPD years that pass and fail each requirement."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.core.assess import assess
from bot.core.assessment import Assessment, Requirement
from bot.core.model import EntryView, PersonView, ReflectionView
from bot.core.plan import GapNote, ObjectiveView, Plan, StatusPeriod
from bot.core.record import Record
from bot.core.scheme_checks import find_gaps
from bot.core.schemes import Scheme

TODAY = date(2026, 11, 22)
# Each record is its scheme's CPD year holding TODAY: 2026 (STEP's: 2026/27, from 1 April).


def entry(
    number: int,
    day: str,
    hours: float,
    category: str,
    answers: dict[str, str | None] | None = None,
    *,
    title: str = "",
    structured: bool | None = None,
) -> EntryView:
    return EntryView(
        number=number,
        title=title or f"Activity {number}",
        activity_date=date.fromisoformat(day),
        minutes=round(hours * 60),
        category=category,
        structured=structured,
        source="chat",
        deleted=False,
        reflections=tuple(
            ReflectionView(qid, f"question {qid}", answer)
            for qid, answer in (answers or {}).items()
        ),
    )


def record(
    scheme: Scheme, entries: list[EntryView], *, status: str = "", studying: bool = False
) -> Record:
    person = PersonView(
        display_name="Alex",
        timezone="Europe/London",
        scheme_id=scheme.id,
        status_id=status or scheme.default_status,
        date_order="DMY",
        languages=("en",),
        onboarded=True,
        last_entry_number=len(entries),
        studying_he=studying,
    )
    return Record(person, scheme, *scheme.year_bounds(TODAY), tuple(entries))


def req(result: Assessment, requirement_id: str) -> Requirement:
    found = result.requirement(requirement_id)
    assert found is not None, [r.id for r in result.requirements]
    return found


IET_OK = {"key_points": "Boundaries and PPE", "change": "Check labels"}
IES_OK = {"quality_value": "Better surveys", "user_benefit": "Clients get faster reports"}
STEP_OK = {"use_again": "Yes, again", "impact": "Clients get clearer advice"}
IPEM_OK = {"outcomes": "New QA protocol", "application": "Fewer repeat scans for patients"}


# ---------------------------------------------------------------- hours


def test_iet_active_member_meets_30_hours(schemes: dict[str, Scheme]) -> None:
    rec = record(
        schemes["iet"],
        [
            entry(1, "2026-03-02", 20, "training_courses", IET_OK),
            entry(2, "2026-06-10", 10, "self_study", IET_OK),
        ],
    )
    hours = req(assess(rec, today=TODAY), "hours")
    assert hours.state == "met"
    assert "30 h of 30 h" in hours.reason and "Professionally active" in hours.reason
    assert hours.action == ""


def test_iet_short_of_target_says_how_much_more_and_by_when(schemes: dict[str, Scheme]) -> None:
    rec = record(schemes["iet"], [entry(1, "2026-03-02", 22.5, "training_courses", IET_OK)])
    result = assess(rec, today=TODAY)
    hours = req(result, "hours")
    assert hours.state == "not_yet"
    assert hours.reason.startswith("22 h 30 of 30 h")
    assert hours.action == "log 7 h 30 more dated by 31 Dec 2026"
    assert not result.met and result.outstanding == (hours,)


def test_iet_not_active_member_needs_10_hours(schemes: dict[str, Scheme]) -> None:
    rec = record(
        schemes["iet"], [entry(1, "2026-03-02", 10, "self_study", IET_OK)], status="not_active"
    )
    result = assess(rec, today=TODAY)
    assert req(result, "hours").state == "met"
    assert result.target_minutes == 600


def test_iet_six_months_not_active_is_pro_rata_day_by_day(schemes: dict[str, Scheme]) -> None:
    # Not active 1 Mar - 31 Aug (184 days at 10 h a year), active the other 181 (30 h).
    leave = StatusPeriod("not_active", date(2026, 3, 1), date(2026, 8, 31))
    rec = record(schemes["iet"], [entry(1, "2026-02-02", 19, "training_courses", IET_OK)])
    result = assess(rec, today=TODAY, periods=[leave])
    expected = round((30 * 60 * 181 + 10 * 60 * 184) / 365)
    assert result.target_minutes == expected == 1195  # 19 h 55
    assert result.full_target_minutes == 1800
    hours = req(result, "hours")
    assert hours.state == "not_yet"
    assert "19 h of 19 h 55" in hours.reason
    assert "pro rata" in hours.reason
    assert "Not professionally active 1 Mar 2026 – 31 Aug 2026" in hours.reason
    assert hours.action == "log 55 min more dated by 31 Dec 2026"


def test_ies_parental_leave_exempts_those_days(schemes: dict[str, Scheme]) -> None:
    entries = [
        entry(1, "2026-01-20", 8, "work_based", IES_OK),
        entry(2, "2026-10-02", 7, "formal_educational", IES_OK),
    ]
    leave = StatusPeriod("parental_leave", date(2026, 3, 1), date(2026, 8, 31))
    without = assess(record(schemes["ies"], entries), today=TODAY)
    with_leave = assess(record(schemes["ies"], entries), today=TODAY, periods=[leave])
    assert req(without, "hours").state == "not_yet"
    assert with_leave.target_minutes == round(30 * 60 * 181 / 365)  # 14 h 53
    assert req(with_leave, "hours").state == "met"
    assert "Parental leave 1 Mar 2026 – 31 Aug 2026" in req(with_leave, "hours").reason


def test_ies_exempt_all_year_has_no_hours_requirement(schemes: dict[str, Scheme]) -> None:
    by_status = assess(record(schemes["ies"], [], status="career_break"), today=TODAY)
    assert req(by_status, "hours").state == "not_applicable"
    assert "Career break" in req(by_status, "hours").reason
    whole_year = StatusPeriod("long_term_illness", date(2025, 12, 1), date(2027, 2, 1))
    by_period = assess(record(schemes["ies"], []), today=TODAY, periods=[whole_year])
    assert req(by_period, "hours").state == "not_applicable"
    assert "Long-term illness 1 Jan 2026 – 31 Dec 2026" in req(by_period, "hours").reason


def test_exempt_status_with_an_active_period_is_pro_rata(schemes: dict[str, Scheme]) -> None:
    # On a career break all year except January to March, as a member (30 h a year).
    back = StatusPeriod("member", date(2026, 1, 1), date(2026, 3, 31))
    result = assess(record(schemes["ies"], [], status="career_break"), today=TODAY, periods=[back])
    assert result.target_minutes == round(30 * 60 * 90 / 365)  # 7 h 24
    hours = req(result, "hours")
    assert hours.state == "not_yet"
    assert hours.reason == (
        "0 min of 7 h 24; target pro rata: Professional member 1 Jan 2026 – 31 Mar 2026"
    )


def test_a_period_in_another_year_changes_nothing(schemes: dict[str, Scheme]) -> None:
    old = StatusPeriod("parental_leave", date(2025, 2, 1), date(2025, 7, 31))
    result = assess(record(schemes["ies"], []), today=TODAY, periods=[old])
    assert result.target_minutes == result.full_target_minutes == 1800


def test_step_and_ipem_have_no_hours_target(schemes: dict[str, Scheme]) -> None:
    for scheme_id in ("step", "ipem"):
        rec = record(schemes[scheme_id], [entry(1, "2026-03-02", 2, "other")])
        hours = req(assess(rec, today=TODAY), "hours")
        assert hours.state == "not_applicable"
        assert hours.reason.startswith("no hours target") and "2 h logged" in hours.reason


# ---------------------------------------------------------------- IES balance


def test_ies_balance_met_with_three_categories_somewhat_even(schemes: dict[str, Scheme]) -> None:
    rec = record(
        schemes["ies"],
        [
            entry(1, "2026-02-01", 12, "work_based", IES_OK),
            entry(2, "2026-03-01", 9, "formal_educational", IES_OK),
            entry(3, "2026-04-01", 9, "self_directed", IES_OK),
        ],
    )
    balance = req(assess(rec, today=TODAY), "balance")
    assert balance.state == "met"
    assert "3 of 3 needed" in balance.reason
    assert "Work-based learning 12 h (40%)" in balance.reason


def test_ies_token_hour_does_not_count_and_is_named(schemes: dict[str, Scheme]) -> None:
    rec = record(
        schemes["ies"],
        [
            entry(1, "2026-02-01", 25, "work_based", IES_OK),
            entry(2, "2026-03-01", 4, "formal_educational", IES_OK),
            entry(3, "2026-04-01", 1, "self_directed", IES_OK),
        ],
    )
    balance = req(assess(rec, today=TODAY), "balance")
    assert balance.state == "not_yet"
    assert "2 of 3 needed" in balance.reason
    assert "too small to count: Self-directed learning 1 h (3%)" in balance.reason
    # Enough extra self-directed learning to reach 10% of the new total: (3 - 1) / 0.9.
    assert balance.action == "add about 2 h 15 of Self-directed learning"


def test_ies_category_at_exactly_the_threshold_counts(schemes: dict[str, Scheme]) -> None:
    rec = record(
        schemes["ies"],
        [
            entry(1, "2026-02-01", 18, "work_based", IES_OK),
            entry(2, "2026-03-01", 9, "formal_educational", IES_OK),
            entry(3, "2026-04-01", 3, "other", IES_OK),
        ],
    )
    assert req(assess(rec, today=TODAY), "balance").state == "met"


def test_ies_studying_for_a_masters_needs_only_two(schemes: dict[str, Scheme]) -> None:
    entries = [
        entry(1, "2026-02-01", 20, "formal_educational", IES_OK),
        entry(2, "2026-03-01", 10, "work_based", IES_OK),
    ]
    assert req(assess(record(schemes["ies"], entries), today=TODAY), "balance").state == "not_yet"
    studying = req(assess(record(schemes["ies"], entries, studying=True), today=TODAY), "balance")
    assert studying.state == "met"
    assert "2 of 2 needed" in studying.reason


def test_ies_balance_with_nothing_logged(schemes: dict[str, Scheme]) -> None:
    balance = req(assess(record(schemes["ies"], []), today=TODAY), "balance")
    assert balance.state == "not_yet"
    assert balance.action == "log activities in at least 3 categories"


def test_balance_is_not_checked_where_the_scheme_has_no_rule(schemes: dict[str, Scheme]) -> None:
    result = assess(
        record(schemes["iet"], [entry(1, "2026-02-01", 30, "self_study", IET_OK)]), today=TODAY
    )
    assert result.requirement("balance") is None


# ---------------------------------------------------------------- reflections


def test_ies_reflection_missing_one_element_is_named(schemes: dict[str, Scheme]) -> None:
    rec = record(
        schemes["ies"],
        [
            entry(1, "2026-02-01", 10, "work_based", IES_OK),
            entry(
                2,
                "2026-03-01",
                10,
                "formal_educational",
                {"quality_value": "Sharper method", "user_benefit": None},
            ),
            entry(
                3, "2026-04-01", 10, "self_directed", {"quality_value": "  ", "user_benefit": "x"}
            ),
        ],
    )
    both = req(assess(rec, today=TODAY), "both_elements")
    assert both.state == "not_yet"
    assert "2 of 3 activities" in both.reason
    assert "#2 (benefit to the users of your work)" in both.reason
    assert "#3 (value to the quality of your work)" in both.reason  # blank is not an answer
    assert both.action == "answer them with /reflect (e.g. /reflect 2)"


def test_ies_reflections_with_both_elements_pass(schemes: dict[str, Scheme]) -> None:
    rec = record(schemes["ies"], [entry(1, "2026-02-01", 10, "work_based", IES_OK)])
    result = assess(rec, today=TODAY)
    assert req(result, "both_elements").state == "met"
    # Both required IES questions are covered by the named check: no second, generic one.
    assert result.requirement("reflections") is None


def test_iet_needs_key_points_but_not_the_optional_questions(schemes: dict[str, Scheme]) -> None:
    ok = entry(1, "2026-02-01", 10, "self_study", {"key_points": "A", "change": None})
    missing = entry(2, "2026-02-03", 10, "self_study", {"key_points": None, "change": "B"})
    imported = entry(3, "2026-02-05", 10, "self_study", {})  # never asked at all
    result = assess(record(schemes["iet"], [ok, missing, imported]), today=TODAY)
    reflections = req(result, "reflections")
    assert reflections.state == "not_yet"
    assert "#2 (key points); #3 (key points)" in reflections.reason
    assert "#1" not in reflections.reason
    alone = assess(record(schemes["iet"], [ok]), today=TODAY)
    assert req(alone, "reflections").state == "met"


def test_reflections_without_activities_are_not_applicable(schemes: dict[str, Scheme]) -> None:
    result = assess(record(schemes["iet"], []), today=TODAY)
    assert req(result, "reflections").state == "not_applicable"


def test_long_lists_of_missing_reflections_are_cut_short(schemes: dict[str, Scheme]) -> None:
    entries = [entry(n, "2026-02-01", 1, "self_study", {"key_points": None}) for n in range(1, 9)]
    reason = req(assess(record(schemes["iet"], entries), today=TODAY), "reflections").reason
    assert "8 of 8 activities" in reason and "; and 3 more" in reason and "#6" not in reason


# ---------------------------------------------------------------- STEP

STEP_DUTIES = (
    "Drafting wills",
    "Trust administration",
    "Tax planning",
    "Client care",
    "Ethical behaviour",
)


@pytest.mark.parametrize(
    ("title", "answer"),
    [
        ("Webinar: ethics of acting for both spouses", "Yes, again"),
        ("Conference workshop", "Yes, again. Covered the STEP Code of Conduct in depth."),
    ],
)
def test_step_ethics_activity_found_in_title_or_reflection(
    schemes: dict[str, Scheme], title: str, answer: str
) -> None:
    e = entry(1, "2026-05-01", 2, "webinar", {"use_again": answer, "impact": "x"}, title=title)
    ethics = req(assess(record(schemes["step"], [e]), today=TODAY), "ethics_activity")
    assert ethics.state == "met"
    assert ethics.reason.startswith(f"#1 '{title}' (1 May 2026)")


def test_step_activity_linked_to_an_ethics_objective_counts(schemes: dict[str, Scheme]) -> None:
    e = entry(4, "2026-05-01", 2, "reading", STEP_OK, title="Read: vulnerable clients")
    plan = Plan(
        objectives=(ObjectiveView(1, "Client duties", "ethics"),), links=frozenset({(4, 1)})
    )
    rec = record(schemes["step"], [e])
    assert req(assess(rec, today=TODAY), "ethics_activity").state == "not_yet"
    assert req(assess(rec, today=TODAY, plan=plan), "ethics_activity").state == "met"


def test_step_year_without_ethics_says_what_to_do(schemes: dict[str, Scheme]) -> None:
    rec = record(schemes["step"], [entry(1, "2026-05-01", 2, "course", STEP_OK, title="IHT")])
    ethics = req(assess(rec, today=TODAY), "ethics_activity")
    assert ethics.state == "not_yet"
    assert ethics.reason == "no activity related to ethics in CPD year 2026/27"
    assert "online course" in ethics.action and "ethics objective" in ethics.action


@pytest.mark.parametrize(
    ("duties", "state", "words"),
    [
        ((), "not_yet", "none recorded yet"),
        (STEP_DUTIES[:4], "not_yet", "4 recorded; STEP asks for your top 5–7; none is ethical"),
        (("A", "B", "C", "D", "E", "F"), "not_yet", "none is ethical behaviour"),
        ((*STEP_DUTIES, "F", "G", "H"), "not_yet", "8 recorded"),
        (STEP_DUTIES, "met", "5 recorded, including ethical behaviour"),
        (("Acting ethically with clients", "B", "C", "D", "E", "F", "G"), "met", "7 recorded"),
    ],
)
def test_step_key_responsibilities(
    schemes: dict[str, Scheme], duties: tuple[str, ...], state: str, words: str
) -> None:
    result = assess(record(schemes["step"], []), today=TODAY, plan=Plan(responsibilities=duties))
    duty = req(result, "responsibilities")
    assert duty.state == state
    assert words in duty.reason
    assert (duty.action == "") == (state == "met")


def test_step_each_activity_evaluated(schemes: dict[str, Scheme]) -> None:
    rec = record(
        schemes["step"],
        [
            entry(1, "2026-05-01", 2, "course", STEP_OK),
            entry(2, "2026-06-01", 2, "reading", {"use_again": None, "impact": "Better letters"}),
        ],
    )
    evaluated = req(assess(rec, today=TODAY), "evaluated")
    assert evaluated.state == "not_yet"
    assert "#2 (would you use it again)" in evaluated.reason


def test_step_record_passes_everything_and_splits_structured(schemes: dict[str, Scheme]) -> None:
    rec = record(
        schemes["step"],
        [
            entry(1, "2026-05-01", 1.5, "webinar", STEP_OK, title="Ethics update", structured=True),
            entry(2, "2026-06-01", 1, "reading", STEP_OK, structured=False),
        ],
    )
    result = assess(rec, today=TODAY, plan=Plan(responsibilities=STEP_DUTIES))
    assert result.met
    # Hours (no target), evaluated, an ethics activity, 1 h 30 of ethics, responsibilities.
    assert [r.state for r in result.requirements] == ["not_applicable"] + ["met"] * 4
    assert result.structured_minutes == {"structured": 90, "unstructured": 60, "not_set": 0}


# ---------------------------------------------------------------- IPEM / HCPC


def test_ipem_outcomes_and_application_per_activity(schemes: dict[str, Scheme]) -> None:
    rec = record(
        schemes["ipem"],
        [
            entry(1, "2026-02-01", 2, "work_based", IPEM_OK),
            entry(2, "2026-03-01", 2, "self_directed", {"outcomes": "Read the new IRR guidance"}),
        ],
    )
    outcomes = req(assess(rec, today=date(2026, 4, 1)), "outcomes")
    assert outcomes.state == "not_yet"
    assert "#2 (application to practice)" in outcomes.reason


def test_ipem_needs_two_learning_methods(schemes: dict[str, Scheme]) -> None:
    one = [
        entry(1, "2026-02-01", 2, "formal_educational", IPEM_OK),
        entry(2, "2026-03-01", 2, "formal_educational", IPEM_OK),
    ]
    methods = req(assess(record(schemes["ipem"], one), today=date(2026, 4, 1)), "methods")
    assert methods.state == "not_yet"
    assert methods.reason == "1 of 2 methods: Formal/educational"
    assert "Work-based learning" in methods.action
    two = [*one, entry(3, "2026-03-20", 1, "work_based", IPEM_OK)]
    methods = req(assess(record(schemes["ipem"], two), today=date(2026, 4, 1)), "methods")
    assert methods.state == "met"
    assert "Work-based learning" in methods.reason and "Formal/educational" in methods.reason


def test_ipem_gap_of_more_than_three_months_is_reported(schemes: dict[str, Scheme]) -> None:
    entries = [
        entry(1, "2026-01-10", 2, "work_based", IPEM_OK),
        entry(2, "2026-06-01", 2, "self_directed", IPEM_OK),
        entry(3, "2026-07-15", 2, "work_based", IPEM_OK),
    ]
    gaps = req(assess(record(schemes["ipem"], entries), today=date(2026, 8, 1)), "gaps")
    assert gaps.state == "not_yet"
    assert gaps.reason == "none from 11 Jan 2026 to 31 May 2026 (141 days)"
    assert "explain the gap" in gaps.action


def test_ipem_explained_gap_passes(schemes: dict[str, Scheme]) -> None:
    entries = [
        entry(1, "2026-01-10", 2, "work_based", IPEM_OK),
        entry(2, "2026-06-01", 2, "self_directed", IPEM_OK),
    ]
    sick = GapNote(date(2026, 2, 1), date(2026, 4, 30), "Sick leave after surgery")
    result = assess(
        record(schemes["ipem"], entries), today=date(2026, 7, 1), plan=Plan(gap_notes=(sick,))
    )
    gaps = req(result, "gaps")
    assert gaps.state == "met"
    assert gaps.reason == "1 gap of 3+ months, explained"


def test_ipem_explanation_must_cover_enough_of_the_gap(schemes: dict[str, Scheme]) -> None:
    entries = [
        entry(1, "2026-01-10", 2, "work_based", IPEM_OK),
        entry(2, "2026-08-01", 2, "self_directed", IPEM_OK),
    ]
    short = GapNote(date(2026, 2, 1), date(2026, 2, 14), "Two weeks off")
    gaps = req(
        assess(
            record(schemes["ipem"], entries), today=date(2026, 9, 1), plan=Plan(gap_notes=(short,))
        ),
        "gaps",
    )
    assert gaps.state == "not_yet"
    assert "none from 15 Feb 2026 to 31 Jul 2026" in gaps.reason


def test_ipem_open_gap_up_to_today(schemes: dict[str, Scheme]) -> None:
    entries = [
        entry(1, "2026-01-10", 2, "work_based", IPEM_OK),
        entry(2, "2026-03-01", 2, "self_directed", IPEM_OK),
    ]
    gaps = req(assess(record(schemes["ipem"], entries), today=TODAY), "gaps")
    assert gaps.state == "not_yet"
    assert gaps.reason == "no activity since 2 Mar 2026 (266 days)"


def test_ipem_regular_activity_has_no_gap(schemes: dict[str, Scheme]) -> None:
    entries = [
        entry(n, f"2026-{m:02d}-05", 1, "work_based", IPEM_OK)
        for n, m in enumerate(range(1, 12, 2), 1)
    ]
    gaps = req(assess(record(schemes["ipem"], entries), today=TODAY), "gaps")
    assert gaps.state == "met"
    assert gaps.reason == "no 3 months without activity"


def test_gap_is_counted_from_activity_to_activity() -> None:
    start, base = date(2026, 1, 1), date(2026, 3, 1)
    just_under = [start, base, base + timedelta(days=91)]
    exactly = [start, base, base + timedelta(days=92)]
    assert find_gaps(just_under, (), start, just_under[-1], 92) == []
    found = find_gaps(exactly, (), start, exactly[-1], 92)
    assert [(g.first, g.last, g.days) for g in found] == [(date(2026, 3, 2), date(2026, 5, 31), 91)]


def test_gaps_not_checked_before_the_year_begins(schemes: dict[str, Scheme]) -> None:
    gaps = req(assess(record(schemes["ipem"], []), today=date(2025, 12, 1)), "gaps")
    assert gaps.state == "not_applicable"


# ---------------------------------------------------------------- figures and lines


def test_figures_and_lines(schemes: dict[str, Scheme]) -> None:
    rec = record(
        schemes["iet"],
        [
            entry(1, "2026-02-01", 20, "self_study", IET_OK),
            entry(2, "2026-03-01", 12, "volunteering", IET_OK),
            entry(3, "2026-04-01", 1, "mystery", IET_OK),
        ],
    )
    result = assess(rec, today=TODAY)
    assert result.total_minutes == 33 * 60
    assert result.minutes_by_category == {"volunteering": 720, "self_study": 1200, "mystery": 60}
    assert list(result.minutes_by_category) == ["volunteering", "self_study", "mystery"]
    assert result.structured_minutes is None  # IET does not track it
    assert result.lines() == [
        "✓ Hours: 33 h of 30 h; target 30 h a year (Professionally active)",
        "✓ Reflection on each activity: all 3 activities have key points",
    ]
    behind = assess(record(schemes["iet"], []), today=TODAY)
    assert behind.lines()[0] == (
        "✗ Hours: 0 min of 30 h; target 30 h a year (Professionally active) "
        "→ log 30 h more dated by 31 Dec 2026"
    )

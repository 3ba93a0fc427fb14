"""/status and App Home assess a CPD year counted by the database (`tally.year_tally`), not
the loaded record. For every scheme that must decide exactly what the loaded record does
(`Report.assessment`: exports, the nudge chart), and /status must read the same."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest

from bot.core.model import (
    IdentityKey,
    Incoming,
    ReflectionView,
)
from bot.core.plan import GapNote, StatusPeriod
from bot.core.record import summary_of
from bot.core.schemes import Scheme
from bot.core.snapshot import Snapshot
from bot.dialogue import Context, Conv, step
from bot.services import records
from bot.services.engine import Engine
from storage import entry_store, repo, tally
from storage import plan_store as plan_repo
from storage.db import Database
from storage.models import Person
from tests.conftest import Chat, Clock


@dataclass(frozen=True)
class Activity:
    number: int
    day: str
    hours: float
    category: str
    answers: dict[str, str | None] = field(default_factory=dict)
    title: str = ""
    structured: bool | None = None
    deleted: bool = False
    objectives: tuple[int, ...] = ()  # linked to these objective numbers


@dataclass(frozen=True)
class Year:
    """A person's record and plan, and what the assessment must say about it."""

    scheme: str
    activities: tuple[Activity, ...]
    expect: tuple[tuple[str, str, str], ...]  # (requirement id, state, words in its line)
    status: str = ""
    studying: bool = False
    year_start: tuple[int, int] | None = None
    periods: tuple[StatusPeriod, ...] = ()
    objectives: tuple[tuple[str, str], ...] = ()  # (title, area): O1, O2, ...
    responsibilities: tuple[str, ...] = ()
    gap_notes: tuple[GapNote, ...] = ()
    today: date = date(2026, 11, 22)


a = Activity


GENERIC = {"learned": "Good points", "apply": "Use at work"}
IET = {"key_points": "Boundaries and PPE", "change": "Check labels"}
IES = {"quality_value": "Better surveys", "user_benefit": "Faster reports"}
IPEM = {"outcomes": "New QA protocol", "application": "Fewer repeat scans"}
STEP = {"use_again": "Yes, again", "impact": "Clearer advice"}
DUTIES = ("Drafting wills", "Trust administration", "Tax planning", "Client care")
NO_KEY_POINTS = tuple(
    a(n, f"2026-0{1 + n % 8}-1{n % 3}", 1.5, "self_study", answers={"key_points": None})
    for n in range(1, 9)
)

YEARS = {
    "generic: blank and white-space answers, deleted and other years' entries": Year(
        "generic",
        (
            a(1, "2026-02-01", 10, "courses", answers={"learned": "Good", "apply": None}),
            a(2, "2026-03-01", 2, "events", answers={"learned": "   "}),
            a(3, "2026-03-05", 1, "self_study", answers={"learned": "\u3000\xa0\x1f\x85"}),
            a(4, "2026-04-01", 1, "other", answers={"learned": "  starts with spaces"}),
            a(5, "2026-04-02", 1, "work_based", answers={"learned": "Über die Normen"}),
            a(6, "2026-04-03", 0.5, "mystery"),  # never asked: no reflection rows at all
            a(7, "2026-05-01", 3, "courses", answers={"learned": None}, deleted=True),
            a(8, "2025-12-31", 5, "courses", answers={"learned": None}),
            a(9, "2027-01-01", 5, "courses", answers={"learned": None}),
            a(10, "2026-06-01", 0, "courses", answers={"learned": "\u2003x"}),
            a(11, "2026-01-15", 1, "events", answers={"learned": ""}),
            a(12, "2026-03-05", 1, "events", answers={"apply": "Only the optional one"}),
        ),
        (
            ("hours", "not_yet", "17 h 30 of 30 h"),
            ("reflections", "not_yet", "5 of 9 activities still need an answer: #11 (what you"),
            ("reflections", "not_yet", "#2 (what you learned); #3 (what you learned); #12"),
        ),
    ),
    "generic: nothing logged, no hours target": Year(
        "generic",
        (),
        (("hours", "not_applicable", "no hours target"), ("reflections", "not_applicable", "")),
        status="no_target",
    ),
    "IET: pro rata after a period, eight activities without key points": Year(
        "iet",
        (*NO_KEY_POINTS, a(9, "2026-09-01", 2, "volunteering", answers={**IET, "change": None})),
        (
            ("hours", "not_yet", "pro rata: Not professionally active 1 Mar 2026 – 31 Aug 2026"),
            ("reflections", "not_yet", "8 of 9 activities"),
            ("reflections", "not_yet", "; and 3 more"),
        ),
        periods=(StatusPeriod("not_active", date(2026, 3, 1), date(2026, 8, 31)),),
    ),
    "IET: own year start, all key points, optional answers pending": Year(
        "iet",
        (
            a(1, "2026-03-31", 20, "training_courses", answers=IET),  # the year before
            a(2, "2026-04-01", 20, "training_courses", answers={**IET, "change": None}),
            a(3, "2026-11-01", 15, "self_study", answers={**IET, "change": None}),
        ),
        (
            ("hours", "met", "35 h of 30 h"),
            ("reflections", "met", "all 2 activities have key points"),
        ),
        year_start=(4, 1),
    ),
    "IES: a token category, one element missing, parental leave": Year(
        "ies",
        (
            a(1, "2026-02-01", 25, "work_based", answers=IES),
            a(2, "2026-03-01", 4, "formal_educational", answers={**IES, "user_benefit": None}),
            a(3, "2026-04-01", 1, "self_directed", answers={**IES, "quality_value": "  "}),
            a(4, "2026-04-01", 0.25, "mystery", answers=IES),
        ),
        (
            ("hours", "met", "pro rata: Parental leave 1 Mar 2026 – 31 Aug 2026"),
            ("balance", "not_yet", "too small to count: Self-directed learning 1 h (3%)"),
            ("both_elements", "not_yet", "#2 (benefit to the users of your work)"),
            ("both_elements", "not_yet", "#3 (value to the quality of your work)"),
        ),
        periods=(StatusPeriod("parental_leave", date(2026, 3, 1), date(2026, 8, 31)),),
    ),
    "IES: studying, on a career break but a member for three months": Year(
        "ies",
        (
            a(1, "2026-02-01", 5, "formal_educational", answers=IES),
            a(2, "2026-03-01", 3, "work_based", answers=IES),
        ),
        (
            ("hours", "met", "target pro rata: Professional member 1 Jan 2026 – 31 Mar 2026"),
            ("balance", "met", "2 of 2 needed"),
            ("both_elements", "met", "all 2 activities"),
        ),
        status="career_break",
        studying=True,
        periods=(StatusPeriod("member", date(2026, 1, 1), date(2026, 3, 31)),),
    ),
    "IPEM: a gap explained only in part, one answer missing": Year(
        "ipem",
        (
            a(1, "2026-01-10", 2, "work_based", answers=IPEM),
            a(2, "2026-06-01", 2, "self_directed", answers={"outcomes": "Read IRR guidance"}),
            a(3, "2026-07-15", 2, "work_based", answers=IPEM),
            a(4, "2026-07-15", 1, "work_based", answers=IPEM),
        ),
        (
            ("outcomes", "not_yet", "#2 (application to practice)"),
            ("methods", "met", "2 methods"),
            ("gaps", "not_yet", "none from 15 Feb 2026 to 31 May 2026 (106 days)"),
        ),
        gap_notes=(GapNote(date(2026, 1, 11), date(2026, 2, 14), "Sick leave"),),
        today=date(2026, 8, 1),
    ),
    "IPEM: gaps explained, one method, an open gap": Year(
        "ipem",
        (
            a(1, "2026-01-10", 2, "formal_educational", answers=IPEM),
            a(2, "2026-06-01", 2, "formal_educational", answers=IPEM),
        ),
        (
            ("methods", "not_yet", "1 of 2 methods: Formal/educational"),
            ("gaps", "not_yet", "no activity since 2 Jun 2026 (174 days)"),
        ),
        gap_notes=(GapNote(date(2026, 1, 1), date(2026, 5, 31), "Parental leave"),),
    ),
    "IPEM: regular activity, nothing missing": Year(
        "ipem",
        tuple(
            a(n, f"2026-{m:02d}-05", 1, ("work_based", "self_directed")[n % 2], answers=IPEM)
            for n, m in enumerate(range(1, 12, 2), 1)
        ),
        (("gaps", "met", "no 3 months without activity"), ("outcomes", "met", "all 6")),
    ),
    "STEP: ethics in a title, an answer and a linked objective": Year(
        "step",
        (
            a(1, "2026-04-05", 2, "course", answers=STEP, title="Unethical shortcuts, a talk"),
            a(2, "2026-05-01", 1.5, "webinar", answers=STEP, title="ETHİCS refresher"),
            a(3, "2026-06-01", 1, "reading", answers={**STEP, "impact": "A conflıct of ınterest"}),
            a(
                4,
                "2026-07-01",
                1,
                "reading",
                answers=STEP,
                title="Vulnerable clients",
                objectives=(1,),
            ),
            a(5, "2026-07-02", 1, "coaching", answers=STEP, title="Mentoring", objectives=(2,)),
            a(6, "2026-07-03", 3, "course", answers=STEP, title="Ethics day", deleted=True),
            a(
                7,
                "2026-08-01",
                1,
                "other",
                answers={"use_again": None, "impact": "x"},
                structured=True,
            ),
            a(8, "2026-08-02", 1, "other", answers={"use_again": "Not sure"}, structured=False),
            a(9, "2026-09-01", 1, "in_house", answers=STEP, title="Our Code Of Conduct"),
            a(10, "2026-09-02", 1, "reading", answers={**STEP, "impact": "Conflictſ of ınterest"}),
        ),
        (
            ("ethics_activity", "met", "#2 'ETHİCS refresher' (1 May 2026) and 4 more"),
            ("responsibilities", "met", "5 recorded, including ethical behaviour"),
            ("evaluated", "not_yet", "#7 (would you use it again); #8 (impact on you"),
        ),
        objectives=(("Client duties", "ethics"), ("Leadership", "management")),
        responsibilities=(*DUTIES, "Ethical behaviour"),
    ),
    "STEP: nothing on ethics, too few responsibilities": Year(
        "step",
        (
            a(1, "2026-04-05", 2, "course", answers=STEP, title="Unethical shortcuts, a talk"),
            a(2, "2026-05-01", 1, "webinar", answers={**STEP, "impact": "Codes of conduct"}),
            a(3, "2026-06-01", 1, "reading", answers=STEP, objectives=(1,)),
        ),
        (
            ("ethics_activity", "not_yet", "no activity related to ethics in CPD year 2026/27"),
            ("responsibilities", "not_yet", "4 recorded; STEP asks for your top 5–7"),
        ),
        objectives=(("Technical depth", "technical"),),
        responsibilities=DUTIES,
    ),
}


def store(db: Database, key: IdentityKey, year: Year, now: datetime) -> None:
    with db.transaction() as s:
        _, person, _ = repo.get_or_create_identity(s, key, now=now)
        assert person.id is not None
        fields: dict[str, object] = {
            "scheme_id": year.scheme,
            "onboarded": True,
            "studying_he": year.studying,
        }
        if year.status:
            fields["status_id"] = year.status
        if year.year_start:
            fields["year_start_month"], fields["year_start_day"] = year.year_start
        repo.update_person(s, person.id, fields)
        plan_repo.set_responsibilities(s, person.id, year.responsibilities)
        for title, area in year.objectives:
            plan_repo.add_objective(s, person.id, title=title, area=area, target_date=None, now=now)
        for note in year.gap_notes:
            plan_repo.add_gap_note(s, person.id, note)
        for period in year.periods:
            plan_repo.add_status_period(s, person.id, period)
        for act in year.activities:
            entry_store.create_entry(
                s,
                person.id,
                number=act.number,
                title=act.title or f"Activity {act.number}",
                activity_date=date.fromisoformat(act.day),
                minutes=round(act.hours * 60),
                category=act.category,
                structured=act.structured,
                source="chat",
                reflections=[
                    ReflectionView(q, f"Question {q}?", x) for q, x in act.answers.items()
                ],
                now=now,
            )
            for objective in act.objectives:
                plan_repo.link_entry(s, person.id, act.number, objective)
            if act.deleted:
                entry = entry_store.get_entry(s, person.id, act.number)
                assert entry is not None
                entry_store.set_deleted(s, entry, deleted=True, now=now)


@pytest.mark.parametrize("name", YEARS)
def test_status_counted_by_the_database_decides_as_the_loaded_record(
    name: str, db: Database, schemes: dict[str, Scheme], clock: Clock
) -> None:
    year = YEARS[name]
    clock.now = datetime.combine(year.today, datetime.min.time(), UTC).replace(hour=12)
    engine = Engine(db, schemes, clock)
    key = IdentityKey("console", "alex")
    store(db, key, year, clock.now)

    report = records.report_for(engine, key)  # the loaded record, as exports assess it
    assert report is not None
    with db.transaction() as s:
        identity = repo.find_identity(s, key)
        assert identity is not None
        person = s.get(Person, identity.person_id)
        assert person is not None
        view = repo.person_view(person)
        summary, assessment = records.standing(
            s, identity.person_id, view, schemes[year.scheme], report.today
        )

    assert assessment == report.assessment
    assert list(assessment.minutes_by_category.items()) == list(
        report.assessment.minutes_by_category.items()
    )
    assert summary == summary_of(report.record)
    for requirement_id, state, words in year.expect:
        found = assessment.requirement(requirement_id)
        assert found is not None and found.state == state, (found, state)
        assert words in found.line, found.line

    # What /status says is what the loaded record's assessment says.
    said = Chat(engine, key).say("/status")[0].text
    from_record = Snapshot(
        now=clock.now,
        person=view,
        summary=summary_of(report.record),
        assessment=report.assessment,
    )
    expected = step(Conv(), Incoming.text_of(key, "/status"), Context(from_record, schemes))
    assert said == expected.replies[0].text
    assert report.assessment.lines()[0] in said


def test_pending_reflections_are_counted_once_an_entry(
    db: Database, schemes: dict[str, Scheme], clock: Clock
) -> None:
    both_pending = a(1, "2026-02-01", 1, "self_study", answers={"key_points": None, "change": None})
    one_pending = a(2, "2026-02-02", 1, "self_study", answers={**IET, "change": None})
    done = a(3, "2026-02-03", 1, "self_study", answers=IET)
    key = IdentityKey("console", "sam")
    store(db, key, Year("iet", (both_pending, one_pending, done), ()), clock.now)
    said = Chat(Engine(db, schemes, clock), key).say("/status")[0].text
    assert "3 entries; 2 with reflections pending — /reflect." in said
    assert "✗ Reflection on each activity: 1 of 3 activities still need an answer: #1" in said


def test_an_answer_is_blank_in_the_database_exactly_when_python_strips_it_away() -> None:
    blank = {c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()}
    assert set(tally.STRIPPED) == blank

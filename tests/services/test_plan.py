"""The plan: responsibilities, objectives, entry links and tags, periods, gaps, /review."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session

from bot.core.model import EntryView, IdentityKey, ReflectionView
from bot.core.plan import (
    GapNote,
    ObjectiveView,
    Plan,
    PlanError,
    StatusPeriod,
    normalise_tag,
    parse_area,
    review,
    review_text,
)
from bot.services import records
from bot.services.engine import Engine
from storage import entry_store, repo
from storage import plan_store as plan_repo
from storage.db import Database
from storage.models import Person

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def person(session: Session, name: str, scheme: str = "step") -> Person:
    _, p, _ = repo.get_or_create_identity(session, IdentityKey("console", name), now=NOW)
    repo.update_person(session, p.id, {"scheme_id": scheme, "status_id": "", "onboarded": True})
    return p


def add_entry(session: Session, p: Person, number: int, day: str, minutes: int, title: str) -> None:
    entry_store.create_entry(
        session,
        p.id,
        number=number,
        title=title,
        activity_date=date.fromisoformat(day),
        minutes=minutes,
        category="reading",
        structured=False,
        source="chat",
        reflections=[ReflectionView("use_again", "Use again?", "Yes, again")],
        now=NOW,
    )


def test_objectives_are_numbered_per_person_and_linked_to_entries(db: Database) -> None:
    with db.transaction() as s:
        ann, bob = person(s, "ann"), person(s, "bob")
        assert ann.id is not None and bob.id is not None
        add_entry(s, ann, 1, "2026-02-01", 90, "Read: IHT on pensions")
        add_entry(s, ann, 2, "2026-03-01", 60, "Webinar: trust registration")
        o1 = plan_repo.add_objective(
            s,
            ann.id,
            title="IHT on pensions",
            area="technical",
            target_date=date(2026, 6, 30),
            now=NOW,
        )
        o2 = plan_repo.add_objective(
            s,
            ann.id,
            title="Lead the team meeting",
            area="management",
            target_date=None,
            now=NOW,
        )
        b1 = plan_repo.add_objective(
            s, bob.id, title="Ethics refresher", area="ethics", target_date=None, now=NOW
        )
        assert (o1.label, o2.label, b1.label) == ("O1", "O2", "O1")
        assert plan_repo.link_entry(s, ann.id, 1, 1) is True
        assert plan_repo.link_entry(s, ann.id, 2, 1) is True
        assert plan_repo.link_entry(s, ann.id, 1, 1) is False  # already linked
    with db.transaction() as s:
        plan = plan_repo.load_plan(s, ann.id)
        entries = entry_store.entries_between(s, ann.id, date(2026, 1, 1), date(2027, 1, 1))
        assert plan_repo.load_plan(s, bob.id).links == frozenset()
    assert plan.links == {(1, 1), (2, 1)}
    assert [o.title for o in plan.objectives_of(1)] == ["IHT on pensions"]
    progress = review(plan, entries)
    assert [(p.objective.label, p.minutes, [e.number for e in p.entries]) for p in progress] == [
        ("O1", 150, [1, 2]),
        ("O2", 0, []),
    ]
    text = review_text(progress, today=date(2026, 7, 1))
    assert (
        "O1 IHT on pensions (Technical knowledge, by 30 Jun 2026) — overdue: 2 activities, 2 h 30"
        in text
    )
    assert (
        "O2 Lead the team meeting (Management/leadership) — open: no activities linked yet" in text
    )
    assert "#2 · Sun 1 Mar · Webinar: trust registration" in text


def test_linking_names_what_is_missing(db: Database) -> None:
    with db.transaction() as s:
        ann = person(s, "ann")
        assert ann.id is not None
        add_entry(s, ann, 1, "2026-02-01", 90, "Read")
        plan_repo.add_objective(s, ann.id, title="T", area="technical", target_date=None, now=NOW)
        with pytest.raises(PlanError, match="no entry #7"):
            plan_repo.link_entry(s, ann.id, 7, 1)
        with pytest.raises(PlanError, match="no objective O4"):
            plan_repo.link_entry(s, ann.id, 1, 4)
        with pytest.raises(PlanError, match="area must be one of: technical, ethics"):
            plan_repo.add_objective(s, ann.id, title="X", area="fun", target_date=None, now=NOW)


def test_deleted_entries_drop_out_of_links_and_deleting_an_objective_keeps_entries(
    db: Database,
) -> None:
    with db.transaction() as s:
        ann = person(s, "ann")
        assert ann.id is not None
        add_entry(s, ann, 1, "2026-02-01", 90, "Read")
        add_entry(s, ann, 2, "2026-02-02", 30, "Listen")
        plan_repo.add_objective(s, ann.id, title="T", area="technical", target_date=None, now=NOW)
        plan_repo.link_entry(s, ann.id, 1, 1)
        plan_repo.link_entry(s, ann.id, 2, 1)
        entry = entry_store.get_entry(s, ann.id, 2)
        assert entry is not None
        entry_store.set_deleted(s, entry, deleted=True, now=NOW)
        assert plan_repo.load_plan(s, ann.id).links == {(1, 1)}
        plan_repo.delete_objective(s, ann.id, 1)
        plan = plan_repo.load_plan(s, ann.id)
        assert plan.objectives == () and plan.links == frozenset()
        assert len(entry_store.entries_between(s, ann.id, date(2026, 1, 1), date(2027, 1, 1))) == 1


def test_objective_done_and_reordering_in_review(db: Database) -> None:
    with db.transaction() as s:
        ann = person(s, "ann")
        assert ann.id is not None
        for title, due in [
            ("Later", date(2026, 12, 1)),
            ("Sooner", date(2026, 9, 1)),
            ("No date", None),
        ]:
            plan_repo.add_objective(
                s, ann.id, title=title, area="personal", target_date=due, now=NOW
            )
        plan_repo.set_objective_done(s, ann.id, 2, done=True, now=NOW)
        plan_repo.update_objective(s, ann.id, 3, {"area": "business"})
        plan = plan_repo.load_plan(s, ann.id)
    assert [p.objective.title for p in review(plan, [])] == ["Later", "No date", "Sooner"]
    assert plan.objective(2) == ObjectiveView(2, "Sooner", "personal", date(2026, 9, 1), "done")
    assert plan.objective(3) is not None and plan.objective(3).area_label == "Business"  # type: ignore[union-attr]


def test_responsibilities_keep_their_order(db: Database) -> None:
    with db.transaction() as s:
        ann = person(s, "ann")
        assert ann.id is not None
        plan_repo.set_role(s, ann.id, "Private client solicitor", now=NOW)
        plan_repo.set_responsibilities(s, ann.id, ["Wills", "Trusts", " ", "Tax"])
        assert plan_repo.add_responsibility(s, ann.id, "Ethical behaviour") == 4
        assert plan_repo.remove_responsibility(s, ann.id, 2) == "Trusts"
        with pytest.raises(PlanError, match="no responsibility 9"):
            plan_repo.remove_responsibility(s, ann.id, 9)
        plan = plan_repo.load_plan(s, ann.id)
    assert plan.role == "Private client solicitor"
    assert plan.responsibilities == ("Wills", "Tax", "Ethical behaviour")


def test_entry_tags_are_normalised_and_replaced(db: Database) -> None:
    with db.transaction() as s:
        ann = person(s, "ann")
        assert ann.id is not None
        add_entry(s, ann, 1, "2026-02-01", 90, "Design review")
        assert plan_repo.set_entry_tags(s, ann.id, 1, ["a", " c ", "A"]) == ("A", "C")
        assert plan_repo.load_plan(s, ann.id).tags_of(1) == ("A", "C")
        plan_repo.set_entry_tags(s, ann.id, 1, ["e"])
        assert plan_repo.load_plan(s, ann.id).tags_of(1) == ("E",)
    with pytest.raises(PlanError):
        normalise_tag("   ")
    with pytest.raises(PlanError):
        normalise_tag("x" * 17)


def test_status_periods_and_gap_notes_round_trip(db: Database) -> None:
    leave = StatusPeriod("parental_leave", date(2026, 3, 1), date(2026, 8, 31))
    old = StatusPeriod("career_break", date(2024, 1, 1), date(2024, 6, 30))
    with db.transaction() as s:
        ann = person(s, "ann", scheme="ies")
        assert ann.id is not None
        plan_repo.add_status_period(s, ann.id, leave)
        plan_repo.add_status_period(s, ann.id, old)
        plan_repo.add_gap_note(s, ann.id, GapNote(date(2026, 3, 1), date(2026, 8, 31), "Leave"))
        with pytest.raises(PlanError, match="say briefly why"):
            plan_repo.add_gap_note(s, ann.id, GapNote(date(2026, 1, 1), date(2026, 1, 2), " "))
        assert plan_repo.status_periods(s, ann.id, date(2026, 1, 1), date(2027, 1, 1)) == [leave]
        assert plan_repo.status_periods(s, ann.id) == [leave, old]
        assert plan_repo.remove_status_period(s, ann.id, old) is True
        assert plan_repo.gap_notes(s, ann.id) == [
            GapNote(date(2026, 3, 1), date(2026, 8, 31), "Leave")
        ]
    with pytest.raises(PlanError, match="must end on or after"):
        StatusPeriod("x", date(2026, 2, 1), date(2026, 1, 1))


def test_parse_area_understands_what_people_type() -> None:
    assert parse_area("Ethics") == "ethics"
    assert parse_area("leadership") == "management"
    assert parse_area("manag") == "management"
    assert parse_area("tech") == "technical"
    assert parse_area("cooking") is None


def test_review_ignores_links_to_entries_not_given() -> None:
    plan = Plan(objectives=(ObjectiveView(1, "T", "technical"),), links=frozenset({(5, 1), (6, 2)}))
    e5 = EntryView(5, "Read", date(2026, 1, 5), 30, "reading", False, "chat", False)
    (only,) = review(plan, [e5])
    assert only.entries == (e5,) and only.last_activity == date(2026, 1, 5)
    assert review_text([], today=date(2026, 1, 1)).startswith("No development objectives yet")


def test_report_uses_plan_and_periods_for_the_assessment(engine: Engine, db: Database) -> None:
    key = IdentityKey("console", "ann")
    with db.transaction() as s:
        ann = person(s, "ann")
        assert ann.id is not None
        add_entry(s, ann, 1, "2026-05-01", 90, "Read: vulnerable clients")
        plan_repo.add_objective(
            s, ann.id, title="Client duties", area="ethics", target_date=None, now=NOW
        )
        plan_repo.set_responsibilities(s, ann.id, ["A", "B", "C", "D", "Ethical behaviour"])
    report = records.report_for(engine, key)
    assert report is not None
    before = report.assessment
    assert before.requirement("ethics_activity").state == "not_yet"  # type: ignore[union-attr]
    assert before.requirement("responsibilities").state == "met"  # type: ignore[union-attr]
    with db.transaction() as s:
        plan_repo.link_entry(s, ann.id, 1, 1)
    report = records.report_for(engine, key)
    assert report is not None
    assert report.assessment.requirement("ethics_activity").state == "met"  # type: ignore[union-attr]
    assert records.report_for(engine, IdentityKey("console", "nobody")) is None

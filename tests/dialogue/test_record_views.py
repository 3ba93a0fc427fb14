"""Record views: /status, /export, /review."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.core.model import YearSummary
from bot.core.plan import Plan, StatusPeriod
from bot.core.record import summary_of
from bot.core.report import Report
from bot.core.schemes import Scheme
from bot.core.snapshot import Snapshot
from bot.dialogue import Context, Conv, step
from tests.dialogue.chat import (
    ENTRY,
    NOW,
    SUMMARY,
    TODAY,
    Case,
    S,
    _report,
    assert_case,
    person,
    plan_snap,
    text,
)

CASES = [
    # /review and /studying
    Case(
        "/review shows each objective's progress",
        S.IDLE,
        text("/review"),
        S.IDLE,
        "O1 Learn IEC 61850 (Technical knowledge, by 31 Mar 2027) — open: 1 activity, 1 h 30",
        snap=plan_snap(linked=(ENTRY,)),
    ),
    Case(
        "/review without objectives",
        S.IDLE,
        text("/review"),
        S.IDLE,
        "No development objectives yet",
        snap={"plan": Plan()},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transition(case: Case, schemes: dict[str, Scheme]) -> None:
    assert_case(case, schemes)


def test_status_shows_pace_and_categories(schemes: dict[str, Scheme]) -> None:
    ctx = Context(Snapshot(now=NOW, person=person(), summary=SUMMARY), schemes)
    said = step(Conv(), text("/status"), ctx).replies[0].text
    assert "CPD year 2026 (IET, Professionally active): 15 h of 30 h (50%)" in said
    assert "Behind pace" in said  # 326 of 365 days gone: 26 h 47 expected
    assert "Events and seminars: 10 h" in said and "Training courses: 5 h" in said
    assert "1 with reflections pending" in said


def test_status_pace_counts_from_when_the_person_joined(schemes: dict[str, Scheme]) -> None:
    """Joined 20 Nov, 1 h 30 logged by 22 Nov: 3 of the record's 42 days gone, not 326 of 365."""
    joined = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    summary = YearSummary(date(2026, 1, 1), date(2027, 1, 1), {"self_study": 90}, 1, 0)
    ctx = Context(Snapshot(now=NOW, person=person(joined=joined), summary=summary), schemes)
    said = step(Conv(), text("/status"), ctx).replies[0].text
    assert "1 h 30 of 30 h (5%)" in said
    assert "Behind pace by 38 min (2 h 08 expected by today)." in said


def test_status_lists_each_requirement_with_what_would_close_it(
    schemes: dict[str, Scheme],
) -> None:
    report = _report(schemes, "ies", ENTRY)
    snap = Snapshot(
        now=NOW,
        person=person(scheme_id="ies", status_id="member"),
        summary=summary_of(report.record),
        assessment=report.assessment,
    )
    said = step(Conv(), text("/status"), Context(snap, schemes)).replies[0].text
    assert "CPD year 2026 (IES, Professional member): 1 h 30 of 30 h (5%)." in said
    assert "IES requirements: 3 not yet met." in said
    assert "✗ Hours: 1 h 30 of 30 h" in said and "→ log 28 h 30 more" in said
    assert "✗ Balance across categories:" in said
    assert "→ answer them with /reflect (e.g. /reflect 7)" in said


def test_status_target_is_pro_rata_after_leave(schemes: dict[str, Scheme]) -> None:
    report = _report(schemes, "iet", ENTRY)
    leave = StatusPeriod("not_active", date(2026, 3, 1), date(2026, 8, 31))
    report = Report(report.record, Plan(), (leave,), TODAY)
    snap = Snapshot(
        now=NOW,
        person=person(),
        summary=summary_of(report.record),
        assessment=report.assessment,
    )
    said = step(Conv(), text("/status"), Context(snap, schemes)).replies[0].text
    assert "1 h 30 of 19 h 55 (8%)" in said
    assert "pro rata: Not professionally active 1 Mar 2026 – 31 Aug 2026" in said


@pytest.mark.parametrize(
    ("line", "kind", "says"),
    [
        ("/export pdf", "pdf", "Your CPD record for 2026 (PDF): 1 entry, 1 h 30"),
        ("/export markdown 2026", "md", "(Markdown)"),
        ("/export all", "all", "Everything I hold about you, as a ZIP"),
    ],
)
def test_export_of_a_file_made_after_the_transaction(
    line: str, kind: str, says: str, schemes: dict[str, Scheme]
) -> None:
    snap = Snapshot(now=NOW, person=person(), report=_report(schemes, "iet", ENTRY))
    result = step(Conv(), text(line), Context(snap, schemes))
    (reply,) = result.replies
    assert reply.file is not None and reply.file.kind == kind and reply.attachment is None
    assert says in reply.text and reply.file.failed
    assert not result.effects


@pytest.mark.parametrize("line", ["/export all 2025", "/export pdf odt", "/export excel"])
def test_export_refuses_what_it_cannot_make(line: str, schemes: dict[str, Scheme]) -> None:
    snap = Snapshot(now=NOW, person=person(), report=_report(schemes, "iet"))
    (reply,) = step(Conv(), text(line), Context(snap, schemes)).replies
    assert reply.file is None and "/export pdf, /export md" in reply.text

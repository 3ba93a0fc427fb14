"""Several bodies, one record (issue 16): the monthly check-in shows each other body the
member follows in its own CPD year, and each body's year-end summary comes when its own
year ends (STEP's year ends on 31 March). Real engine, planner and sender, frozen time,
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.core.schemes import Scheme
from bot.services.engine import Engine
from storage.db import Database
from tests.conftest import Clock
from tests.scheduling import add_entry, make_jobs, sent_to, tick, user


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def iet_with_step(db: Database, schemes: dict[str, Scheme], clock: Clock) -> None:
    engine = Engine(db, schemes, clock)
    chat = user(engine, "ian")
    chat.say("/settings bodies STEP")
    assert "You now follow IET (main) and STEP." in chat.text
    # STEP's year 2025/26 (to 31 March 2026): academic study is a STEP qualification.
    add_entry(
        db, "ian", day=date(2026, 2, 10), minutes=150, category="academic_study",
        created_at=clock.now, title="Trust law module",
    )  # fmt: skip
    # STEP's year 2026/27: the same category, in April.
    add_entry(
        db, "ian", day=date(2026, 4, 10), minutes=60, category="academic_study",
        created_at=clock.now, title="Tax module",
    )  # fmt: skip


def test_monthly_check_in_shows_the_other_body_in_its_own_year(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(utc(2026, 2, 20, 12))
    iet_with_step(db, schemes, clock)
    jobs, _ = make_jobs(db, schemes, clock)
    (nudge,) = tick(jobs, clock, utc(2026, 3, 1, 9))
    text = nudge.reply.text
    assert text.startswith("Your monthly CPD check-in — CPD year 2026 (IET).")
    assert "Hours: 3 h 30 of 30 h (12%)." in text  # IET: both entries, calendar 2026
    # STEP's year is 2025/26 until 31 March; its own checks, not IET's target.
    assert (
        "\nYour other bodies:\nSTEP, CPD year 2025/26: 2 h 30 (no hours target); not yet: " in text
    )
    assert "An activity on ethics" in text
    (april,) = tick(jobs, clock, utc(2026, 5, 1, 8))  # 09:00 BST
    assert "STEP, CPD year 2026/27: 1 h (no hours target)" in april.reply.text


def test_each_body_gets_its_year_end_summary_when_its_own_year_ends(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(utc(2026, 2, 20, 12))
    iet_with_step(db, schemes, clock)
    jobs, _ = make_jobs(db, schemes, clock)
    assert sent_to(tick(jobs, clock, utc(2026, 4, 1, 7, 59)), "yearend") == []
    sent = [m for m in tick(jobs, clock, utc(2026, 4, 1, 8)) if m.kind == "yearend"]
    assert [(m.recipient.user_id, m.key) for m in sent] == [("ian", "step:2025-04-01")]
    text = sent[0].reply.text
    assert text.startswith("Your CPD year 2025/26 has ended (STEP, STEP member).")
    assert "Total: 2 h 30." in text and "Qualification: 2 h 30" in text
    assert "Tax module" not in text and "Activities: 1;" in text
    assert "What counts for a STEP audit:" in text
    assert text.endswith(
        "/export pdf STEP 2025 has that year's record as STEP counts it; /status shows its "
        "current year beside your main body."
    )
    # Once: not again the next hour or day.
    assert sent_to(tick(jobs, clock, utc(2026, 4, 1, 9)), "yearend") == []
    assert sent_to(tick(jobs, clock, utc(2026, 4, 2, 8)), "yearend") == []
    # IET's own year ends on 31 December: its summary then, STEP's not again.
    at_new_year = sent_to(tick(jobs, clock, utc(2027, 1, 1, 9)), "yearend")
    assert [key for _, _, key in at_new_year] == [
        "2026-01-01",
        "2026-01-01:chart",
        "2026-01-01:json",
    ]

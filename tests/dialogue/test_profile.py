"""/profile (issue 16): the HCPC CPD profile gathered in chat, through the real engine on
SQLite and PostgreSQL: picking 4-6 activities, the summary with its live word count, the
five standards pre-filled from reflections, gaps explained, resuming, /cancel keeping
what was saved, and the wrong inputs of each step."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.core.model import IdentityKey
from bot.services.engine import Engine
from storage import plan_store, profile_store, repo
from storage.db import Database
from storage.models import CpdProfile
from tests.conftest import Chat


def _text(replies: list) -> str:  # type: ignore[type-arg]
    return "\n".join(r.text for r in replies)


ACTIVITIES = (  # (log line, category, outcomes, application)
    (
        "/log 2h radiotherapy QA workshop 10 feb 2025",
        "Formal/educational",
        "Learnt TG-142 tests",
        "Safer QA",
    ),
    ("/log 1h journal club 3 mar 2025", "Work-based learning", "Read on dosimetry", "Better plans"),
    (
        "/log 3h IPEM conference 20 mar 2025",
        "Formal/educational",
        "Met MR safety experts",
        "Safer scans",
    ),
    (
        "/log 1h supervised a trainee 10 apr 2025",
        "Work-based learning",
        "Coaching skills",
        "Trainee ready",
    ),
    (
        "/log 2h read the new IRMER guidance 14 oct 2026",
        "Self-directed learning",
        "IRMER changes",
        "Patient doses",
    ),
)


@pytest.fixture
def ipem(engine: Engine) -> Chat:
    chat = Chat(engine, IdentityKey("console", "ines"))
    chat.onboard("IPEM / HCPC")
    for line, category, outcome, use in ACTIVITIES:
        said = _text(chat.say(line))
        if "Log it there?" in said:  # a date in the 2025 CPD year
            said = _text(chat.say("yes"))
        if "Which category?" in said:  # not guessed from the title
            chat.say(category)
        chat.say(outcome)
        chat.say(use)
    return chat


def _pid(db: Database, chat: Chat) -> int:
    with db.transaction() as s:
        identity = repo.find_identity(s, chat.identity)
        assert identity is not None
        return identity.person_id


def _kept(db: Database, chat: Chat) -> tuple[tuple[int, ...], str, tuple[str, ...]] | None:
    with db.transaction() as s:
        return profile_store.load_profile(s, _pid(db, chat))


def test_the_whole_profile_is_gathered_and_kept(ipem: Chat, db: Database) -> None:
    said = _text(ipem.say("/profile"))
    assert "Pick 4 to 6 activities" in said
    labels = [c.label for c in ipem.replies[-1].choices]  # newest first, then Done
    assert labels[0] == "#5 Read the new IRMER guidance (14 Oct 2026)"
    assert labels[-1] == "Done picking" and len(labels) == 6
    said = _text(ipem.say("1 2 3 5"))
    assert "summary of your recent work, up to 500 words" in said
    said = _text(ipem.say("I am a clinical scientist in radiotherapy physics at a NHS trust."))
    assert "Summary kept: 12 words of 500 (488 left)." in said
    # Standard 1 is suggested from the record; 3 and 4 from the picked reflections.
    assert "standard 1 of 5" in said and "5 activities in the last two years" in said
    said = _text(ipem.press("Keep it"))
    assert "standard 2 of 5" in said and "Formal/educational" in said
    said = _text(ipem.say("A mix of courses, journal clubs and reading."))
    assert "The statement: " in said and "standard 3 of 5" in said
    assert "Learnt TG-142 tests" in said and "IRMER changes" in said
    ipem.press("Keep it")
    ipem.press("Keep it")
    said = _text(ipem.press("Keep it"))
    # 11 Apr 2025 - 13 Oct 2026: no activity for 551 days; the period starts 23 Nov 2024.
    assert "From 23 Nov 2024 to 9 Feb 2025 (79 days)" not in said
    assert "From 11 Apr 2025 to 13 Oct 2026 (551 days)" in said
    said = _text(ipem.say("Maternity leave"))
    assert "Gap explained" in said and "Your HCPC profile is kept" in said
    assert "Still to do" not in said
    kept = _kept(db, ipem)
    assert kept is not None
    numbers, summary, standards = kept
    assert numbers == (1, 2, 3, 5)
    assert summary.startswith("I am a clinical scientist")
    assert len(standards) == 5 and standards[1] == "A mix of courses, journal clubs and reading."
    with db.transaction() as s:
        notes = plan_store.gap_notes(s, _pid(db, ipem))
    assert [n.text for n in notes] == ["Maternity leave"]


def test_picking_by_buttons_and_wrong_counts(ipem: Chat, db: Database) -> None:
    ipem.say("/profile")
    for label in ("#1", "#2", "#3"):
        ipem.press(
            next(c.label for r in ipem.replies for c in r.choices if c.label.startswith(label))
        )
    said = _text(ipem.press("Done picking"))
    assert "That is 3 activities: HCPC's statement draws on 4 to 6." in said
    assert _kept(db, ipem) is not None and _kept(db, ipem)[0] == (1, 2, 3)  # type: ignore[index]
    said = _text(ipem.say("1 2 3 4 5 5"))
    assert "Each activity once" in said
    said = _text(ipem.say("1 2 3 4 5 6 7"))
    assert "#6 is not one of your activities" in said
    said = _text(ipem.say("1 2"))
    assert "That is 2 activities" in said
    said = _text(ipem.say("the good ones"))
    assert "Type the activities' numbers" in said
    assert _kept(db, ipem)[0] == (1, 2, 3)  # type: ignore[index]


def test_an_over_long_summary_is_kept_flagged_and_asked_again(ipem: Chat, db: Database) -> None:
    ipem.say("/profile")
    ipem.say("1 2 3 4")
    long = " ".join(["word"] * 540)
    said = _text(ipem.say(long))
    assert "540 words: 40 over the 500-word limit" in said
    assert "please send a shorter version" in said
    assert _kept(db, ipem)[1] == long  # type: ignore[index]
    said = _text(ipem.say(" ".join(["word"] * 500)))
    assert "500 words of 500 (0 left)" in said and "standard 1 of 5" in said


def test_cancel_keeps_what_was_saved_and_profile_resumes(ipem: Chat, db: Database) -> None:
    ipem.say("/profile")
    ipem.say("2 3 4 5")
    ipem.say("My summary.")
    said = _text(ipem.say("/cancel"))
    assert "What you gave so far is kept" in said
    assert _kept(db, ipem)[:2] == ((2, 3, 4, 5), "My summary.")  # type: ignore[index]
    said = _text(ipem.say("/profile"))
    assert "picked: 4: #2, #3, #4, #5" in said
    said = _text(ipem.press("Done picking"))
    assert "Kept: 2 words of 500 (498 left)" in said


def test_profile_and_export_hcpc_refused_to_a_non_hcpc_member(chat: Chat) -> None:
    said = _text(chat.say("/profile"))
    assert "The HCPC CPD profile is for IPEM / HCPC registrants" in said
    said = _text(chat.say("/export hcpc"))
    assert "The HCPC CPD profile is for IPEM / HCPC registrants" in said
    assert all(r.attachment is None for r in chat.replies[-2:])


def test_too_few_activities_for_a_profile(engine: Engine) -> None:
    chat = Chat(engine, IdentityKey("console", "new"))
    chat.onboard("IPEM / HCPC")
    said = _text(chat.say("/profile"))
    assert "you have 0. /log some first" in said


def test_forget_erases_the_profile(ipem: Chat, db: Database) -> None:
    ipem.say("/profile")
    ipem.say("1 2 3 4")
    ipem.say("My summary.")
    ipem.say("/cancel")
    ipem.say("/forget")
    ipem.say("FORGET")
    with db.transaction() as s:
        assert s.exec(select(CpdProfile)).all() == []

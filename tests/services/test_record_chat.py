"""The CPD record in chat, through the real engine on SQLite and PostgreSQL: /plan, /review,
/status with the assessment, /export pdf|md|all (made after the transaction) and /forget."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from bot import dialogue
from bot.core.model import IdentityKey, Incoming, Kind, LinkEntry, Outgoing, SetRole
from bot.core.plan import StatusPeriod
from bot.dialogue import Conv, Data, State, Step
from bot.services import records
from bot.services.engine import Engine
from storage import plan_store as plan_repo
from storage import repo
from storage.db import Database
from storage.models import Conversation, EntryTag, Person
from tests.conftest import Chat
from tests.services.test_import_forget import rows_of, two_people
from tests.services.test_report import pdf_text

__all__ = ["two_people"]  # the fixture, shared with test_import_forget


def log(chat: Chat, line: str, *answers: str) -> None:
    chat.say(line)
    for answer in answers:
        chat.say(answer)


def person_id(db: Database, chat: Chat) -> int:
    with db.transaction() as s:
        identity = repo.find_identity(s, chat.identity)
        assert identity is not None
        return identity.person_id


def plan_of(db: Database, chat: Chat) -> Any:
    with db.transaction() as s:
        return plan_repo.load_plan(s, person_id(db, chat))


def state_of(db: Database, chat: Chat) -> str:
    with db.transaction() as s:
        identity = repo.find_identity(s, chat.identity)
        assert identity is not None
        row = s.exec(select(Conversation).where(Conversation.identity_id == identity.id)).one()
        return row.state


def year(chat: Chat) -> None:
    log(chat, "/log 1.5h webinar on arc-flash safety yesterday #events", "PPE", "Labels")
    log(chat, "/log 2h site visit 3 nov #work", "Earthing", "later")


# ---------------------------------------------------------------- /plan


def test_plan_guided_flow_stores_role_responsibilities_and_an_objective(
    chat: Chat, db: Database
) -> None:
    chat.say("/plan")
    assert "Role: not set" in chat.text and "Objectives: none yet" in chat.text
    chat.press("Set role")
    chat.say("Protection engineer, distribution network")
    assert "Role set: Protection engineer, distribution network." in chat.text
    chat.press("Add responsibility")
    chat.say("Ethical behaviour; Protection design")
    assert "You have 2 key responsibilities" in chat.text
    chat.press("Add objective")
    chat.say("Learn IEC 61850 substation automation")
    chat.press("Technical knowledge")
    chat.say("31 March 2027")
    assert "Added O1 'Learn IEC 61850 substation automation'" in chat.text
    chat.press("Done")
    assert "Plan saved" in chat.text and state_of(db, chat) == "idle"
    plan = plan_of(db, chat)
    assert plan.role == "Protection engineer, distribution network"
    assert plan.responsibilities == ("Ethical behaviour", "Protection design")
    (objective,) = plan.objectives
    assert (objective.number, objective.area, objective.target_date) == (
        1,
        "technical",
        date(2027, 3, 31),
    )
    chat.say("/plan")
    assert "O1 Learn IEC 61850 substation automation (Technical knowledge, by 31 Mar 2027)" in (
        chat.text
    )
    assert "  2. Protection design" in chat.text


def add_objective(chat: Chat, title: str, area: str) -> None:
    chat.say("/plan")
    chat.press("Add objective")
    chat.say(title)
    chat.press(area)
    chat.press("No target date")
    chat.say("/cancel")


def test_link_one_liner_review_tag_done_and_remove(chat: Chat, db: Database) -> None:
    year(chat)
    add_objective(chat, "Arc-flash competence", "Technical knowledge")
    add_objective(chat, "Mentor a graduate", "Management/leadership")
    chat.say("/plan link 1 1")
    assert "Linked #1 'Webinar on arc-flash safety' to O1" in chat.text
    chat.say("/plan link #2 O1")
    chat.say("/plan link 2 1")
    assert "already linked" in chat.text
    chat.say("/review")
    assert "O1 Arc-flash competence (Technical knowledge) — open: 2 activities, 3 h 30" in chat.text
    assert "O2 Mentor a graduate (Management/leadership) — open: no activities linked yet" in (
        chat.text
    )
    chat.say("/plan tag 1 a c")
    assert "#1 tagged: A (Knowledge and understanding), C (" in chat.text
    with db.transaction() as s:
        assert sorted(s.exec(select(EntryTag.tag)).all()) == ["A", "C"]
    chat.say("/plan done 1")
    assert "O1 'Arc-flash competence' marked done" in chat.text
    chat.say("/review")
    assert "O1 Arc-flash competence (Technical knowledge) — done" in chat.text
    # Removing an objective through the menu takes its links, not the entries.
    chat.say("/plan")
    chat.press("Remove objective")
    chat.press("O1 Arc-flash competence")
    assert "Removed O1 'Arc-flash competence' and its 2 links; the entries stay" in chat.text
    plan = plan_of(db, chat)
    assert [o.number for o in plan.objectives] == [2] and not plan.links
    chat.say("/cancel")
    chat.say("/list")
    assert "#1" in chat.text and "#2" in chat.text


def test_bad_links_change_nothing(engine: Engine, chat: Chat, db: Database) -> None:
    year(chat)
    bob = Chat(engine, IdentityKey("console", "bob"))
    bob.onboard()
    for n in range(3):
        log(bob, f"/log 1h reading {n} yesterday #selfstudy", "x", "y")
    add_objective(chat, "Arc-flash competence", "Technical knowledge")
    chat.say("/plan link 3 1")  # Bob has a #3; Alice does not
    assert "You have no entry #3" in chat.text
    chat.say("/plan link 1 7")
    assert "There is no objective O7 (yours: O1)" in chat.text
    chat.say("/delete 2")
    chat.press("Delete")
    chat.say("/plan link 2 1")
    assert "You have no entry #2" in chat.text
    chat.say("/plan link one to the first")
    assert "e.g. '12 O3'" in chat.text
    assert not plan_of(db, chat).links
    assert plan_of(db, bob).objectives == ()


def test_stale_plan_buttons_are_ignored(chat: Chat, db: Database) -> None:
    add_objective(chat, "Arc-flash competence", "Technical knowledge")
    chat.say("/plan")
    chat.press("Remove objective")
    old = chat.choice("O1 Arc-flash competence")
    chat.press("O1 Arc-flash competence")
    assert "Removed O1" in chat.text
    chat.send(Incoming(chat.identity, Kind.CHOICE, choice=old.id))  # pressed again
    assert "earlier message" in chat.text and "Objectives: none yet" in chat.text
    chat.press("Done")
    chat.send(Incoming(chat.identity, Kind.CHOICE, choice="plan:role"))  # old menu, now idle
    assert "earlier message" in chat.text and state_of(db, chat) == "idle"


def test_bad_dates_in_the_plan_are_asked_again(chat: Chat, db: Database) -> None:
    chat.say("/plan")
    chat.press("Add objective")
    chat.say("Learn HVDC")
    chat.press("Technical knowledge")
    chat.say("someday")
    assert "couldn't read 'someday' as a date" in chat.text
    chat.say("1 January 2020")
    assert "has passed" in chat.text and state_of(db, chat) == "plan_target"
    chat.say("/cancel")
    chat.say("/plan")
    chat.press("Explain a gap")
    chat.say("31 August to 1 June: sick leave")
    assert "the end comes after the start" in chat.text
    chat.say("1 June to 31 August: sick leave")
    assert "Gap explained: 1 Jun 2026 – 31 Aug 2026: Sick leave" in chat.text
    assert [n.text for n in plan_of(db, chat).gap_notes] == ["Sick leave"]
    assert plan_of(db, chat).objectives == ()


def test_leave_makes_the_status_target_pro_rata(chat: Chat, db: Database) -> None:
    year(chat)
    chat.say("/plan")
    chat.press("Leave or exemption")
    chat.press("Not professionally active (10 h a year)")
    chat.say("1 March to 31 August")
    assert "Your target for CPD year 2026 is now 19 h 55 (pro rata" in chat.text
    with db.transaction() as s:
        assert plan_repo.status_periods(s, person_id(db, chat)) == [
            StatusPeriod("not_active", date(2026, 3, 1), date(2026, 8, 31))
        ]
    chat.say("/cancel")
    chat.say("/status")
    assert "3 h 30 of 19 h 55 (18%)." in chat.text
    assert "✗ Hours: 3 h 30 of 19 h 55; target 30 h a year pro rata" in chat.text


def test_status_lists_the_requirements(chat: Chat) -> None:
    year(chat)
    chat.say("/status")
    assert "IET requirements: 1 not yet met." in chat.text
    assert "✗ Hours: 3 h 30 of 30 h" in chat.text
    assert "✓ Reflection on each activity: all 2 activities have key points" in chat.text
    log(chat, "/log 1h reading yesterday #selfstudy", "later")
    chat.say("/status")
    assert "IET requirements: 2 not yet met." in chat.text
    assert "✗ Reflection on each activity: 1 of 3 activities still need an answer: #3" in (
        chat.text
    )


def test_studying_command_sets_the_flag(engine: Engine, db: Database) -> None:
    ies = Chat(engine, IdentityKey("console", "iris"))
    ies.onboard(scheme="IES")
    ies.say("/studying yes")
    assert "IES then asks for 2 categories instead of 3" in ies.text
    with db.transaction() as s:
        person = s.get(Person, person_id(db, ies))
        assert person is not None and person.studying_he


def test_a_change_storage_refuses_rolls_the_event_back(
    chat: Chat, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dialogue checks plan changes against loaded data; if storage still refuses one
    (it changed meanwhile), the event is rolled back whole and the person is told."""

    def stale_step(conv: Conv, event: Incoming, ctx: Any) -> Step:
        effects = (SetRole("Kept?"), LinkEntry(1, 99))
        return Step(Conv(State.PLAN_MENU, Data()), (Outgoing("Linked."),), effects)

    monkeypatch.setattr(dialogue, "step", stale_step)
    replies = chat.say("/plan link 1 99")
    assert [r.text for r in replies] == [
        "I couldn't make that change: there is no entry #1. Nothing was changed; /plan shows it."
    ]
    assert plan_of(db, chat).role == "" and state_of(db, chat) == "idle"


# ---------------------------------------------------------------- /export


@pytest.fixture
def transactions(db: Database) -> Iterator[list[int]]:
    """Counts the database transactions open at any moment (the first item)."""
    open_now = [0]
    plain = db.transaction

    @contextmanager
    def counted() -> Iterator[Session]:
        open_now[0] += 1
        try:
            with plain() as session:
                yield session
        finally:
            open_now[0] -= 1

    db.transaction = counted  # type: ignore[method-assign]
    yield open_now
    db.transaction = plain  # type: ignore[method-assign]


def test_export_pdf_is_made_after_the_transaction(
    chat: Chat, transactions: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    year(chat)
    seen: list[int] = []
    real = records.render

    def render(report: records.Report, kind: str, **kw: Any) -> tuple[str, bytes, str]:
        seen.append(transactions[0])
        return real(report, kind, **kw)

    monkeypatch.setattr(records, "render", render)
    (reply,) = chat.say("/export pdf")
    assert seen == [0], "the PDF was laid out inside a database transaction"
    assert reply.attachment is not None and reply.file is None
    assert (reply.attachment.filename, reply.attachment.mime_type) == (
        "cpd-2026.pdf",
        "application/pdf",
    )
    assert "Your CPD record for 2026 (PDF): 2 entries, 3 h 30" in reply.text
    text = pdf_text(reply.attachment.content)
    assert "Webinar on arc-flash safety" in text and "Site visit" in text
    assert "3 h 30" in text


def test_export_md_and_another_year(chat: Chat) -> None:
    year(chat)
    (reply,) = chat.say("/export md")
    assert reply.attachment is not None
    assert reply.attachment.filename == "cpd-2026.md"
    body = reply.attachment.content.decode("utf-8")
    assert "Webinar on arc-flash safety" in body and "PPE" in body
    (reply,) = chat.say("/export md 2025")
    assert reply.attachment is not None and reply.attachment.filename == "cpd-2025.md"
    assert "0 entries" in reply.text


def test_export_csv_and_json_still_work(chat: Chat) -> None:
    year(chat)
    (reply,) = chat.say("/export")
    assert reply.attachment is not None and reply.attachment.mime_type == "text/csv"
    (reply,) = chat.say("/export json")
    assert reply.attachment is not None
    assert len(json.loads(reply.attachment.content)["entries"]) == 2


def test_export_all_is_a_zip_of_everything(chat: Chat) -> None:
    year(chat)
    chat.say("/plan role Protection engineer")
    (reply,) = chat.say("/export all")
    assert reply.attachment is not None and reply.attachment.mime_type == "application/zip"
    with zipfile.ZipFile(io.BytesIO(reply.attachment.content)) as archive:
        data = json.loads(archive.read("data.json"))
        assert "record.csv" in archive.namelist()
    assert data["identity"]["user"] == "alice"
    assert len(data["tables"]["entry"]) == 2 and data["tables"]["role"][0]["text"] == (
        "Protection engineer"
    )


def test_a_file_that_cannot_be_made_gets_a_clear_reply(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kw: Any) -> Any:
        raise RuntimeError("font missing")

    monkeypatch.setattr(records, "render", broken)
    (reply,) = chat.say("/export pdf")
    assert reply.attachment is None and reply.file is None
    assert reply.text == "I couldn't make the PDF file just now; please try again."


# ---------------------------------------------------------------- /forget


def test_forget_erases_every_row_of_the_person_and_keeps_the_other(
    two_people: tuple[Chat, Chat, int, int], db: Database
) -> None:
    alice, bob, alice_id, bob_id = two_people
    with db.transaction() as s:
        bob_before = rows_of(s, bob_id)
    alice.say("/forget")
    assert "This erases everything I hold about you — 2 entries, 4 reflections" in alice.text
    assert (
        "1 role, 2 key responsibilities, 1 objective, 1 link to an objective, 1 tag, "
        "1 piece of evidence (files and links), 1 leave or exemption period, 1 explained gap, "
        "1 connected calendar" in alice.text
    )
    alice.press("Erase everything")
    assert "Erased: 2 entries, 4 reflections" in alice.text and "permanent" in alice.text
    with db.transaction() as s:
        assert s.get(Person, alice_id) is None
        for table in SQLModel.metadata.sorted_tables:
            if "person_id" in table.c:
                mine = s.execute(sa.select(table).where(table.c.person_id == alice_id)).all()
                assert not mine, f"{table.name} still holds rows of hers"
            for fk in table.foreign_keys:
                if fk.column.table.name == "person":
                    left = s.execute(sa.select(fk.parent).where(fk.parent == alice_id)).all()
                    assert not left, f"{table.name}.{fk.parent.name}"
        assert rows_of(s, bob_id) == bob_before
    bob.say("/status")
    assert "2 entries" in bob.text
    # She can write again: a new person, from the start.
    alice.say("hello")
    assert "Which professional body" in alice.text
    with db.transaction() as s:
        n = s.execute(select(sa.func.count()).select_from(Person)).scalar_one()
        assert n == 2


def test_forget_typed_or_kept(chat: Chat, db: Database) -> None:
    year(chat)
    chat.say("/forget")
    chat.say("yes")
    assert "type FORGET" in chat.text
    chat.press("Keep")
    assert "Nothing was erased" in chat.text
    chat.say("/list")
    assert "#2" in chat.text
    chat.say("/forget")
    chat.say("FORGET")
    assert "Erased: 2 entries, 4 reflections, 1 chat account link" in chat.text
    with db.transaction() as s:
        assert repo.find_identity(s, chat.identity) is None
        assert s.execute(select(sa.func.count()).select_from(Conversation)).scalar_one() == 0


def test_forget_of_someone_never_set_up(engine: Engine, db: Database) -> None:
    new = Chat(engine, IdentityKey("console", "newcomer"))
    new.say("/forget")
    assert "This erases everything" in new.text
    new.say("FORGET")
    assert "Erased" in new.text
    with db.transaction() as s:
        assert repo.find_identity(s, new.identity) is None

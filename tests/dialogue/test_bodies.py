"""Several bodies, one record (issue 16), through the real engine on SQLite and PostgreSQL:
`/settings bodies` and the settings menu's "Other bodies" (and the wrong kinds of input),
an entry's category in another body derived from the schemes' `maps_to` or asked after the
primary's save, editing the category re-deriving it, an answer kept, and /forget."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.core.model import IdentityKey
from bot.core.schemes import Scheme, load_schemes, mapped_categories
from bot.services.engine import Engine
from storage import rights
from storage.db import Database
from storage.models import EntryCategory, PersonScheme
from tests.conftest import Chat


@pytest.fixture
def ipem(engine: Engine) -> Chat:
    c = Chat(engine, IdentityKey("console", "ines"))
    c.onboard("IPEM / HCPC")
    return c


def bodies_of(db: Database) -> list[str]:
    with db.transaction() as s:
        return [r.scheme_id for r in s.exec(select(PersonScheme).order_by(PersonScheme.id))]


def answers_of(db: Database) -> list[tuple[str, str | None]]:
    with db.transaction() as s:
        return [(r.scheme_id, r.category) for r in s.exec(select(EntryCategory))]


def log(chat: Chat, line: str) -> None:
    chat.say(line)
    chat.say("later")  # the reflections for later: the entry is saved


def edit_category(chat: Chat, label: str) -> None:
    chat.say("/edit 1")
    chat.press("Category")
    chat.press(label)
    chat.press("Done")


# ---------------------------------------------------------------- setting the bodies


def test_settings_bodies_in_one_line_adds_them_and_status_shows_them(
    ipem: Chat, db: Database
) -> None:
    ipem.say("/settings bodies IET")
    assert "You now follow IPEM / HCPC (main) and IET." in ipem.text
    assert bodies_of(db) == ["iet"]
    ipem.say("/settings")
    assert "Professional body: IPEM / HCPC\nOther bodies: IET" in ipem.text


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("IEE", "I don't know the body 'IEE'. Did you mean IET?"),
        ("IET Institute of Cheese", "I don't know the body 'Institute'"),
        ("IET IES STEP Generic", "I follow up to 3 bodies besides IPEM / HCPC; you listed 4."),
    ],
)
def test_wrong_bodies_change_nothing(ipem: Chat, db: Database, typed: str, says: str) -> None:
    ipem.say(f"/settings bodies {typed}")
    assert says in ipem.text
    assert bodies_of(db) == []


def test_duplicates_are_said_and_the_main_body_listed_is_fine(ipem: Chat, db: Database) -> None:
    ipem.say("/settings bodies IET iet IPEM")
    assert "IET was listed twice; once is enough." in ipem.text
    assert "You now follow IPEM / HCPC (main) and IET." in ipem.text  # the main body listed
    assert bodies_of(db) == ["iet"]


def test_bodies_from_the_settings_menu_replace_and_clear(ipem: Chat, db: Database) -> None:
    ipem.say("/settings bodies IET STEP")
    ipem.say("/settings")
    ipem.press("Other bodies")
    assert "Other bodies: IET, STEP." in ipem.text
    ipem.say("")  # empty: asked again, nothing saved
    assert "Which other bodies do you follow?" in ipem.text
    ipem.say("IES")
    assert "Other bodies: IES" in ipem.text and bodies_of(db) == ["ies"]
    ipem.press("Other bodies")
    ipem.press("None")
    assert "You now follow only IPEM / HCPC." in ipem.text
    assert bodies_of(db) == []


# ---------------------------------------------------------------- categorised once per body


def test_a_mapped_category_is_filed_without_a_question(ipem: Chat, db: Database) -> None:
    ipem.say("/settings bodies IET")
    log(ipem, "/log 1h peer review of plans 3 nov #peerreview")  # work-based
    assert "Saved #1" in ipem.text and "For IET" not in ipem.text
    ipem.say("/status")
    assert "IET, CPD year 2026" in ipem.text and "  Work experience: 1 h" in ipem.text
    assert answers_of(db) == []


def test_an_unmapped_category_is_asked_after_the_save_and_the_answer_kept(
    ipem: Chat, db: Database
) -> None:
    ipem.say("/settings bodies IET")
    log(ipem, "/log 2h radiotherapy QA workshop on Tuesday #workshop")  # formal/educational
    assert "Saved #1: Radiotherapy QA workshop" in ipem.text  # the entry first
    assert (
        "For IET, is #1 'Radiotherapy QA workshop' Training courses, Events and seminars "
        "or Academic study?" in ipem.text
    )
    ipem.press("Events and seminars")
    assert "Filed #1 under Events and seminars for IET." in ipem.text
    assert answers_of(db) == [("iet", "events_and_seminars")]
    ipem.say("/status")
    assert "  Events and seminars: 2 h" in ipem.text and "Not yet filed" not in ipem.text
    # Editing the primary category re-derives the others, but an answer given is kept.
    edit_category(ipem, "Self-directed learning")
    ipem.say("/status")
    assert "  Events and seminars: 2 h" in ipem.text


def test_editing_the_category_re_derives_it_where_nothing_was_answered(
    ipem: Chat, db: Database
) -> None:
    ipem.say("/settings bodies IET")
    log(ipem, "/log 2h radiotherapy QA workshop on Tuesday #workshop")
    ipem.say("/status")
    assert "Not yet filed: 1 entry (2 h)" in ipem.text
    edit_category(ipem, "Self-directed learning")
    ipem.say("/status")
    assert "  Self-study: 2 h" in ipem.text and "Not yet filed" not in ipem.text


def test_bodies_asks_each_unfiled_entry_in_turn(ipem: Chat, db: Database) -> None:
    ipem.say("/settings bodies STEP")
    log(ipem, "/log 2h radiotherapy QA workshop on Tuesday #workshop")
    log(ipem, "/log 1h peer review of plans 3 nov #peerreview")
    ipem.say("/bodies")
    assert "STEP: 2 entries to file this CPD year." in ipem.text
    assert "For STEP, is #2 'Peer review of plans' In-house update, Coaching or Other?" in (
        ipem.text
    )
    ipem.press("Coaching")
    assert "Filed #2 under Coaching for STEP." in ipem.text
    assert "For STEP, is #1 'Radiotherapy QA workshop'" in ipem.text
    ipem.press("Conference")
    ipem.say("/bodies")
    assert "STEP: every entry this CPD year is filed." in ipem.text


def test_a_forged_filing_button_changes_nothing(ipem: Chat, db: Database) -> None:
    ipem.say("/settings bodies IET")
    log(ipem, "/log 2h radiotherapy QA workshop on Tuesday #workshop")
    ipem.say("/bodies file 1 iet no_such_category")
    assert "IET has no such category" in ipem.text
    ipem.say("/bodies file 1 ies formal_educational")  # a body not followed
    assert "That question is out of date" in ipem.text
    assert answers_of(db) == []


def test_bodies_alone_says_how_to_add_one(ipem: Chat) -> None:
    ipem.say("/bodies")
    assert "You follow only IPEM / HCPC. Add others with /settings bodies IET." in ipem.text


# ---------------------------------------------------------------- erasure


def test_forget_erases_the_bodies_and_the_answers(ipem: Chat, db: Database) -> None:
    ipem.say("/settings bodies IET")
    log(ipem, "/log 2h radiotherapy QA workshop on Tuesday #workshop")
    ipem.press("Training courses")
    assert bodies_of(db) and answers_of(db)
    ipem.say("/forget")
    ipem.press("Erase everything")
    assert bodies_of(db) == [] and answers_of(db) == []


# ---------------------------------------------------------------- the mapping tables


def test_every_maps_to_names_real_categories_both_ways() -> None:
    schemes: dict[str, Scheme] = dict(load_schemes())
    for scheme in schemes.values():
        for other in schemes.values():
            if other.id == scheme.id:
                continue
            for category in scheme.categories:
                found = mapped_categories(scheme, category.id, other)
                assert found and all(other.category(i) for i in found)
    iet, ipem = schemes["iet"], schemes["ipem"]
    assert mapped_categories(ipem, "work_based", iet) == ("work_experience",)
    assert mapped_categories(iet, "work_experience", ipem) == ("work_based",)
    assert mapped_categories(ipem, "self_directed", iet) == ("self_study",)


def test_export_all_data_holds_the_bodies_and_the_answers(ipem: Chat, db: Database) -> None:
    ipem.say("/settings bodies IET")
    log(ipem, "/log 2h radiotherapy QA workshop on Tuesday #workshop")
    ipem.press("Training courses")
    with db.transaction() as s:
        person_id = s.exec(select(PersonScheme.person_id)).one()
        data = rights.person_data(s, person_id)
    assert [r["scheme_id"] for r in data["person_scheme"]] == ["iet"]
    assert [(r["scheme_id"], r["category"]) for r in data["entry_category"]] == [
        ("iet", "training_courses")
    ]

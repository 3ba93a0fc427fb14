"""Several bodies from the member's seat (issue 16 review), through the real engine on
SQLite and PostgreSQL: `/settings bodies IET STEP` taken as the answer to "Which bodies…?"
(and in the settings menu), the list given being the whole set followed (the main body
alone means only it), and "For IET, is #1 …?" answered by typing a category."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.core.model import IdentityKey
from bot.services.engine import Engine
from storage.db import Database
from storage.models import EntryCategory, PersonScheme
from tests.conftest import Chat

ASKED = "For IET, is #1 'Radiotherapy QA workshop' Training courses, Events and seminars"
WORKSHOP = "/log 2h radiotherapy QA workshop on Tuesday #workshop"  # formal/educational


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


def asked_about_the_workshop(chat: Chat) -> None:
    chat.say("/settings bodies IET")
    chat.say(WORKSHOP)
    chat.say("later")  # the reflections for later: the entry is saved
    assert "Saved #1" in chat.text and ASKED in chat.text


# ---------------------------------------------------------------- the command as the answer


def test_the_command_answers_which_bodies(ipem: Chat, db: Database) -> None:
    ipem.say("/settings bodies")
    assert "Type them (e.g. /settings bodies IET IES" in ipem.text
    ipem.say("/settings bodies IET STEP")
    assert "middle of changing your settings" not in ipem.text
    assert "You now follow IPEM / HCPC (main) and IET, STEP." in ipem.text
    assert bodies_of(db) == ["iet", "step"]
    assert "Other bodies: IET, STEP" in ipem.text  # back at the settings menu


@pytest.mark.parametrize("typed", ["settings bodies IET STEP", "bodies: IET, STEP"])
def test_the_bodies_typed_without_a_slash(ipem: Chat, db: Database, typed: str) -> None:
    ipem.say("/settings bodies")
    ipem.say(typed)
    assert "You now follow IPEM / HCPC (main) and IET, STEP." in ipem.text
    assert bodies_of(db) == ["iet", "step"]


def test_the_command_in_the_settings_menu(ipem: Chat, db: Database) -> None:
    ipem.say("/settings")
    ipem.say("/settings bodies IET")
    assert "You now follow IPEM / HCPC (main) and IET." in ipem.text
    assert "Other bodies: IET\n" in ipem.text and bodies_of(db) == ["iet"]
    ipem.say("/settings name Ines Ortiz MIPEM")  # the other one-line settings too
    assert "Name for the record: Ines Ortiz MIPEM" in ipem.text  # the menu shows it saved
    ipem.say("Done")
    assert "Settings saved." in ipem.text


# ---------------------------------------------------------------- the list is the set


def test_the_main_body_alone_means_only_it(ipem: Chat, db: Database) -> None:
    asked_about_the_workshop(ipem)
    ipem.press("Events and seminars")
    assert answers_of(db) == [("iet", "events_and_seminars")]
    ipem.say("/settings bodies IPEM")
    assert "Nothing changed" not in ipem.text
    assert "You now follow only IPEM / HCPC (your main body)." in ipem.text
    assert (
        "IET is no longer followed: the categories you chose for entries there are erased; "
        "the entries themselves stay." in ipem.text
    )
    assert bodies_of(db) == [] and answers_of(db) == []


def test_the_main_body_listed_with_others_is_fine(ipem: Chat, db: Database) -> None:
    ipem.say("/settings bodies IET")
    ipem.say("/settings bodies IPEM STEP")
    assert "You now follow IPEM / HCPC (main) and STEP." in ipem.text
    assert "IET is no longer followed" in ipem.text
    assert "already your main body" not in ipem.text
    assert bodies_of(db) == ["step"]


# ---------------------------------------------------------------- a category typed


@pytest.mark.parametrize(
    ("typed", "label", "category"),
    [
        ("Work experience", "Work experience", "work_experience"),  # not one of those offered
        ("events", "Events and seminars", "events_and_seminars"),
        ("self study", "Self-study", "self_study"),
    ],
)
def test_a_category_typed_answers_the_question(
    ipem: Chat, db: Database, typed: str, label: str, category: str
) -> None:
    asked_about_the_workshop(ipem)
    ipem.say(typed)
    assert f"Filed #1 under {label} for IET." in ipem.text
    assert "To record an activity" not in ipem.text
    assert answers_of(db) == [("iet", category)]


def test_a_near_miss_asks_did_you_mean(ipem: Chat, db: Database) -> None:
    asked_about_the_workshop(ipem)
    ipem.say("work experiance")
    assert "Did you mean Work experience (for IET, #1)?" in ipem.text
    assert answers_of(db) == []
    ipem.press("Work experience")
    assert "Filed #1 under Work experience for IET." in ipem.text
    assert answers_of(db) == [("iet", "work_experience")]


def test_something_else_asks_again(ipem: Chat, db: Database) -> None:
    asked_about_the_workshop(ipem)
    ipem.say("hmm not sure")
    assert "'hmm not sure' is not one of IET's categories." in ipem.text
    ipem.say("It showed me how our QA checks compare")  # a sentence: a late reflection?
    assert "Add this as your answer to" in ipem.text
    ipem.say("/cancel")
    ipem.say("1h reading on dosimetry yesterday")  # a log line is logged, not an answer
    assert "Reading on dosimetry" in ipem.text and "Filed" not in ipem.text
    assert answers_of(db) == []


def test_another_category_shows_all_of_the_body(ipem: Chat, db: Database) -> None:
    asked_about_the_workshop(ipem)
    ipem.press("Another IET category")
    assert "Which IET category is #1?" in ipem.text
    shown = [c.label for r in ipem.replies for c in r.choices]
    assert shown == [
        "Training courses",
        "Work experience",
        "Academic study",
        "Volunteering",
        "Events and seminars",
        "Self-study",
        "Later",
    ]
    ipem.press("Volunteering")
    assert answers_of(db) == [("iet", "volunteering")]


def test_later_leaves_it_for_bodies(ipem: Chat, db: Database) -> None:
    asked_about_the_workshop(ipem)
    ipem.press("Later")
    assert "Left for later: /bodies asks again." in ipem.text
    ipem.say("Work experience")  # no longer an answer
    assert "Filed" not in ipem.text and answers_of(db) == []
    ipem.say("/bodies")
    assert ASKED in ipem.text
    ipem.say("training")
    assert "Filed #1 under Training courses for IET." in ipem.text


def test_typed_answers_in_bodies_ask_the_next_one(ipem: Chat, db: Database) -> None:
    ipem.say("/settings bodies STEP")
    for line in (WORKSHOP, "/log 1h peer review of plans 3 nov #peerreview"):
        ipem.say(line)
        ipem.say("later")
    ipem.say("/bodies")
    assert "For STEP, is #2 'Peer review of plans'" in ipem.text
    ipem.say("coaching")
    assert "Filed #2 under Coaching for STEP." in ipem.text
    assert "For STEP, is #1 'Radiotherapy QA workshop'" in ipem.text
    ipem.say("conference")
    assert "Filed #1 under Conference for STEP." in ipem.text
    assert sorted(answers_of(db)) == [("step", "coaching"), ("step", "conference")]

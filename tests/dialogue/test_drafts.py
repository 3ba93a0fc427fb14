"""Nothing typed is lost (issue 13): a new /log mid-dialogue puts the draft aside and takes
the new one; a draft left for more than a day is offered back instead of blocking; a
reflection sent just after the entry was saved is offered to that entry. Each also runs
through the engine on a real SQLite file, so the stored conversation round-trips."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.core.model import (
    EntryView,
    IdentityKey,
    Outgoing,
    ReflectionView,
    SaveEntry,
    UpdateEntry,
)
from bot.core.schemes import Scheme
from bot.core.snapshot import Needs, Snapshot
from bot.dialogue import Context, Conv, Data, Draft, Step, Undo, needs, step
from bot.dialogue.flows.drafts import DRAFT, key
from bot.dialogue.flows.late import LATE as LATE_BUTTON
from bot.dialogue.flows.log import LOG_STATES
from bot.services.engine import Engine
from storage.db import Database
from storage.models import Conversation, Entry, Reflection
from tests.conftest import Chat, Clock
from tests.dialogue.chat import (
    NOW,
    SUMMARY,
    YESTERDAY,
    Case,
    S,
    assert_case,
    person,
    press,
    text,
)

DESIGN = Draft(title="Design review", activity_date=YESTERDAY)
COMPLETE = Draft(title="Design review", activity_date=YESTERDAY, minutes=120, category="other")


def run(schemes: dict[str, Scheme], conv: Conv, event: Any, **snap: Any) -> Step:
    return step(conv, event, Context(Snapshot(now=NOW, person=person(), **snap), schemes))


def said(result: Step) -> str:
    return "\n".join(r.text for r in result.replies)


def labels(result: Step) -> list[str]:
    return [c.label for r in result.replies for c in r.choices]


def choice_id(result: Step, label: str) -> str:
    return next(c.id for r in result.replies for c in r.choices if c.label == label)


def logging(draft: Draft, state: S = S.LOG_HOURS, **data: Any) -> Conv:
    return Conv(state, Data(draft=draft, **data))


# ---------------------------------------------------------------- 1. /log mid-dialogue


def test_a_new_log_line_mid_dialogue_parks_the_draft_and_takes_the_new_one(
    schemes: dict[str, Scheme],
) -> None:
    result = run(schemes, logging(DESIGN), text("/log 1h reading standards yesterday #self_study"))
    first = result.replies[0].text
    assert first == "I've put 'Design review' aside (yesterday so far)."
    assert labels(result)[:2] == ["Continue it", "Discard it"]
    assert "Save it now" not in labels(result)  # no hours or category yet: nothing to save
    assert result.conv.state == S.LOG_REFLECT
    assert result.conv.data.draft and result.conv.data.draft.title == "Reading standards"
    assert result.conv.data.parked == [DESIGN]
    assert result.effects == ()


def test_a_bare_log_mid_dialogue_parks_too(schemes: dict[str, Scheme]) -> None:
    result = run(schemes, logging(DESIGN), text("/log"))
    assert result.conv.state == S.LOG_TITLE and "What did you do?" in said(result)
    assert result.conv.data.parked == [DESIGN]


def test_a_complete_draft_can_be_saved_now_with_its_reflections_pending(
    schemes: dict[str, Scheme],
) -> None:
    parked = run(schemes, logging(COMPLETE, S.LOG_REFLECT), text("/log"))
    assert "Save it now" in labels(parked)
    assert parked.replies[0].text == "I've put 'Design review' aside (yesterday · 2 h so far)."
    saved = run(schemes, parked.conv, press(choice_id(parked, "Save it now")))
    (effect,) = saved.effects
    assert isinstance(effect, SaveEntry)
    assert (effect.number, effect.title, effect.minutes) == (13, "Design review", 120)
    assert [r.answer for r in effect.reflections] == [None, None]  # pending, not lost
    assert "Saved #13" in said(saved) and "2 reflections left for later" in said(saved)
    # The new entry goes on where it was: its question is asked again.
    assert saved.conv.state == S.LOG_TITLE and "What did you do?" in said(saved)
    assert saved.conv.data.parked == []


def test_continue_restores_the_draft_at_its_first_missing_question(
    schemes: dict[str, Scheme],
) -> None:
    parked = run(schemes, logging(DESIGN), text("/log"))
    idle = run(schemes, parked.conv, text("/cancel"))
    assert "Nothing was saved" in said(idle)
    assert idle.conv.state == S.IDLE and idle.conv.data.parked == [DESIGN]
    back = run(schemes, idle.conv, press(choice_id(parked, "Continue it")))
    assert back.conv.state == S.LOG_HOURS and "How long did it take?" in said(back)
    assert back.conv.data.draft == DESIGN and back.conv.data.parked == []


def test_continue_while_logging_another_swaps_them(schemes: dict[str, Scheme]) -> None:
    parked = run(schemes, logging(DESIGN), text("/log 1h standards meeting yesterday"))
    assert parked.conv.state == S.LOG_CATEGORY
    swapped = run(schemes, parked.conv, press(choice_id(parked, "Continue it")))
    assert swapped.conv.state == S.LOG_HOURS and swapped.conv.data.draft == DESIGN
    (aside,) = swapped.conv.data.parked
    assert aside.title == "Standards meeting"
    assert "I've put 'Standards meeting' aside (yesterday · 1 h so far)." in said(swapped)


def test_continue_waits_while_another_kind_of_dialogue_is_under_way(
    schemes: dict[str, Scheme],
) -> None:
    menu = Conv(S.SETTINGS_MENU, Data(parked=[DESIGN]))
    result = run(schemes, menu, press(DRAFT.make("go", key(DESIGN))))
    assert result.conv.state == S.SETTINGS_MENU and result.conv.data.parked == [DESIGN]
    assert "middle of changing your settings" in said(result)
    assert "'Design review' stays aside" in said(result)


def test_save_it_now_when_idle_leaves_the_late_reflection_open(
    schemes: dict[str, Scheme],
) -> None:
    idle = Conv(S.IDLE, Data(parked=[COMPLETE]))
    saved = run(schemes, idle, press(DRAFT.make("save", key(COMPLETE))))
    assert isinstance(saved.effects[0], SaveEntry) and saved.conv.state == S.IDLE
    assert saved.conv.data.undo and saved.conv.data.undo.number == 13
    assert saved.conv.data.parked == []


def test_discard_drops_only_that_draft(schemes: dict[str, Scheme]) -> None:
    parked = run(schemes, logging(DESIGN), text("/log"))
    dropped = run(schemes, parked.conv, press(choice_id(parked, "Discard it")))
    assert "Discarded 'Design review'" in said(dropped)
    assert dropped.conv.state == S.LOG_TITLE and "What did you do?" in said(dropped)
    assert dropped.conv.data.parked == []
    again = run(schemes, dropped.conv, press(choice_id(parked, "Discard it")))
    assert "earlier message" in said(again)  # already gone: the button is stale


def test_at_most_five_are_kept_aside_and_dropping_one_is_said(schemes: dict[str, Scheme]) -> None:
    five = [Draft(title=f"Draft {n}", minutes=60) for n in range(1, 6)]
    result = run(schemes, logging(DESIGN, parked=five), text("/log"))
    assert [d.title for d in result.conv.data.parked] == [
        "Draft 2",
        "Draft 3",
        "Draft 4",
        "Draft 5",
        "Design review",
    ]
    assert "let go of 'Draft 1'" in said(result)


def test_when_a_dialogue_ends_the_newest_parked_draft_is_offered(
    schemes: dict[str, Scheme],
) -> None:
    older = Draft(title="Older", minutes=30)
    current = Draft(
        title="Reading standards",
        activity_date=YESTERDAY,
        minutes=60,
        category="self_study",
        questions=["key_points", "change"],
    )
    conv = logging(current, S.LOG_REFLECT, parked=[older, DESIGN])
    done = run(schemes, conv, text("later"))
    assert "Saved #13: Reading standards" in said(done)
    assert done.replies[-1].text.startswith("You also have 'Design review' (yesterday) unfinished")
    assert labels(done)[-2:] == ["Continue", "Discard"]
    assert done.conv.data.parked == [older, DESIGN]
    # Offered once: an idle message afterwards does not repeat it.
    quiet = run(schemes, done.conv, text("/help"))
    assert "unfinished" not in said(quiet)


def test_cancel_throws_away_only_the_current_draft(schemes: dict[str, Scheme]) -> None:
    result = run(schemes, logging(Draft(title="W"), parked=[DESIGN]), text("/cancel"))
    assert "Nothing was saved" in said(result)
    assert result.conv.data.parked == [DESIGN]
    assert "You also have 'Design review'" in said(result)


def test_parked_drafts_survive_other_dialogues(schemes: dict[str, Scheme]) -> None:
    idle = Conv(S.IDLE, Data(parked=[DESIGN]))
    menu = run(schemes, idle, text("/settings"))
    assert menu.conv.state == S.SETTINGS_MENU and menu.conv.data.parked == [DESIGN]
    back = run(schemes, menu.conv, text("/cancel"))
    assert back.conv.state == S.IDLE and back.conv.data.parked == [DESIGN]


def test_a_log_line_in_another_dialogue_is_still_refused(schemes: dict[str, Scheme]) -> None:
    menu = Conv(S.SETTINGS_MENU, Data(parked=[DESIGN]))
    result = run(schemes, menu, text("/log 1h x yesterday"))
    assert result.conv.state == S.SETTINGS_MENU and "middle of" in said(result)


# ---------------------------------------------------------------- 2. a draft left for days


def test_the_kernel_stamps_when_a_dialogue_was_last_seen(schemes: dict[str, Scheme]) -> None:
    started = run(schemes, Conv(), text("/log"))
    assert started.conv.data.last_seen == NOW
    assert "last_seen" in started.conv.dump()
    finished = run(schemes, Conv(), text("/help"))
    assert finished.conv.data.last_seen is None


def test_a_draft_left_for_days_is_parked_and_the_message_taken_as_idle(
    schemes: dict[str, Scheme],
) -> None:
    old = logging(DESIGN, last_seen=NOW - timedelta(days=2))  # Fri 20 Nov
    result = run(schemes, old, text("/settings"))
    assert result.conv.state == S.SETTINGS_MENU
    assert result.replies[0].text == (
        "You started logging 'Design review' (yesterday) on Fri 20 Nov and didn't finish."
    )
    assert labels(result)[:2] == ["Continue", "Discard"]
    assert result.conv.data.parked == [DESIGN]
    back = run(schemes, result.conv, text("/cancel"))
    cont = run(schemes, back.conv, press(choice_id(result, "Continue")))
    assert cont.conv.state == S.LOG_HOURS and cont.conv.data.draft == DESIGN


def test_a_one_liner_after_days_is_logged_and_the_old_draft_offered(
    schemes: dict[str, Scheme],
) -> None:
    old = logging(DESIGN, last_seen=NOW - timedelta(days=3))
    result = run(schemes, old, text("/log 1h reading standards yesterday #self_study"))
    assert "didn't finish" in result.replies[0].text
    assert result.conv.state == S.LOG_REFLECT
    assert result.conv.data.draft and result.conv.data.draft.title == "Reading standards"
    assert result.conv.data.parked == [DESIGN]


def test_a_dialogue_seen_within_a_day_carries_on(schemes: dict[str, Scheme]) -> None:
    for seen in (NOW - timedelta(hours=20), None):
        result = run(schemes, logging(DESIGN, last_seen=seen), text("2h"))
        assert result.conv.state == S.LOG_CATEGORY, seen
        assert result.conv.data.parked == []


def test_an_old_settings_dialogue_is_closed_and_status_answered(
    schemes: dict[str, Scheme],
) -> None:
    old = Conv(S.SETTINGS_MENU, Data(last_seen=NOW - timedelta(days=5)))
    result = run(schemes, old, text("/status"), summary=SUMMARY)
    assert result.conv.state == S.IDLE
    assert "changing your settings" in said(result)  # says what was closed
    assert "didn't finish" not in said(result)
    assert result.conv.data.parked == []


REFLECTING = Conv(
    S.REFLECT_PENDING,
    Data(target=7, draft=Draft(questions=["change"]), last_seen=NOW - timedelta(days=5)),
)


def test_needs_cover_the_message_taken_as_idle(schemes: dict[str, Scheme]) -> None:
    """The engine loads before it knows the time: a dialogue may turn out stale, so what
    the message needs when idle is loaded too (what the dialogue needs comes first)."""
    assert needs(REFLECTING, text("/status")) == Needs(entry_number=7, standing=True, bodies=True)
    assert needs(REFLECTING, text("/reflect 12")) == Needs(entry_number=7)


def test_a_stale_message_that_needs_something_else_is_asked_again(
    schemes: dict[str, Scheme],
) -> None:
    from tests.dialogue.chat import ENTRY

    result = run(schemes, REFLECTING, text("/reflect 12"), entry=ENTRY)
    assert result.conv.state == S.IDLE and result.effects == ()
    assert "send '/reflect 12' again" in said(result)


# ---------------------------------------------------------------- 3. a late reflection

ENTRY_12 = EntryView(
    number=12,
    title="Webinar on earthing",
    activity_date=YESTERDAY,
    minutes=90,
    category="events_and_seminars",
    structured=None,
    source="chat",
    deleted=False,
    reflections=(
        ReflectionView("key_points", "What were the key points?", None),
        ReflectionView("change", "How will you change?", None),
    ),
)
JUST_SAVED = Conv(S.IDLE, Data(undo=Undo(kind="saved", number=12, title="Webinar on earthing")))
LATE = "TN-C-S needs the PME bond checked first"


def test_the_entry_just_saved_is_loaded_for_plain_text(schemes: dict[str, Scheme]) -> None:
    assert needs(JUST_SAVED, text(LATE)) == Needs(entry_number=12)
    assert needs(JUST_SAVED, text("/status")).entry_number is None


def test_plain_text_after_a_save_is_offered_as_a_reflection(schemes: dict[str, Scheme]) -> None:
    result = run(schemes, JUST_SAVED, text(LATE), entry=ENTRY_12)
    key_points = schemes["iet"].question("key_points")
    assert key_points is not None
    assert said(result) == (
        f"Add this as your answer to '{key_points.text}' on #12 'Webinar on earthing'?"
    )
    assert labels(result) == ["Add it", "No"]
    assert result.conv.data.late == LATE and result.effects == ()
    added = run(schemes, result.conv, press(choice_id(result, "Add it")), entry=ENTRY_12)
    (effect,) = added.effects
    assert isinstance(effect, UpdateEntry) and effect.number == 12
    assert [(r.question_id, r.answer) for r in effect.reflections] == [("key_points", LATE)]
    # The next pending question is asked, as /reflect would.
    assert added.conv.state == S.REFLECT_PENDING and "Reflection 2/2" in said(added)
    assert added.conv.data.late is None
    done = run(schemes, added.conv, text("Check the bond"), entry=ENTRY_12)
    assert done.conv.state == S.IDLE and isinstance(done.effects[0], UpdateEntry)


def test_the_last_pending_reflection_added_late_finishes(schemes: dict[str, Scheme]) -> None:
    one_left = EntryView(
        **{
            **ENTRY_12.__dict__,
            "reflections": (
                ReflectionView("key_points", "What were the key points?", "Bonding"),
                ReflectionView("change", "How will you change?", None),
            ),
        }
    )
    offered = run(schemes, JUST_SAVED, text(LATE), entry=one_left)
    assert "How will you change what you do" in said(offered)
    added = run(schemes, offered.conv, press(choice_id(offered, "Add it")), entry=one_left)
    assert added.conv.state == S.IDLE and "#12" in said(added)
    (effect,) = added.effects
    assert isinstance(effect, UpdateEntry) and effect.reflections[0].question_id == "change"


def test_no_keeps_nothing_and_says_how_to_log_it(schemes: dict[str, Scheme]) -> None:
    offered = run(schemes, JUST_SAVED, text(LATE), entry=ENTRY_12)
    no = run(schemes, offered.conv, press(choice_id(offered, "No")), entry=ENTRY_12)
    assert no.effects == () and no.conv.data.late is None and no.conv.state == S.IDLE
    assert "/log" in said(no) and "kept nothing" in said(no)


@pytest.mark.parametrize(
    "typed",
    [
        "1h reading standards yesterday",  # a one-line entry: logged, not a reflection
        "thanks",  # too short to be a reflection
        "/status",  # a command
    ],
)
def test_what_is_not_offered_as_a_reflection(typed: str, schemes: dict[str, Scheme]) -> None:
    result = run(schemes, JUST_SAVED, text(typed), entry=ENTRY_12)
    assert "Add this as your answer" not in said(result)
    assert result.conv.data.late is None


def test_nothing_is_offered_once_every_reflection_is_answered(schemes: dict[str, Scheme]) -> None:
    answered = EntryView(
        **{
            **ENTRY_12.__dict__,
            "reflections": (ReflectionView("key_points", "What were the key points?", "x"),),
        }
    )
    result = run(schemes, JUST_SAVED, text(LATE), entry=answered)
    assert "Add this as your answer" not in said(result)
    assert "To record an activity" in said(result)


def test_an_offer_left_unanswered_is_forgotten(schemes: dict[str, Scheme]) -> None:
    offered = run(schemes, JUST_SAVED, text(LATE), entry=ENTRY_12)
    moved_on = run(schemes, offered.conv, text("/help"))
    assert moved_on.conv.data.late is None
    stale = run(schemes, moved_on.conv, press(choice_id(offered, "Add it")), entry=ENTRY_12)
    assert stale.effects == () and "earlier message" in said(stale)


# ---------------------------------------------------------------- 4. /drafts: every one got back

MEETING = Draft(title="Meeting", activity_date=date(2026, 12, 2), minutes=60)
WEBINAR = Draft(title="Webinar on harmonics", activity_date=YESTERDAY, minutes=120)


def test_a_reviewer_can_get_every_parked_draft_back(schemes: dict[str, Scheme]) -> None:
    """Three one-liners, /cancel, Discard the one offered: the first is offered next, and
    /drafts, the park notice and /cancel's reply all say where the others are."""
    conv = Conv()
    for line in (
        "/log 1h meeting on the 2nd",
        "/log 2h webinar on harmonics yesterday",
        "/log 1h course on earthing last tuesday",
    ):
        result = run(schemes, conv, text(line))
        conv = result.conv
    assert [d.title for d in conv.data.parked] == ["Meeting", "Webinar on harmonics"]
    assert "2 entries are set aside: /drafts lists them." in result.replies[0].text
    cancelled = run(schemes, conv, text("/cancel"))
    assert "'Webinar on harmonics'" in cancelled.replies[-1].text
    assert "2 entries are set aside: /drafts lists them." in cancelled.replies[-1].text
    dropped = run(schemes, cancelled.conv, press(choice_id(cancelled, "Discard")))
    assert "Discarded 'Webinar on harmonics'" in said(dropped)
    assert dropped.replies[-1].text.startswith("You also have 'Meeting'")
    assert labels(dropped) == ["Continue", "Discard"]
    back = run(schemes, dropped.conv, press(choice_id(dropped, "Continue")))
    assert "Back to" in said(back) and back.conv.data.draft
    assert back.conv.data.draft.title == "Meeting" and back.conv.data.parked == []


def test_drafts_lists_each_with_its_own_buttons_in_one_message(
    schemes: dict[str, Scheme],
) -> None:
    idle = Conv(S.IDLE, Data(parked=[MEETING, WEBINAR]))
    listed = run(schemes, idle, text("/drafts"))
    (reply,) = listed.replies  # one message: the console picks from the last one
    assert reply.text.startswith("You have 2 entries set aside:")
    assert "1. 'Meeting' (Wed 2 Dec · 1 h)" in reply.text
    assert "2. 'Webinar on harmonics' (yesterday · 2 h)" in reply.text
    assert labels(listed) == [
        "Continue 'Meeting'",
        "Discard 'Meeting'",
        "Continue 'Webinar on harmonics'",
        "Discard 'Webinar on harmonics'",
    ]
    assert listed.conv == idle
    back = run(schemes, idle, press(choice_id(listed, "Continue 'Meeting'")))
    assert back.conv.state == S.LOG_CATEGORY and back.conv.data.parked == [WEBINAR]
    gone = run(schemes, idle, press(choice_id(listed, "Discard 'Webinar on harmonics'")))
    assert gone.conv.data.parked == [MEETING] and "You also have 'Meeting'" in said(gone)


def test_drafts_offers_save_now_for_a_complete_one_and_works_typed_bare(
    schemes: dict[str, Scheme],
) -> None:
    idle = Conv(S.IDLE, Data(parked=[MEETING, COMPLETE]))
    listed = run(schemes, idle, text("drafts"))
    assert "Save 'Design review' now" in labels(listed)
    assert "Save 'Meeting' now" not in labels(listed)  # no category yet
    saved = run(schemes, idle, press(choice_id(listed, "Save 'Design review' now")))
    assert isinstance(saved.effects[0], SaveEntry) and saved.conv.data.parked == [MEETING]


def test_drafts_with_one_or_none_and_mid_dialogue(schemes: dict[str, Scheme]) -> None:
    none = run(schemes, Conv(), text("/drafts"))
    assert said(none) == "Nothing is set aside." and none.effects == ()
    one = run(schemes, logging(Draft(title="W"), parked=[MEETING]), text("/drafts"))
    (reply,) = one.replies
    assert reply.text.startswith("You have 'Meeting' (Wed 2 Dec · 1 h) set aside.")
    assert "still logging 'W'" in reply.text
    assert labels(one) == ["Continue it", "Discard it"]
    assert one.conv.state == S.LOG_HOURS and one.conv.data.parked == [MEETING]


def test_a_bare_log_says_what_is_set_aside(schemes: dict[str, Scheme]) -> None:
    result = run(schemes, Conv(S.IDLE, Data(parked=[MEETING, WEBINAR])), text("/log"))
    assert result.replies[0].text == "(You have 2 entries set aside: /drafts.)"
    assert result.conv.state == S.LOG_TITLE and "What did you do?" in said(result)
    assert result.conv.data.parked == [MEETING, WEBINAR]


def test_one_draft_aside_is_not_pointed_to_drafts(schemes: dict[str, Scheme]) -> None:
    parked = run(schemes, logging(DESIGN), text("/log"))
    assert "/drafts" not in parked.replies[0].text
    dropped = run(
        schemes, Conv(S.IDLE, Data(parked=[DESIGN])), press(DRAFT.make("drop", key(DESIGN)))
    )
    assert said(dropped) == "Discarded 'Design review'. Nothing of it was saved."


# ---------------------------------------------------------------- every transition declared

# A parked draft whose first missing question is each log state.
FIRST_MISSING = {
    S.LOG_TITLE: Draft(activity_date=YESTERDAY),
    S.LOG_DATE: Draft(title="W"),
    S.LOG_DATE_CONFIRM: Draft(title="W", activity_date=date(2025, 12, 25)),
    S.LOG_HOURS: Draft(title="W", activity_date=YESTERDAY),
    S.LOG_CATEGORY: Draft(title="W", activity_date=YESTERDAY, minutes=60),
    S.LOG_STRUCTURED: Draft(title="W", activity_date=YESTERDAY, minutes=60, category="other"),
    S.LOG_REFLECT: Draft(title="W", activity_date=YESTERDAY, minutes=60, category="self_study"),
}
CURRENT = Draft(title="Current", activity_date=YESTERDAY)


def _continue(state: S, target: S) -> Case:
    parked = FIRST_MISSING[target]
    return Case(
        f"Continue from {state} to {target}",
        state,
        press(DRAFT.make("go", key(parked))),
        target,
        "Back to",
        data=Data(draft=None if state == S.IDLE else CURRENT, parked=[parked]),
        scheme="step" if target == S.LOG_STRUCTURED else "iet",
    )


CASES = [
    *(_continue(a, b) for a in (S.IDLE, *LOG_STATES) for b in LOG_STATES if a != b),
    Case(
        "late reflection added, more pending",
        S.IDLE,
        press(LATE_BUTTON.make("add", 12)),
        S.REFLECT_PENDING,
        "Reflection 2/2",
        data=Data(undo=JUST_SAVED.data.undo, late=LATE),
        effects=(UpdateEntry,),
        snap={"entry": ENTRY_12},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transition(case: Case, schemes: dict[str, Scheme]) -> None:
    assert_case(case, schemes)


# ---------------------------------------------------------------- through the engine (SQLite)


@pytest.fixture
def sql(sqlite_db: Database, schemes: dict[str, Scheme], clock: Clock) -> Iterator[Chat]:
    chat = Chat(Engine(sqlite_db, schemes, clock), IdentityKey("console", "alice"))
    chat.onboard()
    yield chat


def stored(db: Database) -> list[tuple[int, str, date]]:
    with db.transaction() as s:
        rows = s.exec(select(Entry)).all()
        return sorted((e.number, e.title, e.activity_date) for e in rows)


def answers(db: Database, number: int) -> dict[str, str | None]:
    with db.transaction() as s:
        entry = s.exec(select(Entry).where(Entry.number == number)).one()
        rows = s.exec(select(Reflection).where(Reflection.entry_id == entry.id)).all()
        return {r.question_id: r.answer for r in rows}


def conversation_rows(db: Database) -> int:
    with db.transaction() as s:
        return len(s.exec(select(Conversation)).all())


def shown(replies: list[Outgoing]) -> str:
    return "\n".join(r.text for r in replies)


def test_engine_parks_a_draft_and_offers_it_back(sql: Chat, sqlite_db: Database) -> None:
    sql.say("/log 2h design review yesterday")
    assert "Which category?" in sql.text
    sql.say("/log 1h reading standards yesterday #self_study")
    assert "I've put 'Design review' aside (yesterday · 2 h so far)." in sql.text
    sql.say("later")
    assert "Saved #1: Reading standards" in sql.text
    assert "You also have 'Design review'" in sql.text
    sql.press("Continue")
    assert "Which category?" in sql.text
    sql.say("work experience")
    sql.say("later")
    assert "Saved #2: Design review" in sql.text
    assert stored(sqlite_db) == [
        (1, "Reading standards", date(2026, 11, 21)),
        (2, "Design review", date(2026, 11, 21)),
    ]


def test_engine_forget_clears_parked_drafts(sql: Chat, sqlite_db: Database) -> None:
    sql.say("/log 2h design review yesterday")
    sql.say("/log 1h reading standards yesterday")
    sql.say("/cancel")
    assert "You also have 'Design review'" in sql.text
    sql.say("/forget")
    sql.press("Erase everything")
    assert conversation_rows(sqlite_db) == 0
    sql.say("/start")  # afresh: nothing parked is offered
    assert "Design review" not in sql.text


def test_engine_offers_a_draft_left_for_days(sql: Chat, sqlite_db: Database, clock: Clock) -> None:
    sql.say("/log 2h design review yesterday")
    assert "Which category?" in sql.text
    clock.now = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
    sql.say("/settings")
    assert "You started logging 'Design review' (Sat 21 Nov · 2 h) on Sun 22 Nov" in sql.text
    assert "Your settings:" in sql.text
    sql.say("/cancel")
    sql.press("Continue")
    assert "Which category?" in sql.text
    sql.say("work experience")
    sql.say("later")
    assert stored(sqlite_db) == [(1, "Design review", date(2026, 11, 21))]


def test_engine_adds_a_late_reflection(sql: Chat, sqlite_db: Database) -> None:
    sql.say("/log 1.5h webinar on earthing yesterday #events")
    sql.say("later")
    assert "Saved #1" in sql.text
    sql.say(LATE)
    assert "Add this as your answer to" in sql.text and "#1 'Webinar on earthing'" in sql.text
    sql.press("Add it")
    assert "Reflection 2/2" in sql.text
    sql.say("Check the bond before anything else")
    assert answers(sqlite_db, 1) == {
        "key_points": LATE,
        "change": "Check the bond before anything else",
    }

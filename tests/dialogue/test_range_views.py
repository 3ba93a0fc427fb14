"""A multi-day entry in the chat (issue 13): /list, /edit and /delete show its days; its
dates, last day and hours are edited with the day count in mind; /undo puts the days back."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from bot.core.model import UpdateEntry
from bot.core.schemes import Scheme
from bot.dialogue import Conv, Data, Undo, step
from tests.dialogue.chat import ENTRY, Case, S, assert_case, make_ctx, press, text

# A two-day conference, 14 h: Sat 14 and Sun 15 Nov 2026 (today is Sun 22 Nov).
RANGE = replace(
    ENTRY,
    title="IET conference",
    activity_date=date(2026, 11, 14),
    end_date=date(2026, 11, 15),
    minutes=14 * 60,
)
LONG = replace(RANGE, minutes=30 * 60)  # 30 h over the two days


def run(case: Case, schemes: dict[str, Scheme]) -> tuple[str, tuple[object, ...], Conv]:
    result = step(Conv(case.state, case.data), case.event, make_ctx(schemes, case))
    return "\n".join(r.text for r in result.replies), result.effects, result.conv


def edit(field: str, answer: str, entry: object = RANGE) -> Case:
    return Case(
        f"edit {field}",
        S.EDIT_VALUE,
        text(answer),
        S.EDIT_FIELD,
        data=Data(target=7, field=field),
        snap={"entry": entry},
    )


def test_list_shows_the_days(schemes: dict[str, Scheme]) -> None:
    case = Case("list", S.IDLE, text("/list"), S.IDLE, snap={"recent": (RANGE, ENTRY)})
    said, _, _ = run(case, schemes)
    assert "#7 · Sat 14 – Sun 15 Nov · 14 h · Events and seminars · IET conference" in said
    assert "#7 · Tue 3 Nov · 1 h 30 · Events and seminars · Webinar on arc-flash safety" in said


def test_edit_shows_the_days_and_offers_the_last_day(schemes: dict[str, Scheme]) -> None:
    case = Case("edit", S.IDLE, text("/edit 7"), S.EDIT_FIELD, snap={"entry": RANGE})
    result = step(Conv(case.state, case.data), case.event, make_ctx(schemes, case))
    said = "\n".join(r.text for r in result.replies)
    assert "Date: Sat 14 – Sun 15 Nov · Hours: 14 h" in said
    assert "Last day" in [c.label for r in result.replies for c in r.choices]
    one_day = step(
        Conv(S.IDLE, Data()),
        text("/edit 7"),
        make_ctx(schemes, replace(case, snap={"entry": ENTRY})),
    )
    assert "Date: Tue 3 Nov · Hours: 1 h 30" in one_day.replies[0].text
    # Offered for a one-day entry too (last day: none), so a typed number keeps its field.
    assert "Last day" in [c.label for r in one_day.replies for c in r.choices]


def test_delete_asks_with_the_days(schemes: dict[str, Scheme]) -> None:
    case = Case("delete", S.IDLE, text("/delete 7"), S.DELETE_CONFIRM, snap={"entry": RANGE})
    said, _, _ = run(case, schemes)
    assert "Delete #7 · Sat 14 – Sun 15 Nov · 14 h" in said


def test_a_single_date_makes_it_a_one_day_entry(schemes: dict[str, Scheme]) -> None:
    # 6 h fits a day; more than a day's length is asked about (tests/dialogue/test_edit_days.py)
    said, effects, conv = run(edit("date", "10 Nov", replace(RANGE, minutes=360)), schemes)
    assert "Updated #7: date Sat 14 – Sun 15 Nov → Tue 10 Nov, now a one-day entry of 6 h." in said
    assert effects == (UpdateEntry(7, {"activity_date": date(2026, 11, 10), "end_date": None}),)
    assert conv.data.undo is not None
    assert conv.data.undo.previous == {"activity_date": "2026-11-14", "end_date": "2026-11-15"}


def test_a_one_day_entry_keeps_its_fields_when_its_date_changes(
    schemes: dict[str, Scheme],
) -> None:
    said, effects, _ = run(edit("date", "10 Nov", ENTRY), schemes)
    assert "date Tue 3 Nov → Tue 10 Nov" in said
    assert effects == (UpdateEntry(7, {"activity_date": date(2026, 11, 10)}),)


def test_hours_that_one_day_cannot_hold_are_kept_and_said(schemes: dict[str, Scheme]) -> None:
    case = replace(edit("date", "10 Nov", LONG), expect_state=S.EDIT_VALUE)
    said, effects, conv = run(case, schemes)
    assert effects == () and conv.state == S.EDIT_VALUE
    assert "#7 has 30 h, more than a day can hold. Change its hours first" in said


def test_a_range_answer_sets_both_days(schemes: dict[str, Scheme]) -> None:
    said, effects, _ = run(edit("date", "16-17 Nov", ENTRY), schemes)
    assert "date Tue 3 Nov → Mon 16 – Tue 17 Nov" in said
    assert effects == (
        UpdateEntry(7, {"activity_date": date(2026, 11, 16), "end_date": date(2026, 11, 17)}),
    )


def test_a_range_still_to_end_is_said_to_be_still_to_come(schemes: dict[str, Scheme]) -> None:
    case = replace(edit("date", "20-23 Nov"), expect_state=S.EDIT_VALUE)
    said, effects, _ = run(case, schemes)
    assert effects == ()
    assert "'20-23 Nov' is Fri 20 – Mon 23 Nov, still to come" in said


@pytest.mark.parametrize("answer", ["1 Sep - 15 Oct", "blah"])
def test_a_range_too_long_or_unreadable_is_not_read_as_another_date(
    schemes: dict[str, Scheme], answer: str
) -> None:
    case = replace(edit("date", answer), expect_state=S.EDIT_VALUE)
    said, effects, _ = run(case, schemes)
    assert effects == ()
    assert f"I couldn't read '{answer}' as a date" in said and "at most 31 days" in said


def test_the_last_day_is_moved_or_removed(schemes: dict[str, Scheme]) -> None:
    said, effects, _ = run(edit("end_date", "16 Nov"), schemes)
    assert "last day Sun 15 Nov → Mon 16 Nov" in said
    assert effects == (
        UpdateEntry(7, {"activity_date": date(2026, 11, 14), "end_date": date(2026, 11, 16)}),
    )
    said, effects, _ = run(edit("end_date", "none", replace(RANGE, minutes=360)), schemes)
    assert "last day Sun 15 Nov → none, now a one-day entry of 6 h" in said
    assert effects == (UpdateEntry(7, {"activity_date": date(2026, 11, 14), "end_date": None}),)


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ("13 Nov", "Fri 13 Nov is before the first day, Sat 14 Nov"),
        ("next friday", "in the future"),
        ("blah", "I couldn't read 'blah' as one date"),
        ("15-16 Nov", "I couldn't read '15-16 Nov' as one date"),
    ],
)
def test_a_bad_last_day_is_refused(schemes: dict[str, Scheme], answer: str, says: str) -> None:
    case = replace(edit("end_date", answer), says=says, expect_state=S.EDIT_VALUE)
    assert_case(case, schemes)


def test_the_last_day_is_reached_by_typing(schemes: dict[str, Scheme]) -> None:
    case = Case(
        "typed",
        S.EDIT_FIELD,
        text("last day"),
        S.EDIT_VALUE,
        "the last day",
        data=Data(target=7),
        snap={"entry": RANGE},
    )
    assert_case(case, schemes)
    pressed = replace(case, event=press("field:end_date"))
    assert_case(pressed, schemes)


def test_hours_of_a_two_day_entry_may_be_up_to_48(schemes: dict[str, Scheme]) -> None:
    said, effects, _ = run(edit("hours", "30h"), schemes)
    assert "hours 14 h → 30 h" in said and effects == (UpdateEntry(7, {"minutes": 1800}),)
    said, effects, _ = run(replace(edit("hours", "50h"), expect_state=S.EDIT_VALUE), schemes)
    assert effects == () and "50 h, more than the 48 hours in 2 days" in said


def test_a_full_day_is_the_persons_own_day(schemes: dict[str, Scheme]) -> None:
    case = replace(edit("hours", "full day", ENTRY), person={"day_minutes": 450})
    said, effects, _ = run(case, schemes)
    assert "hours 1 h 30 → 7 h 30" in said and effects == (UpdateEntry(7, {"minutes": 450}),)
    said, effects, _ = run(edit("hours", "full day", ENTRY), schemes)
    assert effects == (UpdateEntry(7, {"minutes": 420}),)  # the scheme's 7 h


def test_undo_puts_the_days_back(schemes: dict[str, Scheme]) -> None:
    undo = Undo(
        kind="edited",
        number=7,
        title="IET conference",
        previous={"activity_date": "2026-11-14", "end_date": "2026-11-15"},
    )
    case = Case("undo", S.IDLE, text("/undo"), S.IDLE, data=Data(undo=undo))
    said, effects, _ = run(case, schemes)
    assert "as it was before the edit" in said
    assert effects == (
        UpdateEntry(7, {"activity_date": date(2026, 11, 14), "end_date": date(2026, 11, 15)}),
    )

"""Editing a multi-day entry as the reviewer did in the console (issue 13, fix round): a
range moved to one day says so and asks about hours over a day's length; the /edit menu
keeps its numbers whatever the entry's days; a new last day reads like every other edit
and can be undone."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bot.core.model import UpdateEntry
from bot.core.schemes import Scheme
from bot.dialogue import Conv, Data, step
from bot.dialogue.conversation import Step
from tests.dialogue.chat import ENTRY, Case, S, make_ctx, press, text

# 'Workshop on relays', Sat 14 – Sun 15 Nov 2026, two full days (14 h); today Sun 22 Nov.
RANGE = replace(
    ENTRY,
    title="Workshop on relays",
    activity_date=date(2026, 11, 14),
    end_date=date(2026, 11, 15),
    minutes=14 * 60,
)


def at(
    state: S, data: Data, event: object, schemes: dict[str, Scheme], entry: object = RANGE
) -> Step:
    case = Case("edit", state, event, state, data=data, snap={"entry": entry})  # type: ignore[arg-type]
    return step(Conv(state, data), case.event, make_ctx(schemes, case))


def said(result: Step) -> str:
    return "\n".join(r.text for r in result.replies)


def labels(result: Step) -> list[str]:
    return [c.label for c in result.replies[-1].choices]


def answer(result: Step, label: str) -> object:
    """Press the quick reply labelled `label` on the last message."""
    choice = next(c for c in result.replies[-1].choices if c.label.startswith(label))
    return press(choice.id)


def new_date(typed: str, schemes: dict[str, Scheme], entry: object = RANGE) -> Step:
    return at(S.EDIT_VALUE, Data(target=7, field="date"), text(typed), schemes, entry)


# ---------------------------------------------------------------- 1. a range moved to one day


def test_a_range_moved_to_one_day_asks_about_hours_over_a_day(
    schemes: dict[str, Scheme],
) -> None:
    asked = new_date("20 Nov", schemes)
    assert asked.effects == () and asked.conv.state == S.EDIT_VALUE
    words = said(asked)
    assert "one-day entry" in words and "Fri 20 Nov" in words
    assert "14 h" in words and "2 days" in words and "7 h" in words
    assert asked.replies[-1].numeric_answer  # a typed 7 is hours, not a pick
    kept = at(asked.conv.state, asked.conv.data, answer(asked, "Keep 14 h"), schemes)
    assert kept.effects == (
        UpdateEntry(7, {"activity_date": date(2026, 11, 20), "end_date": None}),
    )
    assert "Updated #7: date Sat 14 – Sun 15 Nov → Fri 20 Nov, now a one-day entry of 14 h" in (
        said(kept)
    )
    assert kept.conv.state == S.EDIT_FIELD


def test_hours_typed_for_the_one_day_are_saved_with_it(schemes: dict[str, Scheme]) -> None:
    asked = new_date("20 Nov", schemes)
    done = at(asked.conv.state, asked.conv.data, text("7"), schemes)
    assert done.effects == (
        UpdateEntry(7, {"activity_date": date(2026, 11, 20), "end_date": None, "minutes": 420}),
    )
    assert "now a one-day entry of 7 h (was 14 h)" in said(done)
    assert done.conv.data.undo is not None
    assert done.conv.data.undo.previous == {
        "activity_date": "2026-11-14",
        "end_date": "2026-11-15",
        "minutes": 840,
    }
    bad = at(asked.conv.state, asked.conv.data, text("30h"), schemes)
    assert bad.effects == () and bad.conv.state == S.EDIT_VALUE
    assert "more than the 24 hours in a day" in said(bad)


def test_moving_both_days_keeps_the_length(schemes: dict[str, Scheme]) -> None:
    asked = new_date("20 Nov", schemes)
    moved = at(asked.conv.state, asked.conv.data, answer(asked, "Move both days"), schemes)
    assert moved.effects == (
        UpdateEntry(7, {"activity_date": date(2026, 11, 20), "end_date": date(2026, 11, 21)}),
    )
    typed = new_date("20-21 Nov", schemes)
    assert typed.effects == moved.effects
    assert "date Sat 14 – Sun 15 Nov → Fri 20 – Sat 21 Nov" in said(typed)


def test_a_range_within_a_day_becomes_one_day_and_says_so(schemes: dict[str, Scheme]) -> None:
    done = new_date("20 Nov", schemes, replace(RANGE, minutes=360))
    assert done.effects == (
        UpdateEntry(7, {"activity_date": date(2026, 11, 20), "end_date": None}),
    )
    assert "→ Fri 20 Nov, now a one-day entry of 6 h" in said(done)


def test_removing_the_last_day_asks_too(schemes: dict[str, Scheme]) -> None:
    asked = at(S.EDIT_VALUE, Data(target=7, field="end_date"), text("none"), schemes)
    assert asked.effects == () and "one-day entry" in said(asked)
    assert any(label.startswith("Keep 14 h") for label in labels(asked))


# ---------------------------------------------------------------- 2. stable menu numbers


def test_the_menu_keeps_its_numbers_when_the_last_day_goes(schemes: dict[str, Scheme]) -> None:
    first = at(S.IDLE, Data(), text("/edit 7"), schemes)
    one_day = replace(RANGE, end_date=None, minutes=420)
    after = at(S.IDLE, Data(), text("/edit 7"), schemes, one_day)
    assert labels(first)[:4] == labels(after)[:4] == ["Title", "Date", "Last day", "Hours"]
    picked = at(S.EDIT_FIELD, Data(target=7), answer(after, "Last day"), schemes, one_day)
    assert picked.conv.state == S.EDIT_VALUE and picked.conv.data.field == "end_date"
    assert "one-day entry (last day: none)" in said(picked)


def test_a_one_day_entry_gets_a_last_day(schemes: dict[str, Scheme]) -> None:
    data = Data(target=7, field="end_date")
    done = at(S.EDIT_VALUE, data, text("5 Nov"), schemes, ENTRY)
    assert done.effects == (
        UpdateEntry(7, {"activity_date": date(2026, 11, 3), "end_date": date(2026, 11, 5)}),
    )
    assert "Updated #7: last day none → Thu 5 Nov" in said(done)
    same = at(S.EDIT_VALUE, data, text("none"), schemes, ENTRY)
    assert same.effects == () and same.conv.state == S.EDIT_FIELD
    assert "#7 is already a one-day entry" in said(same)


# ---------------------------------------------------------------- 3. last day: Updated and Undo


def test_a_new_last_day_reads_like_any_edit_and_can_be_undone(
    schemes: dict[str, Scheme],
) -> None:
    done = at(S.EDIT_VALUE, Data(target=7, field="end_date"), text("16 Nov"), schemes)
    assert "Updated #7: last day Sun 15 Nov → Mon 16 Nov." in said(done)
    assert done.effects == (
        UpdateEntry(7, {"activity_date": date(2026, 11, 14), "end_date": date(2026, 11, 16)}),
    )
    assert labels(done)[-1] == "Undo"
    moved = replace(RANGE, end_date=date(2026, 11, 16))
    undone = at(done.conv.state, done.conv.data, answer(done, "Undo"), schemes, moved)
    assert undone.conv.state == S.IDLE and "as it was before the edit" in said(undone)
    assert undone.effects == (
        UpdateEntry(7, {"activity_date": date(2026, 11, 14), "end_date": date(2026, 11, 15)}),
    )
    typed = at(done.conv.state, done.conv.data, text("/undo"), schemes, moved)
    assert typed.effects == undone.effects

"""Changing saved entries: /delete, /undo, /edit."""

from __future__ import annotations

import pytest

from bot.core.model import DeleteEntry, RestoreEntry, UpdateEntry
from bot.core.schemes import Scheme
from bot.dialogue import Data, Undo
from tests.dialogue.chat import ENTRY, Case, S, assert_case, press, text

CASES = [
    # delete
    Case(
        "/delete asks first",
        S.IDLE,
        text("/delete 7"),
        S.DELETE_CONFIRM,
        "Delete #7",
        snap={"entry": ENTRY},
    ),
    Case(
        "/delete of an entry that is not yours or not there",
        S.IDLE,
        text("/delete 99"),
        S.IDLE,
        "no entry #99",
    ),
    Case("/delete without a number", S.IDLE, text("/delete"), S.IDLE, "Which entry?"),
    Case("/delete with junk", S.IDLE, text("/delete seven"), S.IDLE, "Which entry?"),
    Case(
        "delete confirmed",
        S.DELETE_CONFIRM,
        press("del:yes:7"),
        S.IDLE,
        "Deleted #7",
        data=Data(target=7),
        effects=(DeleteEntry,),
    ),
    Case("delete declined", S.DELETE_CONFIRM, text("keep"), S.IDLE, "Kept #7", data=Data(target=7)),
    Case(
        "delete: stale button of another entry",
        S.DELETE_CONFIRM,
        press("del:yes:3"),
        S.DELETE_CONFIRM,
        "earlier message",
        data=Data(target=7),
    ),
    # undo
    Case(
        "undo a save",
        S.IDLE,
        text("/undo"),
        S.IDLE,
        "removed",
        effects=(DeleteEntry,),
        data=Data(undo=Undo(kind="saved", number=13, title="W")),
    ),
    Case(
        "undo button of the last save",
        S.IDLE,
        press("undo:13"),
        S.IDLE,
        "removed",
        effects=(DeleteEntry,),
        data=Data(undo=Undo(kind="saved", number=13, title="W")),
    ),
    Case(
        "undo button of an older save",
        S.IDLE,
        press("undo:12"),
        S.IDLE,
        "earlier action",
        data=Data(undo=Undo(kind="saved", number=13, title="W")),
    ),
    Case(
        "undo a delete",
        S.IDLE,
        text("/undo"),
        S.IDLE,
        "is back",
        effects=(RestoreEntry,),
        data=Data(undo=Undo(kind="deleted", number=7, title="#7")),
    ),
    Case(
        "undo an edit",
        S.IDLE,
        text("/undo"),
        S.IDLE,
        "as it was",
        effects=(UpdateEntry,),
        data=Data(undo=Undo(kind="edited", number=7, title="W", previous={"minutes": 60})),
    ),
    Case("nothing to undo", S.IDLE, text("/undo"), S.IDLE, "nothing to undo"),
    # edit
    Case(
        "/edit shows the entry",
        S.IDLE,
        text("/edit 7"),
        S.EDIT_FIELD,
        "Reflection 2",
        snap={"entry": ENTRY},
    ),
    Case("/edit of a missing entry", S.IDLE, text("/edit 8"), S.IDLE, "no entry #8"),
    Case(
        "edit: field chosen",
        S.EDIT_FIELD,
        press("field:hours"),
        S.EDIT_VALUE,
        "new hours",
        data=Data(target=7),
        snap={"entry": ENTRY},
    ),
    Case(
        "edit: field typed",
        S.EDIT_FIELD,
        text("reflection 2"),
        S.EDIT_VALUE,
        "new answer",
        data=Data(target=7),
        snap={"entry": ENTRY},
    ),
    Case(
        "edit: done",
        S.EDIT_FIELD,
        press("field:done"),
        S.IDLE,
        "Done editing #7",
        data=Data(target=7),
        snap={"entry": ENTRY},
    ),
    Case(
        "edit: hours changed",
        S.EDIT_VALUE,
        text("2h"),
        S.EDIT_FIELD,
        "hours 1 h 30 → 2 h",
        data=Data(target=7, field="hours"),
        snap={"entry": ENTRY},
        effects=(UpdateEntry,),
    ),
    Case(
        "edit: bad hours",
        S.EDIT_VALUE,
        text("-1h"),
        S.EDIT_VALUE,
        "not a positive",
        data=Data(target=7, field="hours"),
        snap={"entry": ENTRY},
    ),
    Case(
        "edit: date in the future",
        S.EDIT_VALUE,
        text("next friday"),
        S.EDIT_VALUE,
        "in the future",
        data=Data(target=7, field="date"),
        snap={"entry": ENTRY},
    ),
    Case(
        "edit: pending reflection answered",
        S.EDIT_VALUE,
        text("Label panels"),
        S.EDIT_FIELD,
        "reflection updated",
        data=Data(target=7, field="r:change"),
        snap={"entry": ENTRY},
        effects=(UpdateEntry,),
    ),
    Case(
        "edit: category",
        S.EDIT_VALUE,
        press("cat:self_study"),
        S.EDIT_FIELD,
        "Events and seminars → Self-study",
        data=Data(target=7, field="category"),
        snap={"entry": ENTRY},
        effects=(UpdateEntry,),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transition(case: Case, schemes: dict[str, Scheme]) -> None:
    assert_case(case, schemes)

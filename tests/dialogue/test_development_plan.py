"""The development plan: /plan one-liners and the menu (values: test_plan_values.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.model import (
    AddObjective,
    LinkEntry,
    SetEntryTags,
    SetObjectiveDone,
    SetRole,
)
from bot.core.plan import Plan
from bot.core.schemes import Scheme
from bot.core.snapshot import Snapshot
from bot.dialogue import Context, Conv, Data, PlanDraft, step
from tests.dialogue.chat import (
    ENTRY,
    NOW,
    PLAN,
    YESTERDAY,
    Case,
    S,
    assert_case,
    draft,
    person,
    plan_snap,
    press,
    text,
)

CASES = [
    # /plan: one-liners
    Case(
        "/plan shows the plan and its menu",
        S.IDLE,
        text("/plan"),
        S.PLAN_MENU,
        "Role: Protection engineer",
        snap=plan_snap(),
    ),
    Case(
        "/plan with nothing planned yet",
        S.IDLE,
        text("/plan"),
        S.PLAN_MENU,
        "Objectives: none yet",
        snap={"plan": Plan()},
    ),
    Case(
        "/plan link entry to objective in one line",
        S.IDLE,
        text("/plan link 7 2"),
        S.IDLE,
        "Linked #7 'Webinar on arc-flash safety' to O2",
        effects=(LinkEntry,),
        snap=plan_snap(entry=ENTRY),
    ),
    Case(
        "/plan link to an objective that does not exist",
        S.IDLE,
        text("/plan link 7 O9"),
        S.IDLE,
        "no objective O9 (yours: O1, O2)",
        snap=plan_snap(entry=ENTRY),
    ),
    Case(
        "/plan link an entry you don't have (another person's number)",
        S.IDLE,
        text("/plan link 99 1"),
        S.IDLE,
        "You have no entry #99",
        snap=plan_snap(),
    ),
    Case(
        "/plan link a deleted entry",
        S.IDLE,
        text("/plan link 7 1"),
        S.IDLE,
        "You have no entry #7",
        snap=plan_snap(entry=replace(ENTRY, deleted=True)),
    ),
    Case(
        "/plan link twice",
        S.IDLE,
        text("/plan link #7 O1"),
        S.IDLE,
        "already linked to O1",
        snap=plan_snap(entry=ENTRY),
    ),
    Case(
        "/plan unlink",
        S.IDLE,
        text("/plan unlink 7 1"),
        S.IDLE,
        "Unlinked #7",
        effects=(LinkEntry,),
        snap=plan_snap(entry=ENTRY),
    ),
    Case(
        "/plan link without numbers",
        S.IDLE,
        text("/plan link the webinar"),
        S.IDLE,
        "e.g. '12 O3'",
        snap=plan_snap(),
    ),
    Case(
        "/plan tag with UK-SPEC letters",
        S.IDLE,
        text("/plan tag 7 a, c"),
        S.IDLE,
        "#7 tagged: A (Knowledge and understanding), C (Responsibility",
        effects=(SetEntryTags,),
        snap=plan_snap(entry=ENTRY),
    ),
    Case(
        "/plan done marks an objective achieved",
        S.IDLE,
        text("/plan done O1"),
        S.IDLE,
        "O1 'Learn IEC 61850' marked done",
        effects=(SetObjectiveDone,),
        snap=plan_snap(),
    ),
    Case(
        "/plan done twice",
        S.IDLE,
        text("/plan done 2"),
        S.IDLE,
        "already marked done",
        snap=plan_snap(),
    ),
    Case(
        "/plan done unknown objective",
        S.IDLE,
        text("/plan done 5"),
        S.IDLE,
        "no objective O5",
        snap=plan_snap(),
    ),
    Case(
        "/plan role in one line",
        S.IDLE,
        text("/plan role senior engineer"),
        S.IDLE,
        "Role set: Senior engineer",
        effects=(SetRole,),
        snap=plan_snap(),
    ),
    Case(
        "/plan something else",
        S.IDLE,
        text("/plan frobnicate"),
        S.IDLE,
        "/plan link 12 3",
        snap=plan_snap(),
    ),
    Case(
        "/plan in the middle of logging",
        S.LOG_HOURS,
        text("/plan"),
        S.LOG_HOURS,
        "middle of logging 'W'",
        data=draft(title="W", activity_date=YESTERDAY),
        snap=plan_snap(),
    ),
    Case("plan typed alone opens it", S.IDLE, text("plan"), S.PLAN_MENU, "Role:", snap=plan_snap()),
    Case(
        "an activity starting with 'review' is logged, not a command",
        S.IDLE,
        text("Review of BS 7671 amendment 1h yesterday"),
        S.LOG_CATEGORY,
        "Got it: 'Review of BS 7671 amendment'",
        snap=plan_snap(),
    ),
    Case(
        "/plan tag with a colon",
        S.IDLE,
        text("/plan tag #7: b"),
        S.IDLE,
        "#7 tagged: B (Design and development",
        effects=(SetEntryTags,),
        snap=plan_snap(entry=ENTRY),
    ),
    # /plan: the menu
    Case(
        "plan menu: set role",
        S.PLAN_MENU,
        press("plan:role"),
        S.PLAN_VALUE,
        "What is your role?",
        snap=plan_snap(),
    ),
    Case(
        "plan menu: add objective typed",
        S.PLAN_MENU,
        text("add objective"),
        S.PLAN_VALUE,
        "What is the objective?",
        snap=plan_snap(),
    ),
    Case(
        "plan menu: leave or exemption",
        S.PLAN_MENU,
        press("plan:period"),
        S.PLAN_STATUS,
        "Which status applies for part of the year?",
        snap=plan_snap(),
    ),
    Case(
        "plan menu: a button this scheme's menu does not offer is stale",
        S.PLAN_MENU,
        press("plan:period"),
        S.PLAN_MENU,
        "earlier message",
        scheme="step",
        snap=plan_snap(),
    ),
    Case(
        "plan menu: another dialogue's button is stale",
        S.PLAN_MENU,
        press("del:no"),
        S.PLAN_MENU,
        "earlier message",
        snap=plan_snap(),
    ),
    Case(
        "plan menu: nonsense",
        S.PLAN_MENU,
        text("banana"),
        S.PLAN_MENU,
        "pick what to change",
        snap=plan_snap(),
    ),
    Case(
        "plan menu: done", S.PLAN_MENU, press("plan:done"), S.IDLE, "Plan saved", snap=plan_snap()
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transition(case: Case, schemes: dict[str, Scheme]) -> None:
    assert_case(case, schemes)


def test_plan_menu_offers_only_what_can_be_done(schemes: dict[str, Scheme]) -> None:
    def labels(plan: Plan, scheme: str) -> list[str]:
        p = person(scheme_id=scheme, status_id=schemes[scheme].default_status)
        ctx = Context(Snapshot(now=NOW, person=p, plan=plan), schemes)
        return [c.label for c in step(Conv(), text("/plan"), ctx).replies[-1].choices]

    empty = labels(Plan(), "step")
    assert "Remove responsibility" not in empty and "Link entry" not in empty
    assert "Leave or exemption" not in empty  # STEP has one status: nothing to be exempt to
    full = labels(PLAN, "iet")
    assert {"Remove responsibility", "Objective done", "Link entry", "Leave or exemption"} <= set(
        full
    )
    assert full[-1] == "Done"


def test_after_a_change_the_menu_reflects_it(schemes: dict[str, Scheme]) -> None:
    ctx = Context(Snapshot(now=NOW, person=person(), plan=Plan()), schemes)
    conv = Conv(S.PLAN_TARGET, Data(plan=PlanDraft(title="Learn HVDC", area="technical")))
    result = step(conv, press("target:none"), ctx)
    (effect,) = result.effects
    assert effect == AddObjective("Learn HVDC", "technical", None)
    offered = [c.label for c in result.replies[-1].choices]
    assert "Link entry" in offered and "Objective done" in offered

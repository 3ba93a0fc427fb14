"""The flow registry: every state, command, transition and button id is declared once and
consistently, and /help, the menus and docs/dialogue.md come from it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.core.buttons import (
    CALENDAR_ACTIONS,
    ButtonId,
    OptionId,
    calendar_button,
    command_button,
    parse_calendar,
    parse_command,
)
from bot.core.model import Incoming, Kind, Outgoing
from bot.core.schemes import Scheme
from bot.core.snapshot import Needs, Snapshot
from bot.dialogue import HELP, Context, Conv, State, Step, kernel
from bot.dialogue.diagram import document
from bot.dialogue.flow import Command, Flow, flow_of
from bot.dialogue.flows import record_views
from bot.dialogue.registry import (
    COMMANDS,
    ESSENTIAL,
    FLOWS,
    HANDLERS,
    MENU,
    TRANSITIONS,
    build,
)
from bot.services import commands
from tests.dialogue.chat import ME, NOW, SUMMARY, person, text

ROOT = Path(__file__).resolve().parents[2]
FLOW_STATES = [s for s in State if s != State.IDLE]


@pytest.mark.parametrize("state", FLOW_STATES, ids=str)
def test_every_state_belongs_to_one_flow_with_a_handler_and_a_prompt(state: State) -> None:
    owners = [f.name for f in FLOWS if state in f.states]
    assert len(owners) == 1, owners
    flow = flow_of(state)
    assert flow is not None and flow.prompt is not None
    assert HANDLERS[state] is flow.handlers[state]


def test_idle_has_a_handler() -> None:
    assert State.IDLE in HANDLERS and flow_of(State.IDLE) is None


@pytest.mark.parametrize("row", TRANSITIONS, ids=lambda r: f"{r[0]}->{r[2]}")
def test_every_transition_leaves_its_flow_or_idle(row: tuple[State, str, State]) -> None:
    start, trigger, end = row
    (flow,) = [f for f in FLOWS if row in f.transitions]
    assert trigger
    assert start == State.IDLE or start in flow.states or start in flow.over
    assert end == State.IDLE or flow_of(end) is not None


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_is_shown_or_deliberately_hidden(name: str) -> None:
    command = COMMANDS[name]
    assert name.islower() and name.isalpha()
    if command.summary:
        assert 3 <= len(command.summary) <= 256
    if command.help:
        assert command.help.startswith(f"/{name}") and command.help in HELP
    assert command.bare_only <= command.slashless
    assert not command.also_in or command.busy
    assert command.run is not None or name in ("help", "cancel")


def test_help_and_menu_list_each_command_once() -> None:
    names = [name for name, _ in MENU]
    assert len(names) == len(set(names))
    ranks = [c.help_rank for c in COMMANDS.values() if c.help]
    assert len(ranks) == len(set(ranks))
    assert HELP.startswith("Here is what I can do:\n")


def test_the_services_show_the_registry_to_the_adapters() -> None:
    assert commands.menu() == MENU
    assert commands.help_text() == HELP
    assert commands.busy_commands() == {n for n, c in COMMANDS.items() if c.busy}
    assert commands.slashless_words() == {n for n, c in COMMANDS.items() if c.slashless}


def test_exactly_ten_commands_are_essential_in_menu_order_each_with_a_summary() -> None:
    marked = [name for name, c in COMMANDS.items() if c.essential]
    assert len(marked) == 10 and len(ESSENTIAL) == 10
    assert [name for name, _ in ESSENTIAL] == [name for name, _ in MENU if name in marked]
    assert all(summary == COMMANDS[name].summary != "" for name, summary in ESSENTIAL)
    # What a member needs most: the menu leads to help, their record and their settings.
    assert {"log", "status", "reflect", "export", "settings", "help"} <= set(marked)
    assert commands.essential_menu() == ESSENTIAL


def _marked(names: set[str]) -> tuple[Flow, ...]:
    """FLOWS with `essential` set on exactly the commands `names`."""
    return tuple(
        replace(f, commands=tuple(replace(c, essential=c.name in names) for c in f.commands))
        for f in FLOWS
    )


def test_the_registry_refuses_other_than_ten_essential_commands_or_one_without_summary() -> None:
    ten = {name for name, _ in ESSENTIAL}
    assert build(_marked(ten)).essential == ESSENTIAL
    with pytest.raises(AssertionError, match="11 essential commands, not ten"):
        build(_marked(ten | {"forget"}))
    with pytest.raises(AssertionError, match="9 essential commands, not ten"):
        build(_marked(ten - {"help"}))
    with pytest.raises(AssertionError, match="/resume is essential but has no menu summary"):
        build(_marked(ten - {"help"} | {"resume"}))


def test_docs_dialogue_is_generated_from_the_registry() -> None:
    doc = (ROOT / "docs" / "dialogue.md").read_text(encoding="utf-8")
    assert doc == document(), "regenerate: python -m bot.dialogue.diagram > docs/dialogue.md"


@pytest.mark.parametrize("state", list(State), ids=str)
def test_stored_state_values_still_load(state: State) -> None:
    assert Conv.load(state.value, {}).state == state


def test_button_ids_round_trip_and_refuse_other_kinds() -> None:
    cat = ButtonId("cat")
    assert cat.parse(cat.make("events")) == "events"
    assert cat.parse("catx:events") is None and cat.parse("cat") is None
    assert ButtonId("min").number("min:90") == 90 and ButtonId("min").number("min:x") is None
    yes_no = OptionId("struct", ("yes", "no"))
    assert yes_no.parse("struct:yes") == "yes" and yes_no.parse("struct:maybe") is None
    for action in CALENDAR_ACTIONS:
        found = parse_calendar(calendar_button(action, 42))
        assert found is not None and (found.action, found.occurrence) == (action, 42)
    garbled = parse_calendar("cal:x:y:z")
    assert garbled is not None and garbled.action is None and garbled.occurrence is None
    assert parse_calendar("cmd:log") is None
    assert parse_command(command_button("reflect", "12")) == ("reflect", "12")
    assert parse_command("cal:log:1") is None


def test_a_command_declared_in_one_flow_is_dispatched_helped_and_listed(
    monkeypatch: pytest.MonkeyPatch, schemes: dict[str, Scheme]
) -> None:
    """docs/architecture.md's worked example: a command added to one flow's declaration is
    dispatched (with a slash and typed alone), gets what it needs loaded, and is in /help and
    the menus, with no other change anywhere."""

    def target(conv: Conv, args: str, ctx: Context) -> Step:
        return Step(conv, (Outgoing(f"standing loaded: {ctx.snap.summary is not None}"),))

    extra = Command(
        "target",
        target,
        needs=lambda args: Needs(standing=True),
        help="/target — the hours still needed this CPD year",
        help_rank=25,
        summary="Hours still needed this year",
        menu_rank=25,
        slashless=True,
    )
    flows = tuple(
        replace(f, commands=(*f.commands, extra)) if f is record_views.FLOW else f for f in FLOWS
    )
    built = build(flows)
    status_help = COMMANDS["status"].help
    assert f"{status_help}\n/target — the hours still needed this CPD year\n" in built.help
    assert ("target", "Hours still needed this year") in built.menu
    assert built.help.replace("/target — the hours still needed this CPD year\n", "") == HELP
    assert "target" not in COMMANDS  # the real registry is untouched

    monkeypatch.setattr(kernel, "COMMANDS", built.commands)
    monkeypatch.setattr(kernel, "REGISTRY", built)
    ctx = Context(Snapshot(now=NOW, person=person(), summary=SUMMARY), schemes)
    for event in (Incoming(ME, Kind.COMMAND, command="target"), text("target")):
        assert kernel.needs(Conv(), event) == Needs(standing=True)
        result = kernel.step(Conv(), event, ctx)
        assert [r.text for r in result.replies] == ["standing loaded: True"]
    helped = kernel.step(Conv(), Incoming(ME, Kind.COMMAND, command="help"), ctx)
    assert "/target — the hours still needed this CPD year" in helped.replies[0].text


def _help(schemes: dict[str, Scheme], scheme: str) -> str:
    ctx = Context(Snapshot(now=NOW, person=person(scheme_id=scheme)), schemes)
    (reply,) = kernel.step(Conv(), Incoming(ME, Kind.COMMAND, command="help"), ctx).replies
    return reply.text


@pytest.mark.parametrize("scheme", ["iet", "step", "ipem"])
def test_help_lists_only_what_applies_to_the_members_body(
    schemes: dict[str, Scheme], scheme: str
) -> None:
    said = _help(schemes, scheme)
    assert "/studying" not in said and "IES" not in said
    assert "/log" in said and "/settings" in said and "/drafts" in said


def test_ies_members_are_told_of_studying(schemes: dict[str, Scheme]) -> None:
    assert "/studying yes" in _help(schemes, "ies")
    assert _help(schemes, "ies") == HELP  # every command applies to IES


def test_help_says_cancel_keeps_what_was_set_aside(schemes: dict[str, Scheme]) -> None:
    said = _help(schemes, "iet")
    assert "nothing half-done is kept" not in said
    assert "throws away the entry you are on,\n  entries set aside stay: /drafts" in said
    assert "drafts" in [name for name, _ in MENU]

"""Did you mean, for commands (issue 13): a mistyped command is answered with the command
it is closest to and a button running it; nothing close, and today's reply stands."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.schemes import Scheme
from bot.core.snapshot import Snapshot
from bot.dialogue import Context, Conv, Data, Draft, Step, needs, step
from tests.dialogue.chat import NOW, SUMMARY, YESTERDAY, S, person, press, text


def run(schemes: dict[str, Scheme], conv: Conv, event: Any, **snap: Any) -> Step:
    return step(conv, event, Context(Snapshot(now=NOW, person=person(), **snap), schemes))


def said(result: Step) -> str:
    return "\n".join(r.text for r in result.replies)


def buttons(result: Step) -> list[tuple[str, str]]:
    return [(c.label, c.id) for r in result.replies for c in r.choices]


def test_a_mistyped_command_is_offered_the_one_meant(schemes: dict[str, Scheme]) -> None:
    result = run(schemes, Conv(), text("/stauts"))
    assert said(result) == "I don't know /stauts. Did you mean /status?"
    assert buttons(result) == [("/status", "cmd:status")]
    assert result.conv.state == S.IDLE and result.effects == ()
    tapped = run(schemes, result.conv, press("cmd:status"), summary=SUMMARY)
    assert said(tapped).startswith("CPD year 2026") and "don't know" not in said(tapped)
    assert needs(result.conv, press("cmd:status")).standing


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("/setings", "settings"), ("/exprot", "export"), ("/lgo", "log"), ("/refelct", "reflect")],
)
def test_typos_and_swapped_letters(typed: str, meant: str, schemes: dict[str, Scheme]) -> None:
    result = run(schemes, Conv(), text(typed))
    assert f"Did you mean /{meant}?" in said(result)
    assert buttons(result)[0] == (f"/{meant}", f"cmd:{meant}")


def test_the_line_typed_after_it_is_kept_on_the_button(schemes: dict[str, Scheme]) -> None:
    result = run(schemes, Conv(), text("/lgo 2h webinar on earthing yesterday"))
    assert "Did you mean /log?" in said(result)
    ((label, choice),) = buttons(result)
    assert (label, choice) == ("/log", "cmd:log 2h webinar on earthing yesterday")
    logged = run(schemes, result.conv, press(choice))
    assert logged.conv.data.draft and logged.conv.data.draft.title == "Webinar on earthing"
    assert logged.conv.data.draft.minutes == 120


def test_a_line_too_long_for_a_button_is_quoted_instead(schemes: dict[str, Scheme]) -> None:
    line = "2h " + "very long title " * 5 + "yesterday"
    result = run(schemes, Conv(), text(f"/lgo {line}"))
    ((label, choice),) = buttons(result)
    assert (label, choice) == ("/log", "cmd:log")  # the platform's 64-byte limit
    assert f"/log {line}" in said(result)  # nothing typed is lost: it is quoted to resend


def test_nothing_close_keeps_todays_reply(schemes: dict[str, Scheme]) -> None:
    result = run(schemes, Conv(), text("/frobnicate"))
    assert said(result) == "I don't know /frobnicate. /help lists what I can do."
    assert buttons(result) == []


def test_mid_dialogue_the_question_is_asked_again(schemes: dict[str, Scheme]) -> None:
    conv = Conv(S.LOG_HOURS, Data(draft=Draft(title="W", activity_date=YESTERDAY)))
    result = run(schemes, conv, text("/stauts"))
    assert "Did you mean /status?" in said(result)
    assert result.conv.state == S.LOG_HOURS and "How long" in said(result)


def test_a_bare_word_is_not_taken_for_a_command(schemes: dict[str, Scheme]) -> None:
    result = run(schemes, Conv(), text("stauts"))
    assert "Did you mean" not in said(result)
    assert "To record an activity" in said(result)

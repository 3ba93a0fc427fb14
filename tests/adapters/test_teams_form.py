"""The quick form as an Adaptive Card, and stale presses, through the real Teams adapter
against tests/fake_teams.py (fixtures and helpers from tests/adapters/test_teams.py).

A form's Save is an `Action.Submit`: Teams sends a message activity whose `value` holds
the button's data and every input by id, with `replyToId` naming the card (Microsoft
Learn, "Universal Actions for Adaptive Cards", Action.Submit in bots; Adaptive Cards
schema 1.5 for Input.Text / Input.Date / Input.ChoiceSet).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest

from bot.services.engine import Engine
from tests.adapters import test_slack
from tests.adapters import test_teams as base
from tests.adapters.test_teams import Person, Teams, card_of, shown
from tests.fake_slack import FakeSlack
from tests.fake_teams import TENANT_ID, Sent

fake, teams = base.fake, base.teams  # the fixtures, shared


def _inputs(sent: Sent) -> dict[str, dict[str, Any]]:
    card = card_of(sent)
    assert card is not None
    return {b["id"]: b for b in card["body"] if str(b["type"]).startswith("Input.")}


def _form(person: Person) -> Sent:
    """The newest form card in the person's chat."""
    for sent in reversed(person.teams.posts(person.conversation)):
        card = card_of(sent)
        if card and any(a.get("data", {}).get("cpd_form") for a in card.get("actions", [])):
            return sent
    raise AssertionError("no form card")


def _submit(person: Person, card: Sent, **inputs: str) -> dict[str, Any]:
    """What Teams sends when Save is pressed: the button's data and the inputs."""
    content = card_of(card)
    assert content is not None
    (save,) = content["actions"]
    assert save["type"] == "Action.Submit"
    return person.activity(
        value={**save["data"], **inputs},
        replyToId=card.id,
        channelData={"tenant": {"id": TENANT_ID}, "source": {"name": "message"}},
    )


async def test_the_quick_form_saves_an_entry_with_the_right_fields(
    teams: Teams, engine: Engine
) -> None:
    ann = Person(teams, "Ann")
    await ann.onboard()
    for typed in ("form", "/form", "Form"):
        await ann.say(typed)
    form = _form(ann)
    inputs = _inputs(form)
    assert card_of(form)["version"] == "1.5"  # type: ignore[index]
    assert inputs["title"]["type"] == "Input.Text"
    assert inputs["date"]["type"] == "Input.Date"
    assert inputs["date"]["value"] == "2026-11-22"  # today, in London
    assert inputs["category"]["type"] == "Input.ChoiceSet"
    assert {"title": "Training courses", "value": "training_courses"} in inputs["category"][
        "choices"
    ]
    assert inputs["r:key_points"].get("isMultiline") is True
    updates_before = len(teams.updates())

    replies = await ann.send(
        _submit(
            ann,
            form,
            title="Earthing design workshop",
            date="2026-11-20",
            hours="2h30",
            category="training_courses",
            end_date="",
            **{"r:key_points": "Touch voltages", "r:change": ""},
        )
    )
    record = engine.record(ann.key)
    assert record is not None
    (entry,) = record.entries
    assert (entry.title, entry.minutes, entry.category, entry.activity_date) == (
        "Earthing design workshop",
        150,
        "training_courses",
        date(2026, 11, 20),
    )
    assert [r.answer for r in entry.reflections if r.answer] == ["Touch voltages"]
    # The form card itself became the Saved line (no Save button left on it).
    (update,) = teams.updates()[updates_before:]
    assert update.activity_id == form.id
    assert shown(update).startswith("Saved #1")
    assert not card_of(update).get("actions")  # type: ignore[union-attr]
    assert not any(r.startswith("Saved #1") for r in replies)  # not said twice

    # A double click on Save: the same drawing submitted again saves nothing more.
    await ann.send(_submit(ann, form, title="Earthing design workshop", hours="2h30"))
    record = engine.record(ann.key)
    assert record is not None and len(record.entries) == 1


async def test_a_form_with_errors_comes_back_inline_with_what_was_typed(
    teams: Teams, engine: Engine
) -> None:
    ben = Person(teams, "Ben")
    await ben.onboard()
    await ben.say("form")
    form = _form(ben)
    updates_before = len(teams.updates())
    await ben.send(
        _submit(
            ben,
            form,
            title="Relay protection webinar",
            date="not a date",
            hours="",
            category="training_courses",
            **{"r:key_points": "Distance zones"},
        )
    )
    record = engine.record(ben.key)
    assert record is not None and record.entries == ()
    # The card is drawn again over itself: typed values kept, each error under its field.
    (update,) = teams.updates()[updates_before:]
    assert update.activity_id == form.id
    card = card_of(update)
    assert card is not None
    body = card["body"]
    inputs = _inputs(update)
    assert inputs["title"]["value"] == "Relay protection webinar"
    assert inputs["category"]["value"] == "training_courses"
    assert inputs["r:key_points"]["value"] == "Distance zones"
    ids = [b.get("id") for b in body]

    def error_after(field: str) -> dict[str, Any]:
        following = body[ids.index(field) + 1]
        assert following["type"] == "TextBlock" and following["color"] == "Attention"
        return dict(following)

    assert "date" in error_after("date")["text"].lower()
    assert "1.5h" in error_after("hours")["text"]
    assert body[ids.index("title") + 1]["type"] != "TextBlock"  # no error on the title
    assert "correct" in shown(update)

    # Corrected and saved from the re-drawn card (a new drawing: not a repeat).
    (save,) = card["actions"]
    fixed = _submit(
        ben,
        update,
        title="Relay protection webinar",
        date="2026-11-21",
        hours="1h",
        category="training_courses",
    )
    fixed["value"]["cpd_form"] = save["data"]["cpd_form"]
    fixed["replyToId"] = form.id
    await ben.send(fixed)
    record = engine.record(ben.key)
    assert record is not None
    (entry,) = record.entries
    assert (entry.title, entry.minutes) == ("Relay protection webinar", 60)


async def test_a_stale_press_leaves_its_card_as_it_was(teams: Teams, engine: Engine) -> None:
    cat = Person(teams, "Cat")
    await cat.onboard()
    replies = await cat.say("log 1h cable sizing talk yesterday")
    assert replies[-1] == "Which category?"
    stale = cat.press_activity("Training courses")
    await cat.say("Self-study")  # typed instead of pressed
    await cat.say("later")
    updates_before = len(teams.updates())
    replies = await cat.send(stale)
    assert replies and "earlier message" in replies[0], replies
    assert teams.updates()[updates_before:] == []  # no "✓ Training courses" on it
    record = engine.record(cat.key)
    assert record is not None
    (entry,) = record.entries
    assert entry.category == "self_study"


# ---------------------------------------------------------------- the same on Slack


@pytest.fixture
async def slack(engine: Engine) -> AsyncIterator[test_slack.Slack]:
    server = await FakeSlack().start()
    try:
        async with test_slack.serving(engine, server) as running:
            yield running
    finally:
        await server.stop()


async def test_a_stale_press_on_slack_leaves_its_message_as_it_was(
    slack: test_slack.Slack, engine: Engine
) -> None:
    dan = test_slack.Person(slack, test_slack.T1, "U0DAN00001")
    await dan.onboard()
    replies = await dan.say("log 1h cable sizing talk yesterday")
    assert replies[-1] == "Which category?"
    message, button = dan.button("Training courses")
    stale = test_slack.button_press(test_slack.T1, dan.user, dan.dm, message, button)
    await dan.say("Self-study")
    await dan.say("later")
    updates_before = len(slack.fake.called("chat.update"))
    posted = len(slack.fake.posts(dan.dm))
    status, _ = await slack.interaction(stale)
    assert status == 200
    texts = [m["text"] for m in slack.fake.posts(dan.dm)[posted:]]
    assert texts and "earlier message" in texts[0], texts
    assert len(slack.fake.called("chat.update")) == updates_before  # no "✓ Training courses"
    record = engine.record(dan.key)
    assert record is not None
    (entry,) = record.entries
    assert entry.category == "self_study"

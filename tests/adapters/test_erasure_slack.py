"""Issue 12, item 3 on Slack: the requests a person sent are erased with them by /forget."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.services.engine import Engine
from storage.db import Database
from tests.adapters.test_slack import T1, Person, Slack, inbox_rows, serving
from tests.fake_slack import FakeSlack

MARKER = "Wq4Marker"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack().start()
    yield server
    await server.stop()


@pytest.fixture
async def slack(engine: Engine, fake: FakeSlack) -> AsyncIterator[Slack]:
    async with serving(engine, fake) as running:
        yield running


async def test_forget_on_slack_erases_every_request_of_the_person(
    slack: Slack, db: Database
) -> None:
    cora, dan = Person(slack, T1, "U0CORA0001"), Person(slack, T1, "U0DAN00001")
    await dan.onboard()
    await cora.onboard()
    assert any("Reflection" in t for t in await cora.say(f"/log 1h {MARKER} yesterday #self_study"))
    assert any("Saved #1" in t for t in await cora.say("later"))
    await slack.bot.idle()
    assert {r.sender for r in inbox_rows(db).values()} == {
        f"slack:{T1}:U0CORA0001",
        f"slack:{T1}:U0DAN00001",
    }
    await cora.say("/forget")
    await cora.press("Erase everything")
    await slack.bot.idle()
    await slack.bot.inbox.flush()
    rows = inbox_rows(db).values()
    assert rows and {r.sender for r in rows} == {f"slack:{T1}:U0DAN00001"}
    assert not any(MARKER in r.payload for r in rows)

"""Issue 12 items 8 and 10 on Slack, through the real bolt app and the fake Web API:
a request whose timestamp header is not a number is refused like any unsigned one, and a
button press names its channel in the payload, yet replies go to the presser's own DM."""

from __future__ import annotations

import copy

import pytest
from sqlmodel import select

from bot.core.model import IdentityKey, Outgoing
from bot.services.engine import Engine
from storage.db import Database
from storage.models import Identity
from tests.adapters.test_slack import T1, Person, Slack, button_press, fake, message_im, slack  # noqa: F401

# ---------------------------------------------------------------- item 8: the timestamp header


@pytest.mark.parametrize("stamp", ["abc", "", "1e3", "12.5", "٣٣٣٣", "9" * 400, "-1"])
async def test_a_non_numeric_timestamp_header_gets_401_and_changes_nothing(
    slack: Slack,  # noqa: F811
    engine: Engine,
    stamp: str,
) -> None:
    body = message_im(T1, "U0MALLORY1", "DU0MALLORY1", "log 5h forged training yesterday")
    status, _ = await slack.event(body, headers={"X-Slack-Request-Timestamp": stamp})
    assert status == 401
    assert slack.fake.calls == []
    assert engine.record(IdentityKey("slack", "U0MALLORY1", T1)) is None


# ---------------------------------------------------------------- item 10: where replies go


def chat_ids(db: Database) -> dict[str, str | None]:
    with db.transaction() as session:
        return {i.user_id: i.chat_id for i in session.exec(select(Identity)).all()}


async def test_a_press_naming_someone_elses_dm_answers_in_the_pressers_own_dm(
    slack: Slack,  # noqa: F811
    engine: Engine,
    db: Database,
) -> None:
    alice = Person(slack, T1, "U0ALICE001")
    bob = Person(slack, T1, "U0BOB00001")
    await bob.onboard()
    await alice.say("hello")  # the onboarding question, with buttons, in Alice's DM
    message, button = alice.button("IET")
    before = {dm: len(slack.fake.posts(dm)) for dm in (alice.dm, bob.dm)}
    updates = len(slack.fake.called("chat.update"))
    forged = button_press(T1, alice.user, bob.dm, copy.deepcopy(message), button)
    status, _ = await slack.interaction(forged)
    assert status == 200
    # Nothing was posted or edited in Bob's DM; Alice's answer came to her own DM.
    assert len(slack.fake.posts(bob.dm)) == before[bob.dm]
    assert all(c["channel"] != bob.dm for c in slack.fake.called("chat.update")[updates:])
    assert any("time zone" in m["text"] for m in slack.fake.posts(alice.dm)[before[alice.dm] :])
    # What is stored and what the scheduler's sender uses still point at Alice's DM.
    assert chat_ids(db)[alice.user] == alice.dm
    await slack.bot.sender.send(alice.key, chat_ids(db)[alice.user], Outgoing("Nudge"))
    assert slack.fake.posts(alice.dm)[-1]["text"] == "Nudge"
    assert len(slack.fake.posts(bob.dm)) == before[bob.dm]


async def test_a_press_in_a_channel_still_answers_in_the_dm(
    slack: Slack,  # noqa: F811
    engine: Engine,
    db: Database,
) -> None:
    carol = Person(slack, T1, "U0CAROL001")
    await carol.say("hello")
    message, button = carol.button("IET")
    forged = button_press(T1, carol.user, "C0GENERAL1", copy.deepcopy(message), button)
    assert (await slack.interaction(forged))[0] == 200
    assert slack.fake.posts("C0GENERAL1") == []
    assert chat_ids(db)[carol.user] == carol.dm

"""Messages the bot starts on Teams: through the conversation reference a member's personal
message left, with the real adapter and scheduler against tests/fake_teams.py on
127.0.0.1. The connector's answers to a proactive post follow Microsoft Learn, "Send
proactive messages" and "Optimize your bot: rate limiting" (429 with Retry-After; 403
when the user removed the app or blocked the bot, 404 when the conversation is gone).

Time never passes for real: the scheduler ticks at frozen instants, and the 429 wait is
a function the test passes in (it records the delay and returns once another person's
message has gone out).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from adapters.teams import TeamsSettings
from adapters.teams.proactive import TeamsSender, open_sender
from bot.core.model import ConversationRef, IdentityKey, Outgoing, Unreachable
from bot.core.schemes import Scheme
from bot.services import references
from bot.services.outbound.jobs import Jobs
from bot.services.outbound.sending import TickReport
from cpdbot.config import Settings
from cpdbot.delivery import open_senders, teams_lookup
from storage.db import Database
from storage.models import Identity, Outbox
from tests.adapters import test_teams as base
from tests.adapters.test_teams import BOT_ID, Person, Teams, buttons, shown
from tests.conftest import Clock
from tests.fake_teams import APP_ID, APP_PASSWORD, TENANT_ID, FakeTeams, Sent

# The adapter end to end, as in test_teams.py: the fake Microsoft side and the real bot.
fake = base.fake
teams = base.teams

DEC_NUDGE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 9:00 in London on the 1st
JAN_NUDGE = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
FEB_NUDGE = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)

Sleep = Callable[[float], Awaitable[None]]


async def no_wait(seconds: float) -> None:
    raise AssertionError(f"the sender waited {seconds} s")


def settings_for(fake: FakeTeams) -> TeamsSettings:
    return TeamsSettings(
        app_id=APP_ID,
        app_password=APP_PASSWORD,
        tenant_id=TENANT_ID,
        openid_metadata_url=fake.openid_url,
        token_url=fake.token_url(),
    )


class Scheduler:
    """The jobs with the real Teams sender, ticked at frozen instants."""

    def __init__(self, jobs: Jobs, clock: Clock) -> None:
        self.jobs, self.clock = jobs, clock

    async def tick(self, at: datetime) -> TickReport:
        self.clock.now = at
        return await self.jobs.tick(at)


@pytest.fixture
def scheduler(
    db: Database, schemes: dict[str, Scheme], clock: Clock, fake: FakeTeams
) -> Callable[[Sleep], Any]:
    """`async with scheduler(sleep) as jobs`: the jobs with the real Teams sender (built
    as `cpdbot run` builds it), which waits out a 429 with `sleep`."""

    @asynccontextmanager
    async def run(sleep: Sleep) -> AsyncIterator[Scheduler]:
        lookup = teams_lookup(db)
        async with open_sender(settings_for(fake), lookup, clock=clock, sleep=sleep) as sender:
            jobs = Jobs(db, schemes, clock, senders={"teams": sender})
            try:
                yield Scheduler(jobs, clock)
            finally:
                jobs.close()

    return run


def nudges_to(fake: FakeTeams, person: Person) -> list[str]:
    return [
        shown(s)
        for s in fake.sent
        if s.conversation_id == person.conversation and "monthly CPD check-in" in shown(s)
    ]


def unreachable(db: Database, key: IdentityKey) -> bool:
    with db.transaction() as session:
        identity = session.exec(
            select(Identity).where(
                Identity.platform == key.platform,
                Identity.workspace == key.workspace,
                Identity.user_id == key.user_id,
            )
        ).one()
        return identity.unreachable


def outbox_states(db: Database) -> list[tuple[str, str]]:
    with db.transaction() as session:
        return [(r.kind, r.state) for r in session.exec(select(Outbox)).all()]


async def say_at(person: Person, text: str, at: datetime, clock: Clock) -> list[str]:
    """A personal message at `at` (the bot's clock is then, the token signed then)."""
    clock.now = at
    before = len(person.teams.posts(person.conversation))
    token = person.teams.fake.sign(now=at)
    assert await person.teams.post(person.activity(text), token=token) == 200
    return [shown(s) for s in person.teams.posts(person.conversation)[before:]]


# ---------------------------------------------------------------- the reference, then a nudge


async def test_a_nudge_goes_proactively_through_the_reference_a_message_left(
    teams: Teams, db: Database, scheduler: Callable[[Sleep], Any]
) -> None:
    alice = Person(teams, "Alice")
    await alice.onboard()
    ref = references.reference_for(db, alice.key)
    assert ref == ConversationRef(
        service_url=teams.fake.service_url,
        conversation_id=alice.conversation,
        tenant_id=TENANT_ID,
        bot_id=BOT_ID,
        channel_id="msteams",
    )
    replies_before = len(teams.fake.sent)

    async with scheduler(no_wait) as jobs:
        report = await jobs.tick(DEC_NUDGE)
    assert [(s.kind, s.recipient) for s in report.sent] == [("nudge", alice.key)]
    (nudge,) = teams.fake.sent[replies_before:]
    assert (nudge.method, nudge.conversation_id) == ("POST", alice.conversation)
    assert shown(nudge).startswith("Your monthly CPD check-in")
    assert [b["title"] for b in buttons(nudge)] == ["Log now"]
    # The bot's own token from the (fake) Entra endpoint, as for replies.
    assert nudge.authorization is not None
    assert nudge.authorization.startswith("Bearer fake-access-token-")
    assert nudge.authorization.removeprefix("Bearer ") in teams.fake.tokens_issued


async def test_a_group_chat_leaves_no_reference(teams: Teams, db: Database) -> None:
    bob = Person(teams, "Bob")
    await bob.onboard()
    held = references.reference_for(db, bob.key)
    assert held is not None and held.conversation_id == bob.conversation
    group = bob.activity(
        "log 1h reading",
        conversation={"conversationType": "groupChat", "tenantId": TENANT_ID, "id": "19:g@thread"},
    )
    assert await teams.post(group) == 200
    assert references.reference_for(db, bob.key) == held


# ---------------------------------------------------------------- 429: only that send waits


async def test_a_429_delays_only_that_send_and_others_still_go(
    teams: Teams, db: Database, scheduler: Callable[[Sleep], Any]
) -> None:
    alice, bob = Person(teams, "Alice"), Person(teams, "Bob")
    await alice.onboard()
    await bob.onboard()
    teams.fake.fail_send(alice.conversation, 429, retry_after="7")
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        # Alice's send waits here; Bob's nudge must get through meanwhile.
        waits.append(seconds)
        await asyncio.wait_for(teams.fake.wait_for_post(bobs_nudge), 10)

    def bobs_nudge(sent: Sent) -> bool:
        return sent.conversation_id == bob.conversation and "check-in" in shown(sent)

    async with scheduler(sleep) as jobs:
        report = await jobs.tick(DEC_NUDGE)
    assert waits == [7.0]
    assert sorted(s.recipient.user_id for s in report.sent) == sorted([alice.aad, bob.aad])
    assert len(nudges_to(teams.fake, alice)) == 1 and len(nudges_to(teams.fake, bob)) == 1
    refused = [s for s in teams.fake.refused if s.conversation_id == alice.conversation]
    assert len(refused) == 1
    order = [s.conversation_id for s in teams.fake.sent if "check-in" in shown(s)]
    assert order == [bob.conversation, alice.conversation]


async def test_a_429_asking_too_long_a_wait_goes_back_to_the_send_loop(
    teams: Teams, db: Database, scheduler: Callable[[Sleep], Any]
) -> None:
    alice = Person(teams, "Alice")
    await alice.onboard()
    teams.fake.fail_send(alice.conversation, 429, retry_after="3600")
    async with scheduler(no_wait) as jobs:
        report = await jobs.tick(DEC_NUDGE)
    assert (report.sent, report.retried) == ([], 1)
    assert ("nudge", "pending") in outbox_states(db)
    assert not unreachable(db, alice.key)


async def test_a_server_error_is_tried_again_later(
    teams: Teams, db: Database, scheduler: Callable[[Sleep], Any]
) -> None:
    alice = Person(teams, "Alice")
    await alice.onboard()
    teams.fake.fail_send(alice.conversation, 503)
    async with scheduler(no_wait) as jobs:
        report = await jobs.tick(DEC_NUDGE)
        assert report.retried == 1 and not unreachable(db, alice.key)
        report = await jobs.tick(DEC_NUDGE.replace(minute=5))
    assert [s.kind for s in report.sent] == ["nudge"]
    assert len(nudges_to(teams.fake, alice)) == 1


# ---------------------------------------------------------------- 403 / 404: unreachable


@pytest.mark.parametrize("status", [403, 404])
async def test_a_removed_app_marks_them_unreachable_until_they_write_again(
    teams: Teams, db: Database, scheduler: Callable[[Sleep], Any], status: int
) -> None:
    alice = Person(teams, "Alice")
    await alice.onboard()
    teams.fake.fail_send(alice.conversation, status)
    async with scheduler(no_wait) as jobs:
        report = await jobs.tick(DEC_NUDGE)
        assert (report.sent, report.failed) == ([], 1)
        assert unreachable(db, alice.key)
        calls = len(teams.fake.sent) + len(teams.fake.refused)

        report = await jobs.tick(JAN_NUDGE)  # nothing more is tried
        assert report.sent == []
        assert len(teams.fake.sent) + len(teams.fake.refused) == calls

        replies = await say_at(alice, "status", JAN_NUDGE.replace(hour=12), jobs.clock)
        assert replies and replies[0].startswith("CPD year")
        assert not unreachable(db, alice.key)

        report = await jobs.tick(FEB_NUDGE)
    assert [(s.kind, s.recipient) for s in report.sent] == [("nudge", alice.key)]
    assert len(nudges_to(teams.fake, alice)) == 1


# ---------------------------------------------------------------- the Sender alone


class Recording:
    """A stand-in connector that records posts."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, str, dict[str, Any]]] = []

    async def post(self, service_url: str, conversation_id: str, activity: dict[str, Any]) -> str:
        self.posts.append((service_url, conversation_id, activity))
        return "1"


async def test_no_reference_held_is_unreachable_and_nothing_is_posted() -> None:
    connector = Recording()

    async def lookup(identity: IdentityKey) -> ConversationRef | None:
        return None

    sender = TeamsSender(connector, lookup, sleep=no_wait)  # type: ignore[arg-type]
    with pytest.raises(Unreachable):
        await sender.send(IdentityKey("teams", "aad", TENANT_ID), None, Outgoing("Hello"))
    assert connector.posts == []
    with pytest.raises(ValueError):
        await sender.send(IdentityKey("slack", "U1", "T1"), None, Outgoing("Hello"))


# ---------------------------------------------------------------- wiring in the app


async def test_cpdbot_run_and_tick_send_to_teams_when_it_is_configured(
    db: Database, fake: FakeTeams
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        teams_app_id=APP_ID,
        teams_app_password=APP_PASSWORD,
        teams_tenant_id=TENANT_ID,
        teams_token_url=fake.token_url(),
    )
    async with open_senders(settings, console_out=None, db=db) as senders:
        assert isinstance(senders["teams"], TeamsSender)
    async with open_senders(Settings(_env_file=None), console_out=None, db=db) as senders:  # type: ignore[call-arg]
        assert "teams" not in senders

"""Teams: after a personal message, one batched inbox write (bot/services/intake.py) marks
the row done, confirms the replies delivered (the engine stops keeping them for a replay)
and holds the personal chat's conversation reference when it changed, read and compared
in that same transaction. The real TeamsBot, engine and database (both), against
tests/fake_teams.py on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlmodel import select

from adapters.teams import translate
from bot.core.model import ConversationRef, IdentityKey
from bot.services import references
from bot.services.engine import Engine
from bot.services.intake import Inbox
from storage import conversations
from storage.db import Database
from storage.models import ConversationReference, Identity
from storage.outbox import mark_unreachable
from storage.rights import forget_person
from tests.adapters import test_teams as base
from tests.adapters.test_teams import BOT_ID, Person, Teams, inbox_rows
from tests.adapters.test_teams_replay import serving
from tests.conftest import Clock
from tests.fake_teams import TENANT_ID, FakeTeams

# The adapter end to end, as in test_teams.py: the fake Microsoft side and the real bot.
fake = base.fake
teams = base.teams

WAIT = 20  # seconds: a bound on waiting, never a sleep


@contextmanager
def transactions(db: Database) -> Iterator[list[int]]:
    """Counts the database transactions begun inside the block (one item each)."""
    begun: list[int] = []

    def count(_conn: Any) -> None:
        begun.append(1)

    event.listen(db.engine, "begin", count)
    try:
        yield begun
    finally:
        event.remove(db.engine, "begin", count)


def identity(db: Database, key: IdentityKey) -> Identity | None:
    with db.transaction() as session:
        return session.exec(
            select(Identity).where(
                Identity.platform == key.platform,
                Identity.workspace == key.workspace,
                Identity.user_id == key.user_id,
            )
        ).first()


def held_row(db: Database, key: IdentityKey) -> ConversationReference | None:
    found = identity(db, key)
    if found is None:
        return None
    with db.transaction() as session:
        return session.exec(
            select(ConversationReference).where(ConversationReference.identity_id == found.id)
        ).first()


def kept(db: Database, activity: dict[str, Any]) -> Any:
    """The replies the engine still keeps for a replay of this activity (None: none)."""
    event_key = translate.incoming(activity, translate.where(activity).identity).dedupe_key  # type: ignore[arg-type]
    assert event_key
    with db.transaction() as session:
        return conversations.kept_replies(session, "teams", event_key)


def ref_of(person: Person, service_url: str) -> ConversationRef:
    return ConversationRef(
        service_url=service_url,
        conversation_id=person.conversation,
        tenant_id=TENANT_ID,
        bot_id=BOT_ID,
        channel_id="msteams",
    )


async def test_a_message_costs_the_inbox_write_the_engine_step_and_one_batched_write(
    teams: Teams, db: Database
) -> None:
    alice = Person(teams, "Alice")
    await alice.onboard()
    with transactions(db) as begun:
        replies = await alice.say("status")
    assert replies and replies[0].startswith("CPD year")
    # The row written before the 200, the engine's step, then the row finished with its
    # replies confirmed delivered and the reference checked: no transaction of their own.
    assert len(begun) == 3


async def test_replies_are_confirmed_delivered_so_a_restart_sends_nothing_twice(
    engine: Engine, fake: FakeTeams, db: Database
) -> None:
    async with serving(engine, fake) as first:
        alice = Person(first, "Alice")
        await alice.onboard()
        status = alice.activity("status")
        replies = await alice.send(status)
        assert replies and replies[0].startswith("CPD year")
        assert kept(db, status) is None  # confirmed in the batch: nothing kept for a replay
        assert all(r.done_at is not None for r in inbox_rows(db))
    sent = len(fake.sent)

    async with serving(engine, fake) as restarted:
        alice.teams = restarted
        assert await restarted.bot.replay() == 0
        assert await restarted.post(status) == 200  # the connector sends it once more
    assert len(fake.sent) == sent  # nothing posted twice


async def test_the_reference_is_held_at_first_contact_and_follows_a_new_service_url(
    teams: Teams, db: Database, clock: Clock
) -> None:
    alice = Person(teams, "Alice")
    assert references.reference_for(db, alice.key) is None
    assert (await alice.say("hello"))[0].startswith("Hello!")
    assert references.reference_for(db, alice.key) == ref_of(alice, teams.fake.service_url)
    first = held_row(db, alice.key)
    assert first is not None

    clock.now = clock.now + timedelta(minutes=5)
    await alice.press("IET")  # the same reference: nothing written
    again = held_row(db, alice.key)
    assert again is not None and again.updated_at == first.updated_at

    # Teams moves the chat to another service URL (here: the same fake by another name).
    moved = teams.fake.service_url.replace("127.0.0.1", "localhost")
    token = teams.fake.sign(now=clock.now, serviceurl=moved)
    before = len(teams.posts(alice.conversation))
    activity = alice.activity("status", serviceUrl=moved)
    assert await teams.post(activity, token=token) == 200
    assert len(teams.posts(alice.conversation)) > before  # answered there
    assert references.reference_for(db, alice.key) == ref_of(alice, moved)
    latest = held_row(db, alice.key)
    assert latest is not None and latest.updated_at > first.updated_at


async def test_after_forget_a_new_message_holds_the_reference_again(
    teams: Teams, db: Database
) -> None:
    bob = Person(teams, "Bob")
    await bob.onboard()
    assert references.reference_for(db, bob.key) is not None
    await bob.say("/forget")
    replies = await bob.press("Erase everything")
    assert replies and identity(db, bob.key) is None
    assert references.reference_for(db, bob.key) is None  # erased, and not written back

    assert (await bob.say("hello"))[0].startswith("Hello!")
    assert references.reference_for(db, bob.key) == ref_of(bob, teams.fake.service_url)


async def test_someone_marked_unreachable_elsewhere_is_reachable_again_once_they_write(
    teams: Teams, db: Database
) -> None:
    carol = Person(teams, "Carol")
    await carol.onboard()
    found = identity(db, carol.key)
    assert found is not None and found.id is not None and not found.unreachable
    # The scheduler (maybe another process) was told the app is gone: 403 from Teams.
    with db.transaction() as session:
        mark_unreachable(session, found.id)
    assert (await carol.say("status"))[0].startswith("CPD year")
    now = identity(db, carol.key)
    assert now is not None and not now.unreachable
    assert references.reference_for(db, carol.key) == ref_of(carol, teams.fake.service_url)


async def test_the_welcome_confirms_its_replies_and_holds_the_reference(
    teams: Teams, db: Database
) -> None:
    dave = Person(teams, "Dave")
    install = dave.activity(type="conversationUpdate", membersAdded=[{"id": BOT_ID}])
    with transactions(db) as begun:
        assert await teams.post(install) == 200
    assert teams.posts(dave.conversation)  # greeted
    assert references.reference_for(db, dave.key) == ref_of(dave, teams.fake.service_url)
    # The engine's step and one batched write (replies confirmed, reference held).
    assert len(begun) == 2


async def test_a_forget_racing_the_batch_loses_only_the_reference(
    teams: Teams, db: Database, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """/forget (another transaction) erases the person while the batch is writing their
    reference: the batch still finishes its rows, and nothing of the person comes back.
    On PostgreSQL the two really overlap (the batch read the identity, its write waits on
    the erasure's lock, then finds the identity gone); SQLite has one writer at a time, so
    there the erasure simply goes first."""
    erin = Person(teams, "Erin")
    await erin.onboard()
    found = identity(db, erin.key)
    assert found is not None and found.person_id is not None
    moved = ref_of(erin, teams.fake.service_url.replace("127.0.0.1", "localhost"))
    inbox = Inbox(db, clock, "teams", asyncio.to_thread)
    assert await inbox.record([("race-1", "{}")]) == ["race-1"]

    erased = threading.Event()
    go_on = threading.Event()

    def forget() -> None:
        with db.transaction() as session:
            forget_person(session, found.person_id)  # type: ignore[arg-type]
            session.flush()
            erased.set()
            go_on.wait(WAIT)

    erasing = asyncio.create_task(asyncio.to_thread(forget))
    await asyncio.to_thread(erased.wait, WAIT)
    if db.is_sqlite:
        go_on.set()
        await erasing
    inbox.finish("race-1", None, (erin.key, moved))
    if not db.is_sqlite:
        await asyncio.to_thread(waiting_on_a_lock, db)
        go_on.set()
        await erasing
    await asyncio.wait_for(inbox.flush(), WAIT)

    (row,) = [r for r in inbox_rows(db) if r.key == "race-1"]
    assert row.done_at is not None  # the batch's own write kept
    assert identity(db, erin.key) is None
    assert references.reference_for(db, erin.key) is None
    if not db.is_sqlite:
        assert "a conversation reference was not stored" in caplog.text


def waiting_on_a_lock(db: Database) -> None:
    """Returns once another session of this database waits on a lock (bounded, no sleep)."""
    deadline = time.monotonic() + WAIT
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while time.monotonic() < deadline:
        with db.engine.connect() as conn:
            if conn.execute(query).scalar():
                return
    raise AssertionError("the batch never waited on the erasure")

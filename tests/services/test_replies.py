"""Replies lost in a crash (issue 12 item 7): kept with the update's dedupe key until the
adapter confirms delivery, so a replayed update re-sends them and the dialogue stays in step."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select

from adapters.telegram import TelegramAdapter, translate
from bot.core.model import IdentityKey, Incoming
from bot.core.schemes import Scheme
from bot.services import records
from bot.services.engine import Engine
from bot.services.outbound.planner import KEEP_PROCESSED
from storage import conversations
from storage.db import Database
from storage.models import Entry, ProcessedEvent, Reflection
from tests.adapters.test_telegram import fake, handled, running, until
from tests.conftest import Chat, Clock
from tests.fake_telegram import FakeTelegram

__all__ = ["fake"]  # the fake Bot API fixture, shared with tests/adapters/test_telegram.py


def test_a_replayed_update_resends_the_replies_lost_in_a_crash(
    engine: Engine, db: Database
) -> None:
    me = IdentityKey("telegram", "42")
    Chat(engine, me).onboard()
    event = Incoming.text_of(me, "/log 1h webinar on earthing yesterday #events", dedupe_key="9001")
    first = engine.process(event)  # committed; the process dies before sending the replies
    assert "Reflection 1/2" in first.replies[-1].text

    replay = engine.process(event)  # the inbox replays the update after the restart

    assert replay.duplicate and replay.replies == first.replies
    assert engine.process(event).replies == first.replies  # until delivery is confirmed
    engine.delivered(event)
    assert engine.process(event).replies == ()  # delivered: a repeat says nothing more
    # The person answers the question they were sent: it is the reflection, not a new title.
    chat = Chat(engine, me)
    assert "Reflection 2/2" in chat.say("Earthing arrangements TN-C-S")[-1].text
    chat.say("later")
    with db.transaction() as s:
        assert [e.title for e in s.exec(select(Entry)).all()] == ["Webinar on earthing"]
        answers = [r.answer for r in s.exec(select(Reflection)).all() if r.answer]
        assert answers == ["Earthing arrangements TN-C-S"]


def test_confirmed_replies_are_not_kept(engine: Engine, db: Database) -> None:
    me = IdentityKey("telegram", "43")
    event = Incoming.text_of(me, "/start", dedupe_key="9100")
    assert engine.process(event).replies
    with db.transaction() as s:
        assert s.exec(select(ProcessedEvent.replies)).one() is not None
    engine.delivered(event)
    engine.delivered(event)  # confirming twice is harmless
    with db.transaction() as s:
        # The dedupe key stays (a repeat is still handled once); the reply text does not.
        assert s.exec(select(ProcessedEvent.key, ProcessedEvent.replies)).all() == [("9100", None)]


def test_replies_never_confirmed_go_with_their_key_after_the_retention(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(datetime(2026, 10, 1, 9, tzinfo=UTC))
    engine = Engine(db, schemes, clock)
    me = IdentityKey("telegram", "46")
    engine.process(Incoming.text_of(me, "/start", dedupe_key="9400"))  # never confirmed
    clock.now += KEEP_PROCESSED + timedelta(days=1)
    with db.transaction() as s:
        assert conversations.prune_processed(s, before=clock.now - KEEP_PROCESSED, limit=100) == 1
        assert s.exec(select(ProcessedEvent)).all() == []


def test_a_replayed_export_makes_its_file_again(engine: Engine) -> None:
    me = IdentityKey("telegram", "44")
    chat = Chat(engine, me)
    chat.onboard()
    chat.say("/log 1h webinar on earthing yesterday #events")
    chat.say("later")
    event = Incoming.text_of(me, "/export md", dedupe_key="9200")
    first = engine.process(event)
    made = [r.attachment for r in first.replies if r.attachment is not None]
    assert made and b"Webinar on earthing" in made[0].content

    replay = engine.process(event)

    again = [r.attachment for r in replay.replies if r.attachment is not None]
    assert [a.filename for a in again] == [a.filename for a in made]
    assert b"Webinar on earthing" in again[0].content


def test_a_group_chat_reply_is_kept_too(engine: Engine) -> None:
    me = IdentityKey("telegram", "45")
    event = Incoming.text_of(me, "/status", private=False, dedupe_key="9300")
    first = engine.process(event)
    assert first.replies
    assert engine.process(event).replies == first.replies


# ---------------------------------------------------------------- through the Telegram adapter


async def test_telegram_resends_a_reply_lost_between_the_commit_and_the_send(
    fake: FakeTelegram, engine: Engine, db: Database
) -> None:
    alice = fake.user()
    update = alice.message("/start")

    class DiesAfterCommit(TelegramAdapter):
        async def _process(self, item: Any) -> None:
            """The engine commits the update, then the process dies before replying."""
            _, received, _ = item
            event = translate.to_route(received, self.me).event
            assert event is not None
            self.engine.process(event)

    async with running(engine, fake, "polling", adapter_class=DiesAfterCommit):
        await fake.deliver(update)
        await until(lambda: kept(db, str(update["update_id"])) is not None)
    assert fake.sent(alice.id) == []  # committed (onboarding started), never answered

    async with running(engine, fake, "polling"):  # the restart replays the inbox
        await handled(db, update)
        assert fake.texts(alice.id) == [
            "Hello! I help you log CPD in under a minute.",
            "Which professional body's CPD scheme do you follow?",
        ]
        # Their next press answers the question they now see, in the state it was asked.
        await alice.tap("IET", until="time zone")
    assert kept(db, str(update["update_id"])) is None  # delivered: no longer kept


def kept(db: Database, key: str) -> object:
    with db.transaction() as s:
        row = s.exec(select(ProcessedEvent).where(ProcessedEvent.key == key)).first()
        return None if row is None else row.replies


def test_kept_replies_are_in_export_all_and_gone_after_forget(
    engine: Engine, db: Database, schemes: dict[str, Scheme]
) -> None:
    """Replies kept for redelivery hold what the person wrote: /export all lists them and
    /forget erases their text, while the dedupe keys stay (a redelivery is still handled once)."""
    me = IdentityKey("telegram", "47")
    other = IdentityKey("telegram", "48")
    for who in (me, other):
        Chat(engine, who).onboard()
        engine.process(
            Incoming.text_of(
                who, "/log 1h Zanzibar switchgear course", dedupe_key=f"k{who.user_id}"
            )
        )
    data = records.export_all(db, me, schemes, now=engine.clock())
    assert data is not None
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        tables = json.loads(archive.read("data.json"))["tables"]
    assert "Zanzibar" in json.dumps(tables["processedevent"])

    chat = Chat(engine, me)
    chat.say("/cancel")
    chat.say("/forget")
    chat.say("FORGET")

    with db.transaction() as s:
        rows = s.exec(
            select(ProcessedEvent.key, ProcessedEvent.recipient_id, ProcessedEvent.replies)
        ).all()
    kept = {key: (person, replies) for key, person, replies in rows}
    assert kept["k47"] == (None, None)  # the key stays, its text and owner do not
    assert "Zanzibar" in json.dumps(kept["k48"][1])  # the other person's reply is untouched
    assert kept["k48"][0] is not None
    again = engine.process(
        Incoming.text_of(me, "/log 1h Zanzibar switchgear course", dedupe_key="k47")
    )
    assert again.duplicate and again.replies == ()

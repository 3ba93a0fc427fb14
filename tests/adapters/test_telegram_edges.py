"""Issue 12 items 8 and 10 on Telegram, through the real adapter and the fake Bot API: a
webhook body that is not UTF-8 or is nested too deeply is refused with 400, and the chat a
reply goes to is the sender's own private chat, whatever chat the payload names."""

from __future__ import annotations

import copy
from typing import Any

import aiohttp
import pytest
from sqlmodel import select

from bot.services.engine import Engine
from storage.db import Database
from storage.models import Identity, InboxUpdate
from tests.adapters.test_telegram import SECRET, fake, handled, onboard, running  # noqa: F401
from tests.fake_telegram import FakeTelegram, _chat

# ---------------------------------------------------------------- item 8: the webhook body


def nested(depth: int) -> bytes:
    return b'{"update_id": 5, "message": ' + b"[" * depth + b"]" * depth + b"}"


BAD_BODIES = {
    "latin-1": '{"update_id": 1, "message": {"text": "café"}}'.encode("latin-1"),
    "invalid bytes": b'{"update_id": 2, "message": {"text": "\xff\xfe\x80"}}',
    "lone brackets": b"[" * 200_000,
    "deep lists": nested(100_000),
    "deep objects": b'{"update_id": 3, "x": ' + b'{"a": ' * 5_000 + b"1" + b"}" * 5_001,
    "deep enough to be odd": nested(200),
}


@pytest.mark.parametrize("name", list(BAD_BODIES))
async def test_a_webhook_body_not_utf8_or_too_deep_gets_400(
    fake: FakeTelegram,  # noqa: F811
    engine: Engine,
    db: Database,
    name: str,
) -> None:
    alice = fake.user()
    async with running(engine, fake, "webhook"):
        assert fake.webhook is not None
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
        url, body = fake.webhook["url"], BAD_BODIES[name]
        async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
            assert r.status == 400, name
        start = await alice.say("/start", until="Which professional body")  # still serving
    with db.transaction() as session:
        keys = [row.key for row in session.exec(select(InboxUpdate)).all()]
    assert keys == [str(start["update_id"])]  # nothing of the refused bodies was kept


# ---------------------------------------------------------------- item 10: where replies go


def chat_ids(db: Database) -> dict[str, str | None]:
    with db.transaction() as session:
        return {i.user_id: i.chat_id for i in session.exec(select(Identity)).all()}


def to_chat(server: FakeTelegram, chat_id: int) -> list[Any]:
    return [c for c in server.calls if c.chat_id == chat_id]


async def test_a_press_on_a_message_in_someone_elses_chat_does_not_repoint_the_sender(
    fake: FakeTelegram,  # noqa: F811
    engine: Engine,
    db: Database,
) -> None:
    alice, bob = fake.user(7000001, "Alice"), fake.user(7000002, "Bob")
    async with running(engine, fake, "webhook"):
        await onboard(alice)
        await onboard(bob)
        # No category word in the title: the category is asked, with buttons.
        await alice.say("/log 1h arc-flash briefing yesterday", until="Which category?")
        forged = copy.deepcopy(alice.keyboard_message())
        forged["chat"] = _chat(bob.id)  # Bob's private chat, as if the keyboard were there
        bob_calls = len(to_chat(fake, bob.id))
        update = alice.press("Events and seminars", message=forged)
        assert await fake.deliver(update) == 200
        await handled(db, update)
        # A text message naming Bob's chat as its chat: the same.
        text = alice.message("hello", chat=_chat(bob.id))
        assert await fake.deliver(text) == 200
        await handled(db, text)
    assert to_chat(fake, bob.id)[bob_calls:] == []  # nothing sent to or edited in Bob's chat
    assert chat_ids(db) == {str(alice.id): str(alice.id), str(bob.id): str(bob.id)}
    assert any("Reflection 1/2" in t for t in fake.texts(alice.id))  # answered to Alice


async def test_a_group_press_still_answers_in_the_group_and_stores_no_chat(
    fake: FakeTelegram,  # noqa: F811
    engine: Engine,
    db: Database,
) -> None:
    alice = fake.user(7000003, "Alice")
    async with running(engine, fake, "webhook"):
        await onboard(alice)
        await alice.say("/log 1h site visit yesterday", until="Which category?")  # no category word
        in_group = copy.deepcopy(alice.keyboard_message())
        in_group["chat"] = _chat(-100123456)
        update = alice.press("Events and seminars", message=in_group)
        assert await fake.deliver(update) == 200
        await handled(db, update)
    assert chat_ids(db) == {str(alice.id): str(alice.id)}

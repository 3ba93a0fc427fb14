"""A secret asked for on Telegram, Slack and Teams (issue 15): how each adapter renders
`Outgoing.secret` and reads the answer back, and Telegram's deletion of a message that held
a secret (python-telegram-bot's own HTTP code against tests/fake_telegram.py)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from adapters.slack import blocks
from adapters.slack import translate as slack_translate
from adapters.teams import cards
from adapters.teams import translate as teams_translate
from adapters.telegram import TelegramAdapter, build_bot, render
from adapters.telegram.translate import NOT_DELETED, TextPart
from bot.core.model import IdentityKey, Kind, Outgoing, SecretAsk
from bot.services.engine import Engine
from tests.adapters.test_telegram import settings_for
from tests.fake_telegram import FakeTelegram

PASSWORD = "hunter2-Very-Secret"
ASK = Outgoing(
    "Now the password for alice at dav.example.org.",
    secret=SecretAsk(field="password", label="Password for alice at dav.example.org"),
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram().start()
    yield server
    await server.close()


def test_telegram_asks_for_the_secret_as_a_message_it_will_delete() -> None:
    (part,) = render(ASK)
    assert isinstance(part, TextPart)
    assert "Password for alice at dav.example.org" in part.text
    assert "I'll delete your message as soon as I have read it" in part.text


async def test_telegram_deletes_the_message_or_asks_the_member_to(
    fake: FakeTelegram, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="cpdbot")
    async with TelegramAdapter(engine, build_bot(settings_for(fake))) as adapter:
        assert await adapter.scrub(7527593, 41) == []
        assert fake.deleted == [(7527593, 41)]
        fake.fail("deleteMessage", status=400, description="Bad Request: message can't be deleted")
        assert await adapter.scrub(7527593, 42) == [Outgoing(NOT_DELETED)]
    assert fake.deleted == [(7527593, 41)]
    assert "could not delete message 42" in caplog.text
    assert PASSWORD not in caplog.text


def test_slack_shows_a_button_that_opens_a_modal_read_back_as_a_form() -> None:
    _, rendered = blocks.message(ASK)
    (button,) = rendered[-1]["elements"]
    assert blocks.SECRET_ACTION_RE.match(button["action_id"])
    assert button["action_id"] == "secret:password"
    assert button["text"]["text"] == "Enter password"
    modal = blocks.secret_modal("password", button["value"], "Enter password")
    (block,) = modal["blocks"]
    assert (block["block_id"], block["element"]["type"]) == ("password", "plain_text_input")
    assert block["label"]["text"] == "Password for alice at dav.example.org"
    view = {
        "state": {
            "values": {"password": {"value": {"type": "plain_text_input", "value": PASSWORD}}}
        }
    }
    key = IdentityKey("slack", "U1", "T1")
    event = slack_translate.form(view, key, slack_translate.Profile(), "trig.1")
    assert (event.kind, dict(event.form)) == (Kind.FORM, {"password": PASSWORD})


def test_teams_card_has_a_password_input_and_its_submit_is_a_form() -> None:
    activity = cards.message(ASK)
    content = activity["attachments"][0]["content"]
    (field,) = [b for b in content["body"] if b["type"] == "Input.Text"]
    assert (field["id"], field["style"]) == ("password", "password")
    (submit,) = content["body"][-1]["actions"]
    submitted = {
        "type": "message",
        "id": "act-2",
        "replyToId": "card-1",
        "conversation": {"id": "a:1-personal", "conversationType": "personal"},
        "value": {**submit["data"], "password": PASSWORD, "other": "not taken"},
    }
    key = IdentityKey("teams", "aad", "tenant")
    event = teams_translate.incoming(submitted, key)
    assert (event.kind, dict(event.form)) == (Kind.FORM, {"password": PASSWORD})
    received = cards.secret_received("card-1", submit["data"]["label"])
    texts = [b.get("text") for b in received["attachments"][0]["content"]["body"]]
    assert "✓ Password received" in texts
    assert not any(
        b["type"].startswith("Input.") for b in received["attachments"][0]["content"]["body"]
    )

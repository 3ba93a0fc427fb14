"""The Telegram adapter end to end: python-telegram-bot's own HTTP code against a fake Bot API.

Each test runs the real adapter (long polling or webhook) against `FakeTelegram` on
127.0.0.1 and a real SQLite file; updates are shaped like tests/fixtures/telegram/.
Nothing sleeps to wait: tests wait on the fake server's calls or poll the inbox table.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select
from telegram import Update, User
from telegram.error import InvalidToken

from adapters.downloads import FETCH_FAILED
from adapters.telegram import (
    COMMANDS,
    FloodControl,
    TelegramAdapter,
    TelegramSender,
    TelegramSettings,
    WebhookConfig,
    build_bot,
    render,
    run_polling,
    run_webhook,
    send_reply,
    serve,
    to_route,
    webhook_config,
)
from adapters.telegram import adapter as adapter_module
from adapters.telegram.translate import (
    BUTTON_GONE,
    EDITED,
    NOT_TEXT,
    TEXT_LIMIT,
    FileRef,
    Keyboard,
    Route,
    TextPart,
    keyboard,
    split_text,
    utf16_len,
)
from bot.core.model import Attachment, Choice, IdentityKey, Incoming, Kind, Outgoing, Unreachable
from bot.dialogue import HELP
from bot.services.engine import Engine, Handled
from cpdbot.config import Settings
from cpdbot.platform_settings import telegram_settings
from storage import inbox
from storage.db import Database
from storage.models import Entry, Identity, InboxUpdate
from tests.fake_telegram import BOT_USER, FakeTelegram, TelegramUser, fixture

# python-telegram-bot itself reads the deprecated int form when it builds a RetryAfter.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after:telegram.warnings.PTBDeprecationWarning"
)

MODES = ["polling", "webhook"]
SECRET = "s3cret_Token-for-tests"
ME = User(BOT_USER["id"], BOT_USER["first_name"], True, username=BOT_USER["username"])


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram().start()
    yield server
    await server.close()


def settings_for(fake: FakeTelegram, **extra: Any) -> TelegramSettings:
    return telegram_settings(
        Settings(
            _env_file=None,  # type: ignore[call-arg]
            telegram_bot_token=fake.token,
            telegram_base_url=fake.base_url,
            **extra,
        )
    )


@contextlib.asynccontextmanager
async def running(
    engine: Engine,
    fake: FakeTelegram,
    mode: str,
    *,
    limiter: FloodControl | None = None,
    adapter_class: type[TelegramAdapter] = TelegramAdapter,
) -> AsyncIterator[TelegramAdapter]:
    """The adapter as `serve` runs it, in either mode (the webhook on a socket bound here)."""
    bot = build_bot(settings_for(fake), limiter=limiter)
    async with adapter_class(engine, bot, drain_timeout=5.0) as adapter:
        if mode == "polling":
            polls = len(fake.called("getUpdates"))
            task = asyncio.create_task(run_polling(adapter, poll_timeout=5))
            await fake.wait_for(lambda: len(fake.called("getUpdates")) > polls)
        else:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
            config = WebhookConfig(url=f"http://127.0.0.1:{port}/telegram/hook", secret=SECRET)
            registered = len(fake.called("setWebhook"))
            task = asyncio.create_task(run_webhook(adapter, config, sock=sock))
            await fake.wait_for(lambda: len(fake.called("setWebhook")) > registered)
        try:
            yield adapter
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def until(check: Callable[[], bool], within: float = 10.0) -> None:
    """Poll a condition that no event announces (a row in the database) with a deadline."""
    deadline = time.monotonic() + within
    while not await asyncio.to_thread(check):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def inbox_row(db: Database, update: dict[str, Any]) -> InboxUpdate | None:
    with db.transaction() as session:
        return session.exec(
            select(InboxUpdate).where(InboxUpdate.key == str(update["update_id"]))
        ).first()


async def handled(db: Database, update: dict[str, Any]) -> None:
    """Wait until the adapter has finished with an update (its inbox row is done)."""

    def done() -> bool:
        row = inbox_row(db, update)
        return row is not None and row.done_at is not None

    await until(done)


async def onboard(user: TelegramUser) -> None:
    await user.say("/start", until="Which professional body")
    await user.tap("IET", until="time zone")
    await user.tap("Europe/London", until="All set")


def entries(db: Database) -> list[Entry]:
    with db.transaction() as session:
        return list(session.exec(select(Entry)).all())


# ---------------------------------------------------------------- a whole entry


@pytest.mark.parametrize("mode", MODES)
async def test_a_user_logs_an_entry_with_buttons(
    fake: FakeTelegram, engine: Engine, db: Database, mode: str
) -> None:
    alice = fake.user()
    async with running(engine, fake, mode):
        await onboard(alice)
        # No category word in the title, so the category is asked and pressed.
        await alice.say(
            "/log@cpd_test_bot 1.5h arc-flash briefing yesterday", until="Which category?"
        )
        await alice.tap("Events and seminars", until="Reflection 1/2")
        echo = "Got it: 'Arc-flash briefing' · yesterday · 1 h 30 · Events and seminars."
        assert echo in fake.texts(alice.id)
        await alice.say("Arc-flash boundaries and PPE categories", until="Reflection 2/2")
        await alice.say("I will check panel labels before isolating", until="Saved #1")
        await alice.say("/export", until="Your CPD record")

    record = engine.record(IdentityKey("telegram", str(alice.id)))
    assert record is not None
    (entry,) = record.entries
    assert (entry.title, entry.activity_date, entry.minutes, entry.category) == (
        "Arc-flash briefing",
        date(2026, 11, 21),
        90,
        "events_and_seminars",
    )
    assert [r.answer for r in entry.reflections] == [
        "Arc-flash boundaries and PPE categories",
        "I will check panel labels before isolating",
    ]
    with db.transaction() as session:
        identity = session.exec(select(Identity)).one()
    assert identity.chat_id == str(alice.id)

    # Buttons carry ids, never labels; every press was answered; pressed keyboards are gone.
    asked = next(c for c in fake.called("sendMessage") if c.params["text"] == "Which category?")
    buttons = [b for row in asked.params["reply_markup"]["inline_keyboard"] for b in row]
    assert {"text": "Events and seminars", "callback_data": "cat:events_and_seminars"} in buttons
    # Each press answered once: in webhook mode inside the webhook's response (Telegram
    # performs it), in polling mode by a call.
    answers = fake.called("answerCallbackQuery")
    assert len(answers) == 3
    assert all(a.ok and a.via_webhook == (mode == "webhook") for a in answers)
    question = fake.messages[(alice.id, asked.result["message_id"])]
    assert "reply_markup" not in question
    assert question["text"] == "Which category?\n\n✓ Events and seminars"
    live = [m for (chat, _), m in fake.messages.items() if chat == alice.id and "reply_markup" in m]
    assert [m["text"] for m in live] == [
        "Saved #1: Arc-flash briefing · yesterday · 1 h 30 · Events and seminars."
    ]

    # The export arrives as a document; the command menu was set at start.
    (doc,) = fake.called("sendDocument")
    name, content = doc.files["document"]
    assert name.endswith(".csv") and b"Arc-flash briefing" in content
    assert [c["command"] for c in fake.commands] == [name for name, _ in COMMANDS]


async def test_serve_runs_long_polling_from_settings(
    fake: FakeTelegram, engine: Engine, db: Database
) -> None:
    task = asyncio.create_task(serve(engine, settings_for(fake)))
    try:
        await fake.wait_for(lambda: fake.called("getUpdates"))
        assert fake.called("deleteWebhook") and fake.commands
        await fake.user().say("/start", until="Which professional body")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_start_waits_out_network_trouble_but_not_a_bad_token(
    fake: FakeTelegram, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(adapter_module, "START_RETRY", 0.01)
    fake.fail("getMe", status=502, description="Bad Gateway", times=2)
    async with TelegramAdapter(engine, build_bot(settings_for(fake))) as adapter:
        assert adapter.me.username == "cpd_test_bot"
    assert [c.status for c in fake.called("getMe")] == [502, 502, 200]

    bot = build_bot(settings_for(fake))
    fake.token = "123456789:revoked"  # BotFather revoked the token the bot still uses
    with pytest.raises(InvalidToken) as refused:
        async with TelegramAdapter(engine, bot):
            pass
    assert "TELEGRAM_BOT_TOKEN" in str(refused.value) and bot.token not in str(refused.value)


def test_webhook_mode_needs_a_secret(fake: FakeTelegram) -> None:
    assert webhook_config(settings_for(fake)) is None  # no URL: long polling
    with pytest.raises(ValueError, match="TELEGRAM_WEBHOOK_SECRET"):
        webhook_config(settings_for(fake, telegram_webhook_url="https://x.example/tg"))
    with pytest.raises(ValueError, match="A-Z"):
        webhook_config(
            settings_for(
                fake,
                telegram_webhook_url="https://x.example/tg",
                telegram_webhook_secret="no spaces",
            )
        )
    config = webhook_config(
        settings_for(
            fake, telegram_webhook_url="https://x.example/tg/hook", telegram_webhook_secret="abc_1"
        )
    )
    assert config is not None and config.path == "/tg/hook" and config.listen == "127.0.0.1"


# ---------------------------------------------------------------- delivery guarantees


@pytest.mark.parametrize("mode", MODES)
async def test_a_repeated_update_is_handled_once(
    fake: FakeTelegram, engine: Engine, db: Database, mode: str
) -> None:
    alice = fake.user()
    start = alice.message("/start")
    hello = "Hello! I help you log CPD in under a minute."
    async with running(engine, fake, mode):
        assert await fake.deliver(start) == 200
        assert await fake.deliver(start) == 200  # a webhook retry / the same update twice
        # Updates of one chat are handled in order: once /help is answered, so is the rest.
        await alice.say("/help", until="Here is what I can do")
    assert fake.texts(alice.id).count(hello) == 1

    # After a restart Telegram sends it again (e.g. it was never confirmed): still once.
    async with running(engine, fake, mode):
        assert await fake.deliver(start) == 200
        await alice.say("/help", until="Here is what I can do")
    texts = fake.texts(alice.id)
    assert texts.count(hello) == 1 and sum(t.startswith("Here is what") for t in texts) == 2


async def test_a_fast_user_loses_nothing_and_keeps_order(
    fake: FakeTelegram, engine: Engine, db: Database
) -> None:
    alice, bob = fake.user(), fake.user(4242, "Bob")
    async with running(engine, fake, "polling"):
        await onboard(alice)
        await onboard(bob)
        # Both type faster than the bot answers: all of it arrives in one getUpdates batch.
        # Out of order, "later" would land before its /log and the /logs would collide.
        for n in range(1, 4):
            fake.pending += [
                alice.message(f"/log {n}h reading about topic {n} yesterday #self_study"),
                bob.message(f"/log {n}h course module {n} yesterday #training_courses"),
                alice.message("later"),
                bob.message("later"),
            ]
        await fake.deliver(bob.message("/help"))
        await fake.wait_for(
            lambda: (
                any("Saved #3" in t for t in fake.texts(alice.id))
                and any("Saved #3" in t for t in fake.texts(bob.id))
            )
        )
    saved = sorted((e.person_id, e.number, e.title) for e in entries(db))
    assert [(n, t) for _, n, t in saved] == [
        (n, f"Reading about topic {n}") for n in range(1, 4)
    ] + [(n, f"Course module {n}") for n in range(1, 4)]
    assert not any("middle of logging" in t for t in fake.texts(alice.id) + fake.texts(bob.id))


async def test_an_update_recorded_before_a_crash_is_handled_on_restart(
    fake: FakeTelegram, engine: Engine, db: Database
) -> None:
    alice = fake.user()
    update = alice.message("/start")

    class DiesAfterRecording(TelegramAdapter):
        def _dispatch(self, payload: Mapping[str, Any]) -> None:
            """The process dies here: the update is in the inbox, nothing else happened."""

    async with running(engine, fake, "polling", adapter_class=DiesAfterRecording):
        await fake.deliver(update)
        # Telegram has been told the update arrived: the next getUpdates moved the offset on.
        await fake.wait_for(
            lambda: any(
                (c.params.get("offset") or 0) > update["update_id"]
                for c in fake.called("getUpdates")
            )
        )
        row = inbox_row(db, update)
        assert row is not None and row.done_at is None
    assert fake.pending == [] and fake.sent(alice.id) == []  # confirmed, never answered

    async with running(engine, fake, "polling"):  # the restart replays the inbox
        await fake.wait_for(lambda: len(fake.sent(alice.id)) == 2)
        await handled(db, update)
    assert fake.texts(alice.id) == [
        "Hello! I help you log CPD in under a minute.",
        "Which professional body's CPD scheme do you follow?",
    ]


# ---------------------------------------------------------------- who may talk to it


async def test_forged_webhook_requests_get_403_and_change_nothing(
    fake: FakeTelegram, engine: Engine, db: Database
) -> None:
    alice = fake.user()
    async with running(engine, fake, "webhook") as adapter:
        assert fake.webhook is not None and fake.webhook["secret_token"] == SECRET
        for secret in (None, "", "wrong", SECRET + "x"):
            assert await fake.post_webhook(alice.message("/start"), secret=secret) == 403
        # The right secret, but not an update: refused too.
        assert await fake.post_webhook({"message": {}}, secret=SECRET) == 400
        assert adapter.queues.pending == 0
    with db.transaction() as session:
        assert session.exec(select(InboxUpdate)).all() == []
        assert session.exec(select(Identity)).all() == []
    assert fake.called("sendMessage") == []


async def test_a_group_gets_only_a_pointer_to_a_private_chat(
    fake: FakeTelegram, engine: Engine, db: Database
) -> None:
    command = fixture("command_group_bot_command.json")  # "/command" in a group
    group_chat = command["message"]["chat"]
    chatter = fixture("message_supergroup_text.json")  # "hi" in a supergroup: not for us
    alice = fake.user()
    log_in_group = alice.message("/log@cpd_test_bot 2h confidential case review", chat=group_chat)
    other_bot = alice.message("/status@some_other_bot", chat=group_chat)
    async with running(engine, fake, "webhook"):
        await fake.deliver(command)
        await fake.deliver(log_in_group)
        await fake.deliver(other_bot)
        await fake.deliver(chatter)
        for update in (command, log_in_group, other_bot, chatter):
            await handled(db, update)
    to_group = fake.sent(group_chat["id"])
    assert len(to_group) == 2  # the /command and the /log@cpd_test_bot
    for call in to_group:
        assert "private" in call.params["text"]
        (row,) = call.params["reply_markup"]["inline_keyboard"]
        assert row == [{"text": "Message me privately", "url": "https://t.me/cpd_test_bot"}]
    assert [c.params["reply_parameters"]["message_id"] for c in to_group] == [
        command["message"]["message_id"],
        log_in_group["message"]["message_id"],
    ]
    assert fake.sent(chatter["message"]["chat"]["id"]) == []
    assert entries(db) == []
    with db.transaction() as session:
        assert all(i.chat_id is None for i in session.exec(select(Identity)).all())


# ---------------------------------------------------------------- what people send


async def test_an_overlong_message_is_refused_and_nothing_changes(
    fake: FakeTelegram, engine: Engine, db: Database
) -> None:
    alice = fake.user()
    async with running(engine, fake, "webhook"):
        await onboard(alice)
        await alice.say("/log 1h welding inspection course yesterday", until="Reflection 1/2")
        await alice.say("x" * 4096, until="too long")  # Telegram's own maximum
        # Not taken as the first reflection: the next answer is still the first one.
        await alice.say("Weld symbols", until="Reflection 2/2")
    assert entries(db) == []  # still at the reflections, nothing saved or lost


async def test_a_stale_keyboard_is_answered_and_changes_nothing(
    fake: FakeTelegram, engine: Engine, db: Database
) -> None:
    alice = fake.user()
    async with running(engine, fake, "webhook"):
        await onboard(alice)
        await alice.say("/log 1h talk on welding yesterday", until="Which category?")
        old = alice.snapshot(int(alice.keyboard_message()["message_id"]))
        await alice.tap("Self-study", until="Reflection 1/2")
        # The same keyboard pressed again (a double tap that raced the edit): ignored.
        await alice.tap("Training courses", message=old, until="earlier message")
        await alice.tap("Later", until="Saved #1")
    (entry,) = entries(db)
    assert entry.category == "self_study"
    assert len(fake.called("answerCallbackQuery")) == 5
    assert fake.messages[(alice.id, old["message_id"])]["text"] == "Which category?\n\n✓ Self-study"


async def test_typed_answers_retire_the_buttons_they_replace(
    fake: FakeTelegram, engine: Engine, db: Database
) -> None:
    alice = fake.user()
    async with running(engine, fake, "webhook"):
        await onboard(alice)
        await alice.say("/log 1h talk on welding yesterday", until="Which category?")
        asked = alice.keyboard_message()
        await alice.say("Self-study", until="Reflection 1/2")  # typed, not pressed
    assert "reply_markup" not in fake.messages[(alice.id, asked["message_id"])]


async def test_edits_documents_and_foreign_buttons_get_a_clear_answer(
    fake: FakeTelegram, engine: Engine, db: Database
) -> None:
    edited = fixture("edited_message_private.json")
    document = fixture("message_document_private.json")
    foreign = fixture("callback_query_inline_message.json")  # an inline-mode button
    unreadable = json.loads(fixture_text("telegram_docs_examples_batch.json"))[6]  # old audio
    updates = (edited, document, foreign, unreadable)
    for update_id, update in enumerate(updates, 91):
        update["update_id"] = update_id
    async with running(engine, fake, "webhook"):
        for update in updates:
            await fake.deliver(update)
        for update in updates:
            await handled(db, update)  # even the one python-telegram-bot cannot read
    assert fake.texts(edited["edited_message"]["chat"]["id"]) == [EDITED]
    # A document is evidence, fetched first: Telegram does not know this fixture's file
    # (getFile fails), so its sender is told in their own chat and the engine never sees it.
    sender = document["message"]["from"]["id"]
    assert fake.texts(sender) == [FETCH_FAILED.format(platform="Telegram")]
    (answer,) = fake.called("answerCallbackQuery")
    assert answer.params["callback_query_id"] == foreign["callback_query"]["id"]
    assert answer.params["text"] == "That button is no longer active."
    assert answer.via_webhook
    with db.transaction() as session:
        assert session.exec(select(Identity)).all() == []  # none of it reached the dialogue


# ---------------------------------------------------------------- Telegram's limits


async def test_a_429_delays_only_that_chat_and_the_message_still_arrives(
    fake: FakeTelegram, engine: Engine, db: Database
) -> None:
    alice, bob = fake.user(), fake.user(4242, "Bob")
    async with running(engine, fake, "webhook"):
        fake.fail("sendMessage", chat_id=alice.id, status=429, retry_after=1)
        await alice.say("/start")
        await fake.wait_for(lambda: any(c.status == 429 for c in fake.calls))
        await bob.say("/start", until="Hello!")
        bob_done = time.monotonic()
        await fake.wait_for(lambda: fake.sent(alice.id))
    refused = next(c for c in fake.calls if c.status == 429)
    (first, *_) = fake.sent(alice.id)
    assert first.params["text"].startswith("Hello!")
    assert first.at - refused.at >= 1.0  # waited out retry_after
    assert bob_done < first.at  # Bob was not held up by Alice's flood limit


async def test_sender_paces_per_chat_and_reports_a_blocked_user(fake: FakeTelegram) -> None:
    bot = build_bot(settings_for(fake), limiter=FloodControl(chat_interval=0.3))
    async with bot:
        sender = TelegramSender(bot)
        alice, bob = IdentityKey("telegram", "7527593"), IdentityKey("telegram", "4242")
        await asyncio.gather(
            *(sender.send(alice, "7527593", Outgoing(f"nudge {n}")) for n in range(3)),
            sender.send(bob, None, Outgoing("nudge for bob")),
        )
        to_alice = [c.at for c in fake.sent(7527593)]
        assert len(to_alice) == 3
        assert all(b - a >= 0.25 for a, b in itertools.pairwise(to_alice))  # one per 0.3 s
        assert fake.sent(4242)[0].at < to_alice[1]  # another chat is not queued behind her

        fake.fail("sendMessage", chat_id=555, status=403, times=None)
        with pytest.raises(Unreachable):
            await sender.send(IdentityKey("telegram", "555"), "555", Outgoing("monthly nudge"))
        fake.fail("sendMessage", chat_id=556, status=400, description="Bad Request: chat not found")
        with pytest.raises(Unreachable):
            await sender.send(IdentityKey("telegram", "556"), None, Outgoing("monthly nudge"))
        with pytest.raises(ValueError):
            await sender.send(IdentityKey("slack", "U1", "T1"), None, Outgoing("x"))


async def test_a_user_who_blocked_the_bot_does_not_stop_the_others(
    fake: FakeTelegram, engine: Engine, db: Database
) -> None:
    alice, bob = fake.user(), fake.user(4242, "Bob")
    fake.fail("sendMessage", chat_id=alice.id, status=403, times=None)
    async with running(engine, fake, "webhook"):
        gone = await alice.say("/start")
        await bob.say("/start", until="Which professional body")
        await handled(db, gone)
    assert fake.sent(alice.id) == []


async def test_a_429_on_a_request_without_a_chat_is_waited_out(fake: FakeTelegram) -> None:
    bot = build_bot(settings_for(fake))
    async with bot:
        fake.fail("setMyCommands", status=429, retry_after=1)
        assert await bot.set_my_commands([("log", "Record a CPD activity")])
    refused, accepted = fake.called("setMyCommands")
    assert refused.status == 429 and accepted.ok and accepted.at - refused.at >= 1.0


async def test_an_export_being_made_does_not_hold_up_other_people(
    fake: FakeTelegram, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.services import records

    real_render = records.render
    rendering = threading.Event()

    def slow_render(report: records.Report, kind: str, **kw: Any) -> tuple[str, bytes, str]:
        rendering.set()
        time.sleep(1.5)  # a big record's PDF: CPU for a second or more
        return real_render(report, kind, **kw)

    monkeypatch.setattr(records, "render", slow_render)
    gaps: list[float] = []

    async def heartbeat() -> None:  # how long the bot's event loop is ever held up
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    alice, bob = fake.user(7527593, "Alice"), fake.user(7527594, "Bob")
    async with running(engine, fake, "webhook"):
        await onboard(alice)
        await onboard(bob)
        await alice.say("/log 1h webinar on earthing yesterday #events", until="Reflection")
        beat = asyncio.create_task(heartbeat())
        exporting = asyncio.create_task(alice.say("/export md", until="CPD record"))
        assert await asyncio.to_thread(rendering.wait, 5)
        await bob.say("/help", until="/log")
        assert not exporting.done()  # Bob was answered while Alice's file was being made
        await exporting
        beat.cancel()
    assert max(gaps) < 1.0  # the 1.5 s of making the file never held it
    assert fake.sent(alice.id)[-1].files["document"][0].endswith(".md")


async def test_an_engine_failure_is_reported_and_the_update_is_not_retried_forever(
    fake: FakeTelegram, engine: Engine, db: Database
) -> None:
    class Broken(Engine):
        def process(self, event: Incoming, *, make_files: bool = True) -> Handled:
            raise RuntimeError("database on fire")

    alice = fake.user()
    async with running(Broken(engine.db, engine.schemes, engine.clock), fake, "webhook"):
        update = await alice.say("/start", until="something went wrong")
        await handled(db, update)


# ---------------------------------------------------------------- translation and rendering


def _update(data: dict[str, Any]) -> Update:
    update = Update.de_json(data, None)
    assert update is not None
    return update


def test_updates_become_engine_events() -> None:
    start = to_route(_update(fixture("command_start_private.json")), ME)
    assert start.event is not None and start.event.kind == Kind.COMMAND
    assert (start.event.command, start.event.dedupe_key) == ("start", "102739888")
    assert start.event.chat_id == "1443186301" and start.event.display_name == "Ого, понимаю"

    mention = to_route(_update(fixture("message_mention_entity_private.json")), ME)
    assert mention.event is not None and mention.event.text == "@vercelchatsdkbot hi"
    ours = fixture("message_mention_entity_private.json")
    ours["message"]["text"] = "@cpd_test_bot /status"
    addressed = to_route(_update(ours), ME).event
    assert addressed is not None and addressed.command == "status"

    raw = fixture("message_text_private.json")
    text = to_route(_update(raw), ME)
    assert text.event == Incoming(
        IdentityKey("telegram", "7527593"),
        Kind.TEXT,
        text="how are you",
        chat_id="7527593",
        display_name="Test User",
        dedupe_key="1002",
        sent_at=datetime.fromtimestamp(raw["message"]["date"], UTC),  # dates read as of then
    )

    group = to_route(_update(fixture("command_group_bot_command.json")), ME)
    assert group.event is not None and group.event.private is False
    assert group.event.chat_id is None and group.reply_to == 1

    # The Bot API docs' examples: text, forwarded, reply, edited, entities, audio, voice,
    # document, inline query, chosen inline result, inline-mode button.
    batch = json.loads(fixture_text("telegram_docs_examples_batch.json"))
    routes: list[Route | None] = []
    for data in batch:
        try:
            routes.append(to_route(_update(data), ME))
        except TypeError:  # the docs' old media examples lack file_unique_id
            routes.append(None)
    assert [r.event.text if r and r.event else None for r in routes[:6]] == [
        "/start",
        "/start",
        "/start",
        "/start",
        None,
        "Bold and italics",
    ]
    assert routes[4] == Route(chat_id=1111111, notice=EDITED)
    assert routes[6:9] == [None, None, None]
    assert routes[9] == routes[10] == Route()  # inline mode: not used by this bot
    assert routes[11] == Route(query_id="4382bfdwdsb323b2d9", query_text=BUTTON_GONE)

    document = to_route(_update(fixture("message_document_private.json")), ME)
    assert document.event is not None and document.event.kind == Kind.FILE
    assert document.file == FileRef(
        "AgACAgUAAxkBAAIBUWJ5aXl6Y3h5bXl6Y3h5bXl6Y3gAAJxvMRtP7nG4Fq7m0m0vBAAMCAAN5AAMjBA",
        "document-2.pdf",
        123456,
        "application/pdf",
    )
    voice = fixture("message_document_private.json")
    del voice["message"]["document"]
    voice["message"]["voice"] = {"file_id": "AwAD", "file_unique_id": "AQAD", "duration": 2}
    assert to_route(_update(voice), ME) == Route(chat_id=1111111, notice=NOT_TEXT)

    # A button under a message too old for the bot to see (Telegram sends date 0).
    old = fixture("callback_query_inline_message.json")
    del old["callback_query"]["inline_message_id"]
    old["callback_query"]["data"] = "r:later"
    old["callback_query"]["message"] = {
        "chat": {"id": 1111111, "type": "private"},
        "message_id": 5,
        "date": 0,
    }
    pressed = to_route(_update(old), ME)
    assert pressed.event is not None and pressed.event.choice == "r:later"
    assert pressed.keyboard == Keyboard(1111111, 5, None, None)  # only the buttons go


def fixture_text(name: str) -> str:
    from tests.fake_telegram import FIXTURES

    return (FIXTURES / name).read_text(encoding="utf-8")


def test_long_replies_are_split_within_telegrams_limit() -> None:
    paragraph = "Reflection: " + "arc-flash boundaries and PPE categories 🦺 " * 20
    text = "\n\n".join([paragraph] * 40)
    parts = split_text(text)
    assert len(parts) > 1 and all(utf16_len(p) <= TEXT_LIMIT for p in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())
    assert split_text("y" * 9000) == ["y" * 4096, "y" * 4096, "y" * 808]

    reply = Outgoing(text, (Choice("r:skip", "Skip"), Choice("r:later", "Later")))
    rendered = render(reply)
    assert all(isinstance(p, TextPart) for p in rendered)
    assert [p.markup is not None for p in rendered if isinstance(p, TextPart)] == [False] * (
        len(rendered) - 1
    ) + [True]


def test_keyboards_carry_ids_and_pack_short_labels() -> None:
    def rows(*choices: Choice) -> list[list[tuple[str, object]]]:
        markup = keyboard(choices)
        assert markup is not None
        return [[(b["text"], b["callback_data"]) for b in row] for row in markup["inline_keyboard"]]

    assert rows(
        Choice("r:skip", "Skip"), Choice("r:later", "Later"), Choice("x" * 65, "Too long an id")
    ) == [[("Skip", "r:skip"), ("Later", "r:later")]]
    assert rows(*(Choice(f"s:{n}", n) for n in ("IES", "IET", "IPEM / HCPC", "STEP"))) == [
        [("IES", "s:IES"), ("IET", "s:IET"), ("IPEM / HCPC", "s:IPEM / HCPC")],
        [("STEP", "s:STEP")],
    ]
    assert rows(Choice("yes", "Yes"), Choice("cat:events", "Events and seminars")) == [
        [("Yes", "yes")],
        [("Events and seminars", "cat:events")],
    ]
    assert keyboard(()) is None


async def test_a_long_reply_with_buttons_and_a_file_is_sent_in_parts(
    fake: FakeTelegram, engine: Engine
) -> None:
    bot = build_bot(settings_for(fake))
    async with bot:
        reply = Outgoing(
            "line\n" * 2000,
            (Choice("cmd:log", "Log CPD"),),
            Attachment("cpd.csv", b"a,b\n", "text/csv"),
        )
        sent = await send_reply(bot, 7527593, reply)
    texts = [c for c in fake.sent(7527593) if c.method == "sendMessage"]
    assert len(texts) == 3 and len(sent) == 4
    assert ["reply_markup" in c.params for c in texts] == [False, False, True]
    assert fake.sent(7527593)[-1].files["document"] == ("cpd.csv", b"a,b\n")


def test_the_command_menu_matches_the_help() -> None:
    for name, about in COMMANDS:
        assert name == "help" or f"/{name}" in HELP, name
        assert 3 <= len(about) <= 256 and name.islower()


def test_inbox_records_each_update_once(db: Database, clock: Any) -> None:
    with db.transaction() as session:
        assert inbox.record(session, "telegram", [("1", "{}"), ("2", "{}")], now=clock()) == [
            "1",
            "2",
        ]
        assert inbox.record(session, "telegram", [("2", "{}"), ("3", "{}")], now=clock()) == ["3"]
        assert inbox.record(session, "telegram", [("4", "a"), ("4", "b")], now=clock()) == ["4"]
        inbox.finish(session, "telegram", ["1", "3"], now=clock())
        assert inbox.unfinished(session, "telegram") == [("2", "{}"), ("4", "a")]
        assert inbox.record(session, "slack", [("1", "{}")], now=clock()) == ["1"]  # per platform
        assert inbox.prune(session, "telegram", done_before=clock()) == 0  # handled just now
        clock.now += timedelta(days=3)
        assert inbox.prune(session, "telegram", done_before=clock()) == 2

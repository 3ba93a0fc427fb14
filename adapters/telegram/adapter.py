"""The Telegram adapter: inbox first, then one queue per chat, the engine, and the replies.

Every update, from long polling or the webhook, goes through `accept`: it is written to
the inbox table (raw JSON) before Telegram is told it arrived, then handled in its chat's
queue. Handling marks the inbox row done; rows left unfinished by a crash are replayed
by the next `start`, and the engine's dedupe key (the update id) makes a replay safe.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

import aiohttp
from telegram import BotCommand, ReplyParameters, Update, User
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.ext import ExtBot
from telegram.warnings import PTBUserWarning

from adapters.downloads import FETCH_FAILED, FetchFailed, fetch, log_failure, too_big
from adapters.runtime import PersonQueues
from adapters.telegram import translate
from adapters.telegram.translate import DocumentPart, FileRef, Keyboard, Route, TextPart
from bot.core.model import IncomingFile, Outgoing
from bot.services.db_work import LoopOrThreads
from bot.services.engine import Engine
from bot.services.intake import Inbox

log = logging.getLogger("cpdbot.telegram")

PLATFORM = translate.PLATFORM
DRAIN_TIMEOUT = 10.0  # seconds given to in-flight updates on shutdown
START_RETRY = 1.0  # seconds before retrying getMe at start; doubles up to MAX_START_RETRY
MAX_START_RETRY = 30.0
DB_THREADS = 8  # PostgreSQL: events of different chats run in parallel transactions
SORRY = (
    "Sorry, something went wrong on my side and I could not take that in. "
    "Nothing was changed: please send it again."
)
NO_PREVIEW = {"is_disabled": True}  # link_preview_options

# Messages go out through `Bot.do_api_request` with the Bot API's JSON (see `_call`), which
# python-telegram-bot answers with a reminder that typed methods exist for these: we know.
warnings.filterwarnings(
    "ignore",
    message=r"Please use 'Bot\.(sendMessage|editMessageText|editMessageReplyMarkup)'",
    category=PTBUserWarning,
)

Bot = ExtBot[Any]
Item = tuple[str, Update | None, bool]  # update id, the update (None: unreadable), answered


@dataclass(frozen=True)
class Sent:
    """A message the bot sent: its id, and whether it carries buttons still to be retired."""

    message_id: int
    buttons: bool


class TelegramAdapter:
    """Turns updates into engine events and replies; `async with` starts and stops it."""

    def __init__(self, engine: Engine, bot: Bot, *, drain_timeout: float = DRAIN_TIMEOUT) -> None:
        self.engine = engine
        self.bot = bot
        self.queues = PersonQueues(log, name="chat")
        self.keyboards = Keyboards()
        self.drain_timeout = drain_timeout
        self._me: User | None = None
        self._downloads: aiohttp.ClientSession | None = None  # files members send
        # Where database work runs. SQLite is in-process and takes one writer at a time: a
        # turn is a few ms of CPU, and handing it to a thread only adds GIL hand-offs (each
        # SQLite call gives the GIL away and waits to get it back), which halved throughput
        # in bench/telegram.py. So on SQLite it runs on the event loop, one turn at a time;
        # on PostgreSQL a thread pool overlaps the network round trips.
        self._db = LoopOrThreads(engine.db, DB_THREADS, "telegram-db")
        self.inbox = Inbox(engine.db, engine.clock, PLATFORM, self._db.run)

    @property
    def me(self) -> User:
        if self._me is None:
            raise RuntimeError("the adapter is not started")
        return self._me

    async def __aenter__(self) -> TelegramAdapter:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """getMe, the command menu, and the replay of updates a crash left unhandled.

        Network trouble at start (the bot started before the network) is waited out;
        an invalid token is not.
        """
        try:
            await initialize(self.bot)
        except BaseException:
            await self.bot.shutdown()
            self._db.close(wait=False)
            raise
        self._me = self.bot.bot
        commands = [BotCommand(name, about) for name, about in translate.COMMANDS]
        try:
            await self.bot.set_my_commands(commands)
        except TelegramError as exc:  # the menu is a convenience: run without it
            log.warning("setMyCommands failed: %s", exc)
        rows = await self.inbox.replay()
        if rows:
            log.info("replaying %d telegram update(s) left unhandled", len(rows))
        for _, payload in rows:
            self._dispatch(json.loads(payload))

    async def stop(self) -> None:
        """Let in-flight updates finish (briefly), then close; the rest are replayed later."""
        try:
            await asyncio.wait_for(self.queues.join(), self.drain_timeout)
        except TimeoutError:
            log.warning("stopping with %d telegram update(s) in flight", self.queues.pending)
        finally:
            await self.queues.close()
            await self.inbox.flush()
            if self._downloads is not None:
                await self._downloads.close()
            await self.bot.shutdown()
            self._db.close(wait=True)

    # ------------------------------------------------------------ intake

    async def accept(
        self,
        payloads: Sequence[Mapping[str, Any]],
        raw: Sequence[str] | None = None,
        *,
        answered: bool = False,
    ) -> None:
        """Record updates durably, then queue the new ones.

        Call it before confirming the updates to Telegram (before the next getUpdates, or
        before answering the webhook request). A repeated update id is recorded once.
        `raw`: the updates' JSON as received, stored as is (else `payloads` are serialised).
        `answered`: their callback queries are answered already (by the webhook response).
        """
        texts = raw if raw is not None else [json.dumps(p, ensure_ascii=False) for p in payloads]
        items = [(str(p["update_id"]), text) for p, text in zip(payloads, texts, strict=True)]
        senders = {str(p["update_id"]): who for p in payloads if (who := translate.sender(p))}
        fresh = set(await self.inbox.record(items, senders))
        for payload in payloads:
            key = str(payload["update_id"])
            if key in fresh:
                fresh.discard(key)  # a batch may hold the same update twice: queue it once
                self._dispatch(payload, answered=answered)

    def _dispatch(self, payload: Mapping[str, Any], *, answered: bool = False) -> None:
        key = str(payload["update_id"])
        try:
            update = Update.de_json(dict(payload), self.bot)
        except Exception:  # not an update this library can read: record it as handled
            log.exception("telegram update %s could not be read", key)
            self.queues.submit(0, functools.partial(self._process, (key, None, answered)))
            return
        work = functools.partial(self._process, (key, update, answered))
        self.queues.submit(translate.chat_key(update), work)

    # ------------------------------------------------------------ handling

    async def _process(self, item: Item) -> None:
        key, update, answered = item
        delivered = None
        try:
            if update is not None:
                delivered = await self._handle(update, answered=answered)
        except Forbidden as exc:
            log.info("telegram update %s: the user blocked the bot (%s)", key, exc)
        except TelegramError as exc:
            log.warning("telegram update %s: %s", key, exc)
        except Exception:
            log.exception("telegram update %s failed", key)
        # Only an orderly end (or a failure already reported) reaches here; a cancelled
        # task (shutdown, crash) leaves the row unfinished for the next start to replay.
        self.inbox.finish(key, delivered)

    async def _handle(self, update: Update, *, answered: bool = False) -> str | None:
        """Handle one update; the dedupe key of the event whose replies were sent, if any."""
        route = translate.to_route(update, self.me)
        if route.query_id is not None and not answered:
            await _quietly(self.bot.answer_callback_query(route.query_id, route.query_text))
        if route.keyboard is not None:
            await self._retire_pressed(route.keyboard)
        route = await self._with_file(route)
        event = route.event
        if event is not None:
            try:
                handled = await self._db.run(
                    functools.partial(self.engine.process, make_files=False), event
                )
                if handled.wants_files:
                    # An export: made in a thread, so that other chats are not held up
                    # for the 0.3-1 s of a PDF (on SQLite the engine runs on the loop).
                    handled = await asyncio.to_thread(self.engine.make_files, event, handled)
                replies = list(handled.replies)
            except Exception:
                log.exception("engine failed on telegram update %s", update.update_id)
                replies = [Outgoing(SORRY)]
        elif route.notice is not None:
            replies = [Outgoing(route.notice)]
        else:
            return None
        if route.said is not None and any(r.scrub_incoming for r in replies):
            replies += await self.scrub(*route.said)
        if route.chat_id is None or not replies:
            return None
        link = None if route.private or not self.me.username else f"https://t.me/{self.me.username}"
        shown: list[int] = []
        for reply in replies:
            sent = await send_reply(
                self.bot, route.chat_id, reply, reply_to=route.reply_to, link=link
            )
            shown += [m.message_id for m in sent if m.buttons]
        if shown:
            await self._retire_older(route.chat_id, shown)
        # Sent: the engine stops keeping them for a replay (issue 12, item 7), written with
        # the inbox's next batch rather than in a transaction of its own.
        return route.event.dedupe_key if route.event is not None else None

    async def _with_file(self, route: Route) -> Route:
        """The route with the file its event names fetched, or with a notice instead of
        the event when Telegram would not hand the file over."""
        if route.event is None or route.file is None:
            return route
        file = await self._fetch(route.file)
        if file is None:
            return replace(route, event=None, notice=FETCH_FAILED.format(platform="Telegram"))
        return replace(route, event=replace(route.event, file=file))

    async def _fetch(self, ref: FileRef) -> IncomingFile | None:
        """A file a person sent (None: Telegram would not hand it over).

        A file declared over EVIDENCE_MAX_MB is not asked for at all; getFile gives its
        path, whose download is bounded again while it streams."""
        limit = self.engine.evidence.max_bytes
        file = too_big(ref.name, ref.size, limit, ref.mime_hint)
        if file is None:
            try:
                found = await self.bot.get_file(ref.file_id)
                if not found.file_path:
                    raise FetchFailed("getFile gave no file path")
                file = await fetch(
                    self._files(),
                    found.file_path,  # the file URL, with the bot token: never logged
                    name=ref.name,
                    limit=limit,
                    declared=found.file_size or ref.size,
                    mime_hint=ref.mime_hint,
                )
            except (FetchFailed, TelegramError) as exc:
                log_failure(PLATFORM, exc)
                return None
        return file

    def _files(self) -> aiohttp.ClientSession:
        """The session files are fetched with (opened at the first one)."""
        if self._downloads is None or self._downloads.closed:
            self._downloads = aiohttp.ClientSession()
        return self._downloads

    async def scrub(self, chat_id: int, message_id: int) -> list[Outgoing]:
        """Delete the person's message that held a secret; if Telegram refuses (too old, no
        rights in a group), a reply asking them to delete it (logged without its text)."""
        try:
            await self.bot.delete_message(chat_id, message_id)
        except TelegramError as exc:
            log.warning(
                "telegram: could not delete message %s holding a secret (%s)",
                message_id,
                type(exc).__name__,
            )
            return [Outgoing(translate.NOT_DELETED)]
        return []

    async def _retire_pressed(self, board: Keyboard) -> None:
        """Take the buttons off the message that was pressed, showing what was chosen."""
        if not self.keyboards.retire(board.chat_id, board.message_id):
            return  # already retired: a second press that raced the first
        text = translate.pressed_text(board)
        if text is not None:
            await _quietly(
                _call(
                    self.bot,
                    "editMessageText",
                    {
                        "chat_id": board.chat_id,
                        "message_id": board.message_id,
                        "text": text,
                        "link_preview_options": NO_PREVIEW,
                    },
                )
            )
        else:
            await self._remove_buttons(board.chat_id, board.message_id)

    async def _retire_older(self, chat_id: int, shown: list[int]) -> None:
        """New buttons were shown: remove the buttons of earlier turns in this chat."""
        for message_id in self.keyboards.replace(chat_id, shown):
            await self._remove_buttons(chat_id, message_id)

    async def _remove_buttons(self, chat_id: int, message_id: int) -> None:
        # No reply_markup: the message's keyboard is removed.
        params = {"chat_id": chat_id, "message_id": message_id}
        await _quietly(_call(self.bot, "editMessageReplyMarkup", params))


async def initialize(bot: Bot) -> None:
    """Start a Bot API client (getMe): network trouble at start (the bot started before the
    network) is waited out; an invalid token is not, and its message leaves the token out."""
    delay = START_RETRY
    while True:
        try:
            await bot.initialize()
            return
        except InvalidToken:
            # PTB's message quotes the token: keep it out of logs and tracebacks.
            raise InvalidToken(
                "Telegram rejected TELEGRAM_BOT_TOKEN (mistyped, or revoked in BotFather?)"
            ) from None
        except NetworkError as exc:
            log.warning("telegram: cannot reach the Bot API (%s); retry in %.1f s", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_START_RETRY)


async def _call(bot: Bot, method: str, params: dict[str, Any], *, paced: bool = False) -> Any:
    """A Bot API call with JSON parameters; the result as JSON (python-telegram-bot's
    transport, errors and rate limiter, without building or parsing its objects)."""
    return await bot.do_api_request(method, params, rate_limit_args=paced or None)


async def _quietly(call: Awaitable[object]) -> None:
    """Answers and edits are best effort: an old query or message must not stop a reply."""
    try:
        await call
    except BadRequest as exc:
        log.debug("telegram: %s", exc)


class Keyboards:
    """Which of the bot's messages still have live buttons, per chat (in memory, bounded).

    The buttons of a turn stay until they are pressed or a later turn shows new buttons;
    so a person sees working buttons only on the latest question. After a restart older
    buttons may survive: pressing one reaches the dialogue, which says it is stale.
    """

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self._live: OrderedDict[int, list[int]] = OrderedDict()
        self._retired: OrderedDict[tuple[int, int], None] = OrderedDict()

    def retire(self, chat_id: int, message_id: int) -> bool:
        """Note that a message's buttons are removed; False if that was done already."""
        key = (chat_id, message_id)
        if key in self._retired:
            return False
        self._retired[key] = None
        if len(self._retired) > self.limit:
            self._retired.popitem(last=False)
        live = self._live.get(chat_id)
        if live and message_id in live:
            live.remove(message_id)
        return True

    def replace(self, chat_id: int, shown: list[int]) -> list[int]:
        """`shown` are the chat's live buttons now; returns earlier ones still to remove."""
        older = [m for m in self._live.pop(chat_id, []) if m not in shown]
        self._live[chat_id] = list(shown)
        if len(self._live) > self.limit:
            self._live.popitem(last=False)
        return [m for m in older if self.retire(chat_id, m)]


async def send_reply(
    bot: Bot,
    chat_id: int,
    reply: Outgoing,
    *,
    reply_to: int | None = None,
    link: str | None = None,
    paced: bool = False,
) -> list[Sent]:
    """Send one engine reply: text parts (buttons on the last), then the attachment."""
    sent: list[Sent] = []
    quote = reply_to
    for part in translate.render(reply, private_link=link):
        if isinstance(part, TextPart):
            params: dict[str, Any] = {
                "chat_id": chat_id,
                "text": part.text,
                "link_preview_options": NO_PREVIEW,
            }
            if part.markup is not None:
                params["reply_markup"] = part.markup
            if quote is not None:
                params["reply_parameters"] = {
                    "message_id": quote,
                    "allow_sending_without_reply": True,
                }
            message = await _call(bot, "sendMessage", params, paced=paced)
            sent.append(Sent(message["message_id"], part.has_buttons))
        elif isinstance(part, DocumentPart):
            document = await bot.send_document(
                chat_id,
                part.attachment.content,
                filename=part.attachment.filename,
                caption=part.caption,
                reply_parameters=(
                    ReplyParameters(quote, allow_sending_without_reply=True) if quote else None
                ),
                rate_limit_args=paced or None,
            )
            sent.append(Sent(document.message_id, False))
        quote = None  # only the first message quotes the one it answers
    return sent

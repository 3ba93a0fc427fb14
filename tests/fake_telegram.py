"""A small fake Telegram Bot API server on 127.0.0.1 that records every call.

It serves `/bot<token>/<method>` the way python-telegram-bot calls it (form or multipart
bodies), keeps the messages the bot sent (and edits them), and plays Telegram's side of
the two delivery modes: `deliver(update)` queues the update for `getUpdates` (long
polling, honouring `offset` and `timeout`) or, once `setWebhook` was called, POSTs it to
the webhook URL with the secret header, as Telegram does. Failures (a 429 with
`retry_after`, a 403) are queued per method and chat.

`TelegramUser` builds updates shaped like the recorded ones in tests/fixtures/telegram/.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "telegram"
TOKEN = "123456789:AAE-fake-token_for-tests"
BOT_USER: dict[str, Any] = {
    "id": 123456789,
    "is_bot": True,
    "first_name": "CPD bot",
    "username": "cpd_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
INT_PARAMS = {"chat_id", "message_id", "offset", "limit", "timeout", "max_connections"}
JSON_PARAMS = {
    "reply_markup",
    "allowed_updates",
    "commands",
    "reply_parameters",
    "link_preview_options",
    "scope",
}
T = TypeVar("T")


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() when the call arrived
    status: int = 200
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # field -> (name, bytes)
    result: Any = None  # what the fake answered (a sent message: its dict)
    via_webhook: bool = False  # made in a webhook response, not as a request of its own

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return value if isinstance(value, int) else None


@dataclass
class Failure:
    method: str
    chat_id: int | None
    status: int
    description: str
    retry_after: int | None
    times: int | None  # None: every time


class FakeTelegram:
    def __init__(self) -> None:
        self.token = TOKEN
        self.calls: list[Call] = []
        self._sent: dict[int, list[Call]] = {}  # chat -> messages sent there, in order
        self._arrivals: dict[int, list[asyncio.Event]] = {}  # chat -> waiters for a message
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}  # (chat, id) -> message
        self.pending: list[dict[str, Any]] = []  # updates not yet confirmed via getUpdates
        self.webhook: dict[str, Any] | None = None
        self.commands: list[dict[str, Any]] = []
        self.deleted: list[tuple[int, int]] = []  # (chat, message id) deleteMessage removed
        self.webhook_statuses: list[int] = []
        self._failures: list[Failure] = []
        self._message_ids = itertools.count(1000)
        # Files people sent: file id -> (file path, bytes); getFile names the path, which
        # is then downloaded from /file/bot<token>/<file path> (see `_file_download`).
        self.files: dict[str, tuple[str, bytes]] = {}
        self.downloads: list[str] = []  # file paths downloaded, in order
        self._file_ids = itertools.count(1)
        self.lies: dict[str, int] = {}  # file id -> the size getFile states instead
        self.download_gate: asyncio.Event | None = None  # set: downloads wait for it
        self.update_ids = itertools.count(700_000)
        self._changed = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> FakeTelegram:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._endpoint)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file_download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self._session = aiohttp.ClientSession()
        return self

    async def close(self) -> None:
        self._closing = True
        await self._notify()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """What TELEGRAM_BASE_URL is set to (python-telegram-bot appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    # ------------------------------------------------------------ Telegram's side

    async def deliver(self, update: dict[str, Any]) -> int:
        """Hand an update to the bot: webhook POST if one is set, else queue for getUpdates."""
        if self.webhook is None:
            self.pending.append(update)
            await self._notify()
            return 200
        return await self.post_webhook(update, secret=self.webhook.get("secret_token"))

    async def post_webhook(self, update: dict[str, Any], *, secret: str | None) -> int:
        """POST to the registered webhook URL; `secret` None sends no header (a forgery)."""
        assert self.webhook is not None and self._session is not None
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with self._session.post(self.webhook["url"], json=update, headers=headers) as r:
            body = await r.read()
            self.webhook_statuses.append(r.status)
            status = r.status
            answer = json.loads(body) if r.content_type == "application/json" else None
        # Telegram performs a method given in a successful webhook response (its result is
        # not returned to anyone).
        if status == 200 and isinstance(answer, dict) and isinstance(answer.get("method"), str):
            method = answer.pop("method")
            await self._perform(method, answer, {}, via_webhook=True)
        return status

    def fail(
        self,
        method: str,
        *,
        chat_id: int | None = None,
        status: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int | None = 1,
    ) -> None:
        """Answer the next `times` calls of `method` (for `chat_id`, if given) with an error."""
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if status == 429
                else "Forbidden: bot was blocked by the user"
            )
        self._failures.append(Failure(method, chat_id, status, description, retry_after, times))

    # ------------------------------------------------------------ reading what happened

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def sent(self, chat_id: int) -> list[Call]:
        """Successful sendMessage / sendDocument calls to a chat, in order."""
        return list(self._sent.get(chat_id, ()))

    def texts(self, chat_id: int) -> list[str]:
        return [c.params.get("text") or c.params.get("caption") or "" for c in self.sent(chat_id)]

    async def wait_for(self, predicate: Callable[[], T], within: float = 10.0) -> T:
        """Wait until `predicate()` is truthy (checked after every call the server receives)."""
        async with self._changed:
            return await asyncio.wait_for(self._changed.wait_for(predicate), within)

    async def next_message(
        self, chat_id: int, match: Callable[[Call], bool], *, after: int, within: float = 10.0
    ) -> Call:
        """The first message to `chat_id`, from the `after`-th on, that `match`es (waits).

        Unlike `wait_for` it wakes only when that chat gets a message: cheap with many
        people waiting at once (bench/telegram.py).
        """
        async with asyncio.timeout(within):
            while True:
                for call in self._sent.get(chat_id, [])[after:]:
                    if match(call):
                        return call
                arrived = asyncio.Event()
                self._arrivals.setdefault(chat_id, []).append(arrived)
                await arrived.wait()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ------------------------------------------------------------ the Bot API

    async def _endpoint(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        params, files = await _params(request)
        return await self._perform(method, params, files)

    async def _perform(
        self,
        method: str,
        params: dict[str, Any],
        files: dict[str, tuple[str, bytes]],
        *,
        via_webhook: bool = False,
    ) -> web.Response:
        call = Call(method, params, time.monotonic(), files=files, via_webhook=via_webhook)
        failure = self._failure_for(method, params)
        if failure is not None:
            call.status = failure.status
            self.calls.append(call)
            await self._notify()
            extra = {"retry_after": failure.retry_after} if failure.retry_after else None
            return _error(failure.status, failure.description, extra)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            call.status = 404
            self.calls.append(call)
            return _error(404, "Not Found: method not found")
        self.calls.append(call)
        await self._notify()  # a test may wait for the call itself (a long poll starting)
        try:
            result = call.result = await handler(params, files)
        except ApiError as exc:
            call.status = exc.status
            await self._notify()
            return _error(exc.status, exc.description)
        if method in ("sendMessage", "sendDocument"):
            self._sent.setdefault(params["chat_id"], []).append(call)
            for arrived in self._arrivals.pop(params["chat_id"], []):
                arrived.set()
        await self._notify()
        return web.json_response({"ok": True, "result": result})

    def _failure_for(self, method: str, params: dict[str, Any]) -> Failure | None:
        for failure in self._failures:
            if failure.method != method:
                continue
            if failure.chat_id is not None and failure.chat_id != params.get("chat_id"):
                continue
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
            return failure
        return None

    async def _api_getMe(self, params: dict[str, Any], files: Any) -> Any:
        return BOT_USER

    async def _api_getUpdates(self, params: dict[str, Any], files: Any) -> Any:
        offset = params.get("offset")
        if offset is not None:  # confirms every update before `offset`
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        wait = min(float(params.get("timeout") or 0), 10.0)
        if not self.pending and wait > 0 and not self._closing:
            with contextlib.suppress(TimeoutError):
                await self.wait_for(lambda: self.pending or self._closing, within=wait)
        return self.pending[: int(params.get("limit") or 100)]

    async def _api_deleteWebhook(self, params: dict[str, Any], files: Any) -> Any:
        self.webhook = None
        return True

    async def _api_setWebhook(self, params: dict[str, Any], files: Any) -> Any:
        self.webhook = dict(params)
        return True

    async def _api_setMyCommands(self, params: dict[str, Any], files: Any) -> Any:
        self.commands = list(params.get("commands") or [])
        return True

    async def _api_answerCallbackQuery(self, params: dict[str, Any], files: Any) -> Any:
        return True

    def store_file(
        self, content: bytes, folder: str, suffix: str, *, lie: int | None = None
    ) -> str:
        """Keep a file as Telegram's servers hold what a person sent; returns its file id.

        `lie`: the size getFile states instead, and the download then comes chunked with
        no Content-Length (a server lying about the size)."""
        number = next(self._file_ids)
        file_id = f"BQACAgQAAxkBAAI{number:05d}"
        self.files[file_id] = (f"{folder}/file_{number}{suffix}", content)
        if lie is not None:
            self.lies[file_id] = lie
        return file_id

    async def _api_getFile(self, params: dict[str, Any], files: Any) -> Any:
        """The Bot API's getFile (core.telegram.org/bots/api#getfile): a File with the
        `file_path` the file is then downloaded from, for files of up to 20 MB."""
        found = self.files.get(str(params.get("file_id")))
        if found is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        path, content = found
        if len(content) > 20 * 1024 * 1024:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": params["file_id"],
            "file_unique_id": f"AgAD{params['file_id'][-5:]}",
            "file_size": self.lies.get(params["file_id"], len(content)),
            "file_path": path,
        }

    async def _file_download(self, request: web.Request) -> web.StreamResponse:
        """GET https://api.telegram.org/file/bot<token>/<file_path>, as the Bot API docs
        describe under getFile (the link is valid for at least an hour)."""
        if request.match_info["token"] != self.token:
            return web.Response(status=401, text="Unauthorized")
        path = request.match_info["path"]
        found = next(((i, c) for i, (p, c) in self.files.items() if p == path), None)
        if found is None:
            return web.Response(status=404, text="Not Found")
        file_id, content = found
        self.downloads.append(path)
        await self._notify()
        if self.download_gate is not None:
            await self.download_gate.wait()
        if file_id not in self.lies:
            return web.Response(body=content, content_type="application/octet-stream")
        response = web.StreamResponse()  # chunked: no Content-Length to go by
        response.content_type = "application/octet-stream"
        await response.prepare(request)
        with contextlib.suppress(ConnectionError):  # the bot hangs up once it has enough
            for start in range(0, len(content), 64 * 1024):
                await response.write(content[start : start + 64 * 1024])
            await response.write_eof()
        return response

    async def _api_sendMessage(self, params: dict[str, Any], files: Any) -> Any:
        message = self._new_message(params["chat_id"])
        message["text"] = params["text"]
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return message

    async def _api_sendDocument(self, params: dict[str, Any], files: Any) -> Any:
        message = self._new_message(params["chat_id"])
        name, content = files.get("document", ("document", b""))
        message["document"] = {
            "file_id": f"DOC{message['message_id']}",
            "file_unique_id": f"U{message['message_id']}",
            "file_name": name,
            "file_size": len(content),
        }
        if params.get("caption"):
            message["caption"] = params["caption"]
        return message

    async def _api_editMessageText(self, params: dict[str, Any], files: Any) -> Any:
        message = self._message(params)
        if message.get("text") == params["text"] and "reply_markup" not in message:
            raise ApiError(400, "Bad Request: message is not modified")
        message["text"] = params["text"]
        message.pop("reply_markup", None)
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        message["edit_date"] = int(time.time())
        return message

    async def _api_deleteMessage(self, params: dict[str, Any], files: Any) -> Any:
        self.deleted.append((params["chat_id"], params["message_id"]))
        self.messages.pop((params["chat_id"], params["message_id"]), None)
        return True

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any], files: Any) -> Any:
        message = self._message(params)
        if "reply_markup" not in message and "reply_markup" not in params:
            raise ApiError(400, "Bad Request: message is not modified")
        message.pop("reply_markup", None)
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return message

    def _new_message(self, chat_id: int) -> dict[str, Any]:
        message_id = next(self._message_ids)
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": BOT_USER,
            "chat": _chat(chat_id),
            "date": int(time.time()),
        }
        self.messages[(chat_id, message_id)] = message
        return message

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self.messages.get((params.get("chat_id", 0), params.get("message_id", 0)))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        return message

    # ------------------------------------------------------------ people

    def user(self, user_id: int = 7527593, first_name: str = "Test User") -> TelegramUser:
        return TelegramUser(self, user_id, first_name)


class ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Test User"}
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": "Some chat"}


async def _params(request: web.Request) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    """python-telegram-bot posts url-encoded forms, or multipart when it uploads a file."""
    params: dict[str, Any] = {}
    files: dict[str, tuple[str, bytes]] = {}
    if request.content_type == "application/json":
        params = dict(await request.json())
        return params, files
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            files[key] = (value.filename, value.file.read())
            continue
        text = value if isinstance(value, str) else bytes(value).decode()
        if key in INT_PARAMS and text.lstrip("-").isdigit():
            params[key] = int(text)
        elif key in JSON_PARAMS:
            params[key] = json.loads(text)
        else:
            params[key] = text
    return params, files


class TelegramUser:
    """A person in a private chat with the bot (or in a group): builds their updates."""

    def __init__(self, fake: FakeTelegram, user_id: int, first_name: str) -> None:
        self.fake = fake
        self.id = user_id
        self.first_name = first_name
        self._message_ids = itertools.count(1)

    def _from(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "username": f"user{self.id}",
            "language_code": "en",
        }

    def message(self, text: str, *, chat: dict[str, Any] | None = None) -> dict[str, Any]:
        """A text message, shaped like fixtures/telegram/message_text_private.json."""
        update = fixture("message_text_private.json")
        message = update["message"]
        message["from"] = self._from()
        message["chat"] = chat or {
            "id": self.id,
            "type": "private",
            "first_name": self.first_name,
            "username": f"user{self.id}",
        }
        message["message_id"] = next(self._message_ids)
        message["date"] = int(time.time())
        message["text"] = text
        if text.startswith("/"):
            head = text.split(maxsplit=1)[0]
            message["entities"] = [{"offset": 0, "length": len(head), "type": "bot_command"}]
        update["update_id"] = next(self.fake.update_ids)
        return update

    def document(
        self,
        content: bytes,
        name: str,
        mime: str,
        *,
        caption: str | None = None,
        declared: int | None = None,
    ) -> dict[str, Any]:
        """A message carrying a document, shaped like fixtures/telegram/
        message_document_private.json; `declared` is the size Telegram states instead
        (in the message and in getFile), as if it lied."""
        update = self.message("")
        message = update["message"]
        del message["text"]
        file_id = self.fake.store_file(content, "documents", Path(name).suffix, lie=declared)
        message["document"] = {
            "file_name": name,
            "mime_type": mime,
            "file_id": file_id,
            "file_unique_id": f"AgAD{file_id[-5:]}",
            "file_size": len(content) if declared is None else declared,
        }
        if caption is not None:
            message["caption"] = caption
        return update

    def photo(self, content: bytes, *, caption: str | None = None) -> dict[str, Any]:
        """A message carrying a photo: Telegram's sizes, smallest first, the largest last
        (core.telegram.org/bots/api#photosize); only the largest holds `content`."""
        update = self.message("")
        message = update["message"]
        del message["text"]
        thumb = self.fake.store_file(content[:64], "photos", ".jpg")
        full = self.fake.store_file(content, "photos", ".jpg")
        message["photo"] = [
            {
                "file_id": thumb,
                "file_unique_id": "AQADt",
                "file_size": 64,
                "width": 90,
                "height": 67,
            },
            {
                "file_id": full,
                "file_unique_id": "AQADf",
                "file_size": len(content),
                "width": 1280,
                "height": 960,
            },
        ]
        if caption is not None:
            message["caption"] = caption
        return update

    async def send(self, update: dict[str, Any], until: str | None = None) -> dict[str, Any]:
        """Deliver an update built here (a document, a photo); `until` as in `say`."""
        return await self._send(update, until)

    def press(self, label: str, *, message: dict[str, Any] | None = None) -> dict[str, Any]:
        """A button press on the bot's latest keyboard in this chat (or on `message`).

        Shaped like fixtures/telegram/callback_query_inline_message.json, but from a
        message in the chat: `message` (as it looks now) instead of `inline_message_id`.
        """
        if message is None:
            message = self.keyboard_message()
        data = None
        for row in message.get("reply_markup", {}).get("inline_keyboard", []):
            for button in row:
                if button["text"] == label:
                    data = button["callback_data"]
        if data is None:
            raise AssertionError(f"no button {label!r} on message {message.get('text')!r}")
        update = fixture("callback_query_inline_message.json")
        query = update["callback_query"]
        del query["inline_message_id"]
        query["id"] = f"{self.id}-{next(self._message_ids)}"
        query["from"] = self._from()
        query["message"] = copy.deepcopy(message)
        query["chat_instance"] = f"-{self.id}"
        query["data"] = data
        update["update_id"] = next(self.fake.update_ids)
        return update

    def keyboard_message(self) -> dict[str, Any]:
        """The latest message in this chat that still has buttons."""
        for (chat, _), message in sorted(self.fake.messages.items(), reverse=True):
            if chat == self.id and "reply_markup" in message:
                return message
        raise AssertionError("no message with buttons in this chat")

    def snapshot(self, message_id: int) -> dict[str, Any]:
        """A copy of one of the bot's messages as it looks now (to press it later)."""
        return copy.deepcopy(self.fake.messages[(self.id, message_id)])

    async def say(self, text: str, until: str | None = None, **kw: Any) -> dict[str, Any]:
        """Send a message; with `until`, wait for a reply in this chat containing it."""
        return await self._send(self.message(text, **kw), until)

    async def tap(self, label: str, until: str | None = None, **kw: Any) -> dict[str, Any]:
        """Press a button; with `until`, wait for a reply in this chat containing it."""
        return await self._send(self.press(label, **kw), until)

    async def _send(self, update: dict[str, Any], until: str | None) -> dict[str, Any]:
        before = len(self.fake.sent(self.id))
        status = await self.fake.deliver(update)
        assert status == 200, status
        if until is not None:
            await self.fake.wait_for(
                lambda: any(until in t for t in self.fake.texts(self.id)[before:])
            )
        return update

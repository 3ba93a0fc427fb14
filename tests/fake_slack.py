"""A small fake of the Slack Web API on 127.0.0.1 that records every call.

Serves `/api/<method>` (what slack_sdk's `AsyncWebClient(base_url=...)` calls), the upload
URLs handed out by `files.getUploadURLExternal`, and `response_url`s (`/response/<id>`).
It keeps the messages the bot posted (and updates them on `chat.update`), so a test can
press a button on the message as it now looks. Failures (a 429 with `Retry-After`, an
error code) and gates (hold a method until the test opens it) are queued per method.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

BOT_USER = "UBOT0001"
BOT_ID = "BBOT0001"
APP_ID = "A0CPDBOT01"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    status: int = 200
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    when: Callable[[dict[str, Any]], bool] | None = None


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.users: dict[str, dict[str, Any]] = {}  # user id -> users.info "user"
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) -> message
        self.uploads: dict[str, bytes] = {}  # file id -> content
        self.responses: list[dict[str, Any]] = []  # what was POSTed to response_urls
        self.socket_acks: list[dict[str, Any]] = []  # Socket Mode acks from the app
        # Files people shared with the bot: file id -> (files.info "file", content, token);
        # the private download URL answers only a request with that bot token.
        self.shared: dict[str, tuple[dict[str, Any], bytes, str]] = {}
        self.downloads: list[str] = []  # file ids downloaded, in order
        self._sockets: list[web.WebSocketResponse] = []
        self._failures: dict[str, list[Failure]] = {}
        self._gates: dict[str, asyncio.Event] = {}
        self._ids = itertools.count(1)
        self.lies: set[str] = set()  # shared files whose stated size is wrong
        self.download_gate: asyncio.Event | None = None  # set: downloads wait for it
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/response/{hook}", self._response)
        app.router.add_get("/socket-mode", self._socket)
        app.router.add_get("/files-pri/{file}/download/{name}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, name: str = "hook") -> str:
        return f"{self.url}/response/{name}"

    # ------------------------------------------------------------ test controls

    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Make the next `times` calls of `method` (matching `when`) fail."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        if status == 429 and error is None:
            error = "ratelimited"
        failure = Failure(status, error, headers, when)
        self._failures.setdefault(method, []).extend([failure] * times)

    def share_file(
        self,
        content: bytes,
        name: str,
        mimetype: str,
        *,
        token: str,
        team: str = "T0FAKE001",
        declared: int | None = None,
    ) -> dict[str, Any]:
        """A file a person shared, as `files.info` describes it (docs.slack.dev/reference/
        methods/files.info; the file object: docs.slack.dev/reference/objects/file-object).
        Its `url_private_download` needs `Authorization: Bearer <token>` (401 otherwise),
        as Slack's private file URLs do. `declared`: the size Slack states instead, and the
        download is then chunked with no Content-Length (lying about the size)."""
        file_id = f"F{next(self._ids):08d}"
        filetype = name.rsplit(".", 1)[-1].lower() if "." in name else "binary"
        info = {
            "id": file_id,
            "created": 1700000000,
            "timestamp": 1700000000,
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "filetype": filetype,
            "user": "",
            "mode": "hosted",
            "editable": False,
            "is_external": False,
            "size": len(content) if declared is None else declared,
            "url_private": f"{self.url}/files-pri/{team}-{file_id}/{name}",
            "url_private_download": f"{self.url}/files-pri/{team}-{file_id}/download/{name}",
            "is_public": False,
        }
        self.shared[file_id] = (info, content, token)
        if declared is not None:
            self.lies.add(file_id)
        return dict(info)

    def hold(self, method: str) -> asyncio.Event:
        """Hold every call of `method` until the returned event is set."""
        gate = asyncio.Event()
        self._gates[method] = gate
        return gate

    def called(self, method: str, *, ok_only: bool = True) -> list[dict[str, Any]]:
        return [c.args for c in self.calls if c.method == method and (c.ok or not ok_only)]

    def posts(self, channel: str) -> list[dict[str, Any]]:
        """Messages posted to a channel, in order, as they look now (after chat.update)."""
        found = [m for (ch, _), m in self.messages.items() if ch == channel]
        return sorted(found, key=lambda m: float(m["ts"]))

    async def wait_for(self, condition: Callable[[], bool], within: float = 5.0) -> None:
        """Until `condition()` holds (checked on every recorded call); fails after `within` s."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(condition)

    @property
    def socket_connected(self) -> bool:
        return any(not ws.closed for ws in self._sockets)

    async def push(self, envelope_type: str, payload: dict[str, Any]) -> str:
        """Send a Socket Mode envelope to the connected app; returns its envelope id."""
        envelope_id = f"env-{next(self._ids)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": envelope_type != "events_api",
        }
        (ws,) = [ws for ws in self._sockets if not ws.closed]
        await ws.send_json(envelope)
        return envelope_id

    # ------------------------------------------------------------ handlers

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1})
        await self._record(Call("socket.connect", {}, None))
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                self.socket_acks.append(json.loads(message.data))
                await self._record(Call("socket.ack", self.socket_acks[-1], None))
        return ws

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update(parse_qsl(await request.text()))
        for key in ("blocks", "view", "files", "channels"):
            if isinstance(args.get(key), str) and args[key][:1] in "[{":
                args[key] = json.loads(args[key])
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.get("token")
        gate = self._gates.get(method)
        if gate is not None:
            await gate.wait()
        failure = self._take_failure(method, args)
        if failure is not None:
            await self._record(Call(method, args, token, failure.status, failure.error))
            body = {"ok": False, "error": failure.error}
            return web.json_response(body, status=failure.status, headers=failure.headers)
        if not token:
            await self._record(Call(method, args, token, 200, "not_authed"))
            return web.json_response({"ok": False, "error": "not_authed"})
        result = self._answer(method, args)
        error = None if result.get("ok") else str(result.get("error"))
        await self._record(Call(method, args, token, 200, error))
        return web.json_response(result)

    def _take_failure(self, method: str, args: dict[str, Any]) -> Failure | None:
        queue = self._failures.get(method) or []
        for i, failure in enumerate(queue):
            if failure.when is None or failure.when(args):
                return queue.pop(i)
        return None

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "apps.connections.open":
            return {"ok": True, "url": self.url.replace("http://", "ws://") + "/socket-mode"}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://fake.slack.test/",
                "team": "Fake team",
                "user": "cpdbot",
                "team_id": "T0FAKE001",
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "users.info":
            user_id = str(args.get("user"))
            user = self.users.get(user_id)
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": {"id": user_id, **user}}
        if method == "conversations.open":
            users = str(args.get("users", ""))
            if "," in users or not users:
                return {"ok": False, "error": "not_allowed"}
            return {"ok": True, "channel": {"id": f"D{users}"}}
        if method in ("chat.postMessage", "chat.postEphemeral"):
            ts = f"{1700000000 + next(self._ids)}.000100"
            channel = str(args.get("channel"))
            message = {
                "type": "message",
                "user": BOT_USER,
                "bot_id": BOT_ID,
                "text": args.get("text", ""),
                "blocks": args.get("blocks") or [],
                "ts": ts,
            }
            if method == "chat.postEphemeral":
                return {"ok": True, "message_ts": ts}
            self.messages[(channel, ts)] = message
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "chat.update":
            key = (str(args.get("channel")), str(args.get("ts")))
            if key not in self.messages:
                return {"ok": False, "error": "message_not_found"}
            self.messages[key].update(text=args.get("text", ""), blocks=args.get("blocks") or [])
            return {"ok": True, "channel": key[0], "ts": key[1]}
        if method in ("views.open", "views.publish"):
            view = dict(args.get("view") or {})
            return {"ok": True, "view": {**view, "id": f"V{next(self._ids):08d}"}}
        if method == "files.info":
            shared = self.shared.get(str(args.get("file")))
            if shared is None:
                return {"ok": False, "error": "file_not_found"}
            return {"ok": True, "file": dict(shared[0]), "comments": [], "response_metadata": {}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ids):08d}"
            return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = args.get("files") or []
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
        return {"ok": False, "error": "unknown_method"}

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        self.uploads[file_id] = await request.read()
        await self._record(Call("upload", {"file_id": file_id}, None))
        return web.Response(text=f"OK - {len(self.uploads[file_id])}")

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """A shared file's `url_private_download`: the bytes, for the bot token only."""
        team_file = request.match_info["file"]
        file_id = team_file.rsplit("-", 1)[-1]
        shared = self.shared.get(file_id)
        if shared is None:
            return web.Response(status=404, text="Not Found")
        _, content, token = shared
        if request.headers.get("Authorization") != f"Bearer {token}":
            await self._record(Call("download", {"file": file_id}, None, 401, "not_authed"))
            return web.Response(status=401, text="Unauthorized")
        self.downloads.append(file_id)
        await self._record(Call("download", {"file": file_id}, token))
        if self.download_gate is not None:
            await self.download_gate.wait()
        if file_id not in self.lies:
            return web.Response(body=content, content_type=str(shared[0]["mimetype"]))
        response = web.StreamResponse()  # chunked: no Content-Length to go by
        await response.prepare(request)
        with contextlib.suppress(ConnectionError):  # the bot hangs up once it has enough
            for start in range(0, len(content), 64 * 1024):
                await response.write(content[start : start + 64 * 1024])
            await response.write_eof()
        return response

    async def _response(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append(body)
        await self._record(Call("response_url", body, None))
        return web.Response(text="ok")

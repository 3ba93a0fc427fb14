"""The Teams bot's HTTP endpoint (POST /api/messages) and `serve(engine, settings)`.

Each request: the JSON activity is read, its bearer token checked (`TeamsAuth`: 401 and
nothing recorded or sent when it fails); a message in a personal chat is written to the
inbox table (`bot/services/intake.py`), named by its conversation and activity id so a
repeat is handled once, then answered 200; the engine runs after, in the person's queue
(adapters/runtime.py), and the replies go out through the Bot Connector
(adapters/teams/sender.py); then one batched inbox write marks the row done, the replies
delivered (no longer kept for a replay) and holds the personal chat's conversation
reference, if it changed, for the messages the bot starts (adapters/teams/proactive.py).
`replay()` at start runs rows a crash left unfinished. A message in a group chat or
channel gets a pointer to the personal chat: no row, no person, no reference. The app
installed in a personal chat (a `conversationUpdate` adding the bot) runs the dialogue's
first contact, as `/start`; a file consent card's answer (`fileConsent/invoke`) is
answered 200 and its upload done in the person's queue (adapters/teams/files.py); other
activity types (other invokes, other updates) are answered 200 and ignored.
TEAMS_DEV_NO_AUTH skips the token check (loopback only, a warning at every start); with
no password or certificate as well, nothing is signed and replies go to loopback only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from aiohttp import web

from adapters.healthz import healthz
from adapters.runtime import PersonQueues
from adapters.teams import files, translate
from adapters.teams.auth import KeysUnavailable, TeamsAuth, Unauthorized
from adapters.teams.options import TeamsSettings, credential_of, is_loopback
from adapters.teams.sender import Connector, connector_session
from adapters.teams.tokens import BOT_FRAMEWORK_SCOPE, Certificate, ClientCredentials
from adapters.teams.work import TeamsWork
from bot.core.model import ConversationRef, IdentityKey
from bot.services import references
from bot.services.db_work import EngineAndInbox
from bot.services.engine import Engine
from bot.services.intake import Inbox

log = logging.getLogger("cpdbot.teams")

MESSAGES_PATH = "/api/messages"
WORK_SLOTS = 8  # as Slack's (adapters/slack/bolt_app.py): bounded concurrent work
ENGINE_THREADS = 2
INBOX_THREADS = 1
BODY_MAX = 256 * 1024  # an activity is at most about 40 KB
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class TeamsConfigError(RuntimeError):
    """The Teams settings cannot work (missing app id, password or certificate...)."""


NO_AUTH_WARNING = "teams: token validation is OFF: local development only (TEAMS_DEV_NO_AUTH)"


def check_settings(
    settings: TeamsSettings, now: datetime | None = None
) -> tuple[str, str | Certificate | None]:
    """The app id ("" only in dev mode) and the password, certificate or None (dev mode
    without either: nothing signed), or `TeamsConfigError` (checked before anything
    starts; a certificate expired at `now` is refused)."""
    if settings.dev_no_auth and not is_loopback(settings.host):
        raise TeamsConfigError(
            f"TEAMS_DEV_NO_AUTH is for local development only: TEAMS_HOST must be a loopback "
            f"address (127.0.0.1, ::1 or localhost), not {settings.host!r}."
        )
    try:
        credential = credential_of(settings, now or datetime.now(UTC))
    except ValueError as exc:
        raise TeamsConfigError(str(exc)) from None
    return settings.app_id or "", credential


class TeamsBot:
    """One bot registration's endpoint. Construct it in a running event loop; `close()` it."""

    def __init__(self, engine: Engine, settings: TeamsSettings) -> None:
        app_id, credential = check_settings(settings, engine.clock())
        self.engine = engine
        self.dev_no_auth = settings.dev_no_auth
        if self.dev_no_auth:
            log.warning(NO_AUTH_WARNING)
        self.http = httpx.AsyncClient(timeout=HTTP_TIMEOUT)  # token check and token provider
        self.connector_http = connector_session()  # replies and card updates
        # Dev mode never checks a token; it may have no app id to check one against.
        self.auth = TeamsAuth(app_id or "-", settings.metadata_url, self.http, engine.clock)
        credentials = None
        if credential is not None:
            credentials = ClientCredentials(
                settings.outbound_token_url,
                app_id,
                credential,
                BOT_FRAMEWORK_SCOPE,
                self.http,
                engine.clock,
                tenant_id=settings.tenant_id,
            )
        else:
            log.warning("teams: no password or certificate: replies go unsigned, to loopback only")
        self._queues = PersonQueues(log, slots=WORK_SLOTS, name="teams")
        self._lanes = EngineAndInbox(
            engine.db,
            engine_threads=ENGINE_THREADS,
            inbox_threads=INBOX_THREADS,
            name="cpdbot-teams",
        )
        self.work = TeamsWork(engine, Connector(self.connector_http, credentials), self._lanes)
        self.inbox = Inbox(engine.db, engine.clock, translate.PLATFORM, self._lanes.inbox)

    # ------------------------------------------------------------ HTTP

    def web_app(self) -> web.Application:
        app = web.Application(client_max_size=BODY_MAX)
        app.router.add_post(MESSAGES_PATH, self.handle)
        app.router.add_get("/healthz", healthz(self.engine))
        return app

    async def start_http(self, host: str, port: int) -> tuple[web.AppRunner, int]:
        """Listen on host:port (0: any free port); returns the runner and the bound port."""
        runner = web.AppRunner(self.web_app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        bound = runner.addresses[0][1] if runner.addresses else port
        return runner, int(bound)

    async def handle(self, request: web.Request) -> web.Response:
        try:
            activity = await request.json()
        except ValueError:
            return web.Response(status=400, text="not a JSON activity")
        if not isinstance(activity, dict):
            return web.Response(status=400, text="not a JSON activity")
        refused = None if self.dev_no_auth else await self._refused(request, activity)
        if refused is not None:
            return refused
        await self._dispatch(activity)
        return web.Response(status=200)

    async def _refused(
        self, request: web.Request, activity: Mapping[str, Any]
    ) -> web.Response | None:
        """The answer to a request whose token does not check out (None: it does)."""
        try:
            await self.auth.check(
                request.headers.get("Authorization"),
                service_url=str(activity.get("serviceUrl") or ""),
                channel_id=str(activity.get("channelId") or ""),
            )
        except KeysUnavailable as exc:
            log.warning("teams: request refused, keys unavailable: %s", exc.reason)
            return web.Response(status=503, text="try again later")
        except Unauthorized as exc:
            log.warning("teams: request refused: %s", exc.reason)
            return web.Response(status=401, text="unauthorized")
        return None

    async def _dispatch(self, activity: dict[str, Any]) -> None:
        """Record and start a personal message; point group messages to the personal chat;
        greet a person who installed the app in their personal chat."""
        if translate.bot_added(activity):
            self._welcome(activity)
            return
        if files.is_consent(activity):
            self._file_answer(activity)
            return
        if activity.get("type") != "message":
            return
        place = translate.where(activity)
        if not place.personal:
            self._queues.submit(None, lambda: self.work.pointer(activity))
            return
        name = translate.activity_key(activity)
        if place.identity is None or name is None:
            log.info("teams: a personal message without tenant, user or id; ignored")
            return
        payload = json.dumps(activity, ensure_ascii=False)
        # Raises if the write fails: aiohttp answers 500 and the connector tries again.
        if await self.inbox.record([(name, payload)], {name: place.identity}):
            self._start(name, activity)

    def _file_answer(self, activity: Mapping[str, Any]) -> None:
        """A file consent card's Allow or Decline: answered 200 at once (the invoke's own
        answer, `handle`), the upload done in the person's queue. Not recorded in the
        inbox: the file waits in memory only, and its token, used once, makes a repeat
        do nothing (adapters/teams/files.py)."""
        key = translate.where(activity).identity
        if key is not None:
            self._queues.submit(key, lambda: self.work.file_answered(activity))

    def _start(self, name: str, activity: Mapping[str, Any]) -> None:
        key = translate.where(activity).identity

        async def then_finish() -> None:
            delivered = None
            try:
                delivered = await self.work.personal(activity)
            except Exception:
                log.exception("teams: work after the 200 failed (%s)", name)
            # One batched write: the row done, the replies confirmed sent, the reference.
            self.inbox.finish(name, delivered, self.reference(activity))

        self._queues.submit(key, then_finish)

    def _welcome(self, activity: Mapping[str, Any]) -> None:
        """The app installed in a personal chat: the dialogue's first contact (`/start`),
        and the chat's reference held. Not recorded in the inbox: a welcome lost to a
        crash is not worth a replay. Added to a group chat or channel: nothing."""
        place = translate.where(activity)
        key = place.identity
        if not place.personal or key is None:
            return
        event = translate.welcome(activity, key)

        async def greet() -> None:
            delivered = None
            try:
                handled = await self.work.run(event)
                delivered = await self.work.deliver(activity, list(handled.replies), event)
            except Exception:
                log.exception("teams: the welcome failed")
            self.inbox.finish(None, delivered, self.reference(activity))

        self._queues.submit(key, greet)

    def reference(self, activity: Mapping[str, Any]) -> tuple[IdentityKey, ConversationRef] | None:
        """This personal chat's reference, for the inbox's batched write to hold for the
        messages the bot starts (after the engine, which creates the identity): read and
        compared in that write, stored when it changed; a message from someone marked
        unreachable makes them reachable again. None: nothing to hold, or a reference that
        does not fit (logged without its content)."""
        key = translate.where(activity).identity
        ref = reference_of(activity)
        if key is None or ref is None or not references.fits(key, ref):
            return None
        return key, ref

    # ------------------------------------------------------------ lifecycle

    async def replay(self) -> int:
        """Start the work of activities recorded but never handled; returns how many."""
        rows = await self.inbox.replay()
        for name, payload in rows:
            try:
                activity = json.loads(payload)
            except ValueError:
                activity = None
            if not isinstance(activity, dict) or translate.where(activity).identity is None:
                log.error("teams: inbox row %s cannot be read; dropped", name)
                self.inbox.finish(name)
                continue
            self._start(name, activity)
        if rows:
            log.info("teams: replaying %d activity(ies) left unhandled", len(rows))
        return len(rows)

    async def idle(self) -> None:
        """Until the work in flight is done and its batched inbox write made (rows done,
        replies confirmed delivered, references held)."""
        await self._queues.join()
        await self.inbox.flush()

    async def close(self, grace: float = 5.0) -> None:
        """Let work in flight finish (for `grace` seconds), then stop; work cut short keeps
        its inbox row unfinished, for the next start's `replay()`."""
        try:
            await asyncio.wait_for(self.idle(), grace)
        except TimeoutError:
            log.warning("teams: %d task(s) still running at shutdown", self._queues.running)
            await self._queues.close()
        await self.inbox.flush()
        await self.http.aclose()
        await self.connector_http.close()
        self._lanes.close()


def reference_of(activity: Mapping[str, Any]) -> ConversationRef | None:
    """The conversation reference a personal message brings: its service URL (path kept),
    conversation id, tenant, the bot's id in it (`recipient.id`) and channel."""
    place = translate.where(activity)
    recipient = activity.get("recipient")
    bot_id = recipient.get("id") if isinstance(recipient, Mapping) else None
    if not place.personal or not place.service_url or not place.conversation_id:
        return None
    return ConversationRef(
        service_url=place.service_url,
        conversation_id=place.conversation_id,
        tenant_id=translate.tenant_of(activity),
        bot_id=str(bot_id or ""),
        channel_id=str(activity.get("channelId") or "msteams"),
    )


async def serve(engine: Engine, settings: TeamsSettings) -> None:
    """Serve POST /api/messages on TEAMS_HOST:TEAMS_PORT until cancelled."""
    bot = TeamsBot(engine, settings)
    try:
        await bot.replay()
        runner, port = await bot.start_http(settings.host, settings.port)
        print(
            f"Teams: listening on http://{settings.host}:{port}{MESSAGES_PATH}",
            file=sys.stderr,
            flush=True,
        )
        try:
            await asyncio.Event().wait()  # until cancelled
        finally:
            await runner.cleanup()
    finally:
        await bot.close()

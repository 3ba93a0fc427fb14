"""The Slack app: bolt listeners that record and ack at once, then run the engine.

Every listener acknowledges before any slow work (the one exception is a modal submission,
whose ack must carry the field errors, so the engine runs first — a few milliseconds).
The work after the ack (adapters/slack/work.py) runs in the adapters' per-person queues
(adapters/runtime.py), so a person's messages are handled in the order they arrived;
`idle()` waits for all of it (tests, shutdown).

Slack does not resend a request it got a 200 for, so a request whose work ends in the
engine (a DM, a mention, `/cpd <text>`, a button press) is first written to the inbox table
(`bot/services/intake.py`), then acked; finishing the work marks its row done, and
`replay()` at start runs the rows a crash left unfinished, oldest first. The engine's dedupe
key makes a replay safe. A modal submission needs no row: its engine step commits before
the ack.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from adapters.healthz import healthz
from adapters.runtime import PersonQueues
from adapters.slack import blocks, translate
from adapters.slack.sender import make_client
from adapters.slack.work import SORRY, SlackWork
from bot.core.buttons import command_button
from bot.core.model import IdentityKey
from bot.services.db_work import EngineAndInbox
from bot.services.engine import Engine
from bot.services.intake import Inbox

log = logging.getLogger("cpdbot.slack")

EVENTS_PATH = "/slack/events"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SLACK_TIMESTAMP = re.compile(r"[0-9]{1,15}")  # seconds since the epoch, ASCII digits only
# At most this many people's work runs at once; the rest waits its turn without using the
# event loop, so a flood of events leaves the loop free to ack new requests within
# milliseconds (bench/slack.py), and the database and Web API see bounded concurrency.
WORK_SLOTS = 8
# Engine steps run on this many threads of their own. Each step is CPU-bound Python holding
# the GIL, and SQLite takes one writer at a time anyway: more threads would only slow
# the event loop (and so the acks) without handling more events.
ENGINE_THREADS = 2
# Where inbox writes run (each takes every request recorded meanwhile in one transaction).
# PostgreSQL: a thread of their own, never queued behind engine steps. SQLite: the event
# loop, in the next turn between two engine transactions (bot/services/db_work.py); a write
# is well under a millisecond there, while in a thread of its own it lost ~20 ms to GIL
# hand-offs with the busy event loop (bench/slack.py, steady ack median 20 ms instead of 3 ms).
INBOX_THREADS = 1

Work = Callable[[], Awaitable[None]]
# What the inbox keeps of a request, enough to do its work again after a restart: "kind"
# (message, mention, command, press), "team" and "user" (who), "body" (Slack's payload as
# bolt parsed it), and for a press its "action", for a mention the bot's user id ("bot").
Job = dict[str, Any]


class SlackBot:
    """One Slack workspace's bot (bot token), served over HTTP or Socket Mode.

    Construct it inside a running event loop (it opens an aiohttp session); `close()` it.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        token: str,
        signing_secret: str = "",
        api_url: str | None = None,
    ) -> None:
        self.engine = engine
        self.session = aiohttp.ClientSession()
        self.client = make_client(token, api_url, self.session)
        self.app = AsyncApp(
            client=self.client,
            signing_secret=signing_secret,
            # Listeners return as soon as they have acked and started their work, so bolt
            # answers right then, with no polling for the ack.
            process_before_response=True,
            logger=logging.getLogger("cpdbot.slack.bolt"),
            name="cpdbot",
        )
        self._queues = PersonQueues(log, slots=WORK_SLOTS, name="slack")
        self._lanes = EngineAndInbox(
            engine.db,
            engine_threads=ENGINE_THREADS,
            inbox_threads=INBOX_THREADS,
            name="cpdbot-slack",
        )
        self.work = SlackWork(engine, self.client, self.session, self._lanes)
        self.sender = self.work.sender
        self.inbox = Inbox(engine.db, engine.clock, translate.PLATFORM, self._lanes.inbox)
        self._register()

    def _register(self) -> None:
        app = self.app
        app.event("message")(self._on_message)
        app.event("app_mention")(self._on_mention)
        app.event("app_home_opened")(self._on_home_opened)
        app.command(re.compile(r"^/"))(self._on_command)
        app.action(blocks.CHOICE_ACTION_RE)(self._on_press)
        app.view(blocks.ENTRY_MODAL)(self._on_submit)
        app.action(blocks.SECRET_ACTION_RE)(self._on_secret_button)
        app.view(blocks.SECRET_MODAL)(self._on_secret)
        # Anything else interactive (a button or form not made by this bot) is acked and
        # ignored, so Slack shows no error; bolt runs only the first matching listener.
        app.action(re.compile(r".*"))(_ack_only)
        app.view(re.compile(r".*"))(_ack_only)

    # ------------------------------------------------------------ running

    def web_app(self) -> web.Application:
        """The HTTP mode's aiohttp application: Slack's requests (Events API, interactivity,
        slash commands) at POST /slack/events, and GET /healthz for load balancers."""

        async def handle(request: web.Request) -> web.Response:
            if not SLACK_TIMESTAMP.fullmatch(request.headers.get(TIMESTAMP_HEADER, "")):
                # bolt would fail on it (500): unsigned as far as we can tell, so refused
                # as any request whose signature does not check out.
                return web.Response(status=401, text="invalid request")
            bolt_response = await self.app.async_dispatch(await to_bolt_request(request))
            return await to_aiohttp_response(bolt_response)

        web_app = web.Application()
        web_app.router.add_post(EVENTS_PATH, handle)
        web_app.router.add_get("/healthz", healthz(self.engine))
        return web_app

    async def start_http(self, host: str, port: int) -> tuple[web.AppRunner, int]:
        """Listen on host:port (0: any free port); returns the runner and the bound port."""
        runner = web.AppRunner(self.web_app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1] if runner.addresses else port  # the port 0 became
        return runner, int(bound)

    async def idle(self) -> None:
        """Wait until the work started by every request so far (and what it started) is done."""
        await self._queues.join()

    async def settled(self, key: IdentityKey) -> None:
        """Wait until the work started so far for this person is done."""
        await self._queues.settled(key)

    async def replay(self) -> int:
        """Start the work of requests recorded but never handled (the process died before
        finishing them), oldest first; returns how many. Call it before serving requests."""
        rows = await self.inbox.replay()
        if rows:
            log.info("slack: replaying %d request(s) left unhandled", len(rows))
        for name, payload in rows:
            try:
                job = json.loads(payload)
            except ValueError:
                log.error("slack: inbox row %s is not JSON; dropped", name)
                self.inbox.finish(name)
                continue
            self._start(name, job)
        return len(rows)

    async def close(self, grace: float = 5.0) -> None:
        """Let the work in flight finish (for `grace` seconds), then stop. Work cut short
        keeps its inbox row unfinished, for the next start's `replay()`."""
        try:
            await asyncio.wait_for(self.idle(), grace)
        except TimeoutError:
            log.warning("slack: %d task(s) still running at shutdown", self._queues.running)
            await self._queues.close()
        await self.inbox.flush()
        await self.session.close()
        self._lanes.close()

    # ------------------------------------------------------------ the inbox

    async def _accept(self, delivery: str | None, job: Job) -> None:
        """Record a request's work durably, then start it unless it was recorded before.

        Called before the ack: if the write fails, the listener raises and bolt answers
        500, so Slack retries an event, and a person sees that a command or press failed.
        `delivery` names this delivery (Slack's retries of an event share it); without one,
        the row gets a name of its own.
        """
        name = delivery or f"request:{uuid.uuid4().hex}"
        who = (
            {name: translate.identity(str(job["team"]), str(job["user"]))} if "user" in job else {}
        )
        if await self.inbox.record([(name, json.dumps(job, ensure_ascii=False))], who):
            self._start(name, job)

    def _start(self, name: str, job: Job) -> None:
        """Run a recorded request's work in its person's queue, then mark its row done."""
        try:
            key = translate.identity(str(job["team"]), str(job["user"]))
            work = self._work(key, job)
        except (KeyError, TypeError, ValueError):
            log.exception("slack: inbox row %s cannot be read; dropped", name)
            self.inbox.finish(name)
            return

        async def then_finish() -> None:
            try:
                await work()
            except Exception:
                log.exception("slack: work after the ack failed (%s)", name)
            # Only an orderly end (or a failure already reported) reaches here; work that
            # is cancelled (shutdown) leaves the row unfinished, for the next start.
            self.inbox.finish(name)

        self._queues.submit(key, then_finish)

    def _work(self, key: IdentityKey, job: Job) -> Work:
        body: dict[str, Any] = job["body"]
        kind = job["kind"]
        if kind == "message":
            return lambda: self.work.direct_message(key, body)
        if kind == "files":
            return lambda: self.work.files_shared(key, body)
        if kind == "mention":
            return lambda: self.work.mention(key, body, job.get("bot"))
        if kind == "command":
            return lambda: self.work.command(key, body)
        if kind == "press":
            return lambda: self.work.press(key, body, job["action"])
        raise ValueError(f"unknown kind of work: {kind!r}")

    @staticmethod
    def _key(context: AsyncBoltContext, user_id: str | None) -> IdentityKey | None:
        team = context.team_id or context.enterprise_id
        if not team or not user_id:
            return None
        return translate.identity(team, user_id)

    # ------------------------------------------------------------ listeners
    # Each records its work in the inbox (`_accept`) before it acks; the work itself is a
    # method of `SlackWork`, which `replay()` calls the same way after a restart.

    async def _on_message(
        self, ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        # Only a person's own messages in their DM with the bot: edits, bot posts, joins and
        # channel chatter (if message.channels is ever subscribed) are not for the dialogue.
        key = self._key(context, event.get("user"))
        if key is not None and translate.is_direct_message(event):
            job = {"kind": "message", "team": key.workspace, "user": key.user_id, "body": body}
            await self._accept(_named("event", body.get("event_id")), job)
        elif key is not None and translate.is_file_share(event):
            # Only Slack's payload (the files' ids) is recorded: the files are fetched in
            # the work after the ack, and again on a replay.
            job = {"kind": "files", "team": key.workspace, "user": key.user_id, "body": body}
            await self._accept(_named("event", body.get("event_id")), job)
        await ack()

    async def _on_mention(
        self, ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        key = self._key(context, event.get("user"))
        if key is not None:
            job = {
                "kind": "mention",
                "team": key.workspace,
                "user": key.user_id,
                "body": body,
                "bot": context.bot_user_id,
            }
            await self._accept(_named("event", body.get("event_id")), job)
        await ack()

    async def _on_home_opened(
        self, ack: AsyncAck, event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        # Not recorded: App Home only shows the record, and the next visit shows it again.
        await ack()
        key = self._key(context, event.get("user"))
        if key is None or event.get("tab") != "home":
            return
        self._queues.submit(key, lambda: self.work.publish_home(key))

    async def _on_command(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        key = self._key(context, body.get("user_id"))
        if key is None:
            await ack()
            return
        trigger_id = str(body.get("trigger_id") or "")
        if not str(body.get("text") or "").strip():
            # `/cpd` alone: the entry form. Its trigger expires in 3 s, so it does not
            # queue behind this person's other work (and is not recorded: a replay after
            # a restart could not open the form any more; nothing was changed).
            await ack()
            self._queues.submit(None, lambda: self.work.open_modal(key, trigger_id))
            return
        job = {"kind": "command", "team": key.workspace, "user": key.user_id, "body": body}
        await self._accept(_named("command", trigger_id), job)
        await ack()

    async def _on_press(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
    ) -> None:
        key = self._key(context, (body.get("user") or {}).get("id"))
        if key is None:
            await ack()
            return
        container = body.get("container") or {}
        value = str(action.get("value") or "")
        opens_form = value == command_button("log")
        if container.get("type") == "view" and opens_form and body.get("trigger_id"):
            # App Home's "Log CPD" opens the form rather than starting a chat in the DM
            # (not recorded, like `/cpd` alone).
            await ack()
            trigger_id = str(body["trigger_id"])
            self._queues.submit(None, lambda: self.work.open_modal(key, trigger_id))
            return
        # Named by its trigger, unique to this press: a second press on the same message
        # is a new request, which the engine (not the inbox) recognises as a repeat, so a
        # press the engine failed on can be pressed again.
        job = {
            "kind": "press",
            "team": key.workspace,
            "user": key.user_id,
            "body": body,
            "action": action,
        }
        await self._accept(_named("action", body.get("trigger_id")), job)
        await ack()

    async def _on_submit(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        view: dict[str, Any],
        context: AsyncBoltContext,
    ) -> None:
        # Not recorded in the inbox: the ack must carry any field errors, so the engine step
        # runs first and commits the entry (with its dedupe key) before Slack hears of it.
        # A submission acked with errors changed nothing and its form stays open. What a
        # crash after the ack can lose is the confirmation and the Home refresh below, as
        # a crash between a committed step and its replies does for any other request.
        key = self._key(context, (body.get("user") or {}).get("id"))
        if key is None:
            await ack()
            return
        profile = await self.work.profiles.get(key)  # normally cached when the form was opened
        incoming = translate.form(view, key, profile, body.get("trigger_id"))
        try:
            replies, _ = await self.work.step(incoming)
        except Exception:
            log.exception("slack: the engine failed on a form")
            await ack(response_action="errors", errors=blocks.form_errors(view, {"": SORRY}))
            return
        errors = next((r.errors for r in replies if r.errors), None)
        if errors:
            await ack(response_action="errors", errors=blocks.form_errors(view, errors))
            return
        await ack()  # closes the modal
        if replies:
            self._queues.submit(key, lambda: self.work.submitted(key, replies, incoming))

    async def _on_secret_button(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
    ) -> None:
        # The secret's modal: like `/cpd` alone, its trigger expires in 3 s, so it does not
        # queue behind this person's other work, and nothing is recorded.
        await ack()
        key = self._key(context, (body.get("user") or {}).get("id"))
        trigger_id = str(body.get("trigger_id") or "")
        if key is None or not trigger_id:
            return
        field_id = str(action.get("action_id") or "").partition(":")[2]
        label = str(action.get("value") or "")
        title = str((action.get("text") or {}).get("text") or "Password")
        self._queues.submit(None, lambda: self.work.open_secret(trigger_id, field_id, label, title))

    async def _on_secret(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        # Acked first (the modal closes): checking a password may take the server it is for
        # longer than Slack's 3 s. Not recorded in the inbox, which would keep the password
        # in its payload: a crash before the step loses it, and the member is asked again.
        await ack()
        key = self._key(context, (body.get("user") or {}).get("id"))
        if key is None:
            return
        trigger = body.get("trigger_id")
        self._queues.submit(key, lambda: self.work.secret_submitted(key, view, trigger))


async def _ack_only(ack: AsyncAck) -> None:
    await ack()


def _named(prefix: str, delivery_id: object) -> str | None:
    """An inbox row's name: the delivery's own id (`event:Ev123`), if it has one."""
    return f"{prefix}:{delivery_id}" if delivery_id else None

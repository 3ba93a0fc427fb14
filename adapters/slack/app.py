"""The Slack app: bolt listeners that record and ack at once, then run the engine.

Every listener acknowledges before any slow work (the one exception is a modal submission,
whose ack must carry the field errors, so the engine runs first — a few milliseconds).
The work after the ack runs in asyncio tasks, one chain per person so their messages are
handled in the order they arrived; `idle()` waits for all of it (tests, shutdown).

Slack does not resend a request it got a 200 for, so a request whose work ends in the
engine (a DM, a mention, `/cpd <text>`, a button press) is first written to the inbox table
(`adapters/inbox.py`), then acked; finishing the work marks its row done, and `replay()` at
start runs the rows a crash left unfinished, oldest first. The engine's dedupe key makes a
replay safe. A modal submission needs no row: its engine step commits before the ack.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from dataclasses import replace
from datetime import date
from typing import Any, TypeVar

import aiohttp
import sqlalchemy
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.health import healthz
from adapters.inbox import Inbox
from adapters.slack import blocks, translate
from adapters.slack.sender import SlackSender, make_client
from adapters.slack.translate import Profile
from bot.core.model import IdentityKey, Incoming, Outgoing
from bot.core.zones import local_today, zone_of
from bot.services.engine import Engine

log = logging.getLogger("cpdbot.slack")

EVENTS_PATH = "/slack/events"
PROFILE_TTL = 600.0  # seconds a users.info answer (time zone, name) is reused
PROFILE_FAILED_TTL = 30.0  # ...and how long to go without one after users.info failed
PROFILES_MAX = 10_000  # beyond this, expired answers are dropped
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
# loop, in the next turn between two engine transactions (`Turns`); a write is well under
# a millisecond there, while in a thread of its own it lost ~20 ms to GIL hand-offs with the
# busy event loop (bench/slack.py, steady ack median 20 ms instead of 3 ms).
INBOX_THREADS = 1
SORRY = (
    "Sorry, something went wrong on my side and nothing was changed. Please try again in a moment."
)
ANSWERED_IN_DM = "I've answered in our direct messages, where your CPD record stays private."

Work = Callable[[], Awaitable[None]]
# What the inbox keeps of a request, enough to do its work again after a restart: "kind"
# (message, mention, command, press), "team" and "user" (who), "body" (Slack's payload as
# bolt parsed it), and for a press its "action", for a mention the bot's user id ("bot").
Job = dict[str, Any]
T = TypeVar("T")


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
        self.sender = SlackSender(self.client)
        self.app = AsyncApp(
            client=self.client,
            signing_secret=signing_secret,
            # Listeners return as soon as they have acked and started their work, so bolt
            # answers right then, with no polling for the ack.
            process_before_response=True,
            logger=logging.getLogger("cpdbot.slack.bolt"),
            name="cpdbot",
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(WORK_SLOTS)
        self._turns = Turns(engine.db.engine) if engine.db.is_sqlite else None
        self._engine_threads = ThreadPoolExecutor(
            ENGINE_THREADS,
            "cpdbot-slack-engine",
            initializer=self._turns.enlist if self._turns is not None else None,
        )
        self._inbox_threads = (
            None
            if self._turns is not None
            else ThreadPoolExecutor(INBOX_THREADS, "cpdbot-slack-inbox")
        )
        self.inbox = Inbox(engine.db, engine.clock, translate.PLATFORM, self._inbox_run)
        self._tails: dict[IdentityKey, asyncio.Task[None]] = {}
        self._profiles: dict[IdentityKey, tuple[float, Profile]] = {}
        self._register()

    def _register(self) -> None:
        app = self.app
        app.event("message")(self._on_message)
        app.event("app_mention")(self._on_mention)
        app.event("app_home_opened")(self._on_home_opened)
        app.command(re.compile(r"^/"))(self._on_command)
        app.action(blocks.CHOICE_ACTION_RE)(self._on_press)
        app.view(blocks.ENTRY_MODAL)(self._on_submit)
        # Anything else interactive (a button or form not made by this bot) is acked and
        # ignored, so Slack shows no error; bolt runs only the first matching listener.
        app.action(re.compile(r".*"))(_ack_only)
        app.view(re.compile(r".*"))(_ack_only)

    # ------------------------------------------------------------ running

    def web_app(self) -> web.Application:
        """The HTTP mode's aiohttp application: Slack's requests (Events API, interactivity,
        slash commands) at POST /slack/events, and GET /healthz for load balancers."""

        async def handle(request: web.Request) -> web.Response:
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
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    async def settled(self, key: IdentityKey) -> None:
        """Wait until the work started so far for this person is done."""
        while (task := self._tails.get(key)) is not None:
            await asyncio.wait([task])

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
            log.warning("slack: %d task(s) still running at shutdown", len(self._tasks))
            for task in list(self._tasks):
                task.cancel()
        await self.inbox.flush()
        await self.session.close()
        self._engine_threads.shutdown(wait=False)
        if self._inbox_threads is not None:
            self._inbox_threads.shutdown(wait=False)
        if self._turns is not None:
            self._turns.close()

    def _spawn(self, key: IdentityKey | None, work: Work) -> None:
        """Run `work` after the ack; with a key, after that person's earlier work (in order)
        and in one of the work slots. Without a key (opening a modal, whose trigger expires
        in 3 s) it starts at once."""
        previous = self._tails.get(key) if key is not None else None
        task = asyncio.create_task(
            self._run_after(previous, work, self._slots if key is not None else None)
        )
        self._tasks.add(task)
        if key is not None:
            self._tails[key] = task

        def done(finished: asyncio.Task[None]) -> None:
            self._tasks.discard(finished)
            if key is not None and self._tails.get(key) is finished:
                del self._tails[key]

        task.add_done_callback(done)

    @staticmethod
    async def _run_after(
        previous: asyncio.Task[None] | None, work: Work, slots: asyncio.Semaphore | None
    ) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        try:
            if slots is None:
                await work()
            else:
                async with slots:
                    await work()
        except Exception:
            log.exception("slack: work after the ack failed")

    # ------------------------------------------------------------ the inbox

    async def _accept(self, delivery: str | None, job: Job) -> None:
        """Record a request's work durably, then start it unless it was recorded before.

        Called before the ack: if the write fails, the listener raises and bolt answers
        500, so Slack retries an event, and a person sees that a command or press failed.
        `delivery` names this delivery (Slack's retries of an event share it); without one,
        the row gets a name of its own.
        """
        name = delivery or f"request:{uuid.uuid4().hex}"
        if await self.inbox.record([(name, json.dumps(job, ensure_ascii=False))]):
            self._start(name, job)

    def _start(self, name: str, job: Job) -> None:
        """Run a recorded request's work in its person's chain, then mark its row done."""
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

        self._spawn(key, then_finish)

    def _work(self, key: IdentityKey, job: Job) -> Work:
        body: dict[str, Any] = job["body"]
        kind = job["kind"]
        if kind == "message":
            return lambda: self._direct_message(key, body)
        if kind == "mention":
            return lambda: self._mention(key, body, job.get("bot"))
        if kind == "command":
            return lambda: self._command(key, body)
        if kind == "press":
            return lambda: self._press(key, body, job["action"])
        raise ValueError(f"unknown kind of work: {kind!r}")

    async def _inbox_run(self, func: Callable[..., T], *args: Any) -> T:
        """Run an inbox write (see INBOX_THREADS): SQLite on the loop in the next turn,
        PostgreSQL in the inbox thread."""
        if self._inbox_threads is not None:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._inbox_threads, func, *args)
        assert self._turns is not None
        async with self._turns.first():
            return func(*args)

    # ------------------------------------------------------------ helpers

    async def profile(self, key: IdentityKey) -> Profile:
        """The person's name and Slack time zone (users.info), reused for a few minutes."""
        now = time.monotonic()
        cached = self._profiles.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        ttl = PROFILE_TTL
        try:
            response = await self.client.users_info(user=key.user_id)
            profile = Profile.of(response.get("user") or {})
        except SlackApiError as exc:
            log.info("slack: users.info %s failed: %s", key.user_id, exc)
            profile, ttl = Profile(), PROFILE_FAILED_TTL
        if len(self._profiles) >= PROFILES_MAX:
            self._profiles = {k: v for k, v in self._profiles.items() if v[0] > now}
        self._profiles[key] = (now + ttl, profile)
        return profile

    async def _step(self, event: Incoming) -> tuple[list[Outgoing], bool]:
        """Run the engine (off the loop): the replies, and whether it was a repeat."""
        handled = await self._in_thread(self.engine.process, event)
        return list(handled.replies), handled.duplicate

    async def _in_thread(self, func: Callable[..., T], *args: Any) -> T:
        """Run engine work (database, parsing) on the engine threads, off the event loop
        (on SQLite, their transactions take turns with the inbox)."""
        return await asyncio.get_running_loop().run_in_executor(self._engine_threads, func, *args)

    async def _deliver(self, channel: str, replies: Sequence[Outgoing]) -> None:
        for reply in replies:
            await self.sender.post(channel, reply)

    async def _step_and_deliver(self, event: Incoming, channel: str) -> bool:
        """Handle an event whose replies go to the person's DM; True if it was a repeat
        (which has no replies)."""
        try:
            replies, duplicate = await self._step(event)
        except Exception:
            log.exception("slack: the engine failed on a %s event", event.kind)
            replies, duplicate = [Outgoing(SORRY)], False
        await self._deliver(channel, replies)
        return duplicate

    async def _respond(self, response_url: str, text: str) -> None:
        """An ephemeral note (only the person sees it) where they used the slash command."""
        webhook = AsyncWebhookClient(response_url, session=self.session, logger=log)
        await webhook.send(text=text, response_type="ephemeral", replace_original=False)

    def _today(self, zone: str | None) -> date:
        return local_today(self.engine.clock(), zone_of(zone or "UTC"))

    async def _open_modal(self, key: IdentityKey, trigger_id: str) -> None:
        profile = await self.profile(key)
        fields = await self._in_thread(self.engine.entry_form, key, profile.tz)
        view = blocks.entry_modal(fields, self._today(profile.tz))
        await self.client.views_open(trigger_id=trigger_id, view=view)

    async def _publish_home(self, key: IdentityKey) -> None:
        profile = await self.profile(key)
        replies = await self._in_thread(self.engine.home, key, profile.tz)
        await self.client.views_publish(user_id=key.user_id, view=blocks.home_view(replies))

    @staticmethod
    def _key(context: AsyncBoltContext, user_id: str | None) -> IdentityKey | None:
        team = context.team_id or context.enterprise_id
        if not team or not user_id:
            return None
        return translate.identity(team, user_id)

    # ------------------------------------------------------------ listeners
    # Each records its work in the inbox (`_accept`) before it acks; the work itself is a
    # method below, which `replay()` calls the same way after a restart.

    async def _on_message(
        self, ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        # Only a person's own messages in their DM with the bot: edits, bot posts, joins and
        # channel chatter (if message.channels is ever subscribed) are not for the dialogue.
        key = self._key(context, event.get("user"))
        if key is not None and translate.is_direct_message(event):
            job = {"kind": "message", "team": key.workspace, "user": key.user_id, "body": body}
            await self._accept(_named("event", body.get("event_id")), job)
        await ack()

    async def _direct_message(self, key: IdentityKey, body: Mapping[str, Any]) -> None:
        event = body["event"]
        channel = await self.sender.dm_channel(key, str(event["channel"]))
        profile = await self.profile(key)
        incoming = translate.direct_message(event, key, profile, body.get("event_id"))
        await self._step_and_deliver(incoming, channel)

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

    async def _mention(
        self, key: IdentityKey, body: Mapping[str, Any], bot_user_id: str | None
    ) -> None:
        event = body["event"]
        profile = await self.profile(key)
        incoming = translate.mention(event, key, profile, body.get("event_id"), bot_user_id)
        replies, _ = await self._step(incoming)
        # Not private: the dialogue only points to the DM. Shown to this person alone.
        for reply in replies:
            text, rendered = blocks.message(Outgoing(reply.text))
            await self.client.chat_postEphemeral(
                channel=str(event["channel"]),
                user=key.user_id,
                text=text,
                blocks=rendered,
                thread_ts=event.get("thread_ts"),
            )

    async def _on_home_opened(
        self, ack: AsyncAck, event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        # Not recorded: App Home only shows the record, and the next visit shows it again.
        await ack()
        key = self._key(context, event.get("user"))
        if key is None or event.get("tab") != "home":
            return
        self._spawn(key, lambda: self._publish_home(key))

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
            self._spawn(None, lambda: self._open_modal(key, trigger_id))
            return
        job = {"kind": "command", "team": key.workspace, "user": key.user_id, "body": body}
        await self._accept(_named("command", trigger_id), job)
        await ack()

    async def _command(self, key: IdentityKey, body: Mapping[str, Any]) -> None:
        incoming = translate.slash_command(body, key, await self.profile(key))
        if incoming is None:
            return
        dm = await self.sender.dm_channel(key)
        if await self._step_and_deliver(replace(incoming, chat_id=dm), dm):
            return  # done before a restart: so was the pointer below
        response_url = body.get("response_url")
        if body.get("channel_id") != dm and response_url:
            await self._respond(str(response_url), ANSWERED_IN_DM)

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
        if container.get("type") == "view" and value == "cmd:log" and body.get("trigger_id"):
            # App Home's "Log CPD" opens the form rather than starting a chat in the DM
            # (not recorded, like `/cpd` alone).
            await ack()
            trigger_id = str(body["trigger_id"])
            self._spawn(None, lambda: self._open_modal(key, trigger_id))
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

    async def _press(
        self, key: IdentityKey, body: Mapping[str, Any], action: Mapping[str, Any]
    ) -> None:
        container = body.get("container") or {}
        in_view = container.get("type") == "view"
        channel = container.get("channel_id") if container.get("type") == "message" else None
        dm = await self.sender.dm_channel(key, channel if _is_dm(channel) else None)
        dedupe = translate.press_key(body, key.workspace)
        value = str(action.get("value") or "")
        incoming = translate.choice(value, key, await self.profile(key), dedupe, dm)
        try:
            replies, duplicate = await self._step(incoming)
        except Exception:
            log.exception("slack: the engine failed on a button press")
            await self._deliver(dm, [Outgoing(SORRY)])
            return
        if duplicate:
            return  # this message's buttons were already pressed
        if container.get("type") == "message":
            await self._mark_pressed(body, action)
        await self._deliver(dm, replies)
        if in_view:
            await self._publish_home(key)

    async def _mark_pressed(self, body: Mapping[str, Any], action: Mapping[str, Any]) -> None:
        """Replace the message's buttons by the choice made, so they cannot be pressed again."""
        container = body.get("container") or {}
        message = body.get("message") or {}
        label = str((action.get("text") or {}).get("text") or action.get("value") or "")
        try:
            await self.client.chat_update(
                channel=str(container.get("channel_id")),
                ts=str(container.get("message_ts")),
                text=str(message.get("text") or label),
                blocks=blocks.pressed(message.get("blocks") or [], label),
            )
        except SlackApiError as exc:
            log.info("slack: chat.update after a press failed: %s", exc)

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
        profile = await self.profile(key)  # normally cached when the form was opened
        incoming = translate.form(view, key, profile, body.get("trigger_id"))
        try:
            replies, _ = await self._step(incoming)
        except Exception:
            log.exception("slack: the engine failed on a form")
            await ack(response_action="errors", errors=blocks.form_errors(view, {"": SORRY}))
            return
        errors = next((r.errors for r in replies if r.errors), None)
        if errors:
            await ack(response_action="errors", errors=blocks.form_errors(view, errors))
            return
        await ack()  # closes the modal

        async def work() -> None:
            await self._deliver(await self.sender.dm_channel(key), replies)
            await self._publish_home(key)

        if replies:
            self._spawn(key, work)


class Turns:
    """Turn-taking for SQLite's one writer between the engine threads and the inbox.

    SQLite lets one transaction write at a time (this project begins every transaction
    IMMEDIATE, so each engine transaction is a writer), and a writer that finds the lock
    taken polls, sleeping up to 100 ms between tries. Under load, inbox writes kept losing
    to the engine threads' back-to-back transactions, and acks waited for up to 1.7 s
    (bench/slack.py). So when an engine thread (`enlist`) takes a connection from the pool
    (which comes before its transaction begins), it first waits for its turn here, on a
    condition that wakes it as soon as the turn before ends; it gives the turn back when
    the connection returns to the pool, committed or rolled back. Work outside a
    transaction (laying out a PDF) holds no turn. The inbox write runs on the event loop,
    which must not block: it awaits the next turn (`first`), ahead of any engine thread
    waiting.
    """

    _HELD = "cpdbot.slack.turn"  # in a pooled connection's `info`: it holds the turn

    def __init__(self, engine: sqlalchemy.Engine) -> None:
        self._engine = engine
        self._changed = threading.Condition()
        self._holder: int | None = None  # the thread holding the turn
        self._depth = 0  # its connections (a second one in the same thread)
        self._first_waiting = False
        self._freed: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        self._enlisted = threading.local()
        self._listeners: list[tuple[str, Callable[..., None]]] = [
            ("checkout", self._on_checkout),
            ("checkin", self._on_checkin),
        ]
        for name, listener in self._listeners:
            sqlalchemy.event.listen(engine, name, listener)

    def close(self) -> None:
        for name, listener in self._listeners:
            sqlalchemy.event.remove(self._engine, name, listener)

    def enlist(self) -> None:
        """Make the calling thread's transactions take turns (a thread pool initializer)."""
        self._enlisted.yes = True

    @asynccontextmanager
    async def first(self) -> AsyncIterator[None]:
        """The next turn, for the event loop: awaited, never blocking the loop. One caller
        at a time (the inbox has one writer)."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                with self._changed:
                    self._first_waiting = True
                    if self._holder is None:
                        self._holder, self._depth = threading.get_ident(), 1
                        break
                    freed = asyncio.Event()
                    self._freed = (loop, freed)
                await freed.wait()
        finally:
            with self._changed:
                self._first_waiting, self._freed = False, None
        try:
            yield
        finally:
            self._give_back()

    def _on_checkout(self, _dbapi_connection: object, record: Any, _proxy: object) -> None:
        if not getattr(self._enlisted, "yes", False):
            return
        me = threading.get_ident()
        with self._changed:
            if self._holder == me:
                self._depth += 1
            else:
                self._changed.wait_for(lambda: self._holder is None and not self._first_waiting)
                self._holder, self._depth = me, 1
        record.info[self._HELD] = True

    def _on_checkin(self, _dbapi_connection: object, record: Any) -> None:
        if record is not None and record.info.pop(self._HELD, False):
            self._give_back()

    def _give_back(self) -> None:
        with self._changed:
            self._depth -= 1
            if self._depth > 0:
                return
            self._holder = None
            self._changed.notify_all()
            if self._freed is not None:
                loop, freed = self._freed
                with suppress(RuntimeError):  # the loop is closed: nobody waits any more
                    loop.call_soon_threadsafe(freed.set)


async def _ack_only(ack: AsyncAck) -> None:
    await ack()


def _is_dm(channel: object) -> bool:
    return isinstance(channel, str) and channel.startswith("D")


def _named(prefix: str, delivery_id: object) -> str | None:
    """An inbox row's name: the delivery's own id (`event:Ev123`), if it has one."""
    return f"{prefix}:{delivery_id}" if delivery_id else None

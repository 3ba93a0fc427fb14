"""Connecting calendar accounts: what the engine does after an event's transaction has
committed (`carry_out`), and the scheduler's job waiting for Outlook sign-ins
(`SigninPoller`).

The dialogue (bot/dialogue/flows/calendar_accounts.py) answers /calendar outlook and the
CalDAV password with an `AccountRequest`; these talk to servers, so they run after the
commit (the write lock is never held for a network call), in the engine's worker thread:

- outlook: a device-code sign-in is started with Microsoft (its own short-lived httpx
  client, a short timeout) and stored as a pending sign-in, its device code encrypted; the
  reply shows where to go, the code and until when. The scheduler then polls the token
  endpoint no faster than the interval Microsoft asked for (5 s more after `slow_down`),
  connects the calendar when the member has signed in (the refresh token and access token
  encrypted), and tells them once, through the outbox: signed in, declined or expired.
  Two schedulers never redeem one code: each poll is claimed first (compare-and-set on
  the row's next poll time).
- caldav: the password the event brought (a form's `password` field, or on Telegram the
  text typed) is checked by discovering the calendars. Refused: nothing is stored and the
  conversation asks for it again. One calendar: connected. Several: the member chooses;
  meanwhile the password and the calendars offered wait in a `calendar_signin` row of kind
  caldav, encrypted (never in the conversation), for at most `PICK_FOR`.
- caldav_pick: the chosen calendar is connected from that row, which is then deleted.

Neither passwords, tokens nor device codes are ever logged, kept in replies or in the
conversation; failures are logged by their type only.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from bot.core import notices
from bot.core.calendar_rules import FeedBusy, FeedError
from bot.core.model import Choice, Incoming, Outgoing
from bot.core.zones import local_now
from bot.dialogue import Conv
from bot.dialogue.flows import calendar_accounts as flow
from bot.services.calendar.graph_auth import (
    MicrosoftEndpoints,
    Pending,
    SignInEnded,
    Tokens,
    poll_device_code,
    start_device_code,
)
from storage import calendar_accounts as accounts
from storage import conversations, feeds, outbox, repo
from storage.db import Database
from storage.outbox import queued
from storage.secrets import NoSecretKey, SecretError

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("cpdbot.calendar_signin")


class Engine(Protocol):
    """What of the engine (bot.services.engine.Engine) the account steps use."""

    db: Database
    clock: Callable[[], datetime]
    allow_private_feeds: bool
    microsoft: MicrosoftEndpoints | None


START_TIMEOUT = 10.0  # seconds for Microsoft to start a sign-in while the member waits
POLL_TIMEOUT = 10.0
DISCOVER_TIMEOUT = 15.0
PICK_FOR = timedelta(minutes=15)  # how long CalDAV calendars offered wait for a choice
PICKS_SHOWN = 10
_T = TypeVar("_T")

FAILED = "I couldn't finish that just now (a problem on the bot's side); please try again."


def carry_out(engine: Engine, event: Incoming, replies: Sequence[Outgoing]) -> tuple[Outgoing, ...]:
    """Each reply asking for an account step, answered by doing it (after the commit)."""
    if not any(r.account is not None for r in replies):
        return tuple(replies)
    done = []
    for reply in replies:
        request = reply.account
        if request is None:
            done.append(reply)
            continue
        try:
            if request.kind == "outlook":
                made = _outlook(engine, event)
            elif request.kind == "caldav":
                made = _caldav(engine, event, request.url, request.account)
            else:
                made = _caldav_pick(engine, event, request.pick)
        except NoSecretKey:
            made = Outgoing(flow.NO_KEY)
        except Exception as exc:  # the type only: messages can quote what was sent
            log.error("calendar account step %s failed (%s)", request.kind, type(exc).__name__)
            made = Outgoing(FAILED)
        # The reply keeps what the adapter must do for the message it answers (scrub it).
        done.append(replace(made, scrub_incoming=reply.scrub_incoming or made.scrub_incoming))
    return tuple(done)


def _run(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine to the end from synchronous code: here if no event loop runs in
    this thread (the engine's worker threads), else in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _client(timeout: float) -> httpx.AsyncClient:
    from bot.services.calendar import new_client

    return new_client(timeout=timeout)


# ---------------------------------------------------------------- Outlook: the start


async def _start(ms: MicrosoftEndpoints, now: datetime) -> Any:
    async with _client(START_TIMEOUT) as client:
        return await start_device_code(client, ms, now, timeout=START_TIMEOUT)


def _outlook(engine: Engine, event: Incoming) -> Outgoing:
    ms = engine.microsoft
    if ms is None or not ms.client_id:
        return Outgoing(flow.NO_OUTLOOK)
    db = engine.db
    if not db.secrets.has_key:
        return Outgoing(flow.NO_KEY)
    now = engine.clock()
    try:
        code = _run(_start(ms, now))
    except FeedError as exc:
        return Outgoing(
            f"I couldn't start the Outlook sign-in: {exc} Nothing was stored; try "
            "/calendar outlook again in a while."
        )
    with db.transaction() as session:
        found = repo.find_person(session, event.identity)
        if found is None:
            return Outgoing(FAILED)
        person_id, view = found
        accounts.start_signin(
            session,
            db.secrets,
            person_id,
            device_code=code.device_code,
            user_code=code.user_code,
            verification_uri=code.verification_uri,
            interval=code.interval,
            expires_at=code.expires_at,
            now=now,
        )
    until = local_now(code.expires_at, view.timezone)
    return Outgoing(
        f"To connect your Outlook calendar, open {code.verification_uri} on any device, "
        f"enter the code {code.user_code} and sign in with your work account (the code "
        f"works until {until:%H:%M}). I'll tell you when you're signed in. I only ask to "
        "read your calendars."
    )


# ---------------------------------------------------------------- CalDAV


def _password(event: Incoming) -> str:
    """The password the event brought: a form's field, or (Telegram) the text typed."""
    if flow.PASSWORD_FIELD in event.form:
        return event.form[flow.PASSWORD_FIELD]
    return event.text.strip("\r\n")


def _caldav(engine: Engine, event: Incoming, url: str, user: str) -> Outgoing:
    from bot.services.calendar.caldav_source import REFUSED, discover

    db = engine.db
    if not db.secrets.has_key:
        return Outgoing(flow.NO_KEY)
    password = _password(event)
    try:
        found = discover(
            url, user, password, allow_private=engine.allow_private_feeds, timeout=DISCOVER_TIMEOUT
        )
    except FeedError as exc:
        if str(exc) != REFUSED:
            return Outgoing(f"I couldn't connect that calendar: {exc} Nothing was stored.")
        asked = _ask_again(engine, event, url, user)
        host = flow.host_of(url)
        icloud = host == "icloud.com" or host.endswith(".icloud.com")
        said = str(exc) if icloud else "The server refused that user name and password."
        text = f"{said} Nothing was stored."
        return replace(asked, text=f"{text}\n{asked.text}") if asked else Outgoing(text)
    if not found:
        return Outgoing(
            f"I found no calendar with events for {user} at {flow.host_of(url)}. Nothing was "
            "stored."
        )
    now = engine.clock()
    with db.transaction() as session:
        found_person = repo.find_person(session, event.identity)
        if found_person is None:
            return Outgoing(FAILED)
        person_id = found_person[0]
        if len(found) == 1:
            only = (found[0].url, found[0].name)
            return _connect(session, db, person_id, only, user, password, now)
        offered = sorted(found, key=lambda c: (c.name.casefold(), c.url))[:PICKS_SHOWN]
        kept = {
            "password": password,
            "user": user,
            "calendars": [[c.url, c.name] for c in offered],
        }
        accounts.start_signin(
            session,
            db.secrets,
            person_id,
            device_code=json.dumps(kept),
            user_code="",
            verification_uri=url[:300],
            interval=int(PICK_FOR.total_seconds()),
            expires_at=now + PICK_FOR,
            now=now,
            kind="caldav",
        )
    choices = tuple(
        Choice(flow.CALDAV_PICK.make(i), (c.name or f"Calendar {i}")[:60])
        for i, c in enumerate(offered, 1)
    )
    return Outgoing(
        f"The password works. Which of {user}'s calendars at {flow.host_of(url)} shall I follow?",
        choices,
    )


def _ask_again(engine: Engine, event: Incoming, url: str, user: str) -> Outgoing | None:
    """Put the conversation back at the password step (unless it moved on meanwhile);
    the question, or None."""
    now = engine.clock()
    with engine.db.transaction() as session:
        who = conversations.who(session, event.identity, now=now)
        row = conversations.load_conversation(session, who.identity_id, now=now)
        conv = Conv.load(row.state, row.data)
        if str(conv.state) != "idle":
            return None
        asking = flow.ask_password(conv, url, user)
        data = asking.dump()
        data["last_seen"] = now.isoformat()
        conversations.save_conversation(session, row, state=str(asking.state), data=data, now=now)
    return replace(flow.password_prompt(asking, _NO_CONTEXT, again=True), scrub_incoming=False)


_NO_CONTEXT: Any = None  # password_prompt reads the conversation only


def _connect(
    session: Any,
    db: Database,
    person_id: int,
    calendar: tuple[str, str],
    user: str,
    password: str,
    now: datetime,
) -> Outgoing:
    """Connect one CalDAV calendar (url, name): its password encrypted."""
    url, name = calendar
    known = feeds.feed_views(session, person_id)
    same = next((f for f in known if f.kind == "caldav" and f.url == url), None)
    if same is not None:
        return Outgoing(f"That calendar is already connected (number {same.number}).")
    accounts.add_account_feed(
        session,
        db.secrets,
        person_id,
        kind="caldav",
        url=url,
        account=user,
        secret=password,
        now=now,
    )
    return Outgoing(
        f"Connected calendar {len(known) + 1}: '{name}' (CalDAV, {user} at "
        f"{flow.host_of(url)}). I'll check it every few minutes and, soon after a training "
        "event ends, ask whether to log it. /calendar list shows your calendars."
    )


def _caldav_pick(engine: Engine, event: Incoming, pick: int) -> Outgoing:
    """The calendar pressed among those offered: connected, the offer deleted."""
    db, now = engine.db, engine.clock()
    gone = Outgoing(
        "That choice is no longer open (it waits 15 minutes). /calendar caldav <server "
        "address> <user name> to start again."
    )
    with db.transaction() as session:
        found = repo.find_person(session, event.identity)
        waiting = accounts.signin_of(session, found[0], "caldav") if found else None
        if found is None or waiting is None:
            return gone
        if waiting.expires_at <= now:
            accounts.end_signin(session, waiting.id)
            return gone
        try:
            kept = json.loads(accounts.read_secret(db.secrets, waiting.device_code))
        except SecretError:
            accounts.end_signin(session, waiting.id)
            return gone
        calendars = kept.get("calendars") or []
        if not 1 <= pick <= len(calendars):
            return gone
        accounts.end_signin(session, waiting.id)
        url, name = calendars[pick - 1]
        return _connect(
            session, db, found[0], (str(url), str(name)), kept["user"], kept["password"], now
        )


# ---------------------------------------------------------------- Outlook: waiting


@dataclass(frozen=True)
class _Wait:
    """Microsoft was busy or out of reach: poll again after `seconds`."""

    seconds: int


class SigninPoller:
    """The scheduler's job: poll the Outlook sign-ins that are due, connect the calendar of
    each member who signed in, and tell each member once how their sign-in ended."""

    def __init__(
        self,
        db: Database,
        *,
        microsoft: MicrosoftEndpoints | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.db = db
        self.microsoft = microsoft
        self.http = http

    async def poll_signins(self, now: datetime) -> int:
        """Poll each sign-in that is due once; returns how many messages were enqueued."""
        claimed, enqueued = await asyncio.to_thread(self._claim, now)
        if not claimed or self.microsoft is None:
            return enqueued
        ms = self.microsoft
        own = self.http is None
        client = self.http or _client(POLL_TIMEOUT)
        try:
            answers = await asyncio.gather(
                *(self._poll(client, ms, signin, code, now) for signin, code in claimed)
            )
        finally:
            if own:
                await client.aclose()
        for (signin, _), answer in zip(claimed, answers, strict=True):
            try:
                enqueued += await asyncio.to_thread(self._record, ms, signin, answer, now)
            except Exception as exc:
                log.error("recording sign-in %s failed (%s)", signin.id, type(exc).__name__)
        return enqueued

    def _claim(self, now: datetime) -> tuple[list[tuple[accounts.PendingSignin, str]], int]:
        """The sign-ins to poll now, each claimed (with its device code); those expired
        are ended and their owners told."""
        claimed: list[tuple[accounts.PendingSignin, str]] = []
        enqueued = 0
        with self.db.transaction() as session:
            for signin in accounts.due_signins(session, now):
                if signin.kind != "graph":  # a CalDAV choice never made: its password goes
                    if signin.expires_at <= now:
                        accounts.end_signin(session, signin.id)
                    continue
                if signin.expires_at <= now:
                    enqueued += _ended(session, signin, "expired", now)
                    continue
                if self.microsoft is None:
                    continue  # Outlook switched off meanwhile: it expires
                try:
                    code = accounts.read_secret(self.db.secrets, signin.device_code)
                except SecretError:
                    enqueued += _ended(session, signin, "failed", now)
                    continue
                at = now + timedelta(seconds=signin.interval)
                if accounts.set_next_poll(session, signin.id, at=at, was=signin.next_poll_at):
                    claimed.append((signin, code))
        return claimed, enqueued

    async def _poll(
        self,
        client: httpx.AsyncClient,
        ms: MicrosoftEndpoints,
        signin: accounts.PendingSignin,
        code: str,
        now: datetime,
    ) -> Tokens | Pending | SignInEnded | _Wait:
        try:
            return await poll_device_code(
                client, ms, code, signin.interval, now, timeout=POLL_TIMEOUT
            )
        except FeedBusy as busy:  # keep waiting, as long as Microsoft asks
            wait = max(signin.interval, int(busy.retry_after or 0))
            return _Wait(wait)
        except FeedError:
            return SignInEnded("failed")
        except Exception as exc:
            log.error("polling sign-in %s failed (%s)", signin.id, type(exc).__name__)
            return _Wait(signin.interval)

    def _record(
        self,
        ms: MicrosoftEndpoints,
        signin: accounts.PendingSignin,
        answer: Tokens | Pending | SignInEnded | _Wait,
        now: datetime,
    ) -> int:
        with self.db.transaction() as session:
            if isinstance(answer, _Wait):  # busy: later, the interval unchanged
                at = now + timedelta(seconds=answer.seconds)
                accounts.set_next_poll(session, signin.id, at=at)
                return 0
            if isinstance(answer, Pending):  # after slow_down, a longer interval from now on
                at = now + timedelta(seconds=answer.interval)
                accounts.set_next_poll(session, signin.id, at=at, interval=answer.interval)
                return 0
            if isinstance(answer, SignInEnded):
                return _ended(session, signin, answer.reason, now)
            if not accounts.end_signin(session, signin.id):
                return 0  # cancelled (/calendar remove, /forget) while Microsoft answered
            feed = accounts.add_account_feed(
                session,
                self.db.secrets,
                signin.person_id,
                kind="graph",
                url=ms.graph_url,
                account=answer.account,
                secret=answer.refresh_token,
                now=now,
            )
            accounts.set_tokens(
                session,
                self.db.secrets,
                int(feed.id or 0),
                refresh=None,
                access=answer.access_token,
                access_expires_at=answer.expires_at,
            )
            key = _signin_key(signin)
            return _tell(
                session,
                signin.person_id,
                notices.signed_in(signin_key=key, account=answer.account, now=now),
                now,
            )


def _signin_key(signin: accounts.PendingSignin) -> str:
    """Unique per sign-in (a row id alone may be used again after a delete)."""
    return f"{signin.id}:{int(signin.expires_at.timestamp())}"


def _ended(session: Any, signin: accounts.PendingSignin, reason: str, now: datetime) -> int:
    """End the sign-in and tell its owner why (once: only the worker that ends it does)."""
    if not accounts.end_signin(session, signin.id):
        return 0
    msg = notices.signin_ended(signin_key=_signin_key(signin), reason=reason, now=now)
    return _tell(session, signin.person_id, msg, now)


def _tell(session: Any, person_id: int, msg: Any, now: datetime) -> int:
    identity = outbox.preferred_identities(session, [person_id]).get(person_id)
    if identity is None:
        return 0
    return outbox.enqueue(session, [queued(person_id, identity, msg)], now=now)

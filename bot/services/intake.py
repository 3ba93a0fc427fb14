"""Durable intake for the adapters: the inbox table, written in as few transactions as possible.

Shared by the Telegram, Slack and Teams adapters (one `Inbox` per platform; queries in
`storage.inbox`). `record` is awaited (an update must be durable before the platform hears
it arrived); `finish` is not (losing it in a crash only means the update is replayed, and
the engine's dedupe key turns the replay into a no-op). Whatever is waiting when the writer
gets to run goes in one transaction, so under load many incoming requests share one commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.core.model import ConversationRef, IdentityKey
from storage import conversations, references
from storage import inbox as store
from storage.db import Database

log = logging.getLogger("cpdbot.inbox")

Run = Callable[..., Awaitable[Any]]  # runs a blocking function where database work belongs

# Handled rows (their key only: the payload goes when the update is handled) are kept this
# long, so a late repeat is still recognised (Telegram re-sends an unconfirmed update for
# up to 24 h; Slack retries an event for about 5 minutes).
KEEP_DONE = timedelta(days=2)
PRUNE_EVERY = 1000  # handled updates between two prunes ...
PRUNE_AFTER = timedelta(hours=1)  # ... or this long, whichever comes first

# What `/export all` says the inbox holds (it is not linked to a person, so not in data.json).
HELD_NOTE = (
    "Each message or button press you send is kept whole (text, names, ids) until it is "
    "handled, usually within a second; then its text goes and only its update id, who sent "
    f"it and when stay, for {KEEP_DONE.days} days, so a repeat is recognised. They are "
    "listed under 'inboxupdate' in tables; /forget erases them with everything else."
)


class Inbox:
    """One platform's rows: `record` before acknowledging, `finish` once handled, `replay` at start.

    `run` runs a blocking function where database work belongs (inline on the event loop, a
    thread pool...); it is given `_write` and `_replay`.
    """

    def __init__(
        self, db: Database, clock: Callable[[], datetime], platform: str, run: Run
    ) -> None:
        self.db = db
        self.clock = clock
        self.platform = platform
        self._run = run
        self._records: list[tuple[Sequence[tuple[str, str]], asyncio.Future[list[str]]]] = []
        self._senders: dict[str, IdentityKey] = {}
        self._done: list[str] = []
        self._delivered: list[str] = []
        self._references: dict[IdentityKey, ConversationRef] = {}
        self._finished = 0
        self._pruned_at: datetime | None = None
        self._writer: asyncio.Task[None] | None = None

    async def record(
        self,
        items: Sequence[tuple[str, str]],
        senders: Mapping[str, IdentityKey] | None = None,
    ) -> list[str]:
        """Store (update id, JSON) pairs durably; returns the ids not seen before.

        `senders`: who sent each update (where the adapter can tell), so that /export all
        shows it and /forget erases it."""
        future: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
        self._senders.update(senders or {})
        self._records.append((items, future))
        self._kick()
        return await future

    def finish(
        self,
        key: str | None,
        delivered: str | None = None,
        reference: tuple[IdentityKey, ConversationRef] | None = None,
    ) -> None:
        """Mark an update handled (written with the next batch; None: no inbox row, only
        what follows). `delivered`: the dedupe key of an event whose replies were sent, so
        the engine stops keeping them for a replay in the same write (issue 12, item 7).
        `reference` (Teams): an identity's conversation reference, read and compared in
        that write and stored if it changed, the identity made reachable if it was not
        (`storage.references.remember_all`); it must fit (`services.references.fits`)."""
        if key is not None:
            self._done.append(key)
        if delivered:
            self._delivered.append(delivered)
        if reference is not None:
            self._references[reference[0]] = reference[1]  # the newest for each person
        self._kick()

    async def flush(self) -> None:
        """Wait until everything queued so far is written."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def replay(self) -> list[tuple[str, str]]:
        """Prune old handled updates; return the unfinished ones, oldest first."""
        result: list[tuple[str, str]] = await self._run(self._replay)
        return result

    def _kick(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name=f"{self.platform}-inbox")

    async def _write_all(self) -> None:
        while self._records or self._done or self._delivered or self._references:
            records, self._records = self._records, []
            senders, self._senders = self._senders, {}
            done, self._done = self._done, []
            delivered, self._delivered = self._delivered, []
            refs, self._references = self._references, {}
            items = [item for batch, _ in records for item in batch]
            try:
                fresh = set(await self._run(self._write, items, done, senders, delivered, refs))
            except Exception as exc:
                log.exception("%s inbox: writing %d update(s) failed", self.platform, len(items))
                for _, future in records:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for batch, future in records:
                mine = list(dict.fromkeys(k for k, _ in batch if k in fresh))
                fresh.difference_update(mine)  # the same update in two requests: one wins
                if not future.done():
                    future.set_result(mine)

    def _write(
        self,
        items: list[tuple[str, str]],
        done: list[str],
        senders: Mapping[str, IdentityKey] | None = None,
        delivered: Sequence[str] = (),
        refs: Mapping[IdentityKey, ConversationRef] | None = None,
    ) -> list[str]:
        now = self.clock()
        with self.db.transaction() as session:
            fresh = (
                store.record(session, self.platform, items, now=now, senders=senders)
                if items
                else []
            )
            store.finish(session, self.platform, done, now=now)
            conversations.confirm_delivered(session, self.platform, *delivered)
            if refs and references.remember_all(session, refs, now=now) is None:
                log.warning("%s inbox: a conversation reference was not stored", self.platform)
            before = self._finished // PRUNE_EVERY
            self._finished += len(done)
            due = self._pruned_at is None or now - self._pruned_at >= PRUNE_AFTER
            if done and (due or self._finished // PRUNE_EVERY != before):
                store.prune(session, self.platform, done_before=now - KEEP_DONE)
                self._pruned_at = now
        return fresh

    def _replay(self) -> list[tuple[str, str]]:
        now = self.clock()
        with self.db.transaction() as session:
            store.prune(session, self.platform, done_before=now - KEEP_DONE)
            store.drop_handled_payloads(session, self.platform)
            self._pruned_at = now
            return store.unfinished(session, self.platform)

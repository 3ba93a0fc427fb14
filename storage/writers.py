"""SQLite's one writer, shared fairly: engine threads and the inbox writer take turns.

Used through `bot.services.db_work` by the adapters (today the Slack adapter, whose engine
steps run on threads while its inbox writes run on the event loop).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import sqlalchemy


class WriterTurns:
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

    _HELD = "cpdbot.writer_turn"  # in a pooled connection's `info`: it holds the turn

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

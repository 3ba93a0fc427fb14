"""Where an adapter's blocking database work runs: on the event loop, in threads, by turns.

SQLite is in-process and takes one writer at a time; PostgreSQL is a network round trip
that threads can overlap. Each adapter picks the arrangement its benchmark favours:

- `LoopOrThreads` (Telegram): SQLite work runs on the event loop itself, one turn at a time
  (in a thread it only added GIL hand-offs, which halved throughput in bench/telegram.py);
  PostgreSQL work runs in a thread pool.
- `EngineAndInbox` (Slack): engine steps run on a few threads of their own, so the loop
  stays free to ack; inbox writes go on SQLite between two engine transactions, on the loop
  (`storage.writers.WriterTurns`), and on PostgreSQL in a thread of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from storage.db import Database
from storage.writers import WriterTurns

T = TypeVar("T")


class LoopOrThreads:
    """Blocking database work: inline on the event loop on SQLite, else in a thread pool."""

    def __init__(self, db: Database, threads: int, name: str) -> None:
        self._executor = (
            None if db.is_sqlite else ThreadPoolExecutor(threads, thread_name_prefix=name)
        )

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        """Run `func(*args)` where database work belongs, and return its result."""
        if self._executor is None:
            return func(*args)
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

    def close(self, *, wait: bool) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=wait)


class EngineAndInbox:
    """Engine work on `engine_threads` threads; inbox writes on a lane of their own.

    On SQLite the engine threads' transactions and the inbox writes take turns for the one
    writer (`WriterTurns`): an inbox write waiting goes first, and runs on the event loop
    (well under a millisecond there, while in a thread of its own it lost ~20 ms to GIL
    hand-offs with the busy loop). On PostgreSQL inbox writes get `inbox_threads` threads,
    never queued behind engine steps.
    """

    def __init__(self, db: Database, *, engine_threads: int, inbox_threads: int, name: str) -> None:
        self._turns = WriterTurns(db.engine) if db.is_sqlite else None
        self._engine_threads = ThreadPoolExecutor(
            engine_threads,
            f"{name}-engine",
            initializer=self._turns.enlist if self._turns is not None else None,
        )
        self._inbox_threads = (
            None if self._turns is not None else ThreadPoolExecutor(inbox_threads, f"{name}-inbox")
        )

    async def engine(self, func: Callable[..., T], *args: Any) -> T:
        """Run engine work (database, parsing) on the engine threads, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._engine_threads, func, *args)

    async def inbox(self, func: Callable[..., T], *args: Any) -> T:
        """Run an inbox write: SQLite on the loop in the next turn, PostgreSQL in its thread."""
        if self._inbox_threads is not None:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._inbox_threads, func, *args)
        assert self._turns is not None
        async with self._turns.first():
            return func(*args)

    def close(self) -> None:
        """Stop the threads (without waiting for them) and the turn-taking."""
        self._engine_threads.shutdown(wait=False)
        if self._inbox_threads is not None:
            self._inbox_threads.shutdown(wait=False)
        if self._turns is not None:
            self._turns.close()

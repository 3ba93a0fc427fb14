"""The adapters' per-person runtime: one person's work in arrival order, people concurrently.

Telegram queues each chat's updates here, Slack each person's requests after the ack.
A queue lives only while it has work: one task per busy person, none for idle ones.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable

Work = Callable[[], Awaitable[None]]


class PersonQueues:
    """`submit(key, work)` runs `work()` after every earlier work with the same key.

    `slots`: at most this many pieces of work run at once (the rest wait their turn without
    using the event loop). Work submitted without a key starts at once, outside the slots
    (e.g. opening a Slack modal, whose trigger expires in 3 s). A failure is logged on `log`
    and the queue goes on.
    """

    def __init__(
        self, log: logging.Logger, *, slots: int | None = None, name: str = "person"
    ) -> None:
        self._log = log
        self._name = name
        self._slots = asyncio.Semaphore(slots) if slots is not None else None
        self._queues: dict[Hashable, deque[Work]] = {}
        self._drains: dict[Hashable, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, key: Hashable | None, work: Work) -> None:
        if key is None:
            self._track(asyncio.create_task(self._run(None, work)))
            return
        queue = self._queues.get(key)
        if queue is not None:
            queue.append(work)
            return
        self._queues[key] = deque([work])
        task = asyncio.create_task(self._drain(key), name=f"{self._name}-{key}")
        self._drains[key] = task
        self._track(task)

    @property
    def pending(self) -> int:
        """Work submitted and not started yet."""
        return sum(len(q) for q in self._queues.values())

    @property
    def running(self) -> int:
        """Tasks still at work (one per busy person, one per keyless work)."""
        return len(self._tasks)

    async def join(self) -> None:
        """Wait until all work submitted so far (and what it submitted) is done."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    async def settled(self, key: Hashable) -> None:
        """Wait until the work submitted so far for this person is done."""
        while (task := self._drains.get(key)) is not None:
            await asyncio.wait([task])

    async def close(self) -> None:
        """Stop at once: work not done yet is dropped (the inbox replays it)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _track(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self, key: Hashable) -> None:
        queue = self._queues[key]
        try:
            while queue:
                await self._run(key, queue.popleft())
        finally:
            del self._queues[key]
            del self._drains[key]

    async def _run(self, key: Hashable | None, work: Work) -> None:
        try:
            if self._slots is None or key is None:
                await work()
            else:
                async with self._slots:
                    await work()
        except Exception:
            self._log.exception("work for %s failed", key)

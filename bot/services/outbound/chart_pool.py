"""Where progress charts are drawn at send time: worker processes, or a thread of this one."""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date

from bot.core.record import Record

_CHART_LOCK = threading.Lock()


class ChartPool:
    """Draws charts in `processes` worker processes (0: in a thread of this one)."""

    def __init__(self, processes: int = 0) -> None:
        self.processes = processes
        self.pool: ProcessPoolExecutor | None = None

    def close(self) -> None:
        """Stop the chart processes, if any were started."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    async def draw(self, record: Record, target: int | None, today: date) -> bytes:
        """Draw a chart: in the chart processes if there are any, else in a thread here.

        A chart is 0.1-0.2 s of CPU under the GIL: drawn in this process, a wave of
        monthly nudges slows the bot's replies and is drawn one chart at a time.
        """
        from bot.services.chart import progress_png

        draw = functools.partial(progress_png, record, target, today=today)
        if self.processes <= 0:
            return await asyncio.to_thread(_draw_here, draw)
        if self.pool is None:
            # Workers start from a clean process (forkserver; spawn where there is none),
            # not from a fork of this threaded one.
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context(
                "forkserver" if "forkserver" in methods else "spawn"
            )
            self.pool = ProcessPoolExecutor(self.processes, mp_context=context)
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, draw)
        except BrokenProcessPool:
            self.pool = None  # a worker died: start afresh for the next chart
            raise


def _draw_here(draw: Callable[[], bytes]) -> bytes:
    with _CHART_LOCK:  # matplotlib is not thread-safe; it holds the GIL anyway
        return draw()

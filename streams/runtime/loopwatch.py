"""How long the worker's event loop was held: a task that asks to wake every
``INTERVAL_S`` and measures how late it woke.

Lateness is time during which no other coroutine could run either (a table scan, a
large decode, a garbage collection, a synchronous call): every consumer, producer and
timer of the worker waited that long. The longest is on ``/metrics`` as
``wastream_event_loop_longest_block_seconds`` (since start), each lateness as the
histogram ``wastream_event_loop_block_seconds``, and a block over ``WARN_S`` (the
budget issue 17 sets, 50 ms) that is the longest so far is logged at WARNING.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import Gauge, Histogram

log = logging.getLogger(__name__)

INTERVAL_S = 0.05
WARN_S = 0.05

LONGEST = Gauge("wastream_event_loop_longest_block_seconds",
                "the longest the event loop was held (late wake-up) since the worker started")
BLOCKS = Histogram("wastream_event_loop_block_seconds",
                   "how late the loop watch woke, per wake-up",
                   buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0))


class LoopWatch:
    """The longest block seen so far (``longest_s``), measured by :meth:`run`."""

    def __init__(self, interval_s: float = INTERVAL_S, warn_s: float = WARN_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s, self.warn_s, self.clock = interval_s, warn_s, clock
        self.longest_s = 0.0

    def observe(self, late_s: float) -> None:
        """Record one wake-up ``late_s`` seconds after it was due."""
        late_s = max(0.0, late_s)
        BLOCKS.observe(late_s)
        if late_s > self.longest_s:
            self.longest_s = late_s
            LONGEST.set(late_s)
            if late_s > self.warn_s:
                log.warning("event loop blocked", extra={"blocked_ms": round(late_s * 1000, 1)})

    async def run(self) -> None:
        while True:
            t0 = self.clock()
            await asyncio.sleep(self.interval_s)
            self.observe(self.clock() - t0 - self.interval_s)


def install(rt: Any) -> LoopWatch:
    """``streams.worker`` hook: the watch as a task of the Faust app."""
    watch = LoopWatch()

    @rt.app.task  # type: ignore[untyped-decorator]
    async def event_loop_watch() -> None:
        await watch.run()

    return watch

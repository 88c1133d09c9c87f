"""How long the worker's event loop was held: a task that asks to wake every
``INTERVAL_S`` and measures how late it woke.

Lateness is time during which no other coroutine could run either (a table scan, a
large decode, a garbage collection, a synchronous call): every consumer, producer and
timer of the worker waited that long. The longest is on ``/metrics`` as
``wastream_event_loop_longest_block_seconds`` (since start), each lateness as the
histogram ``wastream_event_loop_block_seconds``, and a block over ``WARN_S`` (the
budget issue 17 sets, 50 ms) that is the longest so far is logged at WARNING.

On a loaded machine a wake-up is also late when the process was not scheduled at all.
So each lateness is set beside the CPU time the loop's thread used meanwhile
(``time.thread_time``): the smaller of the two is the part the worker's own code held
the loop, its longest ``wastream_event_loop_longest_busy_block_seconds``.
"""

from __future__ import annotations

import asyncio
import gc
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
LONGEST_BUSY = Gauge("wastream_event_loop_longest_busy_block_seconds",
                     "the longest block during which the loop's thread was running "
                     "(the smaller of the lateness and its CPU time meanwhile)")
GC_LONGEST = Gauge("wastream_gc_longest_pause_seconds",
                   "the longest garbage collection since the worker started, per generation "
                   "(a collection holds the event loop and every thread)", ["generation"])
GC_PAUSES = Histogram("wastream_gc_pause_seconds", "garbage collections, per generation",
                      ["generation"],
                      buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0))
BLOCKS = Histogram("wastream_event_loop_block_seconds",
                   "how late the loop watch woke, per wake-up",
                   buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0))


class LoopWatch:
    """The longest block seen so far (``longest_s``) and the longest the loop's thread
    was busy for (``longest_busy_s``), measured by :meth:`run`."""

    def __init__(self, interval_s: float = INTERVAL_S, warn_s: float = WARN_S,
                 clock: Callable[[], float] = time.monotonic,
                 cpu_clock: Callable[[], float] = time.thread_time,
                 gc_watch: GcWatch | None = None) -> None:
        self.interval_s, self.warn_s = interval_s, warn_s
        self.gc_watch = gc_watch
        self.clock, self.cpu_clock = clock, cpu_clock
        self.longest_s = self.longest_busy_s = 0.0

    def observe(self, late_s: float, cpu_s: float) -> None:
        """Record one wake-up ``late_s`` seconds after it was due, the loop's thread
        having used ``cpu_s`` of CPU since it went to sleep."""
        late_s = max(0.0, late_s)
        busy_s = min(late_s, max(0.0, cpu_s))
        BLOCKS.observe(late_s)
        if busy_s > self.longest_busy_s:
            self.longest_busy_s = busy_s
            LONGEST_BUSY.set(busy_s)
        if late_s > self.longest_s:
            self.longest_s = late_s
            LONGEST.set(late_s)
            if late_s > self.warn_s:
                log.warning("event loop blocked", extra={
                    "blocked_ms": round(late_s * 1000, 1), "busy_ms": round(busy_s * 1000, 1)})

    async def run(self) -> None:
        while True:
            t0, cpu0 = self.clock(), self.cpu_clock()
            await asyncio.sleep(self.interval_s)
            self.observe(self.clock() - t0 - self.interval_s, self.cpu_clock() - cpu0)
            if self.gc_watch is not None:
                self.gc_watch.drain()


class GcWatch:
    """How long each garbage collection took (``gc.callbacks``), per generation: a
    collection is one of the things that hold the loop, and the only one a stack
    sample cannot name (it holds the GIL throughout). The longest so far per
    generation is on ``/metrics``; those over ``warn_s`` are logged at WARNING: a new
    longest at once, the others at most once a minute (dozens a minute in a
    1,000,000-conversation burst), with how many there were."""

    def __init__(self, warn_s: float = WARN_S,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.warn_s, self.clock = warn_s, clock
        self.longest_s: dict[int, float] = {}
        self._t0: float | None = None
        # (generation, pause, collected, a new longest), logged by drain(), not in here
        self._pending: list[tuple[int, float, int, bool]] = []
        self._logged_at = float("-inf")
        self.log_every_s = 60.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._t0 = self.clock()
            return
        if self._t0 is None:
            return
        took, self._t0 = self.clock() - self._t0, None
        gen = info.get("generation", -1)
        GC_PAUSES.labels(str(gen)).observe(took)
        longest = took > self.longest_s.get(gen, 0.0)
        if longest:
            self.longest_s[gen] = took
            GC_LONGEST.labels(str(gen)).set(took)
        if took > self.warn_s:
            self._pending.append((gen, took, info.get("collected", 0), longest))

    def drain(self, now: float | None = None) -> None:
        """Log the long collections noted since the last line (a callback of the
        collector is no place to log from: it may run inside a log call): at once for
        a new longest, else at most one line a minute, with how many and the longest."""
        if not self._pending:
            return
        now = time.monotonic() if now is None else now
        longest = max(self._pending, key=lambda p: p[1])
        if not longest[3] and now - self._logged_at < self.log_every_s:
            return
        pending, self._pending, self._logged_at = self._pending, [], now
        gen, took, collected, _ = longest
        log.warning("garbage collection held the event loop", extra={
            "generation": gen, "pause_ms": round(took * 1000, 1), "collected": collected,
            "collections_over_budget": len(pending)})

    def install(self) -> None:
        if self not in gc.callbacks:
            gc.callbacks.append(self)


def install(rt: Any) -> LoopWatch:
    """``streams.worker`` hook: the watch as a task of the Faust app, and the garbage
    collector's pauses measured."""
    gc_watch = GcWatch()
    gc_watch.install()
    watch = LoopWatch(gc_watch=gc_watch)

    @rt.app.task  # type: ignore[untyped-decorator]
    async def event_loop_watch() -> None:
        await watch.run()

    return watch

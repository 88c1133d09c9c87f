"""The event loop's watch: a late wake-up is recorded as a block, the longest is kept
(and exported), only a new longest over the budget is logged, and the part of a block
the loop's thread was running is told apart from time the process was not scheduled."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from streams.runtime import loopwatch
from streams.runtime.loopwatch import LoopWatch


def _longest_exported() -> float | None:
    return REGISTRY.get_sample_value("wastream_event_loop_longest_block_seconds")


def test_the_longest_block_is_kept_and_exported(caplog: pytest.LogCaptureFixture) -> None:
    watch = LoopWatch(interval_s=0.05, warn_s=0.05)
    with caplog.at_level(logging.WARNING, logger=loopwatch.__name__):
        # (lateness, CPU of the loop's thread meanwhile)
        for late, cpu in ((0.001, 0.001), (0.3, 0.01), (0.02, 0.02), (0.12, 0.2),
                          (-0.001, 0.0)):
            watch.observe(late, cpu)
    assert watch.longest_s == 0.3
    assert _longest_exported() == 0.3
    # 0.3 s late with 10 ms of CPU: descheduled; 0.12 s late with more CPU than that: busy
    assert watch.longest_busy_s == 0.12
    assert REGISTRY.get_sample_value("wastream_event_loop_longest_busy_block_seconds") == 0.12
    # 0.3 s was over the budget and the longest so far; 0.12 s was over it but not the longest
    assert [r.blocked_ms for r in caplog.records] == [300.0]  # type: ignore[attr-defined]


def _clock(values: list[float]) -> Iterator[float]:
    yield from values
    while True:
        yield values[-1]


async def test_a_late_wake_up_is_measured() -> None:
    """``run`` measures the time between asking to sleep and waking, less the interval."""
    ticks = _clock([100.0, 100.45])  # woke 0.4 s after the 0.05 s it asked for
    cpu = _clock([5.0, 5.25])  # having run for 0.25 s of it
    watch = LoopWatch(interval_s=0.05, warn_s=1.0, clock=lambda: next(ticks),
                      cpu_clock=lambda: next(cpu))
    task = asyncio.create_task(watch.run())
    for _ in range(500):  # the first wake-up comes after one interval
        if watch.longest_s:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert watch.longest_s == pytest.approx(0.4)
    assert watch.longest_busy_s == pytest.approx(0.25)


def test_garbage_collections_are_timed_per_generation(caplog: pytest.LogCaptureFixture) -> None:
    ticks = iter([10.0, 10.002, 20.0, 20.3, 30.0, 30.1, 40.0, 40.06])
    watch = loopwatch.GcWatch(warn_s=0.05, clock=lambda: next(ticks))
    with caplog.at_level(logging.WARNING, logger=loopwatch.__name__):
        watch("start", {"generation": 0})
        watch("stop", {"generation": 0, "collected": 3})  # 2 ms
        watch("start", {"generation": 2})
        watch("stop", {"generation": 2, "collected": 40})  # 300 ms: a new longest
        assert caplog.records == []  # not from inside the collector's callback
        watch.drain(now=100.0)
        watch("start", {"generation": 2})
        watch("stop", {"generation": 2, "collected": 1})  # 100 ms: not the longest
        watch.drain(now=130.0)  # within the minute: held
        watch("start", {"generation": 2})
        watch("stop", {"generation": 2, "collected": 0})  # 60 ms
        watch.drain(now=161.0)  # a minute on: one line for both
    assert watch.longest_s == pytest.approx({0: 0.002, 2: 0.3})
    assert REGISTRY.get_sample_value("wastream_gc_longest_pause_seconds",
                                     {"generation": "2"}) == pytest.approx(0.3)
    assert [(r.pause_ms, r.collections_over_budget)  # type: ignore[attr-defined]
            for r in caplog.records] == [(300.0, 1), (100.0, 2)]


def test_a_real_collection_reaches_the_watch() -> None:
    import gc

    watch = loopwatch.GcWatch()
    watch.install()
    try:
        before = REGISTRY.get_sample_value("wastream_gc_pause_seconds_count",
                                           {"generation": "2"}) or 0.0
        gc.collect()
        after = REGISTRY.get_sample_value("wastream_gc_pause_seconds_count", {"generation": "2"})
        assert after == before + 1
        assert watch.longest_s[2] > 0
    finally:
        gc.callbacks.remove(watch)

"""What a full garbage collection costs for the worker's per-conversation indexes.

    .venv/bin/python -m bench.scale.gc_cost [--conversations 1000000]

A full (generation 2) collection holds the event loop, and it visits every entry of
every container it tracks. This fills, in this process, the timers' deadline index
(``DeadlineCache``) and the dedupe sweeper's expiry index (``Sweeper``) with one entry
per conversation, as the worker holds them, and times ``gc.collect()`` (best of 5):

- floor: the process with the worker's modules imported and the indexes empty;
- baseline: the shapes they had before (a dict of dicts, seconds to sets of tuples, a
  heap list of (expiry, key) tuples), rebuilt here from the same entries;
- now: the real classes.

Regime: one process, no I/O; the figures are CPU (and cache misses) of the collection.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import math
import time
from collections.abc import Iterator
from typing import Any

import streams.worker  # noqa: F401  (the worker's modules, as the floor's baseline)
from streams.agent.dedupe import Sweeper
from streams.agent.timers import DeadlineCache

RATE = 2350.0  # new users a second in bench.scale's burst: how the deadlines spread


def collect_ms() -> float:
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        gc.collect()
        best = min(best, time.perf_counter() - t0)
    return best * 1000


def users(n: int) -> Iterator[tuple[str, float, bytes]]:
    """Made as they are used: a list of them would be in every figure, the floor too."""
    for i in range(n):
        yield f"2509{i:08d}", 1.8e9 + i / RATE, b"2509%08d\x00wamid.%032d" % (i, i)


def old_shapes(n: int) -> list[Any]:
    by_user: dict[str, dict[str, float]] = {}
    buckets: dict[int, set[tuple[str, str]]] = {}
    due: list[tuple[float, bytes]] = []
    for wa, at, key in users(n):
        by_user[wa] = {"idle": at}
        buckets.setdefault(math.ceil(at), set()).add((wa, "idle"))
        heapq.heappush(due, (at + 7 * 86400, key))
    return [by_user, buckets, due]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conversations", type=int, default=1_000_000)
    n = ap.parse_args().conversations
    floor = collect_ms()
    old = old_shapes(n)
    baseline = collect_ms() - floor
    del old
    gc.collect()
    cache, sweeper = DeadlineCache(), Sweeper({})
    for wa, at, key in users(n):
        cache.update(wa, {"idle": at})
        sweeper.note(key, at + 7 * 86400)
    now = collect_ms() - floor
    print(f"gc_cost: {n:,} conversations; a full collection of the worker's process")
    print(f"  floor (indexes empty)           {floor:7.1f} ms")
    print(f"  baseline (the former shapes)    +{baseline:6.1f} ms")
    print(f"  now (DeadlineCache, Sweeper)    +{now:6.1f} ms")
    print(f"  now/baseline {now / baseline:.2f}" if baseline > 0 else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

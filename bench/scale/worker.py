"""The worker ``bench.scale`` measures: the conversation agent, its timers and the event
loop's watch (as ``bench.workflows.worker``), plus the health endpoint on
``WASTREAM_HEALTH_PORT`` so that the bench reads ``/metrics`` (the loop's longest block).

When the file ``BENCH_SCALE_DUMP`` + ``.ask`` appears (mode's worker owns SIGUSR1 and
SIGUSR2), it appends to ``BENCH_SCALE_DUMP`` what holds its memory: the live objects
counted by type (after a full collection), the allocator's arenas, and, when started
with ``PYTHONTRACEMALLOC``, the lines that allocated the most of what is still alive;
then it removes the ``.ask`` file."""

from __future__ import annotations

import asyncio
import collections
import ctypes
import gc
import os
import sys
import tracemalloc
from pathlib import Path

from streams import worker
from streams.runtime import metrics
from wastream.config import Settings
from wastream.observability import logs


def dump(path: str) -> None:
    """What holds the memory now, appended to ``path``."""
    gc.collect()
    objs = gc.get_objects()
    counts = collections.Counter(type(o).__qualname__ for o in objs)
    with open(path, "a") as f:
        f.write(f"--- {len(objs):,} objects tracked by the collector\n")
        for name, n in counts.most_common(25):
            f.write(f"{n:>12,} {name}\n")
        if tracemalloc.is_tracing():
            snap = tracemalloc.take_snapshot()
            f.write("--- still allocated, by line (tracemalloc)\n")
            for stat in snap.statistics("lineno")[:25]:
                f.write(f"{stat.size / 2**20:>9.1f} MB {stat.count:>10,} {stat.traceback}\n")
    del objs
    sys._debugmallocstats()  # to stderr (the worker's log): arenas in use vs allocated
    if os.environ.get("BENCH_SCALE_TRIM") == "1":
        # Memory freed by Python but kept by glibc's malloc: what giving it back returns.
        before = _rss_mb()
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        with open(path, "a") as f:
            f.write(f"--- malloc_trim(0): RSS {before:.0f} MB -> {_rss_mb():.0f} MB\n")


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    settings = Settings.from_env()
    level = settings.observability.log_level
    logs.configure(level, settings.observability.log_format, "worker")
    rt = worker.build(settings, conversation_only=True)
    metrics.install(rt)
    path = os.environ.get("BENCH_SCALE_DUMP")
    if path:
        ask = Path(path + ".ask")

        @rt.app.timer(interval=0.5)  # type: ignore[untyped-decorator]
        async def dump_when_asked() -> None:
            if ask.exists():  # noqa: ASYNC240 - a diagnostic that blocks anyway
                dump(path)
                ask.unlink()  # noqa: ASYNC240 - the bench waits for this
    asyncio.set_event_loop(asyncio.new_event_loop())
    return worker.run_app(rt.app, level.lower())


if __name__ == "__main__":
    sys.exit(main())

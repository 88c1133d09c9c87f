"""Timers: idle expiry, and every deadline a domain sets (a request's timeout, a
reminder, the end of a presence…).

A deadline lives in the conversation itself (``Conv.deadlines``, kind → epoch), so it is
as durable as the state. When one is due, the timer task publishes a
``wastream.timer`` event for that wa_id to ``wa.inbound``: the conversation handles it
in order with the user's own messages, on its own partition. The event id is
deterministic (``timer:<wa_id>:<kind>:<due>``), so a timer fired twice (a restart,
a rebalance) is dropped by the dedupe; a stale one (deadline moved) is ignored.

The task reads an in-memory index of deadlines kept up to date by the agent: the
deadlines filed by the second they fall due, so a tick touches only what is due and an
update only the user's own entries. The index is rebuilt from the table, a slice at a
time so the event loop is never held for long, when the assignment changes, when
Faust's table recovery completes, and every ``WASTREAM_TIMER_RESCAN_S`` as a safety net.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import math
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson

from schemas.envelope import InboundEvent
from streams.runtime import faust_internals
from streams.runtime.tables import scan

log = logging.getLogger(__name__)


class DeadlineCache:
    """wa_id → {kind: due}; only conversations with deadlines are present.

    Each deadline is also filed under the second it falls due (rounded up), and those
    seconds are kept in a heap: ``due`` pops only the seconds that have passed, and an
    update moves only the entries that changed, so neither reads every conversation.

    Held as structures the garbage collector can leave alone at 1,000,000 conversations:
    each user's deadlines as a tuple of pairs and each second's entries as a dict (its
    keys as a set), never dicts of dicts or sets of tuples. A full collection visits
    every entry of those: 18 and 52 ms per collection at 1,000,000 here, against ~1 ms
    for these (``python -m bench.scale.gc_cost``), and a collection holds the loop.
    """

    def __init__(self) -> None:
        self._by_user: dict[str, tuple[tuple[str, float], ...]] = {}
        self.fired: set[str] = set()
        self._buckets: dict[int, dict[tuple[str, str], None]] = {}
        self._seconds: list[int] = []
        self._handed: dict[tuple[str, str], float] = {}  # due, not yet seen fired
        self._touched: set[str] | None = None  # users updated during a rebuild

    def of(self, wa_id: str) -> dict[str, float]:
        """The user's deadlines, kind → due (empty when none)."""
        return dict(self._by_user.get(wa_id, ()))

    def __contains__(self, wa_id: object) -> bool:
        return wa_id in self._by_user

    def update(self, wa_id: str, deadlines: dict[str, float]) -> None:
        old = self.of(wa_id)
        for kind, at in old.items():
            if deadlines.get(kind) != at:
                self._unfile(wa_id, kind, at)
        for kind, at in deadlines.items():
            if old.get(kind) != at:
                self._file(wa_id, kind, at)
        if deadlines:
            self._by_user[wa_id] = tuple(deadlines.items())
        else:
            self._by_user.pop(wa_id, None)
        if self._touched is not None:
            self._touched.add(wa_id)

    def rebuild(self, items: Iterable[tuple[Any, Any]]) -> None:
        """Replace the index with the deadlines of ``items`` (key, stored conversation)."""
        fresh = DeadlineCache()
        for key, raw in items:
            fresh._load(key, raw)
        self._replace(fresh, touched=set())

    async def rebuild_in_slices(self, items: Iterable[tuple[Any, Any]],
                                slice_size: int = 1000) -> None:
        """As :meth:`rebuild`, yielding to the event loop every ``slice_size`` records;
        updates made meanwhile by the agent win over what the scan read."""
        fresh = DeadlineCache()
        self._touched = set()
        try:
            for n, (key, raw) in enumerate(items, 1):
                fresh._load(key, raw)
                if n % slice_size == 0:
                    await asyncio.sleep(0)
        except BaseException:
            self._touched = None
            raise
        self._replace(fresh, touched=self._touched)

    def due(self, now: float) -> list[tuple[str, str, float]]:
        """(wa_id, kind, due) of every deadline due and not fired yet by this process."""
        while self._seconds and self._seconds[0] <= now:
            second = heapq.heappop(self._seconds)
            for wa_id, kind in self._buckets.pop(second, ()):
                self._handed[(wa_id, kind)] = self.of(wa_id)[kind]
        out = []
        for (wa_id, kind), at in list(self._handed.items()):
            if self.of(wa_id).get(kind) != at or timer_id(
                    wa_id, kind, at) in self.fired:
                del self._handed[(wa_id, kind)]
            else:
                out.append((wa_id, kind, at))
        return out

    def _load(self, key: Any, raw: Any) -> None:
        if not raw:
            return
        d = orjson.loads(raw).get("deadlines") or {}
        if d:
            self.update(key.decode() if isinstance(key, bytes) else str(key), d)

    def _replace(self, fresh: DeadlineCache, touched: set[str]) -> None:
        self._touched = None
        for wa_id in touched:  # the agent's updates are newer than the table's read
            fresh.update(wa_id, self.of(wa_id))
        self._by_user, self._buckets = fresh._by_user, fresh._buckets
        self._seconds, self._handed = fresh._seconds, {}

    def _file(self, wa_id: str, kind: str, at: float) -> None:
        second = math.ceil(at)
        bucket = self._buckets.get(second)
        if bucket is None:
            bucket = self._buckets[second] = {}
            heapq.heappush(self._seconds, second)
        bucket[(wa_id, kind)] = None

    def _unfile(self, wa_id: str, kind: str, at: float) -> None:
        self._handed.pop((wa_id, kind), None)
        bucket = self._buckets.get(math.ceil(at))
        if bucket is not None:
            bucket.pop((wa_id, kind), None)  # an empty bucket is dropped when its second passes


def timer_id(wa_id: str, kind: str, due: float) -> str:
    return f"timer:{wa_id}:{kind}:{int(due * 1000)}"


def timer_event(wa_id: str, kind: str, due: float) -> InboundEvent:
    """The ``wastream.timer`` event that makes a due deadline happen."""
    now = time.time()
    return InboundEvent(
        event_id=timer_id(wa_id, kind, due),
        type="wastream.timer",
        wa_id=wa_id,
        phone_number_id=None,
        timestamp=int(now),
        received_at=datetime.fromtimestamp(now, UTC).isoformat(),
        correlation_id=timer_id(wa_id, kind, due),
        payload={"kind": kind, "due": due},
        field="wastream",
    )


def install(rt: Any, cache: DeadlineCache) -> None:
    """Register the timer task on the app (tick WASTREAM_TIMER_TICK_S, default 1 s)."""
    tick = rt.settings.conversation.timer_tick_s
    rescan_s = rt.settings.conversation.timer_rescan_s
    state: dict[str, Any] = {"assignment": None, "recovering": False, "scanned": 0.0}

    @rt.app.timer(interval=tick, name="conversation_timers")  # type: ignore[untyped-decorator]
    async def fire_due_timers() -> None:
        assignment = frozenset(rt.app.consumer.assignment())
        recovering = faust_internals.recovering(rt.app)
        mono = time.monotonic()
        recovered = state["recovering"] and not recovering
        if assignment != state["assignment"] or recovered or mono - state["scanned"] > rescan_s:
            state["assignment"], state["recovering"] = assignment, recovering
            await cache.rebuild_in_slices(scan(rt.chat_state, rt.chat_state.items()))
            state["scanned"] = time.monotonic()
        state["recovering"] = recovering
        for wa_id, kind, due in cache.due(time.time()):
            ev = timer_event(wa_id, kind, due)
            await rt.inbound.send(key=wa_id.encode(), value=ev.to_bytes(), force=True)
            cache.fired.add(ev.event_id)
            log.debug("timer %s fired", ev.event_id)
        if len(cache.fired) > 100_000:
            cache.fired.clear()  # only an optimisation: the dedupe drops re-fired timers


"""Timers: idle expiry, and every deadline a domain sets (a request's timeout, a
reminder, the end of a presence…).

A deadline lives in the conversation itself (``Conv.deadlines``, kind → epoch), so it is
as durable as the state. When one is due, the timer task publishes a
``wastream.timer`` event for that wa_id to ``wa.inbound``: the conversation handles it
in order with the user's own messages, on its own partition. The event id is
deterministic (``timer:<wa_id>:<kind>:<due>``), so a timer fired twice (a restart,
a rebalance) is dropped by the dedupe; a stale one (deadline moved) is ignored.

The task scans an in-memory cache of deadlines kept up to date by the agent, rebuilt
from the table when the assignment changes and every WASTREAM_TIMER_RESCAN_S.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import orjson

from schemas.envelope import InboundEvent

log = logging.getLogger(__name__)


class DeadlineCache:
    """wa_id → {kind: due}; only conversations with deadlines are present."""

    def __init__(self) -> None:
        self.by_user: dict[str, dict[str, float]] = {}
        self.fired: set[str] = set()

    def update(self, wa_id: str, deadlines: dict[str, float]) -> None:
        if deadlines:
            self.by_user[wa_id] = dict(deadlines)
        else:
            self.by_user.pop(wa_id, None)

    def rebuild(self, items: Any) -> None:
        fresh: dict[str, dict[str, float]] = {}
        for key, raw in items:
            if not raw:
                continue
            d = orjson.loads(raw).get("deadlines") or {}
            if d:
                fresh[key.decode() if isinstance(key, bytes) else str(key)] = d
        self.by_user = fresh

    def due(self, now: float) -> list[tuple[str, str, float]]:
        """(wa_id, kind, due) of every deadline due and not fired yet by this process."""
        out = []
        for wa_id, d in self.by_user.items():
            for kind, at in d.items():
                if at <= now and timer_id(wa_id, kind, at) not in self.fired:
                    out.append((wa_id, kind, at))
        return out


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
    state: dict[str, Any] = {"assignment": None, "scanned": 0.0}

    @rt.app.timer(interval=tick, name="conversation_timers")  # type: ignore[untyped-decorator]
    async def fire_due_timers() -> None:
        assignment = frozenset(rt.app.consumer.assignment())
        mono = time.monotonic()
        if assignment != state["assignment"] or mono - state["scanned"] > rescan_s:
            cache.rebuild(list(rt.chat_state.items()))
            state["assignment"], state["scanned"] = assignment, mono
        for wa_id, kind, due in cache.due(time.time()):
            ev = timer_event(wa_id, kind, due)
            await rt.inbound.send(key=wa_id.encode(), value=ev.to_bytes(), force=True)
            cache.fired.add(ev.event_id)
            log.debug("timer %s fired", ev.event_id)
        if len(cache.fired) > 100_000:
            cache.fired.clear()  # only an optimisation: the dedupe drops re-fired timers

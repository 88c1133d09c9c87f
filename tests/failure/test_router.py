"""Unit tests of the failure router's routing and parking logic (no broker: a dict for
the parked table and an in-memory publisher; the broker tests are in test_e2e_*)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import orjson
import pytest

from schemas import headers as h
from schemas.envelope import InboundEvent
from streams.failure import parking
from streams.failure.errors import BreakerOpen, PermanentError, TransientError
from streams.failure.records import Origin
from streams.failure.router import FailureRouter
from tests.support.failure import MemoryPublisher, event
from wastream.config import Settings

P = "t."
INBOUND = P + "wa.inbound"


class Worker:
    """Drives a router like the conversation agent does; fails per a plan."""

    def __init__(self, fail: dict[str, list[Exception]] | None = None, **env: str) -> None:
        self.settings = Settings.from_env({"WASTREAM_TOPIC_PREFIX": P,
                                           "WASTREAM_RETRY_DELAYS": "1s,2s,3s", **env})
        self.fail = fail or {}
        self.done: list[str] = []
        self.places: list[int] = []  # the offset of each done record's place
        self.parked: dict[str, Any] = {}
        self.pub = MemoryPublisher()
        self.offset = 0
        self.router = FailureRouter(None, self.settings, self.process, parked=self.parked,
                                    publisher=self.pub)

    async def process(self, key: bytes | None, value: bytes | None,
                      headers: Mapping[str, bytes], place: Origin) -> None:
        ev = InboundEvent.from_bytes(value or b"")
        plan = self.fail.get(ev.event_id)
        if plan:
            raise plan.pop(0)
        self.done.append(ev.event_id)
        self.places.append(place.offset)

    async def feed(self, key: bytes | None, value: bytes,
                   headers: Mapping[str, bytes] | None = None) -> None:
        self.offset += 1
        await self.router.handle(key, value, headers or {}, Origin(INBOUND, 0, self.offset))

    async def send(self, ev: InboundEvent) -> None:
        await self.feed(ev.key, ev.to_bytes())

    async def pump_tiers(self) -> int:
        """What the tier consumer does: every due record back to its original topic."""
        n = 0
        for s in list(self.pub.sent):
            if s.topic.startswith(P + "wa.retry."):
                self.pub.sent.remove(s)
                await self.feed(s.key, s.value or b"", s.headers)
                n += 1
        for s in self.pub.take(INBOUND):  # recovery events
            await self.feed(s.key, s.value or b"", s.headers)
            n += 1
        return n


async def test_success_runs_in_order() -> None:
    w = Worker()
    for i in range(3):
        await w.send(event("a", i))
    assert w.done == ["wamid.a.0", "wamid.a.1", "wamid.a.2"]
    assert w.pub.sent == []


async def test_permanent_failure_goes_to_dlq_with_error_and_recovery() -> None:
    w = Worker(fail={"wamid.a.0": [PermanentError("bad input")]})
    await w.send(event("a", 0))
    dlq = w.pub.on(P + "wa.dlq")
    assert len(dlq) == 1
    assert dlq[0].headers[h.ERROR_KIND] == b"permanent"
    assert dlq[0].headers[h.ERROR_CLASS] == b"streams.failure.errors.PermanentError"
    assert dlq[0].headers[h.ERROR_MESSAGE] == b"bad input"
    assert dlq[0].headers[h.DLQ_ID] == f"{INBOUND}:0:1".encode()
    assert orjson.loads(dlq[0].value or b"")["event_id"] == "wamid.a.0"
    rec = w.pub.on(P + "wa.recovery")
    assert [orjson.loads(r.value or b"")["status"] for r in rec] == ["pending"]
    # the user's next message waits for the recovery event, then runs after it
    await w.send(event("a", 1))
    assert w.done == []
    await w.pump_tiers()
    assert w.done == [f"recovery:{INBOUND}:0:1", "wamid.a.1"]
    assert w.parked == {}


async def test_unknown_exception_is_permanent() -> None:
    w = Worker(fail={"wamid.a.0": [KeyError("bug")]})
    await w.send(event("a", 0))
    assert len(w.pub.on(P + "wa.dlq")) == 1
    assert not [s for s in w.pub.sent if "retry" in s.topic]


async def test_transient_retries_then_succeeds_and_releases_in_order() -> None:
    w = Worker(fail={"wamid.a.0": [TransientError("5xx"), TransientError("5xx")]})
    await w.send(event("a", 0))
    await w.send(event("a", 1))
    await w.send(event("b", 0))  # another conversation is not held
    assert w.done == ["wamid.b.0"]
    tier1 = w.pub.on(P + "wa.retry.1s")
    assert len(tier1) == 1
    assert tier1[0].headers[h.ATTEMPT] == b"1"
    assert tier1[0].headers[h.ORIGINAL_OFFSET] == b"1"
    assert int(tier1[0].headers[h.DUE_AT]) > 0
    await w.pump_tiers()  # attempt 1 fails → tier 2
    assert w.pub.on(P + "wa.retry.2s")[0].headers[h.ATTEMPT] == b"2"
    await w.send(event("a", 2))
    await w.pump_tiers()  # attempt 2 succeeds → a.1, a.2 released in order
    assert w.done == ["wamid.b.0", "wamid.a.0", "wamid.a.1", "wamid.a.2"]
    assert w.parked == {}
    assert w.pub.on(P + "wa.dlq") == []


async def test_exhausted_budget_dead_letters_then_releases() -> None:
    w = Worker(fail={"wamid.a.0": [TransientError("t")] * 4}, WASTREAM_RETRY_DELAYS="1s,2s,3s")
    await w.send(event("a", 0))
    await w.send(event("a", 1))
    for _ in range(3):
        await w.pump_tiers()
    dlq = w.pub.on(P + "wa.dlq")
    assert len(dlq) == 1
    assert dlq[0].headers[h.ATTEMPT] == b"3"
    assert dlq[0].headers[h.ERROR_KIND] == b"transient"
    await w.pump_tiers()  # the recovery event, then a.1
    assert w.done == [f"recovery:{INBOUND}:0:1", "wamid.a.1"]


async def test_stale_duplicate_of_a_retry_record_is_dropped() -> None:
    w = Worker(fail={"wamid.a.0": [TransientError("t")]})
    await w.send(event("a", 0))
    rec = w.pub.on(P + "wa.retry.1s")[0]
    await w.pump_tiers()
    assert w.done == ["wamid.a.0"]
    await w.feed(rec.key, rec.value or b"", rec.headers)  # the tier re-published twice
    assert w.done == ["wamid.a.0"]


async def test_released_record_that_fails_becomes_the_new_head() -> None:
    w = Worker(fail={"wamid.a.0": [TransientError("t")], "wamid.a.1": [TransientError("t")]})
    for i in range(3):
        await w.send(event("a", i))
    await w.pump_tiers()  # a.0 ok, a.1 fails → new head, a.2 still parked
    assert w.done == ["wamid.a.0"]
    assert [i.origin_id for i in parking.queue(w.parked, "a")] == [f"{INBOUND}:0:3"]
    await w.pump_tiers()
    assert w.done == ["wamid.a.0", "wamid.a.1", "wamid.a.2"]
    assert w.parked == {}


async def test_redelivered_parked_record_is_not_queued_twice() -> None:
    w = Worker(fail={"wamid.a.0": [TransientError("t")]})
    await w.send(event("a", 0))
    ev = event("a", 1)
    await w.router.handle(ev.key, ev.to_bytes(), {}, Origin(INBOUND, 0, 50))
    await w.router.handle(ev.key, ev.to_bytes(), {}, Origin(INBOUND, 0, 50))
    assert len(parking.queue(w.parked, "a")) == 1


async def test_hold_does_not_spend_budget() -> None:
    w = Worker(fail={"wamid.a.0": [BreakerOpen("graph", 0.5)] * 5})
    await w.send(event("a", 0))
    for _ in range(5):
        rec = w.pub.on(P + "wa.retry.1s")
        assert rec
        assert rec[-1].headers[h.ATTEMPT] == b"0"
        await w.pump_tiers()
    assert w.done == ["wamid.a.0"]
    assert w.pub.on(P + "wa.dlq") == []


async def test_conversation_breaker_opens_after_n_failures_holds_then_probes() -> None:
    w = Worker(fail={"wamid.a.0": [TransientError("t")] * 2},
               WASTREAM_CONVERSATION_BREAKER_FAILURES="2",
               WASTREAM_CONVERSATION_BREAKER_OPEN_S="0.2")
    await w.send(event("a", 0))
    await w.pump_tiers()  # attempt 1 fails: second consecutive failure → breaker open
    await w.pump_tiers()  # attempt 2 is held by the open breaker: same attempt, not run
    held = w.pub.on(P + "wa.retry.1s")
    assert held
    assert held[-1].headers[h.ERROR_CLASS] == b"streams.failure.errors.BreakerOpen"
    assert held[-1].headers[h.ATTEMPT] == b"2"
    assert w.done == []
    await asyncio.sleep(0.25)
    await w.pump_tiers()  # the half-open probe runs and succeeds
    assert w.done == ["wamid.a.0"]
    assert w.pub.on(P + "wa.dlq") == []
    assert len(w.router.breakers) == 0  # closed breakers are forgotten


async def test_poison_bytes_dead_letter() -> None:
    w = Worker()
    await w.feed(b"a", b"\xff not json")
    dlq = w.pub.on(P + "wa.dlq")
    assert len(dlq) == 1
    assert dlq[0].headers[h.ERROR_CLASS] == b"schemas.envelope.EnvelopeError"


@pytest.mark.parametrize("spec", ['[{"match": "FLAKY", "kind": "transient", "attempts": 1}]'])
async def test_fault_injector_heals_after_attempts(spec: str) -> None:
    w = Worker(WASTREAM_FAULTS=spec)
    await w.send(event("a", 0, text="FLAKY"))
    assert w.done == []
    await w.pump_tiers()
    assert w.done == ["wamid.a.0"]


async def test_mark_read_after_success_only_when_enabled() -> None:
    w = Worker(fail={"wamid.a.1": [PermanentError("x")]}, WASTREAM_MARK_READ="1")
    await w.send(event("a", 0))
    await w.send(event("a", 1))
    receipts = [orjson.loads(s.value or b"") for s in w.pub.on(P + "wa.outbound")]
    assert [r["outbound_id"] for r in receipts] == ["wamid.a.0:read"]
    assert receipts[0]["body"] == {"messaging_product": "whatsapp", "status": "read",
                                   "message_id": "wamid.a.0"}
    off = Worker()
    await off.send(event("a", 0))
    assert off.pub.on(P + "wa.outbound") == []


async def test_waits_are_served_by_the_tier_of_that_delay() -> None:
    """Every record waits exactly its tier's delay (no far-off record at the head of a
    tier partition blocks nearer ones); a longer wait is served by re-holding."""
    now = 1_000_000.0
    w = Worker(fail={"wamid.a.0": [BreakerOpen("graph", 2.5)],
                     "wamid.b.0": [TransientError("429", retry_after_s=1.5)],
                     "wamid.c.0": [BreakerOpen("graph", 100)]})
    w.router.clock = lambda: now
    for u in "abc":
        await w.send(event(u, 0))
    a, b, c = (w.pub.on(P + "wa.retry.3s")[0], w.pub.on(P + "wa.retry.2s")[0],
               w.pub.on(P + "wa.retry.3s")[1])
    assert int(a.headers[h.DUE_AT]) == (now + 3) * 1000
    assert a.headers[h.ATTEMPT] == b"0"  # a hold spends no budget
    assert int(b.headers[h.DUE_AT]) == (now + 2) * 1000
    assert b.headers[h.ATTEMPT] == b"1"
    assert int(c.headers[h.DUE_AT]) == (now + 3) * 1000


async def test_a_record_the_router_cannot_route_is_dead_lettered_not_looped() -> None:
    w = Worker()

    def broken(*_a: object, **_k: object) -> None:
        raise RuntimeError("routing bug")

    w.router._handle = broken  # type: ignore[method-assign,assignment]
    await asyncio.wait_for(w.send(event("a", 0)), 5)
    dlq = w.pub.on(P + "wa.dlq")
    assert len(dlq) == 1
    assert dlq[0].headers[h.ERROR_MESSAGE] == b"routing bug"


async def test_a_keys_records_run_in_increasing_place_through_retries_and_recovery() -> None:
    """The place handed to ``process`` (what the conversation dedupes replays by): a
    retried record keeps its original offset, a recovery event takes the dead letter's,
    released records keep theirs, so the places of a key only ever increase."""
    w = Worker(fail={"wamid.a.0": [TransientError("t")], "wamid.a.2": [PermanentError("p")]})
    for i in range(4):
        await w.send(event("a", i))  # offsets 1..4
    await w.pump_tiers()  # a.0 again (offset 5), a.1; a.2 dead-letters: recovery
    await w.pump_tiers()  # the recovery event (offset 6), then a.3
    assert w.done == ["wamid.a.0", "wamid.a.1", f"recovery:{INBOUND}:0:3", "wamid.a.3"]
    assert w.places == [1, 2, 3, 4]

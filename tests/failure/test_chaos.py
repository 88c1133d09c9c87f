"""Chaos: 5,000 events across 500 conversations with random transient and permanent
failures injected, and a kill -9 of the worker mid-run. Every event must end either
processed or dead-lettered (never both, never neither), as the injected faults decide,
and each conversation's processed events must come out in order. Prints the counts."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import pytest

from schemas.envelope import InboundEvent
from standins.faults import FaultInjector
from streams.dlq.ops import read_all
from streams.failure.errors import is_transient
from tests.support import kafka as tk
from tests.support.failure import event, inbound_records, start_echo_worker
from tests.support.system import System
from wastream.config import Settings

pytestmark = pytest.mark.slow

CONVERSATIONS, PER_CONVERSATION = 500, 10
FAULTS = [
    {"kind": "permanent", "rate": 0.01, "seed": "perm"},
    {"kind": "transient", "rate": 0.01, "seed": "forever"},  # exhausts the tiers → DLQ
    {"kind": "transient", "rate": 0.05, "attempts": 1, "seed": "once"},  # heals on tier 1
    {"kind": "transient", "rate": 0.02, "attempts": 3, "seed": "thrice"},  # heals on tier 3
]
TIERS = 3


def expected_fate(injector: FaultInjector, value: bytes) -> str:
    for attempt in range(TIERS + 1):
        try:
            injector.check(value, attempt)
            return "processed"
        except Exception as exc:  # the injected error decides, as in the router
            if not is_transient(exc):
                return "dlq"
    return "dlq"


async def fates(system: System) -> tuple[list[Any], list[Any]]:
    """Everything on wa.state (the echo worker's effects) and wa.dlq, up to their ends."""
    settings = Settings.from_env(system.env)
    done = await read_all(settings, system.topic("wa.state"))
    dlq = await read_all(settings, system.topic("wa.dlq"))
    return done, dlq


def effect(r: Any) -> dict[str, Any]:
    return dict(orjson.loads(r.value))


async def test_chaos_kill9_every_event_processed_or_dead_lettered_once(system: System) -> None:
    system.env_overrides.update({
        "WASTREAM_FAULTS": orjson.dumps(FAULTS).decode(),
        "WASTREAM_CONVERSATION_BREAKER_OPEN_S": "2",
    })
    events = [event(f"c{c:03d}", n) for c in range(CONVERSATIONS) for n in range(PER_CONVERSATION)]
    # interleave conversations the way traffic does
    events.sort(key=lambda e: (int(e.event_id.rsplit(".", 1)[1]), e.wa_id))
    injector = FaultInjector.from_spec(orjson.dumps(FAULTS).decode())
    expected = {e.event_id: expected_fate(injector, e.to_bytes()) for e in events}

    worker = start_echo_worker(system)
    t0 = time.monotonic()
    await tk.produce(system.bootstrap, system.topic("wa.inbound"), inbound_records(events))
    # kill -9 once a good part (but not all) of the work is done
    while True:
        done, _ = await fates(system)
        if len(done) >= 1500:
            break
        assert worker.alive(), worker.tail()
        assert time.monotonic() - t0 < 180, "no progress before the kill"
        await asyncio.sleep(1)
    worker.kill9()
    killed_at = len(done)
    start_echo_worker(system)

    deadline = time.monotonic() + 240
    while True:
        done, dlq = await fates(system)
        processed = {effect(r)["event_id"] for r in done}
        dead = {InboundEvent.from_bytes(r.value or b"").event_id for r in dlq}
        if len((processed | dead) & set(expected)) == len(expected) or \
                time.monotonic() > deadline:
            break
        await asyncio.sleep(2)
    await asyncio.sleep(3)  # anything that should NOT come (a late duplicate) has time to
    done, dlq = await fates(system)

    processed_raw = [effect(r)["event_id"] for r in done if effect(r)["type"] == "message.text"]
    recovered = [effect(r)["event_id"] for r in done if effect(r)["type"] == "wastream.recovery"]
    dead_raw = [InboundEvent.from_bytes(r.value or b"").event_id for r in dlq]
    processed, dead = set(processed_raw), set(dead_raw)
    print(f"\nchaos: {len(events)} events, {CONVERSATIONS} conversations, kill -9 after "
          f"{killed_at} effects, {time.monotonic() - t0:.0f}s in all")
    print(f"  expected: processed {sum(v == 'processed' for v in expected.values())}, "
          f"dead-lettered {sum(v == 'dlq' for v in expected.values())}")
    print(f"  got: processed {len(processed)} (raw effects {len(processed_raw)}, "
          f"{len(processed_raw) - len(processed)} duplicate effects from the kill -9 replay), "
          f"dead-lettered {len(dead)} (raw {len(dead_raw)}), "
          f"recoveries {len(set(recovered))} (raw {len(recovered)})")
    assert processed & dead == set()
    missing = [e for e in expected if e not in processed | dead]
    assert missing == [], f"{len(missing)} events lost, e.g. {missing[:5]}"
    wrong = [e for e, fate in expected.items()
             if (fate == "processed") != (e in processed)]
    assert wrong == [], f"{len(wrong)} events with the wrong fate, e.g. {wrong[:5]}"
    assert len(set(recovered)) == len(dead)  # one recovery per dead letter
    # per conversation, first occurrences of processed events are in order
    first: dict[str, list[int]] = {}
    seen: set[str] = set()
    for eid in processed_raw:
        if eid not in seen:
            seen.add(eid)
            _, conv, n = eid.split(".")
            first.setdefault(conv, []).append(int(n))
    out_of_order = [c for c, ns in first.items() if ns != sorted(ns)]
    assert out_of_order == [], f"order broken in {len(out_of_order)} conversations"

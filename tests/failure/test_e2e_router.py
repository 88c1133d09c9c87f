"""The failure router, tier consumer and parked table in a real Faust worker on the
real broker (the echo worker: tests/support/echo_worker.py)."""

from __future__ import annotations

import time

import orjson

from schemas import headers as h
from tests.support import kafka as tk
from tests.support.failure import event, inbound_records, start_echo_worker
from tests.support.system import System


def effects(records: list[tk.Record]) -> dict[str, list[str]]:
    """wa_id → event ids processed, in order."""
    out: dict[str, list[str]] = {}
    for r in records:
        out.setdefault((r.key or b"").decode(), []).append(r.json()["event_id"])
    return out


async def test_poison_goes_to_dlq_while_others_flow(system: System) -> None:
    system.env_overrides["WASTREAM_FAULTS"] = orjson.dumps(
        [{"match": "POISON", "kind": "permanent"}]).decode()
    start_echo_worker(system)
    good = [event(f"u{i}", n) for i in range(3) for n in range(3)]
    poison = event("bad", 0, text="POISON")
    await tk.produce(system.bootstrap, system.topic("wa.inbound"),
                     [*inbound_records([poison]), (b"raw", b"\xffnot json")])
    await tk.produce(system.bootstrap, system.topic("wa.inbound"), inbound_records(good))
    # 9 good events + the recovery event of each of the 2 dead letters
    done = await system.read("wa.state", min_count=11, timeout_s=90, settle_s=2)
    got = effects(done)
    for i in range(3):
        assert got[f"u{i}"] == [f"wamid.u{i}.{n}" for n in range(3)]
    dlq = await system.read("wa.dlq", min_count=2, timeout_s=30, settle_s=1)
    assert len(dlq) == 2
    by_class = {r.headers[h.ERROR_CLASS].decode(): r for r in dlq}
    assert set(by_class) == {"streams.failure.errors.InjectedPermanent",
                             "schemas.envelope.EnvelopeError"}
    assert by_class["streams.failure.errors.InjectedPermanent"].json()["event_id"] == "wamid.bad.0"
    assert by_class["schemas.envelope.EnvelopeError"].value == b"\xffnot json"
    assert all(r.headers[h.ERROR_TRACE] for r in dlq)
    rec = await system.read("wa.recovery", min_count=2, timeout_s=30)
    assert sorted(r.json()["status"] for r in rec) == ["pending", "pending"]
    assert got["bad"] == [f"recovery:{system.topic('wa.inbound')}:{dlq_partition(by_class)}"]


def dlq_partition(by_class: dict[str, tk.Record]) -> str:
    r = by_class["streams.failure.errors.InjectedPermanent"]
    return f"{r.headers[h.ORIGINAL_PARTITION].decode()}:{r.headers[h.ORIGINAL_OFFSET].decode()}"


async def test_transient_succeeds_on_second_tier_and_keeps_order(system: System) -> None:
    # fails attempt 0 and attempt 1 (the first tier): succeeds on the second tier
    system.env_overrides["WASTREAM_FAULTS"] = orjson.dumps(
        [{"match": "FLAKY", "kind": "transient", "attempts": 2}]).decode()
    start_echo_worker(system)
    t0 = time.time()
    a = [event("a", 0, text="FLAKY")] + [event("a", n) for n in range(1, 5)]
    b = [event("b", n) for n in range(5)]
    await tk.produce(system.bootstrap, system.topic("wa.inbound"), inbound_records(a + b))
    done = await system.read("wa.state", min_count=10, timeout_s=90, settle_s=2)
    got = effects(done)
    assert got["a"] == [f"wamid.a.{n}" for n in range(5)]  # later events waited, in order
    assert got["b"] == [f"wamid.b.{n}" for n in range(5)]
    tier1 = await system.read("wa.retry.1s", min_count=1, timeout_s=10)
    tier2 = await system.read("wa.retry.2s", min_count=1, timeout_s=10)
    assert [r.headers[h.ATTEMPT] for r in tier1] == [b"1"]
    assert [r.headers[h.ATTEMPT] for r in tier2] == [b"2"]
    assert int(tier2[0].headers[h.DUE_AT]) / 1000 >= t0 + 3  # 1 s + 2 s of tier delays
    a0 = next(r for r in done if r.json()["event_id"] == "wamid.a.0")
    assert a0.timestamp / 1000 >= int(tier2[0].headers[h.DUE_AT]) / 1000 - 0.01
    assert await system.read("wa.dlq", min_count=0, timeout_s=10, settle_s=3) == []

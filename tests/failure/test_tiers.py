"""The tier consumer on the real broker: a due record goes back to its original topic
and partition; a record that is not due yet stalls neither a rebalance nor a shutdown."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaTimeoutError

from schemas import headers as h
from streams.failure.tiers import TierConsumer
from tests.support import kafka as tk
from tests.support.failure import wait_until
from tests.support.system import System
from wastream.config import Settings


def tier_headers(system: System, due_s: float, partition: int) -> list[tuple[str, bytes]]:
    return h.to_headers({h.ORIGINAL_TOPIC: system.topic("wa.inbound"),
                         h.ORIGINAL_PARTITION: partition, h.ORIGINAL_OFFSET: 5, h.ATTEMPT: 1,
                         h.DUE_AT: int(due_s * 1000), h.HEAD: "tok"})


async def test_due_record_goes_back_to_its_original_partition(system: System) -> None:
    tiers = TierConsumer(Settings.from_env(system.env))
    task = asyncio.create_task(tiers.run())
    try:
        due = time.time() + 1.5
        await tk.produce(system.bootstrap, system.topic("wa.retry.1s"), [(b"k", b"v")],
                         headers=tier_headers(system, due, partition=1))
        out = await system.read("wa.inbound", min_count=1, timeout_s=30, settle_s=1)
        assert len(out) == 1
        assert out[0].partition == 1
        assert out[0].value == b"v"
        assert out[0].headers[h.HEAD] == b"tok"
        assert out[0].headers[h.TIER] == system.topic("wa.retry.1s").encode()
        assert out[0].timestamp / 1000 >= due - 0.05  # not before it was due
    finally:
        tiers.stop()
        await asyncio.wait_for(task, 30)


async def test_waiting_record_stalls_neither_rebalance_nor_shutdown(system: System) -> None:
    settings = Settings.from_env(system.env)
    due = time.time() + 600  # far away: whoever waits for it must not block
    await tk.produce(system.bootstrap, system.topic("wa.retry.1s"),
                     [(b"a", b"1"), (b"b", b"2"), (b"c", b"3"), (b"d", b"4")],
                     headers=tier_headers(system, due, partition=0))
    a = TierConsumer(settings)
    task_a = asyncio.create_task(a.run())
    assert await wait_until(lambda: a.consumer is not None and bool(a.consumer.paused()), 30)
    b = TierConsumer(settings)
    task_b = asyncio.create_task(b.run())
    try:
        # the rebalance completes while a record waits: both members get partitions
        assert await wait_until(lambda: b.consumer is not None and bool(b.consumer.assignment())
                              and a.consumer is not None and bool(a.consumer.assignment())
                              and not (a.consumer.assignment() & b.consumer.assignment()), 60)
    finally:
        t0 = time.monotonic()
        a.stop()
        b.stop()
        await asyncio.wait_for(asyncio.gather(task_a, task_b), 30)
        assert time.monotonic() - t0 < 30  # stopping did not wait for the due time
    assert await system.read("wa.inbound", min_count=0, timeout_s=10, settle_s=2) == []


async def test_a_produce_error_does_not_end_the_tier_consumer(
        system: System, monkeypatch: pytest.MonkeyPatch) -> None:
    due = time.time()
    await tk.produce(system.bootstrap, system.topic("wa.retry.1s"), [(b"k", b"v")],
                     headers=tier_headers(system, due, partition=0))
    # The tier's producer fails its first two sends, both ways a send fails when the
    # broker is away.
    real_send = AIOKafkaProducer.send
    failures = []

    async def flaky_send(self: AIOKafkaProducer, *args: Any, **kw: Any) -> Any:
        if not failures:  # refused at once
            failures.append(args)
            raise KafkaTimeoutError("injected: broker away")
        if len(failures) == 1:  # accepted, then never acknowledged
            failures.append(args)
            lost: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            lost.set_exception(KafkaTimeoutError("injected: expired in the accumulator"))
            return lost
        return await real_send(self, *args, **kw)

    monkeypatch.setattr(AIOKafkaProducer, "send", flaky_send)
    tiers = TierConsumer(Settings.from_env(system.env))
    task = asyncio.create_task(tiers.run())
    try:
        out = await system.read("wa.inbound", min_count=1, timeout_s=30, settle_s=1)
        assert len(failures) == 2
        assert not task.done()  # still consuming after the failures
        assert [(r.key, r.value, r.partition) for r in out] == [(b"k", b"v", 0)]
    finally:
        tiers.stop()
        await asyncio.wait_for(task, 30)

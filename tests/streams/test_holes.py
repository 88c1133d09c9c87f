"""The hole guard against the real broker: what the agent was not given, it reads
itself, in order, from the group's committed offset on (streams/holes.py).

Faust's part is played by a stand-in holding only what the guard reads of the app
(its generation, assignment and recovery flag): Faust cannot be made to skip records
on demand; tests/streams/test_resilience_e2e.py covers the guard inside a real worker."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from schemas import topics
from streams.failure.records import Origin
from streams.runtime.holes import HoleGuard
from tests.support.system import System
from wastream.config import Settings


def _app(topic: str) -> Any:
    completed = asyncio.Event()
    completed.set()
    return SimpleNamespace(
        consumer_generation_id=1,
        rebalancing=False,
        tables=SimpleNamespace(recovery=SimpleNamespace(completed=completed)),
        consumer=SimpleNamespace(assignment=lambda: {TopicPartition(topic, 0)}),
    )


def _offsets() -> tuple[list[int], Any]:
    """A handler for the guard that records the offsets it is given, and that list."""
    handled: list[int] = []

    async def handle(key: bytes | None, value: bytes | None, hdrs: Any, o: Origin) -> None:
        handled.append(o.offset)

    return handled, handle


async def _produce(bootstrap: str, topic: str, n: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for i in range(n):
            await producer.send_and_wait(topic, f"r{i}".encode(), key=b"k", partition=0)
    finally:
        await producer.stop()


async def test_guard_reads_holes_in_order_from_the_committed_offset(system: System) -> None:
    settings = Settings.from_env(system.env)
    topic = system.topic(topics.INBOUND)
    await _produce(system.bootstrap, topic, 12)
    committer = AIOKafkaConsumer(
        bootstrap_servers=system.bootstrap,
        group_id=settings.faust_app_id,
        enable_auto_commit=False,
    )
    await committer.start()
    try:  # the group has processed offsets 0..2
        committer.assign([TopicPartition(topic, 0)])
        await committer.commit({TopicPartition(topic, 0): 3})
    finally:
        await committer.stop()

    handled: list[tuple[int, bytes | None]] = []

    async def handle(key: bytes | None, value: bytes | None, hdrs: Any, o: Origin) -> None:
        handled.append((o.offset, value))

    app = _app(topic)
    guard = HoleGuard(app, settings, topic, handle)
    try:
        # Faust's first record after the restart is 5: 3 and 4 were skipped
        await guard.before(0, 5)
        assert handled == [(3, b"r3"), (4, b"r4")]
        handled.clear()
        await guard.before(0, 6)  # contiguous: nothing to read
        await guard.before(0, 9)  # 7 and 8 missing
        assert handled == [(7, b"r7"), (8, b"r8")]
        handled.clear()
        await guard.before(0, 4)  # a rewind is not a hole (the dedupe absorbs repeats)
        assert handled == []
        await guard.before(0, 9)
        assert handled == [(5, b"r5"), (6, b"r6"), (7, b"r7"), (8, b"r8")]
        handled.clear()

        # 10 and 11 never come: the sweep reads them once the partition is quiet, after
        # settling the actor's open group
        settled: list[int] = []

        async def settle_open(partition: int) -> None:
            assert guard.lock_for(partition).locked()
            settled.append(len(handled))

        guard.settlers.append(settle_open)
        guard.idle_s = 0.5
        await guard.sweep(actor_idle=False)  # the actor is working: not now
        await asyncio.sleep(0.6)
        await guard.sweep(actor_idle=False)
        assert handled == []
        await guard.sweep(actor_idle=True)  # notes the log's end: Faust's turn first
        assert handled == []
        await guard.sweep(actor_idle=True)  # still not delivered a sweep later: read
        assert handled == [(10, b"r10"), (11, b"r11")]
        assert settled == [0, 0]  # before the first record was read
        await guard.sweep(actor_idle=True)  # nothing more
        assert len(handled) == 2
        assert guard.filled == 10

        # a rebalance resets what the guard expects: it starts from the committed offset
        app.consumer_generation_id = 2
        handled.clear()
        await guard.before(0, 4)
        assert handled == [(3, b"r3")]

        # on assignment the guard notes the committed offsets before anything arrives
        app.consumer_generation_id = 3
        await guard.on_assigned({TopicPartition(topic, 0), TopicPartition("other", 0)})
        assert guard.expected == {0: 3}
    finally:
        await guard.close()


async def test_guarded_agent_loop_fills_holes_and_locks_per_partition(system: System) -> None:
    """``guarded`` (the loop of the sender's and the echo worker's agents): each event is
    handled under its partition's lock after the holes before it are filled; the sweep
    waits until every actor's queue is empty."""
    from streams.runtime.holes import guarded

    settings = Settings.from_env(system.env)
    topic = system.topic(topics.INBOUND)
    await _produce(system.bootstrap, topic, 4)
    handled: list[int] = []
    guard: HoleGuard

    async def handle(key: bytes | None, value: bytes | None, hdrs: Any, o: Origin) -> None:
        assert guard.lock_for(o.partition).locked()
        handled.append(o.offset)

    guard = HoleGuard(_app(topic), settings, topic, handle, per_partition=True)
    assert guard.lock_for(0) is guard.lock_for(0)
    assert guard.lock_for(0) is not guard.lock_for(1)
    assert not guard.actors_idle()  # no actor yet: nothing to sweep for

    queue: asyncio.Queue[Any] = asyncio.Queue()

    def ev(offset: int) -> Any:
        return SimpleNamespace(key=b"k", value=f"r{offset}".encode(), headers={},
                               message=SimpleNamespace(topic=topic, partition=0, offset=offset))

    class Stream:  # what guarded() uses of a Faust stream
        channel = SimpleNamespace(queue=queue)

        async def events(self) -> Any:
            assert guard.queues == [queue]
            assert guard.actors_idle()
            for offset in (0, 3):  # Faust skipped 1 and 2
                yield ev(offset)

    try:
        await guarded(guard, Stream())
        assert handled == [0, 1, 2, 3]
        assert guard.queues == []
    finally:
        await guard.close()


async def test_holes_of_two_partitions_found_at_once_are_both_filled(system: System) -> None:
    """The sender's actors (one per partition) can find holes at the same moment: the
    guard's one private reader serves the fills one after the other (it crashed the
    agent with a half-started consumer, and two fills would steal its assignment)."""
    settings = Settings.from_env(system.env)
    topic = system.topic(topics.INBOUND)
    producer = AIOKafkaProducer(bootstrap_servers=system.bootstrap, acks="all")
    await producer.start()
    try:
        for p in (0, 1):
            for i in range(6):
                await producer.send_and_wait(topic, f"p{p}r{i}".encode(), key=b"k", partition=p)
    finally:
        await producer.stop()
    handled: dict[int, list[int]] = {0: [], 1: []}
    guard: HoleGuard

    async def handle(key: bytes | None, value: bytes | None, hdrs: Any, o: Origin) -> None:
        assert value == f"p{o.partition}r{o.offset}".encode()
        handled[o.partition].append(o.offset)
        await asyncio.sleep(0.01)  # let the other partition's fill interleave if it can

    committer = AIOKafkaConsumer(bootstrap_servers=system.bootstrap,
                                 group_id=settings.faust_app_id, enable_auto_commit=False)
    await committer.start()
    try:  # the group has processed nothing of either partition
        tps = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
        committer.assign(tps)
        await committer.commit(dict.fromkeys(tps, 0))
    finally:
        await committer.stop()
    guard = HoleGuard(_app(topic), settings, topic, handle, per_partition=True)

    async def actor(partition: int) -> None:
        async with guard.lock_for(partition):
            await guard.before(partition, 5)

    try:
        await asyncio.gather(actor(0), actor(1))
        assert handled == {0: [0, 1, 2, 3, 4], 1: [0, 1, 2, 3, 4]}
    finally:
        await guard.close()


async def test_first_record_waits_until_the_committed_offset_can_be_read(
        system: System) -> None:
    """The broker cannot say where the group stands, at assignment and for a while
    after: the first record waits for it rather than going unchecked (records Faust
    skipped before it would be lost)."""
    settings = Settings.from_env(system.env)
    topic = system.topic(topics.INBOUND)
    await _produce(system.bootstrap, topic, 6)
    committer = AIOKafkaConsumer(bootstrap_servers=system.bootstrap,
                                 group_id=settings.faust_app_id, enable_auto_commit=False)
    await committer.start()
    try:  # the group has processed offsets 0..2
        committer.assign([TopicPartition(topic, 0)])
        await committer.commit({TopicPartition(topic, 0): 3})
    finally:
        await committer.stop()
    handled, handle = _offsets()
    guard = HoleGuard(_app(topic), settings, topic, handle)
    real = guard._committed_many
    refused = []

    async def away_for_a_while(partitions: list[int]) -> dict[int, int]:
        if len(refused) < 4:  # the assignment's ask and three of the actor's
            refused.append(partitions)
            raise ConnectionError("the group coordinator is not available")
        return await real(partitions)

    guard._committed_many = away_for_a_while  # type: ignore[method-assign]
    try:
        await guard.on_assigned({TopicPartition(topic, 0)})
        assert guard.expected == {}
        await guard.before(0, 5)  # Faust skipped 3 and 4
        assert len(refused) == 4
        assert handled == [3, 4]
        assert guard.expected == {0: 6}
    finally:
        await guard.close()


async def test_a_partition_the_group_never_committed_is_read_from_the_log_start(
        system: System) -> None:
    """A worker killed before its first commit leaves a group with no offsets; the
    restarted Faust was seen delivering nothing of such a partition (the kill -9 test
    stalled). The app resets to "earliest", so the guard reads it from the start."""
    settings = Settings.from_env(system.env)
    topic = system.topic(topics.INBOUND)
    await _produce(system.bootstrap, topic, 5)
    handled, handle = _offsets()
    guard = HoleGuard(_app(topic), settings, topic, handle)
    try:
        await guard.on_assigned({TopicPartition(topic, 0)})
        assert guard.expected == {0: 0}
        guard.idle_s = 0.0
        await guard.sweep(actor_idle=True)  # notes the log's end: Faust's turn first
        assert handled == []
        await guard.sweep(actor_idle=True)  # nothing was delivered: all of it is read
        assert handled == [0, 1, 2, 3, 4]
        assert guard.expected == {0: 5}

        handled.clear()  # the actor's first record, past records Faust skipped
        other = HoleGuard(_app(topic), settings, topic, handle)
        try:
            await other.before(0, 3)
            assert handled == [0, 1, 2]
        finally:
            await other.close()
    finally:
        await guard.close()


async def test_the_sweep_leaves_a_record_that_just_arrived_to_faust(system: System) -> None:
    """A quiet partition's new record is Faust's to deliver: the sweep reads only what was
    already in the log at its previous round (it read a partition's first record while
    Faust delivered it too: a media download ran twice)."""
    settings = Settings.from_env(system.env)
    topic = system.topic(topics.INBOUND)
    handled, handle = _offsets()
    guard = HoleGuard(_app(topic), settings, topic, handle)
    try:
        await guard.on_assigned({TopicPartition(topic, 0)})
        guard.idle_s = 0.0
        await guard.sweep(actor_idle=True)  # an empty partition
        await _produce(system.bootstrap, topic, 1)
        await guard.sweep(actor_idle=True)  # the record has just arrived: not read
        assert handled == []
        await guard.before(0, 0)  # Faust delivers it
        assert handled == []  # no hole before it
        await guard.sweep(actor_idle=True)
        assert handled == []  # not read a second time
        assert guard.filled == 0
    finally:
        await guard.close()


async def test_an_assignment_answered_late_keeps_where_the_actor_got_to(
        system: System) -> None:
    """Faust starts the actor before ``on_partitions_assigned``'s question about the
    committed offsets is answered; the late answer must not rewind what the actor has
    already handled (it did: a dead-lettered reply was read again and sent)."""
    settings = Settings.from_env(system.env)
    topic = system.topic(topics.INBOUND)
    await _produce(system.bootstrap, topic, 3)
    handled, handle = _offsets()
    guard = HoleGuard(_app(topic), settings, topic, handle)
    real = guard._committed_many
    answer = asyncio.Event()
    calls = 0

    async def late_for_the_assignment(partitions: list[int]) -> dict[int, int]:
        nonlocal calls
        calls += 1
        if calls == 1:  # the assignment's question
            await answer.wait()
        return await real(partitions)

    guard._committed_many = late_for_the_assignment  # type: ignore[method-assign]
    try:
        assigning = asyncio.ensure_future(guard.on_assigned({TopicPartition(topic, 0)}))
        await asyncio.sleep(0)
        await guard.before(0, 0)  # the actor handles 0 and 1 meanwhile
        await guard.before(0, 1)
        answer.set()
        await assigning
        await guard.before(0, 2)
        assert handled == []  # nothing read again
        assert guard.expected == {0: 3}
    finally:
        await guard.close()


async def test_records_read_again_after_a_restart_are_dead_lettered_once(
        system: System) -> None:
    """A restarted worker reads again what it had handled but not committed, and a
    record that fails for good is dead-lettered again: the copies carry the record's
    own id (topic:partition:offset), so operators see each dead letter once."""
    from schemas import headers as h
    from streams.dlq.ops import DlqOps
    from streams.failure.errors import PermanentError
    from streams.failure.records import error_headers
    from tests.support import kafka as tk

    settings = Settings.from_env(system.env)
    topic = system.topic(topics.INBOUND)
    await _produce(system.bootstrap, topic, 6)
    committer = AIOKafkaConsumer(bootstrap_servers=system.bootstrap,
                                 group_id=settings.faust_app_id, enable_auto_commit=False)
    await committer.start()
    try:  # the group committed offset 3 and never more: 3.. are read after each restart
        committer.assign([TopicPartition(topic, 0)])
        await committer.commit({TopicPartition(topic, 0): 3})
    finally:
        await committer.stop()

    async def dead_letter(key: bytes | None, value: bytes | None, hdrs: Any,
                          o: Origin) -> None:  # what the failure router does
        exc = PermanentError(f"bad record {value!r}")
        await tk.produce(system.bootstrap, system.topic(topics.DLQ), [(key, value or b"")],
                         headers=h.to_headers(error_headers(exc, o, 0)))

    for _ in range(2):  # the first run, then the restart
        guard = HoleGuard(_app(topic), settings, topic, dead_letter)
        try:
            await guard.before(0, 5)  # Faust skipped 3 and 4
            await dead_letter(b"k", b"r5", {}, Origin(topic, 0, 5))  # the actor's own
        finally:
            await guard.close()
    copies = await system.read(topics.DLQ, min_count=6, timeout_s=20)
    assert len(copies) == 6  # each record dead-lettered in both runs
    letters = await DlqOps(settings).list_letters()
    assert sorted((r["dlq_id"], r["copies"]) for r in letters) == [
        (f"{topic}:0:{o}", 2) for o in (3, 4, 5)]

"""The projector never stalls a partition silently (issue 16, finding 6): records that
retention deleted before they were projected are recorded as a skipped range in
``projection_errors`` and the partition moves on; records fetched before a seek back do
not make it drop what was fetched after the seek."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

from projections.events import EventsProjection
from projections.migrations import migrate
from projections.projector import Projector
from projections.store import BatchResult
from schemas import topics
from tests.support import projection_data as pd
from tests.support.system import System
from wastream.config import Settings

U = "250788000777"  # one user: one partition


async def _project_until(projector: Projector, cond: Any, timeout_s: float) -> bool:
    """Run the projector until ``cond()`` (awaitable) is true or the time is up."""
    stop = asyncio.Event()
    task = asyncio.create_task(projector.run(stop))
    try:
        for _ in range(int(timeout_s / 0.2)):
            if await cond():
                return True
            assert not task.done(), task
            await asyncio.sleep(0.2)
        return bool(await cond())
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_records_deleted_before_they_were_projected_are_recorded_and_skipped(
        system: System) -> None:
    settings = Settings.from_env(system.env)
    await migrate(settings)
    topic = system.topic(topics.INBOUND)
    events = [pd.inbound(i, U) for i in range(20)]
    await pd.produce(system.bootstrap, topic, [(U, e) for e in events[:10]])
    conn = await system.db()

    async def rows() -> int:
        n: int = await conn.fetchval("SELECT count(*) FROM wa_events")
        return n

    try:
        assert await _project_until(Projector(settings, [EventsProjection()]),
                                    lambda: _at_least(rows, 10), 60)
        part = await conn.fetchval("SELECT partition FROM projection_offsets "
                                   "WHERE projection = 'events'")
        # the projector is down; 10 more arrive, and retention deletes up to offset 15
        await pd.produce(system.bootstrap, topic, [(U, e) for e in events[10:]])
        admin = AIOKafkaAdminClient(bootstrap_servers=system.bootstrap)
        await admin.start()
        try:
            tp = TopicPartition(topic, part)
            await admin.delete_records({tp: RecordsToDelete(before_offset=15)})
        finally:
            await admin.close()

        projector = Projector(settings, [EventsProjection()])
        assert await _project_until(projector, lambda: _at_least(rows, 15), 60), \
            "the partition stalled at the deleted records"
        got = [r["event_id"] for r in await conn.fetch(
            "SELECT event_id FROM wa_events ORDER BY event_id")]
        assert got == [e.event_id for e in events[:10] + events[15:]]
        errors = await conn.fetch('SELECT projection, partition, "offset", error, record_value '
                                  "FROM projection_errors")
        assert [(r["projection"], r["partition"], r["offset"], r["record_value"])
                for r in errors] == [("events", part, 10, None)]
        assert "offsets 10..14 were deleted" in errors[0]["error"]
        assert await conn.fetchval("SELECT \"offset\" FROM projection_offsets "
                                   "WHERE projection = 'events'") == 20
        assert projector.skipped == {(topics.INBOUND, part): [(10, 15)]}
    finally:
        await conn.close()


async def _at_least(rows: Any, n: int) -> bool:
    return bool(await rows() >= n)


class _Consumer:
    """What the projector's reader and writer use of aiokafka's consumer: ``getmany``
    hands out scripted chunks; the second waits until the writer has sought."""

    def __init__(self, topic: str) -> None:
        self.tp = TopicPartition(topic, 0)
        self.sought = asyncio.Event()
        self.seeks: list[int] = []
        self.calls = 0

    def _records(self, offsets: range) -> dict[TopicPartition, list[Any]]:
        return {self.tp: [SimpleNamespace(partition=0, offset=o, key=b"k", value=b"{}",
                                          headers=(), timestamp=0) for o in offsets]}

    async def getmany(self, *, timeout_ms: int, max_records: int) -> Any:
        self.calls += 1
        if self.calls == 1:
            return self._records(range(100, 110))  # fetched before the seek back
        if self.calls == 2:
            await self.sought.wait()
            return self._records(range(50, 60))  # after it: from the sought offset
        await asyncio.sleep(timeout_ms / 1000)
        return {}

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append(offset)
        self.sought.set()

    async def beginning_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return dict.fromkeys(tps, 0)


async def test_chunks_from_before_and_after_a_seek_in_one_batch_keep_the_later() -> None:
    """The writer seeks a partition back (a gap) while the reader is building its next
    batch: that batch holds records from before the seek (100..) and after it (50..).
    The old check looked at the first record only (100 > 50: stale) and dropped all of
    it, and every batch after it, forever."""
    settings = Settings.from_env({"WASTREAM_PROJECTOR_BATCH": "1000",
                                  "WASTREAM_PROJECTOR_LINGER_MS": "300"})
    projector = Projector(settings, [EventsProjection()])
    consumer = _Consumer(settings.topic(topics.INBOUND))
    projector.consumer = consumer  # type: ignore[assignment]

    class Store:
        async def apply(self, batch: Any) -> BatchResult:
            return BatchResult(seeks={(topics.INBOUND, 0): 50})

    projector.store = Store()  # type: ignore[assignment]
    stop = asyncio.Event()
    building = asyncio.create_task(projector.next_batch(stop))
    await asyncio.sleep(0.05)  # the reader has its first chunk and waits for more
    assert await projector.write({(topics.INBOUND, 0): []}, stop)  # type: ignore[arg-type]
    batch = projector._drop_stale(await building)
    assert consumer.seeks == [50]
    assert [m.offset for m in batch.get((topics.INBOUND, 0), [])] == list(range(50, 60))

"""Reading and writing real topics from tests (plain helpers, not fixtures)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]
    timestamp: int

    def json(self) -> Any:
        assert self.value is not None
        return orjson.loads(self.value)


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    min_count: int = 1,
    timeout_s: float = 30.0,
    settle_s: float = 0.0,
) -> list[Record]:
    """Read ``topic`` from the beginning until at least ``min_count`` records have been
    seen (then ``settle_s`` more seconds, to catch records that should NOT be there) or
    the timeout passes. Records come back ordered by (partition, offset)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        deadline = time.monotonic() + timeout_s
        while not partitions and time.monotonic() < deadline:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic)
            await asyncio.sleep(0.1)
        assert partitions, f"topic {topic} does not exist"
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        out: list[Record] = []
        settle_deadline: float | None = None
        while True:
            now = time.monotonic()
            if settle_deadline is None and len(out) >= min_count:
                settle_deadline = now + settle_s
            if settle_deadline is not None and now >= settle_deadline:
                break
            if now >= deadline:
                break
            batch = await consumer.getmany(timeout_ms=200)
            for _tp, msgs in batch.items():
                for m in msgs:
                    out.append(
                        Record(
                            m.topic,
                            m.partition,
                            m.offset,
                            m.key,
                            m.value,
                            dict(m.headers or ()),
                            m.timestamp,
                        )
                    )
        out.sort(key=lambda r: (r.partition, r.offset))
        return out
    finally:
        await consumer.stop()


async def produce(
    bootstrap: str,
    topic: str,
    records: list[tuple[bytes | None, bytes]],
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        futures = [await producer.send(topic, value=v, key=k, headers=headers) for k, v in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()

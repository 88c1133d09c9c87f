"""Coalesce the records of concurrent requests into Kafka record batches per partition.

aiokafka's ``send()`` costs tens of µs of pure Python per record (a coroutine, the
partitioner, the accumulator, a future): for a 50-update body that, not Kafka, bounded
the ingress. Requests here only queue their records; one flusher task takes everything
queued, appends it, in queue order, to ``create_batch()`` builders (aiokafka's C record
builder), one per partition, and hands them to ``send_batch()``. A request's future
resolves when every batch holding one of its records is acknowledged. acks=all and
idempotence are the producer's and unchanged; only the bookkeeping is shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer

from ingress.errors import BrokerNotConnected

log = logging.getLogger(__name__)


class Record(Protocol):
    """What the batcher needs of a record (``ingress.sink.OutRecord``)."""

    @property
    def topic(self) -> str: ...
    @property
    def key(self) -> bytes: ...
    @property
    def value(self) -> bytes: ...
    @property
    def headers(self) -> list[tuple[str, bytes]]: ...
    @property
    def spread(self) -> bool: ...


class Batcher:
    """The flusher of one producer; ``submit`` returns a future per request."""

    def __init__(self, producer: AIOKafkaProducer, key_hash: Callable[[bytes], int],
                 on_failure: Callable[[BaseException], None]) -> None:
        self._producer = producer
        self._key_hash = key_hash
        self._on_failure = on_failure
        self._queue: list[tuple[Sequence[Record], asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._partitions: dict[str, list[int]] = {}
        self._round = 0
        self._task = asyncio.create_task(self._run(), name="kafka-batcher")

    def submit(self, records: Sequence[Record]) -> asyncio.Future[None]:
        """Queue ``records`` (in order); the future is done when all are acked."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((records, fut))
        self._wake.set()
        return fut

    async def close(self) -> None:
        """Stop flushing; requests still queued fail (the producer is going away)."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        for _records, fut in self._queue:
            if not fut.done():
                fut.set_exception(BrokerNotConnected("producer replaced or stopped"))
        self._queue = []

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            queue, self._queue = self._queue, []
            self._round += 1
            try:
                await self._flush(queue)
            except Exception as exc:
                for _records, fut in queue:
                    if not fut.done():
                        fut.set_exception(exc)
                self._on_failure(exc)

    async def _partitions_of(self, topic: str) -> list[int]:
        parts = self._partitions[topic] = sorted(await self._producer.partitions_for(topic))
        return parts

    async def _flush(self, queue: list[tuple[Sequence[Record], asyncio.Future[None]]]) -> None:
        # Per record this loop is the whole cost of batching: no coroutine per record,
        # partitions resolved from the cache (awaited only for a topic seen first).
        groups: dict[tuple[str, int], list[tuple[Record, int]]] = {}
        known = self._partitions
        key_hash = self._key_hash
        for i, (records, _fut) in enumerate(queue):
            for r in records:
                parts = known.get(r.topic)
                if parts is None:
                    parts = await self._partitions_of(r.topic)
                # Spread records of one round share a partition (one batch, not one per
                # partition); rounds rotate over the partitions.
                h = self._round if r.spread else key_hash(r.key)
                where = (r.topic, parts[h % len(parts)])
                members = groups.get(where)
                if members is None:
                    members = groups[where] = []
                members.append((r, i))
        waits: list[list[asyncio.Future[Any]]] = [[] for _ in queue]
        for (topic, partition), members in groups.items():
            builder = self._producer.create_batch()
            in_batch: set[int] = set()
            for r, i in members:
                if builder.append(key=r.key, value=r.value, timestamp=None,
                                  headers=r.headers) is None:
                    # Full: ship it and start the next (an empty builder takes any record).
                    fut = await self._producer.send_batch(builder, topic, partition=partition)
                    for m in in_batch:
                        waits[m].append(fut)
                    builder, in_batch = self._producer.create_batch(), set()
                    builder.append(key=r.key, value=r.value, timestamp=None, headers=r.headers)
                in_batch.add(i)
            fut = await self._producer.send_batch(builder, topic, partition=partition)
            for m in in_batch:
                waits[m].append(fut)
        _resolve_after_flush([request for _records, request in queue], waits)


def _resolve_after_flush(requests: list[asyncio.Future[None]],
                         waits: list[list[asyncio.Future[Any]]]) -> None:
    """Once every batch of the flush is settled, answer each request from its own
    batches: done when all of them were acknowledged, else with the first failure.

    One callback per batch rather than one per request and batch: a flush's batches
    travel in one produce request per broker, so waiting for the flush costs a request
    no extra round trip on a single broker. A request may already be done (deadline
    passed, waiter cancelled): then its batches land unobserved."""
    batches = {id(b): b for ws in waits for b in ws}
    remaining = len(batches)

    def settle() -> None:
        for request, own in zip(requests, waits, strict=True):
            if request.done():
                continue
            failure: BaseException | None = None
            for b in own:
                if b.cancelled():
                    failure = BrokerNotConnected("delivery cancelled: producer stopped")
                    break
                failure = b.exception()
                if failure is not None:
                    break
            if failure is None:
                request.set_result(None)
            else:
                request.set_exception(failure)

    if remaining == 0:
        settle()
        return

    def one_done(_batch: asyncio.Future[Any]) -> None:
        nonlocal remaining
        remaining -= 1
        if remaining == 0:
            settle()

    for b in batches.values():
        b.add_done_callback(one_done)

"""Retry tiers: the delay lines ``wa.retry.<delay>``.

The failure router (``streams.failure.router``) publishes a failed record to a tier with a due
time (``wastream.due_at``) and a head token. :class:`TierConsumer` reads every tier and,
when a record is due, re-publishes it unchanged to its original topic and partition,
where the router runs it as the head of its key. It decides nothing else.

Waiting without stalling rebalances or shutdown: a record that is not yet due is never
awaited. The consumer seeks its partition back to that record and pauses the partition
until the due time, and keeps polling (``getmany`` with a short timeout), so the
consumer's heartbeats, rebalances and a stop request are served at once; a partition
revoked while paused is simply forgotten (its committed offset is before the record).
Offsets are committed manually, only after the re-published records are acked: a crash
in between re-publishes them again, and the router drops the stale duplicate.

A re-publish that fails (the broker away, a timeout, any produce error) does not end
the consumer: the partition is sought back to the first record not committed and the
consumer waits, with a backoff that doubles up to ``BACKOFF_MAX_S``, before trying
again. Whatever of that batch was already written is written again, and the router
drops those duplicates by their head token.

Records within one tier partition are due in the order they were written (one delay
per tier), so the head of a partition is always the first one due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from prometheus_client import Counter, Gauge

from schemas import headers as h
from schemas import topics
from wastream.config import Settings
from wastream.config.kafka import client_args

log = logging.getLogger(__name__)

REPUBLISHED = Counter("wastream_retry_republished_total", "Records re-published by a tier",
                      ["tier"])
PAUSED = Gauge("wastream_retry_paused_partitions", "Tier partitions waiting for a due record")
DEPTH = Gauge("wastream_retry_tier_depth", "Records waiting in a retry tier (not yet re-published)",
              ["tier"])
GROUP = "wastream.retry"  # the tier consumer's group, under the topic prefix
PRODUCE_FAILED = Counter("wastream_retry_republish_failures",
                         "Re-publishes of a tier batch that failed and will be tried again",
                         ["tier"])

BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 30.0


def tier_topics(settings: Settings) -> list[str]:
    return [settings.topic(topics.retry_topic(d))
            for d in settings.failure.retry_delays]


def _due_s(headers: dict[str, bytes]) -> float:
    try:
        return int(headers[h.DUE_AT]) / 1000
    except (KeyError, ValueError):
        return 0.0  # no due time: due now


class TierConsumer:
    """Consumes every retry tier in consumer group ``<prefix>wastream.retry`` and
    re-publishes due records to their original topic (see the module docstring)."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time,
                 poll_ms: int = 200) -> None:
        self.settings = settings
        self.clock = clock
        self.poll_ms = poll_ms
        self.topics = tier_topics(settings)
        self.dlq = settings.topic(topics.DLQ)
        self._stopping = asyncio.Event()
        self._backoff_s = 0.0  # 0 while re-publishing works
        self.ready = asyncio.Event()
        self.consumer: AIOKafkaConsumer | None = None  # while running (tests look at it)

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            *self.topics, **client_args(self.settings.kafka),
            group_id=self.settings.group(GROUP), enable_auto_commit=False,
            auto_offset_reset="earliest", max_poll_records=500)
        producer = AIOKafkaProducer(**client_args(self.settings.kafka),
                                    acks="all", enable_idempotence=True)
        await producer.start()
        try:
            await consumer.start()
            self.consumer = consumer
            try:
                self.ready.set()
                await self._loop(consumer, producer)
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()
        finally:
            with contextlib.suppress(Exception):
                await producer.stop()

    async def _loop(self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer) -> None:
        paused: dict[TopicPartition, float] = {}
        while not self._stopping.is_set():
            now = self.clock()
            assigned = consumer.assignment()
            for tp, due in list(paused.items()):
                if tp not in assigned:
                    del paused[tp]  # revoked while waiting: the new owner starts from the commit
                elif due <= now:
                    consumer.resume(tp)
                    del paused[tp]
            PAUSED.set(len(paused))
            try:
                batch = await consumer.getmany(timeout_ms=self.poll_ms)
            except KafkaError as exc:
                log.warning("tier poll failed: %s", exc)
                await asyncio.sleep(1)
                continue
            for tp, msgs in batch.items():
                if tp in paused:
                    continue  # fetched before the pause took effect; re-read after resume
                await self._partition(consumer, producer, tp, msgs, paused)

    async def _partition(self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer,
                         tp: TopicPartition, msgs: list[Any],
                         paused: dict[TopicPartition, float]) -> None:
        futures: list[Awaitable[Any]] = []
        commit_to: int | None = None
        for m in msgs:
            hdrs = {k: bytes(v) for k, v in (m.headers or ())}
            due = _due_s(hdrs)
            if due > self.clock():
                consumer.seek(tp, m.offset)
                consumer.pause(tp)
                paused[tp] = due
                break
            target = hdrs.get(h.ORIGINAL_TOPIC, b"").decode() or self.dlq
            try:
                partition: int | None = int(hdrs[h.ORIGINAL_PARTITION])
            except (KeyError, ValueError):
                partition = None
            hdrs[h.TIER] = tp.topic.encode()
            try:
                futures.append(await producer.send(target, value=m.value, key=m.key,
                                                   partition=partition,
                                                   headers=list(hdrs.items())))
            except Exception as exc:
                # Sent ones may still land: not waited for, re-sent after the backoff.
                for f in futures:
                    asyncio.ensure_future(f).add_done_callback(_ignore_result)
                await self._republish_failed(consumer, tp, msgs[0].offset, exc)
                return
            commit_to = m.offset + 1
        if futures:
            try:
                await asyncio.gather(*futures)
            except Exception as exc:
                await self._republish_failed(consumer, tp, msgs[0].offset, exc)
                return
            self._backoff_s = 0.0
            REPUBLISHED.labels(tp.topic).inc(len(futures))
        if commit_to is not None:
            try:
                await consumer.commit({tp: commit_to})
            except (CommitFailedError, KafkaError) as exc:
                # A rebalance took the partition: the new owner re-publishes from the last
                # commit, and the router drops those duplicates by their head token.
                log.warning("tier commit failed for %s: %s", tp, exc)


    async def _republish_failed(self, consumer: AIOKafkaConsumer, tp: TopicPartition,
                                first: int, exc: BaseException) -> None:
        """Seek ``tp`` back to ``first`` (the batch's first record, not committed) and
        wait out a backoff before the next poll re-reads it."""
        self._backoff_s = min(BACKOFF_MAX_S, max(BACKOFF_MIN_S, self._backoff_s * 2))
        PRODUCE_FAILED.labels(tp.topic).inc()
        log.warning("re-publishing from %s failed (%s: %s); again from offset %d in %.1fs",
                    tp, type(exc).__name__, exc, first, self._backoff_s)
        with contextlib.suppress(Exception):  # revoked meanwhile: the new owner re-reads
            consumer.seek(tp, first)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), self._backoff_s)


def depth_from(settings: Settings) -> Callable[[dict[tuple[str, str, int], int]], None]:
    """Sets ``wastream_retry_tier_depth`` from a lag measurement
    (``wastream.observability.lag``): a tier's depth is its group's lag over its partitions."""
    group, names = settings.group(GROUP), tier_topics(settings)

    def measured(lags: dict[tuple[str, str, int], int]) -> None:
        for name in names:
            DEPTH.labels(name).set(sum(n for (g, t, _), n in lags.items()
                                       if g == group and t == name))
    return measured


def _ignore_result(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()  # retrieved, so that asyncio does not log it as never retrieved


def register(app: Any, settings: Settings) -> TierConsumer:
    """Run the tier consumer inside a Faust worker (started after recovery, stopped with
    the app)."""
    tiers = TierConsumer(settings)

    @app.task  # type: ignore[untyped-decorator]
    async def _retry_tiers() -> None:
        try:
            await tiers.run()
        finally:
            tiers.stop()

    return tiers


def install(rt: Any) -> TierConsumer:
    """``streams.worker`` hook: the tier consumer in the worker."""
    return register(rt.app, rt.settings)

"""The ingress's way into Kafka: idempotent producers, a deadline, a readiness probe.

Two producers: one for ``wa.inbound`` (small records, no compression, the hot path)
and one for ``wa.webhooks.raw`` (gzip: a 3 MiB body must fit the broker's default
``message.max.bytes`` of 1 MiB, and JSON compresses well). Both use ``acks=all`` and
``enable_idempotence=True``, so a retried send never duplicates a record.

The ingress starts while Kafka is down: the producers connect in the background and
every POST meanwhile gets 503 (:class:`BrokerNotConnected`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidProducerEpoch,
    InvalidProducerIdMapping,
    KafkaError,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    UnknownProducerId,
)
from aiokafka.partitioner import murmur2

from ingress.batcher import Batcher
from ingress.errors import BrokerNotConnected, ProduceError, ProduceTimeout

log = logging.getLogger(__name__)

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class OutRecord:
    """One record to produce. ``spread``: any partition will do (a unique key that needs
    no co-partitioning, like a raw body's correlation id): no murmur2, no memo."""

    topic: str
    key: bytes
    value: bytes
    headers: Headers
    spread: bool = False

# Errors after which an idempotent producer is dead for good: aiokafka's sender task
# exits and every later send raises the same error (seen after a broker restart that
# outlived the request timeout). The only cure is a new producer (a new producer id).
# Under the broker's default message.max.bytes (1 MiB) with room for headers and framing.
_UNCOMPRESSED_RAW_MAX = 900 * 1024

_FATAL = (OutOfOrderSequenceNumber, ProducerFenced, InvalidProducerEpoch,
          InvalidProducerIdMapping, UnknownProducerId)


class MemoPartitioner:
    """Kafka's default partitioner (murmur2 of the key, as the Java client and Faust
    use, so wa_id keys stay co-partitioned), with the hash memoised: aiokafka's murmur2
    is pure Python and was the largest single cost per record, while the same users
    write again and again."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._hashes: dict[bytes, int] = {}
        self._max_keys = max_keys

    def __call__(self, key: bytes | None, all_partitions: list[int],
                 available: list[int]) -> int:
        if key is None:
            return random.choice(available or all_partitions)  # noqa: S311 - not crypto
        return all_partitions[self.hash(key) % len(all_partitions)]

    def hash(self, key: bytes) -> int:
        """murmur2(key) & 0x7fffffff, as Kafka's DefaultPartitioner."""
        h = self._hashes.get(key)
        if h is None:
            if len(self._hashes) >= self._max_keys:
                self._hashes.clear()
            h = self._hashes[key] = murmur2(key) & 0x7FFFFFFF
        return h


class Deadlines:
    """The produce deadline of every request, kept by one timer.

    Every request gets the same timeout, so deadlines fall due in the order requests
    arrive: a queue, and one timer armed for the oldest request still waiting. (A
    ``call_later`` per request cost a timer object, a heap push that compares timers in
    Python, and a cancel, for a deadline that almost never fires.) Answered requests
    leave the queue as new ones arrive: they are answered in about the order they came.
    """

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._queue: deque[tuple[float, asyncio.Future[None]]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._queue)

    def watch(self, request: asyncio.Future[None]) -> None:
        """Fail ``request`` with :class:`ProduceTimeout` if it is not done in time."""
        queue = self._queue
        while queue and queue[0][1].done():
            queue.popleft()
        loop = asyncio.get_running_loop()
        queue.append((loop.time() + self.timeout_s, request))
        if self._timer is None:
            self._timer = loop.call_at(queue[0][0], self._expire)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._queue.clear()

    def _expire(self) -> None:
        self._timer = None
        queue = self._queue
        loop = asyncio.get_running_loop()
        now = loop.time()
        while queue:
            due, request = queue[0]
            if not request.done():
                if due > now:
                    self._timer = loop.call_at(due, self._expire)
                    return
                request.set_exception(
                    ProduceTimeout("kafka did not acknowledge the records in time"))
            queue.popleft()


@dataclass(frozen=True, slots=True)
class SinkOptions:
    """``produce_timeout_s``: the deadline for every record of a body to be acked."""

    bootstrap: str
    produce_timeout_s: float = 5.0
    #: How the producers connect (wastream.config.kafka.client_args); None: plaintext to
    #: ``bootstrap``.
    connection: Mapping[str, Any] | None = None
    linger_ms: int = 0
    max_raw_bytes: int = 3 * 1024 * 1024
    request_timeout_ms: int = 30_000


class KafkaSink:
    """Produces a body's records and returns only when Kafka acknowledged all of them."""

    def __init__(self, options: SinkOptions) -> None:
        self.options = options
        self._events: AIOKafkaProducer | None = None
        self._raw: AIOKafkaProducer | None = None
        self._batcher: Batcher | None = None
        self._memo = MemoPartitioner()
        self._connector: asyncio.Task[None] | None = None
        self._probe_at = 0.0
        self._probe_ok = False
        self._probe_lock = asyncio.Lock()
        self._retired: set[asyncio.Task[None]] = set()
        self._deadlines = Deadlines(options.produce_timeout_s)

    @property
    def connected(self) -> bool:
        return self._events is not None and self._raw is not None

    async def start(self) -> None:
        """Begin connecting in the background; never blocks on, nor fails for, Kafka."""
        self._connector = asyncio.create_task(self._connect_loop(), name="kafka-connect")

    async def _connect_loop(self) -> None:
        delay, attempt = 0.5, 0
        while True:
            attempt += 1
            events = self._producer(compression=None, max_request=1024 * 1024)
            raw = self._producer(compression="gzip", max_request=self.options.max_raw_bytes + 65536)
            try:
                await events.start()
                await raw.start()
            except (KafkaError, OSError) as exc:
                await _quiet_stop(events, raw)
                if attempt == 1 or attempt % 20 == 0:
                    log.warning("kafka not reachable; answering 503 until it is",
                                extra={"bootstrap": self.options.bootstrap,
                                       "attempt": attempt, "error": repr(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self._events, self._raw = events, raw
            self._batcher = Batcher(events, self._memo.hash, self._on_batch_failure)
            log.info("kafka producers connected", extra={"bootstrap": self.options.bootstrap,
                                                         "attempts": attempt})
            return

    def _producer(self, *, compression: str | None, max_request: int) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            **(self.options.connection or {"bootstrap_servers": self.options.bootstrap}),
            acks="all",
            enable_idempotence=True,
            linger_ms=self.options.linger_ms,
            compression_type=compression,
            max_request_size=max_request,
            request_timeout_ms=self.options.request_timeout_ms,
            partitioner=self._memo,
            # The batcher hands over whole batches: let one carry many requests' records.
            max_batch_size=256 * 1024,
        )

    async def publish(self, raw: OutRecord, events: Sequence[OutRecord]) -> None:
        """Produce ``raw`` and every event (in order) and wait for all acks.

        Raises :class:`ProduceError` (transient) when not every record is acknowledged
        within ``produce_timeout_s``. Records that were sent may still land later:
        Meta's retry then makes a duplicate, which downstream dedupes by event_id.
        """
        ev_prod, raw_prod, batcher = self._events, self._raw, self._batcher
        if ev_prod is None or raw_prod is None or batcher is None:
            raise BrokerNotConnected("kafka producer not connected yet")
        if len(raw.value) > _UNCOMPRESSED_RAW_MAX:
            # Only bodies near the broker's message size limit need gzip.
            await self._publish_split(ev_prod, raw_prod, batcher, raw, events)
            return
        # The hot path: one future for the whole body, watched by the shared deadline
        # timer (cheaper per request than asyncio.timeout around asyncio.wait). On the
        # deadline only our wait ends: the records stay queued or in flight, and land
        # unobserved.
        request = batcher.submit([raw, *events])
        self._deadlines.watch(request)
        try:
            await request
        except ProduceError:
            raise
        except Exception as exc:
            self._maybe_replace(ev_prod, exc)
            raise ProduceError(f"kafka refused a record: {exc!r}") from exc

    async def _publish_split(self, ev_prod: AIOKafkaProducer, raw_prod: AIOKafkaProducer,
                             batcher: Batcher, raw: OutRecord,
                             events: Sequence[OutRecord]) -> None:
        """A large raw body through the gzip producer, its events through the batcher."""
        futures: list[asyncio.Future[Any]] = []
        try:
            async with asyncio.timeout(self.options.produce_timeout_s):
                futures.append(await raw_prod.send(raw.topic, raw.value, key=raw.key,
                                                   headers=raw.headers))
                futures.append(batcher.submit(events))
                # asyncio.wait, not gather: on timeout the delivery futures stay untouched
                # (aiokafka resolves them later); we only stop waiting for them.
                await asyncio.wait(futures)
        except TimeoutError:
            _swallow(futures)
            raise ProduceTimeout("kafka did not acknowledge the records in time") from None
        except KafkaError as exc:
            _swallow(futures)
            self._maybe_replace(ev_prod, exc)
            raise ProduceError(f"kafka refused the records: {exc!r}") from exc
        for f in futures:
            failure = f.exception()
            if failure is not None:
                _swallow(futures)
                self._maybe_replace(ev_prod, failure)
                if isinstance(failure, ProduceError):
                    raise failure
                raise ProduceError(f"kafka refused a record: {failure!r}") from failure

    def _on_batch_failure(self, exc: BaseException) -> None:
        if self._events is not None:
            self._maybe_replace(self._events, exc)

    def _maybe_replace(self, failed: AIOKafkaProducer, exc: BaseException) -> None:
        """After a fatal producer error, swap in new producers (once per failed pair)."""
        if not isinstance(exc, _FATAL) or self._events is not failed:
            return
        old = [p for p in (self._events, self._raw) if p is not None]
        self._events = self._raw = None
        if self._batcher is not None:
            self._retire(self._batcher.close())
            self._batcher = None
        log.error("kafka producer session lost; connecting new producers",
                  extra={"error": repr(exc)})
        self._connector = asyncio.create_task(self._connect_loop(), name="kafka-reconnect")
        self._retire(_quiet_stop(*old))

    def _retire(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._retired.add(task)
        task.add_done_callback(self._retired.discard)

    async def ready(self, timeout_s: float = 2.0, cache_s: float = 1.0) -> bool:
        """True when the producers are connected and the broker answers a metadata
        request now (cached ``cache_s`` so that probes cannot hammer the broker)."""
        prod = self._events
        if prod is None:
            return False
        async with self._probe_lock:
            now = time.monotonic()
            if now - self._probe_at < cache_s:
                return self._probe_ok
            try:
                await asyncio.wait_for(prod.client.fetch_all_metadata(), timeout_s)
                self._probe_ok = True
            except (KafkaError, TimeoutError, OSError):
                self._probe_ok = False
            self._probe_at = time.monotonic()
            return self._probe_ok

    async def stop(self, timeout_s: float = 15.0) -> None:
        """Flush what is in flight and close (bounded: a dead broker cannot hang exit)."""
        if self._connector is not None and not self._connector.done():
            self._connector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connector
        if self._batcher is not None:
            await self._batcher.close()
            self._batcher = None
        producers = [p for p in (self._events, self._raw) if p is not None]
        self._events = self._raw = None
        if producers:
            try:
                await asyncio.wait_for(asyncio.gather(*(p.stop() for p in producers)), timeout_s)
            except TimeoutError:
                log.error("kafka producers did not flush before the shutdown deadline")
        self._deadlines.close()


def _swallow(futures: Sequence[asyncio.Future[Any]]) -> None:
    """Mark late failures as retrieved: we already answered 503 for them."""
    for f in futures:
        f.add_done_callback(lambda fut: fut.cancelled() or fut.exception())


async def _quiet_stop(*producers: AIOKafkaProducer) -> None:
    for p in producers:
        with contextlib.suppress(Exception):
            await p.stop()

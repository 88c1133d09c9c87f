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
import time
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidProducerEpoch,
    InvalidProducerIdMapping,
    KafkaError,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    UnknownProducerId,
)

from ingress.errors import BrokerNotConnected, ProduceError, ProduceTimeout

log = logging.getLogger(__name__)

Headers = list[tuple[str, bytes]]

# Errors after which an idempotent producer is dead for good: aiokafka's sender task
# exits and every later send raises the same error (seen after a broker restart that
# outlived the request timeout). The only cure is a new producer (a new producer id).
_FATAL = (OutOfOrderSequenceNumber, ProducerFenced, InvalidProducerEpoch,
          InvalidProducerIdMapping, UnknownProducerId)


@dataclass(frozen=True, slots=True)
class OutRecord:
    """One record to produce."""

    topic: str
    key: bytes
    value: bytes
    headers: Headers


@dataclass(frozen=True, slots=True)
class SinkOptions:
    """``produce_timeout_s``: the deadline for every record of a body to be acked."""

    bootstrap: str
    produce_timeout_s: float = 5.0
    linger_ms: int = 0
    max_raw_bytes: int = 3 * 1024 * 1024
    request_timeout_ms: int = 30_000


class KafkaSink:
    """Produces a body's records and returns only when Kafka acknowledged all of them."""

    def __init__(self, options: SinkOptions) -> None:
        self.options = options
        self._events: AIOKafkaProducer | None = None
        self._raw: AIOKafkaProducer | None = None
        self._connector: asyncio.Task[None] | None = None
        self._probe_at = 0.0
        self._probe_ok = False
        self._probe_lock = asyncio.Lock()
        self._retired: set[asyncio.Task[None]] = set()

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
            log.info("kafka producers connected", extra={"bootstrap": self.options.bootstrap,
                                                         "attempts": attempt})
            return

    def _producer(self, *, compression: str | None, max_request: int) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=self.options.bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=self.options.linger_ms,
            compression_type=compression,
            max_request_size=max_request,
            request_timeout_ms=self.options.request_timeout_ms,
        )

    async def publish(self, raw: OutRecord, events: Sequence[OutRecord]) -> None:
        """Produce ``raw`` and every event (in order) and wait for all acks.

        Raises :class:`ProduceError` (transient) when not every record is acknowledged
        within ``produce_timeout_s``. Records that were sent may still land later:
        Meta's retry then makes a duplicate, which downstream dedupes by event_id.
        """
        ev_prod, raw_prod = self._events, self._raw
        if ev_prod is None or raw_prod is None:
            raise BrokerNotConnected("kafka producer not connected yet")
        deadline = time.monotonic() + self.options.produce_timeout_s
        futures: list[asyncio.Future[object]] = []
        try:
            async with asyncio.timeout(self.options.produce_timeout_s):
                futures.append(await raw_prod.send(raw.topic, raw.value, key=raw.key,
                                                   headers=raw.headers))
                for r in events:
                    futures.append(await ev_prod.send(r.topic, r.value, key=r.key,
                                                      headers=r.headers))
        except TimeoutError:
            _swallow(futures)
            raise ProduceTimeout("kafka did not take the records in time") from None
        except KafkaError as exc:
            _swallow(futures)
            self._maybe_replace(ev_prod, exc)
            raise ProduceError(f"kafka refused the records: {exc!r}") from exc
        remaining = max(deadline - time.monotonic(), 0.0)
        # asyncio.wait, not gather: on timeout the delivery futures must stay untouched
        # (aiokafka resolves them later); we only stop waiting for them.
        _done, pending = await asyncio.wait(futures, timeout=remaining)
        if pending:
            _swallow(futures)
            raise ProduceTimeout(f"{len(pending)} of {len(futures)} records not acked in time")
        for f in futures:
            failure = f.exception()
            if failure is not None:
                _swallow(futures)
                self._maybe_replace(ev_prod, failure)
                raise ProduceError(f"kafka refused a record: {failure!r}") from failure

    def _maybe_replace(self, failed: AIOKafkaProducer, exc: BaseException) -> None:
        """After a fatal producer error, swap in new producers (once per failed pair)."""
        if not isinstance(exc, _FATAL) or self._events is not failed:
            return
        old = [p for p in (self._events, self._raw) if p is not None]
        self._events = self._raw = None
        log.error("kafka producer session lost; connecting new producers",
                  extra={"error": repr(exc)})
        self._connector = asyncio.create_task(self._connect_loop(), name="kafka-reconnect")
        stopping = asyncio.create_task(_quiet_stop(*old))
        self._retired.add(stopping)
        stopping.add_done_callback(self._retired.discard)

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
        producers = [p for p in (self._events, self._raw) if p is not None]
        self._events = self._raw = None
        if producers:
            try:
                await asyncio.wait_for(asyncio.gather(*(p.stop() for p in producers)), timeout_s)
            except TimeoutError:
                log.error("kafka producers did not flush before the shutdown deadline")


def _swallow(futures: Sequence[asyncio.Future[object]]) -> None:
    """Mark late failures as retrieved: we already answered 503 for them."""
    for f in futures:
        f.add_done_callback(lambda fut: fut.cancelled() or fut.exception())


async def _quiet_stop(*producers: AIOKafkaProducer) -> None:
    for p in producers:
        with contextlib.suppress(Exception):
            await p.stop()

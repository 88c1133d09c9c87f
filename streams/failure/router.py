"""The per-event failure boundary of every agent that processes a keyed topic
(``wa.inbound`` for conversations, ``wa.outbound`` for the sender).

INTERFACE (stable; the conversation agent depends on it):

    router = FailureRouter(app, settings, process)
    async for event in stream.events():
        await router.handle(event.key, event.value, event.headers, Origin(topic, partition, offset))

``process(key, value, headers, place)`` does the work of one event and raises on failure;
``place`` is where the record stands in its key's order (:func:`place`).
``handle`` never raises: it runs ``process`` inside its own try block and routes the
failure by the error's own classification (``streams.failure.errors``):

- permanent → ``wa.dlq`` (with the error in headers), then workflow recovery;
- transient → the next retry tier ``wa.retry.<delay>``; after the last tier → ``wa.dlq``;
- hold (a circuit breaker is open) → a tier again at the SAME attempt, due when the
  breaker lets a probe through: the retry budget is not spent.

Order per key: while a record of a key is in retry (the key's *head*), the key's later
records are parked (``streams.failure.parking``, a changelogged Faust Table) and released in
order when the head succeeds or dead-letters. At most ``WASTREAM_PARKED_MAX`` records
(10,000) are parked per key; past that a record is dead-lettered at once as
``ParkedOverflow`` (visible and redrivable, and the key's head keeps its place), so a
user who floods the bot holds up only themselves, and loses nothing silently.

Why retries come back through the ORIGINAL topic: the tier consumer
(``streams.failure.tiers``) is only a delay line; when a record is due it re-publishes it to
its original topic and partition with a ``wastream.head`` token. So every call of
``process`` for a key happens in the one actor that owns the key's partition (the
conversation agent), the conversation table is only ever touched from there, and no
co-partitioning of the tier consumer with the tables is needed. A re-published record
runs only if its token is the key's current head; a duplicate (a tier consumer that
crashed between publishing and committing) is stale and dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from prometheus_client import Counter

from schemas import headers as h
from schemas import topics
from schemas.envelope import EnvelopeError, InboundEvent
from schemas.outbound import mark_read
from streams.failure import parking
from streams.failure.breakers import BreakerPolicy, BreakerRegistry
from streams.failure.errors import ParkedOverflow, is_hold, is_transient
from streams.failure.records import (
    FaustPublisher,
    Origin,
    Publisher,
    error_class,
    error_headers,
    normalize_headers,
    original_origin,
    passthrough,
    place,
)
from streams.failure.recovery import RecoveryEmitter
from streams.runtime.tables import owned_table
from wastream.config import Settings
from wastream.observability import logs

log = logging.getLogger(__name__)

Process = Callable[[bytes | None, bytes | None, Mapping[str, bytes], "Origin"], Awaitable[None]]
#: Called after a record is dead-lettered (the sender reports the message as failed).
DeadLetterHook = Callable[[bytes | None, bytes | None, BaseException], Awaitable[None]]
#: Makes what was processed so far durable before the router records it (see FailureRouter).
Barrier = Callable[[], Awaitable[None]]

#: Parked records run per batch when a key is released; they leave the parked table
#: together, after the barrier.
RELEASE_BATCH = 100
#: Dead letters past the parked cap that may be in flight at once (see ``_overflow``).
OVERFLOW_WINDOW = 500

DEAD_LETTERS = Counter("wastream_dead_letters_total", "Records dead-lettered, by router and "
                       "error class", ["router", "error_class"])
ROUTED = Counter("wastream_failure_routed_total", "Events by failure-router outcome",
                 ["router", "outcome"])


class FaultCheck(Protocol):
    """Raises an injected failure for a record (``standins.faults``, for drills)."""

    def check(self, value: bytes | None, attempt: int) -> None: ...


def _fault_injector(settings: Settings) -> FaultCheck | None:
    """The fault injector when ``WASTREAM_FAULTS`` asks for a drill, else None: the
    stand-in is imported only then, so production never loads it."""
    if not settings.failure.faults:
        return None
    from standins.faults import FaultInjector

    return FaultInjector.from_spec(settings.failure.faults)


async def _no_barrier() -> None:
    return None


def _at(origin: Origin) -> tuple[str, int, int]:
    return (origin.topic, origin.partition, origin.offset)


class FailureRouter:
    """Runs ``process`` for each record of one keyed topic and routes its failures.

    ``name`` distinguishes the routers of one app (their parked tables); ``recovery``
    turns on workflow recovery after a dead letter (the conversation router).
    ``on_dead_letter`` runs after each dead letter.
    ``parked`` and ``publisher`` default to a Faust Table and the app's producer;
    tests pass a dict and a fake publisher.

    ``barrier`` is awaited before every parked-table write that says records were
    handled: a new head (every record before it ran) and a release (the released
    records ran). An agent that stores its work later than it processes it (the
    conversation agent's group commit) stores it there, so that a crash never leaves
    the parked table ahead of what it claims: a record it says ran and whose effects
    were lost would never run again.
    """

    def __init__(self, app: Any, settings: Settings, process: Process, *, name: str = "inbound",
                 recovery: bool | None = None, parked: parking.Parked | None = None,
                 publisher: Publisher | None = None,
                 clock: Callable[[], float] = time.time,
                 on_dead_letter: DeadLetterHook | None = None,
                 barrier: Barrier | None = None) -> None:
        self.app = app
        self.barrier: Barrier = barrier or _no_barrier
        self.settings = settings
        self.process = process
        self.on_dead_letter = on_dead_letter
        self.name = name
        self.clock = clock
        self.delays = settings.failure.retry_delays
        self.tiers = [settings.topic(topics.retry_topic(d)) for d in self.delays]
        self.dlq = settings.topic(topics.DLQ)
        self.publisher: Publisher = publisher or FaustPublisher(app)
        # json keys and values (Faust's default for a Table), str keys after recovery
        self.parked: parking.Parked = parked if parked is not None else owned_table(
            app, f"{name}-parked", settings.partitions, default=None, key_type=str,
            help="records parked behind their key's retrying head")
        self.parked_max = settings.failure.parked_max
        self._overflowing: dict[str, int] = {}  # key → records dead-lettered past the cap
        self._in_flight: list[tuple[asyncio.Future[None], bytes | None, bytes | None,
                                    dict[str, bytes]]] = []
        self.faults = _fault_injector(settings)
        self.breakers = BreakerRegistry(
            BreakerPolicy(settings.failure.conversation_breaker_failures,
                          settings.failure.conversation_breaker_open_s),
            metric=False)
        self.recovery = RecoveryEmitter(settings, self.publisher) if (
            name == "inbound" if recovery is None else recovery) else None
        # Read receipts for handled messages (WASTREAM_MARK_READ=1; off by default so that
        # wa.outbound carries only replies until every consumer of it expects receipts).
        self.mark_read = name == "inbound" and settings.failure.mark_read
        self.outbound = settings.topic(topics.OUTBOUND)

    # -- the boundary ---------------------------------------------------------------------

    async def handle(self, key: bytes | None, value: bytes | None,
                     headers: Mapping[str, bytes] | None, origin: Origin) -> None:
        """Process one record; never raises. If routing itself fails (the broker is
        away), it is retried with back-off: the partition waits rather than losing the
        record, since Faust acks it as soon as we return."""
        hdrs = normalize_headers(headers)
        corr = hdrs.get(h.CORRELATION_ID)
        with logs.bound(corr.decode("utf-8", "replace") if corr else None, record=value):
            await self._handle_retrying(key, value, hdrs, origin)

    async def _handle_retrying(self, key: bytes | None, value: bytes | None,
                               hdrs: dict[str, bytes], origin: Origin) -> None:
        backoff, tried_dlq = 0.2, False
        while True:
            try:
                await self._handle(key, value, hdrs, origin)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("failure routing of %s failed; retrying in %.1fs",
                              origin.dlq_id, backoff)
                if not is_transient(exc) and not tried_dlq:
                    # A bug in routing (or a record it cannot route): park the record in
                    # the DLQ rather than retrying forever and stalling the partition.
                    tried_dlq = True
                    with contextlib.suppress(Exception):
                        await self.dead_letter(key, value, hdrs, origin, exc, 0)
                        return
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _handle(self, key: bytes | None, value: bytes | None, hdrs: dict[str, bytes],
                      origin: Origin) -> None:
        k = (key or b"").decode("utf-8", "replace")
        token = hdrs.get(h.HEAD)
        current = parking.head(self.parked, k)
        if token is not None:
            if current != token.decode():
                ROUTED.labels(self.name, "stale").inc()
                log.info("dropping stale re-published record %s (key waits for %s)",
                         token.decode(), current)
                return
            await self._drain()
            try:
                attempt = int(hdrs.get(h.ATTEMPT, b"0"))
            except ValueError:
                attempt = len(self.tiers)  # a mangled budget: no more retries
            if await self._run(k, key, value, hdrs, origin, attempt) and \
                    parking.head(self.parked, k) == current:
                await self._release(k)
            return
        if current is not None:
            await self._park(k, key, value, hdrs, origin)
            return
        await self._drain()
        await self._run(k, key, value, hdrs, origin, 0)

    async def _park(self, k: str, key: bytes | None, value: bytes | None,
                    hdrs: dict[str, bytes], origin: Origin) -> None:
        """Queue a record behind its key's head, unless the key's queue is full: then it
        is dead-lettered (no recovery: the head still holds the key's place)."""
        if parking.appended(self.parked, k, origin.topic, origin.partition, origin.offset):
            ROUTED.labels(self.name, "redelivered").inc()
            return
        if parking.count(self.parked, k) >= self.parked_max:
            await self._overflow(k, key, value, hdrs, origin)
            return
        await self._drain()
        if parking.append(self.parked, k, parking.ParkedItem(
                origin.dlq_id, origin.topic, origin.partition, origin.offset, key, value, hdrs)):
            ROUTED.labels(self.name, "parked").inc()

    async def _overflow(self, k: str, key: bytes | None, value: bytes | None,
                        hdrs: dict[str, bytes], origin: Origin) -> None:
        """Dead-letter a record that found its key's queue full, without waiting for the
        broker record by record: a flood of them would hold up every other key of the
        actor. Up to ``OVERFLOW_WINDOW`` are in flight (on the app's producer, which Faust
        flushes before it commits offsets); they are awaited, and any refused sent again,
        before the router handles any other record."""
        exc = ParkedOverflow(f"{self.parked_max} records are already parked behind this "
                             "key's head (WASTREAM_PARKED_MAX); not parked")
        n = self._overflowing[k] = self._overflowing.get(k, 0) + 1
        if n == 1 or n % 1000 == 0:
            log.warning("%s: %d records of one key dead-lettered so far: %s", origin.dlq_id, n,
                        exc)
        out = self._dlq_headers(hdrs, origin, exc, 0)
        task = asyncio.ensure_future(self.publisher.send(self.dlq, key, value or b"", out))
        self._in_flight.append((task, key, value, out))
        ROUTED.labels(self.name, "overflow").inc()
        if self.on_dead_letter is not None:
            await self.on_dead_letter(key, value, exc)
        if len(self._in_flight) >= OVERFLOW_WINDOW:
            await self._drain()

    async def _drain(self) -> None:
        """Wait for the dead letters in flight; send again those the broker refused."""
        pending, self._in_flight = self._in_flight, []
        for task, key, value, out in pending:
            try:
                await task
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("a dead letter past the parked cap was refused; sending again")
                await self.publisher.send(self.dlq, key, value or b"", out)

    async def _release(self, k: str) -> None:
        """Run the key's parked records in order until one fails again (it becomes the
        new head) or the queue is empty (the key is unparked). They leave the table a
        batch at a time, after the barrier."""
        while True:
            batch = parking.peek(self.parked, k, RELEASE_BATCH)
            if not batch:
                await self.barrier()
                parking.unpark(self.parked, k)
                self._overflowing.pop(k, None)
                return
            token_before = parking.head(self.parked, k)
            for item in batch:
                origin = Origin(item.topic, item.partition, item.offset)
                ok = await self._run(k, item.key, item.value, item.headers, origin, 0,
                                     released=True)
                if not ok or parking.head(self.parked, k) != token_before:
                    return  # re-parked behind this item (retry) or a recovery event
            await self.barrier()
            parking.remove(self.parked, k, batch[-1].origin_id)

    async def _run(self, k: str, key: bytes | None, value: bytes | None,
                   hdrs: dict[str, bytes], origin: Origin, attempt: int,
                   released: bool = False) -> bool:
        """Process one record (``released``: from the key's parked queue). True when the
        caller may go on with the key's next record (success, or a dead letter without
        recovery); False when the key now waits for a new head."""
        probe = False
        try:
            if k:
                probe = self.breakers.check(k)
            if self.faults and not (self.recovery and self.recovery.is_recovery(hdrs)):
                self.faults.check(value, attempt)
            await self.process(key, value, hdrs, place(hdrs, origin))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the boundary: every failure is routed
            if k and not is_hold(exc):
                self.breakers.failure(k)
            elif probe:  # held elsewhere: the probe was not made, the next event makes it
                self.breakers.release_probe(k)
            return await self._fail(k, key, value, hdrs, origin, attempt, exc, released)
        if k:
            self.breakers.success(k)
        ROUTED.labels(self.name, "ok").inc()
        if self.mark_read:
            await self._mark_read(value)
        return True

    async def _mark_read(self, value: bytes | None) -> None:
        try:
            receipt = mark_read(InboundEvent.from_bytes(value or b""))
        except EnvelopeError:
            return
        if receipt is not None:
            await self.publisher.send(self.outbound, receipt.wa_id.encode(), receipt.to_bytes(),
                                      {h.CORRELATION_ID: receipt.correlation_id.encode()})

    async def _fail(self, k: str, key: bytes | None, value: bytes | None,
                    hdrs: dict[str, bytes], origin: Origin, attempt: int,
                    exc: BaseException, released: bool = False) -> bool:
        orig = original_origin(hdrs, origin)
        # A released record leaves the queue with those released before it (they ran).
        through = orig.dlq_id if released else None
        hint = getattr(exc, "retry_after_s", None)
        if is_hold(exc):
            next_attempt, outcome = attempt, "hold"
            tier = self._tier_for(float(hint or self.delays[0]))
        elif is_transient(exc) and attempt < len(self.tiers):
            next_attempt, outcome = attempt + 1, "retry"
            tier = attempt if not hint or hint <= self.delays[attempt] else self._tier_for(hint)
        else:
            await self.dead_letter(key, value, hdrs, orig, exc, attempt)
            ROUTED.labels(self.name, "dlq").inc()
            if self.on_dead_letter is not None:
                await self.on_dead_letter(key, value, exc)
            if self.recovery is not None and k and not self.recovery.is_recovery(hdrs):
                token = await self.recovery.start(k, key, value, hdrs, orig, exc)
                await self.barrier()
                parking.set_head(self.parked, k, token, _at(place(hdrs, origin)),
                                 drop_through=through)
                return False
            if self.recovery is not None and self.recovery.is_recovery(hdrs):
                await self.recovery.failed(k, value, exc)
            if through is not None:
                await self.barrier()
                parking.remove(self.parked, k, through)
            return True
        delay = float(self.delays[tier])
        due_ms = int((self.clock() + delay) * 1000)
        token = f"{orig.dlq_id}@{next_attempt}@{due_ms}"
        out = passthrough(hdrs)
        out.update(dict(h.to_headers(error_headers(exc, orig, next_attempt))))
        out[h.DUE_AT] = str(due_ms).encode()
        out[h.HEAD] = token.encode()
        await self.publisher.send(self.tiers[tier], key, value, out, orig.partition)
        await self.barrier()
        parking.set_head(self.parked, k, token, _at(place(hdrs, origin)), drop_through=through)
        ROUTED.labels(self.name, outcome).inc()
        log.info("%s %s → %s (attempt %d, due in %.1fs): %s", outcome, orig.dlq_id,
                 self.tiers[tier], next_attempt, delay, type(exc).__name__)
        return False

    def _tier_for(self, wait_s: float) -> int:
        """The tier whose delay is the shortest at least ``wait_s`` (else the longest).
        A record always waits exactly its tier's delay, so the records of one tier
        partition are due in the order they were written and the tier consumer never
        has a far-off record blocking nearer ones behind it (a longer wait, such as an
        open breaker, is served by re-holding)."""
        for i, d in enumerate(self.delays):
            if d >= wait_s:
                return i
        return len(self.delays) - 1

    async def dead_letter(self, key: bytes | None, value: bytes | None, hdrs: Mapping[str, bytes],
                          origin: Origin, exc: BaseException, attempt: int) -> None:
        """Publish the record verbatim to ``wa.dlq`` with its error and origin in headers."""
        log.warning("dead-lettering %s: %s", origin.dlq_id, type(exc).__name__)
        # The message may quote the record (a phone number, the user's text): DEBUG only.
        log.debug("dead-lettering %s: %s", origin.dlq_id, exc)
        DEAD_LETTERS.labels(self.name, error_class(exc)).inc()
        await self.publisher.send(self.dlq, key, value or b"",
                                  self._dlq_headers(hdrs, origin, exc, attempt))

    @staticmethod
    def _dlq_headers(hdrs: Mapping[str, bytes], origin: Origin, exc: BaseException,
                     attempt: int) -> dict[str, bytes]:
        out = passthrough(hdrs)
        out.update(dict(h.to_headers(error_headers(exc, origin, attempt))))
        return out

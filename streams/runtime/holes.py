"""A guard for every Faust agent against records Faust never delivers.

faust-streaming 0.15.3 can, after a worker restart, resume a partition before seeking it
to its committed offset while its fetcher runs (faust/tables/recovery.py,
``on_recovery_completed``): records read across that rewind are taken for a gap and
committed unprocessed, or dropped (consumer.py ``_drain_messages``), so a restarted
worker skipped a user's message now and then (tests/streams/test_resilience_e2e.py).

``wa.inbound`` and ``wa.outbound`` have no legitimate holes (not compacted, no
transactions: offsets are contiguous), so each agent on them (the conversation agent,
the sender; :func:`install` wires one) checks that it sees every offset of each
partition, from the group's committed offset on (from the log's start where the group
has committed none), and reads what it missed itself:

- ``before(partition, offset)``, called by the actor for each record: a record past the
  next expected offset means a hole; the missing records are read with a private
  consumer and handled first, in order.
- ``sweep()``, from a timer: a partition whose records stopped arriving while the log
  has more (dropped records at the end of the log) is filled the same way, once Faust
  is not rebalancing or recovering and the actor is idle; only records that were
  already there at the previous sweep, so that Faust has had its chance to deliver them.

Handling a record twice is harmless (the conversation recognises a record at or before
its place and an event id it has applied, and output ids are deterministic; the sender's
ledger sends an outbound id at most once), so the guard errs on the side of re-reading.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError
from prometheus_client import Counter

from streams.failure.records import Origin
from streams.runtime import faust_internals
from wastream.config import Settings
from wastream.config.kafka import client_args

log = logging.getLogger(__name__)

FILLS = Counter("wastream_hole_fills_total",
                "Holes the hole guard filled: offset ranges Faust did not deliver", ["topic"])
FILLED_RECORDS = Counter("wastream_hole_filled_records_total",
                         "Records the hole guard read itself", ["topic"])

HELD_LOG_S = 10.0  # how often the sweep says why it holds off

Handle = Callable[[bytes | None, bytes | None, Any, Origin], Awaitable[None]]


class HoleGuard:
    """``lock_for(partition)`` is held by an actor while it works on an event of that
    partition, and by the sweep while it fills it. ``per_partition``: one lock per
    partition (agents with one actor per partition work concurrently); else one lock."""

    def __init__(self, app: Any, settings: Settings, topic: str, handle: Handle,
                 per_partition: bool = False) -> None:
        self.app = app
        self.settings = settings
        self.topic = topic
        self.handle = handle
        self.idle_s = settings.worker.hole_idle_s
        self.expected: dict[int, int] = {}  # partition → next offset the agent must see
        self.seen_at: dict[int, float] = {}  # partition → when it last delivered a record
        self.waiting: dict[int, int] = {}  # partition → the log's end at the previous sweep
        self.generation = -1
        self.generation_at = time.monotonic()
        self.lock = asyncio.Lock()  # held by the actor while it works on an event
        self.per_partition = per_partition
        self._locks: dict[int, asyncio.Lock] = {}
        # The actors' queues of fetched events: the sweep reads only when all are empty.
        self.queues: list[Any] = []
        # Each actor's "settle my open group if it was built under lock_for(partition)"
        # (the caller holds that lock): the sweep calls them before it fills a partition,
        # so that it never reads a state not stored yet, and never touches the group of an
        # actor whose lock it does not hold (another partition's, when per_partition).
        self.settlers: list[Callable[[int], Awaitable[None]]] = []
        self.filled = 0  # records read by the guard (a metric for tests and operators)
        self._reader: AIOKafkaConsumer | None = None
        # The private reader serves one fill at a time: actors of different partitions
        # (the sender's) may find holes at once, and a consumer has one assignment.
        self._reader_lock = asyncio.Lock()
        self._admin_lock = asyncio.Lock()
        self._admin: AIOKafkaAdminClient | None = None
        self._held_since: float | None = None  # since when quiet partitions wait unchecked
        self._held_logged = 0.0

    def lock_for(self, partition: int) -> asyncio.Lock:
        if not self.per_partition:
            return self.lock
        lock = self._locks.get(partition)
        if lock is None:
            lock = self._locks[partition] = asyncio.Lock()
        return lock

    def actors_idle(self) -> bool:
        """Every actor has handled all Faust fetched for it (and there is one)."""
        return bool(self.queues) and all(q.empty() for q in self.queues)

    def _new_generation(self) -> None:
        gen = faust_internals.generation(self.app)
        if gen != self.generation:  # a rebalance: where each partition starts is new
            self.generation, self.generation_at = gen, time.monotonic()
            self.expected.clear()
            self.seen_at.clear()
            self.waiting.clear()

    async def on_assigned(self, assigned: Any) -> None:
        """Faust's ``on_partitions_assigned``: note where each new partition starts (the
        group's committed offsets) before Faust fetches or commits anything in it."""
        self._new_generation()
        generation = self.generation
        mine = sorted(tp.partition for tp in assigned if tp.topic == self.topic)
        try:
            starts = await self._committed_many(mine)
            if generation == faust_internals.generation(self.app):
                for p, offset in starts.items():
                    # An actor may have handled records while we asked: its place stands
                    # (overwriting it read them again: a dead-lettered reply went out).
                    self.expected.setdefault(p, offset)
        except Exception:  # the broker is away: before() waits for them instead
            log.warning("%s: committed offsets unknown at assignment; the first record of "
                        "each partition waits for them", self.topic, exc_info=True)

    async def before(self, partition: int, offset: int) -> None:
        """The actor is about to handle ``partition``/``offset``: fill any hole first.
        The first record of a partition waits until the group's committed offset can be
        read (a record past it means records Faust skipped: they are read first)."""
        self._new_generation()
        expected = self.expected.get(partition)
        if expected is None:
            expected = await self._committed_waiting(partition)
        if expected is not None and offset > expected:
            await self._fill(partition, expected, offset)
        self.expected[partition] = offset + 1
        self.seen_at[partition] = time.monotonic()

    async def sweep(self, actor_idle: bool) -> None:
        """Fill partitions whose delivery stopped short of the end of the log."""
        self._new_generation()
        now = time.monotonic()
        mine = [tp.partition for tp in self.app.consumer.assignment() if tp.topic == self.topic]
        quiet = [
            p
            for p in mine
            if now - max(self.seen_at.get(p, 0.0), self.generation_at) >= self.idle_s
        ]
        held = (
            "Faust is rebalancing" if faust_internals.rebalancing(self.app)
            else "Faust is recovering tables" if faust_internals.recovering(self.app)
            else None
        )
        if held is not None and quiet:  # said now and then: it should not last
            self._held(held, quiet, now)
        if held is not None or not actor_idle or not quiet:
            return
        self._held_since = None
        async with self._reader_lock:
            ends = await (await self.reader()).end_offsets(
                [TopicPartition(self.topic, p) for p in quiet]
            )
        for p in quiet:
            async with self.lock_for(p):  # the actor may have moved on while we asked
                if self.generation != faust_internals.generation(self.app):
                    return
                for settle in self.settlers:
                    await settle(p)
                start = self.expected.get(p)
                if start is None:
                    start = await self._committed(p)
                # Only records already in the log at the previous sweep: a record that
                # just arrived is Faust's to deliver (reading it too would handle it
                # twice, e.g. a partition's first record right after a start).
                end = self.waiting.get(p)
                self.waiting[p] = ends[TopicPartition(self.topic, p)]
                if start is None or end is None or start >= end:
                    continue
                await self._fill(p, start, end)
                self.expected[p] = end
                self.seen_at[p] = time.monotonic()

    def _held(self, why: str, quiet: list[int], now: float) -> None:
        """Say (every ``HELD_LOG_S``) why quiet partitions are not checked."""
        if self._held_since is None:
            self._held_since = self._held_logged = now
        elif now - self._held_logged >= HELD_LOG_S:
            self._held_logged = now
            log.warning("%s: partitions %s quiet, not checked for %.0fs: %s (queued: %s)",
                        self.topic, quiet, now - self._held_since, why,
                        [q.qsize() for q in self.queues])

    async def _fill(self, partition: int, start: int, end: int) -> None:
        """Read and handle ``[start, end)`` of the partition, in order, retrying while
        the broker is away (an outage delays the agent, it does not skip records)."""
        async with self._reader_lock:
            await self._fill_locked(partition, start, end)

    async def _fill_locked(self, partition: int, start: int, end: int) -> None:
        FILLS.labels(self.topic).inc()
        log.warning(
            "%s[%d]: offsets %d..%d were not delivered by Faust; reading them",
            self.topic,
            partition,
            start,
            end - 1,
        )
        tp = TopicPartition(self.topic, partition)
        reader = await self.reader()
        reader.assign([tp])
        reader.seek(tp, start)
        position, generation = start, self.generation
        while position < end:
            if faust_internals.generation(self.app) != generation:
                log.warning(
                    "%s[%d]: rebalanced while reading; left to the new owner", self.topic, partition
                )
                return
            try:
                batch = await reader.getmany(tp, timeout_ms=1000, max_records=500)
            except Exception:  # the broker is away: wait for it, skip nothing
                log.exception(
                    "%s[%d]: reading offset %d failed; retrying", self.topic, partition, position
                )
                await asyncio.sleep(1.0)
                reader.seek(tp, position)
                continue
            for m in batch.get(tp, []):
                if m.offset >= end:
                    position = end
                    break
                await self.handle(
                    m.key, m.value, m.headers, Origin(self.topic, partition, m.offset)
                )
                self.filled += 1
                FILLED_RECORDS.labels(self.topic).inc()
                position = m.offset + 1

    async def reader(self) -> AIOKafkaConsumer:
        if self._reader is None:  # the caller holds _reader_lock
            reader = AIOKafkaConsumer(
                **client_args(self.settings.kafka),
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
            )
            try:
                await reader.start()
            except BaseException:
                await reader.stop()  # the broker is away: no client left half-open
                raise
            self._reader = reader
        return self._reader

    async def _committed_waiting(self, partition: int) -> int | None:
        """:meth:`_committed`, asked again while the broker is away (an outage delays
        the agent; it does not leave a record unchecked). None: the partition was
        reassigned while waiting (the new assignment notes its own)."""
        generation, delay = self.generation, 0.2
        while True:
            try:
                return await self._committed(partition)
            except Exception as exc:
                if faust_internals.generation(self.app) != generation:
                    return None
                log.warning("%s[%d]: committed offset unknown (%s: %s); asking again in "
                            "%.1fs", self.topic, partition, type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _committed(self, partition: int) -> int | None:
        """Where the group resumes the partition: see :meth:`_committed_many`."""
        return (await self._committed_many([partition])).get(partition)

    async def _committed_many(self, partitions: list[int]) -> dict[int, int]:
        """The group's committed offset of each partition (the next record to process).
        A partition the group never committed starts at the log's start: the app's
        reset policy is "earliest" (streams/runtime/app.py). A worker killed before its
        first commit leaves exactly that, and a restarted Faust was seen to deliver
        nothing of such a partition: the guard must read it from the start."""
        if not partitions:
            return {}
        async with self._admin_lock:  # actors of several partitions may ask at once
            if self._admin is None:
                admin = AIOKafkaAdminClient(
                    **client_args(self.settings.kafka)
                )
                await admin.start()
                self._admin = admin
        got = await self._admin.list_consumer_group_offsets(
            self.settings.faust_app_id,
            partitions=[TopicPartition(self.topic, p) for p in partitions],
        )
        offsets = {tp.partition: meta.offset for tp, meta in got.items() if meta.offset >= 0}
        never = [TopicPartition(self.topic, p) for p in partitions if p not in offsets]
        if never:
            async with self._reader_lock:
                starts = await (await self.reader()).beginning_offsets(never)
            offsets.update({tp.partition: offset for tp, offset in starts.items()})
        return offsets

    async def close(self) -> None:
        if self._reader is not None:
            await self._reader.stop()
        if self._admin is not None:
            await self._admin.close()


def install(app: Any, settings: Settings, topic: str, handle: Handle, name: str,
            per_partition: bool = False) -> HoleGuard:
    """A guard for the agent ``name`` on ``topic``: committed offsets noted on every
    assignment, a sweep every ``WASTREAM_HOLE_SWEEP_S`` (2 s), its clients closed at
    shutdown. The agent calls :meth:`HoleGuard.before` for each event under
    :meth:`HoleGuard.lock_for` (or simply runs :func:`guarded`)."""
    guard = HoleGuard(app, settings, topic, handle, per_partition)

    @app.on_partitions_assigned.connect  # type: ignore[untyped-decorator]
    async def note_assignment(app: Any, assigned: Any, **_: Any) -> None:
        await guard.on_assigned(assigned)

    @app.on_before_shutdown.connect  # type: ignore[untyped-decorator]
    async def close_guard(app: Any, **_: Any) -> None:
        await guard.close()

    sweep_s = settings.worker.hole_sweep_s

    @app.timer(interval=sweep_s, name=f"{name}_holes")  # type: ignore[untyped-decorator]
    async def sweep_holes() -> None:
        try:
            await guard.sweep(actor_idle=guard.actors_idle())
        except KafkaConnectionError as exc:  # the broker is away: the next sweep tries again
            log.warning("%s: hole sweep skipped: %s", topic, exc)
        except Exception:
            log.exception("%s: hole sweep failed", topic)

    return guard


async def guarded(guard: HoleGuard, stream: Any) -> None:
    """The loop of an agent that handles each event as it comes (Faust acks it once the
    next is asked for): every offset of its partitions is handled, holes filled first."""
    queue = faust_internals.fetched_queue(stream)
    guard.queues.append(queue)
    try:
        async for event in stream.events():
            msg = event.message
            async with guard.lock_for(msg.partition):
                await guard.before(msg.partition, msg.offset)
                await guard.handle(event.key, event.value, event.headers,
                                   Origin(msg.topic, msg.partition, msg.offset))
    finally:
        guard.queues.remove(queue)

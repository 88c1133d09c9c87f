"""``wastream project``: the projector service. An aiokafka consumer in the group
``<prefix>projector`` reads every topic a projection folds; each batch (bounded by size
and time) goes to PostgreSQL in one transaction with its offsets (``projections.store``).
Kafka-side offsets are never committed: PostgreSQL is the only truth, so a crash, a
kill -9 or a PostgreSQL outage at any point loses and duplicates nothing."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition

from projections import metrics
from projections.base import Msg, Projection, prepare
from projections.registry import all_projections
from projections.store import TP, Store, StoreUnavailable
from wastream.config import Settings
from wastream.config.kafka import client_args
from wastream.observability import logs
from wastream.observability.health import HealthEndpoint, start_from

log = logging.getLogger("projections.projector")
T = TypeVar("T")

# Records fetched and decoded between two yields to the event loop. The reader and the
# writer share one thread: a reader that decoded a whole batch at once (~0.1 s of CPU)
# held up every round trip of the writer's transaction behind it, leaving PostgreSQL
# idle; small chunks let each statement's reply be handled within a few milliseconds.
CHUNK = 200


class Batch(dict[TP, list[Msg]]):
    """A batch of records by partition, with the seek count of each partition when its
    records were fetched: records fetched before the projector sought a partition are
    stale (the seek is why they must be read again)."""

    def __init__(self) -> None:
        super().__init__()
        self.epochs: dict[TP, int] = {}


def to_msg(logical: str, r: ConsumerRecord[bytes, bytes]) -> Msg:
    """Our view of an aiokafka record (``logical`` is the topic without its prefix)."""
    return Msg(logical, r.partition, r.offset, r.key, r.value, tuple(r.headers or ()),
               r.timestamp)


class _Seeker(ConsumerRebalanceListener):  # type: ignore[misc]
    """On assignment, position every partition at the offsets stored in PostgreSQL."""

    def __init__(self, projector: Projector) -> None:
        self.projector = projector

    async def on_partitions_revoked(self, revoked: object) -> None:
        # Nothing to commit: offsets live in PostgreSQL and were written with the rows.
        return None

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        await self.projector.seek_stored(list(assigned))


class Projector:
    """Consume, batch, apply; ``run`` returns when ``stop`` is set (after the current
    batch is written)."""

    def __init__(self, settings: Settings, projections: Sequence[Projection] | None = None,
                 schema: str | None = None) -> None:
        self.settings = settings
        self.projections = (list(projections) if projections is not None
                            else all_projections(settings))
        # Batch bounds and retry pacing; the session timeout is how soon a crashed
        # instance's partitions move to the others (and, after a kill -9, how long a
        # restarted instance waits for its dead self to time out).
        self.opts = settings.projector
        logical = sorted({t for p in self.projections for t in p.topics})
        self.logical = {settings.topic(t): t for t in logical}
        self.store = Store(settings, self.projections, schema=schema)
        self.consumer: AIOKafkaConsumer | None = None
        self.applied_total = 0
        # partition → how many times the projector sought it (see Batch)
        self._epoch: dict[TP, int] = {}
        self.skipped: dict[TP, list[tuple[int, int]]] = {}  # ranges retention took
        # The next offset of each partition in PostgreSQL (for the lag), and whether
        # PostgreSQL answered the last statement (for /readyz).
        self.written: dict[TP, int] = {}
        self.store_ok = False

    def _seek(self, tp: TopicPartition, offset: int) -> None:
        assert self.consumer is not None
        key = (self.logical[tp.topic], tp.partition)
        self._epoch[key] = self._epoch.get(key, 0) + 1
        self.consumer.seek(tp, offset)

    async def seek_stored(self, tps: list[TopicPartition]) -> None:
        assert self.consumer is not None
        tps = [tp for tp in tps if tp.topic in self.logical]
        wanted = [(self.logical[tp.topic], tp.partition) for tp in tps]
        positions = await self._retrying(lambda: self.store.start_positions(wanted),
                                         asyncio.Event())
        if positions is None:
            return
        begin = []
        for tp in tps:
            pos = positions[(self.logical[tp.topic], tp.partition)]
            self.written[(self.logical[tp.topic], tp.partition)] = pos or 0
            if pos is None:
                begin.append(tp)
            else:
                self._seek(tp, pos)
        if begin:
            for tp in begin:
                key = (self.logical[tp.topic], tp.partition)
                self._epoch[key] = self._epoch.get(key, 0) + 1
            await self.consumer.seek_to_beginning(*begin)
        log.info("assigned %d partitions, positioned from stored offsets", len(tps))

    async def _retrying(self, fn: Callable[[], Awaitable[T]], stop: asyncio.Event) -> T | None:
        """Run ``fn`` until PostgreSQL answers (exponential backoff); None if stopped."""
        delay = 0.2
        while True:
            try:
                result = await fn()
                self.store_ok = True
                return result
            except StoreUnavailable as exc:
                self.store_ok = False
                log.warning("postgres unavailable (%s); retrying in %.1fs", exc, delay)
            if stop.is_set():
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, self.opts.backoff_max_s)

    async def next_batch(self, stop: asyncio.Event) -> Batch:
        """Records until ``batch_max`` or ``linger_s`` after the first one arrived, decoded
        (``prepare``) as they come, in chunks of at most ``CHUNK`` records. A partition
        sought while the batch was being built keeps only what was fetched after the seek
        (aiokafka drops what it had buffered from before it)."""
        assert self.consumer is not None
        batch = Batch()
        count = 0
        deadline: float | None = None
        while not stop.is_set():
            wait = 0.5 if deadline is None else max(0.0, deadline - time.monotonic())
            got = await self.consumer.getmany(timeout_ms=int(wait * 1000),
                                              max_records=min(CHUNK, self.opts.batch_max - count))
            chunk: list[Msg] = []
            for tp, recs in got.items():
                logical = self.logical[tp.topic]
                key = (logical, tp.partition)
                msgs = [to_msg(logical, r) for r in recs]
                epoch = self._epoch.get(key, 0)
                if batch.epochs.get(key, epoch) != epoch:  # chunks from before a seek
                    count -= len(batch.pop(key, []))
                batch.epochs[key] = epoch
                batch.setdefault(key, []).extend(msgs)
                chunk += msgs
            if chunk:
                prepare(self.projections, chunk)
                count += len(chunk)
                await asyncio.sleep(0)  # see CHUNK
            if count and deadline is None:
                deadline = time.monotonic() + self.opts.linger_s
            expired = deadline is not None and time.monotonic() >= deadline
            if count >= self.opts.batch_max or expired:
                break
        return batch

    async def write(self, batch: dict[TP, list[Msg]], stop: asyncio.Event) -> bool:
        """Write a batch, waiting out a PostgreSQL outage; False if stopped first."""
        assert self.consumer is not None
        result = await self._retrying(lambda: self.store.apply(batch), stop)
        if result is None:
            return False
        for (logical, part), offset in result.seeks.items():
            tp = TopicPartition(self.settings.topic(logical), part)
            start = await self._log_start(tp)
            if start is not None and offset < start:
                # Retention deleted records this projection never read: seeking back
                # for them would find the log starting later, forever (the partition
                # stalled). Record the skipped range where operators see it, move on.
                log.error("%s[%d]: offsets %d..%d were deleted before they were projected; "
                          "recorded in projection_errors and skipped", logical, part, offset,
                          start - 1)
                skip = functools.partial(self.store.skip_deleted, (logical, part), offset, start)
                if await self._retrying(skip, stop) is None:
                    return False
                self.skipped.setdefault((logical, part), []).append((offset, start))
                offset = start
            log.info("seeking %s[%d] back to stored offset %d", logical, part, offset)
            self._seek(tp, offset)
        self.applied_total += sum(len(v) for v in batch.values())
        for tp, msgs in batch.items():
            if msgs and tp not in result.seeks:
                self.written[tp] = msgs[-1].offset + 1
        for name, n in result.applied.items():
            metrics.ROWS.labels(name).inc(n)
        return True

    async def _log_start(self, tp: TopicPartition) -> int | None:
        """The partition's first offset still in the log; None if the broker cannot say
        now (the seek goes ahead; the next gap asks again)."""
        assert self.consumer is not None
        try:
            starts = await self.consumer.beginning_offsets([tp])
        except Exception as exc:  # the broker is away
            log.warning("%s[%d]: log start unknown (%s)", tp.topic, tp.partition, exc)
            return None
        start: int = starts[tp]
        return start

    def positions(self) -> metrics.Positions:
        """Each assigned partition's log end (as last fetched) and next offset written."""
        if self.consumer is None:
            return {}
        out = {}
        for tp in self.consumer.assignment():
            logical = self.logical.get(tp.topic)
            if logical is not None:
                out[(logical, tp.partition)] = (tp.topic, self.consumer.highwater(tp),
                                                self.written.get((logical, tp.partition)))
        return out

    async def ready(self) -> bool:
        """Consuming, and PostgreSQL answered the last statement."""
        return self.consumer is not None and self.store_ok

    async def _read(self, queue: asyncio.Queue[Batch], stop: asyncio.Event) -> None:
        """Fetch and decode batches ahead of the writer: the CPU work of batch k+1 runs
        while PostgreSQL writes batch k."""
        while not stop.is_set():
            batch = await self.next_batch(stop)
            if batch:
                await queue.put(batch)

    def _drop_stale(self, batch: Batch) -> Batch:
        """Records fetched before a seek of their partition (a gap, an assignment) are
        stale: drop them; what was fetched after the seek goes on."""
        for tp, epoch in batch.epochs.items():
            if epoch != self._epoch.get(tp, 0):
                batch.pop(tp, None)
        return batch

    async def run(self, stop: asyncio.Event) -> None:
        self.consumer = AIOKafkaConsumer(
            **client_args(self.settings.kafka),
            group_id=self.settings.group("projector"),
            client_id=f"{self.settings.topic_prefix}projector",
            enable_auto_commit=False, auto_offset_reset="earliest",
            max_poll_records=self.opts.batch_max, isolation_level="read_committed",
            # A long PostgreSQL outage must not make us leave the group.
            max_poll_interval_ms=30 * 60 * 1000,
            session_timeout_ms=self.opts.session_timeout_ms,
            heartbeat_interval_ms=max(500, self.opts.session_timeout_ms // 4),
        )
        await self.consumer.start()
        queue: asyncio.Queue[Batch] = asyncio.Queue(maxsize=1)
        reader = asyncio.create_task(self._read(queue, stop))
        stopped = asyncio.create_task(stop.wait())
        try:
            self.consumer.subscribe(topics=list(self.logical), listener=_Seeker(self))
            while not stop.is_set():
                getter = asyncio.create_task(queue.get())
                await asyncio.wait({getter, stopped, reader}, return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    getter.cancel()
                    if reader.done():
                        reader.result()  # re-raise what killed the reader
                    break
                batch = self._drop_stale(getter.result())
                if batch and not await self.write(batch, stop):
                    break
        finally:
            for task in (reader, stopped):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self.consumer.stop()
            await self.store.close()


async def main(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    projector = Projector(settings)
    metrics.ProjectorLag(settings.group("projector"), projector.projections,
                         projector.positions)
    endpoint = HealthEndpoint("projector", {"consuming": projector.ready})
    await start_from(settings, endpoint)
    log.info("projector starting: %d projections over %d topics",
             len(projector.projections), len(projector.logical))
    try:
        await projector.run(stop)
    finally:
        await endpoint.stop()
    log.info("projector stopped after %d records", projector.applied_total)


def run_projector() -> int:
    """Run the projector until SIGTERM/SIGINT; 0 on a clean stop."""
    settings = Settings.from_env()
    logs.configure_from(settings, "projector")
    asyncio.run(main(settings))
    return 0

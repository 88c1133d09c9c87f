"""Every use of a private part of faust-streaming (and of aiokafka under it), in one place.

wastream relies on a few things the libraries do not publish. Each is wrapped here with
the reason and the version it was read against (faust-streaming 0.15.x, aiokafka 0.12),
so that an upgrade is one module to re-read, not a hunt through the agents:

- :func:`kafka_producer`: the aiokafka producer inside Faust's producer. The
  conversation agent's group commit hands it whole batches (``create_batch`` /
  ``send_batch``), because it is the producer Faust flushes before committing offsets.
- :func:`fetched_queue`: the queue of events Faust has fetched for an agent's stream
  (``stream.channel.queue``): "caught up" for group commit, "idle" for the hole guard.
- :func:`generation`, :func:`rebalancing`, :func:`recovering`: where the consumer group
  and table recovery stand (the hole guard must not read while Faust seeks).
- :func:`no_spinner`: Faust's terminal spinner turns the root logger to DEBUG.
- :func:`force_metadata_update`: aiokafka's consumer cannot list a topic's partitions
  before its client has fetched metadata; the public API has no way to ask for it.
- :func:`stop_deadline`: mode's ``Worker`` stops its services in order on SIGINT/SIGTERM
  and waits for each, for ever when the broker is away; a second signal is ignored.
- :func:`file_writes_by_key`: Faust's RocksDB store files a table write under the
  partition of the event being processed, and refuses one made outside an event.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any


def kafka_producer(app: Any) -> Any:
    """The started ``aiokafka.AIOKafkaProducer`` of a Faust app
    (``Producer._ensure_producer`` of Faust's aiokafka transport)."""
    return app.producer._ensure_producer()


def max_request_bytes(app: Any) -> int:
    """The largest producer request the app sends (Faust's
    ``producer_max_request_size``, 1,000,000 unless configured)."""
    return int(app.conf.producer_max_request_size)


def fetched_queue(stream: Any) -> Any:
    """The queue of events fetched for ``stream`` and not yet taken by its agent
    (``faust.Stream.channel`` is a ``faust.Channel``; its ``queue`` is a
    ``mode.utils.queues.ThrowableQueue``); ``empty()`` means the agent has caught up."""
    return stream.channel.queue


def generation(app: Any) -> int:
    """The consumer group generation Faust last joined (changes on every rebalance)."""
    return int(app.consumer_generation_id)


def rebalancing(app: Any) -> bool:
    """True while Faust is between revoking and assigning partitions."""
    return bool(getattr(app, "rebalancing", False))


def recovering(app: Any) -> bool:
    """True while Faust's table recovery has not completed (it seeks the partitions)."""
    recovery = getattr(app.tables, "recovery", None)
    return recovery is not None and not recovery.completed.is_set()


def no_spinner(worker: Any) -> None:
    """Drop ``faust.Worker``'s terminal spinner. At WARNING and above Faust installs one
    that sets the root logger to DEBUG so it can spin on every record: every library's
    debug call then builds a LogRecord, about six per event (~10% of the worker's CPU)."""
    worker.spinner = None


async def force_metadata_update(consumer: Any) -> None:
    """Make an ``aiokafka.AIOKafkaConsumer`` fetch cluster metadata now
    (``consumer._client.force_metadata_update``), so ``partitions_for_topic`` answers."""
    await consumer._client.force_metadata_update()


def stop_deadline(worker: Any, seconds: float) -> None:
    """Exit the process ``seconds`` after the first SIGINT/SIGTERM if mode's orderly stop
    has not finished by then (``mode.Worker._schedule_shutdown`` is where both signals
    land, once: later signals are ignored). With the broker away a Kafka client's stop
    waits for ever; exiting then is a crash, which the system is built for (effects are
    idempotent, offsets not committed are read again). A thread, not the event loop,
    keeps the time: the loop is the thing that may be stuck."""
    schedule = worker._schedule_shutdown

    def _exit(signum: int) -> None:
        sys.stderr.write(f"wastream worker: not stopped {seconds:g}s after "
                         f"{signal.Signals(signum).name}: exiting now\n")
        sys.stderr.flush()
        os._exit(128 + signum)

    def _schedule(signum: signal.Signals) -> None:
        if not worker._signal_stop_time:
            timer = threading.Timer(seconds, _exit, args=(int(signum),))
            timer.daemon = True
            timer.start()
        schedule(signum)

    worker._schedule_shutdown = _schedule


def file_writes_by_key() -> None:
    """Make Faust's RocksDB store file a write to a ``use_partitioner`` table under the
    key's own changelog partition, event or not.

    ``faust.stores.rocksdb.Store._set`` asserts that a Faust event is being processed
    and files the key under that event's partition. Our tables (``chat_state`` and the
    owned tables, all ``use_partitioner``) are written after their events: a group is
    settled once for many users' events, by a timer, or by the hole guard's sweep,
    which has no event at all. The sweep's writes failed the assertion, every record it
    read was dead-lettered (dead-lettering writes a table too) and the worker answered
    nobody (bench.scale --store rocksdb). And a key filed under another user's partition
    vanishes from this worker when that partition is revoked. The key's partition is
    the one its changelog record goes to: the table's ``partition_for_key`` (an owned
    table's owner), else murmur2 of the stored key, as the producer's partitioner."""
    from aiokafka.partitioner import murmur2
    from faust.stores import rocksdb

    store: Any = rocksdb.Store
    if getattr(store._set, "by_key", False):
        return
    faust_set = store._set

    def _set(self: Any, key: bytes, value: bytes | None) -> None:
        table = self.table
        if not table.use_partitioner:
            faust_set(self, key, value)
            return
        partition = table.partition_for_key(self._decode_key(key))
        if partition is None:
            partition = (murmur2(key) & 0x7FFFFFFF) % table.partitions
        self._key_index[key] = partition
        self._db_for_partition(partition).put(key, value)

    _set.by_key = True  # type: ignore[attr-defined]
    store._set = _set

"""The domains' read models, kept up to date from ``wa.domain`` by every worker.

A read model is a cross-user view (who is around, what is listed…), so it cannot be
a partitioned table: every worker keeps the whole of it in memory. A plain consumer
(no group) reads every partition of ``wa.domain`` from "now - window" (the largest
``window_s`` of the models, found with ``offsets_for_times``) and feeds every record,
decoded into its typed event (older versions upcast), to every model. Entries expire
by their own deadlines, so a restarted worker rebuilds the models from the log in
one read: durable without a changelog of their own. ``caught_up`` is set once that
first read has reached the end the log had when the worker started: the conversation
agent waits for it before it handles an event, so a restarted worker answers a search
with everything it knew before (decision 0009). The agent also applies its own events at
once (a user sees their own fact before the log is read).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas import topics
from schemas.domain import DomainEvent
from schemas.record import RecordError
from streams.engine.domains import Domains
from streams.runtime import faust_internals
from wastream.config import Settings
from wastream.config.kafka import client_args

log = logging.getLogger(__name__)
PRUNE_EVERY_S = 30.0


def apply_record(domains: Domains, raw: bytes | None, now: float) -> None:
    """Feed one ``wa.domain`` record to the read models (a record that does not decode,
    or of a type no domain declares, is skipped)."""
    with contextlib.suppress(RecordError, KeyError, TypeError, ValueError):
        env = DomainEvent.from_bytes(raw or b"")
        event = domains.events.decode(env)
        if event is not None:
            domains.apply(env.wa_id, event, now)


async def follow(
    domains: Domains, settings: Settings, caught_up: asyncio.Event | None = None
) -> None:
    """Keep ``domains``' read models up to date from ``wa.domain`` until cancelled;
    ``caught_up`` is set when the models hold everything logged before the start."""
    topic = settings.topic(topics.DOMAIN)
    consumer = AIOKafkaConsumer(
        **client_args(settings.kafka),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="latest",
    )
    await consumer.start()
    try:
        parts: set[int] | None = None
        while not parts:
            parts = consumer.partitions_for_topic(topic)
            if not parts:
                await faust_internals.force_metadata_update(consumer)
                await asyncio.sleep(0.5)
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        start_ms = int((time.time() - domains.window_s) * 1000)
        offsets = await consumer.offsets_for_times({tp: start_ms for tp in tps})
        ends = await consumer.end_offsets(tps)
        behind: dict[TopicPartition, int] = {}  # partition -> end offset still to reach
        for tp in tps:
            off = offsets.get(tp)
            start = off.offset if off is not None else ends[tp]
            consumer.seek(tp, start)
            if start < ends[tp]:
                behind[tp] = ends[tp]
        read, started = 0, time.monotonic()
        last_prune = time.monotonic()
        while True:
            if not behind and caught_up is not None and not caught_up.is_set():
                caught_up.set()
                log.info("read models caught up: %d records of %s in %.1fs", read, topic,
                         time.monotonic() - started)
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            now = time.time()
            for tp, msgs in batch.items():
                for m in msgs:
                    apply_record(domains, m.value, now)
                read += len(msgs)
                if msgs and tp in behind and msgs[-1].offset + 1 >= behind[tp]:
                    del behind[tp]
            if time.monotonic() - last_prune > PRUNE_EVERY_S:
                domains.prune(now)
                last_prune = time.monotonic()
    finally:
        await consumer.stop()

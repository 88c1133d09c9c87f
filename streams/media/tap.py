"""The media tap: copies each inbound media message of ``wa.inbound`` to ``wa.media.jobs``.

A plain aiokafka consumer in its own consumer group (``<prefix>wastream.media``), not a
Faust agent on ``wa.inbound``: Faust hands one record to every agent of a topic and
commits it only once all of them acked it, and a full agent buffer stalls the topic's
delivery to all, so a slow download would hold the conversation back. Here the
conversation's group never sees this consumer, and the downloads (which retry and
dead-letter) run from their own topic, where a retry comes back through ``wa.media.jobs``
and not through ``wa.inbound``.

The tap only reads an envelope's ``type``; it copies the record unchanged (key, value,
headers) to the same partition number (the topics are co-partitioned), then commits.
A crash in between copies a batch twice: the downloads are idempotent (the store is
content-addressed, the read model keyed by media id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import CommitFailedError, KafkaError

from schemas import headers as h
from schemas import topics
from streams.media.limits import MEDIA_TYPES
from wastream.config import Settings
from wastream.config.kafka import client_args

log = logging.getLogger(__name__)

JOB_TYPES = frozenset(f"message.{t}" for t in MEDIA_TYPES)


def is_media_job(value: bytes | None, headers: dict[str, bytes]) -> bool:
    """A media message, and not a retry of the conversation's re-published to
    ``wa.inbound`` (the tap saw that record the first time)."""
    if not value or h.HEAD in headers:
        return False
    try:
        d = orjson.loads(value)
    except orjson.JSONDecodeError:
        return False
    return isinstance(d, dict) and d.get("type") in JOB_TYPES


class MediaTap:
    """See the module docstring. ``run`` until ``stop``."""

    def __init__(self, settings: Settings, poll_ms: int = 200) -> None:
        self.settings = settings
        self.poll_ms = poll_ms
        self.source = settings.topic(topics.INBOUND)
        self.target = settings.topic(topics.MEDIA_JOBS)
        self._stopping = asyncio.Event()
        self.copied = 0

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            self.source, **client_args(self.settings.kafka),
            group_id=self.settings.group("wastream.media"), enable_auto_commit=False,
            auto_offset_reset="earliest", max_poll_records=500)
        producer = AIOKafkaProducer(**client_args(self.settings.kafka),
                                    acks="all", enable_idempotence=True)
        await producer.start()
        try:
            await consumer.start()
            try:
                await self._loop(consumer, producer)
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()
        finally:
            with contextlib.suppress(Exception):
                await producer.stop()

    async def _loop(self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer) -> None:
        while not self._stopping.is_set():
            try:
                batch = await consumer.getmany(timeout_ms=self.poll_ms)
            except KafkaError as exc:
                log.warning("media tap poll failed: %s", exc)
                await asyncio.sleep(1)
                continue
            if not batch:
                continue
            futures: list[Any] = []
            for tp, msgs in batch.items():
                for m in msgs:
                    hdrs = {k: bytes(v) for k, v in (m.headers or ())}
                    if is_media_job(m.value, hdrs):
                        futures.append(await producer.send(
                            self.target, value=m.value, key=m.key, partition=tp.partition,
                            headers=list(hdrs.items())))
            if futures:
                await asyncio.gather(*futures)
                self.copied += len(futures)
            try:
                await consumer.commit()
            except (CommitFailedError, KafkaError) as exc:
                log.warning("media tap commit failed (the batch is copied again): %s", exc)

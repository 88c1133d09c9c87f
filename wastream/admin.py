"""Kafka administration: the topic plan and its idempotent creation."""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from schemas import topics
from wastream.config import Settings


def retry_delays(settings: Settings) -> tuple[int, ...]:
    return settings.failure.retry_delays


def topic_plan(settings: Settings) -> dict[str, int]:
    """Broker-side topic name → partitions. Every topic shares one partition count,
    which keeps everything keyed by wa_id co-partitioned with ``wa.inbound``."""
    return {
        settings.topic(t): settings.partitions for t in topics.all_topics(retry_delays(settings))
    }


def topic_configs(settings: Settings) -> dict[str, str]:
    """Per-topic settings every topic of the plan is created with."""
    isr = settings.kafka.min_insync_replicas
    return {} if isr is None else {"min.insync.replicas": str(isr)}


async def ensure_topics(settings: Settings, timeout_s: float = 30.0) -> list[str]:
    """Create the missing topics of the plan; return the names created."""
    plan = topic_plan(settings)
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers, request_timeout_ms=int(timeout_s * 1000)
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in plan if name not in existing]
        if missing:
            configs = topic_configs(settings)
            # Another instance may create them between our list and create.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([
                    NewTopic(name, plan[name], settings.replication_factor,
                             topic_configs=configs)
                    for name in missing
                ])
        # Metadata propagates asynchronously: wait until every topic is visible.
        deadline = asyncio.get_running_loop().time() + timeout_s
        while set(plan) - set(await admin.list_topics()):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"topics not visible after {timeout_s}s")
            await asyncio.sleep(0.1)
        return missing
    finally:
        await admin.close()


async def delete_prefixed(bootstrap: str, prefix: str) -> list[str]:
    """Delete every topic whose name starts with ``prefix`` (test clean-up)."""
    if not prefix:
        raise ValueError("refusing to delete topics with an empty prefix")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        doomed = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if doomed:
            await admin.delete_topics(doomed)
        return doomed
    finally:
        await admin.close()

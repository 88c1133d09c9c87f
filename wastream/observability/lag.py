"""Consumer lag of the groups that commit their offsets to Kafka (the worker's Faust
group, the retry tiers' group): every ``interval_s`` the probe asks the broker for each
group's committed offsets and each partition's end, and sets
``wastream_consumer_lag{group, topic, partition}``. The projector keeps its offsets in
PostgreSQL and sets the same gauge itself (``projections.metrics``).

A record counts as lag until its group commits past it, so a worker that commits every
``WASTREAM_COMMIT_INTERVAL_S`` shows a small lag even when it keeps up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client import Gauge

from wastream.config.groups import KafkaSettings
from wastream.config.kafka import client_args

log = logging.getLogger(__name__)

CONSUMER_LAG = Gauge(
    "wastream_consumer_lag",
    "Records in a partition not yet consumed by a consumer group (log end minus committed)",
    ["group", "topic", "partition"])

Lags = dict[tuple[str, str, int], int]


class LagProbe:
    """Measures the lag of ``groups`` on the cluster of ``kafka``; ``on_measured`` is
    called with every measurement (the retry tiers derive their depth from it)."""

    def __init__(self, kafka: KafkaSettings, groups: Sequence[str], interval_s: float = 10.0,
                 on_measured: Callable[[Lags], None] | None = None) -> None:
        self.kafka = kafka
        self.groups = list(groups)
        self.interval_s = interval_s
        self.on_measured = on_measured
        self._admin: AIOKafkaAdminClient | None = None
        self._ends: AIOKafkaConsumer | None = None
        self.ok = False  # the last measurement reached the broker

    async def measure(self) -> Lags:
        """One measurement: lag per (group, topic, partition) with a committed offset."""
        if self._admin is None:
            self._admin = AIOKafkaAdminClient(**client_args(self.kafka))
            await self._admin.start()
            self._ends = AIOKafkaConsumer(**client_args(self.kafka), enable_auto_commit=False)
            await self._ends.start()
        assert self._ends is not None
        committed: dict[str, dict[TopicPartition, int]] = {}
        for group in self.groups:
            got = await self._admin.list_consumer_group_offsets(group)
            committed[group] = {tp: om.offset for tp, om in got.items() if om.offset >= 0}
        tps = sorted({tp for offsets in committed.values() for tp in offsets})
        ends = await self._ends.end_offsets(tps) if tps else {}
        lags: Lags = {}
        for group, offsets in committed.items():
            for tp, offset in offsets.items():
                lag = max(0, ends.get(tp, offset) - offset)
                lags[(group, tp.topic, tp.partition)] = lag
                CONSUMER_LAG.labels(group, tp.topic, str(tp.partition)).set(lag)
        if self.on_measured is not None:
            self.on_measured(lags)
        return lags

    async def run(self) -> None:
        """Measure every ``interval_s`` until cancelled; a failed measurement is logged
        (once per outage) and retried at the next tick."""
        failing = False
        try:
            while True:
                try:
                    await self.measure()
                    self.ok, failing = True, False
                except Exception as exc:  # a probe must not stop its service
                    self.ok = False
                    if not failing:
                        log.warning("consumer lag not measured: %s: %s",
                                    type(exc).__name__, exc)
                    failing = True
                    await self.close()
                await asyncio.sleep(self.interval_s)
        finally:
            await self.close()

    async def close(self) -> None:
        admin, ends, self._admin, self._ends = self._admin, self._ends, None, None
        if ends is not None:
            await ends.stop()
        if admin is not None:
            await admin.close()

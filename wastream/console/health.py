"""What the overview shows of the system's health, refreshed in the background (every
``interval_s``) so that a page never waits on the broker or a service:

- consumer lag of the worker (its Faust group's committed offsets on ``wa.inbound``
  against the log's end, from the broker);
- projector lag per projection (the offsets it stored in ``projection_offsets``, in the
  same transactions as its rows, against the log's end);
- breaker states, read from the worker's Prometheus ``/metrics``
  (``wastream_breaker_state``; served on the worker's ``WASTREAM_HEALTH_PORT``);
- the ingress' 503s: ``wastream_ingress_requests_total`` from its ``/metrics``, as a
  total and as a rate between two scrapes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families

from schemas import topics
from streams.runtime import faust_internals
from wastream.config import Settings
from wastream.config.kafka import client_args

log = logging.getLogger(__name__)
BREAKER_NAMES = {0: "closed", 1: "half_open", 2: "open"}


@dataclass
class Snapshot:
    """The latest health readings; ``errors`` says which source could not be read."""

    at: float = 0.0
    worker_lag: dict[str, int] = field(default_factory=dict)  # topic -> records behind
    projector_lag: dict[str, int] = field(default_factory=dict)  # projection -> behind
    breakers: dict[str, str] = field(default_factory=dict)
    ingress_requests: int = 0
    ingress_503: int = 0
    ingress_503_per_min: float | None = None
    errors: dict[str, str] = field(default_factory=dict)


def parse_metrics(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Prometheus text → sample name → [(labels, value)]."""
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, []).append((dict(s.labels), float(s.value)))
    return out


class Health:
    """Reads the sources above every ``interval_s``; :attr:`snapshot` is the latest."""

    def __init__(self, settings: Settings, pool: asyncpg.Pool, ingress_metrics_url: str | None,
                 worker_metrics_url: str | None, interval_s: float = 5.0) -> None:
        self.settings, self.pool = settings, pool
        self.ingress_metrics_url, self.worker_metrics_url = ingress_metrics_url, worker_metrics_url
        self.interval_s = interval_s
        self.snapshot = Snapshot()
        self._last_503: tuple[float, int] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            try:
                self.snapshot = await self.read()
            except Exception:
                log.exception("health read failed")
            await asyncio.sleep(self.interval_s)

    async def read(self) -> Snapshot:
        snap = Snapshot(at=time.time())
        try:
            await asyncio.wait_for(self._lag(snap), 10)
        except Exception as exc:
            snap.errors["kafka"] = f"{type(exc).__name__}: {exc}"[:160]
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as http:
            if self.worker_metrics_url:
                try:
                    self._breakers(snap, await self._get(http, self.worker_metrics_url))
                except Exception as exc:
                    snap.errors["worker metrics"] = f"{type(exc).__name__}: {exc}"[:160]
            if self.ingress_metrics_url:
                try:
                    self._ingress(snap, await self._get(http, self.ingress_metrics_url))
                except Exception as exc:
                    snap.errors["ingress metrics"] = f"{type(exc).__name__}: {exc}"[:160]
        return snap

    @staticmethod
    async def _get(http: aiohttp.ClientSession, url: str) -> str:
        async with http.get(url) as r:
            r.raise_for_status()
            return await r.text()

    async def _lag(self, snap: Snapshot) -> None:
        s = self.settings
        async with self.pool.acquire() as conn:
            stored = await conn.fetch('SELECT projection, topic, partition, "offset" '
                                      "FROM projection_offsets")
        consumer = AIOKafkaConsumer(**client_args(s.kafka), group_id=None)
        admin = AIOKafkaAdminClient(**client_args(s.kafka))
        await consumer.start()
        await admin.start()
        try:
            # The worker's Faust group: every topic it consumes (wa.inbound, wa.outbound,
            # the retry tiers...), with wa.inbound shown even before its first commit.
            committed = await admin.list_consumer_group_offsets(s.faust_app_id)
            inbound = s.topic(topics.INBOUND)
            names = ({r["topic"] for r in stored} | {tp.topic for tp in committed}
                     | {inbound})
            if any(consumer.partitions_for_topic(n) is None for n in names):
                # A topic created after this consumer's bootstrap: refresh the client's
                # own metadata (consumer.topics() fills a copy partitions_for_topic ignores).
                await faust_internals.force_metadata_update(consumer)
            tps = [TopicPartition(n, p) for n in sorted(names)
                   for p in consumer.partitions_for_topic(n) or ()]
            end = await consumer.end_offsets(tps)
            worker_topics = {tp.topic for tp in committed} | {inbound}
            for tp, last in end.items():
                if tp.topic not in worker_topics:
                    continue
                done = committed[tp].offset if tp in committed else 0
                name = tp.topic.removeprefix(s.topic_prefix)
                snap.worker_lag[name] = snap.worker_lag.get(name, 0) + max(0, last - max(done, 0))
            for r in stored:
                tp = TopicPartition(r["topic"], r["partition"])
                behind = max(0, end.get(tp, r["offset"]) - r["offset"])
                snap.projector_lag[r["projection"]] = snap.projector_lag.get(
                    r["projection"], 0) + behind
        finally:
            await admin.close()
            await consumer.stop()

    @staticmethod
    def _breakers(snap: Snapshot, text: str) -> None:
        for labels, value in parse_metrics(text).get("wastream_breaker_state", []):
            snap.breakers[labels.get("breaker", "?")] = BREAKER_NAMES.get(int(value), "?")

    def _ingress(self, snap: Snapshot, text: str) -> None:
        for labels, value in parse_metrics(text).get("wastream_ingress_requests_total", []):
            if labels.get("route") != "/webhook":
                continue  # /readyz answers 503 until the producer connects: not a refusal
            snap.ingress_requests += int(value)
            if labels.get("status") == "503":
                snap.ingress_503 += int(value)
        now = time.monotonic()
        if self._last_503 is not None and now > self._last_503[0]:
            snap.ingress_503_per_min = round(
                (snap.ingress_503 - self._last_503[1]) * 60 / (now - self._last_503[0]), 2)
        self._last_503 = (now, snap.ingress_503)

    def as_dict(self) -> dict[str, Any]:
        return vars(self.snapshot)

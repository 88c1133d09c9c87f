"""Who is around: drivers online and passengers searching, across all users.

The conversations of a driver and of a passenger live on different partitions, so
this cross-user view cannot be a partitioned table. It is a materialised view of
``wa.domain`` kept by every worker: a plain consumer (no group) reads every partition
from "now - window" (``offsets_for_times``) and folds ``DriverOnline``/``DriverOffline``/
``RideSearched`` into memory. Entries expire by their own ``until`` (30 minutes), so
the window of the log that matters is bounded and a restarted worker rebuilds the
view from the log in one read: durable without a changelog of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas import topics
from schemas.domain import DomainEvent
from schemas.record import RecordError
from streams.engine.common import haversine_km
from wastream.config import Settings

log = logging.getLogger(__name__)
MAX_RESULTS = 10


class RidesIndex:
    """In-memory index of drivers online and passengers searching (the ``Nearby`` port)."""

    def __init__(self, radius_km: float = 10.0) -> None:
        self.radius_km = radius_km
        self.online: dict[str, dict[str, Any]] = {}
        self.searching: dict[str, dict[str, Any]] = {}

    def apply(self, ev: DomainEvent, now: float) -> None:
        """Fold one domain event (idempotent: the latest fact per wa_id wins)."""
        d = ev.data
        if ev.name == "DriverOnline":
            self.online[ev.wa_id] = {
                "vehicle": d.get("vehicle"),
                "lat": float(d["lat"]),
                "lon": float(d["lon"]),
                "until": float(d["until"]),
            }
        elif ev.name == "DriverOffline":
            self.online.pop(ev.wa_id, None)
        elif ev.name == "RideSearched":
            self.searching[ev.wa_id] = {
                "vehicle": d.get("vehicle"),
                "lat": float(d["lat"]),
                "lon": float(d["lon"]),
                "until": float(d["until"]),
            }
        elif ev.name == "RideAccepted":
            self.searching.pop(str(d.get("passenger")), None)

    def _near(
        self,
        pool: dict[str, dict[str, Any]],
        vehicle: str,
        lat: float,
        lon: float,
        now: float,
        exclude: str,
    ) -> list[tuple[str, float]]:
        found = []
        for wa_id, e in pool.items():
            if wa_id == exclude or e["vehicle"] != vehicle or e["until"] <= now:
                continue
            dist = haversine_km(lat, lon, e["lat"], e["lon"])
            if dist <= self.radius_km:
                found.append((wa_id, dist))
        found.sort(key=lambda x: (x[1], x[0]))
        return found[:MAX_RESULTS]

    def drivers(
        self, vehicle: str, lat: float, lon: float, now: float, exclude: str = ""
    ) -> list[tuple[str, float]]:
        """Drivers of ``vehicle`` online now within the radius, nearest first, at most 10."""
        return self._near(self.online, vehicle, lat, lon, now, exclude)

    def passengers(
        self, vehicle: str, lat: float, lon: float, now: float, exclude: str = ""
    ) -> list[tuple[str, float]]:
        """Passengers who searched for ``vehicle`` within the window, nearest first."""
        return self._near(self.searching, vehicle, lat, lon, now, exclude)

    def driver(self, wa_id: str, now: float) -> dict[str, Any] | None:
        e = self.online.get(wa_id)
        return e if e is not None and e["until"] > now else None

    def prune(self, now: float) -> None:
        for pool in (self.online, self.searching):
            for k in [k for k, e in pool.items() if e["until"] <= now]:
                del pool[k]


async def follow(
    index: RidesIndex, settings: Settings, window_s: float, ready: asyncio.Event | None = None
) -> None:
    """Keep ``index`` up to date from ``wa.domain`` until cancelled."""
    topic = settings.topic(topics.DOMAIN)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
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
                await consumer._client.force_metadata_update()
                await asyncio.sleep(0.5)
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        start_ms = int((time.time() - window_s) * 1000)
        offsets = await consumer.offsets_for_times({tp: start_ms for tp in tps})
        ends = await consumer.end_offsets(tps)
        for tp in tps:
            off = offsets.get(tp)
            consumer.seek(tp, off.offset if off is not None else ends[tp])
        if ready is not None:
            ready.set()
        last_prune = time.monotonic()
        while True:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            now = time.time()
            for msgs in batch.values():
                for m in msgs:
                    with contextlib.suppress(RecordError, KeyError, TypeError, ValueError):
                        index.apply(DomainEvent.from_bytes(m.value or b""), now)
            if time.monotonic() - last_prune > 30:
                index.prune(now)
                last_prune = time.monotonic()
    finally:
        await consumer.stop()

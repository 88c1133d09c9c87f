"""Cost of the failure boundary per event, as ratios against a baseline measured in the
same run (no absolute numbers to compare across machines).

    .venv/bin/python bench/failure_router/run.py [events]

- baseline: ``process`` called directly;
- router, all succeed: ``FailureRouter.handle`` around the same ``process``;
- router, parking: one key's head in retry, the other events parked behind it, then
  released in order (what a conversation pays while one of its events retries).

The parked table is a dict and the publisher records in memory: this measures the
router's own work, not the broker's.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from schemas.envelope import InboundEvent
from streams.failure.errors import TransientError
from streams.failure.records import Origin
from streams.failure.router import FailureRouter
from wastream.config import Settings


class Pub:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes | None, dict[str, bytes]]] = []

    async def send(self, topic: str, key: bytes | None, value: bytes | None,
                   headers: Mapping[str, bytes], partition: int | None = None) -> None:
        self.sent.append((topic, key, value, dict(headers)))


def events(n: int, keys: int) -> list[InboundEvent]:
    return [InboundEvent(event_id=f"wamid.{i}", type="message.text", wa_id=f"u{i % keys}",
                         phone_number_id="1", timestamp=i, received_at="", correlation_id="c",
                         payload={"id": f"wamid.{i}", "text": {"body": "hello"}})
            for i in range(n)]


async def main(n: int) -> None:
    settings = Settings.from_env({"WASTREAM_RETRY_DELAYS": "1s,2s,3s"})
    evs = [(e.key, e.to_bytes()) for e in events(n, 100)]

    async def process(key: bytes | None, value: bytes | None, hdrs: Mapping[str, bytes],
                      place: Origin) -> None:
        InboundEvent.from_bytes(value or b"")  # the decode every real process does

    t0 = time.perf_counter()
    for i, (k, v) in enumerate(evs):
        await process(k, v, {}, Origin("wa.inbound", 0, i))
    base = time.perf_counter() - t0

    router = FailureRouter(None, settings, process, parked={}, publisher=Pub())
    t0 = time.perf_counter()
    for i, (k, v) in enumerate(evs):
        await router.handle(k, v, {}, Origin("wa.inbound", 0, i))
    routed = time.perf_counter() - t0

    print(f"events: {n} (100 keys)")
    print(f"router / direct, all succeed: {routed / base:.2f}x")
    for size in (10, 100, 1000):
        ratio = await parking_run(settings, base / len(evs), size)
        print(f"router / direct, one head retried and {size - 1} parked behind it, then "
              f"released: {ratio:.2f}x")


async def parking_run(settings: Settings, base_per_event: float, size: int) -> float:
    """One key: its first event fails once, the rest park behind it, then all are
    released in order. Returns time per event over the direct baseline's."""
    one = [(b"u0", e.to_bytes()) for e in events(size, 1)]
    failed: set[bytes] = set()

    async def flaky(key: bytes | None, value: bytes | None, hdrs: Mapping[str, bytes],
                    place: Origin) -> None:
        InboundEvent.from_bytes(value or b"")
        if value == one[0][1] and value not in failed:
            failed.add(value)
            raise TransientError("once")

    pub = Pub()
    parked: dict[str, Any] = {}
    router = FailureRouter(None, settings, flaky, parked=parked, publisher=pub)
    t0 = time.perf_counter()
    for i, (k, v) in enumerate(one):
        await router.handle(k, v, {}, Origin("wa.inbound", 0, i))
    _topic, key, value, hdrs = pub.sent[0]
    await router.handle(key, value, hdrs, Origin("wa.inbound", 0, len(one)))
    elapsed = time.perf_counter() - t0
    assert parked == {}, "everything released"
    return elapsed / size / base_per_event


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000))

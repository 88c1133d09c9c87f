"""Helpers for the failure-handling tests: an in-memory publisher for router unit tests
and event builders (plain module, not fixtures)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from schemas.envelope import InboundEvent


@dataclass
class Sent:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]
    partition: int | None


@dataclass
class MemoryPublisher:
    """Records what a router publishes (unit tests of pure routing logic only; the
    integration tests use the real broker)."""

    sent: list[Sent] = field(default_factory=list)

    async def send(self, topic: str, key: bytes | None, value: bytes | None,
                   headers: Mapping[str, bytes], partition: int | None = None) -> None:
        self.sent.append(Sent(topic, key, value, dict(headers), partition))

    def on(self, topic: str) -> list[Sent]:
        return [s for s in self.sent if s.topic == topic]

    def take(self, topic: str) -> list[Sent]:
        out = self.on(topic)
        self.sent = [s for s in self.sent if s.topic != topic]
        return out


# Meta's timestamps of the events: recent, so their users' service windows are open (a
# recovery's apology then goes free-form with the menu, as after a fresh message).
T0 = int(time.time())


def event(wa_id: str, n: int, text: str = "hi") -> InboundEvent:
    return InboundEvent(event_id=f"wamid.{wa_id}.{n}", type="message.text", wa_id=wa_id,
                        phone_number_id="106540352242922", timestamp=T0 + n,
                        received_at="2026-01-01T00:00:00+00:00", correlation_id=f"c{n}",
                        payload={"id": f"wamid.{wa_id}.{n}", "type": "text",
                                 "text": {"body": text}})


def start_echo_worker(system: Any, name: str = "echo") -> Any:
    """Start ``tests.support.echo_worker`` as a subprocess of ``system`` (own session, so
    ``kill9`` kills it and its children)."""
    import subprocess
    import sys

    from tests.support.system import LOG_DIR, REPO, Service

    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = LOG_DIR / f"{system.schema}-{name}-{len(system.services)}.log"
    with log.open("wb") as out:
        # a kill -9'd member is noticed in 10 s, not the worker's default 30 s
        env = {"WASTREAM_SESSION_TIMEOUT_S": "10", **system.env}
        proc = subprocess.Popen([sys.executable, "-m", "tests.support.echo_worker"],
                                env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, cwd=REPO)
    svc = Service(name, proc, log)
    system.services.append(svc)
    return svc


def inbound_records(events: list[InboundEvent]) -> list[tuple[bytes | None, bytes]]:
    return [(e.key, e.to_bytes()) for e in events]


async def wait_until(cond: Any, timeout_s: float, step_s: float = 0.05) -> bool:
    """Poll ``cond()`` until it is true or ``timeout_s`` passes; return its last value."""
    import asyncio

    for _ in range(max(1, int(timeout_s / step_s))):
        if cond():
            return True
        await asyncio.sleep(step_s)
    return bool(cond())

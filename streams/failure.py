"""The per-event failure boundary of every agent that processes ``wa.inbound``.

INTERFACE (stable; the conversation agent depends on it):

    router = FailureRouter(app, settings, process)
    async for event in stream.events():
        await router.handle(event.key, event.value, event.headers, Origin(topic, partition, offset))

``process(key, value, headers)`` does the work of one event and raises on failure.
``handle`` never raises: it runs ``process`` inside its own try block and routes
the failure (classified by the error's own ``transient`` attribute) to a retry
tier or the dead-letter topic.

This first version sends every failure straight to ``wa.dlq``; retry tiers,
parking and breakers come with the failure-handling work.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from schemas import headers as h
from schemas import topics
from wastream.config import Settings

log = logging.getLogger(__name__)

Process = Callable[[bytes | None, bytes | None, Mapping[str, bytes]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Origin:
    topic: str
    partition: int
    offset: int

    @property
    def dlq_id(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"


def error_headers(exc: BaseException, origin: Origin, attempt: int) -> dict[str, str | int | None]:
    kind = "transient" if getattr(exc, "transient", False) else "permanent"
    return {
        h.ORIGINAL_TOPIC: origin.topic,
        h.ORIGINAL_PARTITION: origin.partition,
        h.ORIGINAL_OFFSET: origin.offset,
        h.ATTEMPT: attempt,
        h.ERROR_CLASS: f"{type(exc).__module__}.{type(exc).__qualname__}",
        h.ERROR_KIND: kind,
        h.ERROR_MESSAGE: str(exc)[:2000],
        h.ERROR_TRACE: "".join(traceback.format_exception(exc))[-8000:],
        h.FAILED_AT: datetime.now(UTC).isoformat(),
        h.DLQ_ID: origin.dlq_id,
    }


class FailureRouter:
    def __init__(self, app: Any, settings: Settings, process: Process) -> None:
        self.app = app
        self.settings = settings
        self.process = process
        self.dlq_topic = app.topic(settings.topic(topics.DLQ), key_serializer="raw",
                                   value_serializer="raw")

    async def handle(self, key: bytes | None, value: bytes | None,
                     headers: Mapping[str, bytes] | None, origin: Origin) -> None:
        hdrs = dict(headers or {})
        try:
            await self.process(key, value, hdrs)
        except Exception as exc:  # noqa: BLE001 - the boundary: every failure is routed
            await self.dead_letter(key, value, hdrs, origin, exc, attempt=0)

    async def dead_letter(self, key: bytes | None, value: bytes | None, hdrs: Mapping[str, bytes],
                          origin: Origin, exc: BaseException, attempt: int) -> None:
        log.warning("dead-lettering %s: %s: %s", origin.dlq_id, type(exc).__name__, exc)
        out = {k: v for k, v in hdrs.items() if not k.startswith("wastream.")}
        out.update(dict(h.to_headers(error_headers(exc, origin, attempt))))
        await self.dlq_topic.send_and_wait(key=key, value=value or b"", headers=out)

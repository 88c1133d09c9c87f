"""What the failure router and its neighbours pass around: where a record was read
(:class:`Origin`), the headers a retry or dead letter carries, and the :class:`Publisher`
that writes them. A module of its own so that the router, recovery, the hole guard and
the dead-letter tools share it without importing each other."""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from schemas import headers as h
from streams.failure.errors import is_transient


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a record was read: its topic, partition and offset."""

    topic: str
    partition: int
    offset: int

    @property
    def dlq_id(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"


def error_class(exc: BaseException) -> str:
    """An error's class as the ``wastream.error_class`` header and the metrics name it:
    its own ``error_class`` when it names one (``template_unavailable``), else the
    qualified name of its type."""
    return (getattr(exc, "error_class", None)
            or f"{type(exc).__module__}.{type(exc).__qualname__}")


def error_headers(exc: BaseException, origin: Origin, attempt: int) -> dict[str, str | int | None]:
    """The failure headers of a retry or dead-letter record (``schemas.headers``)."""
    return {
        h.ORIGINAL_TOPIC: origin.topic,
        h.ORIGINAL_PARTITION: origin.partition,
        h.ORIGINAL_OFFSET: origin.offset,
        h.ATTEMPT: attempt,
        h.ERROR_CLASS: error_class(exc),
        h.ERROR_KIND: "transient" if is_transient(exc) else "permanent",
        h.ERROR_MESSAGE: str(exc)[:2000],
        h.ERROR_TRACE: "".join(traceback.format_exception(exc))[-8000:],
        h.FAILED_AT: datetime.now(UTC).isoformat(),
        h.DLQ_ID: origin.dlq_id,
        h.HELD_FOR: ":".join(held) if (held := getattr(exc, "template", None)) else None,
    }


def normalize_headers(headers: Any) -> dict[str, bytes]:
    """Faust gives a mapping, aiokafka a list of pairs; we work on str → bytes."""
    if not headers:
        return {}
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {str(k): (v if isinstance(v, bytes) else str(v).encode()) for k, v in items}


def original_origin(hdrs: Mapping[str, bytes], origin: Origin) -> Origin:
    """The first place a record was read, which a retry re-publish carries in headers."""
    try:
        return Origin(hdrs[h.ORIGINAL_TOPIC].decode(), int(hdrs[h.ORIGINAL_PARTITION]),
                      int(hdrs[h.ORIGINAL_OFFSET]))
    except (KeyError, ValueError):
        return origin


def place(hdrs: Mapping[str, bytes], origin: Origin) -> Origin:
    """Where a record stands in its key's order: where it was first read (a retried
    record keeps its original place), or, for a recovery event, where the dead letter
    it recovers from was. The router runs a key's records in increasing place, heads
    and released records included, so a consumer can tell a replay by its place."""
    raw = hdrs.get(h.IN_PLACE_OF)
    if raw is not None:
        topic, _, rest = raw.decode().rpartition(":")
        topic, _, partition = topic.rpartition(":")
        try:
            return Origin(topic, int(partition), int(rest))
        except ValueError:
            pass
    return original_origin(hdrs, origin)


def passthrough(hdrs: Mapping[str, bytes]) -> dict[str, bytes]:
    """Headers that travel with a record through retries and dead letters (ours are
    rewritten; a redrive marker is kept so the history stays linked, and a recovery
    event's place in its key's order)."""
    keep = {h.REDRIVE_OF, h.IN_PLACE_OF}
    return {k: v for k, v in hdrs.items() if not k.startswith("wastream.") or k in keep}


class Publisher(Protocol):
    """Sends one record and waits for the broker's ack."""

    async def send(self, topic: str, key: bytes | None, value: bytes | None,
                   headers: Mapping[str, bytes], partition: int | None = None) -> None: ...


class FaustPublisher:
    """A :class:`Publisher` over the Faust app's own producer (flushed before commits)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def send(self, topic: str, key: bytes | None, value: bytes | None,
                   headers: Mapping[str, bytes], partition: int | None = None) -> None:
        await self.app.producer.send_and_wait(topic, key, value, partition, None,
                                              list(headers.items()))

"""``wa_events``: every ``wa.inbound`` envelope, once (first delivery wins: Meta
duplicates carry the same deterministic event_id)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from projections.base import Msg, insert_new, jsonb, loads, ms, ts
from schemas import topics
from schemas.envelope import EnvelopeError, InboundEvent

COLUMNS = ("event_id", "type", "wa_id", "phone_number_id", "waba_id", "field", "meta_timestamp",
           "received_at", "correlation_id", "schema_version", "payload", "extra",
           "kafka_partition", "kafka_offset", "profile_name")


def decode(msg: Msg) -> InboundEvent | None:
    """The envelope of a wa.inbound record, or None when it is not one (skipped)."""
    d = loads(msg)
    if d is None:
        return None
    try:
        return InboundEvent.from_dict(d)
    except EnvelopeError:
        return None


def row(msg: Msg, ev: InboundEvent) -> tuple[Any, ...]:
    """The wa_events row of one envelope."""
    return (ev.event_id, ev.type, ev.wa_id, ev.phone_number_id, ev.waba_id, ev.field,
            ts(ev.timestamp), ts(ev.received_at) or ms(msg.timestamp_ms), ev.correlation_id,
            ev.schema_version, jsonb(ev.payload), jsonb(ev.extra), msg.partition, msg.offset,
            ev.profile_name)


class EventsProjection:
    """wa.inbound → wa_events."""

    name = "events"
    topics = (topics.INBOUND,)
    tables = ("wa_events",)

    def prepare(self, m: Msg) -> None:
        ev = decode(m)
        m.memo[self.name] = row(m, ev) if ev is not None else None

    async def apply(self, conn: asyncpg.Connection, msgs: Sequence[Msg]) -> None:
        rows = []
        for m in msgs:
            if self.name not in m.memo:
                self.prepare(m)
            r = m.memo[self.name]
            if r is not None:
                rows.append(r)
        if not rows:
            return
        await insert_new(conn, "wa_events", COLUMNS, "event_id", rows)

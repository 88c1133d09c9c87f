"""``wa_domain_events`` from ``wa.domain`` (RideRequested, JobPosted…), once per
deterministic event_id."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from projections.base import Msg, insert_new, jsonb, loads, ms, ts
from schemas import topics
from schemas.domain import DomainEvent
from schemas.record import RecordError

COLUMNS = ("event_id", "name", "wa_id", "data", "caused_by", "at", "correlation_id")


class DomainEventsProjection:
    """wa.domain → wa_domain_events."""

    name = "domain_events"
    topics = (topics.DOMAIN,)
    tables = ("wa_domain_events",)

    async def apply(self, conn: asyncpg.Connection, msgs: Sequence[Msg]) -> None:
        rows = []
        for m in msgs:
            d = loads(m)
            if d is None:
                continue
            try:
                ev = DomainEvent.from_dict(d)
            except RecordError:
                continue
            rows.append((ev.event_id, ev.name, ev.wa_id, jsonb(ev.data), ev.caused_by,
                         ts(ev.at) or ms(m.timestamp_ms), ev.correlation_id))
        if not rows:
            return
        await insert_new(conn, "wa_domain_events", COLUMNS, "event_id", rows)

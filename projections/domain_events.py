"""``wa_domain_events`` from ``wa.domain`` (every domain's typed events), once per
deterministic event_id.

``data`` is stored in the current version of its type: a record of an older version is
upcast on the way in (the types and their upcasters are declared by the domains,
``streams/domains/<name>/events.py``), so the table holds one shape per name. A type
no registered domain declares, or data that does not fit its type, is stored as
written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from projections.base import Msg, insert_new, jsonb, loads, ms, ts
from schemas import topics
from schemas.domain import DomainEvent, EventTypes
from schemas.record import RecordError
from streams.domains import event_types

COLUMNS = ("event_id", "name", "wa_id", "data", "caused_by", "at", "correlation_id")


class DomainEventsProjection:
    """wa.domain → wa_domain_events."""

    name = "domain_events"
    topics = (topics.DOMAIN,)
    tables = ("wa_domain_events",)

    def __init__(self, types: EventTypes | None = None) -> None:
        self.types = types if types is not None else event_types()

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
            data = current_data(self.types, ev)
            rows.append((ev.event_id, ev.name, ev.wa_id, jsonb(data), ev.caused_by,
                         ts(ev.at) or ms(m.timestamp_ms), ev.correlation_id))
        if not rows:
            return
        await insert_new(conn, "wa_domain_events", COLUMNS, "event_id", rows)


def current_data(types: EventTypes, ev: DomainEvent) -> dict[str, Any]:
    """``ev.data`` in its type's current version (verbatim when that cannot be had)."""
    try:
        event = types.decode(ev)
    except RecordError:
        return ev.data
    return ev.data if event is None else event.to_data()

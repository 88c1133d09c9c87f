"""``vendors`` from the general broker's ``VendorRegistered``/``VendorPaused``/
``VendorResumed`` (``streams/domains/broker/events.py``): one row per vendor.

A vendor's events come from the vendor's own conversation, so they are ordered on one
partition: a batch is folded per vendor in log order into its latest details, its
latest status (a registration never changes the status: a paused vendor who updates
their details stays paused) and its last event, then written with one upsert each.
A pause or resume of a vendor whose registration is older than the records replayed
changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from projections.base import Msg
from projections.facts import facts
from schemas import topics
from schemas.domain import EventTypes
from streams.domains import event_types
from streams.domains.broker.events import VendorPaused, VendorRegistered, VendorResumed


class VendorsProjection:
    """wa.domain (vendors) → vendors."""

    name = "vendors"
    topics = (topics.DOMAIN,)
    tables = ("vendors",)

    def __init__(self, types: EventTypes | None = None) -> None:
        self.types = types if types is not None else event_types()

    async def apply(self, conn: asyncpg.Connection, msgs: Sequence[Msg]) -> None:
        details: dict[str, tuple[Any, ...]] = {}
        first: dict[str, datetime] = {}
        status: dict[str, str] = {}
        last: dict[str, tuple[datetime, str]] = {}
        for f in facts(self.types, msgs, (VendorRegistered, VendorPaused, VendorResumed)):
            v = f.env.wa_id
            ev = f.event
            if isinstance(ev, VendorRegistered):
                details[v] = (ev.name, list(ev.categories), float(ev.lat), float(ev.lon),
                              ev.district or None, ev.source)
                first.setdefault(v, f.at)
            else:
                status[v] = "paused" if isinstance(ev, VendorPaused) else "active"
            last[v] = (f.at, f.env.event_id)
        if details:
            await conn.executemany(
                "INSERT INTO vendors (vendor_wa_id, name, categories, lat, lon, district, "
                "source, status, registered_at, updated_at, last_event_id) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8, 'active'), $9, $10, $11) "
                "ON CONFLICT (vendor_wa_id) DO UPDATE SET name = EXCLUDED.name, "
                "categories = EXCLUDED.categories, lat = EXCLUDED.lat, lon = EXCLUDED.lon, "
                "district = EXCLUDED.district, source = EXCLUDED.source, "
                "status = coalesce($8, vendors.status), updated_at = EXCLUDED.updated_at, "
                "last_event_id = EXCLUDED.last_event_id",
                [(v, *d, status.get(v), first[v], *last[v]) for v, d in details.items()])
        rest = [(v, s, *last[v]) for v, s in status.items() if v not in details]
        if rest:
            await conn.executemany(
                "UPDATE vendors SET status = $2, updated_at = $3, last_event_id = $4 "
                "WHERE vendor_wa_id = $1", rest)

"""``produce_listings`` from the farmer market's ``ProduceListed``/``ProduceUpdated``/
``ProduceClosed`` (``streams/domains/farmer/events.py``): one row per listing.

A listing's events come from the farmer's conversation, ordered on one partition: a
batch is folded per listing into its first listing, its last quantity and its closing,
written in that order. ``expires_at`` is the listing's end of life as the event says
(a listing past it is no longer shown, whatever ``status`` says: ``status`` is what the
farmer did)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import asyncpg

from projections.base import Msg, ts
from projections.facts import facts
from schemas import topics
from schemas.domain import EventTypes
from streams.domains import event_types
from streams.domains.farmer.events import ProduceClosed, ProduceListed, ProduceUpdated


def _day(iso: str) -> date | None:
    try:
        return date.fromisoformat(iso) if iso else None
    except ValueError:
        return None


class ProduceListingsProjection:
    """wa.domain (produce on offer) → produce_listings."""

    name = "produce_listings"
    topics = (topics.DOMAIN,)
    tables = ("produce_listings",)

    def __init__(self, types: EventTypes | None = None) -> None:
        self.types = types if types is not None else event_types()

    async def apply(self, conn: asyncpg.Connection, msgs: Sequence[Msg]) -> None:
        listed: dict[str, tuple[Any, ...]] = {}
        updated: dict[str, tuple[Any, ...]] = {}
        closed: dict[str, datetime] = {}
        for f in facts(self.types, msgs, (ProduceListed, ProduceUpdated, ProduceClosed)):
            ev = f.event
            if isinstance(ev, ProduceListed):
                at = ts(ev.listed_at) or f.at
                listed.setdefault(ev.listing_id, (
                    ev.listing_id, f.env.wa_id, ev.crop, float(ev.quantity), ev.unit,
                    int(ev.price), float(ev.lat), float(ev.lon), _day(ev.harvest_date), at,
                    ts(ev.expires_at) or at, at))
            elif isinstance(ev, ProduceUpdated):
                updated[ev.listing_id] = (ev.listing_id, float(ev.quantity), ev.unit, f.at)
            elif isinstance(ev, ProduceClosed):
                closed.setdefault(ev.listing_id, f.at)
        if listed:
            await conn.executemany(
                "INSERT INTO produce_listings (listing_id, farmer_wa_id, crop, quantity, unit, "
                "price, lat, lon, harvest_date, listed_at, expires_at, updated_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
                "ON CONFLICT (listing_id) DO NOTHING", list(listed.values()))
        if updated:
            await conn.executemany(
                "UPDATE produce_listings SET quantity = $2, unit = $3, updated_at = $4 "
                "WHERE listing_id = $1 AND status = 'open'", list(updated.values()))
        if closed:
            await conn.executemany(
                "UPDATE produce_listings SET status = 'closed', updated_at = $2 "
                "WHERE listing_id = $1 AND status = 'open'", list(closed.items()))

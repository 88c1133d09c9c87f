"""``rental_listings`` and ``rental_inquiries`` from the rentals domain's events on
``wa.domain``.

Idempotent per record: a listing is inserted once (by ``RentalListed``, or by a
``RentalRenewed`` that restates it), a renewal counts only when it moves the expiry
later, the status moves from ``open`` only; an inquiry is upserted by the seeker's
``RentalInquiry`` and the owner's ``RentalContacted`` in whichever order they come."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from projections.base import Msg, ts
from projections.listings import facts
from schemas import topics
from schemas.domain import EventTypes
from streams.domains.rentals.events import (
    EVENTS,
    RentalContacted,
    RentalExpired,
    RentalInquiry,
    RentalListed,
    RentalRemoved,
    RentalRenewed,
    RentalRented,
)

TYPES = EventTypes(EVENTS)
ENDS = {RentalRented: "rented", RentalRemoved: "removed", RentalExpired: "expired"}


class RentalsProjection:
    """wa.domain (rentals events) → rental_listings, rental_inquiries."""

    name = "rentals"
    topics = (topics.DOMAIN,)
    tables = ("rental_listings", "rental_inquiries")

    async def apply(self, conn: asyncpg.Connection, msgs: Sequence[Msg]) -> None:
        for wa_id, ev, at in facts(TYPES, msgs):
            if isinstance(ev, RentalListed | RentalRenewed):
                await conn.execute(
                    "INSERT INTO rental_listings (listing_id, owner, kind, bedrooms, price, lat, "
                    "lon, place, district, photo, posted_at, expires_at, photo_key) VALUES "
                    "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) "
                    "ON CONFLICT (listing_id) DO NOTHING",
                    ev.listing_id, wa_id, ev.kind, int(ev.bedrooms), int(ev.price),
                    float(ev.lat), float(ev.lon), ev.place, ev.district, ev.photo,
                    ts(ev.posted_at), ts(ev.expires_at), ev.photo_key)
                if isinstance(ev, RentalRenewed):
                    await conn.execute(
                        "UPDATE rental_listings SET expires_at = $2, renewals = renewals + 1 "
                        "WHERE listing_id = $1 AND status = 'open' AND expires_at < $2",
                        ev.listing_id, ts(ev.expires_at))
            elif isinstance(ev, RentalRented | RentalRemoved | RentalExpired):
                await conn.execute(
                    "UPDATE rental_listings SET status = $2, ended_at = $3 "
                    "WHERE listing_id = $1 AND status = 'open'",
                    ev.listing_id, ENDS[type(ev)], at)
            elif isinstance(ev, RentalInquiry):
                await conn.execute(
                    "INSERT INTO rental_inquiries (listing_id, seeker, owner, name, asked_at) "
                    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (listing_id, seeker) DO UPDATE "
                    "SET name = EXCLUDED.name, asked_at = coalesce(rental_inquiries.asked_at, "
                    "EXCLUDED.asked_at)", ev.listing_id, ev.seeker, ev.owner, ev.name, at)
            elif isinstance(ev, RentalContacted):
                await conn.execute(
                    "INSERT INTO rental_inquiries (listing_id, seeker, owner, contacted_at) "
                    "VALUES ($1, $2, $3, $4) ON CONFLICT (listing_id, seeker) DO UPDATE "
                    "SET contacted_at = coalesce(rental_inquiries.contacted_at, "
                    "EXCLUDED.contacted_at)", ev.listing_id, ev.seeker, ev.owner, at)

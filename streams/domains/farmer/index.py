"""The produce on offer, across all farmers: the farmer market's read model of
``wa.domain``.

A ``ListingIndex`` of kind ``produce``, one listing per ``ProduceListed`` (its id is the
listing id, its owner the farmer), changed by ``ProduceUpdated`` and closed by
``ProduceClosed``. A listing expires at the ``expires_at`` its event carries, so a
starting worker reads ``wa.domain`` back as far as a listing lives (``window_s``).
"""

from __future__ import annotations

from collections.abc import Mapping

from schemas.domain import Event
from streams.domains.farmer.events import ProduceClosed, ProduceListed, ProduceUpdated
from streams.domains.farmer.options import NAME, FarmerOptions
from streams.engine.model import Ctx
from streams.listings import Hit, Listing, ListingIndex, Query

KIND = "produce"
MAX_LISTED = 10  # a WhatsApp list


class ProduceIndex:
    """Live listings of produce by crop, searched nearest first."""

    def __init__(self, radius_km: float = 50.0, ttl_s: float = 14 * 86400.0) -> None:
        self.radius_km = radius_km
        self.window_s = ttl_s
        self.index = ListingIndex()

    @classmethod
    def from_options(cls, opts: FarmerOptions) -> ProduceIndex:
        return cls(radius_km=opts.radius_km, ttl_s=opts.listing_ttl_s)

    def apply(self, wa_id: str, ev: Event, now: float) -> None:
        """Fold one event (idempotent: the index keys every change by listing id)."""
        if isinstance(ev, ProduceListed):
            self.index.add(Listing(
                ev.listing_id, wa_id, KIND, float(ev.lat), float(ev.lon), float(ev.listed_at),
                float(ev.expires_at), fields={
                    "crop": ev.crop, "quantity": float(ev.quantity), "unit": ev.unit,
                    "price": int(ev.price), "place": ev.place,
                    "harvest_date": ev.harvest_date}))
        elif isinstance(ev, ProduceUpdated):
            self.index.update(ev.listing_id,
                              fields={"quantity": float(ev.quantity), "unit": ev.unit})
        elif isinstance(ev, ProduceClosed):
            self.index.close(ev.listing_id)

    def prune(self, now: float) -> None:
        self.index.prune(now)

    def near(self, crop: str, lat: float, lon: float, now: float,
             exclude_owner: str | None = None) -> list[Hit]:
        """Up to 10 live listings of ``crop`` within the radius, nearest first (a
        buyer's own listings left out)."""

        def fits(f: Mapping[str, object]) -> bool:
            return f.get("crop") == crop

        return self.index.search(Query(KIND, lat, lon, self.radius_km, k=MAX_LISTED,
                                       where=fits, exclude_owner=exclude_owner), now)

    def listing(self, listing_id: str) -> Listing | None:
        return self.index.get(listing_id)


def produce(ctx: Ctx) -> ProduceIndex:
    """This worker's produce index."""
    return ctx.domains.model(NAME, ProduceIndex)

"""Places to rent across all users, searched by distance, price and bedrooms: the
rentals domain's read model of ``wa.domain``, kept by every worker and rebuilt on start
from the last ``lifetime`` of the log (a renewal restates its listing, so a listing
renewed long ago is rebuilt from its last renewal)."""

from __future__ import annotations

from collections.abc import Mapping

from schemas.domain import Event
from streams.domains.rentals.events import (
    RentalExpired,
    RentalListed,
    RentalRemoved,
    RentalRenewed,
    RentalRented,
)
from streams.domains.rentals.options import NAME, RentalsOptions
from streams.engine.model import Ctx
from streams.listings import Hit, Listing, ListingIndex, Query

KIND = "rental"
MAX_RESULTS = 10


class RentalsIndex:
    """Listings of places to rent by place."""

    def __init__(self, radius_km: float = 25.0, window_s: float = 30 * 86400.0) -> None:
        self.radius_km = radius_km
        self.window_s = window_s
        self.listings = ListingIndex()

    @classmethod
    def from_options(cls, opts: RentalsOptions) -> RentalsIndex:
        return cls(radius_km=opts.radius_km, window_s=opts.lifetime_s)

    def apply(self, wa_id: str, ev: Event, now: float) -> None:
        """Fold one event (idempotent: the index is keyed by listing id)."""
        if isinstance(ev, RentalListed | RentalRenewed):
            held = self.listings.add(
                Listing(
                    id=ev.listing_id, owner=wa_id, kind=KIND, lat=float(ev.lat),
                    lon=float(ev.lon), posted_at=float(ev.posted_at),
                    expires_at=float(ev.expires_at),
                    fields={"kind": ev.kind, "bedrooms": int(ev.bedrooms),
                            "price": int(ev.price), "place": ev.place, "photo": ev.photo,
                            "photo_key": ev.photo_key},
                )
            )
            if not held and isinstance(ev, RentalRenewed):
                self.listings.update(ev.listing_id, expires_at=float(ev.expires_at))
        elif isinstance(ev, RentalRented):
            self.listings.close(ev.listing_id)
        elif isinstance(ev, RentalExpired):
            self.listings.expire(ev.listing_id)
        elif isinstance(ev, RentalRemoved):
            self.listings.remove(ev.listing_id)

    def near(self, lat: float, lon: float, now: float, exclude: str, max_price: int,
             min_bedrooms: int) -> list[Hit]:
        """Up to 10 live listings within the radius at most ``max_price`` a month with
        at least ``min_bedrooms``, nearest first, then newest."""

        def fits(f: Mapping[str, object]) -> bool:
            price, beds = f["price"], f["bedrooms"]
            if not isinstance(price, int) or not isinstance(beds, int):
                return False
            return price <= max_price and beds >= min_bedrooms

        query = Query(KIND, lat, lon, self.radius_km, k=MAX_RESULTS, where=fits,
                      exclude_owner=exclude)
        return self.listings.search(query, now)

    def get(self, listing_id: str) -> Listing | None:
        return self.listings.get(listing_id)

    def prune(self, now: float) -> None:
        self.listings.prune(now)


def rentals(ctx: Ctx) -> RentalsIndex:
    """This worker's rentals index."""
    return ctx.domains.model(NAME, RentalsIndex)

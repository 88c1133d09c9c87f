"""The vendors, across all users: the general broker's read model of ``wa.domain``.

A ``ListingIndex`` of kind ``vendor``, one listing per vendor (its id is the vendor's
wa_id), folded from ``VendorRegistered``/``VendorPaused``/``VendorResumed``. A vendor
never expires, so a starting worker reads ``wa.domain`` from far back (``window_s``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from schemas.domain import Event
from streams.domains.broker.events import VendorPaused, VendorRegistered, VendorResumed
from streams.domains.broker.options import NAME, BrokerOptions
from streams.engine.model import Ctx
from streams.listings import Hit, Listing, ListingIndex, Query

KIND = "vendor"
MAX_LISTED = 10
FOREVER_S = 20 * 365 * 86400.0  # how far back in wa.domain a vendor may have registered


class VendorIndex:
    """Active vendors by category, searched nearest first."""

    def __init__(self, radius_km: float = 50.0) -> None:
        self.radius_km = radius_km
        self.window_s = FOREVER_S
        self.index = ListingIndex()

    @classmethod
    def from_options(cls, opts: BrokerOptions) -> VendorIndex:
        return cls(radius_km=opts.radius_km)

    def apply(self, wa_id: str, ev: Event, now: float) -> None:
        """Fold one event (idempotent: the latest details of a vendor win)."""
        if isinstance(ev, VendorRegistered):
            fields = {"name": ev.name, "categories": tuple(ev.categories)}
            if not self.index.update(wa_id, lat=float(ev.lat), lon=float(ev.lon), fields=fields):
                self.index.add(Listing(wa_id, wa_id, KIND, float(ev.lat), float(ev.lon), now,
                                       math.inf, fields={**fields, "paused": False}))
        elif isinstance(ev, VendorPaused | VendorResumed):
            self.index.update(wa_id, fields={"paused": isinstance(ev, VendorPaused)})

    def prune(self, now: float) -> None:
        """Vendors do not expire."""

    def near(self, category: str, lat: float, lon: float, now: float,
             exclude: tuple[str, ...] = ()) -> list[Hit]:
        """Up to 10 active vendors of ``category`` within the radius, nearest first,
        leaving out the wa_ids in ``exclude`` (the user, vendors already asked)."""

        def fits(f: Mapping[str, object]) -> bool:
            cats = f.get("categories")
            return (not f.get("paused") and isinstance(cats, tuple) and category in cats)

        hits = self.index.search(
            Query(KIND, lat, lon, self.radius_km, k=MAX_LISTED + len(exclude), where=fits), now)
        return [h for h in hits if h.listing.owner not in exclude][:MAX_LISTED]

    def vendor(self, wa_id: str) -> Listing | None:
        return self.index.get(wa_id)


def vendors(ctx: Ctx) -> VendorIndex:
    """This worker's vendor index."""
    return ctx.domains.model(NAME, VendorIndex)

"""A worker-local, in-memory index of listings, searched by distance.

A domain's read model feeds it from that domain's events (``JobPosted`` -> ``add``,
``JobClosed`` -> ``close``, ...) on every worker, so every worker answers a search the
same way. Every change is keyed by the listing id and idempotent: applying the same
event twice leaves the index as applying it once, and a duplicate ``add`` arriving
after a ``close`` or a ``remove`` does not bring the listing back.

``scan`` is the definition of a search's answer (a brute-force pass over listings);
``ListingIndex.search`` returns exactly what ``scan`` returns over the index's listings
(tests/listings checks it on random data), only faster.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from collections.abc import Iterable, Mapping

from streams.engine.common import haversine_km
from streams.listings.geo import KM_PER_DEG, box_around
from streams.listings.grid import Grid
from streams.listings.model import Hit, Listing, Query, Status, check_point, rank

# ~280 m at the equator: at the densest spot of bench.listings (100,000 listings, half of
# them around Kigali) a cell holds ~25, so the first box around a point holds the 10
# nearest without reading hundreds; coarser cells were slower there, finer ones cost
# memory (one dict per occupied cell) for no gain.
DEFAULT_CELL_DEG = 0.0025
# No two points are further apart (haversine_km's own largest answer, so no rounding
# can put a computed distance beyond it).
FARTHEST_KM = haversine_km(0.0, 0.0, 0.0, 180.0)


def scan(listings: Iterable[Listing], query: Query, now: float) -> list[Hit]:
    """The answer to ``query`` at ``now`` by brute force: every listing the query admits
    within its radius, ordered by ``rank``, at most ``query.k``."""
    hits = []
    for listing in listings:
        if query.admits(listing, now):
            km = haversine_km(query.lat, query.lon, listing.lat, listing.lon)
            if km <= query.radius_km:
                hits.append(Hit(listing, km))
    return heapq.nsmallest(max(query.k, 0), hits, key=rank)


class ListingIndex:
    """Listings by id, and the open ones in one grid per kind for searching."""

    def __init__(self, cell_deg: float = DEFAULT_CELL_DEG) -> None:
        self.cell_deg = cell_deg
        self._by_id: dict[str, Listing] = {}
        self._grids: dict[str, Grid] = {}
        # Tuples, not sets: an owner has a few listings, and a one-element set costs
        # 216 bytes where a one-element tuple costs 48 (~17 MB over 100,000 owners).
        self._by_owner: dict[str, tuple[str, ...]] = {}
        # id -> expiry of removed listings, so a late duplicate add stays removed;
        # ``prune`` forgets them once a duplicate could only add an expired listing.
        self._removed: dict[str, float] = {}

    def __len__(self) -> int:
        """The number of listings held, open or closed."""
        return len(self._by_id)

    def get(self, listing_id: str) -> Listing | None:
        """The listing as it is now (open or closed), or None if unknown or removed."""
        return self._by_id.get(listing_id)

    def owned_by(self, owner: str) -> list[Listing]:
        """The owner's listings (open and closed, not removed), newest first."""
        ids = self._by_owner.get(owner, ())
        found = [self._by_id[i] for i in ids]
        return sorted(found, key=lambda x: (-x.posted_at, x.id))

    def add(self, listing: Listing) -> bool:
        """Hold a new listing. A listing id seen before (held, closed or removed) is
        ignored: the first add wins and changes go through ``update``. Returns whether
        the index changed."""
        if listing.id in self._by_id or listing.id in self._removed:
            return False
        self._by_id[listing.id] = listing
        self._by_owner[listing.owner] = (*self._by_owner.get(listing.owner, ()), listing.id)
        if listing.status is Status.OPEN:
            self._grid(listing.kind).put(listing)
        return True

    def update(
        self,
        listing_id: str,
        *,
        lat: float | None = None,
        lon: float | None = None,
        expires_at: float | None = None,
        fields: Mapping[str, object] | None = None,
    ) -> bool:
        """Change an open listing: move it, extend or shorten its life (a renewal), or
        set some of its fields (the others are kept). Unknown and closed listings are
        left alone. Returns whether the index changed."""
        old = self._by_id.get(listing_id)
        if old is None or old.status is not Status.OPEN:
            return False
        new_lat = old.lat if lat is None else lat
        new_lon = old.lon if lon is None else lon
        check_point(new_lat, new_lon)
        new = dataclasses.replace(
            old,
            lat=new_lat,
            lon=new_lon,
            expires_at=old.expires_at if expires_at is None else expires_at,
            fields={**old.fields, **(fields or {})},
        )
        if new == old:
            return False
        self._replace(old, new)
        return True

    def close(self, listing_id: str) -> bool:
        """Close a listing for good (filled, rented, withdrawn): it leaves every search
        but stays readable through ``get``. Returns whether the index changed."""
        old = self._by_id.get(listing_id)
        if old is None or old.status is Status.CLOSED:
            return False
        self._replace(old, dataclasses.replace(old, status=Status.CLOSED))
        return True

    def expire(self, listing_id: str) -> bool:
        """The listing's lifetime ended (``JobExpired``): the same as ``close``. Searches
        already leave out a listing past its ``expires_at`` without this event."""
        return self.close(listing_id)

    def remove(self, listing_id: str) -> bool:
        """Forget a listing (the owner deleted it). Returns whether the index changed."""
        old = self._by_id.pop(listing_id, None)
        if old is None:
            return False
        if old.status is Status.OPEN:
            self._grids[old.kind].drop(old)
        self._forget_owner(old)
        self._removed[listing_id] = old.expires_at
        return True

    def prune(self, before: float) -> int:
        """Forget every listing, open or closed, that expired at or before ``before``
        (an update arriving later for one of them is ignored), and the record of
        removals that a duplicate add could no longer make live. Returns how many
        listings were forgotten."""
        old = [x for x in self._by_id.values() if x.expires_at <= before]
        for listing in old:
            del self._by_id[listing.id]
            if listing.status is Status.OPEN:
                self._grids[listing.kind].drop(listing)
            self._forget_owner(listing)
        for listing_id in [i for i, exp in self._removed.items() if exp <= before]:
            del self._removed[listing_id]
        return len(old)

    def search(self, query: Query, now: float) -> list[Hit]:
        """The same answer as ``scan(all held listings, query, now)``.

        Looks in the cells around the point, widening the circle until it holds ``k``
        admitted listings or reaches the query's radius. Every admitted listing within
        the current circle has been seen (the box holds the whole circle), so the k
        nearest of them, ties included, are the k nearest overall."""
        grid = self._grids.get(query.kind)
        if grid is None or query.k <= 0:
            return []
        seen: set[int] = set()
        found: list[Hit] = []
        limit = min(query.radius_km, FARTHEST_KM)
        radius = min(limit, _first_radius(grid, query))
        while True:
            for key in grid.keys_in(box_around(query.lat, query.lon, radius)):
                if key in seen:
                    continue
                seen.add(key)
                for listing in grid.cells[key].values():
                    if query.admits(listing, now):
                        km = haversine_km(query.lat, query.lon, listing.lat, listing.lon)
                        found.append(Hit(listing, km))
            inside = [h for h in found if h.km <= radius]
            if len(inside) >= query.k or radius >= limit:
                return heapq.nsmallest(query.k, inside, key=rank)
            if len(found) >= query.k:
                # The k-th nearest seen so far is beyond the circle; a circle through
                # it holds at least k, so the next round is the last.
                radius = heapq.nsmallest(query.k, (h.km for h in found))[-1]
            else:
                # Widen to the circle that would hold k at the density seen so far,
                # by x1.25 at least and x2 at most (a larger step, tried, overshot in
                # sparse places and read many more cells than it saved rounds).
                radius *= min(2.0, max(1.25, math.sqrt(query.k / max(len(inside), 1))))
            radius = min(radius, limit)

    def _grid(self, kind: str) -> Grid:
        grid = self._grids.get(kind)
        if grid is None:
            grid = self._grids[kind] = Grid(self.cell_deg)
        return grid

    def _replace(self, old: Listing, new: Listing) -> None:
        if old.status is Status.OPEN:
            self._grids[old.kind].drop(old)
        self._by_id[new.id] = new
        if new.status is Status.OPEN:
            self._grid(new.kind).put(new)

    def _forget_owner(self, listing: Listing) -> None:
        ids = tuple(i for i in self._by_owner[listing.owner] if i != listing.id)
        if ids:
            self._by_owner[listing.owner] = ids
        else:
            del self._by_owner[listing.owner]


def _first_radius(grid: Grid, query: Query) -> float:
    """Where the search starts: the radius that would hold ``k`` listings if the density
    of the query's own cell held around it (a cell's width when that cell is empty).
    Only the speed depends on it, never the answer."""
    cell_km = grid.cell_deg * KM_PER_DEG
    n = grid.count_at(query.lat, query.lon)
    if n == 0:
        return cell_km
    return cell_km * min(1.0, max(1.0 / 16.0, math.sqrt(query.k / (math.pi * n))))

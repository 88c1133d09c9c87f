"""The values of the listings machinery: a listing, a search query and a search hit.

A listing is something posted by one user (its owner) at a place, for a while: a job,
a property to rent, a vendor's business, a farmer's produce. The shared part (where,
when, whose, open or closed) is typed here; what differs between domains (title, price,
bedrooms, crop, ...) lives in ``fields``, which the index never interprets itself: a
query's ``where`` predicate does (see ``streams.listings.filters``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple


class Status(StrEnum):
    """A listing is open (searchable until it expires) or closed (for good)."""

    OPEN = "open"
    CLOSED = "closed"


def check_point(lat: float, lon: float) -> None:
    """Raise ``ValueError`` unless (lat, lon) is a finite point in degrees, with
    -90 <= lat <= 90 and -180 <= lon <= 180."""
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise ValueError(f"not a finite point: ({lat}, {lon})")
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValueError(f"point out of range: ({lat}, {lon})")


@dataclass(frozen=True, slots=True)
class Listing:
    """One posted listing. Immutable: the index replaces it on every change.

    ``posted_at`` and ``expires_at`` are epoch seconds; the listing is live while
    ``now < expires_at`` and its status is open. ``fields`` is copied into a read-only
    mapping, so a caller's dict changing later cannot change the index.
    """

    id: str
    owner: str
    kind: str
    lat: float
    lon: float
    posted_at: float
    expires_at: float
    status: Status = Status.OPEN
    fields: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("a listing needs an id")
        check_point(self.lat, self.lon)
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))

    def __hash__(self) -> int:
        # The generated hash would hash ``fields``, a mapping, and fail; equal listings
        # have equal ids, so this is consistent with ==.
        return hash(self.id)

    def live(self, now: float) -> bool:
        """True when the listing is open and ``now`` is before its expiry."""
        return self.status is Status.OPEN and now < self.expires_at


class Hit(NamedTuple):
    """One search answer: the listing and its great-circle distance from the query point."""

    listing: Listing
    km: float


def rank(hit: Hit) -> tuple[float, float, str]:
    """The order of answers: nearest first; at equal distance the newest first; then by
    id, so that every worker lists the same answers in the same order."""
    return (hit.km, -hit.listing.posted_at, hit.listing.id)


@dataclass(frozen=True, slots=True)
class Query:
    """Up to ``k`` live listings of ``kind`` within ``radius_km`` of (lat, lon) whose
    fields satisfy ``where`` (when given), leaving out ``exclude_owner``'s own."""

    kind: str
    lat: float
    lon: float
    radius_km: float
    k: int = 10
    where: Callable[[Mapping[str, object]], bool] | None = None
    exclude_owner: str | None = None

    def __post_init__(self) -> None:
        check_point(self.lat, self.lon)
        if not self.radius_km >= 0.0:  # also rejects NaN
            raise ValueError(f"radius must be >= 0 km, not {self.radius_km}")

    def admits(self, listing: Listing, now: float) -> bool:
        """Everything but the distance: kind, live at ``now``, owner, predicate."""
        return (
            listing.kind == self.kind
            and listing.live(now)
            and listing.owner != self.exclude_owner
            and (self.where is None or self.where(listing.fields))
        )

"""The rentals domain's facts on ``wa.domain``. The envelope's ``wa_id`` is the user
whose conversation emitted the fact: the owner, except for ``RentalInquiry`` (the
seeker). How an event may change: docs/decisions/0008."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from schemas.domain import Event


@dataclass(frozen=True, slots=True)
class RentalListed(Event):
    """A property to rent: ``kind`` (room/apartment/house/commercial), ``bedrooms``,
    ``price`` (RWF a month), at (lat, lon) in ``district``; ``place`` is the typed
    place's name ("" for a shared location); ``photo`` Meta's media id ("" without);
    ``photo_key`` the photo's media-store key (sha256 hex, as the webhook stated it;
    "" without a photo, or when the webhook stated none). Added with a default: no
    version bump (decision 0008)."""

    type: ClassVar[str] = "RentalListed"
    listing_id: str
    kind: str
    bedrooms: int
    price: int
    lat: float
    lon: float
    place: str
    district: str
    photo: str
    posted_at: float
    expires_at: float
    photo_key: str = ""


@dataclass(frozen=True, slots=True)
class RentalRenewed(Event):
    """The owner renewed the listing until ``expires_at``. It restates the listing, so
    a worker whose read of the log starts after ``RentalListed`` still holds it."""

    type: ClassVar[str] = "RentalRenewed"
    listing_id: str
    kind: str
    bedrooms: int
    price: int
    lat: float
    lon: float
    place: str
    district: str
    photo: str
    posted_at: float
    expires_at: float
    photo_key: str = ""


@dataclass(frozen=True, slots=True)
class RentalExpired(Event):
    """The listing's lifetime ended without a renewal."""

    type: ClassVar[str] = "RentalExpired"
    listing_id: str


@dataclass(frozen=True, slots=True)
class RentalRented(Event):
    """The owner marked the listing rented: it leaves the search."""

    type: ClassVar[str] = "RentalRented"
    listing_id: str


@dataclass(frozen=True, slots=True)
class RentalRemoved(Event):
    """The owner removed the listing."""

    type: ClassVar[str] = "RentalRemoved"
    listing_id: str


@dataclass(frozen=True, slots=True)
class RentalInquiry(Event):
    """``seeker`` (WhatsApp name ``name``) asked ``owner`` about the listing."""

    type: ClassVar[str] = "RentalInquiry"
    listing_id: str
    owner: str
    seeker: str
    name: str


@dataclass(frozen=True, slots=True)
class RentalContacted(Event):
    """The owner chose to contact the seeker: each got the other's wa.me link."""

    type: ClassVar[str] = "RentalContacted"
    listing_id: str
    owner: str
    seeker: str


EVENTS: tuple[type[Event], ...] = (
    RentalListed, RentalRenewed, RentalExpired, RentalRented, RentalRemoved,
    RentalInquiry, RentalContacted,
)

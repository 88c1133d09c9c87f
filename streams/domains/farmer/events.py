"""The farmer market's facts on ``wa.domain``.

The envelope's ``wa_id`` is the user whose conversation made the fact: the farmer for
``ProduceListed``/``ProduceUpdated``/``ProduceClosed`` and for the answer to an interest
(``ProduceMatched``/``ProduceDeclined``), the buyer for ``ProduceInterest``. Times are
epoch seconds written by the conversation that made the fact, so a read model rebuilt
from the log later expires a listing when it did the first time. How an event may
change: decision 0008.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from schemas.domain import Event


@dataclass(frozen=True, slots=True)
class ProduceListed(Event):
    """A farmer offers ``quantity`` ``unit`` (kg, tonne, sack, litre) of ``crop`` (a crop
    id of ``streams/understanding/catalog/crops.json``) at ``price`` RWF per unit, at
    (lat, lon); shown to buyers from ``listed_at`` until ``expires_at``.
    ``harvest_date`` is an ISO date or empty (skipped)."""

    type: ClassVar[str] = "ProduceListed"
    listing_id: str
    crop: str
    quantity: float
    unit: str
    price: int
    lat: float
    lon: float
    listed_at: float
    expires_at: float
    place: str = ""
    district: str = ""
    harvest_date: str = ""


@dataclass(frozen=True, slots=True)
class ProduceUpdated(Event):
    """The farmer changed the quantity left of a listing."""

    type: ClassVar[str] = "ProduceUpdated"
    listing_id: str
    quantity: float
    unit: str


@dataclass(frozen=True, slots=True)
class ProduceClosed(Event):
    """The farmer closed a listing: no longer shown to buyers."""

    type: ClassVar[str] = "ProduceClosed"
    listing_id: str


@dataclass(frozen=True, slots=True)
class ProduceInterest(Event):
    """A buyer ``km`` away told the farmer they are interested in a listing;
    ``wanted`` is the quantity the buyer typed, if any (e.g. ``200 kg``)."""

    type: ClassVar[str] = "ProduceInterest"
    interest_id: str
    listing_id: str
    buyer: str
    farmer: str
    crop: str
    km: float
    wanted: str = ""


@dataclass(frozen=True, slots=True)
class ProduceMatched(Event):
    """The farmer accepted a buyer's interest: each was sent the other's link."""

    type: ClassVar[str] = "ProduceMatched"
    interest_id: str
    listing_id: str
    buyer: str
    farmer: str
    crop: str


@dataclass(frozen=True, slots=True)
class ProduceDeclined(Event):
    """The farmer declined a buyer's interest."""

    type: ClassVar[str] = "ProduceDeclined"
    interest_id: str
    listing_id: str
    buyer: str
    farmer: str
    crop: str


EVENTS: tuple[type[Event], ...] = (
    ProduceListed, ProduceUpdated, ProduceClosed,
    ProduceInterest, ProduceMatched, ProduceDeclined,
)

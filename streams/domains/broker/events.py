"""The general broker's facts on ``wa.domain``.

The envelope's ``wa_id`` is the user whose conversation made the fact: the vendor for
``Vendor*`` (registered in WhatsApp or imported by an operator: both go through the
vendor's own conversation) and ``BrokerAccepted``/``BrokerDeclined``, the user with the
need for ``BrokerRequest``/``BrokerTimedOut``. How an event may change: decision 0008.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from schemas.domain import Event


@dataclass(frozen=True, slots=True)
class VendorRegistered(Event):
    """A vendor's business (new, or its details changed): ``categories`` are service
    category ids of ``streams/understanding/catalog/services.json``; ``source`` is
    ``whatsapp`` ("List my business") or ``import`` (``wastream vendors import``)."""

    type: ClassVar[str] = "VendorRegistered"
    name: str
    categories: tuple[str, ...]
    lat: float
    lon: float
    source: str
    district: str = ""


@dataclass(frozen=True, slots=True)
class VendorPaused(Event):
    """The vendor paused their listing: not listed until resumed."""

    type: ClassVar[str] = "VendorPaused"


@dataclass(frozen=True, slots=True)
class VendorResumed(Event):
    """The vendor listed their paused business again."""

    type: ClassVar[str] = "VendorResumed"


@dataclass(frozen=True, slots=True)
class BrokerRequest(Event):
    """A user sent their need (``category``, at ``place`` in ``district``) to one vendor
    ``km`` away."""

    type: ClassVar[str] = "BrokerRequest"
    request_id: str
    user: str
    vendor: str
    category: str
    place: str
    district: str
    km: float


@dataclass(frozen=True, slots=True)
class BrokerAccepted(Event):
    """The vendor accepted: each was sent the other's link."""

    type: ClassVar[str] = "BrokerAccepted"
    request_id: str
    user: str
    vendor: str


@dataclass(frozen=True, slots=True)
class BrokerDeclined(Event):
    """The vendor declined the request."""

    type: ClassVar[str] = "BrokerDeclined"
    request_id: str
    user: str
    vendor: str


@dataclass(frozen=True, slots=True)
class BrokerTimedOut(Event):
    """The vendor did not answer in time (WASTREAM_BROKER_TIMEOUT_S)."""

    type: ClassVar[str] = "BrokerTimedOut"
    request_id: str
    user: str
    vendor: str


EVENTS: tuple[type[Event], ...] = (
    VendorRegistered, VendorPaused, VendorResumed,
    BrokerRequest, BrokerAccepted, BrokerDeclined, BrokerTimedOut,
)

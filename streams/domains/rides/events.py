"""The rides domain's facts on ``wa.domain``: one frozen dataclass per event type.

The envelope's ``wa_id`` is the user whose action caused the fact (the driver for
``DriverOnline``, the passenger for ``RideSearched``…). How an event may change:
docs/decisions/0008.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from schemas.domain import Event


@dataclass(frozen=True, slots=True)
class RideSearched(Event):
    """A passenger looked for drivers of ``vehicle`` here; drivers see it until ``until``."""

    type: ClassVar[str] = "RideSearched"
    vehicle: str
    lat: float
    lon: float
    until: float


@dataclass(frozen=True, slots=True)
class RideRequested(Event):
    """A passenger asked one driver ``km`` away for a ride."""

    type: ClassVar[str] = "RideRequested"
    request_id: str
    passenger: str
    driver: str
    vehicle: str
    km: float


@dataclass(frozen=True, slots=True)
class RideAccepted(Event):
    """The driver accepted the request (the passenger is no longer searching)."""

    type: ClassVar[str] = "RideAccepted"
    request_id: str
    passenger: str
    driver: str


@dataclass(frozen=True, slots=True)
class RideDeclined(Event):
    """The driver declined the request."""

    type: ClassVar[str] = "RideDeclined"
    request_id: str
    passenger: str
    driver: str


@dataclass(frozen=True, slots=True)
class RideTimedOut(Event):
    """The driver did not answer within WASTREAM_RIDE_TIMEOUT_S."""

    type: ClassVar[str] = "RideTimedOut"
    request_id: str
    driver: str
    passenger: str


@dataclass(frozen=True, slots=True)
class DriverOnline(Event):
    """A driver of ``vehicle`` is available here until ``until``."""

    type: ClassVar[str] = "DriverOnline"
    vehicle: str
    lat: float
    lon: float
    until: float


@dataclass(frozen=True, slots=True)
class DriverOffline(Event):
    """The driver is no longer available (``reason``: "stop" or "expired")."""

    type: ClassVar[str] = "DriverOffline"
    reason: str


@dataclass(frozen=True, slots=True)
class RideOffered(Event):
    """A driver online offered a ride to a passenger who searched nearby."""

    type: ClassVar[str] = "RideOffered"
    driver: str
    passenger: str
    vehicle: str
    km: float


@dataclass(frozen=True, slots=True)
class TripScheduled(Event):
    """A trip booked for ``when`` (epoch seconds); ``pickup``/``dropoff`` are [lat, lon]."""

    type: ClassVar[str] = "TripScheduled"
    trip_id: str
    when: float
    vehicle: str
    pickup: list[float]
    dropoff: list[float]


@dataclass(frozen=True, slots=True)
class TripCancelled(Event):
    """The user cancelled a scheduled trip."""

    type: ClassVar[str] = "TripCancelled"
    trip_id: str


@dataclass(frozen=True, slots=True)
class TripReminderSent(Event):
    """The reminder of a scheduled trip went out."""

    type: ClassVar[str] = "TripReminderSent"
    trip_id: str


EVENTS: tuple[type[Event], ...] = (
    RideSearched,
    RideRequested,
    RideAccepted,
    RideDeclined,
    RideTimedOut,
    DriverOnline,
    DriverOffline,
    RideOffered,
    TripScheduled,
    TripCancelled,
    TripReminderSent,
)

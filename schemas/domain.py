"""``wa.domain``: business facts (``RideRequested``, ``DriverOnline``, ``TripScheduled``…).
Key = the wa_id of the user whose action caused the fact."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemas.record import Record


@dataclass(frozen=True, slots=True)
class DomainEvent(Record):
    """``event_id`` is deterministic (``<cause>:<name>``) so replays are idempotent."""

    event_id: str
    name: str
    wa_id: str
    data: dict[str, Any] = field(default_factory=dict)
    caused_by: str | None = None
    at: str = ""
    correlation_id: str = ""

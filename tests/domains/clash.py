"""A domain that imports fine but declares an event type rides already declares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from schemas.domain import Event
from streams.engine.domain import Domain


@dataclass(frozen=True, slots=True)
class Requested(Event):
    type: ClassVar[str] = "RideRequested"
    what: str


DOMAIN = Domain(name="clash", events=(Requested,))

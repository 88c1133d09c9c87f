"""What a rides conversation keeps across flow changes, in its slot of ``Conv.domains``:
the passenger's open request (``ride``), the requests waiting for this driver's answer
(``pending``, request id → request) and the scheduled trips (``trips``, trip id → trip).

Records written before domains had slots held these as top-level fields of the
conversation; ``Domain.kept`` moves them into the slot when such a record is read.
"""

from __future__ import annotations

from typing import Any

from streams.domains.rides.options import NAME
from streams.engine.model import Conv

FIELDS = ("ride", "pending", "trips")


def ride(conv: Conv) -> dict[str, Any] | None:
    """My open ride request (passenger side), if any."""
    got: dict[str, Any] | None = conv.domains.get(NAME, {}).get("ride")
    return got


def set_ride(conv: Conv, value: dict[str, Any] | None) -> None:
    if value is None:
        conv.domains.get(NAME, {}).pop("ride", None)
    else:
        conv.slot(NAME)["ride"] = value


def pending(conv: Conv) -> dict[str, dict[str, Any]]:
    """Ride requests to me (driver side), by request id; changes are kept."""
    got: dict[str, dict[str, Any]] = conv.slot(NAME).setdefault("pending", {})
    return got


def set_pending(conv: Conv, value: dict[str, dict[str, Any]]) -> None:
    conv.slot(NAME)["pending"] = value


def trips(conv: Conv) -> dict[str, dict[str, Any]]:
    """My scheduled trips, by trip id; changes are kept."""
    got: dict[str, dict[str, Any]] = conv.slot(NAME).setdefault("trips", {})
    return got


def set_trips(conv: Conv, value: dict[str, dict[str, Any]]) -> None:
    conv.slot(NAME)["trips"] = value

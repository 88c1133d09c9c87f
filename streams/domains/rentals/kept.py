"""What a rentals conversation keeps across flows, in its slot of ``Conv.domains``:

- ``posts``: my open listings, listing id → the listing's data (restated on renewal);
- ``inquiries``: seekers who asked about my listing, listing id → seeker → {name,
  state} (``new`` or ``contacted``); forgotten when the listing closes;
- ``asked``: the listings I asked about, listing id → its expiry (twice changes nothing);
- ``last``: the last place I searched from, [lat, lon].
"""

from __future__ import annotations

from typing import Any

from streams.domains.rentals.options import NAME
from streams.engine.model import Conv


def posts(conv: Conv) -> dict[str, dict[str, Any]]:
    got: dict[str, dict[str, Any]] = conv.slot(NAME).setdefault("posts", {})
    return got


def inquiries(conv: Conv, listing_id: str) -> dict[str, dict[str, Any]]:
    got: dict[str, dict[str, Any]] = conv.slot(NAME).setdefault("inquiries", {}).setdefault(
        listing_id, {})
    return got


def forget_post(conv: Conv, listing_id: str) -> dict[str, Any] | None:
    """Drop my listing, its inquiries and its deadlines; the listing, if it was open."""
    slot = conv.slot(NAME)
    slot.get("inquiries", {}).pop(listing_id, None)
    conv.deadlines.pop(f"rent_renew:{listing_id}", None)
    conv.deadlines.pop(f"rent_expire:{listing_id}", None)
    got: dict[str, Any] | None = slot.get("posts", {}).pop(listing_id, None)
    return got


def asked(conv: Conv, now: float) -> dict[str, float]:
    slot = conv.slot(NAME)
    slot["asked"] = {k: v for k, v in slot.get("asked", {}).items() if v > now}
    got: dict[str, float] = slot["asked"]
    return got


def last_spot(conv: Conv) -> list[float] | None:
    got: list[float] | None = conv.domains.get(NAME, {}).get("last")
    return got


def set_last_spot(conv: Conv, lat: float, lon: float) -> None:
    conv.slot(NAME)["last"] = [lat, lon]

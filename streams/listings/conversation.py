"""What every listing domain's conversation shares: reading a place (a shared location
or a typed place name), the id of a new listing, the sender's WhatsApp name and the
wa.me link two users are introduced with."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from streams.engine.common import haversine_km
from streams.engine.model import Ctx, Input
from streams.places import places, resolve

# Where a listing may be: Rwanda with a margin (its borders lie within about
# -2.9..-1.0 lat, 28.8..30.9 lon). A point outside is a mistake (a pin dropped on the
# wrong continent, 0,0 from a broken GPS) and is asked again.
SERVICE_AREA = (-4.0, 0.0, 28.0, 32.0)  # min lat, max lat, min lon, max lon


@dataclass(frozen=True, slots=True)
class Spot:
    """A place a user gave: coordinates and, when typed, the place's name."""

    lat: float
    lon: float
    name: str = ""

    @property
    def district(self) -> str:
        return district_of(self.lat, self.lon)


def in_service_area(lat: float, lon: float) -> bool:
    lo_lat, hi_lat, lo_lon, hi_lon = SERVICE_AREA
    return lo_lat <= lat <= hi_lat and lo_lon <= lon <= hi_lon


def read_spot(inp: Input) -> Spot | None:
    """A shared location inside the service area, or a typed place the gazetteer knows
    (``streams.places.resolve``); None for anything else."""
    if inp.kind == "location":
        return Spot(inp.lat, inp.lon) if in_service_area(inp.lat, inp.lon) else None
    if inp.kind == "text" and inp.text.strip():
        place = resolve(inp.text)
        if place is not None:
            return Spot(place.lat, place.lon, place.name)
    return None


def new_id(ctx: Ctx) -> str:
    """A listing or request id derived from the event that creates it (a redelivered
    event makes the same id, so nothing is posted twice)."""
    return hashlib.sha1(ctx.event.event_id.encode()).hexdigest()[:12]  # noqa: S324 - an id


def sender_name(ctx: Ctx, fallback: str) -> str:
    """The sender's WhatsApp profile name (Meta sends it with messages), else ``fallback``."""
    return (ctx.event.profile_name or "").strip() or fallback


def wa_link(wa_id: str) -> str:
    """A link that opens a WhatsApp chat with ``wa_id`` (https://wa.me/<number>)."""
    return f"https://wa.me/{wa_id.lstrip('+')}"


def image_id(ctx: Ctx) -> str | None:
    """The media id of the image the user sent with this event, if it is an image."""
    p = ctx.event.payload
    if str(p.get("type")) != "image":
        return None
    media = p.get("image") or {}
    got = media.get("id") if isinstance(media, dict) else None
    return str(got) if got else None


HEX_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def image_key(ctx: Ctx) -> str | None:
    """The media store's key of the image sent with this event: the sha256 Meta's
    webhook states for it (base64; hex also read), as lower-case hex. It is known before
    the media agent has downloaded anything, and the agent stores the bytes under this
    key only when they match it; None when the webhook states no usable sha256."""
    p = ctx.event.payload
    media = p.get("image") if str(p.get("type")) == "image" else None
    sha = media.get("sha256") if isinstance(media, dict) else None
    if not isinstance(sha, str) or not sha:
        return None
    if HEX_SHA256.match(sha):
        return sha.lower()
    try:
        raw = base64.b64decode(sha, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None


def district_of(lat: float, lon: float) -> str:
    """The district whose place (a district's or a sector's centre) is nearest to
    (lat, lon): approximate, for analytics by district."""
    nearest = min(places(), key=lambda p: haversine_km(lat, lon, p.lat, p.lon))
    return nearest.district

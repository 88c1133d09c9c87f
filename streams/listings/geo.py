"""Spherical geometry for the listing index: the latitude/longitude box around a circle.

Distances are great-circle distances from ``streams.engine.common.haversine_km`` (a sphere
of mean radius 6371.0088 km); the box below is computed on the same sphere. It is exact
everywhere, including circles that cross the antimeridian (two longitude ranges) and
circles that contain a pole (every longitude), following J. P. Matuschek, "Finding Points
Within a Distance of a Latitude/Longitude Using Bounding Coordinates" (2010).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088  # haversine_km's radius; tests/listings checks they agree
KM_PER_DEG = math.pi * EARTH_RADIUS_KM / 180.0  # along a meridian
# Widening of every box, in radians (~0.6 m): covers the rounding of haversine_km, whose
# asin loses up to ~1e-8 rad near antipodal points, so a point whose *computed*
# distance is within the radius is always inside the box.
_PAD_RAD = 1e-7


@dataclass(frozen=True, slots=True)
class Box:
    """Latitudes ``lat_min..lat_max`` and one or two longitude ranges, in degrees,
    each range within -180..180."""

    lat_min: float
    lat_max: float
    lon_ranges: tuple[tuple[float, float], ...]


def box_around(lat: float, lon: float, radius_km: float) -> Box:
    """A box holding every point whose great-circle distance from (lat, lon) is at most
    ``radius_km`` (a little more, never less)."""
    r = min(radius_km / EARTH_RADIUS_KM + _PAD_RAD, math.pi)
    phi = math.radians(lat)
    lo, hi = phi - r, phi + r
    if lo <= -math.pi / 2 or hi >= math.pi / 2:
        # A pole lies within the circle: every longitude reaches it.
        return Box(
            math.degrees(max(lo, -math.pi / 2)),
            math.degrees(min(hi, math.pi / 2)),
            ((-180.0, 180.0),),
        )
    # The meridians tangent to the circle; cos(phi) > sin(r) > 0 here, the min() only
    # guards the last bit of rounding.
    dlon = math.degrees(math.asin(min(1.0, math.sin(r) / math.cos(phi))))
    lat_min, lat_max = math.degrees(lo), math.degrees(hi)
    west, east = lon - dlon, lon + dlon
    # Touching the antimeridian counts as crossing it: -180 and 180 are one meridian.
    if west <= -180.0:
        return Box(lat_min, lat_max, ((west + 360.0, 180.0), (-180.0, east)))
    if east >= 180.0:
        return Box(lat_min, lat_max, ((west, 180.0), (-180.0, east - 360.0)))
    return Box(lat_min, lat_max, ((west, east),))

"""Who is around: drivers online and passengers searching, across all users.

The conversations of a driver and of a passenger live on different partitions, so
this cross-user view cannot be a partitioned table. It is the rides domain's read
model of ``wa.domain``, kept by every worker (``streams/runtime/read_models.py``
follows the topic from "now - window"): it folds ``DriverOnline``/``DriverOffline``/
``RideSearched``/``RideAccepted`` into memory. Entries expire by their own ``until``
(30 minutes), so the window of the log that matters is bounded and a restarted
worker rebuilds the view from the log in one read: durable without a changelog.
"""

from __future__ import annotations

from typing import Any

from schemas.domain import Event
from streams.domains.rides.events import DriverOffline, DriverOnline, RideAccepted, RideSearched
from streams.domains.rides.options import NAME, RidesOptions
from streams.engine.common import haversine_km
from streams.engine.model import Ctx

MAX_RESULTS = 10


class RidesIndex:
    """In-memory index of drivers online and passengers searching."""

    def __init__(self, radius_km: float = 10.0, window_s: float = 1800.0) -> None:
        self.radius_km = radius_km
        self.window_s = window_s
        self.online: dict[str, dict[str, Any]] = {}
        self.searching: dict[str, dict[str, Any]] = {}

    @classmethod
    def from_options(cls, opts: RidesOptions) -> RidesIndex:
        return cls(radius_km=opts.radius_km, window_s=max(opts.online_s, opts.search_window_s))

    def apply(self, wa_id: str, ev: Event, now: float) -> None:
        """Fold one domain event (idempotent: the latest fact per wa_id wins)."""
        if isinstance(ev, DriverOnline):
            self.online[wa_id] = {
                "vehicle": ev.vehicle,
                "lat": float(ev.lat),
                "lon": float(ev.lon),
                "until": float(ev.until),
            }
        elif isinstance(ev, DriverOffline):
            self.online.pop(wa_id, None)
        elif isinstance(ev, RideSearched):
            self.searching[wa_id] = {
                "vehicle": ev.vehicle,
                "lat": float(ev.lat),
                "lon": float(ev.lon),
                "until": float(ev.until),
            }
        elif isinstance(ev, RideAccepted):
            self.searching.pop(str(ev.passenger), None)

    def _near(
        self,
        pool: dict[str, dict[str, Any]],
        vehicle: str,
        lat: float,
        lon: float,
        now: float,
        exclude: str,
    ) -> list[tuple[str, float]]:
        found = []
        for wa_id, e in pool.items():
            if wa_id == exclude or e["vehicle"] != vehicle or e["until"] <= now:
                continue
            dist = haversine_km(lat, lon, e["lat"], e["lon"])
            if dist <= self.radius_km:
                found.append((wa_id, dist))
        found.sort(key=lambda x: (x[1], x[0]))
        return found[:MAX_RESULTS]

    def drivers(
        self, vehicle: str, lat: float, lon: float, now: float, exclude: str = ""
    ) -> list[tuple[str, float]]:
        """Drivers of ``vehicle`` online now within the radius, nearest first, at most 10."""
        return self._near(self.online, vehicle, lat, lon, now, exclude)

    def passengers(
        self, vehicle: str, lat: float, lon: float, now: float, exclude: str = ""
    ) -> list[tuple[str, float]]:
        """Passengers who searched for ``vehicle`` within the window, nearest first."""
        return self._near(self.searching, vehicle, lat, lon, now, exclude)

    def driver(self, wa_id: str, now: float) -> dict[str, Any] | None:
        e = self.online.get(wa_id)
        return e if e is not None and e["until"] > now else None

    def prune(self, now: float) -> None:
        for pool in (self.online, self.searching):
            for k in [k for k, e in pool.items() if e["until"] <= now]:
                del pool[k]


def nearby(ctx: Ctx) -> RidesIndex:
    """This worker's rides index."""
    return ctx.domains.model(NAME, RidesIndex)

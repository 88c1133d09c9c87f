"""The rides domain's options (WASTREAM_* variables; short values in tests)."""

from __future__ import annotations

from pydantic import Field

from streams.engine.model import Ctx
from wastream.config import Group

NAME = "rides"


class RidesOptions(Group):
    """Timeouts and distances of nearby drivers, nearby passengers and scheduled trips."""

    section = "rides"
    title = "Rides (nearby drivers and passengers, scheduled trips)"

    ride_timeout_s: float = Field(
        300.0, gt=0, alias="WASTREAM_RIDE_TIMEOUT_S",
        description="a ride request a driver has not answered times out after this long")
    radius_km: float = Field(
        10.0, gt=0, alias="WASTREAM_RADIUS_KM",
        description="how far nearby drivers and passengers are looked for")
    online_s: float = Field(
        1800.0, gt=0, alias="WASTREAM_DRIVER_ONLINE_S",
        description="how long a driver stays online after sharing a location")
    search_window_s: float = Field(
        1800.0, gt=0, alias="WASTREAM_SEARCH_WINDOW_S",
        description="how long a passenger's search stays visible to drivers")
    reminder_before_s: float = Field(
        1800.0, ge=0, alias="WASTREAM_REMINDER_BEFORE_S",
        description="how long before a scheduled trip its reminder is sent")


def opts(ctx: Ctx) -> RidesOptions:
    """The rides options of this worker."""
    return ctx.domains.option(NAME, RidesOptions)

"""The rides domain's options (WASTREAM_* variables; short values in tests)."""

from __future__ import annotations

from dataclasses import dataclass

from streams.engine.domain import OptionGroup, option
from streams.engine.model import Ctx

NAME = "rides"


@dataclass(frozen=True, slots=True)
class RidesOptions(OptionGroup):
    """Timeouts and distances of nearby drivers, nearby passengers and scheduled trips."""

    ride_timeout_s: float = option(
        "WASTREAM_RIDE_TIMEOUT_S", 300.0, "an unanswered ride request times out"
    )
    radius_km: float = option("WASTREAM_RADIUS_KM", 10.0, "nearby drivers / passengers radius")
    online_s: float = option("WASTREAM_DRIVER_ONLINE_S", 1800.0, "how long a driver stays online")
    search_window_s: float = option(
        "WASTREAM_SEARCH_WINDOW_S", 1800.0, "how long a passenger's search is visible to drivers"
    )
    reminder_before_s: float = option(
        "WASTREAM_REMINDER_BEFORE_S", 1800.0, "trip reminder lead time"
    )


def opts(ctx: Ctx) -> RidesOptions:
    """The rides options of this worker."""
    return ctx.domains.option(NAME, RidesOptions)

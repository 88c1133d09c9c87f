"""The farmer market's options (WASTREAM_* variables; short values in tests)."""

from __future__ import annotations

from pydantic import Field

from streams.engine.model import Ctx
from wastream.config import Group

NAME = "farmer"


class FarmerOptions(Group):
    """How long produce stays listed and how far buyers see it."""

    section = "farmer"
    title = "Farmer market (produce listed by farmers, found by buyers)"

    listing_ttl_s: float = Field(
        14 * 86400.0, gt=0, alias="WASTREAM_FARMER_LISTING_TTL_S",
        description="a listing of produce is shown to buyers for this long after it is "
        "listed (the farmer can close it sooner)")
    radius_km: float = Field(
        50.0, gt=0, alias="WASTREAM_FARMER_RADIUS_KM",
        description="how far from a buyer's place produce is listed")


def opts(ctx: Ctx) -> FarmerOptions:
    """The farmer market options of this worker."""
    return ctx.domains.option(NAME, FarmerOptions)

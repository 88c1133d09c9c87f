"""The rentals domain's options (WASTREAM_RENTALS_* variables; short values in tests)."""

from __future__ import annotations

from pydantic import Field

from streams.engine.model import Ctx
from wastream.config import Group

NAME = "rentals"


class RentalsOptions(Group):
    """How far searches look, how long a listing lives and when renewal is offered."""

    section = "rentals"
    title = "Property rentals (list, find, contact)"

    radius_km: float = Field(
        25.0, gt=0, alias="WASTREAM_RENTALS_RADIUS_KM",
        description="how far from the seeker places to rent are looked for")
    lifetime_s: float = Field(
        30 * 86400.0, gt=0, alias="WASTREAM_RENTALS_LIFETIME_S",
        description="a listing expires this long after it is listed or renewed")
    renew_before_s: float = Field(
        3 * 86400.0, ge=0, alias="WASTREAM_RENTALS_RENEW_BEFORE_S",
        description="how long before a listing expires its owner is asked to renew it")


def opts(ctx: Ctx) -> RentalsOptions:
    """The rentals options of this worker."""
    return ctx.domains.option(NAME, RentalsOptions)

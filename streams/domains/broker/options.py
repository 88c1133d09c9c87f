"""The general broker's options (WASTREAM_* variables; short values in tests)."""

from __future__ import annotations

from pydantic import Field

from streams.engine.model import Ctx
from wastream.config import Group

NAME = "broker"


class BrokerOptions(Group):
    """How far vendors are looked for and how long a vendor has to answer."""

    section = "broker"
    title = "General broker (vendors and the needs sent to them)"

    request_timeout_s: float = Field(
        1800.0, gt=0, alias="WASTREAM_BROKER_TIMEOUT_S",
        description="a need sent to a vendor who has not answered times out after this "
        "long (the user may pick another vendor)")
    radius_km: float = Field(
        50.0, gt=0, alias="WASTREAM_BROKER_RADIUS_KM",
        description="how far from the user's place vendors are listed")


def opts(ctx: Ctx) -> BrokerOptions:
    """The broker options of this worker."""
    return ctx.domains.option(NAME, BrokerOptions)

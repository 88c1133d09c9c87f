"""The jobs domain's options (WASTREAM_JOBS_* variables; short values in tests)."""

from __future__ import annotations

from pydantic import Field

from streams.engine.model import Ctx
from wastream.config import Group

NAME = "jobs"


class JobsOptions(Group):
    """How far job searches look and how long a job post lives."""

    section = "jobs"
    title = "Jobs (post, find, apply)"

    radius_km: float = Field(
        25.0, gt=0, alias="WASTREAM_JOBS_RADIUS_KM",
        description="how far from the seeker jobs are looked for")
    lifetime_s: float = Field(
        14 * 86400.0, gt=0, alias="WASTREAM_JOBS_LIFETIME_S",
        description="a job post expires this long after it is posted")


def opts(ctx: Ctx) -> JobsOptions:
    """The jobs options of this worker."""
    return ctx.domains.option(NAME, JobsOptions)

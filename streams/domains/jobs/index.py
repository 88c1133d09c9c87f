"""Open jobs across all users, searched by distance: the jobs domain's read model of
``wa.domain``, kept by every worker (so every worker answers a search the same way,
whichever partitions it owns) and rebuilt on start from the last ``lifetime`` of the
log (a post lives no longer). It holds a ``ListingIndex`` of kind ``job`` and who
applied to each job."""

from __future__ import annotations

from schemas.domain import Event
from streams.domains.jobs.events import JobClosed, JobExpired, JobPosted
from streams.domains.jobs.options import NAME, JobsOptions
from streams.engine.model import Ctx
from streams.listings import Hit, Listing, ListingIndex, Query

KIND = "job"
MAX_RESULTS = 10


class JobsIndex:
    """Job posts by place."""

    def __init__(self, radius_km: float = 25.0, window_s: float = 14 * 86400.0) -> None:
        self.radius_km = radius_km
        self.window_s = window_s
        self.listings = ListingIndex()

    @classmethod
    def from_options(cls, opts: JobsOptions) -> JobsIndex:
        return cls(radius_km=opts.radius_km, window_s=opts.lifetime_s)

    def apply(self, wa_id: str, ev: Event, now: float) -> None:
        """Fold one event (idempotent: the index is keyed by job id)."""
        if isinstance(ev, JobPosted):
            self.listings.add(
                Listing(
                    id=ev.job_id, owner=wa_id, kind=KIND, lat=float(ev.lat),
                    lon=float(ev.lon), posted_at=float(ev.posted_at),
                    expires_at=float(ev.expires_at),
                    fields={"title": ev.title, "pay": ev.pay, "place": ev.place,
                            "description": ev.description},
                )
            )
        elif isinstance(ev, JobClosed):
            self.listings.close(ev.job_id)
        elif isinstance(ev, JobExpired):
            self.listings.expire(ev.job_id)

    def near(self, lat: float, lon: float, now: float, exclude: str) -> list[Hit]:
        """Up to 10 open jobs within the radius, nearest first, then newest."""
        query = Query(KIND, lat, lon, self.radius_km, k=MAX_RESULTS, exclude_owner=exclude)
        return self.listings.search(query, now)

    def get(self, job_id: str) -> Listing | None:
        return self.listings.get(job_id)

    def prune(self, now: float) -> None:
        self.listings.prune(now)


def jobs(ctx: Ctx) -> JobsIndex:
    """This worker's jobs index."""
    return ctx.domains.model(NAME, JobsIndex)

"""The jobs and rentals read models against the real projector, broker and PostgreSQL:
typed events produced to wa.domain (one duplicated, an answer before its application),
tables checked row by row, the analytics views read, and a replay rebuilding them the
same."""

from __future__ import annotations

import asyncio
from typing import Any

from schemas import topics
from schemas.domain import DomainEvent, Event
from streams.domains.jobs.events import (
    ApplicantContacted,
    ApplicantDeclined,
    JobApplied,
    JobClosed,
    JobPosted,
)
from streams.domains.rentals.events import (
    RentalContacted,
    RentalInquiry,
    RentalListed,
    RentalRenewed,
    RentalRented,
)
from tests.support import projection_data as pd
from tests.support.system import System

P, A1, A2, OW = "250788700001", "250788700002", "250788700003", "250788700004"
T0 = 1_790_000_000.0  # 2026-09-21T14:13:20Z


def fact(wa_id: str, ev: Event, n: int, at_s: float) -> tuple[str, DomainEvent]:
    from datetime import UTC, datetime

    at = datetime.fromtimestamp(at_s, UTC).isoformat()
    return wa_id, DomainEvent(event_id=f"e{n}:{ev.type}", name=ev.type, wa_id=wa_id,
                              data=ev.to_data(), caused_by=f"e{n}", at=at)


def _job(job_id: str, posted: float) -> JobPosted:
    return JobPosted(job_id=job_id, title=f"Job {job_id}", pay="5000 per day", pay_amount=5000,
                     pay_period="day", lat=-1.94, lon=30.06, place="Kicukiro", description="",
                     posted_at=posted, expires_at=posted + 14 * 86400)


def _listing(cls: type[RentalListed] | type[RentalRenewed], lid: str, price: int,
             district: str, expires: float) -> Any:
    return cls(listing_id=lid, kind="apartment", bedrooms=2, price=price, lat=-1.94, lon=30.06,
               place="", district=district, photo="M1", posted_at=T0, expires_at=expires)


async def _rows(system: System, sql: str) -> list[tuple[Any, ...]]:
    conn = await system.db()
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


async def test_jobs_and_rentals_tables_views_and_replay(system: System) -> None:
    records = [
        fact(P, _job("j1", T0), 1, T0),
        fact(P, _job("j2", T0 + 60), 2, T0 + 60),
        # the poster's answer is projected before the application it answers
        fact(P, ApplicantDeclined(job_id="j1", poster=P, applicant=A2), 3, T0 + 900),
        fact(A1, JobApplied(job_id="j1", poster=P, applicant=A1, name="Alice"), 4, T0 + 300),
        fact(A1, JobApplied(job_id="j1", poster=P, applicant=A1, name="Alice"), 4, T0 + 300),
        fact(A2, JobApplied(job_id="j1", poster=P, applicant=A2, name="Bob"), 5, T0 + 600),
        fact(P, ApplicantContacted(job_id="j1", poster=P, applicant=A1), 6, T0 + 700),
        fact(A2, JobApplied(job_id="j2", poster=P, applicant=A2, name="Bob"), 7, T0 + 160),
        fact(P, JobClosed(job_id="j1"), 8, T0 + 1000),
        fact(OW, _listing(RentalListed, "r1", 250_000, "Gasabo", T0 + 30 * 86400), 9, T0),
        fact(OW, _listing(RentalListed, "r2", 80_000, "Kicukiro", T0 + 30 * 86400), 10, T0),
        fact(OW, _listing(RentalRenewed, "r1", 250_000, "Gasabo", T0 + 57 * 86400), 11, T0 + 5),
        fact(OW, _listing(RentalRenewed, "r1", 250_000, "Gasabo", T0 + 57 * 86400), 11, T0 + 5),
        fact(A1, RentalInquiry(listing_id="r1", owner=OW, seeker=A1, name="Alice"), 12, T0 + 9),
        fact(OW, RentalContacted(listing_id="r1", owner=OW, seeker=A1), 13, T0 + 20),
        fact(OW, RentalRented(listing_id="r2"), 14, T0 + 30),
    ]
    await pd.produce(system.bootstrap, system.topic(topics.DOMAIN), records)
    system.start_projector()
    await system.wait_rows("SELECT 1 FROM rental_listings WHERE status = 'rented'", 1)
    await system.wait_rows("SELECT 1 FROM job_applications WHERE answer IS NOT NULL", 2)
    await system.wait_rows("SELECT 1 FROM jobs WHERE status = 'closed'", 1)
    await system.wait_rows("SELECT 1 FROM rental_inquiries WHERE contacted_at IS NOT NULL", 1)

    assert await _rows(system, "SELECT job_id, poster, pay_amount, pay_period, status, "
                               "extract(epoch FROM ended_at) FROM jobs ORDER BY job_id") == [
        ("j1", P, 5000, "day", "closed", T0 + 1000), ("j2", P, 5000, "day", "open", None)]
    assert await _rows(system, "SELECT job_id, applicant, name, "
                               "extract(epoch FROM applied_at), answer FROM job_applications "
                               "ORDER BY job_id, applicant") == [
        ("j1", A1, "Alice", T0 + 300, "contacted"), ("j1", A2, "Bob", T0 + 600, "declined"),
        ("j2", A2, "Bob", T0 + 160, None)]
    assert await _rows(system, "SELECT listing_id, status, renewals, "
                               "extract(epoch FROM expires_at), district FROM rental_listings "
                               "ORDER BY listing_id") == [
        ("r1", "open", 1, T0 + 57 * 86400, "Gasabo"),
        ("r2", "rented", 0, T0 + 30 * 86400, "Kicukiro")]
    assert await _rows(system, "SELECT listing_id, seeker, name, extract(epoch FROM asked_at), "
                               "extract(epoch FROM contacted_at) FROM rental_inquiries") == [
        ("r1", A1, "Alice", T0 + 9, T0 + 20)]

    # analytics
    assert await _rows(system, "SELECT day::text, domain, posts FROM "
                               "analytics_listing_posts_per_day ORDER BY domain") == [
        ("2026-09-21", "jobs", 2), ("2026-09-21", "rentals", 2)]
    assert await _rows(system, "SELECT job_id, applications, contacted, declined FROM "
                               "analytics_job_applications ORDER BY job_id") == [
        ("j1", 2, 1, 1), ("j2", 1, 0, 0)]
    # first applications: j1 after 300 s, j2 after 100 s -> median 200 s
    assert await _rows(system, "SELECT jobs_applied_to, median_s FROM "
                               "analytics_job_time_to_first_application") == [(2, 200.0)]
    assert await _rows(system, "SELECT district, price_band, listings FROM "
                               "analytics_rentals_by_price_band ORDER BY district") == [
        ("Gasabo", "b: 100k-300k", 1), ("Kicukiro", "a: under 100k", 1)]

    # replayable: a rebuild from the log gives the same rows
    before = {t: await _rows(system, f"SELECT * FROM {t} ORDER BY 1, 2")
              for t in ("jobs", "job_applications", "rental_listings", "rental_inquiries")}
    for name in ("jobs", "rentals"):
        result = await asyncio.to_thread(system.cli, "replay", "--projection", name,
                                         "--from-beginning")
        assert f"swapped {name}" in result.stderr, result.stderr
    after = {t: await _rows(system, f"SELECT * FROM {t} ORDER BY 1, 2") for t in before}
    assert after == before

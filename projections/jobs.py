"""``jobs`` and ``job_applications`` from the jobs domain's events on ``wa.domain``.

Idempotent per record (a fact written twice to the log changes nothing more): a post is
inserted once, its status moves from ``open`` only; an application is upserted by the
applicant's ``JobApplied`` and the poster's answer, in whichever order they come."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from projections.base import Msg, ts
from projections.listings import facts
from schemas import topics
from schemas.domain import EventTypes
from streams.domains.jobs.events import (
    EVENTS,
    ApplicantContacted,
    ApplicantDeclined,
    JobApplied,
    JobClosed,
    JobExpired,
    JobPosted,
)

TYPES = EventTypes(EVENTS)


class JobsProjection:
    """wa.domain (jobs events) → jobs, job_applications."""

    name = "jobs"
    topics = (topics.DOMAIN,)
    tables = ("jobs", "job_applications")

    async def apply(self, conn: asyncpg.Connection, msgs: Sequence[Msg]) -> None:
        for wa_id, ev, at in facts(TYPES, msgs):
            if isinstance(ev, JobPosted):
                await conn.execute(
                    "INSERT INTO jobs (job_id, poster, title, pay, pay_amount, pay_period, lat, "
                    "lon, place, description, posted_at, expires_at) VALUES ($1, $2, $3, $4, "
                    "$5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (job_id) DO NOTHING",
                    ev.job_id, wa_id, ev.title, ev.pay, ev.pay_amount, ev.pay_period,
                    float(ev.lat), float(ev.lon), ev.place, ev.description,
                    ts(ev.posted_at), ts(ev.expires_at))
            elif isinstance(ev, JobClosed | JobExpired):
                status = "closed" if isinstance(ev, JobClosed) else "expired"
                await conn.execute(
                    "UPDATE jobs SET status = $2, ended_at = $3 "
                    "WHERE job_id = $1 AND status = 'open'", ev.job_id, status, at)
            elif isinstance(ev, JobApplied):
                await conn.execute(
                    "INSERT INTO job_applications (job_id, applicant, poster, name, applied_at) "
                    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (job_id, applicant) DO UPDATE "
                    "SET name = EXCLUDED.name, applied_at = coalesce("
                    "job_applications.applied_at, EXCLUDED.applied_at)",
                    ev.job_id, ev.applicant, ev.poster, ev.name, at)
            elif isinstance(ev, ApplicantContacted | ApplicantDeclined):
                answer = "contacted" if isinstance(ev, ApplicantContacted) else "declined"
                await conn.execute(
                    "INSERT INTO job_applications (job_id, applicant, poster, answer, "
                    "answered_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (job_id, applicant) "
                    "DO UPDATE SET answer = coalesce(job_applications.answer, EXCLUDED.answer), "
                    "answered_at = coalesce(job_applications.answered_at, EXCLUDED.answered_at)",
                    ev.job_id, ev.applicant, ev.poster, answer, at)

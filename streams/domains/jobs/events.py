"""The jobs domain's facts on ``wa.domain``. The envelope's ``wa_id`` is the user whose
conversation emitted the fact: the poster for ``JobPosted``, ``JobExpired``,
``JobClosed``, ``ApplicantContacted``, ``ApplicantDeclined``; the applicant for
``JobApplied``. How an event may change: docs/decisions/0008."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from schemas.domain import Event


@dataclass(frozen=True, slots=True)
class JobPosted(Event):
    """A job offered at (lat, lon) until ``expires_at``. ``pay`` is as typed;
    ``pay_amount`` (RWF) and ``pay_period`` (hour/day/week/month) when readable;
    ``place`` is the typed place's name ("" for a shared location)."""

    type: ClassVar[str] = "JobPosted"
    job_id: str
    title: str
    pay: str
    pay_amount: int | None
    pay_period: str | None
    lat: float
    lon: float
    place: str
    description: str
    posted_at: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class JobExpired(Event):
    """The post's lifetime ended (emitted by the poster's conversation at its deadline)."""

    type: ClassVar[str] = "JobExpired"
    job_id: str


@dataclass(frozen=True, slots=True)
class JobClosed(Event):
    """The poster closed the post (filled or withdrawn)."""

    type: ClassVar[str] = "JobClosed"
    job_id: str


@dataclass(frozen=True, slots=True)
class JobApplied(Event):
    """``applicant`` (WhatsApp name ``name``) applied to ``poster``'s job."""

    type: ClassVar[str] = "JobApplied"
    job_id: str
    poster: str
    applicant: str
    name: str


@dataclass(frozen=True, slots=True)
class ApplicantContacted(Event):
    """The poster chose to contact the applicant: each got the other's wa.me link."""

    type: ClassVar[str] = "ApplicantContacted"
    job_id: str
    poster: str
    applicant: str


@dataclass(frozen=True, slots=True)
class ApplicantDeclined(Event):
    """The poster declined the application."""

    type: ClassVar[str] = "ApplicantDeclined"
    job_id: str
    poster: str
    applicant: str


EVENTS: tuple[type[Event], ...] = (
    JobPosted, JobExpired, JobClosed, JobApplied, ApplicantContacted, ApplicantDeclined,
)

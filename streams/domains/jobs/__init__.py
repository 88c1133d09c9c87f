"""Jobs: post a job, find jobs near me and apply, my jobs.

- ``post``: title → pay → place → description → confirm (``JobPosted``, 14 days);
- ``find``: a place → up to 10 open jobs nearby → details → Apply (``JobApplied``);
- ``applications``: the application travelling to the poster and the answer back
  (Contact → both get the other's wa.me link, ``ApplicantContacted``; Decline), and
  the post's expiry (``JobExpired``);
- ``mine``: my open posts with their applicants → close one (``JobClosed``);
- ``index``: the read model of open jobs (a ``streams.listings.ListingIndex``);
  ``events``, ``options``, ``kept`` (what outlives a flow), ``catalog`` (en, fr, rw).
"""

from __future__ import annotations

from streams.domains.jobs import applications, templates
from streams.domains.jobs.catalog import TEXTS
from streams.domains.jobs.events import EVENTS
from streams.domains.jobs.flow import FLOW
from streams.domains.jobs.index import JobsIndex
from streams.domains.jobs.options import NAME, JobsOptions
from streams.engine.domain import Domain, MenuEntry

DOMAIN = Domain(
    name=NAME,
    flows=(FLOW,),
    menu=(MenuEntry("jobs", FLOW.name),),
    texts=TEXTS,
    events=EVENTS,
    handlers=applications.HANDLERS,
    timers=applications.TIMERS,
    choices=applications.CHOICES,
    options=JobsOptions,
    model=JobsIndex.from_options,
    templates=templates.TEMPLATES,
)

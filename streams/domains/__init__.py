"""The registry of business domains: one line per domain package, in menu order.

Adding a domain is its package plus one line here (guide: ``README.md`` beside this
file). WASTREAM_EXTRA_DOMAINS (comma-separated module paths) adds domains from outside
the registry after these, e.g. a domain that lives only under ``tests/``. Loading is
``streams.engine.domains.Domains.load``: a domain that fails to import or declares
something inconsistent stops the worker with one line naming it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from schemas.domain import Event, EventTypes

if TYPE_CHECKING:
    from wastream.config import Group, Settings

REGISTRY: tuple[str, ...] = (
    "streams.domains.rides",
    "streams.domains.broker",
    "streams.domains.farmer",
    "streams.domains.jobs",
    "streams.domains.rentals",
)


def paths(settings: Settings | None = None) -> list[str]:
    """The registry, then WASTREAM_EXTRA_DOMAINS (``settings.worker.extra_domains``)."""
    return [*REGISTRY, *(settings.worker.extra_domains if settings else ())]


def option_groups() -> tuple[type[Group], ...]:
    """The option group of every domain of the registry, for ``wastream config``, the
    README's settings tables and the start-up check (``wastream.config.components``)."""
    from streams.engine.domains import load

    return tuple(d.options for d in load(REGISTRY) if d.options is not None)


def declared_events() -> list[tuple[str, type[Event]]]:
    """(domain, event class) of every event the registry's domains declare: the one
    source of the event names (schemas, projections, analytics SQL)."""
    from streams.engine.domains import load

    return [(d.name, ev) for d in load(REGISTRY) for ev in d.events]


def event_types() -> EventTypes:
    """Every event type the registry's domains declare, for decoding ``wa.domain``."""
    return EventTypes(ev for _, ev in declared_events())

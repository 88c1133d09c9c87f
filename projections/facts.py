"""The typed domain events of a batch of ``wa.domain`` records, for the read models of
the domains (``vendors``, ``broker_requests``, ``produce_listings``,
``produce_matches``): each record decoded once into its envelope, its current typed
event (upcast) and its time. A record that is not a domain event, or whose data does
not fit its type, is skipped (``domain_events`` keeps it as written)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import NamedTuple

from projections.base import Msg, loads, ms, ts
from schemas.domain import DomainEvent, Event, EventTypes
from schemas.record import RecordError


class Fact(NamedTuple):
    env: DomainEvent
    event: Event
    at: datetime  # when the conversation made it (else the record's timestamp)


def facts(types: EventTypes, msgs: Sequence[Msg],
          wanted: tuple[type[Event], ...]) -> Iterator[Fact]:
    """The events of ``wanted`` types in ``msgs``, in their order."""
    names = {w.type for w in wanted}
    for m in msgs:
        d = loads(m)
        if d is None or d.get("name") not in names:
            continue
        try:
            env = DomainEvent.from_dict(d)
            event = types.decode(env)
        except RecordError:
            continue
        if isinstance(event, wanted):
            yield Fact(env, event, ts(env.at) or ms(m.timestamp_ms))

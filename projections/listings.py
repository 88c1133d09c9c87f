"""What the jobs and rentals projections share: decoding their typed events from
``wa.domain`` records, in log order, with the time each happened."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from projections.base import Msg, loads, ms, ts
from schemas.domain import DomainEvent, Event, EventTypes
from schemas.record import RecordError


def facts(types: EventTypes, msgs: Sequence[Msg]) -> Iterator[tuple[str, Event, datetime]]:
    """(wa_id, typed event, when) of every record of ``types`` in ``msgs``; records of
    other types, or that do not decode, are skipped (``wa_domain_events`` keeps them)."""
    for m in msgs:
        d = loads(m)
        if d is None:
            continue
        try:
            env = DomainEvent.from_dict(d)
            if env.name not in types:
                continue
            ev = types.decode(env)
        except RecordError:
            continue
        if ev is not None:
            yield env.wa_id, ev, ts(env.at) or ms(m.timestamp_ms)

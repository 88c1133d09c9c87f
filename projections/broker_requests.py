"""``broker_requests`` from the general broker's ``BrokerRequest`` (the user's
conversation) and ``BrokerAccepted``/``BrokerDeclined`` (the vendor's) and
``BrokerTimedOut`` (the user's): one row per request.

The request and its answer come from two conversations, on two partitions, so the
projector may see the answer first. Either order gives the same row: the request
fills its columns and leaves the status alone; an answer seen first makes a row with
the request's columns still empty (``category`` '', ``requested_at`` = the answer's
time) that the request fills later. When a request has two endings (the vendor
accepted just as it timed out), the earliest wins (then the name, to be total)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from projections.base import Msg
from projections.facts import facts
from schemas import topics
from schemas.domain import EventTypes
from streams.domains import event_types
from streams.domains.broker.events import (
    BrokerAccepted,
    BrokerDeclined,
    BrokerRequest,
    BrokerTimedOut,
)

ENDINGS = {BrokerAccepted: "accepted", BrokerDeclined: "declined",
           BrokerTimedOut: "timed_out"}


class BrokerRequestsProjection:
    """wa.domain (needs sent to vendors) → broker_requests."""

    name = "broker_requests"
    topics = (topics.DOMAIN,)
    tables = ("broker_requests",)

    def __init__(self, types: EventTypes | None = None) -> None:
        self.types = types if types is not None else event_types()

    async def apply(self, conn: asyncpg.Connection, msgs: Sequence[Msg]) -> None:
        asked: dict[str, tuple[Any, ...]] = {}
        ended: dict[str, tuple[datetime, str, str, str]] = {}
        for f in facts(self.types, msgs, (BrokerRequest, *ENDINGS)):
            ev = f.event
            if isinstance(ev, BrokerRequest):
                asked.setdefault(ev.request_id, (
                    ev.request_id, ev.user, ev.vendor, ev.category, ev.place or None,
                    ev.district or None, float(ev.km), f.at))
            elif isinstance(ev, BrokerAccepted | BrokerDeclined | BrokerTimedOut):
                end = (f.at, ENDINGS[type(ev)], ev.user, ev.vendor)
                ended[ev.request_id] = min(ended.get(ev.request_id, end), end)
        if asked:
            await conn.executemany(
                "INSERT INTO broker_requests (request_id, user_wa_id, vendor_wa_id, category, "
                "place, district, km, status, requested_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, 'requested', $8) "
                "ON CONFLICT (request_id) DO UPDATE SET category = EXCLUDED.category, "
                "place = EXCLUDED.place, district = EXCLUDED.district, km = EXCLUDED.km, "
                "requested_at = EXCLUDED.requested_at", list(asked.values()))
        if ended:
            await conn.executemany(
                "INSERT INTO broker_requests AS r (request_id, user_wa_id, vendor_wa_id, "
                "category, status, requested_at, answered_at) "
                "VALUES ($1, $4, $5, '', $3, $2, $2) "
                "ON CONFLICT (request_id) DO UPDATE SET "
                "status = CASE WHEN r.status = 'requested' OR (EXCLUDED.answered_at, "
                "EXCLUDED.status) < (r.answered_at, r.status) THEN EXCLUDED.status "
                "ELSE r.status END, "
                "answered_at = CASE WHEN r.status = 'requested' OR (EXCLUDED.answered_at, "
                "EXCLUDED.status) < (r.answered_at, r.status) THEN EXCLUDED.answered_at "
                "ELSE r.answered_at END",
                [(rid, *end) for rid, end in ended.items()])

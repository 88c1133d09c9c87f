"""``produce_matches`` from the farmer market's ``ProduceInterest`` (the buyer's
conversation) and ``ProduceMatched``/``ProduceDeclined`` (the farmer's): one row per
interest.

Like ``broker_requests``, the interest and its answer come from two partitions and
either order gives the same row: the interest fills its columns and leaves the status
alone; an answer seen first makes the row (``km`` unknown, ``interested_at`` = the
answer's time) that the interest completes later."""

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
from streams.domains.farmer.events import ProduceDeclined, ProduceInterest, ProduceMatched


class ProduceMatchesProjection:
    """wa.domain (buyers' interests and farmers' answers) → produce_matches."""

    name = "produce_matches"
    topics = (topics.DOMAIN,)
    tables = ("produce_matches",)

    def __init__(self, types: EventTypes | None = None) -> None:
        self.types = types if types is not None else event_types()

    async def apply(self, conn: asyncpg.Connection, msgs: Sequence[Msg]) -> None:
        interests: dict[str, tuple[Any, ...]] = {}
        answers: dict[str, tuple[datetime, str, str, str, str, str]] = {}
        for f in facts(self.types, msgs, (ProduceInterest, ProduceMatched, ProduceDeclined)):
            ev = f.event
            if isinstance(ev, ProduceInterest):
                interests.setdefault(ev.interest_id, (
                    ev.interest_id, ev.listing_id, ev.buyer, ev.farmer, ev.crop,
                    float(ev.km), f.at))
            elif isinstance(ev, ProduceMatched | ProduceDeclined):
                status = "matched" if isinstance(ev, ProduceMatched) else "declined"
                answer = (f.at, status, ev.listing_id, ev.buyer, ev.farmer, ev.crop)
                answers[ev.interest_id] = min(answers.get(ev.interest_id, answer), answer)
        if interests:
            await conn.executemany(
                "INSERT INTO produce_matches (interest_id, listing_id, buyer_wa_id, "
                "farmer_wa_id, crop, km, status, interested_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, 'interested', $7) "
                "ON CONFLICT (interest_id) DO UPDATE SET km = EXCLUDED.km, "
                "interested_at = EXCLUDED.interested_at", list(interests.values()))
        if answers:
            await conn.executemany(
                "INSERT INTO produce_matches AS p (interest_id, listing_id, buyer_wa_id, "
                "farmer_wa_id, crop, status, interested_at, answered_at) "
                "VALUES ($1, $4, $5, $6, $7, $3, $2, $2) "
                "ON CONFLICT (interest_id) DO UPDATE SET "
                "status = CASE WHEN p.status = 'interested' OR (EXCLUDED.answered_at, "
                "EXCLUDED.status) < (p.answered_at, p.status) THEN EXCLUDED.status "
                "ELSE p.status END, "
                "answered_at = CASE WHEN p.status = 'interested' OR (EXCLUDED.answered_at, "
                "EXCLUDED.status) < (p.answered_at, p.status) THEN EXCLUDED.answered_at "
                "ELSE p.answered_at END",
                [(iid, *a) for iid, a in answers.items()])

"""``message_templates`` from ``wa.templates``: each template's latest status, category
and quality (decision 0015).

Idempotent per record (a change whose event id the row already holds is skipped);
order-insensitive for a template's status: a status older, by Meta's time, than the one
held does not replace it (Meta may deliver webhooks out of order)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from projections.base import Msg, ts
from schemas import topics
from schemas.record import RecordError
from schemas.templates import TemplateChange

# $1 name, $2 language, $3 kind, $4 status, $5 category, $6 quality, $7 reason,
# $8 template_id, $9 waba_id, $10 Meta's time, $11 updated_at, $12 event_id
UPSERT = """
INSERT INTO message_templates AS t (name, language, status, category, quality, reason,
    template_id, waba_id, status_at, updated_at, event_ids)
VALUES ($1, $2, $4, $5, $6, CASE WHEN $3::text = 'status' THEN $7::text END, $8, $9,
        CASE WHEN $3::text = 'status' THEN $10::timestamptz END, $11, ARRAY[$12::text])
ON CONFLICT (name, language) DO UPDATE SET
    status = CASE WHEN $3::text = 'status' AND (t.status_at IS NULL OR $10 IS NULL
                                                OR $10::timestamptz >= t.status_at)
                  THEN EXCLUDED.status ELSE t.status END,
    reason = CASE WHEN $3::text = 'status' AND (t.status_at IS NULL OR $10 IS NULL
                                                OR $10::timestamptz >= t.status_at)
                  THEN EXCLUDED.reason ELSE t.reason END,
    status_at = CASE WHEN $3::text = 'status' THEN greatest(t.status_at, $10::timestamptz)
                     ELSE t.status_at END,
    category = coalesce(EXCLUDED.category, t.category),
    quality = coalesce(EXCLUDED.quality, t.quality),
    template_id = coalesce(EXCLUDED.template_id, t.template_id),
    waba_id = coalesce(EXCLUDED.waba_id, t.waba_id),
    updated_at = greatest(t.updated_at, EXCLUDED.updated_at),
    event_ids = (array_append(t.event_ids, $12::text))[greatest(1, cardinality(t.event_ids) - 18):]
WHERE NOT $12::text = ANY(t.event_ids)
"""


class MessageTemplatesProjection:
    """wa.templates → message_templates."""

    name = "message_templates"
    topics = (topics.TEMPLATES,)
    tables = ("message_templates",)

    async def apply(self, conn: asyncpg.Connection, msgs: Sequence[Msg]) -> None:
        for m in msgs:  # a handful a day: one statement each, in log order
            try:
                c = TemplateChange.from_bytes(m.value or b"")
            except RecordError:
                continue
            meta_at = ts(c.meta_ts) if c.meta_ts is not None else None
            await conn.execute(UPSERT, c.name, c.language, c.kind, c.status, c.category,
                               c.quality, c.reason, c.template_id, c.waba_id, meta_at,
                               ts(c.at) or ts(m.timestamp_ms / 1000), c.event_id)

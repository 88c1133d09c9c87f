"""``media`` from ``wa.media``: each inbound media object and what became of it.

Idempotent per record: a row per Meta media id; a ``stored`` row stays stored (a redrive
or a duplicate copy of a job never downgrades it); ``attempts`` counts the outcomes
recorded for the id."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from projections.base import Msg, jsonb, ts
from schemas import topics
from schemas.media import MediaOutcome
from schemas.record import RecordError

UPSERT = (
    "INSERT INTO media (media_id, wa_id, event_id, kind, status, mime_type, sha256, size, "
    "store_key, error, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
    "ON CONFLICT (media_id) DO UPDATE SET status = EXCLUDED.status, sha256 = EXCLUDED.sha256, "
    "size = EXCLUDED.size, store_key = EXCLUDED.store_key, error = EXCLUDED.error, "
    "updated_at = EXCLUDED.updated_at, attempts = media.attempts + 1 "
    "WHERE media.status <> 'stored'")


class MediaProjection:
    """wa.media → media."""

    name = "media"
    topics = (topics.MEDIA,)
    tables = ("media",)

    async def apply(self, conn: asyncpg.Connection, msgs: Sequence[Msg]) -> None:
        rows = []
        for m in msgs:
            try:
                o = MediaOutcome.from_bytes(m.value or b"")
            except RecordError:
                continue
            rows.append((o.media_id, o.wa_id, o.event_id, o.kind, o.status, o.mime_type,
                         o.sha256, o.size, o.store_key,
                         jsonb(o.error) if o.error is not None else None,
                         ts(o.at) or ts(m.timestamp_ms / 1000)))
        if rows:
            await conn.executemany(UPSERT, rows)

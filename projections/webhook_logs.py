"""``webhook_logs``: the raw webhook bodies of ``wa.webhooks.raw`` (key = correlation id)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson

from projections.base import Msg, insert_new, jsonb, ms, ts
from schemas import headers as h
from schemas import topics

COLUMNS = ("correlation_id", "received_at", "body", "payload", "headers", "kafka_partition",
           "kafka_offset")


def row(msg: Msg) -> tuple[Any, ...] | None:
    """The webhook_logs row of one raw record (None without a key or a body)."""
    if msg.value is None:
        return None
    hdrs = h.from_headers(msg.headers)
    cid = msg.key.decode("utf-8", "replace") if msg.key else hdrs.get(h.CORRELATION_ID)
    if not cid:
        return None
    try:
        payload = jsonb(orjson.loads(msg.value))
    except orjson.JSONDecodeError:
        payload = None
    received = ts(hdrs.get(h.RECEIVED_AT)) or ms(msg.timestamp_ms)
    return (cid, received, msg.value, payload, jsonb(hdrs), msg.partition, msg.offset)


class WebhookLogsProjection:
    """wa.webhooks.raw → webhook_logs."""

    name = "webhook_logs"
    topics = (topics.RAW,)
    tables = ("webhook_logs",)

    async def apply(self, conn: asyncpg.Connection, msgs: Sequence[Msg]) -> None:
        rows = [r for r in (row(m) for m in msgs) if r is not None]
        if not rows:
            return
        await insert_new(conn, "webhook_logs", COLUMNS, "correlation_id", rows)

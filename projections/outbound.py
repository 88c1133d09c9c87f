"""``wa_outbound_messages`` from ``wa.outbound`` (what we sent) and ``wa.delivery`` (how
far it got). The two topics are not ordered with each other, and Meta's status webhooks
name only the wamid, so every distinct (message, status) is kept in
``wa_delivery_events`` and a message's status is recomputed from all of them: the
highest ``schemas.delivery.rank`` wins (``failed`` is terminal) whatever the order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from projections.base import Msg, copy_to_temp, jsonb, loads, ts
from schemas import topics
from schemas.delivery import DeliveryUpdate, rank
from schemas.outbound import OutboundMessage
from schemas.record import RecordError

MSG_COLUMNS = ("outbound_id", "wa_id", "phone_number_id", "message_type", "body", "in_reply_to",
               "flow", "correlation_id", "created_at")
DEL_COLUMNS = ("outbound_key", "wamid_key", "status", "wa_id", "rank", "at", "source", "error",
               "error_code")

RECOMPUTE = """
WITH targets AS (
    SELECT outbound_id, wamid FROM wa_outbound_messages
    WHERE outbound_id = ANY($1::text[]) OR wamid = ANY($2::text[])
), linked AS (  -- the wamid the sender learnt when Meta accepted the message
    SELECT t.outbound_id,
           coalesce(t.wamid, (SELECT d.wamid_key FROM wa_delivery_events d
                              WHERE d.outbound_key = t.outbound_id AND d.wamid_key <> ''
                              ORDER BY d.rank LIMIT 1)) AS wamid
    FROM targets t
), events AS (
    SELECT l.outbound_id, l.wamid, d.*
    FROM linked l JOIN wa_delivery_events d
      ON d.outbound_key = l.outbound_id
      OR (l.wamid IS NOT NULL AND d.wamid_key = l.wamid)
), agg AS (
    SELECT outbound_id, max(wamid) AS wamid,
           (array_agg(status ORDER BY rank DESC, at DESC NULLS LAST))[1] AS status,
           max(rank) AS status_rank,
           (array_agg(at ORDER BY rank DESC, at DESC NULLS LAST))[1] AS status_at,
           min(at) FILTER (WHERE status = 'accepted') AS accepted_at,
           min(at) FILTER (WHERE status = 'sent') AS sent_at,
           min(at) FILTER (WHERE status = 'delivered') AS delivered_at,
           min(at) FILTER (WHERE status = 'read') AS read_at,
           min(at) FILTER (WHERE status = 'failed') AS failed_at,
           (array_agg(error ORDER BY at) FILTER (WHERE status = 'failed'))[1] AS error,
           (array_agg(error_code ORDER BY at) FILTER (WHERE status = 'failed'))[1] AS error_code
    FROM events GROUP BY outbound_id
)
UPDATE wa_outbound_messages o SET
    wamid = agg.wamid, status = agg.status, status_rank = agg.status_rank,
    status_at = agg.status_at, accepted_at = agg.accepted_at, sent_at = agg.sent_at,
    delivered_at = agg.delivered_at, read_at = agg.read_at, failed_at = agg.failed_at,
    error = agg.error, error_code = agg.error_code
FROM agg WHERE o.outbound_id = agg.outbound_id
"""


def message_row(om: OutboundMessage) -> tuple[Any, ...]:
    kind = om.body.get("type") if isinstance(om.body, dict) else None
    return (om.outbound_id, om.wa_id, om.phone_number_id, kind, jsonb(om.body), om.in_reply_to,
            om.flow, om.correlation_id, ts(om.created_at))


def delivery_row(du: DeliveryUpdate) -> tuple[Any, ...]:
    code = None
    if du.error:
        raw = du.error.get("code")
        code = None if raw is None else str(raw)
    return (du.outbound_id or "", du.wamid or "", du.status, du.wa_id, rank(du.status), ts(du.at),
            du.source, jsonb(du.error) if du.error is not None else None, code)


class OutboundProjection:
    """wa.outbound + wa.delivery → wa_outbound_messages (+ wa_delivery_events)."""

    name = "outbound"
    topics = (topics.OUTBOUND, topics.DELIVERY)
    tables = ("wa_outbound_messages", "wa_delivery_events")

    async def apply(self, conn: asyncpg.Connection, msgs: Sequence[Msg]) -> None:
        messages: list[tuple[Any, ...]] = []
        deliveries: list[tuple[Any, ...]] = []
        for m in msgs:
            d = loads(m)
            if d is None:
                continue
            try:
                if m.topic == topics.OUTBOUND:
                    out = OutboundMessage.from_dict(d)
                    if out.template_of is None:  # a request to resend, not a message
                        messages.append(message_row(out))
                else:
                    du = DeliveryUpdate.from_dict(d)
                    if du.outbound_id or du.wamid:
                        deliveries.append(delivery_row(du))
            except (RecordError, AttributeError, TypeError):
                continue
        ids: set[str] = {r[0] for r in messages}
        wamids: set[str] = set()
        if messages:
            tmp = await copy_to_temp(conn, "wa_outbound_messages", MSG_COLUMNS, messages)
            cols = ", ".join(MSG_COLUMNS)
            await conn.execute(
                f"INSERT INTO wa_outbound_messages ({cols}) SELECT DISTINCT ON (outbound_id) "
                f"{cols} FROM {tmp} ORDER BY outbound_id "
                "ON CONFLICT (outbound_id) DO UPDATE SET "
                + ", ".join(f"{c} = EXCLUDED.{c}" for c in MSG_COLUMNS[1:])
                + " WHERE wa_outbound_messages.body IS NULL")
        if deliveries:
            tmp = await copy_to_temp(conn, "wa_delivery_events", DEL_COLUMNS, deliveries)
            cols = ", ".join(DEL_COLUMNS)
            await conn.execute(f"INSERT INTO wa_delivery_events ({cols}) SELECT {cols} FROM {tmp} "
                               "ON CONFLICT (outbound_key, wamid_key, status) DO NOTHING")
            # A status for a message not projected yet: a row to hold it until it is.
            await conn.execute(
                "INSERT INTO wa_outbound_messages (outbound_id, wa_id) "
                f"SELECT DISTINCT outbound_key, wa_id FROM {tmp} WHERE outbound_key <> '' "
                "ON CONFLICT (outbound_id) DO NOTHING")
            ids.update(r[0] for r in deliveries if r[0])
            wamids.update(r[1] for r in deliveries if r[1])
        if ids or wamids:
            await conn.execute(RECOMPUTE, sorted(ids), sorted(wamids))

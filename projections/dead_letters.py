"""``wa_dead_letter_queue`` (the seed's columns) from ``wa.dlq``, and the operators'
decisions from ``wa.dlq.ops`` (the first decision per dead letter wins: a redrive
happens once). Key and value are kept verbatim; the failure headers become columns."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson

from projections.base import Msg, copy_to_temp, jsonb, loads, ms, ts
from schemas import headers as h
from schemas import topics
from schemas.dlq import DlqDecision
from schemas.record import RecordError

DLQ_COLUMNS = ("message_id", "from_number", "payload", "error_message", "retry_count",
               "max_retries", "record_key", "record_value", "headers", "original_topic",
               "original_partition", "original_offset", "error_class", "error_kind",
               "error_trace", "failed_at", "dlq_partition", "dlq_offset")
DECISION_COLUMNS = ("dlq_id", "action", "by", "reason", "at")


def _int(v: str | None) -> int | None:
    try:
        return None if v is None else int(v)
    except ValueError:
        return None


def dlq_row(msg: Msg, retries: int) -> tuple[Any, ...]:
    """The wa_dead_letter_queue row of one wa.dlq record."""
    hdrs = h.from_headers(msg.headers)
    message_id = hdrs.get(h.DLQ_ID) or f"{msg.topic}:{msg.partition}:{msg.offset}"
    try:
        payload = orjson.loads(msg.value) if msg.value is not None else None
    except orjson.JSONDecodeError:
        payload = None
    if payload is None and msg.value is not None:
        payload = {"raw_base64": base64.b64encode(msg.value).decode()}
    attempt = _int(hdrs.get(h.ATTEMPT))
    return (message_id, msg.key.decode("utf-8", "replace") if msg.key else "",
            jsonb(payload), hdrs.get(h.ERROR_MESSAGE), attempt if attempt is not None else 0,
            retries, msg.key, msg.value, jsonb(hdrs), hdrs.get(h.ORIGINAL_TOPIC),
            _int(hdrs.get(h.ORIGINAL_PARTITION)), _int(hdrs.get(h.ORIGINAL_OFFSET)),
            hdrs.get(h.ERROR_CLASS), hdrs.get(h.ERROR_KIND), hdrs.get(h.ERROR_TRACE),
            ts(hdrs.get(h.FAILED_AT)) or ms(msg.timestamp_ms), msg.partition, msg.offset)


class DeadLettersProjection:
    """wa.dlq + wa.dlq.ops → wa_dead_letter_queue (+ wa_dlq_decisions)."""

    name = "dead_letters"
    topics = (topics.DLQ, topics.DLQ_OPS)
    tables = ("wa_dead_letter_queue", "wa_dlq_decisions")

    def __init__(self, max_retries: int) -> None:
        # Retry tiers configured (settings.failure.retry_delays): retries before a letter.
        self.max_retries = max_retries

    async def apply(self, conn: asyncpg.Connection, msgs: Sequence[Msg]) -> None:
        letters: list[tuple[Any, ...]] = []
        decisions: list[tuple[Any, ...]] = []
        retries = self.max_retries
        for m in msgs:
            if m.topic == topics.DLQ:
                letters.append(dlq_row(m, retries))
                continue
            d = loads(m)
            if d is None:
                continue
            try:
                dec = DlqDecision.from_dict(d)
            except RecordError:
                continue
            if dec.action not in ("redrive", "discard"):
                continue  # a redrive's "redriven" mark (streams.dlq.ops), not a decision
            decisions.append((dec.dlq_id, dec.action, dec.by, dec.reason, ts(dec.at)))
        ids: list[str] = []
        if letters:
            tmp = await copy_to_temp(conn, "wa_dead_letter_queue", DLQ_COLUMNS, letters)
            cols = ", ".join(DLQ_COLUMNS)
            await conn.execute(f"INSERT INTO wa_dead_letter_queue ({cols}) SELECT {cols} "
                               f"FROM {tmp} ORDER BY dlq_partition, dlq_offset "
                               "ON CONFLICT (message_id) DO NOTHING")
            ids += [r[0] for r in letters]
        if decisions:
            tmp = await copy_to_temp(conn, "wa_dlq_decisions", DECISION_COLUMNS, decisions)
            cols = ", ".join(DECISION_COLUMNS)
            # Batch order is topic order: the first decision in the log wins.
            await conn.execute(f"INSERT INTO wa_dlq_decisions ({cols}) SELECT {cols} FROM {tmp} "
                               "ON CONFLICT (dlq_id) DO NOTHING")
            ids += [r[0] for r in decisions]
        if ids:
            await conn.execute(
                "UPDATE wa_dead_letter_queue q SET processed = true, status = d.action, "
                "decided_by = d.by, decision_reason = d.reason, decided_at = d.at "
                "FROM wa_dlq_decisions d WHERE d.dlq_id = q.message_id "
                "AND q.message_id = ANY($1::text[]) AND q.status = 'open'", ids)

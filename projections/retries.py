"""``wa_retries`` from every retry tier (``wa.retry.<delay>``): one row per record the
failure router (``streams.failure.router``) wrote to a tier, so that a retry that later
succeeded still leaves a trace (the console's timeline shows it).

Only what the timeline needs is kept: where the record came from, the tier, the
attempt, the error's class and the start of its message (a message may quote the
record, as a dead letter's does; the trace and the record itself are not kept)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
import orjson

from projections.base import Msg, copy_to_temp, ms
from schemas import headers as h
from schemas import topics

COLUMNS = ("retry_id", "wa_id", "event_id", "outbound_id", "original_topic",
           "original_partition", "original_offset", "tier", "delay_s", "attempt",
           "error_class", "error_kind", "error", "correlation_id", "at", "due_at",
           "kafka_partition", "kafka_offset")
#: How much of the error message a row keeps (a line on the timeline, not a report).
ERROR_CHARS = 200


def _int(v: str | None) -> int | None:
    try:
        return None if v is None else int(v)
    except ValueError:
        return None


def _str(d: Mapping[str, Any], name: str) -> str | None:
    v = d.get(name)
    return v if isinstance(v, str) and v else None


def retry_row(msg: Msg, delays: Mapping[str, int]) -> tuple[Any, ...]:
    """The wa_retries row of one tier record (``delays``: tier topic → seconds).

    Its id is the router's head token (``<dlq id>@<attempt>@<due ms>``), the same for a
    duplicate of the record and different for a hold at the same attempt; without one,
    the record's place in its tier. The record is the original one: an inbound event
    (its ``event_id``) or a reply (its ``outbound_id`` and the event it answers)."""
    hdrs = h.from_headers(msg.headers)
    try:
        value = orjson.loads(msg.value) if msg.value is not None else None
    except orjson.JSONDecodeError:
        value = None
    rec: Mapping[str, Any] = value if isinstance(value, dict) else {}
    outbound_id = _str(rec, "outbound_id")
    event_id = _str(rec, "in_reply_to") if outbound_id else _str(rec, "event_id")
    key = msg.key.decode("utf-8", "replace") if msg.key else ""
    due = _int(hdrs.get(h.DUE_AT))
    return (hdrs.get(h.HEAD) or f"{msg.topic}:{msg.partition}:{msg.offset}",
            _str(rec, "wa_id") or key, event_id, outbound_id, hdrs.get(h.ORIGINAL_TOPIC),
            _int(hdrs.get(h.ORIGINAL_PARTITION)), _int(hdrs.get(h.ORIGINAL_OFFSET)),
            msg.topic, delays.get(msg.topic), _int(hdrs.get(h.ATTEMPT)) or 0,
            hdrs.get(h.ERROR_CLASS), hdrs.get(h.ERROR_KIND),
            (hdrs.get(h.ERROR_MESSAGE) or "")[:ERROR_CHARS],
            hdrs.get(h.CORRELATION_ID) or _str(rec, "correlation_id") or "",
            ms(msg.timestamp_ms), ms(due) if due is not None else None,
            msg.partition, msg.offset)


class RetriesProjection:
    """wa.retry.<delay> (every configured tier) → wa_retries."""

    name = "retries"
    tables = ("wa_retries",)

    def __init__(self, retry_delays: Sequence[int]) -> None:
        # The tiers configured (settings.failure.retry_delays), as the router writes them.
        self.delays = {topics.retry_topic(d): d for d in retry_delays}
        self.topics = tuple(self.delays)

    async def apply(self, conn: asyncpg.Connection, msgs: Sequence[Msg]) -> None:
        rows = [retry_row(m, self.delays) for m in msgs if m.topic in self.delays]
        if not rows:
            return
        tmp = await copy_to_temp(conn, "wa_retries", COLUMNS, rows)
        cols = ", ".join(COLUMNS)
        await conn.execute(f"INSERT INTO wa_retries ({cols}) SELECT {cols} FROM {tmp} "
                           "ORDER BY kafka_partition, kafka_offset "
                           "ON CONFLICT (retry_id) DO NOTHING")

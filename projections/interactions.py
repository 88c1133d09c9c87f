"""``wa_interactions``: inbound interactive and button replies, with the message they
answered (``context``), from ``wa.inbound``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from projections.base import Msg, insert_new, jsonb, ms, ts
from projections.events import decode
from schemas import topics
from schemas.envelope import InboundEvent

COLUMNS = ("event_id", "wa_id", "phone_number_id", "interaction_type", "reply_id", "reply_title",
           "reply_description", "context_message_id", "context_from", "meta_timestamp",
           "received_at", "payload")


def interaction(ev: InboundEvent) -> tuple[str, str | None, str | None, str | None] | None:
    """(interaction_type, reply id, title, description) of an interactive or button reply
    message, or None for anything else. Shapes per Meta's webhook reference:
    ``interactive.{button_reply,list_reply}.{id,title,description}``,
    ``interactive.nfm_reply.{name,response_json}``, ``button.{payload,text}``."""
    p = ev.payload
    kind = p.get("type")
    if kind == "interactive" and isinstance(p.get("interactive"), dict):
        inter = p["interactive"]
        itype = str(inter.get("type") or "unknown")
        body = inter.get(itype) if isinstance(inter.get(itype), dict) else {}
        if itype == "nfm_reply":
            return itype, body.get("name"), None, body.get("response_json")
        return itype, body.get("id"), body.get("title"), body.get("description")
    if kind == "button" and isinstance(p.get("button"), dict):
        b = p["button"]
        return "button", b.get("payload"), b.get("text"), None
    return None


def row(msg: Msg, ev: InboundEvent) -> tuple[Any, ...] | None:
    """The wa_interactions row of one envelope, or None when it is not a reply."""
    found = interaction(ev)
    if found is None:
        return None
    raw_ctx = ev.payload.get("context")
    ctx: dict[str, Any] = raw_ctx if isinstance(raw_ctx, dict) else {}
    return (ev.event_id, ev.wa_id, ev.phone_number_id, found[0], _s(found[1]), _s(found[2]),
            _s(found[3]), ctx.get("id"), ctx.get("from"), ts(ev.timestamp),
            ts(ev.received_at) or ms(msg.timestamp_ms), jsonb(ev.payload))


def _s(v: Any) -> str | None:
    return None if v is None else str(v)


class InteractionsProjection:
    """wa.inbound (interactive/button replies) → wa_interactions."""

    name = "interactions"
    topics = (topics.INBOUND,)
    tables = ("wa_interactions",)

    def prepare(self, m: Msg) -> None:
        # Cheap byte test first: most inbound records are not replies, and decoding
        # every envelope twice (wa_events decodes it too) halves the projector's rate.
        r = None
        if m.value is not None and (b'"interactive"' in m.value or b'"button"' in m.value):
            ev = decode(m)
            r = row(m, ev) if ev is not None else None
        m.memo[self.name] = r

    async def apply(self, conn: asyncpg.Connection, msgs: Sequence[Msg]) -> None:
        rows = []
        for m in msgs:
            if self.name not in m.memo:
                self.prepare(m)
            r = m.memo[self.name]
            if r is not None:
                rows.append(r)
        if not rows:
            return
        await insert_new(conn, "wa_interactions", COLUMNS, "event_id", rows)

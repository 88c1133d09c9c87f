"""The ``calls`` field (WhatsApp Business Calling): connects, terminations, call statuses.

Reference: https://developers.facebook.com/documentation/business-messaging/whatsapp/calling/reference

Event types: ``calls.<event>`` per ``calls[]`` item (``calls.connect``,
``calls.terminate``; ``calls.unknown`` without a usable event), ``calls.status.<status>``
per ``statuses[]`` item (``calls.status.ringing``, ``accepted``, ``rejected`` …) and
``error`` per ``errors[]`` item. Key: the user — ``to`` for a business-initiated call,
``from`` otherwise; a call status's ``recipient_id``. event_id: content hash.
"""

from __future__ import annotations

from typing import Any

from schemas.envelope import InboundEvent
from schemas.meta.common import ChangeContext, ident, items, timestamp, token


def call_user(call: dict[str, Any]) -> str | None:
    """The user's side of a call."""
    if call.get("direction") == "BUSINESS_INITIATED":
        return ident(call.get("to"))
    return ident(call.get("from"))


def call_events(ctx: ChangeContext, value: dict[str, Any]) -> list[InboundEvent]:
    """One event per ``calls[]`` item, in order."""
    out: list[InboundEvent] = []
    for i, c in enumerate(items(value, "calls", ctx)):
        type_ = f"calls.{token(c.get('event')) or 'unknown'}"
        wa_id = call_user(c) or ctx.single_contact() or ctx.fallback_key()
        out.append(ctx.hashed(type_, wa_id, c, i, timestamp(c.get("timestamp"))))
    return out


def call_status_events(ctx: ChangeContext, value: dict[str, Any]) -> list[InboundEvent]:
    """One event per ``statuses[]`` item of a ``calls`` change, in order."""
    out: list[InboundEvent] = []
    for i, s in enumerate(items(value, "statuses", ctx)):
        type_ = f"calls.status.{token(s.get('status')) or 'unknown'}"
        wa_id = ident(s.get("recipient_id")) or ctx.single_contact() or ctx.fallback_key()
        out.append(ctx.hashed(type_, wa_id, s, i, timestamp(s.get("timestamp"))))
    return out

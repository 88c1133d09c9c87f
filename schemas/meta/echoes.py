"""``smb_message_echoes`` (coexistence: messages the business sent from the WhatsApp
Business app) and ``user_preferences`` (marketing opt-out / resume).

References: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/smb_message_echoes
https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/user_preferences

Event types: ``smb_message_echoes.<type>`` per ``message_echoes[]`` item (text, image,
… ``unknown``), key = the user (``to``); ``user_preferences.<category>`` per
``user_preferences[]`` item (``user_preferences.marketing_messages``), key = its
``wa_id``. event_id: content hash (an echo's id is the business's own message id, not
an inbound wamid).
"""

from __future__ import annotations

from typing import Any

from schemas.envelope import InboundEvent
from schemas.meta.common import ChangeContext, ident, items, timestamp, token


def echo_events(ctx: ChangeContext, value: dict[str, Any]) -> list[InboundEvent]:
    """One event per ``message_echoes[]`` item, in order."""
    out: list[InboundEvent] = []
    for i, e in enumerate(items(value, "message_echoes", ctx)):
        type_ = f"smb_message_echoes.{token(e.get('type')) or 'unknown'}"
        wa_id = ident(e.get("to")) or ctx.single_contact() or ctx.fallback_key()
        out.append(ctx.hashed(type_, wa_id, e, i, timestamp(e.get("timestamp"))))
    return out


def preference_events(ctx: ChangeContext, value: dict[str, Any]) -> list[InboundEvent]:
    """One event per ``user_preferences[]`` item, in order."""
    out: list[InboundEvent] = []
    for i, p in enumerate(items(value, "user_preferences", ctx)):
        type_ = f"user_preferences.{token(p.get('category')) or 'unknown'}"
        wa_id = ident(p.get("wa_id")) or ctx.single_contact() or ctx.fallback_key()
        out.append(ctx.hashed(type_, wa_id, p, i, timestamp(p.get("timestamp"))))
    return out

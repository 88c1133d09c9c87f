"""Read receipts: marking handled inbound messages as read (Meta's
``{"messaging_product": "whatsapp", "status": "read", "message_id": <wamid>}`` POSTed to
the same ``/messages`` endpoint, sent by the sender like any outbound record)."""

from __future__ import annotations

from schemas.envelope import InboundEvent
from schemas.outbound import OutboundMessage

READ_FLOW = "wastream.read"


def mark_read(event: InboundEvent) -> OutboundMessage | None:
    """The outbound record that marks a handled inbound message as read (None for events
    that are not user messages). Deterministic id: ``<event_id>:read``."""
    wamid = event.payload.get("id")
    if not event.type.startswith("message.") or not isinstance(wamid, str) or \
            not event.phone_number_id:
        return None
    return OutboundMessage(outbound_id=f"{event.event_id}:read", wa_id=event.wa_id,
                           phone_number_id=event.phone_number_id,
                           body={"messaging_product": "whatsapp", "status": "read",
                                 "message_id": wamid},
                           in_reply_to=event.event_id, correlation_id=event.correlation_id,
                           flow=READ_FLOW)

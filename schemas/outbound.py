"""``wa.outbound``: a reply to send, as a Graph API message body. Key = recipient wa_id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.envelope import InboundEvent
from schemas.record import Record


@dataclass(frozen=True, slots=True)
class OutboundMessage(Record):
    """``outbound_id`` is deterministic (``<inbound event_id>:<step>``), so a replay or a
    retry of the same inbound event produces the same id and the sender sends it once.
    ``body`` is exactly what is POSTed to ``/{phone_number_id}/messages``.
    ``template``: the template message that stands in for ``body`` outside the
    recipient's customer-service window (the same as ``body`` when the window was seen
    closed): the sender falls back on it once when Meta answers 131047 (decision 0015).
    ``template_of``: not a message but a request (``body`` empty): Meta accepted the
    message of this wamid and then reported 131047 in a ``failed`` status webhook; the
    sender sends that message's template version, once, as for a 131047 answered at once."""

    outbound_id: str
    wa_id: str
    phone_number_id: str
    body: dict[str, Any]
    in_reply_to: str | None = None
    correlation_id: str = ""
    flow: str | None = None
    created_at: str = ""
    template: dict[str, Any] | None = None
    template_of: str | None = None

    def template_key(self) -> tuple[str, str] | None:
        """(name, language) of the template this message sends or falls back on."""
        return template_key(self.body) or template_key(self.template)


def template_key(body: dict[str, Any] | None) -> tuple[str, str] | None:
    """(name, Meta's language code) of a template message body; None for another body."""
    if not body or body.get("type") != "template":
        return None
    t = body.get("template") or {}
    name, lang = t.get("name"), (t.get("language") or {}).get("code")
    return (name, lang) if isinstance(name, str) and isinstance(lang, str) else None


# Read receipts: Meta's ``{"messaging_product": "whatsapp", "status": "read",
# "message_id": <wamid>}``, POSTed to the same ``/messages`` endpoint and sent by the
# sender like any outbound record.
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

"""``wa.outbound``: a reply to send, as a Graph API message body. Key = recipient wa_id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.record import Record


@dataclass(frozen=True, slots=True)
class OutboundMessage(Record):
    """``outbound_id`` is deterministic (``<inbound event_id>:<step>``), so a replay or a
    retry of the same inbound event produces the same id and the sender sends it once.
    ``body`` is exactly what is POSTed to ``/{phone_number_id}/messages``."""

    outbound_id: str
    wa_id: str
    phone_number_id: str
    body: dict[str, Any]
    in_reply_to: str | None = None
    correlation_id: str = ""
    flow: str | None = None
    created_at: str = ""

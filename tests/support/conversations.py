"""Building inbound events as the ingress does, and reading a conversation's replies
(plain helpers for the conversation engine's tests)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from schemas.envelope import InboundEvent
from tests.support.webhooks import PHONE_NUMBER_ID


def _event(wa_id: str, message: dict[str, Any], event_id: str | None = None) -> InboundEvent:
    wamid = event_id or f"wamid.T{uuid.uuid4().hex}"
    mtype = str(message.get("type"))
    if mtype == "interactive":
        mtype = f"interactive.{message['interactive']['type']}"
    return InboundEvent(
        event_id=wamid,
        type=f"message.{mtype}",
        wa_id=wa_id,
        phone_number_id=PHONE_NUMBER_ID,
        timestamp=int(time.time()),
        received_at=datetime.now(UTC).isoformat(),
        correlation_id=uuid.uuid4().hex,
        payload={"from": wa_id, "id": wamid, "timestamp": str(int(time.time())), **message},
    )


def text(wa_id: str, body: str, event_id: str | None = None) -> InboundEvent:
    return _event(wa_id, {"type": "text", "text": {"body": body}}, event_id)


def pick(wa_id: str, row_id: str, title: str = "", event_id: str | None = None) -> InboundEvent:
    """A list row pick."""
    return _event(
        wa_id,
        {
            "type": "interactive",
            "interactive": {
                "type": "list_reply",
                "list_reply": {"id": row_id, "title": title or row_id},
            },
        },
        event_id,
    )


def button(
    wa_id: str, button_id: str, title: str = "", event_id: str | None = None
) -> InboundEvent:
    """A reply button tap."""
    return _event(
        wa_id,
        {
            "type": "interactive",
            "interactive": {
                "type": "button_reply",
                "button_reply": {"id": button_id, "title": title or button_id},
            },
        },
        event_id,
    )


def location(wa_id: str, lat: float, lon: float, event_id: str | None = None) -> InboundEvent:
    return _event(
        wa_id, {"type": "location", "location": {"latitude": lat, "longitude": lon}}, event_id
    )


def status(wa_id: str, wamid: str, status_: str) -> InboundEvent:
    return InboundEvent(
        event_id=f"{wamid}:{status_}",
        type=f"status.{status_}",
        wa_id=wa_id,
        phone_number_id=PHONE_NUMBER_ID,
        timestamp=int(time.time()),
        received_at=datetime.now(UTC).isoformat(),
        correlation_id=uuid.uuid4().hex,
        payload={
            "id": wamid,
            "status": status_,
            "recipient_id": wa_id,
            "timestamp": str(int(time.time())),
        },
        field="messages",
    )


def row_ids(body: dict[str, Any]) -> list[str]:
    """The ids a user can pick in an outbound interactive body (list rows or buttons)."""
    inter = body.get("interactive") or {}
    if inter.get("type") == "list":
        return [r["id"] for s in inter["action"]["sections"] for r in s["rows"]]
    if inter.get("type") == "button":
        return [b["reply"]["id"] for b in inter["action"]["buttons"]]
    return []


def body_text(body: dict[str, Any]) -> str:
    if body.get("type") == "text":
        return str(body["text"]["body"])
    return str(((body.get("interactive") or {}).get("body") or {}).get("text", ""))

"""``messages[]`` of the ``messages`` field: what users send to the business.

Reference: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages

Event types (``InboundEvent.type``):

- ``message.<type>`` for every type Meta documents: text, image, audio (voice notes
  are ``message.audio`` with ``audio.voice = true``), video, document, sticker,
  location, contacts, reaction (a removed reaction has an empty or missing
  ``reaction.emoji``), button, order, system, unsupported, revoke, edit,
  request_welcome. ``context`` (replies, forwards, product enquiries) and
  ``referral`` (click-to-WhatsApp ads) stay inside the payload.
- ``message.interactive.<kind>`` for button_reply, list_reply, nfm_reply,
  call_permission_reply; ``message.interactive.unknown`` for any other kind or
  when the ``interactive`` object is missing.
- ``message.unknown`` for a type we do not know (Meta's own ``unknown`` included).

``event_id`` is the wamid; key is the sender's ``from``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from schemas.envelope import InboundEvent
from schemas.meta.common import ChangeContext, ident, items, timestamp, token

log = logging.getLogger(__name__)


class MessageType(StrEnum):
    """Meta's message ``type``; anything new becomes ``UNKNOWN`` (never an exception)."""

    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    REACTION = "reaction"
    INTERACTIVE = "interactive"
    BUTTON = "button"
    ORDER = "order"
    SYSTEM = "system"
    UNSUPPORTED = "unsupported"
    REVOKE = "revoke"
    EDIT = "edit"
    REQUEST_WELCOME = "request_welcome"
    UNKNOWN = "unknown"

    @classmethod
    def _missing_(cls, value: object) -> MessageType:
        return cls.UNKNOWN


class InteractiveType(StrEnum):
    """``interactive.type`` of a reply to one of our interactive messages."""

    BUTTON_REPLY = "button_reply"
    LIST_REPLY = "list_reply"
    NFM_REPLY = "nfm_reply"
    CALL_PERMISSION_REPLY = "call_permission_reply"
    UNKNOWN = "unknown"

    @classmethod
    def _missing_(cls, value: object) -> InteractiveType:
        return cls.UNKNOWN


# Enum lookups by value without Enum.__call__ (the parser's most frequent call).
_MESSAGE_TYPES: dict[object, MessageType] = {m.value: m for m in MessageType}
_EVENT_TYPES: dict[MessageType, str] = {m: f"message.{m.value}" for m in MessageType}


def message_event_type(message: dict[str, Any]) -> str:
    """The ``type`` string of the event for one ``messages[]`` item."""
    raw = message.get("type")
    kind = _MESSAGE_TYPES.get(raw, MessageType.UNKNOWN) if isinstance(raw, str) \
        else MessageType.UNKNOWN
    if kind is MessageType.UNKNOWN and raw != "unknown":
        log.warning("unknown message type kept as message.unknown",
                    extra={"meta_type": token(raw) or "<unprintable>"})
    if kind is MessageType.INTERACTIVE:
        inter = message.get("interactive")
        sub = inter.get("type") if isinstance(inter, dict) else None
        itype = InteractiveType(sub) if isinstance(sub, str) else InteractiveType.UNKNOWN
        return f"message.interactive.{itype.value}"
    return _EVENT_TYPES[kind]


@dataclass(frozen=True, slots=True)
class Message:
    """A typed view of one inbound message; ``raw`` is Meta's object, verbatim."""

    id: str | None
    sender: str | None
    timestamp: int | None
    type: MessageType
    context_id: str | None
    raw: dict[str, Any]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Message:
        ctx = d.get("context")
        raw_type = d.get("type")
        return cls(
            id=ident(d.get("id")),
            sender=ident(d.get("from")),
            timestamp=timestamp(d.get("timestamp")),
            type=MessageType(raw_type) if isinstance(raw_type, str) else MessageType.UNKNOWN,
            context_id=ident(ctx.get("id")) if isinstance(ctx, dict) else None,
            raw=d,
        )

    @property
    def text(self) -> str | None:
        """The body of a text message (PII: never log it at INFO)."""
        t = self.raw.get("text")
        body = t.get("body") if isinstance(t, dict) else None
        return body if isinstance(body, str) else None


def message_events(ctx: ChangeContext, value: dict[str, Any]) -> list[InboundEvent]:
    """One event per ``messages[]`` item, in order."""
    out: list[InboundEvent] = []
    for i, m in enumerate(items(value, "messages", ctx)):
        wa_id = ident(m.get("from")) or ctx.single_contact() or ctx.fallback_key()
        type_ = message_event_type(m)
        wamid = ident(m.get("id"))
        if wamid is None:
            out.append(ctx.hashed(type_, wa_id, m, i, timestamp(m.get("timestamp"))))
        else:
            out.append(ctx.event(wamid, type_, wa_id, timestamp(m.get("timestamp")), m))
    return out


"""``statuses[]`` of the ``messages`` field: what happened to a message we sent.

Reference: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status

Event types: ``status.sent``, ``status.delivered``, ``status.read``, ``status.failed``,
``status.played`` (voice notes) and ``status.unknown`` for anything else. The payload
keeps ``conversation``, ``pricing``, ``errors`` and the group fields verbatim.

``event_id`` is ``<wamid>:<status>`` (the raw status string, so two different unknown
statuses never collide). For a message sent to a group, one status arrives per
participant, so ``:<recipient_participant_id>`` is appended: otherwise the second
participant's ``read`` would be dropped as a duplicate of the first. Key is
``recipient_id`` (the user, or the group), so every status of one message lands on one
partition in order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from schemas.envelope import InboundEvent
from schemas.meta.common import ChangeContext, ident, items, timestamp, token

log = logging.getLogger(__name__)


class StatusKind(StrEnum):
    """Meta's delivery status; anything new becomes ``UNKNOWN``."""

    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    PLAYED = "played"
    UNKNOWN = "unknown"

    @classmethod
    def _missing_(cls, value: object) -> StatusKind:
        return cls.UNKNOWN


def status_event_id(status: dict[str, Any]) -> str | None:
    """``<wamid>:<status>`` (plus the participant for group recipients), or None
    when the status carries no message id."""
    wamid = ident(status.get("id"))
    if wamid is None:
        return None
    raw = status.get("status")
    eid = f"{wamid}:{raw if isinstance(raw, str) else 'unknown'}"
    if status.get("recipient_type") == "group":
        participant = ident(status.get("recipient_participant_id"))
        if participant is not None:
            eid = f"{eid}:{participant}"
    return eid


@dataclass(frozen=True, slots=True)
class Status:
    """A typed view of one status; ``raw`` is Meta's object, verbatim."""

    wamid: str | None
    status: StatusKind
    recipient_id: str | None
    timestamp: int | None
    errors: list[dict[str, Any]]
    raw: dict[str, Any]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Status:
        raw_status = d.get("status")
        errs = d.get("errors")
        return cls(
            wamid=ident(d.get("id")),
            status=StatusKind(raw_status) if isinstance(raw_status, str) else StatusKind.UNKNOWN,
            recipient_id=ident(d.get("recipient_id")),
            timestamp=timestamp(d.get("timestamp")),
            errors=[e for e in errs if isinstance(e, dict)] if isinstance(errs, list) else [],
            raw=d,
        )


def status_events(ctx: ChangeContext, value: dict[str, Any]) -> list[InboundEvent]:
    """One event per ``statuses[]`` item, in order."""
    out: list[InboundEvent] = []
    for i, s in enumerate(items(value, "statuses", ctx)):
        raw = s.get("status")
        kind = StatusKind(raw) if isinstance(raw, str) else StatusKind.UNKNOWN
        if kind is StatusKind.UNKNOWN:
            log.warning("unknown status kept as status.unknown",
                        extra={"meta_status": token(raw) or "<unprintable>"})
        type_ = f"status.{kind.value}"
        wa_id = ident(s.get("recipient_id")) or ctx.single_contact() or ctx.fallback_key()
        ts = timestamp(s.get("timestamp"))
        eid = status_event_id(s)
        if eid is None:
            out.append(ctx.hashed(type_, wa_id, s, i, ts))
        else:
            out.append(ctx.event(eid, type_, wa_id, ts, s))
    return out
